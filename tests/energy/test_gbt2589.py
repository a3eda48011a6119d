"""Known answers computed by hand from GB/T 2589-2020 (coefficients of Annex A, clause 3.2
kgce definition, clause 4 totals)."""

import pytest

from nengtan.energy import gbt2589
from nengtan.energy.gbt2589 import Coefficient, EnergyInput, EqualValue, Library, convert
from nengtan.errors import InputError
from nengtan.reference.energy import shipped_library


@pytest.fixture(scope="module")
def lib():
    return shipped_library(2022)


@pytest.mark.parametrize("carrier, quantity, unit, tce", [
    # Annex A, kgce per kg / m3 / kWh / MJ; quantity converted to that unit first
    ("raw_coal", 100, "t", 100 * 1000 * 0.7143 / 1000),            # 71.43
    ("cleaned_coal", 10, "t", 10 * 1000 * 0.9000 / 1000),          # 9.0
    ("coke", 2, "t", 2 * 1000 * 0.9714 / 1000),                    # 1.9428
    ("crude_oil", 1, "t", 1.4286),
    ("fuel_oil", 3, "t", 3 * 1.4286),
    ("gasoline", 500, "kg", 500 * 1.4714 / 1000),                  # 0.7357
    ("kerosene", 1, "t", 1.4714),
    ("diesel", 12_000, "kg", 12_000 * 1.4571 / 1000),              # 17.4852
    ("lpg", 1, "t", 1.7143),
    ("refinery_gas", 1, "t", 1.5714),
    ("natural_gas_oilfield", 1, "10^4 m3", 10_000 * 1.3300 / 1000),  # 13.3
    ("natural_gas", 35, "10^4 m3", 350_000 * 1.2143 / 1000),         # 425.005 (gas field)
    ("coke_oven_gas", 1000, "m3", 1000 * 0.5929 / 1000),
    ("blast_furnace_gas", 1, "10^4 m3", 10_000 * 0.1286 / 1000),
    ("electricity", 2500, "MWh", 2_500_000 * 0.1229 / 1000),        # 307.25
    ("heat", 800, "GJ", 800_000 * 0.03412 / 1000),                  # 27.296
])
def test_each_reference_carrier(lib, carrier, quantity, unit, tce):
    result = convert([EnergyInput(carrier, quantity, unit)], lib)
    assert result.total_tce == pytest.approx(tce, rel=1e-12)
    assert result.rows[0].coefficient.method == "reference"
    assert result.rows[0].coefficient.source.startswith("GB/T 2589")


def test_guideline_default_ncv_for_carriers_annex_a_does_not_list(lib):
    # bituminous coal: 19.570 GJ/t default NCV ÷ 29.3076 MJ/kgce = 667.7449 kgce/t
    r = convert([EnergyInput("bituminous_coal", 1000, "t")], lib)
    assert r.total_tce == pytest.approx(1000 * 19_570 / 29.3076 / 1000, rel=1e-12)
    coef = r.rows[0].coefficient
    assert coef.method == "default_ncv" and coef.status == "unverified"


def test_measured_ncv_overrides_the_reference(lib):
    # 5000 t of coal at 22 400 MJ/t measured: 5000 × 22 400 / 29.3076 / 1000 = 3821.5343 tce
    r = convert([EnergyInput("raw_coal", 5000, "t", ncv_mj_per_unit=22_400)], lib)
    assert r.total_tce == pytest.approx(5000 * 22_400 / 29.3076 / 1000, rel=1e-12)
    assert r.total_tce == pytest.approx(3821.5343, abs=1e-4)
    coef = r.rows[0].coefficient
    assert coef.method == "measured_ncv" and coef.ncv_mj_per_unit == 22_400
    assert "0.7143" in coef.note  # says which reference value it replaced


def test_both_electricity_methods(lib):
    # equivalent: 1 000 000 kWh × 0.1229 = 122.9 tce; equal value 2022: × 0.3007 = 300.7 tce
    r = convert([EnergyInput("electricity", 1000, "MWh")], lib)
    assert r.total_tce == pytest.approx(122.9)
    assert r.total_tce_equal_value == pytest.approx(300.7)
    assert r.equal_value.year == 2022 and r.equal_value.status == "unverified"


def test_equal_value_is_a_yearly_parameter_with_fallback_noted():
    lib = shipped_library(2026)
    assert lib.equal_value.year == 2022 and lib.equal_value.requested_year == 2026
    assert "2026" in lib.equal_value.lineage()["note"]
    mine = lib.with_equal_value(EqualValue(0.2950, 2026, "own statistics", "verified"))
    r = convert([EnergyInput("electricity", 10_000, "kWh")], mine)
    assert r.total_tce_equal_value == pytest.approx(2.95)


