"""Quality rules through the API: CRUD with 422/404, runs, findings and their status,
completeness and balance, and checks of incoming readings."""

from __future__ import annotations

import pytest

from .helpers import created, make_meter, ok, post_readings, problems


def quarters(meter: str, day: str, values) -> list[dict]:
    return [{"meter": meter, "ts": f"{day}T{k // 4:02d}:{k % 4 * 15:02d}", "value": v}
            for k, v in enumerate(values) if v is not None]


@pytest.fixture
def feeders(client, site):
    """Interval meters on S1: P with sub-meters C1 and C2, on 2025-01-01 and -02.
    P: 10 kWh per quarter hour; C1: 6; C2: 3.8 on day 1, 3.5 on day 2 minus one quarter."""
    for code, parent in (("P", None), ("C1", "P"), ("C2", "P")):
        make_meter(client, code, register="interval", parent_meter=parent)
    rows = []
    for day, c2 in (("2025-01-01", [3.8] * 96), ("2025-01-02", [3.5] * 95 + [None])):
        rows += quarters("P", day, [10.0] * 96) + quarters("C1", day, [6.0] * 96)
        rows += quarters("C2", day, c2)
    post_readings(client, rows)


def test_rule_crud(client, feeders):
    rule = created(client.post("/api/quality/rules", json={
        "name": "P 日平衡", "kind": "balance", "meter": "P", "severity": "error",
        "params": {"tolerance_pct": 3}}))
    assert (rule["meter"], rule["node"], rule["kind"], rule["enabled"]) == ("P", None,
                                                                           "balance", True)
    assert rule["params"] == {"period": "day", "tolerance_pct": 3.0, "min_abs": 0.0}
    assert ok(client.get(f"/api/quality/rules/{rule['id']}"))["name"] == "P 日平衡"
    node_rule = created(client.post("/api/quality/rules", json={
        "kind": "missing", "node": "E1", "carrier": "electricity",
        "params": {"max_gap_s": 3600}}))
    page = ok(client.get("/api/quality/rules", params={"kind": "missing"}))
    assert page["total"] == 1 and page["items"][0]["node"] == "E1"
    assert ok(client.get("/api/quality/rules", params={"meter": "P"}))["total"] == 1
    changed = ok(client.patch(f"/api/quality/rules/{node_rule['id']}",
                              json={"enabled": False, "params": {"max_gap_s": 7200}}))
    assert (changed["enabled"], changed["params"]) == (False, {"max_gap_s": 7200})
    assert ok(client.get("/api/quality/rules", params={"enabled": True}))["total"] == 1
    assert client.delete(f"/api/quality/rules/{node_rule['id']}").status_code == 204
    assert problems(client.get(f"/api/quality/rules/{node_rule['id']}"), 404) == [
        (None, "id", "not_found")]


def test_invalid_rules_are_422_naming_field_and_rule(client, feeders):
    assert problems(client.post("/api/quality/rules", json={
        "kind": "range", "meter": "C1", "node": "S1", "params": {"min": 3, "max": 1}})) == [
        (None, "meter", "qr_scope"), (None, "params.max", "qr_range_order")]
    assert problems(client.post("/api/quality/rules", json={
        "kind": "balance", "meter": "C1", "params": {"tolerance_pct": 0}})) == [
        (None, "params.tolerance_pct", "exclusive_minimum")]
    r = client.post("/api/quality/rules", json={"kind": "balance", "meter": "C1",
                                                "params": {"tolerance_pct": 2}},
                    headers={"Accept-Language": "en"})
    assert problems(r) == [(None, "meter", "qr_balance_children")]
    assert "no sub-meters" in r.json()["detail"][0]["message"]
    assert "下级表计" in r.json()["detail"][0]["message_zh"]
    assert problems(client.post("/api/quality/rules", json={"kind": "range"})) == [
        (None, "node", "qr_scope"), (None, "params", "qr_range_bounds")]
    assert problems(client.patch("/api/quality/rules/999", json={"enabled": False}),
                    404) == [(None, "id", "not_found")]
    assert ok(client.get("/api/quality/rules"))["total"] == 0


