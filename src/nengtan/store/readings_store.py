"""Bulk I/O of readings and rollups, one implementation per database.

The ingestion and rollup services speak to :class:`ReadingsStore` only; SQL lives here.
Everything is columnar (numpy arrays) and batched across meters, so that ingesting a million
readings costs a few statements, not a million.  Times are int64 µs since the Unix epoch and
UTC days are int days since the Unix epoch.

PostgreSQL writes readings with binary ``COPY`` straight into each month's partition; SQLite
uses ``executemany`` on its clustered table.  Both run inside the caller's transaction.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Connection

from nengtan.quality.normalize import Finding, Intervals
from nengtan.store import partitions, pgbinary
from nengtan.store.types import from_us
from nengtan.timeseries.calendar import EPOCH_DATE, index_date
from nengtan.timeseries.rollup import HourBlock, PeriodRollup


@dataclass
class RawRows:
    """Columnar readings, sorted by (meter_id, ts) unless stated otherwise."""

    meter_id: np.ndarray  # int32
    ts: np.ndarray  # int64 µs
    value: np.ndarray  # float64
    quality: np.ndarray  # int16
    batch_id: np.ndarray  # int32
    tenant_id: np.ndarray | None = None  # int32
    reason: np.ndarray | None = None  # object (str | None); None = all NULL

    def __len__(self) -> int:
        return len(self.ts)

    def take(self, idx: np.ndarray) -> RawRows:
        pick = lambda a: None if a is None else a[idx]  # noqa: E731
        return RawRows(self.meter_id[idx], self.ts[idx], self.value[idx], self.quality[idx],
                       self.batch_id[idx], pick(self.tenant_id), pick(self.reason))

    @staticmethod
    def empty() -> RawRows:
        return RawRows(np.empty(0, np.int32), np.empty(0, np.int64), np.empty(0, np.float64),
                       np.empty(0, np.int16), np.empty(0, np.int32), np.empty(0, np.int32))


@dataclass
class DayMeta:
    """What ``rollup_hour`` knows about the raw readings of a meter's UTC days."""

    meter_id: np.ndarray
    day: np.ndarray  # int days since epoch
    raw_count: np.ndarray  # readings of any quality
    valid_count: np.ndarray  # readings that are not rejected
    first_ts: np.ndarray  # µs, or INT64_MIN when the day has no readings
    last_ts: np.ndarray


@dataclass
class HourRows:
    """``rollup_hour`` rows to write: one per (meter, day), aligned arrays."""

    tenant_id: np.ndarray
    meter_id: np.ndarray
    day: np.ndarray
    value: np.ndarray  # (n, 24)
    coverage: np.ndarray  # (n, 24) int16
    flags: np.ndarray  # (n, 24) int16
    valid_count: np.ndarray
    raw_count: np.ndarray
    first_ts: np.ndarray  # µs; NO_TS if none
    last_ts: np.ndarray


NO_TS = np.iinfo(np.int64).min
FULL_HOUR = 3600


