"""Equipment efficiency indicators: known answers worked by hand, steam table, validation."""

from __future__ import annotations

import pytest

from nengtan.energy import efficiency as eff
from nengtan.energy.gbt2589 import Coefficient
from nengtan.errors import InputError

STEAM = eff.MeterTerm("S", "steam", "t", category="heat")
GAS = eff.MeterTerm("G", "natural_gas", "m3", category="gaseous_fossil")
COAL = eff.MeterTerm("C", "raw_coal", "t", category="solid_fossil")
HEAT = eff.MeterTerm("H", "heat", "GJ", category="heat")
COOL = eff.MeterTerm("Q", "cooling", "GJ", category="working_medium", is_energy=False)
ELEC = eff.MeterTerm("E", "electricity", "kWh", category="electricity")
AIR = eff.MeterTerm("A", "compressed_air", "m3", category="working_medium", is_energy=False)
WATER = eff.MeterTerm("W", "water", "t", category="working_medium", is_energy=False)

BOILER_GRADES = eff.GradeReference("GB 24500-2020", (eff.Level("1", 94.0), eff.Level("2", 92.0),
                                                     eff.Level("3", 90.0)), "test", "unverified")


def measured(**values):
    return {code: eff.Measured(v) for code, v in values.items()}


def rules(issues):
    return [(i.field, i.rule.removeprefix("rule.")) for i in issues]


# -- steam table ---------------------------------------------------------------------------
def test_saturation_table_reproduces_iapws_if97():
    # Published IAPWS-IF97 values (steam tables): 1.0 MPa abs → 179.89 °C, h' 762.68,
    # h'' 2777.12 kJ/kg; 0.1 MPa → 99.61 °C, 417.44 / 2674.95; 1.1 MPa → 184.07 °C,
    # h'' 2780.67; 2.5 MPa → 223.95 °C, h'' 2802.0.  The table is every 5 °C, so these
    # pressures fall between rows: the interpolation is checked, not only the rows.
    for p, t, hl, hv in ((1.0, 179.89, 762.68, 2777.12), (0.1, 99.61, 417.44, 2674.95),
                         (1.1, 184.07, 781.20, 2780.67), (2.5, 223.95, 961.9, 2802.0)):
        s = eff.saturation_at_pressure(p)
        assert s.t_c == pytest.approx(t, abs=0.02)
        assert s.h_liquid == pytest.approx(hl, abs=0.15)
        assert s.h_vapour == pytest.approx(hv, abs=0.15)
    # on a row the table is returned as is: 180 °C, 1.00263 MPa, h'' 2777.22
    row = eff.saturation_at_pressure(1.00263)
    assert (round(row.t_c, 3), row.h_vapour) == (180.0, pytest.approx(2777.22, abs=1e-6))
    assert eff.saturation_at_temperature(20).h_liquid == 83.92
    assert eff.saturation_at_temperature(102.5).h_liquid == pytest.approx((419.10 + 440.21) / 2)
    with pytest.raises(ValueError):
        eff.saturation_at_pressure(5.0)


def test_enthalpy_rise_from_pressure_and_feedwater():
    # 1.0 MPa gauge = 1.101325 MPa abs: h'' ≈ 2780.69 (IAPWS-IF97 at 1.101325 MPa: 2780.70);
    # feed water 20 °C: h' = 83.92 (table row).  Δh = 2780.69 − 83.92 = 2696.77 MJ/t.
    rise, lineage = eff.enthalpy_rise({"steam_pressure_mpa": 1.0, "feedwater_temperature_c": 20.0})
    assert rise == pytest.approx(2696.77, abs=0.02)
    assert lineage["steam"]["pressure_abs_mpa"] == 1.101325
    assert lineage["steam"]["source"].startswith("IAPWS-IF97")
    # absolute basis on the 180 °C row with 95 % dryness:
    # h = 763.19 + 0.95 × (2777.22 − 763.19) = 763.19 + 1913.33 = 2676.52; − 83.92 = 2592.60
    rise, _ = eff.enthalpy_rise({"steam_pressure_mpa": 1.00263, "pressure_basis": "absolute",
                                 "steam_dryness": 0.95, "feedwater_temperature_c": 20.0})
    assert rise == pytest.approx(2592.60, abs=0.01)


# -- known answers -------------------------------------------------------------------------
def boiler(params, num=(STEAM,), den=(GAS,), **kw):
    return eff.Definition("boiler_efficiency", tuple(num), tuple(den), params, **kw)


