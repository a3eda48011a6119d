"""Known answers of the accounting engine, computed by hand from the formulas of GB/T 32150-2015
and the MEE guidelines: every source kind, every method, GWP sets, deductions, location- and
market-based electricity; lineage; every error named with its row and field."""

from __future__ import annotations

import pytest

from nengtan.carbon.engine import compute, compute_source, gas_group, normalise_gas, result_dict
from nengtan.carbon.model import FactorValue, Param, SourceInput
from nengtan.errors import InputError

from .test_engine_support import Lookup, _fv

APPROX = {"rel": 1e-9, "abs": 1e-9}


def src(source="s", kind="combustion", quantity=1.0, unit="t", carrier=None, **kw):
    return SourceInput(source=source, kind=kind, quantity=quantity, unit=unit, carrier=carrier,
                       **kw)


def one(inp, lookup=None, **kw):
    return compute([inp], lookup or Lookup(), **kw).sources[0]


def given(value, unit, source="lab report 2025-01", status="measured"):
    return Param(value, unit, source, status)


def rules(exc):
    return [(i.row, i.field, i.rule) for i in exc.value.issues]


# --- combustion -----------------------------------------------------------------------------

def test_combustion_from_library_defaults():
    # AD = 1000 t × 19.570 GJ/t = 19 570 GJ
    # EF = 26.18 tC/TJ × 0.93 × 44/12 ÷ 1000 = 0.08927380 tCO2/GJ
    # E  = 19 570 × 26.18 × 0.93 × 44/12 ÷ 1000 = 476 478.618 × 44/12 ÷ 1000 = 1747.088266 tCO2
    r = one(src("boiler", quantity=1000, carrier="bituminous_coal"))
    assert r.emission_t == pytest.approx(1747.088266, **APPROX)
    assert r.tco2e == r.tco2e_market == r.emission_t
    assert (r.scope, r.gas, r.gwp) == (1, "CO2", 1.0)
    lin = r.lineage
    assert [p["parameter"] for p in lin["parameters"]] == ["ncv", "carbon_content",
                                                           "oxidation_rate"]
    assert all(p["origin"] == "library" for p in lin["parameters"])
    assert lin["parameters"][0]["factor_id"] == "ref:ncv:bituminous_coal"
    assert lin["parameters"][0]["status"] == "unverified"
    assert lin["activity"]["converted"] == {"value": 19570.0, "unit": "GJ", "fuel": 1000.0,
                                            "fuel_unit": "t"}
    assert "19570 GJ" in lin["formula"] and "1747.088266 tCO2" in lin["formula"]
    assert lin["methodology"] == {"id": "gbt32150", "version": "2015.1",
                                  "document": "GB/T 32150-2015"}


def test_combustion_gas_volume_converted_to_the_ncv_unit():
    # 50 000 m3 = 5 × 10^4 Nm3 (metered volume taken as normal volume)
    # AD = 5 × 389.31 = 1946.55 GJ; EF = 15.30 × 0.99 × 44/12 ÷ 1000 = 0.055539 tCO2/GJ
    # E = 1946.55 × 15.147 × 44/12 ÷ 1000 = 29 484.39285 × 44/12 ÷ 1000 = 108.1094404 tCO2
    r = one(src("kiln gas", quantity=50000, unit="m3", carrier="natural_gas"))
    assert r.emission_t == pytest.approx(108.10944045, **APPROX)
    assert "50000 m3 = 5 10^4 Nm3" in r.lineage["formula"]


def test_combustion_given_parameters_are_used_and_marked_given():
    # NCV measured 43.0 GJ/t (given as 43 000 MJ/t), CC and OF from the library (diesel):
    # AD = 10 × 43.0 = 430 GJ; E = 430 × 20.20 × 0.98 × 44/12 ÷ 1000
    #    = 430 × 19.796 × 44/12 ÷ 1000 = 8512.28 × 44/12 ÷ 1000 = 31.2116933 tCO2
    r = one(src("genset", quantity=10, carrier="diesel",
                params={"ncv": given(43000, "MJ/t")}))
    assert r.emission_t == pytest.approx(31.21169333, **APPROX)
    ncv, cc, of = r.lineage["parameters"]
    assert ncv == {"parameter": "ncv", "value": 43.0, "unit": "GJ/t",
                   "source": "lab report 2025-01", "status": "measured", "factor_id": "given",
                   "origin": "given", "as_given": {"value": 43000, "unit": "MJ/t"}}
    assert cc["origin"] == of["origin"] == "library"