def _uniform(rows: HourRows) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose coverage is complete in every hour, and rows without flags: stored as NULL."""
    return (rows.coverage == FULL_HOUR).all(axis=1), (rows.flags == 0).all(axis=1)


def merge_sorted(a: RawRows, b: RawRows) -> RawRows:
    """Union of two time-sorted reading sets of one meter; ``b`` wins on equal timestamps."""
    if not len(a):
        return b
    if not len(b):
        return a
    fields = ("meter_id", "ts", "value", "quality", "batch_id")
    lo = int(np.searchsorted(a.ts, b.ts[0], "left"))
    hi = int(np.searchsorted(a.ts, b.ts[-1], "right"))
    if lo == hi:
        # No reading of ``a`` falls within ``b``'s span (the usual case): splice, no sort.
        parts = (a.take(np.arange(0, lo)), b, a.take(np.arange(hi, len(a))))
        return RawRows(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields))
    keep = ~np.isin(a.ts, b.ts)
    both = RawRows(*(np.concatenate([getattr(a, f)[keep], getattr(b, f)]) for f in fields))
    return both.take(np.argsort(both.ts, kind="stable"))


def store_for(conn: Connection) -> ReadingsStore:
    if conn.dialect.name == "postgresql":
        return PostgresReadings(conn)
    return SqliteReadings(conn)


class ReadingsStore(ABC):
    """Operations shared by both databases (plain SQL through the DB-API cursor)."""

    placeholder = "?"

    def __init__(self, conn: Connection):
        self.conn = conn
        self.raw = conn.connection.dbapi_connection

    def cursor(self):
        return self.raw.cursor()

    # -- locks -------------------------------------------------------------------------
    def lock_tenants(self, tenant_ids: np.ndarray) -> None:
        """Serialise ingestion per tenant (no-op where the database serialises writers)."""

    # -- ingest batches ----------------------------------------------------------------
    def new_batch(self, source: str, detail: str | None, sha256: str | None, rows: int) -> int:
        p = self.placeholder
        cur = self.cursor()
        cur.execute(
            f"INSERT INTO ingest_batches (source, source_detail, received_at, rows, inserted, "
            f"unchanged, revised, sha256) VALUES ({p}, {p}, {p}, {p}, 0, 0, 0, {p}) RETURNING id",
            (source, detail, self._ts_param(_now_us()), rows, sha256),
        )
        return int(cur.fetchone()[0])

    def finish_batch(self, batch_id: int, inserted: int, unchanged: int, revised: int) -> None:
        p = self.placeholder
        self.cursor().execute(
            f"UPDATE ingest_batches SET inserted = {p}, unchanged = {p}, revised = {p} WHERE id = {p}",
            (inserted, unchanged, revised, batch_id),
        )

    @abstractmethod
    def _ts_param(self, us: int):
        """The database's parameter for an instant given in µs."""

    # -- revisions ---------------------------------------------------------------------
    def insert_revisions(self, old: RawRows, new: RawRows, old_reason, revised_at_us: int) -> None:
        if not len(old):
            return
        p = self.placeholder
        rows = [
            (int(t), int(m), self._ts_param(int(ts)), float(ov), int(oq), int(ob), orr,
             float(nv), int(nq), int(nb), self._ts_param(revised_at_us))
            for t, m, ts, ov, oq, ob, orr, nv, nq, nb in zip(
                new.tenant_id, old.meter_id, old.ts, old.value, old.quality, old.batch_id,
                old_reason, new.value, new.quality, new.batch_id)
        ]
        self.cursor().executemany(
            "INSERT INTO reading_revisions (tenant_id, meter_id, ts, old_value, old_quality, "
            "old_batch_id, old_reason, new_value, new_quality, new_batch_id, revised_at) VALUES "
            f"({', '.join([p] * 11)})",
            rows,
        )

    # -- spans, findings and period rollups (batched over meters) -----------------------
    # ``ranges`` are (tenant_id, meter_id, lo_us, hi_us): rows of those meters whose start lies
    # in [lo, hi) are replaced.  Deletes are one statement per range on SQLite (in-process and
    # cheap) and one statement in all on PostgreSQL.

    def replace_spans(self, ranges, spans: list[tuple[int, int, Intervals]]) -> None:
        self._delete_ranges("gap_spans", "start_ts", ranges)
        rows = []
        for tenant_id, meter_id, iv in spans:
            rows += [(tenant_id, meter_id, self._ts_param(int(s)), self._ts_param(int(e)),
                      float(v), int(f)) for s, e, v, f in zip(iv.start, iv.end, iv.value, iv.flags)]
        if rows:
            p = self.placeholder
            self.cursor().executemany(
                "INSERT INTO gap_spans (tenant_id, meter_id, start_ts, end_ts, value, flags) "
                f"VALUES ({p}, {p}, {p}, {p}, {p}, {p})", rows)

    def read_spans(self, ranges) -> dict[int, Intervals]:
        """Gap spans overlapping [lo, hi) of each range, by meter id."""
        rows = self._select_spans(ranges)
        out: dict[int, list] = {}
        for m, s, e, v, f in rows:
            out.setdefault(int(m), []).append((s, e, v, f))
        result = {}
        for m, items in out.items():
            s, e, v, f = zip(*sorted(items))
            result[m] = Intervals(self._ts_array(s), self._ts_array(e), np.array(v, np.float64),
                                  np.array(f, np.int32), np.ones(len(items), bool))
        return result

    def replace_findings(self, ranges, findings: list[tuple[int, int, Finding]]) -> None:
        import json

        self._delete_ranges("quality_events", "start_ts", ranges, "origin = 'pipeline'")
        if findings:
            p = self.placeholder
            now = self._ts_param(_now_us())
            self.cursor().executemany(
                "INSERT INTO quality_events (tenant_id, meter_id, start_ts, end_ts, rule, "
                "severity, origin, status, detail, created_at) VALUES "
                f"({p}, {p}, {p}, {p}, {p}, {p}, 'pipeline', 'open', {p}, {p})",
                [(t, m, self._ts_param(f.start_us), self._ts_param(f.end_us), f.rule, f.severity,
                  json.dumps(f.detail), now) for t, m, f in findings])

    def replace_periods(self, table: str, key: str, ranges, rows: list[tuple]) -> None:
        """Replace ``rollup_day``/``rollup_month`` rows.

        ``ranges``: (tenant_id, meter_id, first_key, last_key) dates, inclusive.
        ``rows``: (tenant_id, meter_id, key date, value | None, coverage_s, expected_s, flags).
        """
        self._delete_date_ranges(table, key, ranges)
        if rows:
            p = self.placeholder
            self.cursor().executemany(
                f"INSERT INTO {table} (tenant_id, meter_id, {key}, value, coverage_s, expected_s, "
                f"flags) VALUES ({', '.join([p] * 7)})",
                [(t, m, self._date_param(k), *rest) for t, m, k, *rest in rows])

    def _date_param(self, d):
        return d

    def hour_values(self, tenant_ids, meter_ids, day_lo: int, day_hi: int):
        """Hourly values and coverage only (the bulk read path): (meter_id, day, value (n, 24),
        coverage (n, 24)), sorted by meter and day."""
        m, d, v, c, _ = self.read_hours(tenant_ids, meter_ids, day_lo, day_hi)
        return m, d, v, c

    def read_hours(self, tenant_ids, meter_ids, day_lo: int, day_hi: int):
        """``rollup_hour`` rows of the meters for UTC days [day_lo, day_hi], sorted by meter and
        day: (meter_id, day, value (n, 24), coverage, flags)."""
        return self.read_hour_ranges([(t, m, day_lo, day_hi) for t, m in zip(tenant_ids, meter_ids)])

    def reading_extent(self, tenant_ids, meter_ids) -> dict[int, tuple[int, int]]:
        """First and last reading time (µs) of each meter that has readings."""
        p = self.placeholder
        cur = self.cursor()
        out = {}
        for t, m in zip(tenant_ids, meter_ids):
            cur.execute(f"SELECT min(ts), max(ts) FROM readings WHERE tenant_id = {p} AND "
                        f"meter_id = {p}", (int(t), int(m)))
            lo, hi = cur.fetchone()
            if lo is not None:
                lo, hi = self._ts_array([lo, hi])
                out[int(m)] = (int(lo), int(hi))
        return out

def _now_us() -> int:
    import time

    return time.time_ns() // 1000


