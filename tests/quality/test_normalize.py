"""Cumulative/interval registers → interval values (nengtan.quality.normalize)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nengtan.quality.flags import Flag, Quality
from nengtan.quality.normalize import MeterSpec, RegisterEvent, to_intervals

US = 1_000_000
T0 = 1_735_689_600 * US  # 2025-01-01T00:00Z
Q = 900 * US


def run(values, spec=MeterSpec(), quality=None, events=(), ts=None):
    values = np.asarray(values, float)
    ts = T0 + np.arange(len(values), dtype=np.int64) * Q if ts is None else np.asarray(ts)
    quality = np.zeros(len(values), np.int16) if quality is None else np.asarray(quality)
    return to_intervals(ts, values, quality, spec, list(events))


def test_register_differences_times_multiplier_and_unit():
    iv, findings = run([100.0, 110.0, 125.0], MeterSpec(multiplier=80.0, unit_factor=0.001))
    assert iv.value.tolist() == pytest.approx([0.8, 1.2])  # (10, 15) × 80 × 1/1000
    assert iv.start.tolist() == [T0, T0 + Q] and iv.end.tolist() == [T0 + Q, T0 + 2 * Q]
    assert not iv.gap.any() and findings == []


def test_rollover_wraps_past_register_maximum():
    iv, findings = run([99_990.0, 5.0], MeterSpec(rollover_at=100_000.0))
    assert iv.value.tolist() == [15.0]
    assert iv.flags[0] & Flag.ROLLOVER
    assert [f.rule for f in findings] == ["rollover"]


def test_recorded_replacement_splits_the_difference_at_the_event():
    ev = RegisterEvent(T0 + Q + 60 * US, "replacement", old_final=1_012.0, new_initial=3.0)
    iv, findings = run([1_000.0, 1_010.0, 7.0, 17.0], events=[ev])
    # (1012 - 1010) before the swap + (7 - 3) after it
    assert iv.value.tolist() == [10.0, 6.0, 10.0]
    assert iv.flags[1] & Flag.RESET
    assert "reset_applied" in [f.rule for f in findings]


def test_unexplained_decrease_is_excluded_and_reported():
    iv, findings = run([1_000.0, 1_010.0, 5.0, 15.0, 25.0])
    assert iv.value.tolist() == [10.0, 10.0, 10.0]  # the 1010 → 5 interval is left out
    assert iv.start.tolist()[1] == T0 + 2 * Q
    assert [f.rule for f in findings] == ["register_decrease"]


def test_isolated_spike_and_dip_are_skipped():
    spike, f1 = run([1_000.0, 1_010.0, 99_999.0, 1_030.0, 1_040.0])
    assert spike.value.tolist() == [10.0, 20.0, 10.0]
    assert spike.flags[1] & Flag.GLITCH_SKIPPED
    dip, f2 = run([1_000.0, 1_010.0, 3.0, 1_030.0, 1_040.0])
    assert dip.value.tolist() == [10.0, 20.0, 10.0]
    # The skipped reading leaves a 30-minute interval: exact in total, a gap at 15 minutes.
    assert [f.rule for f in f1] == [f.rule for f in f2] == ["register_glitch", "gap"]


def test_rejected_readings_are_skipped_and_manual_ones_flagged():
    q = [Quality.MEASURED, Quality.REJECTED, Quality.MEASURED, Quality.MANUAL]
    iv, _ = run([0.0, 500.0, 20.0, 30.0], quality=q, spec=MeterSpec(gap_threshold_s=3600))
    assert iv.value.tolist() == [20.0, 10.0]
    assert iv.flags[0] & Flag.REJECTED_SKIPPED and iv.flags[1] & Flag.MANUAL


def test_gap_stays_whole_unless_estimation_is_asked_for():
    ts = T0 + np.array([0, 1, 9, 10], dtype=np.int64) * Q  # two hours missing
    iv, findings = run([0.0, 10.0, 90.0, 100.0], ts=ts)
    assert iv.gap.tolist() == [False, True, False]
    assert iv.value[1] == 80.0 and iv.flags[1] & Flag.GAP
    assert findings[0].rule == "gap" and findings[0].detail["duration_s"] == 7200
    est, f2 = run([0.0, 10.0, 90.0, 100.0], ts=ts, spec=MeterSpec(estimate_gaps=True))
    assert not est.gap.any() and len(est) == 10
    assert est.value[1:9].tolist() == [10.0] * 8
    assert all(f & Flag.ESTIMATED for f in est.flags[1:9])
    assert f2[0].rule == "gap_estimated"


def test_multiplier_change_applies_from_the_event_on():
    ev = RegisterEvent(T0 + 2 * Q, "multiplier_change", new_multiplier=2.0)
    iv, _ = run([0.0, 10.0, 20.0, 30.0], events=[ev])
    assert iv.value.tolist() == [10.0, 10.0, 20.0]


def test_interval_register_values_and_missing_slots():
    ts = T0 + np.array([0, 1, 3], dtype=np.int64) * Q
    iv, findings = run([5.0, 6.0, 8.0], MeterSpec(register="interval", multiplier=2.0), ts=ts)
    assert iv.value.tolist() == [10.0, 12.0, 16.0]
    assert (iv.end - iv.start).tolist() == [Q] * 3
    assert findings[0].rule == "gap"
    est, _ = run([5.0, 6.0, 8.0], MeterSpec(register="interval", estimate_gaps=True), ts=ts)
    assert est.value.tolist() == [5.0, 6.0, 7.0, 8.0]


increments = st.lists(st.floats(min_value=0, max_value=500, allow_nan=False), min_size=2,
                      max_size=60)


@given(increments, st.floats(min_value=1e-3, max_value=1e3), st.sampled_from([1.0, 0.001, 3.6]))
def test_sum_of_intervals_is_the_register_difference(steps, multiplier, unit_factor):
    register = 1_000.0 + np.concatenate([[0.0], np.cumsum(steps)])
    iv, _ = run(register, MeterSpec(multiplier=multiplier, unit_factor=unit_factor))
    expected = (register[-1] - register[0]) * multiplier * unit_factor
    assert iv.value.sum() == pytest.approx(expected, rel=1e-9, abs=1e-9)


@given(increments, st.integers(min_value=4, max_value=7))
def test_rollover_preserves_consumption(steps, digits):
    rollover = 10.0 ** digits
    steps = [min(s, rollover / 4) for s in steps]
    true = np.concatenate([[rollover - 1_000.0], rollover - 1_000.0 + np.cumsum(steps)])
    iv, _ = run(np.mod(true, rollover), MeterSpec(rollover_at=rollover))
    assert iv.value.sum() == pytest.approx(true[-1] - true[0], rel=1e-9, abs=1e-6)


@given(increments, st.data())
def test_recorded_reset_preserves_consumption(steps, data):
    register = 500.0 + np.concatenate([[0.0], np.cumsum(steps)])
    k = data.draw(st.integers(min_value=1, max_value=len(register) - 1))
    new_start = data.draw(st.floats(min_value=0, max_value=50))
    # The meter is replaced just before reading k: readings from k on start at new_start.
    read = register.copy()
    read[k:] = new_start + (register[k:] - register[k - 1])
    event = RegisterEvent(T0 + k * Q - 1, "replacement", old_final=register[k - 1],
                          new_initial=new_start)
    iv, _ = run(read, events=[event])
    assert iv.value.sum() == pytest.approx(register[-1] - register[0], rel=1e-9, abs=1e-9)


@settings(max_examples=60)
@given(increments, st.lists(st.integers(min_value=0, max_value=59), max_size=10))
def test_gaps_keep_the_total(steps, dropped):
    register = np.concatenate([[0.0], np.cumsum(steps)])
    keep = np.ones(len(register), bool)
    keep[[d for d in dropped if 0 < d < len(register) - 1]] = False
    ts = T0 + np.arange(len(register), dtype=np.int64) * Q
    iv, _ = run(register[keep], ts=ts[keep])
    assert iv.value.sum() == pytest.approx(register[-1], rel=1e-9, abs=1e-9)
    est, _ = run(register[keep], ts=ts[keep], spec=MeterSpec(estimate_gaps=True))
    assert est.value.sum() == pytest.approx(register[-1], rel=1e-9, abs=1e-9)
    assert not est.gap.any()
