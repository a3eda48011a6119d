"""Incremental maintenance of hour/day/month rollups after readings or meter events change.

Only affected ranges are recomputed.  For a meter whose readings changed in [lo, hi]:

1. Context: an interval's value depends only on readings a few positions away (see
   :mod:`nengtan.quality.normalize`), so a change in [lo, hi] can alter intervals that start
   up to ``AFFECT`` valid readings before ``lo`` and end up to ``AFFECT`` after ``hi``; the
   UTC days holding those readings are *affected*, and each needs ``CONTEXT_NEED`` valid
   readings beyond it on both sides.  The nearest days with readings are found from
   ``rollup_hour`` (its btree key), so ``readings`` is only read for those days.
2. Hourly rows are rewritten for every day of that window with enough context, with the gap
   spans and pipeline findings that start on those days.
3. Local days overlapping the rewritten hours (or changed gap spans) are recomputed from hourly
   rows and spans, and their months from day rows and spans.
4. Virtual meters depending on changed meters are re-evaluated hour by hour, then their days
   and months.

Appends — a batch that starts after every stored reading of its meter, which is what
collectors and bulk loads send — take a shorter path: the meter's last readings are kept in
``meter_tails``, so the context comes from there instead of ``readings``, and hourly values are
recomputed only from the hour of the first affected interval on (earlier hours of that day keep
their stored values; reading counts are carried forward).

The work runs in three phases — :func:`plan` (every read), :func:`compute` (pure CPU, no I/O)
and :func:`write` — so that the ingestion service can stream a batch's readings to the
database while the rollups are being computed.  :func:`rebuild` uses the same path with a
meter's whole history as the changed range, which is what tests compare incremental updates
against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from sqlalchemy import Connection, select

from nengtan.quality.flags import Quality
from nengtan.quality.normalize import Intervals, to_intervals
from nengtan.services import meter_specs
from nengtan.services.meter_specs import MeterInfo
from nengtan.store.models import Meter
from nengtan.store.readings_store import (
    NO_TS,
    HourRows,
    PeriodRows,
    RawRows,
    ReadingsStore,
    merge_sorted,
)
from nengtan.timeseries.calendar import (
    DAY_US,
    EPOCH_DATE,
    HOUR_US,
    day_bounds,
    first_of_month,
    local_date,
    local_midnight_us,
    month_bounds,
    next_month,
    utc_day,
)
from nengtan.timeseries.rollup import HourBlock, PeriodRollup, coarsen, hour_block, periods

AFFECT = 3
CONTEXT_NEED = 4
NEIGHBOUR_DAYS = 24
#: Raw readings kept per meter in ``meter_tails`` at least; more for meters read more often
#: than every few minutes (see ``_tail_start``).
TAIL_N = 16


@dataclass
class Change:
    """Readings of one meter changed within [lo, hi] (µs, inclusive).

    ``known`` holds the stored readings in [lo, hi] when the caller has them in memory, so they
    need not be read back.
    """

    lo: int
    hi: int
    known: RawRows | None = None


@dataclass
class Written:
    """Hourly rows rewritten for UTC days [day_lo, day_hi]; gap spans may reach ``until_us``."""

    day_lo: int
    day_hi: int
    until_us: int


@dataclass
class MeterPlan:
    info: MeterInfo
    change: Change
    ds: int  # first UTC day of the readings window
    de: int  # last UTC day of the readings window
    open_before: bool  # the meter has no readings before the window
    open_after: bool
    window: RawRows | None = None
    #: Append path: hours from this instant on are recomputed; None = whole days.
    append_from: int | None = None
    stored: HourRows | None = None  # stored rows of the days an append rewrites
    tail_complete: bool = False
    hours: HourBlock | None = None  # stored hourly rows around the window (for local days)
    spans: Intervals | None = None  # stored gap spans over the months around the window
    days: PeriodRollup | None = None  # stored day rollups of those months
    days_first: date | None = None


@dataclass
class Plan:
    infos: dict[int, MeterInfo]
    meters: dict[int, MeterPlan] = field(default_factory=dict)


@dataclass
class Result:
    hour_rows: list[HourRows] = field(default_factory=list)
    hour_ranges: list[tuple] = field(default_factory=list)
    span_ranges: list[tuple] = field(default_factory=list)
    spans: list[tuple] = field(default_factory=list)
    findings: list[tuple] = field(default_factory=list)
    day_ranges: list[tuple] = field(default_factory=list)
    day_rows: list[PeriodRows] = field(default_factory=list)
    month_ranges: list[tuple] = field(default_factory=list)
    month_rows: list[PeriodRows] = field(default_factory=list)
    written: dict[int, Written] = field(default_factory=dict)
    tails: list[tuple] = field(default_factory=list)


# -- public entry points -------------------------------------------------------------------
def apply(conn: Connection, store: ReadingsStore, changes: dict[int, Change],
          infos: dict[int, MeterInfo] | None = None) -> dict[int, Written]:
    """Recompute everything that depends on ``changes`` (physical meters), in one go."""
    if not changes:
        return {}
    infos = infos if infos is not None else meter_specs.load(conn, changes)
    result = compute(plan(store, infos, changes))
    write(store, result)
    return result.written | update_virtual(conn, store, infos, result.written)


def rebuild(conn: Connection, store: ReadingsStore, meter_ids=None) -> dict[int, Written]:
    """Recompute all rollups of the given meters (default: every physical meter) from readings."""
    query = select(Meter.id).where(Meter.kind != "virtual")
    if meter_ids is not None:
        query = query.where(Meter.id.in_([int(m) for m in meter_ids]))
    ids = [r[0] for r in conn.execute(query).all()]
    infos = meter_specs.load(conn, ids)
    extent = store.reading_extent([infos[m].tenant_id for m in ids], ids)
    return apply(conn, store, {m: Change(lo, hi) for m, (lo, hi) in extent.items()}, infos)


def update_virtual(conn: Connection, store: ReadingsStore, infos: dict[int, MeterInfo],
                   written: dict[int, Written], virtual: list[int] | None = None
                   ) -> dict[int, Written]:
    """Re-evaluate the virtual meters that depend on ``written`` meters (after ``write``);
    ``virtual`` may pass ``meter_specs.virtual_dependents`` already computed by the caller."""
    if virtual is None:
        virtual = meter_specs.virtual_dependents(conn, list(written))
    if not virtual:
        return {}
    infos = {**infos, **meter_specs.load(conn, virtual)}
    infos.update(meter_specs.load(conn, {o for v in virtual for o in infos[v].operands} - set(infos)))
    out = recompute_virtual(store, infos, virtual, written)
    refresh_periods(store, infos, out)
    return out


# -- phase 1: reads ------------------------------------------------------------------------
def _context_day(found: list[tuple[int, int]], start_day: int) -> tuple[int, bool]:
    """Furthest day to load on one side of a change, and whether the meter's data ends there.

    ``found`` lists the nearest days with readings beyond the change, nearest first, with their
    valid readings.  Readings on the change's own day are not counted, which can only make the
    window wider than needed, never too narrow.
    """
    seen, affected, day = 0, None, start_day
    for d, valid in found:
        day = d
        seen += valid
        if affected is None:
            if seen >= AFFECT:
                affected, seen = d, 0
        elif seen >= CONTEXT_NEED:
            return day, False
    return day, len(found) < NEIGHBOUR_DAYS


def plan(store: ReadingsStore, infos: dict[int, MeterInfo], changes: dict[int, Change],
         tails: dict[int, tuple[RawRows, bool]] | None = None) -> Plan:
    """Everything :func:`compute` needs from the database, read in a few batched statements.

    ``tails`` (``store.read_tails``) may be passed by a caller that has already read them.
    """
    out = Plan(infos)
    ids = sorted(changes)
    if tails is None:
        tails = store.read_tails([infos[m].tenant_id for m in ids], ids)
    full_ids = []
    for m in ids:
        mp = _append_plan(infos[m], changes[m], tails.get(m))
        if mp is None:
            full_ids.append(m)
        else:
            out.meters[m] = mp
    _plan_full(store, infos, changes, full_ids, out)

    # Stored rollups around each window, for the local days and months it touches; an append
    # also needs the stored rows of the days it partly rewrites.
    hour_req, span_req, day_req = [], [], []
    for m, mp in out.meters.items():
        t, tz = mp.info.tenant_id, mp.info.tz
        lo_day, hi_day = mp.ds - 1, mp.de + 2
        if mp.append_from is None:
            c0, c1 = utc_day(mp.change.lo), utc_day(mp.change.hi)
            hour_req += [(t, m, lo_day, c0 - 1), (t, m, c1 + 1, hi_day)]
        else:
            hour_req.append((t, m, lo_day, hi_day))
        m0 = first_of_month(local_date(lo_day * DAY_US, tz))
        m1 = first_of_month(local_date((hi_day + 1) * DAY_US - 1, tz))
        mp.days_first = m0
        day_req.append((t, m, m0, next_month(m1) - timedelta(days=1)))
        span_req.append((t, m, local_midnight_us(m0, tz), local_midnight_us(next_month(m1), tz)))
    hours = store.read_hour_rows(hour_req)
    days = store.read_day_ranges(day_req)
    spans = store.read_spans(span_req)
    hour_arrays = (hours.meter_id, hours.day, hours.value, hours.coverage, hours.flags)
    for (_, m, first, last) in day_req:
        mp = out.meters[m]
        mp.hours = _block(hour_arrays, m, mp.ds - 1, mp.de + 2)
        mp.days = _day_children(days, m, first, last)
        mp.spans = spans.get(m, Intervals.empty())
        if mp.append_from is not None:
            a, b = np.searchsorted(hours.meter_id, [m, m + 1])
            sel = np.arange(a, b)
            mp.stored = hours.take(sel[(hours.day[sel] >= mp.ds) & (hours.day[sel] <= mp.de)])
    return out


def _append_plan(info: MeterInfo, change: Change, tail) -> MeterPlan | None:
    """The append path for a change after every stored reading, or None if it does not apply
    (not an append, no tail, or the tail holds too little context)."""
    if change.known is None or tail is None or not len(tail[0]) or change.lo <= tail[0].ts[-1]:
        return None
    rows, complete = tail
    valid = rows.ts[rows.quality != Quality.REJECTED]
    if len(valid) >= AFFECT:
        first_affected = int(valid[-AFFECT])
    elif complete:
        first_affected = int(rows.ts[0])
    else:
        return None
    start = first_affected - first_affected % HOUR_US
    if not complete and np.searchsorted(valid, start) < CONTEXT_NEED:
        return None
    mp = MeterPlan(info, change, utc_day(start), utc_day(change.hi) + _reach_days(info), complete,
                   True, append_from=start, tail_complete=complete)
    mp.window = merge_sorted(rows, change.known)
    return mp


def _tail_start(window: RawRows) -> int:
    """First reading to keep in the tail: enough for the next append to take the append path.

    An append recomputes from the start of the hour holding the ``AFFECT``-th last valid
    reading and needs ``CONTEXT_NEED`` valid readings before that; for meters read every minute
    or second that reaches further back than ``TAIL_N`` readings.
    """
    n = len(window)
    first = max(0, n - TAIL_N)
    valid_idx = np.flatnonzero(window.quality != Quality.REJECTED)
    if len(valid_idx) < AFFECT:
        return 0
    affected = int(window.ts[valid_idx[-AFFECT]])
    hour_start = affected - affected % HOUR_US
    before = valid_idx[window.ts[valid_idx] < hour_start]
    need = int(before[-CONTEXT_NEED]) if len(before) >= CONTEXT_NEED else 0
    return min(first, need)


def _plan_full(store: ReadingsStore, infos, changes, ids: list[int], out: Plan) -> None:
    """Whole-day windows with enough context on both sides, read from ``readings``."""
    if not ids:
        return
    tenants = [infos[m].tenant_id for m in ids]
    day_a = [utc_day(changes[m].lo) for m in ids]
    day_b = [utc_day(changes[m].hi) for m in ids]
    before = store.neighbour_days(tenants, ids, day_a, True, NEIGHBOUR_DAYS)
    after = store.neighbour_days(tenants, ids, day_b, False, NEIGHBOUR_DAYS)
    req_m, req_lo, req_hi = [], [], []
    for m, da, db in zip(ids, day_a, day_b):
        ds, open_before = _context_day(before.get(m, []), da)
        de, open_after = _context_day(after.get(m, []), db)
        de = max(de, db + _reach_days(infos[m]))
        ch = changes[m]
        out.meters[m] = MeterPlan(infos[m], ch, ds, de, open_before, open_after)
        w0, w1 = ds * DAY_US, (de + 1) * DAY_US
        if ch.known is None:
            req_m.append(m), req_lo.append(w0), req_hi.append(w1)
        else:
            req_m += [m, m]
            req_lo += [w0, ch.hi + 1]
            req_hi += [ch.lo, w1]
    fetched, _ = store.fetch(np.array(req_m), np.array(req_lo, np.int64), np.array(req_hi, np.int64))
    starts = np.searchsorted(fetched.meter_id, ids, "left")
    ends = np.searchsorted(fetched.meter_id, ids, "right")
    for m, s, e in zip(ids, starts, ends):
        window = fetched.take(np.arange(s, e))
        known = changes[m].known
        out.meters[m].window = merge_sorted(window, known) if known is not None else window


def _reach_days(info: MeterInfo) -> int:
    """UTC days an interval can extend past the day of the reading that starts it.

    A cumulative interval ends at the next reading, so it never reaches past the data; an
    interval-register reading covers ``interval_s`` after its time (a daily reading at local
    midnight in UTC+8 ends at 16:00 UTC the next day).
    """
    if info.spec.register != "interval":
        return 0
    return -(-info.spec.interval_s // 86_400)


def _block(rows, meter: int, day_lo: int, day_hi: int) -> HourBlock:
    """Hour block for UTC days [day_lo, day_hi] of one meter from rows sorted by meter."""
    m, d, v, c, f = rows
    a, b = np.searchsorted(m, [meter, meter + 1])
    sel = np.arange(a, b)
    sel = sel[(d[sel] >= day_lo) & (d[sel] <= day_hi)]
    block = HourBlock.empty(day_lo, day_hi - day_lo + 1)
    pos = d[sel] - day_lo
    block.value[pos], block.coverage[pos], block.flags[pos] = v[sel], c[sel], f[sel]
    return block


def _day_children(rows, meter: int, first: date, last: date) -> PeriodRollup:
    m, d, v, c, f = rows
    n = (last - first).days + 1
    a, b = np.searchsorted(m, [meter, meter + 1])
    out = PeriodRollup.empty(n)
    pos = d[a:b] - (first - EPOCH_DATE).days
    ok = (pos >= 0) & (pos < n)
    pos = pos[ok]
    out.value[pos], out.coverage_s[pos], out.flags[pos] = v[a:b][ok], c[a:b][ok], f[a:b][ok]
    return out


# -- phase 2: computation (no I/O) -----------------------------------------------------------
@dataclass
class _PeriodJob:
    """Local days [first, last] of one meter to recompute, and their months."""

    info: MeterInfo
    hours: HourBlock
    spans: Intervals
    days: PeriodRollup
    days_first: date
    first: date
    last: date

    def key(self) -> tuple:
        return (self.info.tz.key, self.hours.day0, self.hours.ndays, self.days_first,
                len(self.days.value), self.first, self.last)


def compute(p: Plan) -> Result:
    result = Result()
    jobs = [_compute_meter(mp, result) for mp in p.meters.values()]
    _run_period_jobs(jobs, result)
    return result


def _run_period_jobs(jobs: list[_PeriodJob], result: Result) -> None:
    """Meters whose windows coincide (the rule in bulk loads) share one 2-D computation; a
    meter with gap spans is computed on its own."""
    groups: dict[tuple, list[_PeriodJob]] = {}
    for job in jobs:
        if len(job.spans):
            _periods_for([job], result)
        else:
            groups.setdefault(job.key(), []).append(job)
    for group in groups.values():
        _periods_for(group, result)


def _compute_meter(mp: MeterPlan, result: Result) -> _PeriodJob:
    info, window = mp.info, mp.window
    iv, found = to_intervals(window.ts, window.value, window.quality, info.spec, info.events)
    valid_ts = window.ts[window.quality != Quality.REJECTED]
    if mp.append_from is None:
        dw0, dw1 = _writable_days(mp, valid_ts)
        lo_us = dw0 * DAY_US
        block = hour_block(iv, dw0, dw1 - dw0 + 1)
        rows = _hour_rows(info, block, window.ts, valid_ts)
    else:
        dw0, dw1, lo_us = mp.ds, mp.de, mp.append_from
        block = hour_block(iv, dw0, dw1 - dw0 + 1)
        rows = _appended_rows(mp, block)
    hi_us = (dw1 + 1) * DAY_US
    result.hour_rows.append(rows)
    result.hour_ranges.append((info.tenant_id, info.id, dw0, dw1))
    new_spans = iv.select(iv.gap & (iv.start >= lo_us) & (iv.start < hi_us))
    result.span_ranges.append((info.tenant_id, info.id, lo_us, hi_us))
    result.spans.append((info.tenant_id, info.id, new_spans))
    result.findings += [(info.tenant_id, info.id, f) for f in found if lo_us <= f.start_us < hi_us]
    if mp.open_after:
        first = _tail_start(window)
        tail = window.take(np.arange(first, len(window)))
        complete = (mp.tail_complete if mp.append_from is not None else mp.open_before)
        result.tails.append((info.tenant_id, info.id, tail, complete and first == 0))

    old = mp.spans
    old_inside = (old.start >= lo_us) & (old.start < hi_us)
    ends = [hi_us]
    if len(new_spans):
        ends.append(int(new_spans.end.max()))
    if old_inside.any():
        ends.append(int(old.end[old_inside].max()))
    until = max(ends)
    result.written[info.id] = Written(dw0, dw1, until)

    hours = mp.hours
    at = slice(dw0 - hours.day0, dw1 - hours.day0 + 1)
    merged = HourBlock.empty(dw0, dw1 - dw0 + 1)
    pos = rows.day - dw0
    merged.value[pos], merged.coverage[pos], merged.flags[pos] = rows.value, rows.coverage, rows.flags
    hours.value[at], hours.coverage[at], hours.flags[at] = merged.value, merged.coverage, merged.flags
    spans = _concat_spans(old.select(~old_inside), new_spans)
    return _PeriodJob(info, hours, spans, mp.days, mp.days_first,
                      local_date(dw0 * DAY_US, info.tz), local_date(until - 1, info.tz))


def _writable_days(mp: MeterPlan, valid_ts: np.ndarray) -> tuple[int, int]:
    """UTC days of the window with enough context on both sides (they include the change)."""
    days = np.arange(mp.ds, mp.de + 1)
    n_before = np.searchsorted(valid_ts, days * DAY_US, "left")
    n_after = len(valid_ts) - np.searchsorted(valid_ts, (days + 1) * DAY_US, "left")
    ok = ((mp.open_before | (n_before >= CONTEXT_NEED))
          & (mp.open_after | (n_after >= CONTEXT_NEED)))
    c0, c1 = utc_day(mp.change.lo), utc_day(mp.change.hi)
    if not ok.any() or not (days[ok][0] <= c0 and c1 <= days[ok][-1]):
        # Cannot happen by construction of the window: a guard against silent staleness.
        raise RuntimeError(f"meter {mp.info.code}: changed days fall outside the recomputed window")
    return int(days[ok][0]), int(days[ok][-1])


def _appended_rows(mp: MeterPlan, block: HourBlock) -> HourRows:
    """Hour rows after an append: hours before ``append_from`` keep their stored values, and
    reading counts are the stored ones plus the appended readings."""
    info, known, stored = mp.info, mp.change.known, mp.stored
    days = block.day0 + np.arange(block.ndays)
    first_hour = int((mp.append_from - block.day0 * DAY_US) // HOUR_US)
    value, coverage, flags = (block.value.ravel().copy(), block.coverage.ravel().copy(),
                              block.flags.ravel().copy())
    raw = np.zeros(len(days), np.int32)
    valid = np.zeros(len(days), np.int32)
    first = np.full(len(days), NO_TS, np.int64)
    last = np.full(len(days), NO_TS, np.int64)
    pos = stored.day - block.day0
    if len(pos):
        raw[pos], valid[pos], first[pos], last[pos] = (stored.raw_count, stored.valid_count,
                                                        stored.first_ts, stored.last_ts)
        old = np.full((len(days), 24), np.nan)
        old_cov = np.zeros((len(days), 24), np.int16)
        old_flags = np.zeros((len(days), 24), np.int16)
        old[pos], old_cov[pos], old_flags[pos] = stored.value, stored.coverage, stored.flags
        value[:first_hour] = old.ravel()[:first_hour]
        coverage[:first_hour] = old_cov.ravel()[:first_hour]
        flags[:first_hour] = old_flags.ravel()[:first_hour]
    lo = np.searchsorted(known.ts, days * DAY_US, "left")
    hi = np.searchsorted(known.ts, (days + 1) * DAY_US, "left")
    added = hi - lo
    good = np.concatenate(([0], np.cumsum(known.quality != Quality.REJECTED)))
    added_valid = good[hi] - good[lo]
    raw += added.astype(np.int32)
    valid += added_valid.astype(np.int32)
    has = added > 0
    first[has & (first == NO_TS)] = known.ts[lo[has & (first == NO_TS)]]
    last[has] = known.ts[hi[has] - 1]
    block = HourBlock(block.day0, value.reshape(-1, 24), coverage.reshape(-1, 24),
                      flags.reshape(-1, 24))
    keep = (raw > 0) | (block.coverage.sum(axis=1) > 0)
    n = int(keep.sum())
    return HourRows(np.full(n, info.tenant_id, np.int32), np.full(n, info.id, np.int32),
                    days[keep], block.value[keep], block.coverage[keep], block.flags[keep],
                    valid[keep], raw[keep], first[keep], last[keep])


def _periods_for(jobs: list[_PeriodJob], result: Result) -> None:
    """Day rollups for the jobs' local days [first, last] and rollups of their months.

    All jobs share ``_PeriodJob.key()`` (one job if it has gap spans).  Each job's ``hours``
    must cover those days; its ``days`` holds the stored day rollups of the months from
    ``days_first`` on and is updated in place.
    """
    job = jobs[0]
    tz, first, last = job.info.tz, job.first, job.last
    spans = job.spans if len(jobs) == 1 else Intervals.empty()
    keys, bounds = _day_bounds(first, last, tz)
    new_days = periods(HourBlock.stack([j.hours for j in jobs]), spans, bounds)

    m0, m1 = first_of_month(first), first_of_month(last)
    last_day = next_month(m1) - timedelta(days=1)
    at = (first - job.days_first).days
    c0, c1 = (m0 - job.days_first).days, (last_day - job.days_first).days + 1
    children = PeriodRollup(*(np.stack([getattr(j.days, f) for j in jobs])
                              for f in ("value", "coverage_s", "expected_s", "flags")))
    sel = slice(at, at + len(keys))
    children.value[:, sel], children.coverage_s[:, sel] = new_days.value, new_days.coverage_s
    children.flags[:, sel] = new_days.flags
    month_children = PeriodRollup(*(getattr(children, f)[:, c0:c1]
                                    for f in ("value", "coverage_s", "expected_s", "flags")))
    _, child_bounds = _day_bounds(m0, last_day, tz)
    months, mbounds = month_bounds(m0, m1, tz)
    new_months = coarsen(month_children, child_bounds, spans, mbounds)
    for i, j in enumerate(jobs):
        j.days.value[sel], j.days.coverage_s[sel], j.days.flags[sel] = (
            new_days.value[i], new_days.coverage_s[i], new_days.flags[i])
        result.day_ranges.append((j.info.tenant_id, j.info.id, first, last))
        result.month_ranges.append((j.info.tenant_id, j.info.id, m0, m1))
    result.day_rows.append(_period_rows(jobs, keys, new_days))
    result.month_rows.append(_period_rows(jobs, months, new_months))


def _concat_spans(a: Intervals, b: Intervals) -> Intervals:
    if not len(a):
        return b
    if not len(b):
        return a
    out = Intervals(*(np.concatenate([getattr(a, f), getattr(b, f)])
                      for f in ("start", "end", "value", "flags", "gap")))
    return out.select(np.argsort(out.start, kind="stable"))


def _hour_rows(info: MeterInfo, block: HourBlock, raw_ts: np.ndarray,
               valid_ts: np.ndarray) -> HourRows:
    days = block.day0 + np.arange(block.ndays)
    lo = np.searchsorted(raw_ts, days * DAY_US, "left")
    hi = np.searchsorted(raw_ts, (days + 1) * DAY_US, "left")
    raw_count = hi - lo
    valid_count = (np.searchsorted(valid_ts, (days + 1) * DAY_US, "left")
                   - np.searchsorted(valid_ts, days * DAY_US, "left"))
    has_raw = raw_count > 0
    first = np.full(len(days), NO_TS, np.int64)
    last = np.full(len(days), NO_TS, np.int64)
    first[has_raw] = raw_ts[lo[has_raw]]
    last[has_raw] = raw_ts[hi[has_raw] - 1]
    keep = has_raw | (block.coverage.sum(axis=1) > 0)
    n = int(keep.sum())
    return HourRows(
        np.full(n, info.tenant_id, np.int32), np.full(n, info.id, np.int32), days[keep],
        block.value[keep], block.coverage[keep], block.flags[keep],
        valid_count[keep].astype(np.int32), raw_count[keep].astype(np.int32), first[keep],
        last[keep],
    )


def _period_rows(jobs: list[_PeriodJob], keys: list[date], rollup: PeriodRollup) -> PeriodRows:
    """Rows for the periods that have data (``rollup`` has one row per job); a period without
    coverage gets no row."""
    keep = rollup.coverage_s > 0
    n_keys = len(keys)
    index = np.array([(k - EPOCH_DATE).days for k in keys], np.int64)
    tenant = np.repeat([j.info.tenant_id for j in jobs], n_keys).reshape(len(jobs), n_keys)
    meter = np.repeat([j.info.id for j in jobs], n_keys).reshape(len(jobs), n_keys)
    return PeriodRows(tenant[keep], meter[keep], np.broadcast_to(index, keep.shape)[keep],
                      rollup.value[keep], rollup.coverage_s[keep],
                      np.broadcast_to(rollup.expected_s, keep.shape)[keep], rollup.flags[keep])


_bounds_cache: dict[tuple, tuple] = {}


def _day_bounds(first: date, last: date, tz):
    key = (tz.key, first, last)
    if key not in _bounds_cache:
        if len(_bounds_cache) > 4096:
            _bounds_cache.clear()
        _bounds_cache[key] = day_bounds(first, last, tz)
    return _bounds_cache[key]


# -- phase 3: writes -----------------------------------------------------------------------
def write(store: ReadingsStore, result: Result) -> None:
    store.replace_hour_rows(HourRows.concat(result.hour_rows), result.hour_ranges)
    store.replace_tails(result.tails)
    store.replace_spans(result.span_ranges, result.spans)
    store.replace_findings(result.span_ranges, result.findings)
    store.replace_periods("rollup_day", "day", result.day_ranges,
                          PeriodRows.concat(result.day_rows))
    store.replace_periods("rollup_month", "month", result.month_ranges,
                          PeriodRows.concat(result.month_rows))


# -- virtual meters and period refresh from stored rows -----------------------------------------
def recompute_virtual(store: ReadingsStore, infos: dict[int, MeterInfo], virtual: list[int],
                      written: dict[int, Written]) -> dict[int, Written]:
    """Evaluate virtual meters hour by hour over the days their operands changed (in order:
    a virtual meter's operands come before it)."""
    out: dict[int, Written] = {}
    for vid in virtual:
        info = infos[vid]
        touched = [w for w in (written.get(o) or out.get(o) for o in info.operands) if w]
        if not touched:
            continue
        lo = min(w.day_lo for w in touched)
        hi = max(max(w.day_hi, utc_day(w.until_us - 1)) for w in touched)
        ops = list(info.operands)
        rows = store.read_hour_ranges([(infos[o].tenant_id, o, lo, hi) for o in ops])
        blocks = {o: _block(rows, o, lo, hi) for o in ops}
        values = {code: blocks[oid].value * info.operands[oid]
                  for code, oid in info.operand_ids.items()}
        value = info.formula.evaluate(values)
        cov = np.min(np.stack([blocks[o].coverage for o in ops]), axis=0)
        flags = np.bitwise_or.reduce(np.stack([blocks[o].flags for o in ops]), axis=0)
        value[cov == 0] = np.nan
        block = HourBlock(lo, value, cov.astype(np.int16), flags.astype(np.int16))
        none = np.empty(0, np.int64)
        store.replace_hour_rows(_hour_rows(info, block, none, none), [(info.tenant_id, vid, lo, hi)])
        out[vid] = Written(lo, hi, (hi + 1) * DAY_US)
    return out


def refresh_periods(store: ReadingsStore, infos: dict[int, MeterInfo],
                    written: dict[int, Written]) -> None:
    """Recompute local days and months over ``written`` ranges from the stored hourly rows."""
    if not written:
        return
    hour_req, day_req, span_req, spans_for = [], [], [], {}
    ranges = {}
    for m, w in written.items():
        info = infos[m]
        first = local_date(w.day_lo * DAY_US, info.tz)
        last = local_date(max((w.day_hi + 1) * DAY_US, w.until_us) - 1, info.tz)
        m0, m1 = first_of_month(first), first_of_month(last)
        lo_us, hi_us = local_midnight_us(m0, info.tz), local_midnight_us(next_month(m1), info.tz)
        ranges[m] = (first, last, m0, utc_day(lo_us), utc_day(hi_us - 1))
        hour_req.append((info.tenant_id, m, utc_day(lo_us), utc_day(hi_us - 1)))
        day_req.append((info.tenant_id, m, m0, next_month(m1) - timedelta(days=1)))
        span_req.append((info.tenant_id, m, lo_us, hi_us))
    hours = store.read_hour_ranges(hour_req)
    days = store.read_day_ranges(day_req)
    spans_for = store.read_spans(span_req)
    result = Result()
    jobs = []
    for (_, m, m0, last_day) in day_req:
        first, last, _, d0, d1 = ranges[m]
        jobs.append(_PeriodJob(infos[m], _block(hours, m, d0, d1),
                               spans_for.get(m, Intervals.empty()),
                               _day_children(days, m, m0, last_day), m0, first, last))
    _run_period_jobs(jobs, result)
    store.replace_periods("rollup_day", "day", result.day_ranges,
                          PeriodRows.concat(result.day_rows))
    store.replace_periods("rollup_month", "month", result.month_ranges,
                          PeriodRows.concat(result.month_rows))

