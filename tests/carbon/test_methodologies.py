"""Methodology modules: the registry, the MEE power-generation guideline (measured carbon
content or the high default) and cement (clinker by CaO/MgO, kiln dust, raw meal organic
carbon); known answers by hand."""

from __future__ import annotations

import pytest

from nengtan.carbon import methodologies
from nengtan.carbon.engine import compute
from nengtan.carbon.methodologies.base import Methodology
from nengtan.carbon.model import Param, SourceInput
from nengtan.errors import InputError, NotFound

from .test_engine_support import Lookup

APPROX = {"rel": 1e-9, "abs": 1e-9}


def given(value, unit, status="measured"):
    return Param(value, unit, "plant laboratory", status)


def one(inp, methodology, lookup=None):
    return compute([inp], lookup or Lookup(), methodology=methodology).sources[0]


def test_registry():
    assert methodologies.ids() == ["gbt32150", "mee_power", "cement"]
    m = methodologies.get("cement")
    assert (m.id, m.version) == ("cement", "2015.1")
    d = methodologies.get("mee_power").describe()
    assert d["id"] == "mee_power" and d["version"] and "combustion" in d["kinds"]
    assert d["methods"]["mass_balance"] == ["combustion", "process"]
    with pytest.raises(NotFound):
        methodologies.get("nope")


def test_a_new_methodology_is_one_module():
    class Glass(Methodology):
        id, version, document = "glass_test", "1", "test"
        kinds = ("combustion", "process")

    m = methodologies.register(Glass())
    try:
        assert methodologies.get("glass_test") is m
        r = compute([SourceInput("lime", "process", 10, "t", "calcium_carbonate")], Lookup(),
                    methodology="glass_test").sources[0]
        assert r.lineage["methodology"] == {"id": "glass_test", "version": "1",
                                            "document": "test"}
        with pytest.raises(InputError) as exc:
            compute([SourceInput("grid", "electricity", 1, "MWh")], Lookup(),
                    methodology="glass_test")
        assert exc.value.issues[0].rule == "rule.carbon_kind_methodology"
    finally:
        methodologies._REGISTRY.pop("glass_test")


# --- MEE power-generation facilities ---------------------------------------------------------

def test_power_coal_without_measured_carbon_uses_the_high_default():
    # CC = 0.03356 tC/GJ = 33.56 tC/TJ (not the library's 26.18), OF = 0.99 (not 0.93)
    # AD = 1000 t × 19.570 GJ/t = 19 570 GJ
    # E = 19 570 × 33.56 × 0.99 × 44/12 ÷ 1000 = 650 201.508 × 44/12 ÷ 1000 = 2384.072196 tCO2
    r = one(SourceInput("unit 1", "combustion", 1000, "t", "bituminous_coal"), "mee_power")
    assert r.emission_t == pytest.approx(19570 * 33.56 * 0.99 * 44 / 12 / 1000, **APPROX)
    assert r.emission_t == pytest.approx(2384.072196, rel=1e-9)
    ncv, cc, of = r.lineage["parameters"]
    assert (cc["value"], cc["origin"], cc["status"]) == (33.56, "methodology", "unverified")
    assert cc["factor_id"] == "methodology:mee_power:carbon_content_high_default"
    assert (of["value"], of["origin"]) == (0.99, "methodology")
    assert ncv["origin"] == "library"
    assert any("high default" in n for n in r.lineage["notes"])
    assert r.lineage["methodology"]["id"] == "mee_power"


def test_power_coal_with_measured_carbon_content():
    # AD = 1000 t × 21 GJ/t = 21 000 GJ; EF = 25 × 0.99 × 44/12 ÷ 1000 = 0.09075 tCO2/GJ
    # E = 21 000 × 0.09075 = 1905.75 tCO2
    r = one(SourceInput("unit 1", "combustion", 1000, "t", "bituminous_coal", params={
        "ncv": given(21, "GJ/t"), "carbon_content": given(25, "tC/TJ")}), "mee_power")
    assert r.emission_t == pytest.approx(1905.75, **APPROX)
    assert "notes" not in r.lineage


def test_power_coal_with_element_carbon():
    # E = FC × C_ar × OF × 44/12 = 1000 × 0.55 × 0.99 × 44/12 = 544.5 × 44/12 = 1996.5 tCO2
    r = one(SourceInput("unit 2", "combustion", 1000, "t", "raw_coal", params={
        "carbon_fraction": given(0.55, "tC/t")}), "mee_power")
    assert r.emission_t == pytest.approx(1996.5, **APPROX)


