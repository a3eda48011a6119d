"""Figures of an inventory result (pure): aggregates, alerts against targets, diffs, lookup
of one figure."""

from __future__ import annotations

from datetime import date

import pytest

from nengtan.services import inventory_results as r


def entry(code, scope, tco2e, market=None, facility=None, gas="CO2", kind="combustion",
          quantity=1.0, links=(), params=()):
    return {"source": code, "scope": scope, "tco2e": tco2e,
            "tco2e_market": tco2e if market is None else market, "facility": facility,
            "gas": gas, "gas_group": gas, "kind": kind, "emission_t": tco2e, "quantity": quantity,
            "quantity_unit": "t", "green_mwh": 0.0, "method": "factor", "carrier": "x",
            "scope3_category": None,
            "lineage": {"activity_data": {"links": list(links)}, "parameters": list(params),
                        "gwp": {"value": 1.0, "set": "AR5"}, "methodology": {"id": "gbt32150"}}}


SOURCES = [entry("A", 1, 100.0, facility="K"), entry("B", 1, 50.0, facility="K", gas="CH4"),
           entry("C", 2, 30.0, market=10.0, kind="electricity"),
           entry("D", 2, -5.0, kind="export_electricity")]


def test_totals_and_breakdowns_partition_the_total():
    t = r.totals(SOURCES)
    assert (t["total_tco2e"], t["scope1_tco2e"], t["scope2_tco2e"]) == (175.0, 150.0, 25.0)
    assert (t["scope2_market_tco2e"], t["total_market_tco2e"]) == (5.0, 155.0)
    b = r.breakdowns(SOURCES)
    assert [(x["scope"], x["basis"], x["tco2e"]) for x in b["by_scope"]] == [
        (1, None, 150.0), (2, "location", 25.0), (2, "market", 5.0)]
    assert [(x["facility"], x["tco2e"]) for x in b["by_facility"]] == [("K", 150.0), (None, 25.0)]
    assert {x["gas"]: x["lineage"]["sum_of"] for x in b["by_gas"]} == {
        "CH4": ["B"], "CO2": ["A", "C", "D"]}


def test_budget_pro_rata():
    # 1 200 t per year over 2025 (365 days): end of January 31/365 × 1 200 = 101.918 t
    trend = [{"month": "2025-01", "start": "2025-01-01", "end": "2025-02-01",
              "total_tco2e": 110.0, "cumulative_tco2e": 110.0},
             {"month": "2025-02", "start": "2025-02-01", "end": "2025-03-01",
              "total_tco2e": 80.0, "cumulative_tco2e": 190.0}]
    out = r.alerts(trend, {"tco2e": 1200.0, "period": "year", "source": "plan"},
                   date(2025, 1, 1), date(2026, 1, 1))
    jan, feb = out["items"]
    assert jan["budget_to_date_tco2e"] == pytest.approx(1200 * 31 / 365)
    assert jan["above"] and jan["excess_tco2e"] == pytest.approx(110 - 1200 * 31 / 365)
    # end of February: 59/365 × 1 200 = 193.97 > 190: back under budget
    assert feb["budget_to_date_tco2e"] == pytest.approx(1200 * 59 / 365) and not feb["above"]
    assert out["status"] == "was_above" and out["above"] == ["2025-01"]
    # a monthly budget: a month of a partial period counts by its days
    assert r._months_budget(100.0, date(2025, 1, 16), date(2025, 3, 1)) == pytest.approx(
        100 * 16 / 31 + 100)
    assert r.alerts(trend, None, date(2025, 1, 1), date(2026, 1, 1))["status"] == "no_target"


def test_diff_says_why():
    meter = {"kind": "meter", "meter": "M1", "quantity": 10.0, "quantity_unit": "t"}
    ncv = {"parameter": "ncv", "value": 20.0, "unit": "GJ/t", "source": "lab", "status":
           "measured", "factor_id": "given"}
    old = entry("A", 1, 100.0, links=[meter], params=[ncv])
    new = entry("A", 1, 110.0, quantity=11.0, links=[{**meter, "quantity": 11.0}],
                params=[{**ncv, "value": 20.0}])
    d = r.source_diff(old, new)
    assert d["status"] == "changed" and d["delta_tco2e"] == 10.0
    assert [w["what"] for w in d["why"]] == ["activity", "activity_link"]
    assert d["why"][1]["link"] == "meter M1" and d["why"][1]["delta"] == 1.0
    same = r.source_diff(old, entry("A", 1, 100.0, links=[meter], params=[ncv]))
    assert same["status"] == "unchanged" and same["why"] == []
    assert r.source_diff(None, new)["status"] == "added"
    assert r.source_diff(old, None)["delta_tco2e"] == -100.0


def test_figure_lookup():
    result = {"totals": r.totals(SOURCES), "sources": SOURCES, **r.breakdowns(SOURCES),
              "trend": [], "alongside": []}
    assert r.figure(result, "scope2")["value"] == 25.0
    assert [s["source"] for s in r.figure(result, "scope2")["sources"]] == ["C", "D"]
    assert r.figure(result, "facility:K")["value"] == 150.0
    assert r.figure(result, "facility:-")["value"] == 25.0
    assert r.figure(result, "gas:CH4")["value"] == 50.0
    assert r.figure(result, "source:A")["lineage"] is SOURCES[0]["lineage"]
    assert r.figure(result, "source:Z") is None and r.figure(result, "moon") is None