class SqliteReadings(ReadingsStore):
    placeholder = "?"


    def _ts_param(self, us: int):
        return int(us)

    def _ts_array(self, values) -> np.ndarray:
        return np.array(values, np.int64)

    def _date_param(self, d):
        return d.isoformat()

    def _delete_ranges(self, table, column, ranges, extra: str | None = None) -> None:
        cond = f" AND {extra}" if extra else ""
        self.cursor().executemany(
            f"DELETE FROM {table} WHERE tenant_id = ? AND meter_id = ? AND {column} >= ? "
            f"AND {column} < ?{cond}",
            [(int(t), int(m), int(a), int(b)) for t, m, a, b in ranges])

    def _delete_date_ranges(self, table, column, ranges) -> None:
        self.cursor().executemany(
            f"DELETE FROM {table} WHERE tenant_id = ? AND meter_id = ? AND {column} >= ? "
            f"AND {column} <= ?",
            [(int(t), int(m), a.isoformat(), b.isoformat()) for t, m, a, b in ranges])

    def _select_spans(self, ranges):
        cur = self.cursor()
        out = []
        for t, m, lo, hi in ranges:
            cur.execute("SELECT meter_id, start_ts, end_ts, value, flags FROM gap_spans "
                        "WHERE tenant_id = ? AND meter_id = ? AND start_ts < ? AND end_ts > ?",
                        (int(t), int(m), int(hi), int(lo)))
            out.extend(cur.fetchall())
        return out

    def day_meta(self, tenant_ids, meter_ids, day_lo, day_hi) -> DayMeta:
        """Rows of ``rollup_hour`` for each (tenant, meter) with day in [day_lo, day_hi]."""
        cur = self.cursor()
        out = []
        for t, m, lo, hi in zip(tenant_ids, meter_ids, day_lo, day_hi):
            cur.execute(
                "SELECT meter_id, day, raw_count, valid_count, first_ts, last_ts FROM rollup_hour "
                "WHERE tenant_id = ? AND meter_id = ? AND day >= ? AND day <= ? ORDER BY day",
                (int(t), int(m), index_date(lo).isoformat(), index_date(hi).isoformat()),
            )
            out.extend(cur.fetchall())
        return _day_meta_from_rows(out, sqlite=True)

    def neighbour_days(self, tenant_ids, meter_ids, days, before: bool, limit: int):
        """Nearest days with readings strictly before/after each meter's day, nearest first.

        Returns {meter_id: [(day, valid readings), ...]}.
        """
        op, order = ("<", "DESC") if before else (">", "ASC")
        cur = self.cursor()
        out: dict[int, list] = {}
        for t, m, d in zip(np.asarray(tenant_ids).tolist(), np.asarray(meter_ids).tolist(),
                           np.asarray(days).tolist()):
            cur.execute(
                "SELECT day, valid_count FROM rollup_hour WHERE tenant_id = ? AND meter_id = ? "
                f"AND day {op} ? AND raw_count > 0 ORDER BY day {order} LIMIT ?",
                (t, m, index_date(d).isoformat(), limit))
            out[m] = [(_date_to_index(x), int(v)) for x, v in cur.fetchall()]
        return out

    def fetch(self, meter_ids, lo, hi, with_reason: bool = False) -> tuple[RawRows, list | None]:
        """Readings with lo <= ts < hi for each (meter, lo, hi), sorted by meter then ts."""
        cur = self.cursor()
        rows: list[tuple] = []
        cols = "meter_id, ts, value, quality, batch_id" + (", reason" if with_reason else "")
        for m, a, b in sorted(zip(np.asarray(meter_ids).tolist(), np.asarray(lo).tolist(),
                                  np.asarray(hi).tolist())):
            cur.execute(f"SELECT {cols} FROM readings WHERE meter_id = ? AND ts >= ? AND ts < ? "
                        "ORDER BY ts", (m, a, b))
            rows.extend(cur.fetchall())
        return _raw_from_tuples(rows, with_reason)

    def insert(self, rows: RawRows) -> None:
        reason = rows.reason if rows.reason is not None else [None] * len(rows)
        self.cursor().executemany(
            "INSERT INTO readings (tenant_id, meter_id, ts, value, quality, batch_id, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            zip(rows.tenant_id.tolist(), rows.meter_id.tolist(), rows.ts.tolist(),
                rows.value.tolist(), rows.quality.tolist(), rows.batch_id.tolist(), reason),
        )

    def update(self, rows: RawRows) -> None:
        reason = rows.reason if rows.reason is not None else [None] * len(rows)
        self.cursor().executemany(
            "UPDATE readings SET value = ?, quality = ?, batch_id = ?, reason = ? "
            "WHERE meter_id = ? AND ts = ?",
            zip(rows.value.tolist(), rows.quality.tolist(), rows.batch_id.tolist(), reason,
                rows.meter_id.tolist(), rows.ts.tolist()),
        )

    def replace_hour_rows(self, rows: HourRows, ranges) -> None:
        """Delete rows of each (tenant, meter, day_lo, day_hi) range, then insert ``rows``."""
        cur = self.cursor()
        cur.executemany(
            "DELETE FROM rollup_hour WHERE tenant_id = ? AND meter_id = ? AND day >= ? AND day <= ?",
            [(int(t), int(m), index_date(a).isoformat(), index_date(b).isoformat())
             for t, m, a, b in ranges],
        )
        full, clean = _uniform(rows)
        cur.executemany(
            "INSERT INTO rollup_hour (tenant_id, meter_id, day, value, coverage, flags, "
            "valid_count, raw_count, first_ts, last_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(int(t), int(m), index_date(d).isoformat(), np.ascontiguousarray(v, "<f8").tobytes(),
              None if fu else np.ascontiguousarray(c, "<i2").tobytes(),
              None if cl else np.ascontiguousarray(f, "<i2").tobytes(),
              int(vc), int(rc), None if a == NO_TS else int(a), None if b == NO_TS else int(b))
             for t, m, d, v, c, f, vc, rc, a, b, fu, cl in zip(
                 rows.tenant_id, rows.meter_id, rows.day, rows.value, rows.coverage, rows.flags,
                 rows.valid_count, rows.raw_count, rows.first_ts, rows.last_ts, full, clean)],
        )

    def read_hour_ranges(self, ranges):
        cur = self.cursor()
        out = []
        for t, m, lo, hi in sorted(ranges, key=lambda r: (r[1], r[2])):
            if hi < lo:
                continue
            cur.execute(
                "SELECT meter_id, day, value, coverage, flags FROM rollup_hour "
                "WHERE tenant_id = ? AND meter_id = ? AND day >= ? AND day <= ? ORDER BY day",
                (int(t), int(m), index_date(lo).isoformat(), index_date(hi).isoformat()))
            out.extend(cur.fetchall())
        if not out:
            return _empty_hours()
        m, d, v, c, f = zip(*out)
        full, clean = np.full(24, FULL_HOUR, np.int16), np.zeros(24, np.int16)
        return (np.array(m, np.int32), np.array([_date_to_index(x) for x in d], np.int64),
                np.stack([np.frombuffer(x, "<f8") for x in v]),
                np.stack([full if x is None else np.frombuffer(x, "<i2") for x in c]),
                np.stack([clean if x is None else np.frombuffer(x, "<i2") for x in f]))

    def read_tails(self, tenant_ids, meter_ids) -> dict[int, tuple[RawRows, bool]]:
        """Each meter's stored tail (``meter_tails``): its newest readings, and whether they are
        its whole history."""
        cur = self.cursor()
        out = {}
        for t, m in zip(np.asarray(tenant_ids).tolist(), np.asarray(meter_ids).tolist()):
            cur.execute("SELECT ts, value, quality, complete FROM meter_tails "
                        "WHERE tenant_id = ? AND meter_id = ?", (t, m))
            row = cur.fetchone()
            if row is not None:
                ts = np.frombuffer(row[0], "<i8").astype(np.int64)
                out[m] = (RawRows(np.full(len(ts), m, np.int32), ts,
                                  np.frombuffer(row[1], "<f8").astype(np.float64),
                                  np.frombuffer(row[2], "<i2").astype(np.int16),
                                  np.zeros(len(ts), np.int32)), bool(row[3]))
        return out

    def replace_tails(self, tails: list[tuple[int, int, RawRows, bool]]) -> None:
        """Store each meter's newest readings (``RawRows`` of one meter, time-sorted)."""
        cur = self.cursor()
        cur.executemany("DELETE FROM meter_tails WHERE tenant_id = ? AND meter_id = ?",
                        [(int(t), int(m)) for t, m, _, _ in tails])
        cur.executemany(
            "INSERT INTO meter_tails (tenant_id, meter_id, ts, value, quality, complete) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(int(t), int(m), np.ascontiguousarray(r.ts, "<i8").tobytes(),
              np.ascontiguousarray(r.value, "<f8").tobytes(),
              np.ascontiguousarray(r.quality, "<i2").tobytes(), bool(c))
             for t, m, r, c in tails])

    def read_hour_rows(self, ranges) -> HourRows:
        """Whole ``rollup_hour`` rows (with counts) for (tenant, meter, day_lo, day_hi) ranges."""
        cur = self.cursor()
        out = []
        for t, m, lo, hi in sorted(ranges, key=lambda r: (r[1], r[2])):
            if hi < lo:
                continue
            cur.execute(
                "SELECT tenant_id, meter_id, day, value, coverage, flags, valid_count, raw_count, "
                "first_ts, last_ts FROM rollup_hour WHERE tenant_id = ? AND meter_id = ? "
                "AND day >= ? AND day <= ? ORDER BY day",
                (int(t), int(m), index_date(lo).isoformat(), index_date(hi).isoformat()))
            out.extend(cur.fetchall())
        full, clean = np.full(24, FULL_HOUR, np.int16), np.zeros(24, np.int16)
        return _hour_rows_from(
            [(t, m, _date_to_index(d), np.frombuffer(v, "<f8"),
              full if c is None else np.frombuffer(c, "<i2"),
              clean if f is None else np.frombuffer(f, "<i2"), vc, rc,
              NO_TS if a is None else a, NO_TS if b is None else b)
             for t, m, d, v, c, f, vc, rc, a, b in out])

    def read_day_ranges(self, ranges):
        cur = self.cursor()
        out = []
        for t, m, first, last in sorted(ranges, key=lambda r: (r[1], r[2])):
            cur.execute("SELECT meter_id, day, value, coverage_s, flags FROM rollup_day "
                        "WHERE tenant_id = ? AND meter_id = ? AND day >= ? AND day <= ? ORDER BY day",
                        (int(t), int(m), first.isoformat(), last.isoformat()))
            out.extend(cur.fetchall())
        return _days_from_rows(out)


