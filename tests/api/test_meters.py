"""/api/meters and /api/meter-events: CRUD, filters, computational changes, every rule."""

from __future__ import annotations

import pytest

from .helpers import created, make_meter, ok, post_readings, problems


def _hour(client, meter_id: int, start="2025-01-01T00:00", end="2025-01-01T01:00") -> dict:
    return ok(client.get(f"/api/meters/{meter_id}/rollups",
                         params={"grain": "hour", "start": start, "end": end}))["points"][0]


def test_create_get_list_filter(client, site):
    m1 = make_meter(client, "M1", unit="MWh", multiplier=40, level=1, serial_no="SN-1",
                    installed_on="2024-06-01")
    assert (m1["node"], m1["node_id"], m1["tenant_id"]) == ("S1", site["S1"], site["E1"])
    assert (m1["carrier"], m1["unit"], m1["multiplier"], m1["level"]) == ("electricity", "MWh",
                                                                          40.0, 1)
    assert (m1["register"], m1["interval_s"], m1["installed_on"]) == ("cumulative", 900,
                                                                      "2024-06-01")
    make_meter(client, "M2", node="W1", register="interval", interval_s=3600)
    created(client.post("/api/meters", json={"code": "G1", "name_zh": "燃气", "node": "W1",
                                             "carrier": "natural_gas", "unit": "万立方米",
                                             "level": 2}))
    assert ok(client.get(f"/api/meters/{m1['id']}"))["serial_no"] == "SN-1"

    def codes(**params):
        return [m["code"] for m in ok(client.get("/api/meters", params=params))["items"]]

    assert codes() == ["G1", "M1", "M2"]
    assert codes(node="S1") == ["M1"] and codes(node="S1", subtree=True) == ["G1", "M1", "M2"]
    assert codes(carrier="natural_gas") == ["G1"] and codes(level=1) == ["M1"]
    assert codes(register="interval") == ["M2"] and codes(kind="physical", limit=1) == ["G1"]
    assert ok(client.get("/api/meters/" + str(m1["id"])))["flow_to"] is None
    assert ok(client.get("/api/meters", params={"carrier": "natural_gas"}))["items"][0]["unit"] \
        == "10^4 m3"


def test_patch_multiplier_recomputes_rollups(client, site):
    m = make_meter(client, "M1", register="interval", interval_s=3600)
    post_readings(client, [{"meter": "M1", "ts": "2025-01-01T00:00:00", "value": 12.5}])
    assert _hour(client, m["id"])["value"] == pytest.approx(12.5)
    assert ok(client.patch(f"/api/meters/{m['id']}", json={"multiplier": 4}))["multiplier"] == 4
    assert _hour(client, m["id"])["value"] == pytest.approx(50.0)
    changed = ok(client.patch(f"/api/meters/{m['id']}", json={"unit": "MWh", "active": False}))
    assert (changed["unit"], changed["active"]) == ("MWh", False)
    assert _hour(client, m["id"])["value"] == pytest.approx(50_000.0)  # 12.5 MWh × 4 in kWh


def test_virtual_meter(client, site):
    a = make_meter(client, "A", register="interval", interval_s=3600)
    b = make_meter(client, "B", register="interval", interval_s=3600, unit="MWh")
    v = created(client.post("/api/meters", json={"code": "V", "name_zh": "差值", "node": "S1",
                                                 "carrier": "electricity", "unit": "kWh",
                                                 "kind": "virtual", "formula": "{A} - 0.5*{B}"}))
    post_readings(client, [{"meter": "A", "ts": "2025-01-01T00:00", "value": 100},
                           {"meter": "B", "ts": "2025-01-01T00:00", "value": 0.03}])
    assert _hour(client, v["id"])["value"] == pytest.approx(100 - 0.5 * 30)
    assert problems(client.delete(f"/api/meters/{a['id']}")) == [
        (None, "id", "has_readings"), (None, "id", "used_in_formula")]
    assert b["id"] != v["id"]


def test_invalid_meters(client, site):
    make_meter(client, "M1")
    r = client.post("/api/meters", json={"code": "M1", "name_zh": "x", "node": "NOPE",
                                         "carrier": "electricity", "unit": "m3"})
    assert set(problems(r)) == {(None, "code", "duplicate"), (None, "node", "ref_unknown"),
                                (None, "unit", "unit_mismatch")}
    r = client.post("/api/meters", json={"code": "M2", "name_zh": "x", "node": "S1",
                                         "carrier": "plasma", "unit": "kWh"})
    assert problems(r) == [(None, "carrier", "ref_unknown")]
    r = client.post("/api/meters", json={"code": "M2", "name_zh": "x", "node": "S1",
                                         "carrier": "electricity", "unit": "furlong", "level": 5,
                                         "multiplier": 0, "kind": "imaginary", "interval_s": 1.5})
    assert set(problems(r)) == {(None, "unit", "unit_unknown"), (None, "level", "maximum"),
                                (None, "multiplier", "exclusive_minimum"),
                                (None, "kind", "choice"), (None, "interval_s", "type_int")}
    base = {"code": "V", "name_zh": "v", "node": "S1", "carrier": "electricity", "unit": "kWh"}
    for extra, expected in (
            ({"kind": "virtual", "formula": "{M1} +"}, [(None, "formula", "formula")]),
            ({"kind": "virtual", "formula": "{M1} + {ZZ}"}, [(None, "formula", "ref_unknown")]),
            ({"kind": "virtual"}, [(None, "formula", "required")]),
            ({"formula": "{M1}"}, [(None, "formula", "formula_not_virtual")]),
            ({"installed_on": "2025-02-01", "removed_on": "2025-01-01"},
             [(None, "removed_on", "date_order")]),
            ({"installed_on": "first of may"}, [(None, "installed_on", "type_date")])):
        assert problems(client.post("/api/meters", json={**base, **extra})) == expected, extra
    gas = created(client.post("/api/meters", json={**base, "code": "G", "carrier": "natural_gas",
                                                   "unit": "m3"}))
    r = client.post("/api/meters", json={**base, "kind": "virtual", "formula": "{M1} + {G}"})
    assert problems(r) == [(None, "formula", "unit_mismatch")]  # m3 of gas is not energy
    assert problems(client.patch(f"/api/meters/{gas['id']}", json={"unit": "kWh"})) == [
        (None, "unit", "unit_mismatch")]
    assert ok(client.get("/api/meters"))["total"] == 2