def test_combustion_given_emission_factor_overrides_the_three():
    # E = 100 t × 1.9 tCO2/t = 190 tCO2 (the given NCV is not used)
    r = one(src(quantity=100, carrier="bituminous_coal",
                params={"emission_factor": given(1.9, "tCO2/t"), "ncv": given(20, "GJ/t")}))
    assert r.emission_t == pytest.approx(190.0, **APPROX)
    assert [p["parameter"] for p in r.lineage["parameters"]] == ["emission_factor"]


def test_combustion_element_carbon_content():
    # E = FC × C × OF × 44/12 = 100 t × 0.6 tC/t × 0.93 × 44/12 = 55.8 × 44/12 = 204.6 tCO2
    r = one(src(quantity=100, carrier="bituminous_coal",
                params={"carbon_fraction": given(60, "%")}))
    assert r.emission_t == pytest.approx(204.6, **APPROX)


def test_carbon_content_units():
    # 0.02618 tC/GJ = 26.18 tC/TJ: the same as the library default case
    r = one(src(quantity=1000, carrier="bituminous_coal",
                params={"carbon_content": given(0.02618, "tC/GJ")}))
    assert r.emission_t == pytest.approx(1747.088266, **APPROX)
    assert r.lineage["parameters"][1]["value"] == pytest.approx(26.18)


def test_combustion_non_co2_from_a_factor_per_tj():
    # CH4: AD = 1000 t × 19.570 GJ/t = 19 570 GJ = 19.57 TJ; E = 19.57 TJ × 0.01 tCH4/TJ
    # = 0.1957 tCH4; × GWP 28 (AR5) = 5.4796 tCO2e
    lookup = Lookup(extra=[_fv("emission_factor", "bituminous_coal:CH4", 0.01, "t/TJ")])
    r = one(src(quantity=1000, carrier="bituminous_coal", gas="CH4"), lookup)
    assert r.emission_t == pytest.approx(0.1957, **APPROX)
    assert r.tco2e == pytest.approx(5.4796, **APPROX)
    assert r.lineage["gwp"]["value"] == 28.0
    assert "× 28 (AR5) = 5.4796 tCO2e" in r.lineage["formula"]


def test_library_emission_factor_per_unit_when_no_ncv():
    # methanol has no NCV/CC/OF in the stand-in library; its EF per t is used instead
    lookup = Lookup(extra=[_fv("emission_factor", "methanol", 1.375, "tCO2/t")])
    r = one(src(quantity=2, carrier="methanol"), lookup)
    # E = 2 t × 1.375 tCO2/t = 2.75 tCO2
    assert r.emission_t == pytest.approx(2.75, **APPROX)
    assert r.lineage["notes"]


# --- process ---------------------------------------------------------------------------------

def test_process_carbonate_stoichiometric_factor():
    # E = 100 t CaCO3 × 0.4397 tCO2/t = 43.97 tCO2; with purity 90 %: × 0.9 = 39.573 tCO2
    assert one(src(kind="process", quantity=100, carrier="calcium_carbonate")).emission_t \
        == pytest.approx(43.97, **APPROX)
    r = one(src(kind="process", quantity=100_000, unit="kg", carrier="calcium_carbonate",
                params={"purity": given(0.9, "fraction")}))
    assert r.emission_t == pytest.approx(39.573, **APPROX)
    assert r.lineage["parameters"][0]["factor_id"] == "ref:process_factor:calcium_carbonate"


def test_process_given_factor():
    # E = 20 t × 0.25 tCO2/t = 5 tCO2 (a generic process factor)
    r = one(src(kind="process", quantity=20, carrier="glass_batch",
                params={"emission_factor": given(0.25, "tCO2/t", status="user")}))
    assert r.emission_t == pytest.approx(5.0, **APPROX)


