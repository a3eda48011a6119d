"""Zero loss, zero duplicates: SIGKILL of the collector mid-stream, and a broker restart.

Both run on PostgreSQL.  The SIGKILL test uses the machine's Mosquitto (127.0.0.1:1883); the
broker-restart test starts a Mosquitto of its own (same binary, persistence on, like the
machine's) on a free port, because restarting the shared broker would disturb every other
test running at the same time.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text

from nengtan.store import db
from tests.collect.conftest import free_port
from tests.collect.mqtt_helpers import Publisher, batch, unique_prefix

T0_MS = 1_767_225_600_000  # 2026-01-01T00:00Z
STEP_MS = 60_000
METERS = ("E1", "E2", "E3", "E4")
NENGTAN = str(Path(sys.executable).with_name("nengtan"))


def _messages(n_messages: int, per_message: int, first: int = 0) -> list[dict]:
    """Messages whose points are all distinct (meter, ts) with the value = the step number."""
    out = []
    for m in range(first, first + n_messages):
        pts = []
        for j in range(per_message):
            k = m * per_message + j
            meter = METERS[k % 4]
            step = k // 4
            pts.append((f"{meter}.kwh", T0_MS + step * STEP_MS, float(step)))
        out.append(batch(pts))
    return out


def _stored(engine) -> tuple[int, int]:
    return db.reading_counts(engine)


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"{what} within {timeout} s")


def _health(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
            return json.loads(r.read())
    except OSError:
        return None


def _config(tmp_path: Path, engine, prefix: str, client_id: str, health: int,
            broker_port: int = 1883) -> Path:
    cfg = {
        "collector": {"name": "kill-test",
                      "database": engine.url.render_as_string(hide_password=False),
                      "health": {"port": health}, "flush": {"max_delay_s": 0.05,
                                                            "max_points": 400},
                      "backoff": {"initial_s": 0.2, "max_s": 1.0}},
        "adapters": [{"type": "mqtt", "name": "gw", "port": broker_port, "client_id": client_id,
                      "topics": [f"{prefix}/#"], "tags": {f"{m}.kwh": m for m in METERS}}],
    }
    path = tmp_path / "collect.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _start(path: Path, health: int, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen([NENGTAN, "collect", "--config", str(path)],
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)
    _wait(lambda: (_health(health) or {}).get("adapters", {}).get("gw", {}).get("state")
          == "connected" or proc.poll() is not None, 60, "collector connected")
    assert proc.poll() is None, log.read_text()
    return proc


@pytest.mark.postgres
def test_sigkill_mid_stream_loses_nothing_and_duplicates_nothing(pg_engine, tmp_path):
    _make_site(pg_engine)
    prefix, client_id = unique_prefix(), f"nt-kill-{uuid.uuid4().hex[:8]}"
    health = free_port()
    path = _config(tmp_path, pg_engine, prefix, client_id, health)
    log = tmp_path / "collector.log"
    messages = _messages(300, 40)  # 12,000 readings
    expected = 300 * 40

    first = _start(path, health, log)
    pub = Publisher()
    for msg in messages[:120]:
        pub.publish(f"{prefix}/gw01/batch", msg)
    # Kill it while it is busy with those (stored some, holds others unacknowledged) ...
    _wait(lambda: _stored(pg_engine)[0] > 0, 60, "something stored")
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    killed_at = _stored(pg_engine)[0]
    # ... and keep the stream going while it is dead: the broker queues for its session.
    for msg in messages[120:]:
        pub.publish(f"{prefix}/gw01/batch", msg)
    pub.close()
    assert killed_at < expected

    second = _start(path, health, log)
    try:
        _wait(lambda: _stored(pg_engine)[0] >= expected, 120, "every reading stored")
        time.sleep(0.5)  # anything more would be a duplicate: give it the chance to appear
        total, distinct = _stored(pg_engine)
        assert (total, distinct) == (expected, expected)
        with pg_engine.connect() as conn:
            wrong = conn.execute(text(
                "SELECT count(*) FROM readings r JOIN meters m ON m.id = r.meter_id WHERE "
                "r.value <> (extract(epoch FROM r.ts) * 1000 - :t0) / :step"),
                {"t0": T0_MS, "step": STEP_MS}).scalar()
        assert wrong == 0
        assert _dead_letters(pg_engine) == 0
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    assert second.returncode == 0, log.read_text()


@pytest.mark.postgres
@pytest.mark.skipif(shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists(),
                    reason="mosquitto binary not installed")
def test_broker_restart_mid_stream_loses_nothing(pg_engine, tmp_path):
    _make_site(pg_engine)
    port = free_port()
    broker = _Broker(tmp_path, port)
    broker.start()
    prefix, client_id = unique_prefix(), f"nt-restart-{uuid.uuid4().hex[:8]}"
    health = free_port()
    path = _config(tmp_path, pg_engine, prefix, client_id, health, broker_port=port)
    log = tmp_path / "collector.log"
    proc = _start(path, health, log)
    try:
        a, b, c = _messages(100, 40), _messages(100, 40, 100), _messages(100, 40, 200)
        pub = Publisher(port=port)
        for msg in a + b:
            pub.publish(f"{prefix}/gw01/batch", msg)
        pub.close()
        # B is with the broker, partly delivered and unacknowledged: restart it now.
        broker.restart()
        pub = Publisher(port=port)
        for msg in c:
            pub.publish(f"{prefix}/gw01/batch", msg)
        pub.close()
        expected = 300 * 40
        try:
            _wait(lambda: _stored(pg_engine)[0] >= expected, 60, "every reading stored")
        except TimeoutError:
            print(_stored(pg_engine), _health(health), log.read_text()[-3000:],
                  (broker.dir / "log").read_text()[-3000:])
            raise
        time.sleep(0.5)
        assert _stored(pg_engine) == (expected, expected)
        snap = _health(health)
        assert snap["adapters"]["gw"]["reconnects"] >= 1
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        broker.stop()
    with pg_engine.connect() as conn:
        kinds = [k for (k,) in conn.execute(text(
            "SELECT kind FROM collector_events WHERE adapter = 'gw' ORDER BY id"))]
    assert "disconnected" in kinds and kinds.count("connected") >= 2


def _dead_letters(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM dead_letters")).scalar()


def _make_site(engine) -> None:
    from sqlalchemy.orm import Session

    from nengtan.services import meters, org

    with Session(engine) as s, s.begin():
        org.create(s, {"code": "P", "name_zh": "园区", "kind": "park"})
        org.create(s, {"code": "S", "name_zh": "厂区", "kind": "site", "parent": "P"})
        for code in METERS:
            meters.create(s, {"code": code, "name_zh": code, "node": "S",
                              "carrier": "electricity", "unit": "kWh", "interval_s": 60})


class _Broker:
    """A Mosquitto of the test's own, with persistence like the machine's broker."""

    def __init__(self, tmp_path: Path, port: int):
        self.dir = tmp_path / "broker"
        self.dir.mkdir()
        self.port = port
        self.conf = self.dir / "mosquitto.conf"
        self.conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n"
                             f"persistence true\npersistence_location {self.dir}/\n"
                             # Started as root it would drop to a user that cannot write in
                             # the test's private directory.
                             "user root\n")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.proc = subprocess.Popen([exe, "-c", str(self.conf)],
                                     stdout=(self.dir / "log").open("ab"), stderr=subprocess.STDOUT)
        _wait(lambda: _port_open(self.port), 10, "broker listening")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # saves the persistence file
            self.proc.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


os.environ.setdefault("NENGTAN_TEST", "1")