def test_run_findings_acknowledge_and_balance(client, feeders):
    created(client.post("/api/quality/rules", json={
        "kind": "balance", "meter": "P", "params": {"tolerance_pct": 3, "period": "day"}}))
    created(client.post("/api/quality/rules", json={
        "kind": "missing", "meter": "C2", "params": {"max_gap_s": 1800}}))
    result = ok(client.post("/api/quality/run", json={"start": "2025-01-01",
                                                      "end": "2025-01-03"}))
    # day 1: 960 − (576 + 364.8) = 19.2 → 2 %: ok.  Day 2: C2 lacks 23:45: not assessable.
    # C2's last reading is 23:30 on day 2: silent since then (until now), more than 30 min.
    assert (result["checks"], result["inserted"], result["not_assessable_periods"]) == (2, 1, 1)
    [finding] = ok(client.get("/api/quality/findings"))
    assert (finding["meter"], finding["rule"], finding["status"]) == ("C2", "missing", "open")
    assert finding["start"] == "2025-01-02T15:30:00Z" and finding["detail"]["open_end"]

    bal = ok(client.get("/api/quality/balance", params={
        "meter": "P", "start": "2025-01-01", "end": "2025-01-03"}))
    assert bal["tolerance_pct"] == 3.0  # from the rule
    assert [(p["period"], p["status"], p["incomplete"]) for p in bal["points"]] == [
        ("2025-01-01", "ok", []), ("2025-01-02", "not_assessable", ["C2"])]
    assert bal["points"][0]["pct"] == pytest.approx(2.0)
    assert bal["points"][0]["children_sum"] == pytest.approx(940.8)
    strict = ok(client.get("/api/quality/balance", params={
        "meter": "P", "start": "2025-01-01", "end": "2025-01-02", "tolerance_pct": 1}))
    assert strict["points"][0]["status"] == "imbalance"
    assert strict["points"][0]["higher"] == "parent"

    acked = ok(client.patch(f"/api/quality-events/{finding['id']}", json={
        "status": "acknowledged", "comment": "网关停电"}))
    assert acked["status"] == "acknowledged"
    assert acked["detail"]["history"][0]["comment"] == "网关停电"
    again = ok(client.post("/api/quality/run", json={"start": "2025-01-01",
                                                     "end": "2025-01-03", "meters": ["C2"]}))
    assert (again["inserted"], again["kept_acknowledged"]) == (0, 1)
    assert ok(client.get("/api/quality/findings", params={"status": "open"})) == []
    assert len(ok(client.get("/api/quality/findings", params={"status": "acknowledged"}))) == 1
    assert problems(client.patch(f"/api/quality-events/{finding['id']}",
                                 json={"status": "done"})) == [(None, "status", "choice")]
    assert problems(client.patch("/api/quality-events/12345", json={"status": "closed"}),
                    404) == [(None, "id", "not_found")]
    assert problems(client.post("/api/quality/run", json={
        "start": "2025-01-01", "end": "2025-01-03", "meters": ["C2", "NOPE"],
        "rules": [999]})) == [(1, "meters", "ref_unknown"), (0, "rules", "qr_rule_unknown")]
    assert problems(client.post("/api/quality/run", json={
        "start": "2025-01-01", "end": "2025-01-03", "meter": "C2"})) == [
        (None, "meter", "unknown_field")]
    assert problems(client.post("/api/quality/run", json={"start": "2025-01-02",
                                                          "end": "2025-01-01"})) == [
        (None, "end", "period")]


def test_incoming_readings_are_checked(client, feeders):
    created(client.post("/api/quality/rules", json={
        "kind": "range", "node": "S1", "params": {"max": 50}, "severity": "error"}))
    post_readings(client, quarters("C1", "2025-01-03", [6.0, 80.0, 6.0] + [None] * 9 + [6.0]))
    [f] = ok(client.get("/api/quality/findings"))
    assert (f["meter"], f["rule"], f["severity"], f["detail"]["measured"]) == ("C1", "range",
                                                                              "error", 80.0)
    # the pipeline's own finding (the gap 00:45-03:00) is listed apart, or with origin=all
    [gap] = ok(client.get("/api/quality/findings", params={"origin": "pipeline"}))
    assert (gap["rule"], gap["start"], gap["end"]) == ("gap", "2025-01-02T16:45:00Z",
                                                       "2025-01-02T19:00:00Z")
    assert [e["origin"] for e in ok(client.get("/api/quality/findings", params={
        "origin": "all"}))] == ["rules", "pipeline"]


def test_completeness(client, feeders):
    make_meter(client, "V", kind="virtual", formula="{P} - {C1}")
    c2 = ok(client.get("/api/quality/completeness", params={
        "meter": "C2", "start": "2025-01-01", "end": "2025-01-03"}))
    # C2: 96 of 96 quarter hours on day 1, 95 of 96 on day 2 (98.958 %)
    assert [(p["period"], p["present"], p["pct"]) for p in c2["points"]] == [
        ("2025-01-01", 96.0, 100.0), ("2025-01-02", 95.0, 98.958)]
    node = ok(client.get("/api/quality/completeness", params={
        "node": "S1", "start": "2025-01-01", "end": "2025-01-03", "period": "month"}))
    # P, C1, C2 (not the virtual V), the month cut to the window: 3 × 2 × 96 = 576 expected,
    # 575 present (99.826 %)
    assert [(p["period"], p["expected"], p["present"], p["pct"]) for p in node["points"]] == [
        ("2025-01", 576.0, 575.0, 99.826)]
    assert node["excluded_virtual"] == ["V"]
    assert problems(client.get("/api/quality/completeness", params={
        "start": "2025-01-01", "end": "2025-01-02"})) == [(None, "meter", "qr_scope")]
    assert problems(client.get("/api/quality/completeness", params={
        "meter": "C2", "start": "2025-01-01", "end": "2025-01-02", "period": "week"})) == [
        (None, "period", "choice")]