def test_power_unmeasured_given_value_is_noted_and_gas_uses_the_library():
    r = one(SourceInput("unit 1", "combustion", 1000, "t", "bituminous_coal", params={
        "carbon_content": given(25, "tC/TJ", status="user")}), "mee_power")
    assert any("requires a measured value" in n for n in r.lineage["notes"])
    # natural gas is not coal: the library defaults as in GB/T 32150
    gas = SourceInput("gt", "combustion", 5, "10^4 Nm3", "natural_gas")
    assert one(gas, "mee_power").tco2e == pytest.approx(one(gas, "gbt32150").tco2e, **APPROX)


def test_general_methodology_uses_the_library_for_coal():
    r = one(SourceInput("boiler", "combustion", 1000, "t", "bituminous_coal"), "gbt32150")
    assert r.lineage["parameters"][1]["value"] == 26.18


# --- cement ------------------------------------------------------------------------------------

def test_cement_clinker_by_cao_and_mgo():
    # per t = (0.65 − 0.01) × 0.7848 + (0.025 − 0.005) × 1.0920 = 0.502272 + 0.02184 = 0.524112
    # mass = 1000 t clinker + 10 t kiln dust + 5 t bypass dust = 1015 t
    # E = 1015 × 0.524112 = 531.97368 tCO2
    r = one(SourceInput("kiln 1", "process", 1000, "t", "clinker", params={
        "cao_content": given(65, "%"), "cao_non_carbonate": given(1, "%"),
        "mgo_content": given(0.025, "fraction"), "mgo_non_carbonate": given(0.005, "fraction"),
        "kiln_dust_t": given(10, "t"), "bypass_dust_t": given(5000, "kg")}), "cement")
    assert r.emission_t == pytest.approx(531.97368, **APPROX)
    names = [p["parameter"] for p in r.lineage["parameters"]]
    assert names == ["cao_content", "cao_non_carbonate", "mgo_content", "mgo_non_carbonate",
                     "kiln_dust_t", "bypass_dust_t", "clinker_cao", "clinker_mgo"]
    f = r.lineage["parameters"][6]
    assert (f["factor_id"], f["origin"]) == ("ref:process_factor:clinker_cao", "library")
    assert "1015 t × 0.524112 tCO2/t = 531.97368 tCO2" in r.lineage["formula"]


def test_cement_clinker_cao_only_with_stoichiometry_when_the_library_has_none():
    class Bare(Lookup):
        def get(self, parameter, subject):
            return None if parameter == "process_factor" else super().get(parameter, subject)

    # E = 1000 × 0.64 × 44.01/56.08 = 502.2539 tCO2; non-carbonate CaO assumed 0
    r = one(SourceInput("kiln", "process", 1000, "t", "clinker", params={
        "cao_content": given(0.64, "fraction")}), "cement", Bare())
    assert r.emission_t == pytest.approx(1000 * 0.64 * 44.01 / 56.08, **APPROX)
    by = {p["parameter"]: p for p in r.lineage["parameters"]}
    assert by["cao_non_carbonate"]["origin"] == "assumed"
    assert by["clinker_cao"]["origin"] == "methodology"
    assert any("MgO" in n for n in r.lineage["notes"])


def test_cement_raw_meal_organic_carbon_and_other_sources():
    # E = 1500 t × 0.002 × 44/12 = 3 × 44/12 = 11 tCO2
    res = compute([
        SourceInput("raw meal", "process", 1500, "t", "raw_meal",
                    params={"organic_carbon": given(0.2, "%")}),
        SourceInput("kiln coal", "combustion", 1000, "t", "bituminous_coal"),
        SourceInput("grid", "electricity", 1000, "MWh"),
    ], Lookup(), methodology="cement")
    assert res.sources[0].emission_t == pytest.approx(11.0, **APPROX)
    assert res.sources[1].emission_t == pytest.approx(1747.088266, rel=1e-9)
    assert res.total_tco2e == pytest.approx(11 + 1747.088266 + 570.3, rel=1e-9)


def test_cement_errors():
    with pytest.raises(InputError) as exc:
        compute([
            SourceInput("a", "process", 1000, "t", "clinker"),
            SourceInput("b", "process", 1000, "t", "clinker", params={
                "cao_content": given(0.60, "fraction"), "cao_non_carbonate": given(0.7, "")}),
            SourceInput("c", "process", 10, "t", "raw_meal"),
        ], Lookup(), methodology="cement")
    assert [(i.row, i.field, i.rule) for i in exc.value.issues] == [
        (0, "cao_content", "rule.carbon_param_missing"),
        (1, "cao_non_carbonate", "rule.carbon_non_carbonate"),
        (2, "organic_carbon", "rule.carbon_param_missing"),
    ]
    # clinker parameters are the cement methodology's only
    with pytest.raises(InputError) as exc:
        compute([SourceInput("a", "process", 1000, "t", "clinker", params={
            "cao_content": given(0.6, "fraction")})], Lookup())
    assert [(i.field, i.rule) for i in exc.value.issues] == [
        ("cao_content", "rule.carbon_param_methodology")]
