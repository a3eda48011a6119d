"""Aggregation of interval values into aligned buckets (pure, numpy).

* :func:`bucketize` sums intervals into equal buckets ``[t0 + k·step, t0 + (k+1)·step)``.
  An interval that crosses bucket boundaries is split in proportion to time (flag
  ``PRORATED``).  Gap spans are not split: they are kept whole by :func:`periods`.
* :func:`hour_block` is ``bucketize`` for the 24 UTC hours of consecutive days: the content of
  ``rollup_hour`` rows.
* :func:`periods` turns an hour block plus gap spans into local-day rollups, and
  :func:`coarsen` local days into local months: a period's value is the sum of its children
  plus every gap span that lies wholly inside it, so a gap inside a day still gives an exact
  daily total.

Values are in the carrier's unit; coverage is in seconds.  A bucket is complete when its
coverage equals its length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nengtan.quality.flags import Flag
from nengtan.quality.normalize import Intervals
from nengtan.timeseries.calendar import DAY_US, HOUR_US, US


@dataclass
class Buckets:
    t0: int
    step: int
    value: np.ndarray  # NaN where nothing covered
    coverage_us: np.ndarray  # int64
    flags: np.ndarray  # int32

    @property
    def complete(self) -> np.ndarray:
        return self.coverage_us >= self.step


def _or_by_index(index: np.ndarray, flags: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, np.int32)
    present = int(np.bitwise_or.reduce(flags)) if len(flags) else 0
    bit = 1
    while present:
        if present & bit:
            hit = np.bincount(index, weights=(flags & bit) > 0, minlength=n)[:n] > 0
            out[hit] |= bit
            present &= ~bit
        bit <<= 1
    return out


def crosses(iv: Intervals, t0: int, step: int) -> np.ndarray:
    """Intervals that cross a boundary of the bucket grid ``t0 + k·step``."""
    return (iv.start - t0) // step != (iv.end - 1 - t0) // step


def bucketize(iv: Intervals, t0: int, step: int, n: int) -> Buckets:
    """Sum intervals into ``n`` buckets of ``step`` µs from ``t0``.

    Regular intervals are split pro rata across boundaries; a gap span counts only in a bucket
    that wholly contains it.
    """
    reg = iv.select(~(iv.gap & crosses(iv, t0, step))) if iv.gap.any() else iv
    start, end, value, flags = reg.start, reg.end, reg.value, reg.flags
    t1 = t0 + n * step
    inside = (end > t0) & (start < t1)
    if not inside.all():
        start, end, value, flags = start[inside], end[inside], value[inside], flags[inside]
    first = (start - t0) // step
    last = (end - 1 - t0) // step
    count = last - first + 1
    if len(count) and count.max() > 1:
        rep = np.repeat(np.arange(len(start)), count)
        offset = np.arange(len(rep)) - np.repeat(np.cumsum(count) - count, count)
        bucket = first[rep] + offset
        b_start = t0 + bucket * step
        overlap = np.minimum(end[rep], b_start + step) - np.maximum(start[rep], b_start)
        share = value[rep] * overlap / (end[rep] - start[rep])
        fl = flags[rep] | np.where(count[rep] > 1, int(Flag.PRORATED), 0).astype(np.int32)
    else:
        bucket, overlap, share, fl = first, end - start, value, flags
    ok = (bucket >= 0) & (bucket < n)
    if not ok.all():
        bucket, overlap, share, fl = bucket[ok], overlap[ok], share[ok], fl[ok]
    # float64 even without intervals (numpy gives int64 for an empty bincount).
    total = np.bincount(bucket, weights=share, minlength=n)[:n].astype(np.float64)
    cov = np.bincount(bucket, weights=overlap, minlength=n)[:n].astype(np.int64)
    cov = np.minimum(cov, step)
    total[cov == 0] = np.nan
    flags_out = _or_by_index(bucket, fl, n)
    if iv.gap.any():
        # Buckets a gap span runs through get its flag, though not its value.
        for s, e in zip(iv.start[iv.gap], iv.end[iv.gap]):
            lo, hi = max((s - t0) // step, 0), min((e - 1 - t0) // step, n - 1)
            if lo <= hi:
                flags_out[lo:hi + 1] |= int(Flag.GAP)
    return Buckets(t0, step, total, cov, flags_out)


@dataclass
class HourBlock:
    """Rows of ``rollup_hour`` for UTC days ``day0 .. day0 + ndays - 1``."""

    day0: int
    value: np.ndarray  # (ndays, 24) float64, NaN = no data; (meters, ndays, 24) when stacked
    coverage: np.ndarray  # int16 seconds, same shape
    flags: np.ndarray  # int16, same shape

    @property
    def ndays(self) -> int:
        return self.value.shape[-2]

    @staticmethod
    def stack(blocks: list[HourBlock]) -> HourBlock:
        """Blocks of several meters over the same days, as one block with a leading axis."""
        return HourBlock(blocks[0].day0, *(np.stack([getattr(b, f) for b in blocks])
                                           for f in ("value", "coverage", "flags")))

    @staticmethod
    def empty(day0: int, ndays: int) -> HourBlock:
        return HourBlock(day0, np.full((ndays, 24), np.nan), np.zeros((ndays, 24), np.int16),
                         np.zeros((ndays, 24), np.int16))


def hour_block(iv: Intervals, day0: int, ndays: int) -> HourBlock:
    """Hourly buckets for whole UTC days."""
    b = bucketize(iv, day0 * DAY_US, HOUR_US, ndays * 24)
    return HourBlock(
        day0,
        b.value.reshape(ndays, 24),
        (b.coverage_us // US).astype(np.int16).reshape(ndays, 24),
        b.flags.astype(np.int16).reshape(ndays, 24),
    )


@dataclass
class PeriodRollup:
    value: np.ndarray  # NaN where nothing covered
    coverage_s: np.ndarray
    expected_s: np.ndarray
    flags: np.ndarray

    @property
    def complete(self) -> np.ndarray:
        return self.coverage_s >= self.expected_s

    @staticmethod
    def empty(n: int) -> PeriodRollup:
        return PeriodRollup(np.full(n, np.nan), np.zeros(n, np.int64), np.zeros(n, np.int64),
                            np.zeros(n, np.int32))


def periods(block: HourBlock, spans: Intervals, bounds: np.ndarray) -> PeriodRollup:
    """Rollups for periods ``[bounds[k], bounds[k+1])`` (UTC µs on whole hours) from an hour
    block and gap spans; the block must cover every period.  A stacked block (several meters,
    no spans) gives results with the same leading axis."""
    h0 = block.day0 * 24
    first, last = int(bounds[0] // HOUR_US - h0), int(bounds[-1] // HOUR_US - h0)
    if first < 0 or last > block.ndays * 24:
        raise ValueError("hour block does not cover the requested periods")
    lead = block.value.shape[:-2]
    hours = PeriodRollup(
        block.value.reshape(*lead, -1)[..., first:last],
        block.coverage.reshape(*lead, -1)[..., first:last].astype(np.int64),
        np.full((*lead, last - first), 3600, np.int64),
        block.flags.reshape(*lead, -1)[..., first:last].astype(np.int32))
    hour_bounds = (h0 + first + np.arange(last - first + 1, dtype=np.int64)) * HOUR_US
    return coarsen(hours, hour_bounds, spans, bounds)


def coarsen(child: PeriodRollup, child_bounds: np.ndarray, spans: Intervals,
            bounds: np.ndarray) -> PeriodRollup:
    """Aggregate child periods (hours → days, days → months) into parent periods.

    ``bounds`` must be a subset of ``child_bounds`` (UTC µs).  A parent's value is the sum of
    its children's covered values plus every gap span that crosses a child boundary but lies
    wholly inside the parent (a span inside one child is already in that child).  Every span
    flags ``GAP`` on the parents it overlaps.

    The child arrays may carry a leading axis (several meters with the same periods; spans only
    with a single row): the result then has the same leading axis.
    """
    idx = np.searchsorted(child_bounds, bounds)
    if not np.array_equal(child_bounds[idx], bounds):
        raise ValueError("period bounds are not aligned with the child periods")
    if np.any(np.diff(idx) <= 0):
        raise ValueError("every period must contain at least one child period")
    if len(spans) and np.size(child.value) != np.shape(child.value)[-1]:
        raise ValueError("gap spans belong to one meter: coarsen its periods on their own")
    n = len(bounds) - 1
    start, end = idx[:-1], idx[-1]
    # Each period sums its own children, in order, so a value never depends on which window
    # it was computed in (incremental updates equal a rebuild bit for bit).
    value = np.add.reduceat(np.nan_to_num(child.value[..., :end], nan=0.0), start, axis=-1)
    cov = np.add.reduceat(child.coverage_s[..., :end].astype(np.int64), start, axis=-1)
    flags = np.bitwise_or.reduceat(child.flags[..., :end].astype(np.int32), start, axis=-1)
    if len(spans):
        in_child = (np.searchsorted(child_bounds, spans.start, "right")
                    == np.searchsorted(child_bounds, spans.end, "left"))
        first = np.searchsorted(bounds, spans.start, "right") - 1
        last = np.searchsorted(bounds, spans.end, "left") - 1
        whole = (first == last) & (first >= 0) & (first < n) & ~in_child
        value = value + np.bincount(first[whole], weights=spans.value[whole], minlength=n)[:n]
        cov = cov + np.bincount(first[whole], weights=(spans.end - spans.start)[whole] // US,
                                minlength=n)[:n].astype(np.int64)
        for a, b in zip(first, last):
            lo, hi = max(int(a), 0), min(int(b), n - 1)
            if lo <= hi:
                flags[..., lo:hi + 1] |= int(Flag.GAP)
    value = value.astype(np.float64)
    value[cov == 0] = np.nan
    expected = np.broadcast_to(np.diff(bounds) // US, value.shape)
    return PeriodRollup(value, cov, expected, flags)
