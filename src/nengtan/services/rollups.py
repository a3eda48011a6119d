"""Incremental maintenance of hour/day/month rollups after readings or meter events change.

Only affected ranges are recomputed.  For a meter whose readings changed in [lo, hi]:

1. Context: the nearest UTC days with readings before and after the change are found from
   ``rollup_hour`` (its btree key), until ``CONTEXT_LOAD`` valid readings lie on each side.
   An interval's value depends only on readings a few positions away (see
   :mod:`nengtan.quality.normalize`), so this bounded context decides it exactly.
2. The window's readings are loaded (the changed part comes from memory when the caller has
   it) and turned into intervals; hourly rows are rewritten for every UTC day of the window
   that has at least ``CONTEXT_NEED`` valid readings of context on each side (or the meter's
   data ends there), together with gap spans and pipeline findings starting on those days.
3. Virtual meters that depend on changed meters are re-evaluated hour by hour.
4. Local days and months that overlap rewritten hours or changed gap spans are recomputed from
   hourly rows and spans.

Rebuilding from scratch (:func:`rebuild`) uses the same path with the whole history as the
changed range, which is what the property tests compare incremental updates against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import Connection, select

from nengtan.quality.flags import Quality
from nengtan.quality.normalize import Intervals, to_intervals
from nengtan.services import meter_specs
from nengtan.services.meter_specs import MeterInfo
from nengtan.store.models import Meter
from nengtan.store.readings_store import NO_TS, HourRows, RawRows, ReadingsStore
from nengtan.timeseries.calendar import (
    DAY_US,
    day_bounds,
    first_of_month,
    local_date,
    local_midnight_us,
    month_bounds,
    next_month,
    utc_day,
)
from nengtan.timeseries.rollup import HourBlock, hour_block, periods

CONTEXT_LOAD = 8
CONTEXT_NEED = 4
NEIGHBOUR_DAYS = 16


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


def apply(conn: Connection, store: ReadingsStore, changes: dict[int, Change],
          infos: dict[int, MeterInfo] | None = None) -> dict[int, Written]:
    """Recompute everything that depends on ``changes`` (physical meters)."""
    if not changes:
        return {}
    infos = infos if infos is not None else meter_specs.load(conn, changes)
    written = recompute_hours(store, infos, changes)
    virtual = meter_specs.virtual_dependents(conn, list(written))
    if virtual:
        infos = {**infos, **meter_specs.load(conn, virtual)}
        operands = {o for v in virtual for o in infos[v].operands} - set(infos)
        infos.update(meter_specs.load(conn, operands))
        written.update(recompute_virtual(store, infos, virtual, written))
    recompute_periods(store, infos, written)
    return written


def rebuild(conn: Connection, store: ReadingsStore, meter_ids=None) -> dict[int, Written]:
    """Recompute all rollups of the given meters (default: every physical meter) from readings."""
    query = select(Meter.id).where(Meter.kind != "virtual")
    if meter_ids is not None:
        query = query.where(Meter.id.in_([int(m) for m in meter_ids]))
    ids = [r[0] for r in conn.execute(query).all()]
    infos = meter_specs.load(conn, ids)
    extent = store.reading_extent([infos[m].tenant_id for m in ids], ids)
    changes = {m: Change(lo, hi) for m, (lo, hi) in extent.items()}
    return apply(conn, store, changes, infos)


def _context_day(found: list[tuple[int, int]], start_day: int) -> tuple[int, bool]:
    """Furthest day needed to gather CONTEXT_LOAD valid readings, and whether data ran out."""
    total, day = 0, start_day
    for d, valid in found:
        total += valid
        day = d
        if total >= CONTEXT_LOAD:
            return day, False
    return day, len(found) < NEIGHBOUR_DAYS


def recompute_hours(store: ReadingsStore, infos: dict[int, MeterInfo],
                    changes: dict[int, Change]) -> dict[int, Written]:
    ids = sorted(changes)
    tenants = [infos[m].tenant_id for m in ids]
    day_a = [utc_day(changes[m].lo) for m in ids]
    day_b = [utc_day(changes[m].hi) for m in ids]
    before = store.neighbour_days(tenants, ids, day_a, True, NEIGHBOUR_DAYS)
    after = store.neighbour_days(tenants, ids, day_b, False, NEIGHBOUR_DAYS)

    windows: dict[int, tuple[int, int, bool, bool]] = {}
    req_m, req_lo, req_hi = [], [], []
    for m, da, db in zip(ids, day_a, day_b):
        ds, open_before = _context_day(before.get(m, []), da)
        de, open_after = _context_day(after.get(m, []), db)
        windows[m] = (ds, de, open_before, open_after)
        ch = changes[m]
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

    hour_rows: list[HourRows] = []
    ranges, span_ranges, spans, findings = [], [], [], []
    written: dict[int, Written] = {}
    for m, s, e in zip(ids, starts, ends):
        info = infos[m]
        window = fetched.take(np.arange(s, e))
        known = changes[m].known
        if known is not None and len(known):
            window = _merge_sorted(window, known)
        ds, de, open_before, open_after = windows[m]
        result = _hours_for_window(info, window, ds, de, open_before, open_after)
        if result is None or not (result[1] <= utc_day(changes[m].lo)
                                  and utc_day(changes[m].hi) <= result[2]):
            # Cannot happen while CONTEXT_LOAD > CONTEXT_NEED: a guard against silent staleness.
            raise RuntimeError(f"meter {m}: changed days fall outside the recomputed window")
        rows, dw0, dw1, iv, found = result
        lo_us, hi_us = dw0 * DAY_US, (dw1 + 1) * DAY_US
        hour_rows.append(rows)
        ranges.append((info.tenant_id, m, dw0, dw1))
        span_ranges.append((info.tenant_id, m, lo_us, hi_us))
        gaps = iv.select(iv.gap & (iv.start >= lo_us) & (iv.start < hi_us))
        spans.append((info.tenant_id, m, gaps))
        findings += [(info.tenant_id, m, f) for f in found if lo_us <= f.start_us < hi_us]
        until = int(gaps.end.max()) if len(gaps) else hi_us
        written[m] = Written(dw0, dw1, max(until, hi_us))

    old_spans = store.read_spans(span_ranges)
    for t, m, lo, hi in span_ranges:
        old = old_spans.get(m)
        if old is not None and len(old):
            written[m].until_us = max(written[m].until_us, int(old.end.max()))
    store.replace_hour_rows(_concat_hours(hour_rows), ranges)
    store.replace_spans(span_ranges, spans)
    store.replace_findings(span_ranges, findings)
    return written


def _merge_sorted(a: RawRows, b: RawRows) -> RawRows:
    """Union of two sorted readings sets of one meter (``b`` wins on equal timestamps)."""
    if not len(a):
        return b
    keep = ~np.isin(a.ts, b.ts)
    both = RawRows(*(np.concatenate([x[keep], y]) for x, y in
                     ((a.meter_id, b.meter_id), (a.ts, b.ts), (a.value, b.value),
                      (a.quality, b.quality), (a.batch_id, b.batch_id))))
    return both.take(np.argsort(both.ts, kind="stable"))


def _hours_for_window(info: MeterInfo, window: RawRows, ds: int, de: int, open_before: bool,
                      open_after: bool):
    iv, found = to_intervals(window.ts, window.value, window.quality, info.spec, info.events)
    valid_ts = window.ts[window.quality != Quality.REJECTED]
    days = np.arange(ds, de + 1)
    n_before = np.searchsorted(valid_ts, days * DAY_US, "left")
    n_after = len(valid_ts) - np.searchsorted(valid_ts, (days + 1) * DAY_US, "left")
    ok = (open_before | (n_before >= CONTEXT_NEED)) & (open_after | (n_after >= CONTEXT_NEED))
    if not ok.any():
        return None
    dw0, dw1 = int(days[ok][0]), int(days[ok][-1])
    block = hour_block(iv, valid_ts, dw0, dw1 - dw0 + 1)
    rows = _hour_rows(info, block, window.ts)
    return rows, dw0, dw1, iv, found


def _hour_rows(info: MeterInfo, block: HourBlock, raw_ts: np.ndarray) -> HourRows:
    days = block.day0 + np.arange(block.ndays)
    lo = np.searchsorted(raw_ts, days * DAY_US, "left")
    hi = np.searchsorted(raw_ts, (days + 1) * DAY_US, "left")
    raw_count = hi - lo
    has_raw = raw_count > 0
    first = np.full(len(days), NO_TS, np.int64)
    last = np.full(len(days), NO_TS, np.int64)
    first[has_raw] = raw_ts[lo[has_raw]]
    last[has_raw] = raw_ts[hi[has_raw] - 1]
    keep = has_raw | (block.coverage.sum(axis=1) > 0)
    n = int(keep.sum())
    return HourRows(
        np.full(n, info.tenant_id, np.int32), np.full(n, info.id, np.int32), days[keep],
        block.value[keep], block.coverage[keep], block.flags[keep], block.readings[keep],
        raw_count[keep].astype(np.int32), first[keep], last[keep],
    )


def _concat_hours(parts: list[HourRows]) -> HourRows:
    if not parts:
        z = np.empty(0, np.int32)
        return HourRows(z, z, np.empty(0, np.int64), np.empty((0, 24)), np.empty((0, 24), np.int32),
                        np.empty((0, 24), np.int16), np.empty((0, 24), np.int16), z,
                        np.empty(0, np.int64), np.empty(0, np.int64))
    return HourRows(*(np.concatenate([getattr(p, f) for p in parts])
                      for f in HourRows.__dataclass_fields__))


def _blocks(store: ReadingsStore, infos, ids, day_lo: int, day_hi: int) -> dict[int, HourBlock]:
    """Hour blocks for UTC days [day_lo, day_hi] of each meter (missing days: no data)."""
    m, d, v, c, f, r = store.read_hours([infos[i].tenant_id for i in ids], ids, day_lo, day_hi)
    n = day_hi - day_lo + 1
    out = {}
    for i in ids:
        value = np.full((n, 24), np.nan)
        cov = np.zeros((n, 24), np.int32)
        fl = np.zeros((n, 24), np.int16)
        rd = np.zeros((n, 24), np.int16)
        sel = m == i
        rows = d[sel] - day_lo
        value[rows], cov[rows], fl[rows], rd[rows] = v[sel], c[sel], f[sel], r[sel]
        out[i] = HourBlock(day_lo, value, cov, fl, rd)
    return out


def recompute_virtual(store: ReadingsStore, infos: dict[int, MeterInfo], virtual: list[int],
                      written: dict[int, Written]) -> dict[int, Written]:
    """Evaluate virtual meters hour by hour over the days their operands changed."""
    out: dict[int, Written] = {}
    for vid in virtual:
        info = infos[vid]
        touched = [written.get(o) or out.get(o) for o in info.operands]
        touched = [w for w in touched if w is not None]
        if not touched:
            continue
        lo = min(w.day_lo for w in touched)
        hi = max(max(w.day_hi, utc_day(w.until_us - 1)) for w in touched)
        ops = list(info.operands)
        blocks = _blocks(store, infos, ops, lo, hi)
        values = {code: blocks[oid].value * info.operands[oid]
                  for code, oid in info.operand_ids.items()}
        value = info.formula.evaluate(values)
        cov = np.min(np.stack([blocks[o].coverage for o in ops]), axis=0)
        flags = np.bitwise_or.reduce(np.stack([blocks[o].flags for o in ops]), axis=0)
        value[cov == 0] = np.nan
        block = HourBlock(lo, value, cov.astype(np.int32), flags.astype(np.int16),
                          np.zeros_like(cov, dtype=np.int16))
        rows = _hour_rows(info, block, np.empty(0, np.int64))
        store.replace_hour_rows(rows, [(info.tenant_id, vid, lo, hi)])
        out[vid] = Written(lo, hi, (hi + 1) * DAY_US)
    return out


def recompute_periods(store: ReadingsStore, infos: dict[int, MeterInfo],
                      written: dict[int, Written]) -> None:
    """Rewrite local-day and local-month rollups overlapping what was rewritten."""
    plans: dict[int, tuple] = {}
    for m, w in written.items():
        tz = infos[m].tz
        start_us, end_us = w.day_lo * DAY_US, max((w.day_hi + 1) * DAY_US, w.until_us)
        first_day, last_day = local_date(start_us, tz), local_date(end_us - 1, tz)
        m0, m1 = first_of_month(first_day), first_of_month(last_day)
        span_lo = local_midnight_us(m0, tz)
        span_hi = local_midnight_us(next_month(m1), tz)
        plans[m] = (first_day, last_day, m0, m1, span_lo, span_hi)

    groups: dict[tuple[int, int], list[int]] = {}
    for m, p in plans.items():
        groups.setdefault((utc_day(p[4]), utc_day(p[5] - 1)), []).append(m)

    day_ranges, day_rows, month_ranges, month_rows = [], [], [], []
    for (dlo, dhi), ids in groups.items():
        blocks = _blocks(store, infos, ids, dlo, dhi)
        spans = store.read_spans([(infos[m].tenant_id, m, plans[m][4], plans[m][5]) for m in ids])
        for m in ids:
            info = infos[m]
            first_day, last_day, m0, m1, _, _ = plans[m]
            sp = spans.get(m, Intervals.empty())
            days, bounds = day_bounds(first_day, last_day, info.tz)
            day_ranges.append((info.tenant_id, m, first_day, last_day))
            day_rows += _period_rows(info, days, periods(blocks[m], sp, bounds))
            months, mbounds = month_bounds(m0, m1, info.tz)
            month_ranges.append((info.tenant_id, m, m0, m1))
            month_rows += _period_rows(info, months, periods(blocks[m], sp, mbounds))
    store.replace_periods("rollup_day", "day", day_ranges, day_rows)
    store.replace_periods("rollup_month", "month", month_ranges, month_rows)


def _period_rows(info: MeterInfo, keys, rollup) -> list[tuple]:
    rows = []
    for k, v, c, e, f, r in zip(keys, rollup.value, rollup.coverage_s, rollup.expected_s,
                                rollup.flags, rollup.readings):
        if c > 0 or r > 0:
            rows.append((info.tenant_id, info.id, k, None if np.isnan(v) else float(v), int(c),
                         int(e), int(f), int(r)))
    return rows