def _days_from_rows(rows):
    if not rows:
        e = np.empty(0, np.int64)
        return e.astype(np.int32), e, np.empty(0), e, e.astype(np.int32)
    m, d, v, c, f = zip(*rows)
    return (np.array(m, np.int32), np.array([_date_to_index(x) for x in d], np.int64),
            np.array([np.nan if x is None else x for x in v], np.float64),
            np.array(c, np.int64), np.array(f, np.int32))


class PostgresReadings(ReadingsStore):
    placeholder = "%s"

    def _ts_param(self, us: int):
        return from_us(us)

    def _ts_array(self, values) -> np.ndarray:
        from nengtan.store.types import to_us

        return np.array([to_us(v) for v in values], np.int64)

    def _delete_ranges(self, table, column, ranges, extra: str | None = None) -> None:
        if not ranges:
            return
        t, m, a, b = zip(*ranges)
        cond = f" AND x.{extra}" if extra else ""
        self.cursor().execute(
            f"DELETE FROM {table} x USING unnest(%s::int4[], %s::int4[], %s::timestamptz[], "
            "%s::timestamptz[]) AS w(t, m, lo, hi) WHERE x.tenant_id = w.t AND x.meter_id = w.m "
            f"AND x.{column} >= w.lo AND x.{column} < w.hi{cond}",
            ([int(x) for x in t], [int(x) for x in m], [from_us(int(x)) for x in a],
             [from_us(int(x)) for x in b]))

    def _delete_date_ranges(self, table, column, ranges) -> None:
        if not ranges:
            return
        t, m, a, b = zip(*ranges)
        self.cursor().execute(
            f"DELETE FROM {table} x USING unnest(%s::int4[], %s::int4[], %s::date[], %s::date[]) "
            "AS w(t, m, lo, hi) WHERE x.tenant_id = w.t AND x.meter_id = w.m "
            f"AND x.{column} >= w.lo AND x.{column} <= w.hi",
            ([int(x) for x in t], [int(x) for x in m], list(a), list(b)))

    def _select_spans(self, ranges):
        if not ranges:
            return []
        t, m, a, b = zip(*ranges)
        cur = self.cursor()
        cur.execute(
            "SELECT x.meter_id, x.start_ts, x.end_ts, x.value, x.flags FROM gap_spans x "
            "JOIN unnest(%s::int4[], %s::int4[], %s::timestamptz[], %s::timestamptz[]) "
            "AS w(t, m, lo, hi) ON x.tenant_id = w.t AND x.meter_id = w.m "
            "AND x.start_ts < w.hi AND x.end_ts > w.lo",
            ([int(x) for x in t], [int(x) for x in m], [from_us(int(x)) for x in a],
             [from_us(int(x)) for x in b]))
        return cur.fetchall()

    def replace_periods(self, table: str, key: str, ranges, rows: list[tuple]) -> None:
        self._delete_date_ranges(table, key, ranges)
        if not rows:
            return
        full = [r for r in rows if r[3] is not None]
        empty = [r for r in rows if r[3] is None]
        if empty:
            self.cursor().executemany(
                f"INSERT INTO {table} (tenant_id, meter_id, {key}, value, coverage_s, expected_s, "
                "flags) VALUES (%s, %s, %s, %s, %s, %s, %s)", empty)
        if full:
            t, m, k, v, c, e, f = (np.array(col) for col in zip(*full))
            days = np.array([(d - EPOCH_DATE).days for d in k], np.int64)
            payload = pgbinary.encode(
                [t.astype(np.int32), m.astype(np.int32), days, v.astype(np.float64),
                 c.astype(np.int32), e.astype(np.int32), f.astype(np.int32)],
                ["int4", "int4", "date", "float8", "int4", "int4", "int4"])
            pgbinary.copy_in(self.cursor(), table, ["tenant_id", "meter_id", key, "value",
                                                     "coverage_s", "expected_s", "flags"], payload)

    def read_day_ranges(self, ranges):
        if not ranges:
            return _days_from_rows([])
        t, m, a, b = zip(*ranges)
        payload = pgbinary.copy_out(
            self.cursor(),
            "SELECT d.meter_id, array_agg(d.day ORDER BY d.day), "
            "array_agg(coalesce(d.value, 'NaN'::float8) ORDER BY d.day), "
            "array_agg(d.coverage_s ORDER BY d.day), array_agg(d.flags ORDER BY d.day) "
            "FROM rollup_day d "
            "JOIN unnest(%s::int4[], %s::int4[], %s::date[], %s::date[]) AS w(t, m, lo, hi) "
            "ON d.tenant_id = w.t AND d.meter_id = w.m AND d.day >= w.lo AND d.day <= w.hi "
            "GROUP BY d.meter_id ORDER BY 1",
            ([int(x) for x in t], [int(x) for x in m], list(a), list(b)))
        rows = pgbinary.decode_rows(payload, ["int4", "date[]", "float8[]", "int4[]", "int4[]"])
        if not rows:
            return _days_from_rows([])
        return (np.concatenate([np.full(len(r[1]), r[0], np.int32) for r in rows]),
                *(np.concatenate([r[i] for r in rows]).astype(dt) for i, dt in
                  ((1, np.int64), (2, np.float64), (3, np.int64), (4, np.int32))))

    def read_tails(self, tenant_ids, meter_ids) -> dict[int, tuple[RawRows, bool]]:
        if not len(meter_ids):
            return {}
        payload = pgbinary.copy_out(
            self.cursor(),
            "SELECT x.meter_id, x.ts, x.value, x.quality, x.complete FROM meter_tails x "
            "JOIN unnest(%s::int4[], %s::int4[]) AS w(t, m) ON x.tenant_id = w.t "
            "AND x.meter_id = w.m", ([int(t) for t in tenant_ids], [int(m) for m in meter_ids]))
        out = {}
        for m, ts, value, quality, complete in pgbinary.decode_rows(
                payload, ["int4", "int8[]", "float8[]", "int2[]", "bool"]):
            out[m] = (RawRows(np.full(len(ts), m, np.int32), ts.astype(np.int64),
                              value.astype(np.float64), quality.astype(np.int16),
                              np.zeros(len(ts), np.int32)), bool(complete))
        return out

    def replace_tails(self, tails: list[tuple[int, int, RawRows, bool]]) -> None:
        if not tails:
            return
        cur = self.cursor()
        t, m = [int(x[0]) for x in tails], [int(x[1]) for x in tails]
        cur.execute("DELETE FROM meter_tails x USING unnest(%s::int4[], %s::int4[]) AS w(t, m) "
                    "WHERE x.tenant_id = w.t AND x.meter_id = w.m", (t, m))
        by_length: dict[int, list] = {}
        for tail in tails:
            by_length.setdefault(len(tail[2]), []).append(tail)
        for group in by_length.values():
            rows = pgbinary.encode(
                [np.array([g[0] for g in group], np.int32), np.array([g[1] for g in group], np.int32),
                 np.stack([g[2].ts for g in group]), np.stack([g[2].value for g in group]),
                 np.stack([g[2].quality for g in group]),
                 np.array([bool(g[3]) for g in group])],
                ["int4", "int4", "int8[]", "float8[]", "int2[]", "bool"])
            pgbinary.copy_in(cur, "meter_tails", ["tenant_id", "meter_id", "ts", "value",
                                                   "quality", "complete"], rows)

    def read_hour_rows(self, ranges) -> HourRows:
        ranges = [r for r in ranges if r[3] >= r[2]]
        if not ranges:
            return _hour_rows_from([])
        t, m, a, b = zip(*ranges)
        payload = pgbinary.copy_out(
            self.cursor(),
            "SELECT h.tenant_id, h.meter_id, h.day, h.value, h.coverage, h.flags, h.valid_count, "
            "h.raw_count, h.first_ts, h.last_ts FROM rollup_hour h "
            "JOIN unnest(%s::int4[], %s::int4[], %s::date[], %s::date[]) AS w(t, m, lo, hi) "
            "ON h.tenant_id = w.t AND h.meter_id = w.m AND h.day >= w.lo AND h.day <= w.hi "
            "ORDER BY 2, 3",
            ([int(x) for x in t], [int(x) for x in m], [index_date(x) for x in a],
             [index_date(x) for x in b]))
        full, clean = np.full(24, FULL_HOUR, np.int16), np.zeros(24, np.int16)
        return _hour_rows_from(
            [(tt, mm, d, v, full if c is None else c, clean if f is None else f, vc, rc,
              NO_TS if x is None else x, NO_TS if y is None else y)
             for tt, mm, d, v, c, f, vc, rc, x, y in pgbinary.decode_rows(
                 payload, ["int4", "int4", "date", "float8[]", "int2[]", "int2[]", "int4", "int4",
                           "timestamptz", "timestamptz"])])

    def lock_tenants(self, tenant_ids: np.ndarray) -> None:
        ids = sorted({int(t) for t in tenant_ids})
        if ids:
            # Transaction-level advisory locks, taken in a fixed order to avoid deadlocks.
            self.cursor().execute(
                "SELECT pg_advisory_xact_lock(7391002, t) FROM unnest(%s::int4[]) AS t ORDER BY t",
                (ids,),
            )

    def day_meta(self, tenant_ids, meter_ids, day_lo, day_hi) -> DayMeta:
        cur = self.cursor()
        cur.execute(
            "SELECT h.meter_id, h.day, h.raw_count, h.valid_count, h.first_ts, h.last_ts "
            "FROM rollup_hour h JOIN unnest(%s::int4[], %s::int4[], %s::date[], %s::date[]) "
            "AS w(t, m, lo, hi) ON h.tenant_id = w.t AND h.meter_id = w.m "
            "AND h.day >= w.lo AND h.day <= w.hi ORDER BY 1, 2",
            ([int(x) for x in tenant_ids], [int(x) for x in meter_ids],
             [index_date(x) for x in day_lo], [index_date(x) for x in day_hi]),
        )
        return _day_meta_from_rows(cur.fetchall(), sqlite=False)

    def neighbour_days(self, tenant_ids, meter_ids, days, before: bool, limit: int):
        op, order = ("<", "DESC") if before else (">", "ASC")
        cur = self.cursor()
        cur.execute(
            "SELECT w.m, x.day, x.valid_count FROM unnest(%s::int4[], %s::int4[], %s::date[]) "
            "AS w(t, m, d) CROSS JOIN LATERAL (SELECT h.day, h.valid_count "
            "FROM rollup_hour h WHERE h.tenant_id = w.t AND "
            f"h.meter_id = w.m AND h.day {op} w.d AND h.raw_count > 0 ORDER BY h.day {order} "
            f"LIMIT {int(limit)}) x ORDER BY w.m, x.day {order}",
            ([int(x) for x in tenant_ids], [int(x) for x in meter_ids],
             [index_date(x) for x in days]))
        out: dict[int, list] = {int(m): [] for m in meter_ids}
        for m, d, v in cur.fetchall():
            out[int(m)].append(((d - EPOCH_DATE).days, int(v or 0)))
        return out

    def fetch(self, meter_ids, lo, hi, with_reason: bool = False) -> tuple[RawRows, list | None]:
        if not len(meter_ids):
            return RawRows.empty(), ([] if with_reason else None)
        cur = self.cursor()
        params = ([int(x) for x in meter_ids], [from_us(int(x)) for x in lo],
                  [from_us(int(x)) for x in hi], from_us(int(np.min(lo))), from_us(int(np.max(hi))))
        # The constant overall range lets the planner prune partitions and use the BRIN index
        # on ts; the join then keeps each meter's own range.
        query = (
            "SELECT r.meter_id, r.ts, r.value, r.quality, r.batch_id{extra} FROM readings r "
            "JOIN unnest(%s::int4[], %s::timestamptz[], %s::timestamptz[]) AS w(m, lo, hi) "
            "ON r.meter_id = w.m AND r.ts >= w.lo AND r.ts < w.hi "
            "WHERE r.ts >= %s AND r.ts < %s ORDER BY 1, 2"
        )
        if with_reason:
            cur.execute(query.format(extra=", r.reason"), params)
            return _raw_from_tuples(cur.fetchall(), True, pg=True)
        payload = pgbinary.copy_out(cur, (
            "SELECT meter_id, array_agg(ts ORDER BY ts), array_agg(value ORDER BY ts), "
            "array_agg(quality ORDER BY ts), array_agg(batch_id ORDER BY ts) FROM ("
            + query.format(extra="").replace(" ORDER BY 1, 2", "") + ") x GROUP BY meter_id "
            "ORDER BY meter_id"), params)
        rows = pgbinary.decode_rows(payload, ["int4", "timestamptz[]", "float8[]", "int2[]",
                                              "int4[]"])
        if not rows:
            return RawRows.empty(), None
        return RawRows(np.concatenate([np.full(len(r[1]), r[0], np.int32) for r in rows]),
                       np.concatenate([r[1] for r in rows]).astype(np.int64),
                       np.concatenate([r[2] for r in rows]).astype(np.float64),
                       np.concatenate([r[3] for r in rows]).astype(np.int16),
                       np.concatenate([r[4] for r in rows]).astype(np.int32)), None

    def insert(self, rows: RawRows) -> None:
        if not len(rows):
            return
        cur = self.cursor()
        months = rows.ts.astype("datetime64[us]").astype("datetime64[M]")
        first = months.min()
        # Month codes are small integers: counting and a stable radix sort are O(n).
        code = (months - first).astype(np.int32)
        present = np.flatnonzero(np.bincount(code))
        partitions.ensure(cur, first + present)
        if rows.reason is not None and any(r is not None for r in rows.reason):
            with_text = np.array([r is not None for r in rows.reason])
            self._insert_rowwise(rows.take(np.flatnonzero(with_text)))
            rows, code = rows.take(np.flatnonzero(~with_text)), code[~with_text]
            if not len(rows):
                return
        if len(present) == 1:
            parts = [(first + present[0], None)]
        else:
            order = np.argsort(code.astype(np.int16), kind="stable")
            cuts = np.searchsorted(code[order], present[1:])
            parts = [(first + p, idx) for p, idx in zip(present, np.split(order, cuts)) if len(idx)]
        columns = ["tenant_id", "meter_id", "ts", "value", "quality", "batch_id", "reason"]
        for month, idx in parts:
            sub = rows if idx is None else rows.take(idx)
            payload = pgbinary.encode(
                [sub.tenant_id, sub.meter_id, sub.ts, sub.value, sub.quality, sub.batch_id, None],
                ["int4", "int4", "timestamptz", "float8", "int2", "int4", "null"])
            pgbinary.copy_in(cur, partitions.partition_name(month), columns, payload)

    def _insert_rowwise(self, rows: RawRows) -> None:
        self.cursor().executemany(
            "INSERT INTO readings (tenant_id, meter_id, ts, value, quality, batch_id, reason) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(int(t), int(m), from_us(int(ts)), float(v), int(q), int(b), r)
             for t, m, ts, v, q, b, r in zip(rows.tenant_id, rows.meter_id, rows.ts, rows.value,
                                             rows.quality, rows.batch_id, rows.reason)],
        )

    def update(self, rows: RawRows) -> None:
        if not len(rows):
            return
        reason = rows.reason if rows.reason is not None else [None] * len(rows)
        self.cursor().execute(
            "UPDATE readings r SET value = u.v, quality = u.q, batch_id = u.b, reason = u.r "
            "FROM unnest(%s::int4[], %s::timestamptz[], %s::float8[], %s::int2[], %s::int4[], "
            "%s::text[]) AS u(m, ts, v, q, b, r) WHERE r.meter_id = u.m AND r.ts = u.ts",
            ([int(x) for x in rows.meter_id], [from_us(int(x)) for x in rows.ts],
             [float(x) for x in rows.value], [int(x) for x in rows.quality],
             [int(x) for x in rows.batch_id], list(reason)),
        )

    def replace_hour_rows(self, rows: HourRows, ranges) -> None:
        cur = self.cursor()
        if ranges:
            t, m, a, b = zip(*ranges)
            cur.execute(
                "DELETE FROM rollup_hour h USING unnest(%s::int4[], %s::int4[], %s::date[], "
                "%s::date[]) AS w(t, m, lo, hi) WHERE h.tenant_id = w.t AND h.meter_id = w.m "
                "AND h.day >= w.lo AND h.day <= w.hi",
                ([int(x) for x in t], [int(x) for x in m], [index_date(x) for x in a],
                 [index_date(x) for x in b]),
            )
        if not len(rows.day):
            return
        full, clean = _uniform(rows)
        has_ts = rows.first_ts != NO_TS
        # COPY needs one layout per statement: rows are grouped by which columns are NULL.
        for fu, cl, ts in {(bool(a), bool(b), bool(c)) for a, b, c in zip(full, clean, has_ts)}:
            idx = np.flatnonzero((full == fu) & (clean == cl) & (has_ts == ts))
            sub = _take_hours(rows, idx)
            payload = pgbinary.encode(
                [sub.tenant_id, sub.meter_id, sub.day, sub.value,
                 None if fu else sub.coverage, None if cl else sub.flags, sub.valid_count,
                 sub.raw_count, sub.first_ts if ts else None, sub.last_ts if ts else None],
                ["int4", "int4", "date", "float8[]", "null" if fu else "int2[]",
                 "null" if cl else "int2[]", "int4", "int4", "timestamptz" if ts else "null",
                 "timestamptz" if ts else "null"])
            pgbinary.copy_in(cur, "rollup_hour", [
                "tenant_id", "meter_id", "day", "value", "coverage", "flags", "valid_count",
                "raw_count", "first_ts", "last_ts"], payload)

    def hour_values(self, tenant_ids, meter_ids, day_lo: int, day_hi: int):
        if not len(meter_ids):
            return _empty_hours()[:4]
        # Only days whose coverage is not the full default carry a coverage array, so the
        # common complete day costs nothing beyond its values.
        # One index range per meter (LATERAL): rows come out in key order, so nothing is
        # sorted or spilled whatever the number of meters.
        payload = pgbinary.copy_out(
            self.cursor(),
            "SELECT w.m, x.days, x.vals, x.pdays, x.pcov FROM unnest(%s::int4[], %s::int4[]) "
            "AS w(t, m) CROSS JOIN LATERAL (SELECT array_agg(h.day ORDER BY h.day) AS days, "
            "array_agg(h.value ORDER BY h.day) AS vals, "
            "array_agg(h.day ORDER BY h.day) FILTER (WHERE h.coverage IS NOT NULL) AS pdays, "
            "array_agg(h.coverage ORDER BY h.day) FILTER (WHERE h.coverage IS NOT NULL) AS pcov "
            "FROM rollup_hour h WHERE h.tenant_id = w.t AND h.meter_id = w.m AND h.day >= %s "
            "AND h.day <= %s) AS x WHERE x.days IS NOT NULL ORDER BY w.m",
            ([int(t) for t in tenant_ids], [int(m) for m in meter_ids], index_date(day_lo),
             index_date(day_hi)))
        rows = pgbinary.decode_rows(payload, ["int4", "date[]", "float8[]", "date[]", "int2[]"])
        if not rows:
            return _empty_hours()[:4]
        covs = []
        for _, days, _, partial_days, partial in rows:
            cov = np.full((len(days), 24), FULL_HOUR, np.int16)
            if partial_days is not None and len(partial_days):
                cov[np.searchsorted(days, partial_days)] = partial
            covs.append(cov)
        return (np.concatenate([np.full(len(r[1]), r[0], np.int32) for r in rows]),
                np.concatenate([r[1] for r in rows]).astype(np.int64),
                np.concatenate([r[2].reshape(-1, 24) for r in rows]).astype(np.float64),
                np.concatenate(covs))

    def read_hour_ranges(self, ranges):
        ranges = [r for r in ranges if r[3] >= r[2]]
        if not ranges:
            return _empty_hours()
        t, m, a, b = zip(*ranges)
        # One COPY message per meter (array_agg), not one per day: message handling, not the
        # database, is the cost of reading many small rows.
        payload = pgbinary.copy_out(
            self.cursor(),
            "SELECT h.meter_id, array_agg(h.day ORDER BY h.day), array_agg(h.value ORDER BY h.day), "
            f"array_agg(coalesce(h.coverage, array_fill({FULL_HOUR}::int2, ARRAY[24])) "
            "ORDER BY h.day), array_agg(coalesce(h.flags, array_fill(0::int2, ARRAY[24])) "
            "ORDER BY h.day) FROM rollup_hour h "
            "JOIN unnest(%s::int4[], %s::int4[], %s::date[], %s::date[]) AS w(t, m, lo, hi) "
            "ON h.tenant_id = w.t AND h.meter_id = w.m AND h.day >= w.lo AND h.day <= w.hi "
            "GROUP BY h.meter_id ORDER BY 1",
            ([int(x) for x in t], [int(x) for x in m], [index_date(x) for x in a],
             [index_date(x) for x in b]))
        rows = pgbinary.decode_rows(payload, ["int4", "date[]", "float8[]", "int2[]", "int2[]"])
        if not rows:
            return _empty_hours()
        return (np.concatenate([np.full(len(r[1]), r[0], np.int32) for r in rows]),
                np.concatenate([r[1] for r in rows]).astype(np.int64),
                np.concatenate([r[2] for r in rows]).astype(np.float64),
                np.concatenate([r[3] for r in rows]).astype(np.int16),
                np.concatenate([r[4] for r in rows]).astype(np.int16))