# --- electricity and heat ---------------------------------------------------------------------

def test_electricity_location_and_market_based():
    # location: 1 000 000 kWh = 1000 MWh × 0.5703 tCO2/MWh = 570.3 tCO2
    # market:   (1000 − 200 green) MWh × 0.5703 = 800 × 0.5703 = 456.24 tCO2
    res = compute([src("grid", "electricity", 1_000_000, "kWh", green_mwh=200)], Lookup())
    r = res.sources[0]
    assert (r.scope, r.tco2e, r.tco2e_market) == (2, pytest.approx(570.3, **APPROX),
                                                  pytest.approx(456.24, **APPROX))
    assert res.scope2_tco2e == pytest.approx(570.3, **APPROX)
    assert res.scope2_market_tco2e == pytest.approx(456.24, **APPROX)
    assert res.total_market_tco2e == pytest.approx(456.24, **APPROX)
    assert r.lineage["market"]["green_mwh"] == 200
    assert "(1000 − 200) MWh" in r.lineage["market"]["formula"]
    assert r.lineage["parameters"][0]["parameter"] == "grid_factor"


def test_electricity_all_green_is_zero_market_based():
    r = one(src("pv ppa", "electricity", 300, "MWh", green_mwh=300))
    assert r.tco2e == pytest.approx(171.09, **APPROX)  # 300 × 0.5703
    assert r.tco2e_market == 0.0


def test_electricity_given_grid_factor():
    # 2 × 10^4 kWh = 20 MWh × 0.641 tCO2/MWh (given as 0.641 kgCO2/kWh) = 12.82 tCO2
    r = one(src("grid", "electricity", 2, "10^4 kWh",
                params={"emission_factor": given(0.641, "kgCO2/kWh", "provincial notice",
                                                 "verified")}))
    assert r.emission_t == pytest.approx(12.82, **APPROX)


def test_heat():
    # 500 000 MJ = 500 GJ × 0.11 tCO2/GJ = 55 tCO2
    r = one(src("steam", "heat", 500_000, "MJ"))
    assert (r.scope, r.emission_t) == (2, pytest.approx(55.0, **APPROX))


# --- deductions -------------------------------------------------------------------------------

def test_exports_and_recovery_are_deducted():
    res = compute([
        src("coal", quantity=1000, carrier="bituminous_coal"),         # +1747.088266
        src("grid", "electricity", 1000, "MWh"),                       # +570.3
        src("export", "export_electricity", 100, "MWh"),               # −100 × 0.5703 = −57.03
        src("heat out", "export_heat", 200, "GJ"),                     # −200 × 0.11 = −22
        src("co2 sold", "recovered", 500, "kg"),                       # −0.5
    ], Lookup())
    by = {r.source: r.tco2e for r in res.sources}
    assert by["export"] == pytest.approx(-57.03, **APPROX)
    assert by["heat out"] == pytest.approx(-22.0, **APPROX)
    assert by["co2 sold"] == pytest.approx(-0.5, **APPROX)
    # scope 1 = 1747.088266 − 0.5 = 1746.588266; scope 2 = 570.3 − 57.03 − 22 = 491.27
    assert res.scope1_tco2e == pytest.approx(1746.588266, **APPROX)
    assert res.scope2_tco2e == pytest.approx(491.27, **APPROX)
    assert res.total_tco2e == pytest.approx(2237.858266, **APPROX)
    assert res.by_kind["export_electricity"] == pytest.approx(-57.03, **APPROX)
    assert all(r.lineage["deducted"] for r in res.sources if r.tco2e < 0)
    assert "deducted: -57.03 tCO2e" in res.sources[2].lineage["formula"]


# --- non-CO2 gases and GWP sets ---------------------------------------------------------------

