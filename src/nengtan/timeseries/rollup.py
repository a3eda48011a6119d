"""Aggregation of interval values into aligned buckets (pure, numpy).

* :func:`bucketize` sums intervals into equal buckets ``[t0 + k·step, t0 + (k+1)·step)``.
  An interval that crosses bucket boundaries is split in proportion to time (flag
  ``PRORATED``).  Gap spans are not split: they are kept whole by :func:`periods`.
* :func:`hour_block` is ``bucketize`` for the 24 UTC hours of consecutive days, plus the count
  of valid readings per hour: the content of ``rollup_hour`` rows.
* :func:`periods` turns an hour block plus gap spans into local-day or local-month rollups: a
  period's value is the sum of its hours plus every gap span that lies wholly inside it, so a
  gap inside a day still gives an exact daily total.

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
    total = np.bincount(bucket, weights=share, minlength=n)[:n]
    cov = np.bincount(bucket, weights=overlap, minlength=n)[:n].astype(np.int64)
    cov = np.minimum(cov, step)
    total[cov == 0] = np.nan
    return Buckets(t0, step, total, cov, _or_by_index(bucket, fl, n))


@dataclass
class HourBlock:
    """Rows of ``rollup_hour`` for UTC days ``day0 .. day0 + ndays - 1``."""

    day0: int
    value: np.ndarray  # (ndays, 24) float64, NaN = no data
    coverage: np.ndarray  # (ndays, 24) int32 seconds
    flags: np.ndarray  # (ndays, 24) int16
    readings: np.ndarray  # (ndays, 24) int16 valid readings per hour

    @property
    def ndays(self) -> int:
        return self.value.shape[0]


def hour_block(iv: Intervals, reading_ts: np.ndarray, day0: int, ndays: int) -> HourBlock:
    """Hourly buckets for whole UTC days, with valid readings counted per hour."""
    b = bucketize(iv, day0 * DAY_US, HOUR_US, ndays * 24)
    hours = (np.asarray(reading_ts, np.int64) - day0 * DAY_US) // HOUR_US
    hours = hours[(hours >= 0) & (hours < ndays * 24)]
    counts = np.bincount(hours, minlength=ndays * 24)[: ndays * 24]
    return HourBlock(
        day0,
        b.value.reshape(ndays, 24),
        (b.coverage_us // US).astype(np.int32).reshape(ndays, 24),
        b.flags.astype(np.int16).reshape(ndays, 24),
        np.minimum(counts, np.iinfo(np.int16).max).astype(np.int16).reshape(ndays, 24),
    )


@dataclass
class PeriodRollup:
    value: np.ndarray  # NaN where nothing covered
    coverage_s: np.ndarray
    expected_s: np.ndarray
    flags: np.ndarray
    readings: np.ndarray

    @property
    def complete(self) -> np.ndarray:
        return self.coverage_s >= self.expected_s


def periods(block: HourBlock, spans: Intervals, bounds: np.ndarray) -> PeriodRollup:
    """Rollups for periods ``[bounds[k], bounds[k+1])`` (UTC µs on whole hours) from hours and spans.

    The block must cover every period.  A gap span that crosses an hour boundary (one inside
    an hour is already in that hour) adds its value and duration to the period that wholly
    contains it; every gap span flags ``GAP`` on the periods it overlaps.
    """
    h0 = block.day0 * 24
    idx = (bounds // HOUR_US) - h0
    if idx[0] < 0 or idx[-1] > block.ndays * 24:
        raise ValueError("hour block does not cover the requested periods")
    flat_v = np.nan_to_num(block.value.ravel(), nan=0.0)
    csum = lambda a: np.concatenate(([0], np.cumsum(a)))  # noqa: E731
    value = np.diff(csum(flat_v)[idx])
    cov = np.diff(csum(block.coverage.ravel().astype(np.int64))[idx])
    reads = np.diff(csum(block.readings.ravel().astype(np.int64))[idx])
    period_of_hour = np.repeat(np.arange(len(idx) - 1), np.diff(idx))
    flags = _or_by_index(period_of_hour, block.flags.ravel()[idx[0]:idx[-1]].astype(np.int32),
                         len(idx) - 1)
    if len(spans):
        in_hours = ~crosses(spans, 0, HOUR_US)
        inside_from = np.searchsorted(bounds, spans.start, "right") - 1
        inside_to = np.searchsorted(bounds, spans.end, "left") - 1
        whole = ((inside_from == inside_to) & (inside_from >= 0) & (inside_from < len(idx) - 1)
                 & ~in_hours)
        value = value + np.bincount(inside_from[whole], weights=spans.value[whole],
                                    minlength=len(idx) - 1)[: len(idx) - 1]
        cov = cov + np.bincount(inside_from[whole],
                                weights=(spans.end - spans.start)[whole] // US,
                                minlength=len(idx) - 1)[: len(idx) - 1].astype(np.int64)
        for a, b in zip(inside_from, inside_to):
            lo, hi = max(a, 0), min(b, len(idx) - 2)
            if lo <= hi:
                flags[lo:hi + 1] |= int(Flag.GAP)
    expected = np.diff(bounds) // US
    value = value.astype(np.float64)
    value[cov == 0] = np.nan
    return PeriodRollup(value, cov, expected, flags, reads)
