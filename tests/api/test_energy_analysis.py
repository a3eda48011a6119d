"""GET /api/energy/structure, /api/energy/cost and /api/energy/load-profile."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from .helpers import created, make_meter, ok, post_readings, problems

DAY = "2025-06-10"  # a Tuesday; June has 30 days


@pytest.fixture
def grid(client, site):
    """S1 buys electricity through GRID on a two-band tariff: 10 kWh per quarter hour on
    2025-06-10, 30 kWh in 18:00-18:15."""
    created(client.post("/api/tariffs", json={
        "code": "T1", "name_zh": "分时电价", "carrier": "electricity", "unit": "kWh",
        "valid_from": "2025-01-01", "demand_charge": 40, "source": "test",
        "bands": [{"band": "valley", "price": 0.3}, {"band": "peak", "price": 1.0}],
        "periods": [{"start": "00:00", "end": "08:00", "band": "valley"},
                    {"start": "08:00", "end": "24:00", "band": "peak"}]}))
    make_meter(client, "GRID", register="interval", flow_to="S1", tariff="T1")
    t0 = datetime(2025, 6, 10)
    rows = [{"meter": "GRID", "ts": (t0 + timedelta(minutes=15 * k)).isoformat(),
             "value": 30.0 if k == 72 else 10.0} for k in range(96)]
    post_readings(client, rows)
    return site


def test_cost(client, grid):
    r = ok(client.get("/api/energy/cost", params={"node": "S1", "period": DAY}))
    # valley 00-08: 32 × 10 = 320 kWh × 0.3 = 96; peak 08-24: 64 × 10 + 20 = 660 kWh × 1.0
    # = 660; demand 30 kWh × 4 = 120 kW × 40 CNY/(kW·month) × 1/30 = 160
    assert r["electricity"]["quantity_kwh"] == pytest.approx(980)
    assert {b["band"]: b["quantity"] for b in r["electricity"]["bands"]} == pytest.approx(
        {"peak": 660, "valley": 320})
    assert r["totals"]["energy_cny"] == pytest.approx(756)
    assert r["totals"]["demand_charge_cny"] == pytest.approx(160)
    assert r["totals"]["total_cny"] == pytest.approx(916)
    assert r["meters"][0]["demand"]["start"] == "2025-06-10T18:00:00+08:00"
    assert r["lineage"]["tariffs"][0]["tariff"] == "T1"
    # the same node by id; the park holds the same boundary
    node_id = grid["S1"]
    by_id = ok(client.get("/api/energy/cost", params={"node": str(node_id), "period": DAY}))
    assert by_id["totals"] == r["totals"]
    cap = ok(client.get("/api/energy/cost", params={
        "node": "S1", "period": DAY, "contracted_kva": 400, "basic_charge": "capacity"}))
    # T1 has no capacity rate: not computed, and the demand charge is billed instead
    assert cap["capacity"]["reason"]["code"] == "capacity.no_rate"
    assert cap["totals"]["basic_charge_basis"] == "demand"
    assert cap["totals"]["basis_note"]["code"] == "basis.fallback"


def test_structure(client, grid):
    r = ok(client.get("/api/energy/structure", params={"node": "E1", "period": DAY}))
    # 980 kWh × 0.1229 kgce/kWh = 120.442 kgce
    assert r["total_tce"] == pytest.approx(0.120442) and r["unit"] == "tce"
    assert [(c["carrier"], c["share_pct"]) for c in r["carriers"]] == [("electricity", 100.0)]
    assert [k["node"] for k in r["children"]] == ["S1"]
    assert r["children"][0]["share_of_node_pct"] == pytest.approx(100)
    flat = ok(client.get("/api/energy/structure", params={"node": "E1", "period": DAY,
                                                           "children": "false"}))
    assert "children" not in flat or flat["children"] is None


def test_load_profile(client, grid):
    r = ok(client.get("/api/energy/load-profile", params={"meter": "GRID", "period": DAY,
                                                          "reference_kw": 30}))
    assert r["meter"] == "GRID" and r["unit"] == "kW"
    assert r["peak_kw"] == pytest.approx(60) and r["base_load_kw"] == pytest.approx(40)
    # 5 night hours × (40 − 30) kW = 50 kWh at the valley price 0.3 = 15 CNY
    assert r["waste"]["waste_kwh"] == pytest.approx(50)
    assert r["waste"]["waste_cny"] == pytest.approx(15)
    node = ok(client.get("/api/energy/load-profile", params={"node": "S1", "period": DAY,
                                                             "night": "1-4"}))
    assert node["energy_kwh"] == pytest.approx(980) and node["night_share_pct"] == \
        pytest.approx(100 * 120 / 980)


def test_errors(client, grid):
    both = client.get("/api/energy/load-profile", params={"node": "S1", "meter": "GRID",
                                                          "period": DAY})
    assert problems(both) == [(None, "node", "ea_target")]
    bad = client.get("/api/energy/load-profile", params={"node": "NOPE", "period": "2025-13",
                                                         "night": "x"})
    assert problems(bad) == [(None, "node", "ref_unknown"), (None, "period", "energy_period"),
                             (None, "night", "ea_night")]
    assert problems(client.get("/api/energy/cost", params={
        "node": "S1", "period": DAY, "basic_charge": "both"}))[0][1] == "basic_charge"
    assert problems(client.get("/api/energy/cost", params={
        "node": "S1", "period": DAY, "export_tariff": "NOPE"})) == [
        (None, "export_tariff", "ref_unknown")]
    missing = client.get("/api/energy/structure", params={"node": "S1"})
    assert missing.status_code == 422


def test_documented(client):
    paths = ok(client.get("/openapi.json"))["paths"]
    for path in ("/api/energy/structure", "/api/energy/cost", "/api/energy/load-profile"):
        op = paths[path]["get"]
        assert " / " in op["summary"] and op["description"]
        assert op["tags"] == ["Energy analysis / 能源消费分析"]