def test_boiler_efficiency_direct_method_by_hand():
    # GB/T 10180 input-output method: η = D·Δh / (B·NCV).
    # D = 100 t, Δh = 2696.8 MJ/t → output 269 680 MJ;
    # B = 8 250 m³ at NCV 35.6 MJ/m³ → input 293 700 MJ;
    # η = 269 680 / 293 700 = 0.918216 → 91.8216 %.
    defn = boiler({"enthalpy_rise_mj_per_t": 2696.8}, grades=BOILER_GRADES, target_value=90.0,
                  target_source="plan")
    r = eff.evaluate(defn, measured(S=100.0, G=8250.0), {"G": eff.Ncv(35.6, {"source": "lab"})})
    assert (r.value, r.unit, r.status) == (91.8216, "%", "ok")
    assert (r.numerator, r.denominator) == (pytest.approx(269680.0), pytest.approx(293700.0))
    # grades 94 / 92 / 90: 91.82 meets grade 3; grade 2 is 0.1784 points away
    assert r.grade["grade"] == "3" and r.grade["below_lowest"] is False
    assert r.grade["next"] == {"grade": "2", "value": 92.0, "gap": pytest.approx(0.1784)}
    # target 90: gap 1.8216 points = 2.024 % of the target
    assert r.target["met"] and r.target["gap"] == pytest.approx(1.8216)
    assert r.target["gap_pct"] == pytest.approx(2.024)
    steam, gas = r.terms
    assert steam["enthalpy_rise_mj_per_t"] == 2696.8 and gas["ncv_mj_per_unit"] == 35.6


def test_boiler_from_steam_table_with_blowdown_sign():
    # Steam 10 t at 1.00263 MPa abs (180 °C row, h'' 2777.22), feed water 20 °C (83.92):
    # Δh = 2693.30 MJ/t.  A second steam meter (0.5 t to a deaerator, sign −1) is left out:
    # D = 10 − 0.5 = 9.5 t → 25 586.35 MJ.  Gas 800 m³ × 35.0 MJ/m³ = 28 000 MJ.
    # η = 25 586.35 / 28 000 = 91.3798 %.
    vent = eff.MeterTerm("S2", "steam", "t", sign=-1, category="heat")
    defn = boiler({"steam_pressure_mpa": 1.00263, "pressure_basis": "absolute",
                   "feedwater_temperature_c": 20.0}, num=(STEAM, vent))
    r = eff.evaluate(defn, measured(S=10.0, S2=0.5, G=800.0),
                     {"G": eff.Ncv(35.0, {"source": "lab"})})
    assert r.value == pytest.approx(91.3798, abs=1e-4)


def test_hot_water_boiler_with_coefficient_ncv():
    # A heat meter needs no enthalpy: 250 GJ = 250 000 MJ.  Raw coal at the reference
    # coefficient 0.7143 kgce/kg = 714.3 kgce/t → NCV 714.3 × 29.3076 = 20 934.42 MJ/t;
    # 15 t → 314 016.3 MJ.  η = 250 000 / 314 016.3 = 79.6137 %.
    coef = Coefficient("raw_coal", "t", 714.3, "reference", "GB/T 2589-2020 Annex A",
                       "unverified")
    ncv = eff.ncv_from_coefficient(coef, "t")
    assert ncv.mj_per_unit == pytest.approx(20934.42, abs=0.01)
    assert ncv.lineage["derivation"] == "kgce per unit × 29.3076 MJ/kgce"
    r = eff.evaluate(boiler({}, num=(HEAT,), den=(COAL,)), measured(H=250.0, C=15.0),
                     {"C": ncv})
    assert r.value == pytest.approx(79.6137, abs=1e-4)
    # a coefficient from a measured NCV gives that NCV, converted to the meter's unit
    gas = Coefficient("natural_gas", "m3", 35.6 / 29.3076, "measured_ncv", "lab", "measured",
                      ncv_mj_per_unit=35.6)
    assert eff.ncv_from_coefficient(gas, "10^4 m3").mj_per_unit == pytest.approx(356000.0)


def test_cop_by_hand():
    # 90 GJ of cooling = 90 000 MJ ÷ 3.6 MJ/kWh = 25 000 kWh; 5 000 kWh of electricity:
    # COP = 25 000 / 5 000 = 5.0 W/W.
    defn = eff.Definition("cop", (COOL,), (ELEC,), {})
    r = eff.evaluate(defn, measured(Q=90.0, E=5000.0))
    assert (r.value, r.unit, r.numerator) == (5.0, "W/W", pytest.approx(25000.0))