@pytest.mark.parametrize("gwp_set, ch4, hfc, sf6", [
    # 1 t CH4 × GWP; 10 kg HFC-134a = 0.01 t × GWP; 1 kg SF6 = 0.001 t × GWP
    ("SAR", 21.0, 13.0, 23.9),
    ("AR4", 25.0, 14.3, 22.8),
    ("AR5", 28.0, 13.0, 23.5),
    ("AR6", 27.9, 15.3, 25.2),
])
def test_gwp_sets(gwp_set, ch4, hfc, sf6):
    res = compute([src("landfill", "fugitive", 1, "t", gas="CH4"),
                   src("chiller", "fugitive", 10, "kg", gas="hfc-134a"),
                   src("switchgear", "fugitive", 1, "kg", gas="sf6")],
                  Lookup(gwp_set), gwp_set=gwp_set)
    assert [r.tco2e for r in res.sources] == [pytest.approx(ch4, **APPROX),
                                              pytest.approx(hfc, **APPROX),
                                              pytest.approx(sf6, **APPROX)]
    assert [r.gas for r in res.sources] == ["CH4", "HFC-134a", "SF6"]
    assert res.by_gas == {"CH4": pytest.approx(ch4), "HFCs": pytest.approx(hfc),
                          "SF6": pytest.approx(sf6)}
    assert res.scope1_tco2e == pytest.approx(ch4 + hfc + sf6, **APPROX)
    assert res.sources[0].lineage["gwp"]["set"] == gwp_set


def test_fugitive_with_an_emission_factor_per_unit():
    # 40 units × 0.0005 t SF6 per unit (leak rate × charge) = 0.02 t SF6 × 23 500 = 470 tCO2e
    r = one(src("breakers", "fugitive", 40, "pcs", gas="SF6",
                params={"emission_factor": given(0.0005, "tSF6/pcs", "nameplate × 1 %/a",
                                                 "user")}))
    assert (r.emission_t, r.tco2e) == (pytest.approx(0.02, **APPROX), pytest.approx(470.0))


def test_gas_names_and_groups():
    assert normalise_gas("co2") == "CO2" and normalise_gas("hfc-32") == "HFC-32"
    assert normalise_gas(None) == "CO2" and normalise_gas(" cf4 ") == "CF4"
    assert gas_group("HFC-134a") == "HFCs" and gas_group("C2F6") == "PFCs"


# --- mass balance and measurement ---------------------------------------------------------------

def test_mass_balance():
    # E = (100 − 10 − 5) tC × 44/12 = 85 × 44/12 = 311.6666667 tCO2
    r = one(src("smelter", "process", 0, "t", "coke", method="mass_balance",
                params={"carbon_in_t": given(100, "t"), "carbon_out_t": given(10_000, "kg"),
                        "stock_change_t": given(5, "t")}))
    assert r.emission_t == pytest.approx(85 * 44 / 12, **APPROX)
    assert r.method == "mass_balance"
    assert [p["parameter"] for p in r.lineage["parameters"]] == ["carbon_in_t", "carbon_out_t",
                                                                 "stock_change_t"]


def test_mass_balance_without_outputs_records_the_assumption():
    # E = (12 − 0) tC × 44/12 = 44 tCO2
    r = one(src("furnace", "combustion", 0, "t", method="mass_balance",
                params={"carbon_in_t": given(12, "t")}))
    assert r.emission_t == pytest.approx(44.0, **APPROX)
    out = r.lineage["parameters"][1]
    assert (out["parameter"], out["value"], out["origin"]) == ("carbon_out_t", 0.0, "assumed")


def test_measurement():
    # Σ valid hourly CEMS masses = 1234.5 tCO2 (as a parameter or as the quantity)
    r = one(src("stack", "combustion", 0, "t", "bituminous_coal", method="measurement",
                params={"measured_t": given(1234.5, "t", "CEMS CEM-K1 hourly sums")}))
    assert r.emission_t == 1234.5
    assert r.lineage["parameters"][0]["source"] == "CEMS CEM-K1 hourly sums"
    r = one(src("stack", "combustion", 1_234_500, "kg", method="measurement"))
    assert r.emission_t == pytest.approx(1234.5, **APPROX)
    r = one(src("capture", "recovered", 50, "t", method="measurement"))
    assert r.tco2e == -50.0