def _hour_rows_from(rows: list[tuple]) -> HourRows:
    if not rows:
        z = np.empty(0, np.int32)
        return HourRows(z, z, np.empty(0, np.int64), np.empty((0, 24)), np.empty((0, 24), np.int16),
                        np.empty((0, 24), np.int16), z, z, np.empty(0, np.int64),
                        np.empty(0, np.int64))
    t, m, d, v, c, f, vc, rc, a, b = zip(*rows)
    return HourRows(np.array(t, np.int32), np.array(m, np.int32), np.array(d, np.int64),
                    np.stack(v).astype(np.float64), np.stack(c).astype(np.int16),
                    np.stack(f).astype(np.int16), np.array(vc, np.int32), np.array(rc, np.int32),
                    np.array(a, np.int64), np.array(b, np.int64))


def _take_hours(rows: HourRows, idx: np.ndarray) -> HourRows:
    return HourRows(*(getattr(rows, f)[idx] for f in HourRows.__dataclass_fields__))


def _empty_hours():
    return (np.empty(0, np.int32), np.empty(0, np.int64), np.empty((0, 24)),
            np.empty((0, 24), np.int16), np.empty((0, 24), np.int16))


def _date_to_index(d) -> int:
    from datetime import date

    if isinstance(d, str):
        d = date.fromisoformat(d)
    return (d - EPOCH_DATE).days


