"""Bulk I/O of readings and rollups: shared types and the base class.

The ingestion and rollup services speak to :class:`ReadingsStore` only (``store_for(conn)``);
SQL lives here and in the two implementations, ``readings_sqlite.py`` and ``readings_pg.py``.
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
from nengtan.timeseries.calendar import EPOCH_DATE, index_date


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

    def __len__(self) -> int:
        return len(self.day)

    def take(self, idx: np.ndarray) -> HourRows:
        return HourRows(*(getattr(self, f)[idx] for f in HourRows.__dataclass_fields__))

    @staticmethod
    def empty() -> HourRows:
        z, e = np.empty(0, np.int32), np.empty(0, np.int64)
        h = np.empty((0, 24), np.int16)
        return HourRows(z, z, e, np.empty((0, 24)), h, h, z, z, e, e)

    @staticmethod
    def concat(parts: list[HourRows]) -> HourRows:
        if not parts:
            return HourRows.empty()
        return HourRows(*(np.concatenate([getattr(p, f) for p in parts])
                          for f in HourRows.__dataclass_fields__))


@dataclass
class PeriodRows:
    """``rollup_day``/``rollup_month`` rows to write, columnar.  ``key`` is the local date as
    days since 1970-01-01 (a month by its first day); ``value`` NaN is stored as NULL."""

    tenant_id: np.ndarray
    meter_id: np.ndarray
    key: np.ndarray
    value: np.ndarray
    coverage_s: np.ndarray
    expected_s: np.ndarray
    flags: np.ndarray

    def __len__(self) -> int:
        return len(self.key)

    @staticmethod
    def concat(parts: list[PeriodRows]) -> PeriodRows:
        if not parts:
            z = np.empty(0, np.int64)
            return PeriodRows(z, z, z, np.empty(0), z, z, z)
        return PeriodRows(*(np.concatenate([getattr(p, f) for p in parts])
                            for f in PeriodRows.__dataclass_fields__))


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
    """The readings store for the connection's database."""
    if conn.dialect.name == "postgresql":
        from nengtan.store.readings_pg import PostgresReadings

        return PostgresReadings(conn)
    from nengtan.store.readings_sqlite import SqliteReadings

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
    def lock_tenants(self, tenant_ids: np.ndarray) -> None:  # noqa: B027 - a no-op by default
        """Serialise ingestion per tenant (nothing to do where the database serialises
        writers, as SQLite does)."""

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

    def replace_periods(self, table: str, key: str, ranges, rows: PeriodRows) -> None:
        """Replace ``rollup_day``/``rollup_month`` rows.

        ``ranges``: (tenant_id, meter_id, first_key, last_key) dates, inclusive, are deleted;
        ``rows`` are inserted.
        """
        self._delete_date_ranges(table, key, ranges)
        if len(rows):
            p = self.placeholder
            self.cursor().executemany(
                f"INSERT INTO {table} (tenant_id, meter_id, {key}, value, coverage_s, expected_s, "
                f"flags) VALUES ({', '.join([p] * 7)})",
                [(int(t), int(m), self._date_param(index_date(k)), None if v != v else float(v),
                  int(c), int(e), int(f))
                 for t, m, k, v, c, e, f in zip(rows.tenant_id, rows.meter_id, rows.key,
                                                rows.value, rows.coverage_s, rows.expected_s,
                                                rows.flags)])

    def _date_param(self, d):
        return d

    def hour_values(self, tenant_ids, meter_ids, day_lo: int, day_hi: int):
        """Hourly values and coverage only (the bulk read path): (meter_id, day, value (n, 24),
        coverage (n, 24)), sorted by meter and day."""
        m, d, v, c, _ = self.read_hours(tenant_ids, meter_ids, day_lo, day_hi)
        return m, d, v, c

    def read_hour_ranges(self, ranges):
        """(meter_id, day, value (n, 24), coverage, flags) of ``rollup_hour`` for
        (tenant, meter, day_lo, day_hi) ranges, sorted by meter and day."""
        rows = self.read_hour_rows(ranges)
        return rows.meter_id, rows.day, rows.value, rows.coverage, rows.flags

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


def _days_from_rows(rows):
    if not rows:
        e = np.empty(0, np.int64)
        return e.astype(np.int32), e, np.empty(0), e, e.astype(np.int32)
    m, d, v, c, f = zip(*rows)
    return (np.array(m, np.int32), np.array([_date_to_index(x) for x in d], np.int64),
            np.array([np.nan if x is None else x for x in v], np.float64),
            np.array(c, np.int64), np.array(f, np.int32))


def _hour_rows_from(rows: list[tuple]) -> HourRows:
    if not rows:
        return HourRows.empty()
    t, m, d, v, c, f, vc, rc, a, b = zip(*rows)
    return HourRows(np.array(t, np.int32), np.array(m, np.int32), np.array(d, np.int64),
                    np.stack(v).astype(np.float64), np.stack(c).astype(np.int16),
                    np.stack(f).astype(np.int16), np.array(vc, np.int32), np.array(rc, np.int32),
                    np.array(a, np.int64), np.array(b, np.int64))


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