# --- totals, lineage, results as data ---------------------------------------------------------------

def test_inventory_totals_and_result_dict():
    res = compute([src("coal", quantity=1000, carrier="bituminous_coal"),
                   src("grid", "electricity", 1000, "MWh", green_mwh=100),
                   src("hfc", "fugitive", 10, "kg", gas="HFC-134a")], Lookup())
    # 1747.088266 + 570.3 + 13 = 2330.388266; market 570.3 − 57.03 = 513.27
    assert res.total_tco2e == pytest.approx(2330.388266, **APPROX)
    assert res.scope1_tco2e == pytest.approx(1760.088266, **APPROX)
    assert res.scope2_market_tco2e == pytest.approx(513.27, **APPROX)
    assert res.total_market_tco2e == pytest.approx(2273.358266, **APPROX)
    d = result_dict(res)
    assert d["unit"] == "tCO2e" and d["methodology"]["version"] == "2015.1"
    assert set(d["sources"][0]) >= {"source", "tco2e", "lineage", "scope", "gas"}


def test_every_parameter_has_complete_lineage():
    res = compute([src("coal", quantity=1000, carrier="bituminous_coal",
                       params={"ncv": given(21, "GJ/t")}),
                   src("grid", "electricity", 1000, "MWh"),
                   src("lime", "process", 5, "t", "calcium_carbonate"),
                   src("mb", "process", 0, "t", method="mass_balance",
                       params={"carbon_in_t": given(1, "t")}),
                   src("hfc", "fugitive", 1, "kg", gas="HFC-32")], Lookup())
    for r in res.sources:
        lin = r.lineage
        assert lin["methodology"]["id"] and lin["methodology"]["version"]
        assert lin["formula"] and lin["gwp"]["value"] and lin["gwp"]["status"]
        for p in lin["parameters"]:
            for key in ("parameter", "value", "unit", "source", "status", "factor_id", "origin"):
                assert p[key] not in (None, ""), (r.source, p)
            assert p["origin"] in ("given", "library", "methodology", "assumed")


def test_evidence_and_facility_are_carried():
    r = one(src("coal", quantity=1, carrier="bituminous_coal", facility="kiln 1",
                evidence=("meter CEM-COAL", "delivery 2025-001")))
    assert r.facility == "kiln 1"
    assert r.lineage["activity"]["evidence"] == ["meter CEM-COAL", "delivery 2025-001"]


def test_compute_source_alone():
    r = compute_source(src("grid", "electricity", 10, "MWh"), Lookup(), row=7)
    assert r.tco2e == pytest.approx(5.703, **APPROX)
    with pytest.raises(InputError) as exc:
        compute_source(src("grid", "electricity", -1, "MWh"), Lookup(), row=7)
    assert rules(exc) == [(7, "quantity", "rule.minimum")]


def test_empty_inventory():
    res = compute([], Lookup())
    assert (res.total_tco2e, res.scope1_tco2e, res.scope2_tco2e, res.sources) == (0, 0, 0, [])


# --- errors ---------------------------------------------------------------------------------