def test_compressed_air_specific_power_by_hand():
    # 11 200 kWh for 96 000 m³: 11 200 / 96 000 = 0.116667 kWh/m³ × 60 = 7.0 kW/(m³/min).
    grades = eff.GradeReference("GB 19153-2019", (eff.Level("1", 6.2), eff.Level("2", 6.8),
                                                  eff.Level("3", 7.6)), "test", "unverified")
    defn = eff.Definition("compressed_air_specific_power", (ELEC,), (AIR,), {}, 6.8, "plan",
                          grades)
    r = eff.evaluate(defn, measured(E=11200.0, A=96000.0))
    assert (r.value, r.unit) == (7.0, "kW/(m3/min)")
    # lower is better: 7.0 ≤ 7.6 → grade 3; grade 2 is 0.2 below; the target 6.8 is missed
    assert r.grade["grade"] == "3" and r.grade["next"]["gap"] == pytest.approx(-0.2)
    assert r.target["met"] is False and r.target["gap"] == pytest.approx(0.2)
    best = eff.evaluate(defn, measured(E=6000.0, A=60000.0))  # 6.0: grade 1, nothing above
    assert (best.value, best.grade["grade"], best.grade["next"]) == (6.0, "1", None)


def test_specific_energy_in_declared_units():
    # 1 500 kWh = 1.5 MWh for 300 t of water: 0.005 MWh/t.
    defn = eff.Definition("specific_energy", (ELEC,), (WATER,),
                          {"numerator_unit": "MWh", "denominator_unit": "t"})
    r = eff.evaluate(defn, measured(E=1500.0, W=300.0))
    assert (r.value, r.unit, r.better) == (0.005, "MWh/t", "lower")


def test_no_data_and_idle():
    defn = eff.Definition("cop", (COOL,), (ELEC,), {})
    r = eff.evaluate(defn, {"Q": eff.Measured(0.0, 0.0, False), "E": eff.Measured(10.0)})
    assert (r.value, r.status, r.coverage) == (None, "no_data", 0.0)
    r = eff.evaluate(defn, measured(Q=0.0, E=0.0))
    assert (r.value, r.status) == (None, "idle")
    below = eff.evaluate(boiler({"enthalpy_rise_mj_per_t": 2000.0}, grades=BOILER_GRADES),
                         measured(S=1.0, G=100.0), {"G": eff.Ncv(35.0, {})})
    # 2000 / 3500 = 57.1429 %: below grade 3, which is the next step up
    assert below.grade["grade"] is None and below.grade["below_lowest"] is True
    assert below.grade["next"]["grade"] == "3"


def test_missing_ncv_is_an_input_error():
    with pytest.raises(InputError) as exc:
        eff.evaluate(boiler({"enthalpy_rise_mj_per_t": 2600.0}), measured(S=1.0, G=80.0), {})
    assert rules(exc.value.issues) == [("denominator", "eff_ncv_missing")]
    # the parameter overrides any library value
    r = eff.evaluate(boiler({"enthalpy_rise_mj_per_t": 2600.0, "ncv_mj_per_unit": 32.5}),
                     measured(S=1.0, G=80.0), {"G": eff.Ncv(99.0, {})})
    assert r.value == pytest.approx(100.0)  # 2600 / (80 × 32.5) = 2600 / 2600


# -- validation ----------------------------------------------------------------------------
def test_params_are_checked_and_named():
    _, issues = eff.check_params("boiler_efficiency", {
        "steam_pressure_mpa": -1, "feedwater_temperature_c": "warm", "colour": "red"})
    assert sorted(rules(issues)) == [("params.colour", "unknown_field"),
                                     ("params.feedwater_temperature_c", "type_float"),
                                     ("params.steam_pressure_mpa", "exclusive_minimum")]
    _, issues = eff.check_params("boiler_efficiency", {"enthalpy_rise_mj_per_t": 2600,
                                                      "steam_pressure_mpa": 1.0})
    assert rules(issues) == [("params.steam_pressure_mpa", "eff_param_conflict")]
    _, issues = eff.check_params("boiler_efficiency", {"steam_temperature_c": 190})
    assert rules(issues) == [("params.steam_temperature_c", "eff_needs_pressure")]
    _, issues = eff.check_params("boiler_efficiency", {"steam_pressure_mpa": 9.0})
    assert rules(issues) == [("params.steam_pressure_mpa", "eff_pressure_range")]
    # 1.0 MPa gauge saturates at 184.1 °C: 250 °C is superheated, 150 °C impossible
    _, issues = eff.check_params("boiler_efficiency", {"steam_pressure_mpa": 1.0,
                                                      "steam_temperature_c": 250})
    assert rules(issues) == [("params.steam_temperature_c", "eff_superheated")]
    assert issues[0].params == {"t_sat": 184.1}
    _, issues = eff.check_params("boiler_efficiency", {"steam_pressure_mpa": 1.0,
                                                      "steam_temperature_c": 150})
    assert rules(issues) == [("params.steam_temperature_c", "eff_below_saturation")]
    params, issues = eff.check_params("boiler_efficiency", {"steam_pressure_mpa": 1.0,
                                                           "steam_temperature_c": 184})
    assert issues == [] and params["steam_temperature_c"] == 184.0
    _, issues = eff.check_params("boiler_efficiency", {"steam_enthalpy_mj_per_t": 400,
                                                      "feedwater_enthalpy_mj_per_t": 420})
    assert rules(issues) == [("params.feedwater_enthalpy_mj_per_t", "eff_enthalpy_order")]
    _, issues = eff.check_params("specific_energy", {"numerator_unit": "parsec",
                                                    "better": "bigger"})
    assert sorted(rules(issues)) == [("params.better", "choice"),
                                     ("params.denominator_unit", "required"),
                                     ("params.numerator_unit", "unit_unknown")]
    _, issues = eff.check_params("cop", {"steam_pressure_mpa": 1.0})
    assert rules(issues) == [("params.steam_pressure_mpa", "unknown_field")]
    assert rules(eff.check_params("cop", [1])[1]) == [("params", "type_object")]


