"""Energy query API: /api/energy/query, /drilldown, /realtime, /trace.

The tree and its readings are those of tests/services/test_energy_query.py (hand-computed
values there): S's October 2025 is 56 544 kWh of electricity (59 520 in − 2 976 exported) and
8 928 m3 of natural gas, 17.790528 tce; its workshop W took 23 808 kWh.  The PV tree
(``build_solar``, October 2025) has a PV plant TPV feeding site T: 11 904 kWh generated.
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from nengtan.api import create_app
from nengtan.api.routers import energy_query as router_module
from nengtan.services import meters
from nengtan.store import db
from tests.services.test_energy_query import build_solar, build_tree

from .helpers import ok, problems
from .auth_client import AuthedClient

ROUTES = {("GET", "/api/energy/query"), ("GET", "/api/energy/drilldown"),
          ("GET", "/api/energy/realtime"), ("GET", "/api/energy/trace")}


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    path = tmp_path_factory.mktemp("energy_query_api") / "eq.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    with Session(engine) as s, s.begin():
        meters.seed_carriers(s)
    ids = build_tree(engine)
    with AuthedClient(create_app(engine)) as c:
        yield c, ids
    engine.dispose()


def carrier(fig: dict, code: str) -> dict:
    return next(c for c in fig["carriers"] if c["carrier"] == code)


def test_query_a_month_by_day_with_comparisons(api):
    client, _ = api
    r = ok(client.get("/api/energy/query", params={
        "node": "S", "period": "2025-10", "grain": "day", "compare": "yoy,mom"}))
    assert (r["node"], r["grain"], r["timezone"]) == ("S", "day", "Asia/Shanghai")
    assert len(r["series"]) == 31 and r["compare"] == ["yoy", "mom"]
    total = r["total"]
    assert total["unit"] == "tce" and total["tce"] == pytest.approx(17.790528)
    el = carrier(total, "electricity")
    assert (el["in"], el["out"], el["quantity"], el["unit"]) == (59520, 2976, 56544, "kWh")
    assert el["mom"]["change"] == 14784 and el["yoy"]["change_pct"] == 100
    day = carrier(r["series"][0], "electricity")
    assert day["quantity"] == 1824 and day["mom"]["previous"] == 1392
    assert r["summary"]["en"].startswith("S (Node S), 2025-10: 17.791 tce")
    assert r["lineage"]["coefficients"] and r["lineage"]["boundary"]


def test_query_by_start_and_end_and_sub_day_grains(api):
    client, _ = api
    r = ok(client.get("/api/energy/query", params={
        "node": "S", "start": "2025-11-01T10:00", "end": "2025-11-01T14:00", "grain": "hour",
        "carrier": "electricity"}))
    values = [carrier(f, "electricity")["quantity"] for f in r["series"]]
    # 38 kWh an hour (4 × (10 − 0.5)); readings stop at 12:00: null afterwards, not zero
    assert values == [38, 38, None, None]
    assert [f["complete"] for f in r["series"]] == [True, True, False, False]
    q = ok(client.get("/api/energy/query", params={
        "node": "S", "period": "2025-10-05", "grain": "interval", "carrier": "natural_gas"}))
    assert len(q["series"]) == 96 and carrier(q["series"][0], "natural_gas")["quantity"] == 3


def test_drilldown(api):
    client, _ = api
    r = ok(client.get("/api/energy/drilldown", params={"node": "S", "period": "2025-10",
                                                       "compare": "mom"}))
    (w,) = r["children"]
    assert (w["node"], w["tce"]) == ("W", pytest.approx(2.9260032))
    rest = r["unattributed"]
    assert carrier(rest, "electricity")["quantity"] == 32736
    assert rest["tce"] == pytest.approx(17.790528 - 2.9260032)
    assert rest["label"]["zh-CN"].startswith("未归属到下级节点")
    assert carrier(rest, "electricity")["mom"]["change"] == 8256
    assert w["trace"] == "/api/energy/trace?node=W&start=2025-10-01&end=2025-11-01"


@pytest.fixture(scope="module")
def solar_api(tmp_path_factory):
    path = tmp_path_factory.mktemp("energy_query_solar_api") / "solar.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    with Session(engine) as s, s.begin():
        meters.seed_carriers(s)
    build_solar(engine)
    with AuthedClient(create_app(engine)) as c:
        yield c
    engine.dispose()


def test_pv_plant_and_its_site(solar_api):
    plant = ok(solar_api.get("/api/energy/query", params={"node": "TPV", "period": "2025-10"}))
    pv = carrier(plant["total"], "electricity_pv")
    # generated 11 904 kWh and supplied out 11 904 kWh: the plant nets to zero
    assert (pv["generated"], pv["out"], pv["quantity"], plant["total"]["tce"]) == (
        11904, 11904, 0, 0)
    r = ok(solar_api.get("/api/energy/drilldown", params={"node": "T", "period": "2025-10"}))
    rest = r["unattributed"]
    # −10 416 kWh grid + 11 904 kWh PV: the 1 488 kWh lost on T's busbar, 0.182875 tce
    assert rest["electricity"]["quantity"] == 1488
    assert rest["tce"] == pytest.approx(0.1828752, abs=1e-6)
    assert rest["losses_and_unmetered_tce"] == rest["tce"]
    assert rest.get("generated_by_children") is None


def test_realtime(api):
    client, _ = api
    r = ok(client.get("/api/energy/realtime", params={"node": "S", "carrier": "electricity"}))
    rows = {m["meter"]: m for m in r["meters"]}
    assert set(rows) == {"IN1", "EXP"}
    assert (rows["IN1"]["rate"], rows["IN1"]["rate_unit"]) == (40, "kW")
    # the fixture's readings ended on 1 November 2025: long stale today
    assert rows["IN1"]["status"] == "stale" and rows["IN1"]["age_s"] > 86400
    assert r["net"][0]["rate"] is None


def test_trace_links_lead_to_the_readings(api):
    client, ids = api
    r = ok(client.get("/api/energy/trace", params={
        "node": "S", "carrier": "electricity", "start": "2025-10-01", "end": "2025-11-01"}))
    in1 = next(m for m in r["meters"] if m["meter"] == "IN1")
    assert in1["meter_id"] == ids["IN1"] and in1["quantity"] == 59520
    readings = ok(client.get(in1["links"]["readings"]))["readings"]
    # 2 977 readings from 1 October 00:00 to 1 November 00:00 local, and the one before
    assert len(readings) == 2978
    at = {x["ts"]: x["value"] for x in readings}
    # (register at the end − register at the start) × multiplier 10 = the figure
    assert (at["2025-10-31T16:00:00Z"] - at["2025-09-30T16:00:00Z"]) * 10 == pytest.approx(59520)
    assert {x["batch_id"] for x in readings} == {b["batch_id"] for b in in1["batches"]}
    intervals = ok(client.get(in1["links"]["intervals"]))["intervals"]
    assert sum(x["value"] for x in intervals) == pytest.approx(59520)
    month = ok(client.get(in1["links"]["rollups_month"]))["points"]
    assert [p["value"] for p in month] == [59520]
    days = ok(client.get(in1["links"]["rollups_day"]))["points"]
    assert len(days) == 31 and sum(p["value"] for p in days) == pytest.approx(59520)
    batches = {b["id"] for b in ok(client.get(in1["links"]["ingest_batches"]))}
    assert {b["batch_id"] for b in in1["batches"]} <= batches
    assert r["steps"]["en"].startswith("figure = Σ sign × meter quantity")


@pytest.mark.parametrize("path, params, expected", [
    ("/api/energy/query", {"node": "S"}, (None, "period", "eq_period_or_range")),
    ("/api/energy/query", {"node": "NOPE", "period": "2025"}, (None, "node", "ref_unknown")),
    ("/api/energy/query", {"node": "S", "period": "2025", "carrier": "x"},
     (None, "carrier", "ref_unknown")),
    ("/api/energy/query", {"node": "S", "period": "2025-13"}, (None, "period", "energy_period")),
    ("/api/energy/query", {"node": "S", "period": "2025", "grain": "interval"},
     (None, "grain", "eq_too_long")),
    ("/api/energy/query", {"node": "S", "period": "2025", "compare": "yoy,wow"},
     (None, "compare", "choice")),
    ("/api/energy/query", {"node": "S", "start": "2025-10-01", "end": "nope"},
     (None, "end", "type_datetime")),
    ("/api/energy/drilldown", {"node": "S", "start": "2025-10-01T08:00", "end": "2025-10-02"},
     (None, "start", "eq_dates")),
    ("/api/energy/trace", {"node": "S", "start": "2025-10-02", "end": "2025-10-01"},
     (None, "end", "period")),
])
def test_bad_requests_name_the_parameter(api, path, params, expected):
    client, _ = api
    assert expected in problems(client.get(path, params=params))


def test_routes_are_documented(api):
    client, _ = api
    routes = {(m, r.path) for r in router_module.router.routes for m in r.methods}
    assert routes == ROUTES
    doc = ok(client.get("/openapi.json"))
    for method, path in ROUTES:
        op = doc["paths"][path][method.lower()]
        assert " / " in op["summary"] and op["description"], path
    assert ok(client.get("/docs/openapi-3.0.json"))["paths"]["/api/energy/query"]
