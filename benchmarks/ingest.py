"""Bulk-ingestion benchmark on PostgreSQL: nengtan's ingestion path vs a raw COPY.

Generates cumulative register readings every ``--interval`` seconds (default 900: the
15-minute load profile of electricity meters) for ``--meters`` meters over ``--days`` days
(default 1,000 meters × 365 days = 35 million readings), then in the same run:

1. ingests them through nengtan's own path (``nengtan.services.ingest.ingest``: validation,
   idempotency check, binary COPY into monthly partitions, revisions, incremental hour/day/month
   rollups), in time-ordered chunks of about a million readings (``--chunk-days``), one
   transaction per chunk, as a bulk loader would send them;
2. writes the same rows with a raw psycopg COPY into a plain table (no partitions, no index,
   no rollups) — the reference: psycopg's own COPY API (``copy.write_row`` in binary format),
   one COPY per chunk.  A second, stricter reference feeds the same COPY with rows built by
   nengtan's vectorised binary encoder (``store.pgbinary``), the fastest way known here to get
   rows into PostgreSQL from Python; its ratio is printed too;
3. asks for the hourly values of every meter over one year (``query.hourly_matrix``) and, as
   the reference for that, computes the same hourly values from the raw readings in SQL;
4. checks the answers: every hourly value equals the generated consumption.

``--interval 3600`` measures hourly meters, the worst case for rollup upkeep (each reading
adds as many hourly values as it carries).

Usage:  python benchmarks/ingest.py [--quick] [--interval S] [--pg URL]
The last line is exactly ``rate=<readings/s> copy_rate=<readings/s> ratio=<rate/copy_rate>``
with ``copy_rate`` the raw psycopg COPY.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timedelta, timezone

import numpy as np
from sqlalchemy import text

from nengtan.services import ingest, query
from nengtan.store import db, pgbinary
from nengtan.timeseries.calendar import DAY_US

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import fresh_database, setup_meters  # noqa: E402

START_US = 1_735_689_600 * 1_000_000  # 2025-01-01T00:00:00Z


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small run (under a minute)")
    p.add_argument("--meters", type=int, default=None)
    p.add_argument("--days", type=int, default=None)
    p.add_argument("--interval", type=int, default=900, help="seconds between readings")
    p.add_argument("--chunk-days", type=int, default=None,
                   help="days per ingestion call (default: about a million readings)")
    p.add_argument("--pg", default=os.environ.get(
        "NENGTAN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
        help="admin URL; a database nengtan_bench is created next to it")
    a = p.parse_args()
    a.meters = a.meters or (200 if a.quick else 1000)
    a.days = a.days or (60 if a.quick else 365)
    per_day = a.meters * 86_400 // a.interval
    a.chunk_days = a.chunk_days or max(1, round(1_000_000 / per_day))
    if 86400 % a.interval or a.interval > 3600 or 3600 % a.interval:
        p.error("--interval must divide an hour")
    return a


def consumption(meters_n: int, steps: int, per_hour: int, seed: int = 7) -> np.ndarray:
    """kWh per meter and interval: a daily shape, a per-meter scale and noise (deterministic);
    multiples of 1/1024 kWh so that sums are exact in binary floating point."""
    rng = np.random.default_rng(seed)
    h = np.arange(steps) // per_hour
    shape = 1.0 + 0.35 * np.sin((h % 24 - 6) / 24 * 2 * np.pi) + 0.15 * ((h // 24) % 7 < 5)
    scale = rng.uniform(20, 400, size=(meters_n, 1)) / per_hour
    noise = rng.uniform(0.9, 1.1, size=(meters_n, steps))
    return np.round(scale * shape[None, :] * noise * 1024) / 1024


def main() -> None:
    a = parse_args()
    per_hour = 3600 // a.interval
    steps = a.days * 24 * per_hour + 1  # one more reading closes the last interval
    total = a.meters * steps
    print(f"readings={total:,} meters={a.meters} days={a.days} interval_s={a.interval} "
          f"chunk_days={a.chunk_days}")
    url = fresh_database(a.pg, "nengtan_bench")
    engine = db.make_engine(url)
    db.upgrade(engine)
    ids = setup_meters(engine, a.meters, a.interval)
    with engine.connect() as conn:
        tenant = int(conn.execute(text("SELECT tenant_id FROM meters LIMIT 1")).scalar())

    use = consumption(a.meters, steps - 1, per_hour)
    registers = 10_000.0 + np.concatenate([np.zeros((a.meters, 1)), np.cumsum(use, axis=1)], axis=1)
    step_us = np.int64(a.interval) * 1_000_000
    times = START_US + np.arange(steps, dtype=np.int64) * step_us
    per_chunk = a.chunk_days * 24 * per_hour
    chunks = [(s0, min(s0 + per_chunk, steps - 1)) for s0 in range(0, steps - 1, per_chunk)]
    chunks[-1] = (chunks[-1][0], steps)

    def chunk_arrays(s0: int, s1: int):
        return (np.repeat(ids, s1 - s0), np.tile(times[s0:s1], a.meters),
                registers[:, s0:s1].ravel())

    # 1. nengtan's ingestion path
    t0 = time.perf_counter()
    for k, (s0, s1) in enumerate(chunks):
        meter, ts, value = chunk_arrays(s0, s1)
        c0 = time.perf_counter()
        with engine.begin() as conn:
            ingest.ingest(conn, ingest.ReadingBatch(meter, ts, value), source="benchmark")
        dt = time.perf_counter() - c0
        if k < 3 or k == len(chunks) - 1:
            print(f"  nengtan chunk {k + 1}/{len(chunks)}: {len(ts):,} readings "
                  f"{len(ts) / dt:,.0f} readings/s")
    nengtan_s = time.perf_counter() - t0
    rate = total / nengtan_s

    # 2. the references: the same rows COPYed into a plain table, no nengtan path
    raw = engine.raw_connection()
    cur = raw.cursor()
    columns = ["tenant_id", "meter_id", "ts", "value", "quality", "batch_id", "reason"]
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)

    def plain_table() -> None:
        cur.execute("DROP TABLE IF EXISTS bench_raw")
        cur.execute("CREATE TABLE bench_raw (tenant_id int4, meter_id int4, ts timestamptz, "
                    "value float8, quality int2, batch_id int4, reason text)")
        raw.commit()

    plain_table()
    t0 = time.perf_counter()
    for s0, s1 in chunks:
        meter, ts, value = chunk_arrays(s0, s1)
        with cur.copy(f"COPY bench_raw ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as cp:
            cp.set_types(["int4", "int4", "timestamptz", "float8", "int2", "int4", "text"])
            for m, t, v in zip(meter.tolist(), ts.tolist(), value.tolist()):
                cp.write_row((tenant, m, epoch + timedelta(microseconds=t), v, 0, 1, None))
        raw.commit()
    copy_s = time.perf_counter() - t0
    copy_rate = total / copy_s

    plain_table()
    t0 = time.perf_counter()
    for s0, s1 in chunks:
        meter, ts, value = chunk_arrays(s0, s1)
        n = len(ts)
        rows = pgbinary.encode(
            [np.full(n, tenant, np.int32), meter, ts, value, np.zeros(n, np.int16),
             np.ones(n, np.int32), None],
            ["int4", "int4", "timestamptz", "float8", "int2", "int4", "null"])
        pgbinary.copy_in(cur, "bench_raw", columns, rows)
        raw.commit()
    numpy_s = time.perf_counter() - t0
    numpy_rate = total / numpy_s

    # 3. hourly values of all meters over the whole period (one year by default)
    first_day = START_US // DAY_US
    timings: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(3):
        for parallel in (2, 1):
            q0 = time.perf_counter()
            with engine.connect() as conn:
                _m, _h, value, cov = query.hourly_matrix(conn, ids, first_day,
                                                         first_day + a.days - 1, parallel=parallel)
            timings[parallel].append(time.perf_counter() - q0)
    expected = use.reshape(a.meters, a.days * 24, per_hour).sum(axis=2)
    assert np.array_equal(value, expected), "hourly rollups differ from the generated consumption"
    assert (cov == 3600).all(), "incomplete hours in a gap-free series"
    q0 = time.perf_counter()
    cur.execute(
        "SELECT count(*), sum(v) FROM (SELECT meter_id, date_trunc('hour', ts) AS h, "
        "max(value) - min(value) AS v FROM bench_raw GROUP BY 1, 2) x")
    cur.fetchall()
    raw_query_s = time.perf_counter() - q0
    raw.close()

    problems = db.check(engine)
    print(f"nengtan_ingest_s={nengtan_s:.2f} psycopg_copy_s={copy_s:.2f} numpy_copy_s={numpy_s:.2f}")
    print(f"stricter reference: numpy_copy_rate={numpy_rate:.0f} "
          f"ratio_to_numpy_copy={rate / numpy_rate:.3f}")
    print(f"rollup_query meters={a.meters} days={a.days} values={value.size:,} "
          f"best_s={min(timings[2]):.3f} (2 connections, one snapshot) "
          f"single_connection_best_s={min(timings[1]):.3f} "
          f"runs_s={','.join(f'{t:.3f}' for t in timings[2])}")
    print(f"reference raw_aggregate_s={raw_query_s:.3f} (SQL over raw readings, same hours) "
          f"speedup={raw_query_s / min(timings[2]):.1f}x")
    print(f"storage_check={'ok' if not problems else problems}")
    print(f"rate={rate:.0f} copy_rate={copy_rate:.0f} ratio={rate / copy_rate:.3f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