def _day_meta_from_rows(rows, sqlite: bool) -> DayMeta:
    if not rows:
        e = np.empty(0, np.int64)
        return DayMeta(e.astype(np.int32), e, e, e, e, e)
    m, d, rc, valid, first, last = zip(*rows)
    valid = [int(v or 0) for v in valid]
    if sqlite:
        first = [NO_TS if x is None else x for x in first]
        last = [NO_TS if x is None else x for x in last]
    else:
        from nengtan.store.types import to_us

        first = [NO_TS if x is None else to_us(x) for x in first]
        last = [NO_TS if x is None else to_us(x) for x in last]
    return DayMeta(np.array(m, np.int32), np.array([_date_to_index(x) for x in d], np.int64),
                   np.array(rc, np.int64), np.array(valid, np.int64), np.array(first, np.int64),
                   np.array(last, np.int64))


def _raw_from_tuples(rows, with_reason: bool, pg: bool = False):
    if not rows:
        return RawRows.empty(), ([] if with_reason else None)
    cols = list(zip(*rows))
    ts = cols[1]
    if pg:
        from nengtan.store.types import to_us

        ts = [to_us(x) for x in ts]
    raw = RawRows(np.array(cols[0], np.int32), np.array(ts, np.int64),
                  np.array(cols[2], np.float64), np.array(cols[3], np.int16),
                  np.array(cols[4], np.int32))
    return raw, (list(cols[5]) if with_reason else None)
