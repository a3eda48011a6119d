"""Ingestion of readings: validate the whole batch, store it idempotently, update rollups.

Guarantees (issue "meter-data pipeline"):

* A batch is validated as a whole before anything is written; any invalid row rejects the
  batch with issues naming the row, the field and the rule.
* Re-sending a reading that is already stored with the same value and quality is a no-op
  (``unchanged``), whatever the order readings arrive in.
* A reading for an existing (meter, ts) with a different value or quality is a *conflict*: the
  new value wins for computation and the stored one moves to ``reading_revisions`` with both
  batches, so no value is ever lost.  Within one batch the last row for a (meter, ts) wins and
  earlier different rows are recorded the same way.
* Values arriving in another unit of the same dimension are converted to the meter's unit
  (``万m3`` for an ``m3`` meter, ``Wh`` for a ``kWh`` meter); the batch records the source.
* Rollups are recomputed for the affected ranges only, in the same transaction.

Concurrency: ingestion of a tenant's meters is serialised by a transaction advisory lock on
PostgreSQL (SQLite serialises all writers), which is what keeps (meter, ts) unique there.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
from sqlalchemy import Connection, select

from nengtan import units
from nengtan.errors import InputError, Issue
from nengtan.quality.flags import Quality
from nengtan.services import meter_specs, quality_rules, rollups
from nengtan.store.models import Meter
from nengtan.store.readings_store import RawRows, merge_sorted, store_for
from nengtan.store.types import to_us

#: Earliest accepted reading time, and how far ahead of the clock a reading may be stamped.
MIN_TS_US = to_us(datetime(2000, 1, 1, tzinfo=timezone.utc))
MAX_FUTURE_US = 24 * 3600 * 1_000_000
MAX_ISSUES = 200


@dataclass
class ReadingBatch:
    """Readings to ingest, columnar.  ``row`` numbers the source rows for error messages."""

    meter_id: np.ndarray
    ts: np.ndarray  # int64 µs UTC
    value: np.ndarray
    quality: np.ndarray | None = None  # int16 Quality codes; default measured
    reason: np.ndarray | None = None  # object array of str | None
    unit: np.ndarray | None = None  # object array of unit spellings | None (meter unit)
    row: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ts)


@dataclass
class IngestResult:
    batch_id: int
    rows: int
    inserted: int
    unchanged: int
    revised: int
    meters: int

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def ingest(conn: Connection, batch: ReadingBatch, source: str, detail: str | None = None,
           sha256: str | None = None) -> IngestResult:
    """Validate and store ``batch`` in the caller's transaction; raises InputError if invalid."""
    store = store_for(conn)
    n = len(batch)
    meter_ids = np.asarray(batch.meter_id, np.int64)
    meters = _meters(conn, np.unique(meter_ids))
    values, quality, tenant = _validate(batch, meters)

    dependents = meter_specs.virtual_dependents(conn, meters) if n else []
    lock = set(tenant.tolist())
    if dependents:
        lock |= {int(t) for (t,) in conn.execute(
            select(Meter.tenant_id).where(Meter.id.in_(dependents))).all()}
    batch_id = store.new_batch(source, detail, sha256, n)
    store.lock_tenants(np.array(sorted(lock)))
    if not n:
        return IngestResult(batch_id, 0, 0, 0, 0, 0)

    rows = RawRows(meter_ids.astype(np.int32), np.asarray(batch.ts, np.int64), values, quality,
                   np.full(n, batch_id, np.int32), tenant.astype(np.int32),
                   None if batch.reason is None else np.asarray(batch.reason, dtype=object))
    rows, dup_old, dup_new = _dedupe(rows)
    meters_in_batch = np.unique(rows.meter_id)
    tails = store.read_tails([meters[int(m)][0] for m in meters_in_batch], meters_in_batch)
    existing, existing_reason, suspects = _existing(store, rows, tails)
    new_idx, same_idx, changed_idx, old_idx = _classify(rows, existing, suspects)

    touched = np.sort(np.concatenate([new_idx, changed_idx])) if len(changed_idx) else new_idx
    changes = _changes(rows, existing, touched)
    infos = meter_specs.load(conn, changes)
    planned = rollups.plan(store, infos, changes, tails)
    # The readings stream to the database from a worker thread while this thread computes the
    # rollups: the database and Python each keep a core busy.  Nothing else touches the
    # connection until the worker is done.
    with ThreadPoolExecutor(max_workers=1) as pool:
        inserting = pool.submit(store.insert, rows.take(new_idx))
        computed = rollups.compute(planned)
        inserting.result()
    store.update(rows.take(changed_idx))
    now = _now_us()
    if len(changed_idx):
        old_reason = [existing_reason[i] for i in old_idx] if existing_reason else [None] * len(old_idx)
        store.insert_revisions(existing.take(old_idx), rows.take(changed_idx), old_reason, now)
    if len(dup_old):
        store.insert_revisions(dup_old, dup_new, dup_old.reason if dup_old.reason is not None
                               else [None] * len(dup_old), now)
    rollups.write(store, computed)
    rollups.update_virtual(conn, store, infos, computed.written, dependents)

    revised = len(changed_idx) + len(dup_old)
    unchanged = len(same_idx) + (n - len(rows) - len(dup_old))
    store.finish_batch(batch_id, len(new_idx), unchanged, revised)
    quality_rules.on_ingest(conn, changes)
    return IngestResult(batch_id, n, len(new_idx), unchanged, revised,
                        int(len(np.unique(rows.meter_id))))


