"""Quality and audit: gap spans, findings, revisions, ingest batches."""

from __future__ import annotations

import pytest

from .helpers import make_meter, ok, post_readings, problems


@pytest.fixture
def gappy(client, site):
    """Register read at 00:00, 00:15, then 02:00, 02:15 (local): 00:15 → 02:00 is a gap."""
    m = make_meter(client, "G")
    post_readings(client, [{"meter": "G", "ts": f"2025-01-01T{t}", "value": v}
                           for t, v in (("00:00", 0), ("00:15", 1), ("02:00", 8), ("02:15", 9))])
    return m


def test_gap_span_kept_whole(client, gappy):
    assert ok(client.get(f"/api/meters/{gappy['id']}/gaps")) == [{
        "start": "2024-12-31T16:15:00Z", "end": "2024-12-31T18:00:00Z", "value": 7.0,
        "unit": "kWh", "flags": ["gap"]}]
    assert ok(client.get(f"/api/meters/{gappy['id']}/gaps", params={
        "start": "2025-01-01T03:00", "end": "2025-01-02"})) == []
    hours = ok(client.get(f"/api/meters/{gappy['id']}/rollups", params={
        "grain": "hour", "start": "2025-01-01", "end": "2025-01-01T03:00"}))["points"]
    # only the measured quarters are in the hours; the 7 kWh of the gap is in no hour ...
    assert [(p["period"][11:16], p["partial_value"], p["coverage"]) for p in hours] == [
        ("00:00", 1, 0.25), ("02:00", 1, 0.25)]
    [day] = ok(client.get(f"/api/meters/{gappy['id']}/rollups", params={
        "grain": "day", "start": "2025-01-01", "end": "2025-01-02"}))["points"]
    # ... but the day holds the whole gap: 1 + 7 + 1 over 2 h 15 min
    assert (day["partial_value"], day["flags"]) == (9, ["gap"])
    assert day["coverage"] == pytest.approx(135 / 1440, abs=1e-6)
    intervals = ok(client.get(f"/api/meters/{gappy['id']}/intervals", params={
        "start": "2025-01-01", "end": "2025-01-02"}))
    assert [i["gap"] for i in intervals["intervals"]] == [False, True, False]
    assert [f["rule"] for f in intervals["findings"]] == ["gap"]


def test_quality_events_filters(client, gappy):
    make_meter(client, "H")
    post_readings(client, [{"meter": "H", "ts": f"2025-01-02T{t}", "value": v}
                           for t, v in (("00:00", 5), ("00:15", 6), ("00:30", 3), ("00:45", 4))])
    events = ok(client.get("/api/quality-events"))
    assert [(e["meter"], e["rule"], e["severity"]) for e in events] == [
        ("G", "gap", "warning"), ("H", "register_decrease", "error")]
    assert events[0]["detail"] == {"duration_s": 6300, "value": 7.0}
    assert [e["meter"] for e in ok(client.get("/api/quality-events", params={"meter": "H"}))] \
        == ["H"]
    assert [e["meter"] for e in ok(client.get("/api/quality-events",
                                              params={"rule": "gap"}))] == ["G"]
    assert [e["meter"] for e in ok(client.get("/api/quality-events", params={
        "start": "2025-01-02", "end": "2025-01-03"}))] == ["H"]
    assert ok(client.get("/api/quality-events", params={"limit": 1}))[0]["meter"] == "G"
    assert problems(client.get("/api/quality-events", params={"meter": "NOPE"})) == [
        (None, "meter", "ref_unknown")]
    assert problems(client.get("/api/quality-events", params={"start": "later"})) == [
        (None, "start", "type_datetime")]


def test_revisions_window_and_batches(client, gappy):
    post_readings(client, [{"meter": "G", "ts": "2025-01-01T02:15", "value": 9.5}],
                  source="manual", detail="corrected by hand")
    [rev] = ok(client.get(f"/api/meters/{gappy['id']}/revisions", params={
        "start": "2025-01-01", "end": "2025-01-02"}))
    assert (rev["old_value"], rev["new_value"], rev["old_quality"]) == (9, 9.5, "measured")
    assert ok(client.get(f"/api/meters/{gappy['id']}/revisions", params={"end": "2025-01-01"})) \
        == []
    batches = ok(client.get("/api/ingest-batches"))
    assert [(b["id"], b["source"], b["rows"], b["revised"]) for b in batches] == [
        (2, "manual", 1, 1), (1, "api", 4, 0)]
    assert batches[0]["source_detail"] == "corrected by hand"
    assert problems(client.get("/api/ingest-batches", params={"limit": 5000})) == [
        (None, "limit", "maximum")]
