"""MQTT adapter against the running Mosquitto (127.0.0.1:1883), into SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from tests.collect.mqtt_helpers import Publisher, batch, unique_prefix

T0_MS = 1_767_225_600_000  # 2026-01-01T00:00Z
Q_MS = 900_000


def _adapter(prefix: str, **more) -> dict:
    return {"type": "mqtt", "name": "gw", "topics": [f"{prefix}/#"],
            "client_id": f"nt-test-{uuid.uuid4().hex[:8]}",
            "tags": {"gw01/E1.kwh": "E1", "gw01/E2.wh": {"meter": "E2", "unit": "Wh"},
                     "E3.raw": {"meter": "E3", "scale": 0.5}},
            **more}


@pytest.fixture
def publisher():
    pub = Publisher()
    yield pub
    pub.close()


def _count(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def test_batches_and_single_points_are_stored(engine, site, start_collector, publisher):
    prefix = unique_prefix()
    c = start_collector({"adapters": [_adapter(prefix)]})
    c.wait_until(lambda s: s["adapters"]["gw"]["state"] == "connected")
    publisher.publish(f"{prefix}/gw01/batch", batch(
        [("E1.kwh", T0_MS + i * Q_MS, 100.0 + i) for i in range(8)]
        + [("E2.wh", T0_MS + i * Q_MS, 5000.0 * i) for i in range(8)]))
    publisher.publish(f"{prefix}/gw01/point/E3.raw", {"ts": "2026-01-01T08:00:00+08:00", "v": 42})
    snap = c.wait_until(lambda s: s["totals"]["stored"] >= 17)
    assert snap["totals"]["rejected"] == 0
    assert snap["adapters"]["gw"]["devices"]["gw01"]["stored"] == 17
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT m.code, r.value FROM readings r JOIN meters m ON m.id = r.meter_id "
            "ORDER BY m.code, r.ts")).all()
    e2 = [v for code, v in rows if code == "E2"]
    assert e2 == [5.0 * i for i in range(8)]          # Wh → kWh
    assert [v for code, v in rows if code == "E3"] == [21.0]   # 42 × 0.5
    assert [v for code, v in rows if code == "E1"] == [100.0 + i for i in range(8)]


def test_malformed_payloads_are_dead_lettered_and_the_stream_goes_on(
        engine, site, start_collector, publisher):
    prefix = unique_prefix()
    c = start_collector({"adapters": [_adapter(prefix)]})
    c.wait_until(lambda s: s["adapters"]["gw"]["state"] == "connected")
    publisher.publish(f"{prefix}/gw01/batch", b"{not json")
    publisher.publish(f"{prefix}/gw01/batch", {"points": [
        {"tag": "E1.kwh", "ts": T0_MS, "v": "12.5"},            # wrong type
        {"tag": "NOPE", "ts": T0_MS, "v": 1.0},                 # unknown tag
        {"tag": "E1.kwh", "ts": "yesterday", "v": 1.0},         # impossible timestamp
        {"tag": "E1.kwh", "ts": 86_400_000, "v": 1.0},          # 1970: before any plausible data
        {"tag": "E1.kwh", "ts": T0_MS, "v": 7.0},               # good
    ]})
    publisher.publish(f"{prefix}/gw01/batch", {"no_points": 1})
    publisher.publish(f"{prefix}/gw01/point/E1.kwh", {"ts": T0_MS + Q_MS, "v": 8.0})
    snap = c.wait_until(lambda s: s["totals"]["dead_lettered"] >= 6 and s["totals"]["stored"] >= 2)
    c.stop()
    with engine.connect() as conn:
        reasons = sorted(r for (r,) in conn.execute(text("SELECT reason FROM dead_letters")))
        payloads = dict(conn.execute(text("SELECT reason, payload FROM dead_letters")).all())
    assert reasons == ["dead.bad_shape", "dead.bad_timestamp", "dead.bad_timestamp",
                       "dead.bad_type", "dead.not_json", "dead.unknown_tag"]
    assert bytes(payloads["dead.not_json"]) == b"{not json"
    assert snap["totals"]["stored"] == 2
    assert _count(engine, "SELECT count(*) FROM readings") == 2


def test_redelivered_messages_are_not_stored_twice(engine, site, start_collector, publisher):
    prefix = unique_prefix()
    c = start_collector({"adapters": [_adapter(prefix)]})
    c.wait_until(lambda s: s["adapters"]["gw"]["state"] == "connected")
    payload = batch([("E1.kwh", T0_MS + i * Q_MS, 10.0 + i) for i in range(4)])
    for _ in range(3):
        publisher.publish(f"{prefix}/gw01/batch", payload)
    snap = c.wait_until(lambda s: s["totals"]["stored"] >= 12)
    assert snap["totals"]["duplicates"] == 8
    assert _count(engine, "SELECT count(*) FROM readings") == 4


def test_unknown_adapter_type_and_bad_keys_are_named():
    from nengtan.collect.config import ConfigError, parse

    with pytest.raises(ConfigError) as err:
        parse({"collector": {"name": "x", "flush": {"max_points": "many"}},
               "adapters": [{"type": "carrier-pigeon", "name": "a"},
                            {"type": "mqtt", "name": "b", "port": "x", "colour": 1}]})
    text_ = str(err.value)
    assert "collector.flush.max_points" in text_
    assert "adapters[0] (a).type: unknown adapter type 'carrier-pigeon'" in text_
    assert "adapters[1] (b).port" in text_ and "adapters[1] (b).colour" in text_


def test_points_rejected_at_source_keep_their_reason(engine, site, start_collector, publisher):
    prefix = unique_prefix()
    c = start_collector({"adapters": [_adapter(prefix)]})
    c.wait_until(lambda s: s["adapters"]["gw"]["state"] == "connected")
    publisher.publish(f"{prefix}/gw01/batch", {"points": [
        {"tag": "E1.kwh", "ts": T0_MS, "v": 5.0, "q": "rejected"},
        {"tag": "E1.kwh", "ts": T0_MS + Q_MS, "v": 6.0}]})
    c.wait_until(lambda s: s["totals"]["stored"] >= 2)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT quality, reason FROM readings ORDER BY ts")).all()
    assert [tuple(r) for r in rows] == [(3, "rejected at source (gw)"), (0, None)]