def check(conn: Connection, batch: ReadingBatch) -> None:
    """Validate ``batch`` without writing anything (raises InputError listing bad rows)."""
    _validate(batch, _meters(conn, np.unique(np.asarray(batch.meter_id, np.int64))))


def _now_us() -> int:
    import time

    return time.time_ns() // 1000


def _meters(conn: Connection, ids: np.ndarray) -> dict[int, tuple]:
    if not len(ids):
        return {}
    rows = conn.execute(select(Meter.id, Meter.tenant_id, Meter.unit, Meter.kind, Meter.code)
                        .where(Meter.id.in_([int(i) for i in ids]))).all()
    return {r.id: (r.tenant_id, r.unit, r.kind, r.code) for r in rows}


def _validate(batch: ReadingBatch, meters: dict[int, tuple]):
    """Converted values, quality codes and tenant ids; raises InputError listing bad rows."""
    n = len(batch)
    rows = batch.row if batch.row is not None else np.arange(n)
    issues: list[Issue] = []

    def bad(mask: np.ndarray, rule: str, field: str, value_of, **params) -> None:
        """Record issues for the rows in ``mask``; ``value_of(i)`` shows the offending value."""
        for i in np.flatnonzero(mask)[: MAX_ISSUES]:
            issues.append(Issue(rule, row=int(rows[i]), field=field, value=value_of(i),
                                params=params))

    meter_ids = np.asarray(batch.meter_id, np.int64)
    ids = np.array(sorted(meters), np.int64)
    known = np.isin(meter_ids, ids)
    bad(~known, "rule.meter_unknown", "meter", lambda i: int(meter_ids[i]))
    virtual_ids = np.array([m for m, v in meters.items() if v[2] == "virtual"], np.int64)
    virtual = np.isin(meter_ids, virtual_ids)
    bad(virtual, "rule.meter_virtual", "meter", lambda i: meters[int(meter_ids[i])][3])

    ts = np.asarray(batch.ts, np.int64)
    latest = _now_us() + MAX_FUTURE_US
    bad((ts < MIN_TS_US) | (ts > latest), "rule.ts_range", "ts", lambda i: _iso(ts[i]))

    value = np.asarray(batch.value, np.float64)
    bad(~np.isfinite(value), "rule.not_finite", "value", lambda i: float(value[i]))

    if batch.quality is None:
        quality = np.zeros(n, np.int16)
    else:
        quality = np.asarray(batch.quality, np.int64)
        bad((quality < 0) | (quality > 3), "rule.quality", "quality", lambda i: int(quality[i]))
        quality = quality.clip(0, 3).astype(np.int16)
    rejected = np.flatnonzero(quality == Quality.REJECTED)
    if len(rejected):
        reason = batch.reason if batch.reason is not None else [None] * n
        missing = np.zeros(n, bool)
        missing[rejected] = [reason[i] is None or not str(reason[i]).strip() for i in rejected]
        bad(missing, "rule.reason_required", "reason", lambda i: None)

    converted = value.copy()
    if batch.unit is not None:
        unit = np.asarray(batch.unit, dtype=object)
        for (m, u) in {(int(m), u) for m, u, k in zip(meter_ids, unit, known) if k and u}:
            sel = (meter_ids == m) & (unit == u)
            try:
                converted[sel] = value[sel] * units.factor(u, meters[m][1])
            except units.UnitError:
                bad(sel, "rule.unit_mismatch", "unit", lambda i: unit[i], expected=meters[m][1])
    if issues:
        raise InputError(issues[: MAX_ISSUES])
    tenant_of = np.array([meters[int(m)][0] for m in ids], np.int64)
    tenant = tenant_of[np.searchsorted(ids, meter_ids)]
    return converted, quality, tenant


def _iso(t) -> str:
    try:
        return np.datetime64(int(t), "us").astype(str) + "Z"
    except (OverflowError, ValueError):
        return str(t)


