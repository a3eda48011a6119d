"""End-to-end collection benchmark: gateways → MQTT broker → collector → PostgreSQL.

Gateway-style batches (``--per-message`` points per message, one timestamp per message, the
JSON of ``docs/collection.md``) for ``--meters`` meters every minute are published at QoS 1
through the real broker (default the machine's Mosquitto at 127.0.0.1:1883) to a collector
started as its own process (``nengtan collect``) writing into a fresh PostgreSQL database.
Then the database is counted: every published (meter, ts) must be stored exactly once.

The publisher keeps at most ``--window`` points ahead of what the collector reports stored,
as a gateway with store-and-forward does; without it a publisher that outruns the collector
would make the broker drop messages (Mosquitto's per-client queue is bounded), which is a
broker setting, not something the collector controls.  ``rate`` is points stored per second
from the first publish to the last commit.

Reference measured in the same run: the same readings ingested straight into a second fresh
database with ``nengtan.services.ingest.ingest`` in batches of the collector's flush size —
what the store alone does without the broker, JSON and the collector.  ``ratio`` = rate /
direct rate.

Usage:  python benchmarks/mqtt_ingest.py [--quick] [--pg URL] [--broker HOST:PORT]
The last line is exactly ``published=<n> stored=<n> lost=<n> duplicates=<n> rate=<readings/s>``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import numpy as np
import orjson
import paho.mqtt.client as paho
import yaml

from nengtan.services import ingest
from nengtan.store import db

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import fresh_database, setup_meters  # noqa: E402

T0_MS = 1_767_225_600_000  # 2026-01-01T00:00Z
STEP_MS = 60_000


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small run (under a minute)")
    p.add_argument("--meters", type=int, default=1000)
    p.add_argument("--steps", type=int, default=None, help="minutes of data (default 3000; quick 600)")
    p.add_argument("--per-message", type=int, default=500)
    p.add_argument("--flush-points", type=int, default=250_000)
    p.add_argument("--window", type=int, default=750_000, help="points ahead of stored")
    p.add_argument("--broker", default="127.0.0.1:1883")
    p.add_argument("--pg", default=os.environ.get(
        "NENGTAN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    a = p.parse_args()
    a.steps = a.steps or (600 if a.quick else 3000)
    return a


def values(meters: int, steps: int) -> np.ndarray:
    """Register values (kWh) per step and meter: increasing, deterministic, exact in binary."""
    rng = np.random.default_rng(11)
    per_min = np.round(rng.uniform(0.1, 5.0, size=(1, meters)) * 1024) / 1024
    return 1000.0 + per_min * np.arange(1, steps + 1)[:, None]


def payloads(codes: list[str], vals: np.ndarray, per_message: int) -> list[tuple[str, bytes]]:
    """(gateway, JSON) per message: each gateway owns a slice of the meters."""
    out = []
    steps, meters = vals.shape
    slices = [(g, range(s, min(s + per_message, meters)))
              for g, s in enumerate(range(0, meters, per_message))]
    for step in range(steps):
        ts = T0_MS + step * STEP_MS
        row = vals[step]
        for g, sl in slices:
            out.append((f"gw{g:03d}", orjson.dumps(
                {"ts": ts, "points": [{"tag": codes[i], "v": float(row[i])} for i in sl]})))
    return out


def health(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
            return json.loads(r.read())
    except OSError:
        return None


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_collector(a, url: str, codes: list[str], workdir: Path) -> tuple[int, float, float]:
    host, port = a.broker.split(":")
    hport = free_port()
    prefix = f"nt-bench/{uuid.uuid4().hex[:8]}"
    cfg = {"collector": {"name": "bench", "database": url, "health": {"port": hport},
                         "flush": {"max_points": a.flush_points, "max_delay_s": 0.2,
                                   "high_water": 4 * a.flush_points}},
           "adapters": [{"type": "mqtt", "name": "gateways", "host": host, "port": int(port),
                         "client_id": f"nt-bench-{uuid.uuid4().hex[:8]}",
                         "topics": [f"{prefix}/#"], "meter_codes_as_tags": True}]}
    path = workdir / "collect.yaml"
    path.write_text(yaml.safe_dump(cfg))
    log = (workdir / "collector.log").open("wb")
    exe = str(Path(sys.executable).with_name("nengtan"))
    proc = subprocess.Popen([exe, "collect", "--config", str(path)], stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while (health(hport) or {}).get("adapters", {}).get("gateways", {}).get("state") != "connected":
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"collector did not start; see {workdir / 'collector.log'}")
            time.sleep(0.1)
        vals = values(a.meters, a.steps)
        messages = payloads(codes, vals, a.per_message)
        total = a.meters * a.steps
        pub = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"nt-bench-pub-{uuid.uuid4().hex[:6]}")
        pub.max_inflight_messages_set(200)
        pub.max_queued_messages_set(0)
        pub.connect(host, int(port), 30)
        pub.loop_start()

        def done_points() -> int:
            snap = health(hport) or {}
            t = snap.get("totals", {})
            return t.get("stored", 0) + t.get("rejected", 0)

        began = time.perf_counter()
        published = 0
        infos = []
        for gw, body in messages:
            infos.append(pub.publish(f"{prefix}/{gw}/batch", body, qos=1))
            published += a.per_message if len(infos) else 0
            while published - done_points() > a.window:
                time.sleep(0.01)
        for info in infos:
            info.wait_for_publish(60)
        pub.disconnect()
        pub.loop_stop()
        deadline = time.monotonic() + 600
        while done_points() < total:
            if time.monotonic() > deadline or proc.poll() is not None:
                break
            time.sleep(0.02)
        elapsed = time.perf_counter() - began
        snap = health(hport) or {}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    sink = snap.get("sink") or {}
    print(f"collector: {sink.get('flushes')} commits, last took {sink.get('last_flush_s') or 0:.3f} s",
          flush=True)
    return len(messages), elapsed, snap.get("totals", {}).get("stored", 0)


def direct_reference(a, url: str, ids: np.ndarray) -> float:
    """Readings/s of ingest() alone on the same readings, flush-sized batches."""
    engine = db.make_engine(url)
    vals = values(a.meters, a.steps)
    steps_per_batch = max(1, a.flush_points // a.meters)
    began = time.perf_counter()
    for s0 in range(0, a.steps, steps_per_batch):
        s1 = min(a.steps, s0 + steps_per_batch)
        n = (s1 - s0) * a.meters
        ts_ms = T0_MS + np.repeat(np.arange(s0, s1), a.meters) * STEP_MS
        batch = ingest.ReadingBatch(np.tile(ids, s1 - s0).astype(np.int64), ts_ms * 1000,
                                    vals[s0:s1].ravel())
        assert len(batch) == n
        with engine.begin() as conn:
            ingest.ingest(conn, batch, source="bench")
    rate = a.meters * a.steps / (time.perf_counter() - began)
    engine.dispose()
    return rate


def main() -> None:
    a = parse_args()
    total = a.meters * a.steps
    print(f"{a.meters} meters × {a.steps} minutes = {total:,} readings in "
          f"{a.meters // a.per_message + (a.meters % a.per_message > 0)} gateways' messages of "
          f"≤{a.per_message} points; broker {a.broker}", flush=True)

    ref_url = fresh_database(a.pg, "nengtan_bench_direct")
    ref_engine = db.make_engine(ref_url)
    db.upgrade(ref_engine)
    ref_ids = setup_meters(ref_engine, a.meters, 60)
    ref_engine.dispose()
    direct = direct_reference(a, ref_url, ref_ids)
    print(f"reference: ingest() directly, {a.flush_points:,}-point batches: {direct:,.0f} readings/s",
          flush=True)

    url = fresh_database(a.pg, "nengtan_bench_mqtt")
    engine = db.make_engine(url)
    db.upgrade(engine)
    setup_meters(engine, a.meters, 60)
    codes = [f"B-{i:05d}" for i in range(a.meters)]
    with tempfile.TemporaryDirectory() as tmp:
        n_messages, elapsed, reported = run_collector(a, url, codes, Path(tmp))
    stored_rows, distinct = db.reading_counts(engine)
    lost = total - distinct
    duplicates = stored_rows - distinct
    rate = distinct / elapsed
    print(f"collector: {n_messages:,} messages, {distinct:,} readings stored in {elapsed:.2f} s; "
          f"collector counted {reported:,} stored", flush=True)
    print(f"ratio (end to end / direct ingest) = {rate / direct:.3f}")
    engine.dispose()
    print(f"published={total} stored={distinct} lost={lost} duplicates={duplicates} rate={rate:.0f}")


if __name__ == "__main__":
    main()