def test_meters_must_fit_the_kind():
    bad = eff.Definition("boiler_efficiency", (ELEC, STEAM), (WATER,), {})
    assert rules(eff.check_definition(bad)) == [("numerator", "eff_need_steam"),
                                                ("denominator", "eff_need_fuel")]
    cop = eff.Definition("cop", (ELEC,), (GAS,), {})
    assert rules(eff.check_definition(cop)) == [("numerator", "eff_need_cooling"),
                                                ("denominator", "eff_need_electricity")]
    air = eff.Definition("compressed_air_specific_power", (AIR,), (ELEC,), {})
    assert rules(eff.check_definition(air)) == [("numerator", "eff_need_electricity"),
                                                ("denominator", "eff_need_volume")]
    ratio = eff.Definition("specific_energy", (ELEC,), (WATER,),
                           {"numerator_unit": "kWh", "denominator_unit": "m3"})
    issues = eff.check_definition(ratio)
    assert rules(issues) == [("denominator", "eff_unit_mismatch")]
    assert issues[0].params == {"carrier": "water", "unit": "t", "target": "m3"}
    twice = eff.Definition("cop", (COOL, COOL), (), {})
    assert rules(eff.check_definition(twice)) == [("numerator", "eff_meter_twice"),
                                                  ("denominator", "eff_terms_empty")]


def test_boiler_steam_needs_enthalpy():
    issues = eff.check_definition(boiler({}))
    assert rules(issues) == [("params.steam_pressure_mpa", "eff_enthalpy_missing")]
    issues = eff.check_definition(boiler({"steam_pressure_mpa": 1.0}))
    assert rules(issues) == [("params.feedwater_temperature_c", "eff_feedwater_missing")]
    assert eff.check_definition(boiler({}, num=(HEAT,))) == []
    two_fuels = boiler({"enthalpy_rise_mj_per_t": 2600, "ncv_mj_per_unit": 35.0},
                       den=(GAS, COAL))
    assert rules(eff.check_definition(two_fuels)) == [("params.ncv_mj_per_unit",
                                                       "eff_ncv_carriers")]


def test_grade_references_are_checked():
    ok, issues = eff.check_grades({"standard": "GB 24500-2020", "source": "s",
                                   "status": "unverified",
                                   "levels": [{"grade": 1, "value": 94}, {"grade": 2, "value": 92}]},
                                  "higher")
    assert issues == [] and ok.levels == (eff.Level("1", 94.0), eff.Level("2", 92.0))
    _, issues = eff.check_grades({"standard": "x", "source": "s", "status": "unverified",
                                  "levels": [{"grade": "1", "value": 90},
                                             {"grade": "2", "value": 92}]}, "higher")
    assert rules(issues) == [("grades.levels", "eff_level_order_higher")]
    _, issues = eff.check_grades({"standard": "x", "status": "maybe", "extra": 1,
                                  "levels": [{"grade": "1"}]}, "lower")
    assert sorted(rules(issues)) == [("grades.extra", "unknown_field"),
                                     ("grades.levels", "eff_level"),
                                     ("grades.source", "required"), ("grades.status", "choice")]
    assert rules(eff.check_grades({"standard": "x", "source": "s", "status": "verified",
                                   "levels": []}, "lower")[1]) == [("grades.levels", "eff_levels")]
