"""Aggregation of intervals into hours, local days and months (nengtan.timeseries.rollup)."""

from datetime import date
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nengtan.quality.flags import Flag
from nengtan.quality.normalize import Intervals
from nengtan.timeseries.calendar import DAY_US, HOUR_US, US, day_bounds, month_bounds
from nengtan.timeseries.rollup import PeriodRollup, bucketize, coarsen, hour_block, periods

SHANGHAI = ZoneInfo("Asia/Shanghai")
D0 = 20_089  # 2025-01-01 as days since 1970-01-01


def ivs(rows, gap=None):
    start, end, value = (np.array(c, dtype=t) for c, t in zip(zip(*rows), (np.int64, np.int64, float)))
    flags = np.zeros(len(rows), np.int32)
    g = np.zeros(len(rows), bool) if gap is None else np.array(gap)
    flags[g] |= int(Flag.GAP)
    return Intervals(start, end, value, flags, g)


def test_interval_crossing_an_hour_is_split_pro_rata():
    t = D0 * DAY_US
    iv = ivs([(t + 45 * 60 * US, t + 75 * 60 * US, 30.0)])  # 00:45-01:15 UTC
    b = bucketize(iv, t, HOUR_US, 2)
    assert b.value.tolist() == [15.0, 15.0]
    assert (b.coverage_us // US).tolist() == [900, 900]
    assert all(f & Flag.PRORATED for f in b.flags)


def test_gap_inside_one_hour_counts_there_but_a_crossing_gap_does_not():
    t = D0 * DAY_US
    inside = ivs([(t + 10 * 60 * US, t + 50 * 60 * US, 8.0)], gap=[True])
    assert bucketize(inside, t, HOUR_US, 1).value.tolist() == [8.0]
    crossing = ivs([(t + 30 * 60 * US, t + 150 * 60 * US, 8.0)], gap=[True])
    b = bucketize(crossing, t, HOUR_US, 3)
    assert np.isnan(b.value).all() and (b.coverage_us == 0).all()
    assert all(f & Flag.GAP for f in b.flags)


def test_local_day_total_includes_a_gap_that_lies_inside_the_day():
    # Shanghai day 2025-01-02 = UTC 2025-01-01T16:00 .. 2025-01-02T16:00.
    start = D0 * DAY_US + 16 * HOUR_US
    regular = [(start + h * HOUR_US, start + (h + 1) * HOUR_US, 1.0) for h in range(24)
               if h not in (5, 6, 7)]
    gap = (start + 5 * HOUR_US, start + 8 * HOUR_US, 9.0)
    iv = ivs(regular + [gap], gap=[False] * 21 + [True])
    block = hour_block(iv, D0, 2)
    assert np.isnan(block.value.ravel()[16 + 5:16 + 8]).all()
    _, bounds = day_bounds(date(2025, 1, 2), date(2025, 1, 2), SHANGHAI)
    day = periods(block, iv.select(iv.gap), bounds)
    assert day.value.tolist() == [21.0 + 9.0]
    assert day.complete.tolist() == [True]
    assert day.flags[0] & Flag.GAP


def test_a_gap_across_midnight_leaves_both_days_incomplete_but_their_month_exact():
    start = D0 * DAY_US + 16 * HOUR_US  # local 2025-01-02 00:00
    hours = [(start + h * HOUR_US, start + (h + 1) * HOUR_US, 1.0) for h in range(48)
             if h not in (22, 23, 24, 25)]
    gap = (start + 22 * HOUR_US, start + 26 * HOUR_US, 4.0)
    iv = ivs(hours + [gap], gap=[False] * 44 + [True])
    block = hour_block(iv, D0, 3)
    _, bounds = day_bounds(date(2025, 1, 2), date(2025, 1, 3), SHANGHAI)
    days = periods(block, iv.select(iv.gap), bounds)
    assert days.value.tolist() == [22.0, 22.0] and not days.complete.any()
    children = PeriodRollup.empty(31)
    children.value[1:3], children.coverage_s[1:3] = days.value, days.coverage_s
    children.expected_s[:] = 86_400
    _, child_bounds = day_bounds(date(2025, 1, 1), date(2025, 1, 31), SHANGHAI)
    _, mb = month_bounds(date(2025, 1, 1), date(2025, 1, 1), SHANGHAI)
    month = coarsen(children, child_bounds, iv.select(iv.gap), mb)
    assert month.value.tolist() == [48.0]
    assert month.coverage_s.tolist() == [48 * 3600]


values = st.lists(st.floats(min_value=0, max_value=1e4, allow_nan=False), min_size=1, max_size=200)


@given(values, st.integers(min_value=0, max_value=899))
def test_bucket_sums_equal_the_interval_sum(vals, offset_s):
    t0 = D0 * DAY_US + offset_s * US
    starts = t0 + np.arange(len(vals), dtype=np.int64) * 900 * US
    iv = Intervals(starts, starts + 900 * US, np.array(vals), np.zeros(len(vals), np.int32),
                   np.zeros(len(vals), bool))
    n = int(np.ceil((len(vals) + 1) * 900 / 3600)) + 1
    b = bucketize(iv, D0 * DAY_US, HOUR_US, n)
    assert np.nansum(b.value) == pytest.approx(sum(vals), rel=1e-9, abs=1e-6)
    assert b.coverage_us.sum() == len(vals) * 900 * US


@given(st.lists(st.floats(min_value=0, max_value=100, allow_nan=False), min_size=24 * 3,
                max_size=24 * 3))
def test_days_add_up_to_the_month(hourly):
    start = D0 * DAY_US
    iv = Intervals(start + np.arange(72, dtype=np.int64) * HOUR_US,
                   start + np.arange(1, 73, dtype=np.int64) * HOUR_US, np.array(hourly),
                   np.zeros(72, np.int32), np.zeros(72, bool))
    block = hour_block(iv, D0, 3)
    utc = ZoneInfo("UTC")
    _, bounds = day_bounds(date(2025, 1, 1), date(2025, 1, 3), utc)
    days = periods(block, Intervals.empty(), bounds)
    assert days.value.sum() == pytest.approx(sum(hourly), rel=1e-9, abs=1e-9)


def test_children_after_the_last_period_are_not_counted():
    children = PeriodRollup(np.ones(5), np.full(5, 10), np.full(5, 10), np.zeros(5, np.int32))
    bounds = np.array([0, 2, 3], dtype=np.int64) * US
    out = coarsen(children, np.arange(6, dtype=np.int64) * US, Intervals.empty(), bounds)
    assert out.value.tolist() == [2.0, 1.0] and out.coverage_s.tolist() == [20, 10]