def test_export_deducted_and_feedstock_excluded(lib):
    rows = [
        EnergyInput("natural_gas", 100_000, "m3"),                        # 121.43 tce
        EnergyInput("natural_gas", 50_000, "m3", use="feedstock"),        # 60.715 apart
        EnergyInput("electricity", 1_000_000, "kWh"),                     # 122.9
        EnergyInput("electricity", 200_000, "kWh", use="export"),         # −24.58
    ]
    r = convert(rows, lib)
    assert r.total_tce == pytest.approx(121.43 + 122.9 - 24.58)
    assert r.feedstock_tce == pytest.approx(60.715)
    assert r.export_tce == pytest.approx(24.58)
    # equal value: (1 000 000 − 200 000) × 0.3007 / 1000 = 240.56; gas unchanged
    assert r.total_tce_equal_value == pytest.approx(121.43 + 240.56)
    assert r.by_carrier() == pytest.approx({"natural_gas": 121.43, "electricity": 98.32})


def test_renewable_electricity_reported_apart_for_control_totals(lib):
    rows = [EnergyInput("electricity", 100_000, "kWh"),
            EnergyInput("electricity_pv", 40_000, "kWh"),
            EnergyInput("electricity", 60_000, "kWh", use="renewable")]
    r = convert(rows, lib)
    assert r.total_tce == pytest.approx(200_000 * 0.1229 / 1000)
    assert r.renewable_tce == pytest.approx(100_000 * 0.1229 / 1000)
    assert r.control_total_tce == pytest.approx(100_000 * 0.1229 / 1000)
    # equal value applies to grid electricity only: PV stays at equivalent value
    assert r.total_tce_equal_value == pytest.approx(
        (160_000 * 0.3007 + 40_000 * 0.1229) / 1000)


def test_gas_volume_at_standard_conditions_accepted(lib):
    a = convert([EnergyInput("natural_gas", 1, "10^4 Nm3")], lib).total_tce
    assert a == pytest.approx(12.143)


def test_every_problem_names_its_row(lib):
    with pytest.raises(InputError) as err:
        convert([EnergyInput("electricity", 1, "kWh"),
                 EnergyInput("unobtainium", 1, "t"),
                 EnergyInput("electricity", -1, "kWh"),
                 EnergyInput("electricity", 1, "t"),
                 EnergyInput("electricity", 1, "kWh", ncv_mj_per_unit=3.6),
                 EnergyInput("diesel", 1, "t", use="renewable"),
                 EnergyInput("steam", 1, "t"),
                 EnergyInput("diesel", 1, "t", use="burnt")], lib, first_row=2)
    got = {(i.row, i.field, i.rule) for i in err.value.issues}
    assert got == {
        (3, "carrier", "rule.energy_carrier"), (4, "quantity", "rule.minimum"),
        (5, "unit", "rule.energy_unit"), (6, "ncv_mj_per_unit", "rule.energy_ncv_electricity"),
        (7, "use", "rule.energy_renewable_use"),
        (8, "ncv_mj_per_unit", "rule.energy_no_coefficient"), (9, "use", "rule.choice")}


def test_steam_with_its_heat_per_tonne(lib):
    # 10 t at 2693 MJ/t: 26 930 MJ ÷ 29.3076 = 918.87 kgce
    r = convert([EnergyInput("steam", 10, "t", ncv_mj_per_unit=2693)], lib)
    assert r.total_tce == pytest.approx(26_930 / 29.3076 / 1000)


def test_coefficient_per_unit_conversion():
    c = Coefficient("x", "kg", 1.5, "user", "s", "verified")
    assert c.per("t") == pytest.approx(1500)
    assert c.per("g") == pytest.approx(0.0015)
    lib = Library({"x": c}, {"x": "other_fuel"})
    assert convert([EnergyInput("x", 2, "t")], lib).total_tce == pytest.approx(3.0)


def test_constants_follow_the_kgce_definition():
    # the standard's 0.1229 is 860 kcal/kWh ÷ 7000 kcal/kgce = 0.12286, rounded to 4 places
    assert gbt2589.KGCE_PER_KWH_EQUIVALENT == pytest.approx(860 / 7000, abs=5e-5)
    assert gbt2589.KGCE_PER_KWH_EQUIVALENT == pytest.approx(3.6 / 29.3076, abs=1e-4)
    assert gbt2589.KGCE_PER_MJ_HEAT == pytest.approx(1 / 29.3076, abs=5e-6)
