"""Properties of the accounting engine (hypothesis): the sum of the sources is the total, the
scopes partition the total, deductions are never positive, market-based never exceeds
location-based, and results scale with the activity data."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nengtan.carbon.engine import compute
from nengtan.carbon.model import DEDUCTED, Param, SourceInput

from .test_engine_support import Lookup

qty = st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False)


@st.composite
def sources(draw):
    kind = draw(st.sampled_from(["combustion", "process", "electricity", "heat",
                                 "export_electricity", "export_heat", "recovered", "fugitive",
                                 "mass_balance", "measurement"]))
    q = draw(qty)
    name = draw(st.text(min_size=1, max_size=8).filter(str.strip))
    if kind == "combustion":
        carrier, unit = draw(st.sampled_from([("bituminous_coal", "t"), ("diesel", "kg"),
                                              ("natural_gas", "10^4 Nm3"),
                                              ("natural_gas", "m3")]))
        return SourceInput(name, "combustion", q, unit, carrier)
    if kind == "process":
        return SourceInput(name, "process", q, "t",
                           draw(st.sampled_from(["calcium_carbonate", "dolomite"])))
    if kind == "electricity":
        unit = draw(st.sampled_from(["MWh", "kWh"]))
        mwh = q if unit == "MWh" else q / 1000
        green = draw(st.floats(min_value=0, max_value=1)) * mwh
        return SourceInput(name, "electricity", q, unit, green_mwh=green)
    if kind in ("heat", "export_heat"):
        return SourceInput(name, kind, q, draw(st.sampled_from(["GJ", "MJ"])))
    if kind == "export_electricity":
        return SourceInput(name, kind, q, "MWh")
    if kind == "recovered":
        return SourceInput(name, kind, q, "t")
    if kind == "fugitive":
        return SourceInput(name, kind, q / 1000, "t",
                           gas=draw(st.sampled_from(["CH4", "N2O", "SF6", "HFC-134a", "CF4"])))
    if kind == "mass_balance":
        c_in = draw(qty)
        c_out = draw(st.floats(min_value=0, max_value=1)) * c_in
        return SourceInput(name, "process", 0, "t", method="mass_balance", params={
            "carbon_in_t": Param(c_in, "t", "x"), "carbon_out_t": Param(c_out, "t", "x")})
    return SourceInput(name, "combustion", q, "t", method="measurement")


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


@settings(max_examples=150, deadline=None)
@given(st.lists(sources(), max_size=25), st.sampled_from(["SAR", "AR4", "AR5", "AR6"]))
def test_sources_sum_to_the_total_and_scopes_partition_it(inputs, gwp_set):
    res = compute(inputs, Lookup(gwp_set), gwp_set=gwp_set)
    assert len(res.sources) == len(inputs)
    assert close(res.total_tco2e, math.fsum(r.tco2e for r in res.sources))
    assert close(res.total_tco2e, res.scope1_tco2e + res.scope2_tco2e)
    assert close(res.total_tco2e, math.fsum(res.by_kind.values()))
    assert close(res.total_tco2e, math.fsum(res.by_gas.values()))
    assert close(res.total_market_tco2e, res.scope1_tco2e + res.scope2_market_tco2e)
    assert res.scope2_market_tco2e <= res.scope2_tco2e + 1e-6
    for inp, r in zip(inputs, res.sources):
        assert r.source == inp.source
        if inp.kind in DEDUCTED:
            assert r.tco2e <= 0 and r.lineage["deducted"]
        else:
            assert r.tco2e >= 0
        assert close(r.tco2e, r.emission_t * r.gwp)
        assert 0 <= r.tco2e_market <= r.tco2e + 1e-9 or r.tco2e <= 0


@settings(max_examples=60, deadline=None)
@given(sources(), st.floats(min_value=0.001, max_value=1000))
def test_emissions_scale_with_the_activity(inp, k):
    if inp.method == "mass_balance":
        return
    from dataclasses import replace

    scaled = replace(inp, quantity=inp.quantity * k, green_mwh=inp.green_mwh * k)
    a = compute([inp], Lookup()).sources[0]
    b = compute([scaled], Lookup()).sources[0]
    assert b.tco2e == pytest.approx(a.tco2e * k, rel=1e-9, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(st.lists(sources(), min_size=1, max_size=10))
def test_order_does_not_change_the_totals(inputs):
    a = compute(inputs, Lookup())
    b = compute(list(reversed(inputs)), Lookup())
    assert close(a.total_tco2e, b.total_tco2e)
    assert close(a.scope2_market_tco2e, b.scope2_market_tco2e)
