"""Readings and rollups on SQLite: a clustered ``readings`` table, row-wise statements.

SQLite runs in-process, so a statement per meter costs microseconds; arrays are stored as
little-endian BLOBs (see ``store/types.py``).
"""

from __future__ import annotations

import numpy as np

from nengtan.store.readings_store import (
    FULL_HOUR,
    NO_TS,
    DayMeta,
    HourRows,
    RawRows,
    ReadingsStore,
    _date_to_index,
    _day_meta_from_rows,
    _days_from_rows,
    _hour_rows_from,
    _raw_from_tuples,
    _uniform,
)
from nengtan.timeseries.calendar import index_date


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
