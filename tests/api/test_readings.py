"""POST /api/readings and the read side: known answers computed by hand.

Meter M1 reads a cumulative register in MWh behind a ×10 current transformer.  Over the local
day 2025-01-01 (Asia/Shanghai) it is read every 15 minutes, 97 readings from 00:00 to 24:00;
in local hour h each quarter adds (h + 1) × 0.0005 MWh.  So each quarter of hour h is
(h + 1) × 0.0005 MWh × 10 × 1000 kWh/MWh = 5 (h + 1) kWh, hour h is 20 (h + 1) kWh, and the
day is 20 × (1 + 2 + … + 24) = 6000 kWh.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from .helpers import created, make_meter, ok, post_readings, problems

DAY = {"start": "2025-01-01", "end": "2025-01-02"}


def day_of_quarters(meter: str = "M1") -> list[dict]:
    rows, register = [], 0  # register in units of 0.0005 MWh, exact integers
    for k in range(97):
        t = datetime(2025, 1, 1) + timedelta(minutes=15 * k)
        rows.append({"meter": meter, "ts": t.isoformat(), "value": 100 + register * 0.0005})
        register += k // 4 + 1
    return rows


@pytest.fixture
def m1(client, site):
    return make_meter(client, "M1", unit="MWh", multiplier=10)


def test_ingest_then_known_rollups(client, m1):
    assert post_readings(client, day_of_quarters()) == {
        "batch_id": 1, "rows": 97, "inserted": 97, "unchanged": 0, "revised": 0, "meters": 1}

    iv = ok(client.get(f"/api/meters/{m1['id']}/intervals", params=DAY))
    assert iv["unit"] == "kWh" and len(iv["intervals"]) == 96
    assert iv["intervals"][0]["start"] == "2024-12-31T16:00:00Z"  # 00:00 in Shanghai
    assert [i["value"] for i in iv["intervals"]] == pytest.approx(
        [5 * (k // 4 + 1) for k in range(96)])
    assert iv["lineage"]["conversion"] == {"meter_unit": "MWh", "carrier_unit": "kWh",
                                           "unit_factor": 1000.0, "multiplier": 10.0}

    hours = ok(client.get(f"/api/meters/{m1['id']}/rollups", params={"grain": "hour", **DAY}))
    assert (hours["unit"], hours["timezone"], len(hours["points"])) == ("kWh", "Asia/Shanghai", 24)
    assert hours["points"][5]["period"] == "2025-01-01T05:00:00+08:00"
    assert [p["value"] for p in hours["points"]] == pytest.approx([20 * (h + 1) for h in range(24)])
    assert all(p["complete"] for p in hours["points"])
    assert hours["summary"]["sum_complete"] == pytest.approx(6000)
    assert hours["lineage"]["rollup_table"] == "rollup_hour"

    days = ok(client.get(f"/api/meters/{m1['id']}/rollups", params={"grain": "day", **DAY}))
    assert [(p["period"], p["complete"]) for p in days["points"]] == [("2025-01-01", True)]
    assert days["points"][0]["value"] == pytest.approx(6000)
    assert days["window"] == DAY

    month = ok(client.get(f"/api/meters/{m1['id']}/rollups", params={
        "grain": "month", "start": "2025-01-01", "end": "2025-02-01"}))["points"][0]
    assert (month["period"], month["value"], month["complete"]) == ("2025-01-01", None, False)
    assert month["partial_value"] == pytest.approx(6000)
    assert month["coverage"] == pytest.approx(1 / 31, abs=1e-6)

    raw = ok(client.get(f"/api/meters/{m1['id']}/readings", params=DAY))
    assert raw["unit"] == "MWh" and len(raw["readings"]) == 96 and not raw["truncated"]
    first = raw["readings"][0]
    assert (first["ts"], first["value"], first["quality"], first["source"], first["batch_id"]) == (
        "2024-12-31T16:00:00Z", 100.0, "measured", "api", 1)
    short = ok(client.get(f"/api/meters/{m1['id']}/readings", params={**DAY, "limit": 2}))
    assert short["truncated"] and len(short["readings"]) == 2

    status = ok(client.get("/api/status"))
    assert (status["nodes"], status["meters"], status["readings"]) == (4, 1, 97)
    assert (status["first_reading"], status["last_reading"]) == ("2024-12-31T16:00:00Z",
                                                                 "2025-01-01T16:00:00Z")
    [batch] = ok(client.get("/api/ingest-batches"))
    assert (batch["source"], batch["rows"], batch["inserted"]) == ("api", 97, 97)


def test_node_rollups_group_meters_by_carrier(client, site, m1):
    post_readings(client, day_of_quarters())
    gas = created(client.post("/api/meters", json={
        "code": "G1", "name_zh": "燃气", "node": "W1", "carrier": "natural_gas", "unit": "m3",
        "register": "interval", "interval_s": 3600}))
    post_readings(client, [{"meter": "G1", "ts": "2025-01-01", "value": 1.2, "unit": "万立方米"}])

    tree = ok(client.get(f"/api/nodes/{site['P']}/rollups", params={"grain": "day", **DAY}))
    by_carrier = {c["carrier"]: c["meters"] for c in tree["carriers"]}
    assert tree["node"] == "P" and tree["subtree"] is True
    assert by_carrier["electricity"][0]["points"][0]["value"] == pytest.approx(6000)
    assert by_carrier["natural_gas"][0]["unit"] == "m3"
    gas_day = by_carrier["natural_gas"][0]["points"][0]  # one hour of the day is known
    assert (gas_day["value"], gas_day["partial_value"]) == (None, pytest.approx(12_000))
    assert gas["id"] == by_carrier["natural_gas"][0]["meter_id"]

    def carriers(node, **params):
        answer = ok(client.get(f"/api/nodes/{site[node]}/rollups",
                               params={"grain": "day", **DAY, **params}))
        return [c["carrier"] for c in answer["carriers"]]

    assert carriers("P", carrier="natural_gas") == ["natural_gas"]
    assert carriers("P", subtree=False) == [] and carriers("S1", subtree=False) == ["electricity"]
    assert carriers("W1") == ["natural_gas"]


def test_repost_is_idempotent_and_a_conflict_keeps_a_revision(client, m1):
    rows = day_of_quarters()
    post_readings(client, rows)
    assert post_readings(client, list(reversed(rows)))["unchanged"] == 97

    changed = {**rows[4], "value": rows[4]["value"] + 0.001}  # the 01:00 register, +0.001 MWh
    result = post_readings(client, [changed], source="gateway-7", detail="re-read")
    assert (result["batch_id"], result["inserted"], result["revised"]) == (3, 0, 1)
    hours = ok(client.get(f"/api/meters/{m1['id']}/rollups", params={"grain": "hour", **DAY}))
    # 0.001 MWh × 10 × 1000 = 10 kWh moves from hour 1 to hour 0; the day is unchanged
    assert [p["value"] for p in hours["points"][:3]] == pytest.approx([30, 30, 60])
    assert hours["summary"]["sum_complete"] == pytest.approx(6000)

    [rev] = ok(client.get(f"/api/meters/{m1['id']}/revisions"))
    assert (rev["ts"], rev["old_batch_id"], rev["new_batch_id"]) == ("2024-12-31T17:00:00Z", 1, 3)
    assert (rev["old_value"], rev["new_value"]) == pytest.approx((rows[4]["value"],
                                                                  changed["value"]))
    raw = ok(client.get(f"/api/meters/{m1['id']}/readings", params={
        "start": "2025-01-01T01:00", "end": "2025-01-01T01:00:01"}))["readings"]
    assert [(r["value"], r["batch_id"], r["source"]) for r in raw] == [
        (pytest.approx(changed["value"]), 3, "gateway-7")]
    assert ok(client.get("/api/ingest-batches", params={"limit": 1}))[0]["source_detail"] \
        == "re-read"


def test_timezones_units_and_quality(client, site):
    created(client.post("/api/nodes", json={"code": "S2", "name_zh": "东京工厂", "kind": "site",
                                            "parent": "E1", "timezone": "Asia/Tokyo"}))
    t1 = make_meter(client, "T1", node="S2", register="interval", interval_s=3600)
    post_readings(client, [{"meter": "T1", "ts": "2025-01-01T09:00", "value": 0.5,
                            "unit": "MWh"}])
    # a time without an offset is read in the meter's site timezone (UTC+9)
    assert post_readings(client, [{"meter": "T1", "ts": "2025-01-01T00:00:00Z", "value": 500}])[
        "unchanged"] == 1
    [reading] = ok(client.get(f"/api/meters/{t1['id']}/readings", params=DAY))["readings"]
    assert (reading["ts"], reading["value"]) == ("2025-01-01T00:00:00Z", 500.0)  # kWh, converted
    [hour] = ok(client.get(f"/api/meters/{t1['id']}/rollups", params={
        "grain": "hour", "start": "2025-01-01T09:00", "end": "2025-01-01T10:00"}))["points"]
    assert (hour["period"], hour["value"]) == ("2025-01-01T09:00:00+09:00", 500)

    post_readings(client, [
        {"meter": "T1", "ts": "2025-01-01T10:00", "value": 7, "quality": "estimated",
         "reason": "meter offline, from the shift log"},
        {"meter": "T1", "ts": "2025-01-01T11:00", "value": 9999, "quality": 3,
         "reason": "spike"}])
    raw = ok(client.get(f"/api/meters/{t1['id']}/readings", params=DAY))["readings"]
    assert [(r["quality"], r["reason"]) for r in raw[1:]] == [
        ("estimated", "meter offline, from the shift log"), ("rejected", "spike")]
    points = ok(client.get(f"/api/meters/{t1['id']}/rollups", params={
        "grain": "hour", "start": "2025-01-01T10:00", "end": "2025-01-01T12:00"}))["points"]
    assert (points[0]["value"], points[0]["flags"]) == (7, ["estimated"])
    assert all(p["value"] is None for p in points[1:])  # the rejected reading counts for nothing


def test_csv_body(client, m1):
    make_meter(client, "U1", register="interval", interval_s=3600)
    body = ("meter,ts,value,unit,quality,reason\n"
            "U1,2025-01-01 00:00,1.5,MWh,manual,read on site\n"
            "\n"
            "U1,2025-01-01T01:00:00+08:00,200,,,\n")
    r = client.post("/api/readings", content=body.encode(), params={"source": "csv-upload"},
                    headers={"content-type": "text/csv; charset=utf-8"})
    assert ok(r)["inserted"] == 2
    raw = ok(client.get("/api/meters/2/readings", params=DAY))["readings"]
    assert [(r["value"], r["quality"], r["reason"], r["source"]) for r in raw] == [
        (1500.0, "manual", "read on site", "csv-upload"), (200.0, "measured", None, "csv-upload")]

    bad = "meter,ts,value\nU1,2025-01-01 02:00,1\nU1,2025-01-01 03:00,x\nNOPE,2025-01-01,1\n"
    r = client.post("/api/readings", content=bad, headers={"content-type": "text/csv"})
    assert problems(r) == [(3, "value", "type_float"), (4, "meter", "ref_unknown")]  # file rows
    r = client.post("/api/readings", content="meter,time,colour\n",
                    headers={"content-type": "text/csv"})
    assert set(problems(r)) == {(1, "time", "header_unknown"), (1, "colour", "header_unknown"),
                                (1, "ts", "header_missing"), (1, "value", "header_missing")}
    r = client.post("/api/readings", content=b"meter,ts,value\n\xff\xfe",
                    headers={"content-type": "text/csv"})
    assert problems(r) == [(None, None, "file_format")]
    assert ok(client.get("/api/status"))["readings"] == 2


def test_every_bad_row_is_reported_and_nothing_is_stored(client, m1):
    created(client.post("/api/meters", json={"code": "V", "name_zh": "v", "node": "S1",
                                             "carrier": "electricity", "unit": "kWh",
                                             "kind": "virtual", "formula": "{M1}"}))
    ts = "2025-01-01T00:15:00+08:00"
    future = (datetime.now(timezone.utc) + timedelta(days=3)).isoformat()
    rows = [
        {"meter": "NOPE", "ts": ts, "value": 1},
        {"meter": "M1", "ts": "soon", "value": 1},
        {"meter": "M1", "ts": ts, "value": "many"},
        {"meter": "M1", "ts": future, "value": 1},
        {"meter": "M1", "ts": ts, "value": float("nan")},
        {"meter": "M1", "ts": ts, "value": 1, "quality": "rejected"},
        {"meter": "M1", "ts": ts, "value": 1, "unit": "m3"},
        {"meter": "M1", "ts": ts, "value": 1, "unit": "furlong"},
        {"meter": "M1", "ts": ts, "value": 1, "quality": "guessed"},
        {"meter": "V", "ts": ts, "value": 1},
        {"meter": "M1", "ts": ts},
        {"meter": "M1", "ts": ts, "value": 1, "colour": "red"},
        "not a reading",
        {"meter": "M1", "ts": "1999-12-31T00:00:00Z", "value": 1},
        {"meter": "M1", "ts": ts, "value": float("inf")},
        {"meter": "M1", "ts": ts, "value": 2},
    ]
    r = client.post("/api/readings", content=json.dumps({"readings": rows}),
                    headers={"content-type": "application/json"})
    assert problems(r) == [
        (0, "meter", "ref_unknown"), (1, "ts", "type_datetime"), (2, "value", "type_float"),
        (3, "ts", "ts_range"), (4, "value", "not_finite"), (5, "reason", "reason_required"),
        (6, "unit", "unit_mismatch"), (7, "unit", "unit_unknown"), (8, "quality", "quality"),
        (9, "meter", "meter_virtual"), (10, "value", "required"), (11, "colour", "unknown_field"),
        (12, None, "type_object"), (13, "ts", "ts_range"), (14, "value", "not_finite")]
    detail = r.json()["detail"]
    assert detail[4]["value"] == "nan" and detail[0]["value"] == "NOPE"
    assert ok(client.get("/api/status"))["readings"] == 0
    assert ok(client.get("/api/ingest-batches")) == []


def test_bad_bodies(client, m1):
    def post(content, ctype="application/json"):
        return client.post("/api/readings", content=content, headers={"content-type": ctype})

    assert problems(post("{not json")) == [(None, None, "type_json")]
    assert problems(post("[1, 2]")) == [(None, None, "type_object")]
    assert problems(post("{}")) == [(None, "readings", "required")]
    assert problems(post('{"readings": 5, "source": 7, "when": 1}')) == [
        (None, "when", "unknown_field"), (None, "source", "type_str"),
        (None, "readings", "type_list")]
    assert problems(post(json.dumps({"readings": [], "source": "x" * 41}))) == [
        (None, "source", "max_length")]
    assert problems(post("meter;ts;value", "application/xml"), 415) == [
        (None, "content-type", "media_type")]
    assert ok(post('{"readings": []}'))["rows"] == 0


def test_bad_queries(client, m1):
    for path in ("readings", "intervals", "revisions", "gaps"):
        assert problems(client.get(f"/api/meters/999/{path}", params=DAY), 404) == [
            (None, "id", "not_found")], path
    assert client.get("/api/meters/999/rollups", params={"grain": "day", **DAY}).status_code == 404
    assert client.get("/api/nodes/999/rollups", params={"grain": "day", **DAY}).status_code == 404
    rollups = f"/api/meters/{m1['id']}/rollups"
    assert problems(client.get(rollups, params={"grain": "week", **DAY})) == [
        (None, "grain", "choice")]
    assert problems(client.get(rollups, params={"grain": "day"})) == [
        (None, "start", "required"), (None, "end", "required")]
    assert problems(client.get(rollups, params={"grain": "hour", "start": "noon",
                                                "end": "2025-13-01"})) == [
        (None, "start", "type_datetime"), (None, "end", "type_datetime")]
    for grain in ("hour", "day"):
        assert problems(client.get(rollups, params={"grain": grain, "start": "2025-01-02",
                                                    "end": "2025-01-01"})) == [
            (None, "end", "period")]
    assert problems(client.get(f"/api/meters/{m1['id']}/readings", params={
        **DAY, "limit": 0})) == [(None, "limit", "minimum")]


def test_daily_interval_reading_fills_its_local_day(client, site):
    make_meter(client, "D1", register="interval", interval_s=86400)
    post_readings(client, [{"meter": "D1", "ts": "2025-01-01", "value": 240}])
    [day] = ok(client.get("/api/meters/1/rollups", params={"grain": "day", **DAY}))["points"]
    assert (day["value"], day["complete"]) == (240, True)
