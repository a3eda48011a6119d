"""The data-quality rule checks: known answers computed by hand, and properties."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nengtan.quality import rules

US = 1_000_000
H = 3600 * US
Q = 900 * US  # a quarter hour


def q(n):
    return np.arange(n, dtype=np.int64) * Q


# -- runs ------------------------------------------------------------------------------------
def test_runs_of_true():
    starts, ends = rules.runs([0, 1, 1, 0, 1, 0, 0, 1])
    assert starts.tolist() == [1, 4, 7] and ends.tolist() == [3, 5, 8]
    assert [x.tolist() for x in rules.runs([])] == [[], []]


@given(st.lists(st.booleans(), max_size=60))
def test_runs_rebuild_the_mask(mask):
    rebuilt = np.zeros(len(mask), bool)
    starts, ends = rules.runs(mask)
    for a, b in zip(starts, ends):
        assert not rebuilt[a:b].any()
        rebuilt[a:b] = True
    assert rebuilt.tolist() == mask
    # maximal: a run is never followed directly by another
    assert all(b < a2 for b, a2 in zip(ends[:-1], starts[1:]))


# -- range -----------------------------------------------------------------------------------
def test_range_merges_consecutive_samples_per_side():
    t = q(8)
    v = np.array([5, 12, 15, 9, -1, -3, 4, 11.0])
    found = rules.range_check(t, t + Q, v, minimum=0, maximum=10, severity="error")
    # above: samples 1-2 (max 15) and 7 (11); below: samples 4-5 (min -3)
    assert [(f.start_us // Q, f.end_us // Q, f.measured, f.limit, f.detail["side"],
             f.detail["count"]) for f in found] == [
        (1, 3, 15.0, 10.0, "above", 2), (4, 6, -3.0, 0.0, "below", 2),
        (7, 8, 11.0, 10.0, "above", 1)]
    assert {f.severity for f in found} == {"error"}


def test_range_with_one_bound_and_equal_values_pass():
    t = q(3)
    assert rules.range_check(t, t, [10, 10, 10], maximum=10) == []
    assert [f.measured for f in rules.range_check(t, t, [1, -2, 3], minimum=0)] == [-2.0]


@given(st.lists(st.floats(-100, 100), min_size=1, max_size=40), st.floats(-50, 0),
       st.floats(0, 50))
def test_range_findings_cover_exactly_the_violations(values, lo, hi):
    t = q(len(values))
    v = np.array(values)
    found = rules.range_check(t, t, v, minimum=lo, maximum=hi)
    flagged = np.zeros(len(v), bool)
    for f in found:
        a, b = f.start_us // Q, f.end_us // Q + 1
        flagged[a:b] = True
        assert f.detail["count"] == b - a
    assert flagged.tolist() == ((v < lo) | (v > hi)).tolist()


# -- rate of change --------------------------------------------------------------------------
def test_rate_of_change_known_answer():
    t = q(6)
    v = np.array([100, 102, 130, 104, 106, 108.0])
    # per pair: |Δv| / 0.25 h = 8, 112, 104, 8, 8 per hour; limit 50 → pairs 1 and 2, one spike
    found = rules.rate_of_change(t, v, max_per_hour=50)
    assert len(found) == 1
    f = found[0]
    assert (f.start_us, f.end_us, f.measured, f.limit, f.detail["pairs"]) == (Q, 3 * Q, 112.0,
                                                                              50.0, 2)


def test_rate_of_change_skips_gaps_and_excluded_pairs():
    t = np.array([0, Q, 10 * Q, 11 * Q])
    v = np.array([0, 1, 100, 101.0])
    # across the gap: 99 in 2.25 h = 44/h > 10, but the pair is 9 quarter hours apart
    assert rules.rate_of_change(t, v, max_per_hour=10, max_dt_us=2 * Q) == []
    assert len(rules.rate_of_change(t, v, max_per_hour=10)) == 1
    assert rules.rate_of_change(t, v, max_per_hour=10, exclude=[False, True, False]) == []


# -- stuck -----------------------------------------------------------------------------------
def test_stuck_by_count_and_by_duration():
    t = q(10)
    v = np.array([1, 2, 3, 3, 3, 3, 3, 4, 5, 5.0])
    by_count = rules.stuck(t, v, min_count=4)
    # readings 2-6 equal: 5 readings over 4 quarter hours
    assert [(f.start_us // Q, f.end_us // Q, f.measured, f.limit) for f in by_count] == [
        (2, 6, 5.0, 4.0)]
    assert by_count[0].detail == {"value": 3.0, "count": 5, "expected_count": 5,
                                  "duration_s": 3600}
    by_time = rules.stuck(t, v, min_duration_us=H)  # 3600 s ≥ 3600 s: flagged; 9-10 is 900 s
    assert [(f.measured, f.limit) for f in by_time] == [(3600.0, 3600.0)]
    assert rules.stuck(t, v, min_count=6) == []
    with pytest.raises(ValueError):
        rules.stuck(t, v)


def test_stuck_tolerance_does_not_let_a_slow_drift_through():
    t = q(8)
    # steps of 0.4 stay within a tolerance of 0.5 one by one, but the run must stay within
    # 0.5 of its first value: 10.0, 10.4 | 10.8, 11.2 | 11.6, 12.0 | 12.4, 12.8
    drift = 10 + 0.4 * np.arange(8)
    assert rules.stuck(t, drift, min_count=3, tolerance=0.5) == []
    noisy = np.array([10, 10.2, 9.9, 10.1, 10.3, 9.8, 12, 13.0])
    found = rules.stuck(t, noisy, min_count=5, tolerance=0.5)
    assert [(f.start_us // Q, f.end_us // Q, f.detail["count"]) for f in found] == [(0, 5, 6)]


def test_stuck_only_counts_when_expected_to_move_and_can_ignore_zero():
    t = q(8)
    v = np.array([7, 7, 7, 7, 7, 7, 0, 0.0])
    idle = np.array([False, False, False, True, True, False, True, True])
    # 2 of the 6 equal readings fall in expected-moving time: below min_count 3
    assert rules.stuck(t, v, min_count=3, expected=idle) == []
    busy = np.array([True] * 8)
    assert len(rules.stuck(t, v, min_count=2, expected=busy)) == 2
    assert [f.detail["value"] for f in rules.stuck(t, v, min_count=2, ignore_zero=True)] == [7.0]


@settings(max_examples=60)
@given(st.lists(st.integers(0, 3), min_size=2, max_size=50), st.integers(2, 6))
def test_stuck_flags_every_long_run_of_equal_values_and_nothing_else(values, n):
    v = np.array(values, float)
    found = rules.stuck(q(len(v)), v, min_count=n)
    flagged = np.zeros(len(v), bool)
    for f in found:
        a, b = f.start_us // Q, f.end_us // Q + 1
        assert np.all(v[a:b] == v[a]) and b - a >= n
        flagged[a:b] = True
    starts, ends = rules.runs(np.r_[False, np.diff(v) == 0])
    expected = np.zeros(len(v), bool)
    for a, b in zip(starts, ends):
        if b - a + 1 >= n:
            expected[a - 1:b] = True
    assert flagged.tolist() == expected.tolist()


# -- missing ---------------------------------------------------------------------------------
def test_missing_between_readings_and_silent_since():
    t = np.array([1, 2, 6, 7]) * H
    found = rules.missing(t, first_us=0, last_us=12 * H, max_gap_us=2 * H)
    # gaps: 0-1, 1-2 (1 h) ok; 2-6 = 4 h > 2 h; 6-7 ok; 7-12 = 5 h up to now: silent since 7
    assert [(f.start_us // H, f.end_us // H, f.measured, f.limit, f.detail["open_end"])
            for f in found] == [(2, 6, 14400.0, 7200.0, False), (7, 12, 18000.0, 7200.0, True)]
    closed = rules.missing(t, first_us=0, last_us=12 * H, max_gap_us=2 * H, open_end=False)
    assert closed[-1].detail["open_end"] is False


def test_missing_exactly_the_limit_is_not_a_gap_and_nothing_at_all_is_one():
    assert rules.missing(np.array([2 * H]), first_us=0, last_us=4 * H, max_gap_us=2 * H) == []
    never = rules.missing(np.array([], np.int64), first_us=0, last_us=5 * H, max_gap_us=H)
    assert [(f.start_us, f.end_us) for f in never] == [(0, 5 * H)]


@given(st.lists(st.integers(1, 999), max_size=30, unique=True), st.integers(1, 200))
def test_missing_gaps_and_covered_stretches_add_up(points, limit):
    t = np.sort(np.array(points, np.int64)) * US
    found = rules.missing(t, first_us=0, last_us=1000 * US, max_gap_us=limit * US)
    edges = np.concatenate(([0], t, [1000 * US]))
    long = np.diff(edges)[np.diff(edges) > limit * US]
    assert sorted(f.end_us - f.start_us for f in found) == sorted(long.tolist())
    assert all(f.measured > f.limit for f in found)


# -- negative interval -----------------------------------------------------------------------
def test_negative_interval_known_answer():
    t = q(6)
    v = np.array([3, -0.05, -2, -1, 4, -0.5])
    found = rules.negative_interval(t, t + Q, v, tolerance=0.1)
    # -0.05 is within the tolerance; samples 2-3 and 5 are negative
    assert [(f.start_us // Q, f.end_us // Q, f.measured, f.limit, f.detail["total"])
            for f in found] == [(2, 4, -2.0, -0.1, -3.0), (5, 6, -0.5, -0.1, -0.5)]
    assert {f.severity for f in found} == {"error"}


# -- balance ---------------------------------------------------------------------------------
def test_balance_known_answers():
    start = np.arange(5) * H
    parent = np.array([1000.0, 1000.0, 1000.0, 0.0, 1000.0])
    kids = np.array([[600.0, 600.0, 560.0, 0.0, 600.0],
                     [380.0, 430.0, 400.0, 2.0, 390.0]])
    ok = np.ones((2, 5), bool)
    ok[1, 4] = False  # sub-meter 1 has a hole in the last hour
    b = rules.balance(start, start + H, parent, np.ones(5, bool), kids, ok, tolerance_pct=3,
                      labels=("A", "B"))
    # hour 0: 1000 − 980 = 20 → 2 %: ok (parent higher, losses)
    # hour 1: 1000 − 1030 = −30 → −3 %: |−3| is not above 3: ok, sub-meters higher
    # hour 2: 1000 − 960 = 40 → 4 % > 3: imbalance
    # hour 3: parent 0, sum 2: difference −2, % undefined → imbalance (|−2| > min_abs 0)
    # hour 4: B incomplete → not assessable
    assert b.status == ["ok", "ok", "imbalance", "imbalance", "not_assessable"]
    assert b.difference[:4].tolist() == [20.0, -30.0, 40.0, -2.0]
    assert b.pct[:3].tolist() == [2.0, -3.0, 4.0] and np.isneginf(b.pct[3])
    assert np.isnan(b.pct[4]) and np.isnan(b.children[4])
    assert b.higher == ["parent", "children", "parent", "children", ""]
    assert b.incomplete == [[], [], [], [], [1]]
    f2, f3 = b.findings
    assert (f2.start_us, f2.end_us, f2.measured, f2.limit) == (2 * H, 3 * H, 4.0, 3.0)
    assert f2.detail == {"parent": 1000.0, "children": 960.0, "difference": 40.0, "pct": 4.0,
                         "higher": "parent", "by_child": {"A": 560.0, "B": 400.0}}
    # parent 0: the difference is measured, against the absolute limit
    assert (f3.measured, f3.limit, f3.detail["pct"]) == (-2.0, 0.0, None)


def test_balance_min_abs_and_missing_parent():
    start = np.arange(2) * H
    b = rules.balance(start, start + H, [10.0, np.nan], [True, False], [[9.0, 9.0]],
                      [[True, True]], tolerance_pct=5, min_abs=2.0)
    # 10 − 9 = 1 → 10 % > 5 %, but 1 is not above min_abs 2: ok; no parent data in hour 1
    assert b.status == ["ok", "not_assessable"] and b.incomplete == [[], [-1]]
    none = rules.balance(start, start + H, [1.0, 1.0], [True, True], np.zeros((0, 2)),
                         np.zeros((0, 2), bool), tolerance_pct=5)
    assert none.status == ["not_assessable"] * 2 and none.findings == []


@given(st.lists(st.tuples(st.floats(1, 1e6), st.floats(0, 1e6), st.floats(0, 1e6)),
                min_size=1, max_size=20), st.floats(0.1, 20))
def test_balance_difference_sign_and_tolerance(periods, tol):
    parent = np.array([p[0] for p in periods])
    kids = np.array([[p[1] for p in periods], [p[2] for p in periods]])
    n = len(periods)
    start = np.arange(n) * H
    b = rules.balance(start, start + H, parent, np.ones(n, bool), kids, np.ones((2, n), bool),
                      tolerance_pct=tol)
    assert np.allclose(b.children, kids.sum(axis=0))
    assert np.allclose(b.parent - b.children, b.difference)
    for k in range(n):
        assert (b.status[k] == "imbalance") == (abs(b.pct[k]) > tol)
        assert b.higher[k] == ("parent" if b.difference[k] > 0 else "children"
                               if b.difference[k] < 0 else "equal")
    assert len(b.findings) == b.status.count("imbalance")