def _dedupe(rows: RawRows):
    """Sort by (meter, ts); for repeated (meter, ts) keep the last row of the batch.

    Returns the kept rows and, for earlier rows that differ from the kept one, the pairs
    (earlier, kept) to record as revisions.
    """
    m, t = rows.meter_id, rows.ts
    if not np.all((m[1:] > m[:-1]) | ((m[1:] == m[:-1]) & (t[1:] > t[:-1]))):
        rows = rows.take(np.lexsort((np.arange(len(rows)), t, m)))
    last = np.ones(len(rows), bool)
    same_key = (rows.meter_id[1:] == rows.meter_id[:-1]) & (rows.ts[1:] == rows.ts[:-1])
    last[:-1] = ~same_key
    if last.all():
        return rows, RawRows.empty(), RawRows.empty()
    # Index of the kept (last) row for every row.
    kept_pos = np.flatnonzero(last)
    owner = kept_pos[np.searchsorted(kept_pos, np.arange(len(rows)), "left")]
    earlier = np.flatnonzero(~last)
    differs = (rows.value[earlier] != rows.value[owner[earlier]]) | (
        rows.quality[earlier] != rows.quality[owner[earlier]])
    old = rows.take(earlier[differs])
    new = rows.take(owner[earlier[differs]])
    return rows.take(kept_pos), old, new


def _existing(store, rows: RawRows, tails: dict):
    """Stored readings that may coincide with the batch, found without scanning ``readings``
    unless the meter's tail and ``rollup_hour`` say its stored readings overlap the batch."""
    meters, first = np.unique(rows.meter_id, return_index=True)
    last = np.r_[first[1:], len(rows)] - 1
    # A meter's tail is empty when its rollups were computed without readings (an event).
    appended = np.array([int(m) in tails and len(tails[int(m)][0]) > 0
                         and rows.ts[f] > tails[int(m)][0].ts[-1]
                         for m, f in zip(meters, first)], bool)
    meters, first, last = meters[~appended], first[~appended], last[~appended]
    if not len(meters):
        return RawRows.empty(), [], set()
    lo, hi = rows.ts[first], rows.ts[last]
    tenants = rows.tenant_id[first]
    day = lambda us: us // (86_400 * 1_000_000)  # noqa: E731
    meta = store.day_meta(tenants, meters, day(lo), day(hi))
    suspects = set()
    if len(meta.day):
        pos = np.searchsorted(meters, meta.meter_id)
        overlap = (meta.raw_count > 0) & (meta.first_ts <= hi[pos]) & (meta.last_ts >= lo[pos])
        suspects = {int(m) for m in meta.meter_id[overlap]}
    if not suspects:
        return RawRows.empty(), [], suspects
    sel = np.array([int(m) in suspects for m in meters])
    existing, reason = store.fetch(meters[sel], lo[sel], hi[sel] + 1, with_reason=True)
    return existing, reason, suspects


def _classify(rows: RawRows, existing: RawRows, suspects: set[int]):
    """Indices into ``rows``: new, unchanged, changed; and for changed, indices into existing."""
    n = len(rows)
    if not len(existing):
        return np.arange(n), np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64)
    found = np.full(n, -1, np.int64)
    for m in suspects:
        r0, r1 = np.searchsorted(rows.meter_id, [m, m + 1])
        e0, e1 = np.searchsorted(existing.meter_id, [m, m + 1])
        if r0 == r1 or e0 == e1:
            continue
        ets = existing.ts[e0:e1]
        pos = np.searchsorted(ets, rows.ts[r0:r1])
        pos_c = np.minimum(pos, len(ets) - 1)
        hit = ets[pos_c] == rows.ts[r0:r1]
        found[r0:r1][hit] = e0 + pos_c[hit]
    is_new = found < 0
    idx = np.flatnonzero(~is_new)
    old = found[idx]
    same = (existing.value[old] == rows.value[idx]) & (existing.quality[old] == rows.quality[idx])
    return np.flatnonzero(is_new), idx[same], idx[~same], old[~same]


def _changes(rows: RawRows, existing: RawRows, touched: np.ndarray) -> dict[int, rollups.Change]:
    """Per meter with new or changed readings: the batch's time range and the readings stored
    in that range after this batch (existing ones overridden by the batch)."""
    out: dict[int, rollups.Change] = {}
    touched_meters = np.unique(rows.meter_id[touched])
    for m in touched_meters:
        r0, r1 = np.searchsorted(rows.meter_id, [m, m + 1])
        mine = rows.take(np.arange(r0, r1))
        e0, e1 = np.searchsorted(existing.meter_id, [m, m + 1]) if len(existing) else (0, 0)
        if e1 > e0:
            mine = merge_sorted(existing.take(np.arange(e0, e1)), mine)
        out[int(m)] = rollups.Change(int(mine.ts[0]), int(mine.ts[-1]), mine)
    return out


def resolve_meter_codes(conn: Connection, codes) -> dict[str, int]:
    codes = {str(c) for c in codes if c is not None and not (isinstance(c, float) and math.isnan(c))}
    if not codes:
        return {}
    return dict(conn.execute(select(Meter.code, Meter.id).where(Meter.code.in_(codes))).all())
