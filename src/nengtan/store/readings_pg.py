"""Readings and rollups on PostgreSQL: binary COPY in and out, one statement per batch.

Readings go straight into each month's partition (``store/partitions.py``); reads of many
meters are aggregated per meter (``array_agg``) so that a thousand meters cost a thousand COPY
messages, not a million.
"""

from __future__ import annotations

import numpy as np

from nengtan.store import partitions, pgbinary
from nengtan.store.readings_store import (
    FULL_HOUR,
    NO_TS,
    DayMeta,
    HourRows,
    PeriodRows,
    RawRows,
    ReadingsStore,
    _day_meta_from_rows,
    _days_from_rows,
    _empty_hours,
    _hour_rows_from,
    _raw_from_tuples,
    _uniform,
)
from nengtan.store.types import from_us
from nengtan.timeseries.calendar import EPOCH_DATE, index_date


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

    def replace_periods(self, table: str, key: str, ranges, rows: PeriodRows) -> None:
        self._delete_date_ranges(table, key, ranges)
        columns = ["tenant_id", "meter_id", key, "value", "coverage_s", "expected_s", "flags"]
        has_value = ~np.isnan(rows.value)
        # COPY needs one layout per statement: rows without a value carry NULL.
        for sel, kind in ((has_value, "float8"), (~has_value, "null")):
            if sel.any():
                payload = pgbinary.encode(
                    [rows.tenant_id[sel], rows.meter_id[sel], rows.key[sel],
                     rows.value[sel] if kind == "float8" else None, rows.coverage_s[sel],
                     rows.expected_s[sel], rows.flags[sel]],
                    ["int4", "int4", "date", kind, "int4", "int4", "int4"])
                pgbinary.copy_in(self.cursor(), table, columns, payload)

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
            return HourRows.empty()
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
            sub = rows.take(idx)
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
