"""GET /api/dashboard on the demo park: every figure equals the endpoint that owns it, and the
caller sees only their own parks and enterprises."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from nengtan.services import dashboard

from .auth_client import client_as


@pytest.fixture(scope="module")
def park(demo_app):
    return client_as(demo_app, "park_admin")


@pytest.fixture(scope="module")
def answer(park):
    r = park.get("/api/dashboard", params={"node": "QLP"})
    assert r.status_code == 200, r.text
    return r.json()


def _ok(r):
    assert r.status_code == 200, r.text
    return r.json()


def test_windows_compare_like_periods():
    w = dashboard.windows(date(2026, 3, 1))  # the 1st: the month to date is all of February
    assert w["month"] == (date(2026, 2, 1), date(2026, 3, 1))
    assert w["month_mom"] == (date(2026, 1, 1), date(2026, 1, 29))  # the same 28 days
    assert w["year"] == (date(2026, 1, 1), date(2026, 3, 1))
    assert w["last_month"] == (date(2026, 2, 1), date(2026, 3, 1))
    w = dashboard.windows(date(2026, 3, 31))  # 30 days of March vs all of February
    assert w["month"] == (date(2026, 3, 1), date(2026, 3, 31))
    assert w["month_mom"] == (date(2026, 2, 1), date(2026, 3, 1))
    w = dashboard.windows(date(2026, 1, 1))  # new year's day: last year's December and year
    assert w["month"] == (date(2025, 12, 1), date(2026, 1, 1))
    assert w["year"] == (date(2025, 1, 1), date(2026, 1, 1))
    months = [w[f"trend{k}"] for k in range(dashboard.TREND_MONTHS)]
    assert months[0] == (date(2025, 1, 1), date(2025, 2, 1))
    assert months[-1] == (date(2025, 12, 1), date(2026, 1, 1))


def test_energy_figures_are_the_energy_query(park, answer):
    k = answer["kpis"]
    month = k["month"]["period"]
    q = _ok(park.get("/api/energy/query", params={
        "node": "QLP", "start": month["start"], "end": month["end"], "compare": "yoy,mom"}))
    assert k["month"]["tce"] == pytest.approx(q["total"]["tce"], rel=1e-9)
    assert k["month"]["yoy"]["previous"] == pytest.approx(q["total"]["yoy"]["previous"],
                                                          rel=1e-9)
    # month-on-month over the same days of the month before
    mom = k["month"]["mom"]["period"]
    prev = _ok(park.get("/api/energy/query", params={
        "node": "QLP", "start": mom["start"], "end": mom["end"]}))
    assert k["month"]["mom"]["previous"] == pytest.approx(prev["total"]["tce"], rel=1e-9)
    assert date.fromisoformat(mom["start"]).day == 1
    year = k["year"]["period"]
    y = _ok(park.get("/api/energy/query", params={
        "node": "QLP", "start": year["start"], "end": year["end"], "compare": "yoy"}))
    assert k["year"]["tce"] == pytest.approx(y["total"]["tce"], rel=1e-9)
    assert k["year"]["yoy"]["change_pct"] == y["total"]["yoy"]["change_pct"]
    electricity = sum(c["quantity"] for c in y["total"]["carriers"]
                      if c["category"] in ("electricity", "renewable_electricity",
                                           "recovered_electricity"))
    assert k["year"]["electricity_kwh"] == pytest.approx(electricity, rel=1e-9)


def test_trend_is_twelve_months_of_the_energy_query(park, answer):
    trend = answer["trend"]
    assert len(trend) == 12
    labels = [m["period"]["label"] for m in trend]
    assert labels == sorted(labels) and len(set(labels)) == 12
    assert trend[-1]["period"]["start"][:7] == answer["kpis"]["month"]["period"]["start"][:7]
    series = _ok(park.get("/api/energy/query", params={
        "node": "QLP", "grain": "month", "start": trend[0]["period"]["start"],
        "end": trend[-1]["period"]["end"]}))["series"]
    assert [m["tce"] for m in trend] == pytest.approx([s["tce"] for s in series], rel=1e-9)
    for m in trend:
        assert sum(c["tce"] or 0 for c in m["carriers"]) == pytest.approx(
            m["tce"], rel=1e-6, abs=1e-6)
    ytd = {c["carrier"]: c["tce"] for c in answer["carriers"]["items"]}
    assert ytd["bituminous_coal"] > ytd["electricity"] > 0  # a cement kiln dominates the park


def test_load_curve_is_24_hours_of_hour_rollups(park, answer):
    load = answer["load"]
    assert len(load["points"]) == 24 and load["unit"] == "kW"
    starts = [p["start"] for p in load["points"]]
    assert starts == sorted(starts)
    day = load["points"][0]["start"][:10]
    hours = _ok(park.get("/api/energy/query", params={
        "node": "QLP", "grain": "hour", "carrier": "electricity",
        "start": load["start"][:19], "end": load["end"][:19]}))["series"]
    assert len(hours) == 24 and day
    # the grid electricity alone is part of the load (PV adds to it)
    for point, hour in zip(load["points"], hours):
        assert point["kw"] >= (hour["carriers"][0]["quantity"] or 0) - 1e-6


def test_top_consumers_are_the_drilldown(park):
    cem = _ok(park.get("/api/dashboard", params={"node": "CEM"}))
    top = cem["top"]
    # the cement company has one site: its workshops are shown
    assert top["node"] == "CEM-S1"
    d = _ok(park.get("/api/energy/drilldown", params={
        "node": "CEM-S1", "start": top["period"]["start"], "end": top["period"]["end"]}))
    expected = sorted((c for c in d["children"] if c["tce"] is not None),
                      key=lambda c: -c["tce"])[:dashboard.TOP]
    assert [c["node"] for c in top["items"]] == [c["node"] for c in expected]
    assert [c["tce"] for c in top["items"]] == pytest.approx([c["tce"] for c in expected])
    assert top["items"][0]["node"] == "CEM-KL"  # the kiln


def test_carbon_is_the_latest_inventory(park, answer):
    cem = _ok(park.get("/api/dashboard", params={"node": "CEM"}))["kpis"]["carbon"]
    inv = _ok(park.get(f"/api/inventories/{cem['inventory_id']}"))
    assert cem["source"] == "inventory" and cem["status"] == "locked"
    assert cem["total_tco2e"] == pytest.approx(inv["locked_version"]["total_tco2e"])
    assert cem["version"] == inv["locked_version"]["version"]
    whole = answer["kpis"]["carbon"]
    assert whole["source"] == "park_inventory"
    p = _ok(park.get("/api/carbon/park-inventory", params={"park": "QLP",
                                                           "period": whole["period"]}))
    assert whole["total_tco2e"] == pytest.approx(p["total_tco2e"], rel=1e-9)


def test_intensity_sankey_and_benchmarks_of_the_last_month(park, answer):
    last = answer["periods"]["last_month"]
    label = last["start"][:7]
    i = _ok(park.get("/api/energy/intensity", params={"node": "QLP", "period": label}))
    assert answer["kpis"]["intensity"]["tce_per_10k_cny_output"] == pytest.approx(
        i["tce_per_10k_cny_output"], rel=1e-9)
    s = _ok(park.get("/api/energy/sankey", params={"node": "QLP", "period": label,
                                                   "depth": 2}))
    assert len(answer["sankey"]["links"]) == len(s["links"]) > 0
    assert {n["id"] for n in answer["sankey"]["nodes"]} == {n["id"] for n in s["nodes"]}
    lines = answer["benchmarks"]["lines"]
    assert any(x["enterprise"] == "CEM" and x["product"] == "CLINKER" for x in lines)
    gaps = [x["gap_to_best_pct"] for x in lines if x["gap_to_best_pct"] is not None]
    assert gaps == sorted(gaps, reverse=True)  # the largest gap first
    cem = _ok(park.get("/api/dashboard", params={"node": "CEM"}))["benchmarks"]["lines"]
    compare = _ok(park.get("/api/benchmarks/compare", params={
        "node": "CEM", "product": "CLINKER", "period": label}))
    assert {x["benchmark"] for x in cem} == {c["benchmark"] for c in compare["comparisons"]}
    assert all(x["position_zh"] and x["position_en"] for x in cem)


def test_alerts_name_findings_targets_and_silent_meters(park, answer):
    a = answer["alerts"]
    kinds = {x["kind"] for x in a["items"]}
    assert "quality" in kinds
    items = _ok(park.get("/api/quality/findings", params={"status": "open", "origin": "all",
                                                          "limit": 10_000}))
    assert a["quality_open"] == len(items)  # the park sees every meter
    severities = [x["severity"] for x in a["items"]]
    order = {"error": 0, "warning": 1, "info": 2}
    assert severities == sorted(severities, key=order.get)
    realtime = _ok(park.get("/api/energy/realtime", params={"node": "QLP"}))
    silent = [m for m in realtime["meters"] if m["status"] in ("stale", "no_data")]
    assert a["stale_meters"] == len(silent)
    tex = _ok(park.get("/api/dashboard", params={"node": "TEX", "lang": "en"}))["alerts"]
    target = [x for x in tex["items"] if x["kind"] == "target"]
    assert target and "above its target" in target[0]["message"]  # demo: TEX over target
    zh = _ok(park.get("/api/dashboard", params={"node": "TEX"}))["alerts"]
    assert "目标" in next(x for x in zh["items"] if x["kind"] == "target")["message"]


def test_access_follows_the_grants(demo_app):
    cement = client_as(demo_app, "cement_manager")
    mine = _ok(cement.get("/api/dashboard"))
    assert mine["node"] == "CEM"  # the default: the top of the caller's scope
    for other in ("TEX", "QLP"):  # another tenant's enterprise, the park: not found
        r = cement.get("/api/dashboard", params={"node": other})
        assert r.status_code == 404 and other in r.text
    assert cement.get("/api/dashboard", params={"node": "NOPE"}).status_code == 422
    assert client_as(demo_app, None).get("/api/dashboard").status_code == 401
    assert client_as(demo_app, "sysadmin").get("/api/dashboard").status_code == 403
    site = cement.get("/api/dashboard", params={"node": "CEM-S1"})
    assert site.status_code == 422  # a dashboard is for a park or an enterprise


def test_today_runs_from_local_midnight(demo_app):
    with Session(demo_app.state.engine) as s:
        conn = s.connection()
        node = dashboard.eq.ed.node_row(conn, 12)
        assert node.code == "CEM"
        from datetime import datetime
        from zoneinfo import ZoneInfo

        # 00:30 on the 2nd in Shanghai is still the 1st in UTC
        now = datetime(2026, 6, 2, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
        out = dashboard.dashboard(conn, 12, now=now)
    assert out["today"] == "2026-06-02"
    assert out["kpis"]["month"]["period"]["start"] == "2026-06-01"
    assert out["kpis"]["month"]["period"]["end"] == "2026-06-02"
    assert out["periods"]["last_month"] == {"start": "2026-05-01", "end": "2026-06-01"}
    assert date.fromisoformat(out["load"]["end"][:10]) <= date(2026, 6, 2) + timedelta(days=1)


def test_parts_leave_out_what_a_screen_does_not_show(park):
    small = _ok(park.get("/api/dashboard", params={"node": "CEM", "parts": "alerts,carbon"}))
    assert small["parts"] == ["carbon", "alerts"]
    assert "sankey" not in small and "top" not in small and "load" not in small
    assert "intensity" not in small["kpis"] and small["kpis"]["carbon"]["total_tco2e"] > 0
    assert len(small["trend"]) == 12  # the energy figures are always there
    r = park.get("/api/dashboard", params={"node": "CEM", "parts": "alerts,weather"})
    assert r.status_code == 422 and "weather" in r.text


def test_kept_coefficients_follow_a_new_parameter(park):
    """The coefficient libraries kept between requests are keyed by the content of their
    inputs: a new parameter is used at once, exactly as the energy query uses it."""
    before = _ok(park.get("/api/dashboard", params={"node": "CEM", "parts": "alerts"}))
    year = before["kpis"]["year"]["period"]
    diesel = next(c for c in before["carriers"]["items"] if c["carrier"] == "diesel")
    assert diesel["quantity"] > 0
    r = park.post("/api/energy/parameters", json={
        "kind": "coefficient", "carrier": "diesel", "tenant": "CEM", "value": 1600.0,
        "unit": "kgce/t", "valid_from": f"{date.fromisoformat(year['start']).year - 2}-01-01",
        "source": "test: a lab value for diesel"})
    assert r.status_code == 201, r.text
    after = _ok(park.get("/api/dashboard", params={"node": "CEM", "parts": "alerts"}))
    q = _ok(park.get("/api/energy/query", params={"node": "CEM", "start": year["start"],
                                                  "end": year["end"]}))
    assert after["kpis"]["year"]["tce"] == pytest.approx(q["total"]["tce"], rel=1e-12)
    moved = diesel["quantity"] * (1600.0 - diesel["tce"] * 1000 / diesel["quantity"]) / 1000
    assert after["kpis"]["year"]["tce"] - before["kpis"]["year"]["tce"] == pytest.approx(
        moved, rel=1e-6)


def test_an_answer_is_kept_until_a_write(park):
    """Screens watching the same node share one answer for ``max_age_s`` (the time it was read
    is ``now``); any write through the API makes the next answer be read afresh."""
    ask = {"node": "TEX", "parts": "alerts"}
    first = _ok(park.get("/api/dashboard", params=ask))
    assert first["max_age_s"] == 30
    assert _ok(park.get("/api/dashboard", params=ask))["now"] == first["now"]
    assert _ok(park.get("/api/dashboard", params={**ask, "lang": "en"}))["now"] != first["now"]
    r = park.post("/api/energy/parameters", json={"kind": "coefficient"})  # refused: no change
    assert r.status_code == 422
    assert _ok(park.get("/api/dashboard", params=ask))["now"] != first["now"]