def test_delete_and_unknown_ids(client, site):
    m = make_meter(client, "M1")
    assert client.delete(f"/api/meters/{m['id']}").status_code == 204
    for r in (client.get(f"/api/meters/{m['id']}"), client.delete(f"/api/meters/{m['id']}"),
              client.patch("/api/meters/999", json={"name_zh": "x"})):
        assert problems(r, 404) == [(None, "id", "not_found")]
    assert problems(client.get("/api/meters", params={"node": "NOPE"})) == [
        (None, "node", "ref_unknown")]
    assert problems(client.get("/api/meters", params={"level": 4})) == [(None, "level", "maximum")]


def test_reset_event_changes_values_and_can_be_deleted(client, site):
    m = make_meter(client, "R1")
    post_readings(client, [{"meter": "R1", "ts": f"2025-01-01T{t}", "value": v} for t, v in (
        ("00:00", 100), ("00:15", 110), ("00:30", 5), ("00:45", 15), ("01:00", 25))])
    before = _hour(client, m["id"])
    # the unexplained decrease 110 → 5 is excluded: three of four quarters are known
    assert (before["value"], before["partial_value"], before["coverage"]) == (None, 30, 0.75)
    rules = [e["rule"] for e in ok(client.get("/api/quality-events", params={"meter": "R1"}))]
    assert "register_decrease" in rules

    ev = created(client.post("/api/meter-events", json={
        "meter": "R1", "ts": "2025-01-01T00:20:00", "kind": "reset", "old_final_value": 112,
        "new_initial_value": 0, "note": "register replaced"}))
    assert (ev["meter"], ev["ts"], ev["kind"]) == ("R1", "2024-12-31T16:20:00Z", "reset")
    # (112 − 110) + (5 − 0) = 7 for the quarter with the reset: 10 + 7 + 10 + 10
    assert _hour(client, m["id"])["value"] == pytest.approx(37)
    assert ok(client.get(f"/api/meter-events/{ev['id']}"))["old_final_value"] == 112
    listed = ok(client.get("/api/meter-events", params={"meter": "R1"}))
    assert [e["id"] for e in listed["items"]] == [ev["id"]] and listed["total"] == 1

    assert client.delete(f"/api/meter-events/{ev['id']}").status_code == 204
    assert _hour(client, m["id"])["partial_value"] == pytest.approx(30)
    assert problems(client.delete(f"/api/meter-events/{ev['id']}"), 404) == [
        (None, "id", "not_found")]
    assert client.get(f"/api/meter-events/{ev['id']}").status_code == 404


def test_multiplier_change_event(client, site):
    m = make_meter(client, "R1")
    post_readings(client, [{"meter": "R1", "ts": f"2025-01-01T00:{mm:02d}", "value": v}
                           for mm, v in ((0, 0), (15, 1), (30, 2), (45, 3))]
                  + [{"meter": "R1", "ts": "2025-01-01T01:00", "value": 4}])
    assert _hour(client, m["id"])["value"] == pytest.approx(4)
    created(client.post("/api/meter-events", json={"meter": "R1", "ts": "2025-01-01T00:30",
                                                   "kind": "multiplier_change",
                                                   "new_multiplier": 10}))
    assert _hour(client, m["id"])["value"] == pytest.approx(1 + 1 + 10 + 10)


def test_invalid_events(client, site):
    make_meter(client, "I1", register="interval")
    make_meter(client, "C1")
    created(client.post("/api/meters", json={"code": "V", "name_zh": "v", "node": "S1",
                                             "carrier": "electricity", "unit": "kWh",
                                             "kind": "virtual", "formula": "{C1}"}))
    ts = "2025-01-01T00:20:00+08:00"
    for body, expected in (
            ({"meter": "NOPE", "ts": ts, "kind": "reset"}, [(None, "meter", "ref_unknown")]),
            ({"meter": "C1", "ts": ts, "kind": "multiplier_change"},
             [(None, "new_multiplier", "required")]),
            ({"meter": "I1", "ts": ts, "kind": "reset"}, [(None, "kind", "event_register")]),
            ({"meter": "V", "ts": ts, "kind": "multiplier_change", "new_multiplier": 2},
             [(None, "meter", "meter_virtual")]),
            ({"meter": "C1", "ts": "yesterday", "kind": "explode"},
             [(None, "ts", "type_datetime"), (None, "kind", "choice")])):
        assert problems(client.post("/api/meter-events", json=body)) == expected, body
    assert ok(client.get("/api/meter-events"))["total"] == 0
    assert problems(client.get("/api/meter-events", params={"meter": "NOPE"})) == [
        (None, "meter", "ref_unknown")]