def test_every_bad_source_is_named_with_its_row_and_field():
    with pytest.raises(InputError) as exc:
        compute([
            src("ok", quantity=1, carrier="bituminous_coal"),                      # 0 fine
            src("a", kind="burning", quantity=1),                                  # 1
            src("b", quantity=-1, carrier="bituminous_coal"),                      # 2
            src("c", quantity=1, unit="furlong", carrier="bituminous_coal"),       # 3
            src("d", quantity=1),                                                  # 4 carrier
            src("e", "electricity", 1, "MWh", green_mwh=2),                        # 5
            src("f", "electricity", 1, "MWh", gas="CH4"),                          # 6
            src("g", quantity=1, carrier="unobtainium"),                           # 7
            src("h", quantity=1, carrier="diesel", params={"ncvv": given(1, "GJ/t")}),  # 8
            src("i", "heat", 3, "t"),                                              # 9 steam in t
            src("j", "fugitive", 1, "t", gas="HFC-9999"),                          # 10
            src("k", "electricity", 1, "MWh", method="mass_balance"),              # 11
            src("l", quantity=1, carrier="diesel",
                params={"oxidation_rate": given(1.2, "fraction")}),                 # 12
            src("m", "process", 0, "t", method="mass_balance",
                params={"carbon_in_t": given(1, "t"), "carbon_out_t": given(2, "t")}),  # 13
            src("n", "heat", 1, "GJ", green_mwh=1),                                # 14
            src("", "heat", 1, "GJ"),                                              # 15
        ], Lookup())
    assert rules(exc) == [
        (1, "kind", "rule.choice"),
        (2, "quantity", "rule.minimum"),
        (3, "unit", "rule.unit_unknown"),
        (4, "carrier", "rule.required"),
        (5, "green_mwh", "rule.carbon_green_exceeds"),
        (6, "gas", "rule.carbon_gas_kind"),
        (7, "ncv", "rule.carbon_param_missing"),
        (7, "carbon_content", "rule.carbon_param_missing"),
        (7, "oxidation_rate", "rule.carbon_param_missing"),
        (8, "ncvv", "rule.carbon_param_unknown"),
        (9, "unit", "rule.carbon_unit"),
        (10, "gas", "rule.carbon_gwp_missing"),
        (11, "method", "rule.carbon_method_kind"),
        (12, "oxidation_rate", "rule.carbon_param_unit"),
        (13, "carbon_out_t", "rule.carbon_mass_balance_negative"),
        (14, "green_mwh", "rule.carbon_green_kind"),
        (15, "source", "rule.required"),
    ]
    # messages exist in both languages and name the subject
    issue = exc.value.issues[6]
    assert "unobtainium" in issue.message("en") and "unobtainium" in issue.message("zh-CN")


def test_rows_given_with_the_inputs_are_used():
    with pytest.raises(InputError) as exc:
        compute([src("x", quantity=-5, carrier="diesel", row=12)], Lookup())
    assert rules(exc) == [(12, "quantity", "rule.minimum")]


def test_gwp_set_and_methodology_are_checked():
    with pytest.raises(InputError) as exc:
        compute([], Lookup(), gwp_set="AR9", methodology="alchemy")
    assert rules(exc) == [(None, "gwp_set", "rule.choice"), (None, "methodology", "rule.choice")]
    with pytest.raises(InputError) as exc:
        compute([], Lookup("AR4"), gwp_set="AR5")
    assert rules(exc) == [(None, "gwp_set", "rule.carbon_gwp_set_mismatch")]


def test_a_bad_library_value_is_named():
    bad = FactorValue("bad:1", "user", 1, "ncv", "diesel", 42.0, "GJ per tonne", "typo",
                      "user")
    with pytest.raises(InputError) as exc:
        compute([src(quantity=1, carrier="diesel")], Lookup(extra=[bad]))
    assert rules(exc) == [(0, "ncv", "rule.carbon_library_unit")]


def test_co2_gwp_is_one_by_definition_when_the_library_has_none():
    class NoGwp(Lookup):
        def gwp(self, gas):
            return None

    r = one(src("grid", "electricity", 1, "MWh"), NoGwp())
    assert r.gwp == 1.0 and r.lineage["gwp"]["factor_id"] == "definition"


def test_gas_group_with_the_species_as_carrier():
    # gas "HFCs" + carrier "HFC-32": 0.1 t × GWP 677 (AR5) = 67.7 tCO2e
    r = one(src("split ac", "fugitive", 100, "kg", carrier="HFC-32", gas="HFCs"))
    assert (r.gas, r.tco2e) == ("HFC-32", pytest.approx(67.7, **APPROX))
    with pytest.raises(InputError) as exc:
        compute([src("ac", "fugitive", 1, "t", gas="HFCs"),
                 src("gis", "fugitive", 1, "t", carrier="SF6")], Lookup())
    assert rules(exc) == [(0, "gas", "rule.carbon_gas_species"),
                          (1, "gas", "rule.carbon_gas_carrier")]
