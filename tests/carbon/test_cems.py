"""Known answers of the CEMS engine, computed by hand in each test."""

from __future__ import annotations

import numpy as np
import pytest

from nengtan.carbon import cems
from nengtan.carbon.cems import MonitorConfig, Samples

H = cems.HOUR_US
M = 60 * cems.US_PER_S
T0 = 1_767_225_600 * cems.US_PER_S  # 2026-01-01T00:00Z, a whole UTC hour

#: Stack conditions used throughout: CO2 18 vol-% wet, 400 000 m³/h actual, 120 °C,
#: 99.0 kPa absolute, 10 vol-% moisture.
STACK = {"co2": 18.0, "flow": 400_000.0, "temp": 120.0, "pressure": 99.0, "moisture": 10.0}
WET = MonitorConfig(co2_basis="wet", co2_unit="pct", flow_basis="actual")
# Q_sd = 400 000 × 273.15/393.15 × 99.0/101.325 × (1 − 0.10)
#      = 400 000 × 0.694773 × 0.977054 × 0.9 = 244 379.07 m³/h
# C_dry = 18 / 0.9 = 20 vol-% = 20 × 10⁴ × 44.01/22.414 = 20 × 19 635.05 = 392 700.99 mg/m³
# one hour: 392 700.99 mg/m³ × 244 379.07 m³/h × 1 h × 10⁻⁹ = 95.9679 t
Q_SD = 400_000 * 273.15 / 393.15 * 99.0 / 101.325 * 0.9
C_MG = 20 * 1e4 * 44.01 / 22.414
HOURLY_T = C_MG * Q_SD * 1e-9


def minutes(n, start=T0, **overrides):
    """``n`` minute samples of every parameter from ``start``, at STACK (or overridden)."""
    ts = start + np.arange(n, dtype=np.int64) * M
    return {p: Samples(ts, np.full(n, overrides.get(p, v), float)) for p, v in STACK.items()}


def test_constants_and_one_point():
    assert cems.MG_M3_PER_PCT == pytest.approx(19_635.05, abs=0.01)  # 10⁴ × 44.01/22.414
    assert Q_SD == pytest.approx(244_379.07, abs=0.01)
    assert HOURLY_T == pytest.approx(95.9679, abs=1e-4)
    assert cems.mass_t(WET, **STACK) == pytest.approx(HOURLY_T, rel=1e-12)


def test_a_full_valid_hour():
    [hour] = cems.hourly(WET, minutes(60), T0, T0 + H)
    assert hour.status == "valid" and hour.valid_minutes == 60 and hour.reasons == []
    assert hour.co2_t == pytest.approx(95.9679, abs=1e-4)
    assert hour.measured_co2_t == pytest.approx(hour.co2_t, rel=1e-12)
    avg = hour.averages
    assert avg["co2"] == 18.0 and avg["flow_m3_h"] == 400_000.0 and avg["temp_c"] == 120.0
    assert avg["pressure_abs_kpa"] == 99.0 and avg["moisture_pct"] == 10.0
    assert avg["co2_dry_pct"] == pytest.approx(20.0)
    assert avg["co2_dry_mg_m3"] == pytest.approx(392_700.99, abs=0.01)
    assert avg["flow_sd_m3_h"] == pytest.approx(244_379.07, abs=0.01)


def test_calibration_leaves_too_few_minutes_and_shows_the_partial_mass():
    data = minutes(60)
    flags = np.full(60, "N", dtype=object)
    flags[:20] = "C"  # CO2 analyser in calibration 00:00-00:20 (HJ 212 flag C)
    data["co2"].flag = flags
    [hour] = cems.hourly(WET, data, T0, T0 + H)
    assert hour.status == "invalid" and hour.co2_t is None and hour.valid_minutes == 40
    # 40 valid minutes × 95.9679 t/h / 60 = 63.9786 t, shown apart, never as the hour's CO2
    assert hour.measured_co2_t == pytest.approx(HOURLY_T * 40 / 60) and \
        hour.measured_co2_t == pytest.approx(63.9786, abs=1e-4)
    assert {"code": "flag", "param": "co2", "flag": "C", "minutes": 20.0} in hour.reasons
    assert hour.reasons[-1] == {"code": "too_few_minutes", "valid_minutes": 40.0,
                                "required": 45.0}
    # flow, temperature... are still averaged over their own counted minutes
    assert hour.averages["flow_m3_h"] == 400_000.0


def test_a_valid_hour_with_excluded_minutes_is_the_mean_rate_over_the_hour():
    # first 30 min at 400 000 m³/h, last 30 min at 200 000 m³/h; minutes 50-59 flagged D
    data = minutes(60)
    data["flow"].value[30:] = 200_000.0
    flags = np.full(60, "N", dtype=object)
    flags[50:] = "D"
    data["flow"].flag = flags
    [hour] = cems.hourly(WET, data, T0, T0 + H)
    # per minute: m_a = 95.9679/60 = 1.599465 t; m_b = m_a / 2 = 0.799733 t
    # measured = 30 m_a + 20 m_b = 47.98395 + 15.99465 = 63.97860 t
    # hour = measured × 60 / 50 = 76.77432 t
    m_a = HOURLY_T / 60
    assert hour.status == "valid" and hour.valid_minutes == 50
    assert hour.measured_co2_t == pytest.approx(30 * m_a + 20 * m_a / 2)
    assert hour.co2_t == pytest.approx(76.77432, abs=1e-4)
    assert hour.reasons == [{"code": "flag", "param": "flow", "flag": "D", "minutes": 10.0}]
    # flow average of its counted minutes: (30 × 400 000 + 20 × 200 000) / 50 = 320 000
    assert hour.averages["flow_m3_h"] == pytest.approx(320_000.0)


def test_45_minutes_is_enough_and_44_is_not():
    for valid, status in ((45, "valid"), (44, "invalid")):
        data = minutes(60)
        flags = np.full(60, "N", dtype=object)
        flags[valid:] = "M"  # maintenance (HJ 212 flag M)
        data["moisture"].flag = flags
        [hour] = cems.hourly(WET, data, T0, T0 + H)
        assert (hour.status, hour.valid_minutes) == (status, float(valid))


def test_missing_hours_silent_minutes_and_missing_parameters():
    data = minutes(50, start=T0 + H)  # nothing in the first hour; 50 minutes in the second
    temp = data["temp"]
    data["temp"] = Samples(temp.ts[5:], temp.value[5:])  # temperature lost 01:00-01:05
    first, second = cems.hourly(WET, data, T0, T0 + 2 * H)
    assert (first.status, first.co2_t, first.reasons) == ("missing", None, [{"code": "no_samples"}])
    assert second.status == "valid" and second.valid_minutes == 45
    assert {"code": "no_data", "minutes": 10.0} in second.reasons
    assert {"code": "missing_param", "param": "temp", "minutes": 5.0} in second.reasons
    # 45 valid minutes of a steady stack: the hour is the steady hourly mass
    assert second.co2_t == pytest.approx(HOURLY_T)


def test_out_of_range_values_are_not_counted():
    data = minutes(60)
    data["moisture"].value[:10] = 100.0  # saturated: not a usable moisture (1 − X = 0)
    data["co2"].value[10:20] = -1.0
    data["flow"].value[20:25] = np.nan
    [hour] = cems.hourly(WET, data, T0, T0 + H)
    assert hour.valid_minutes == 35 and hour.status == "invalid"
    codes = {(r["code"], r.get("param")): r.get("minutes") for r in hour.reasons}
    assert codes[("out_of_range", "moisture")] == 10
    assert codes[("out_of_range", "co2")] == 10
    assert codes[("out_of_range", "flow")] == 5


def test_wet_co2_above_100_percent_dry_is_out_of_range():
    # 95 vol-% wet with 10 % moisture is 105.6 vol-% dry: the inputs contradict each other
    data = minutes(60, co2=95.0)
    [hour] = cems.hourly(WET, data, T0, T0 + H)
    assert hour.valid_minutes == 0 and hour.measured_co2_t is None
    assert {"code": "out_of_range", "param": "co2", "minutes": 60.0} in hour.reasons


def test_standard_dry_flow_and_mass_concentration_need_only_co2_and_flow():
    cfg = MonitorConfig(co2_basis="dry", co2_unit="mg/m3", flow_basis="std_dry")
    assert cfg.required == ("co2", "flow")
    ts = T0 + np.arange(60, dtype=np.int64) * M
    data = {"co2": Samples(ts, np.full(60, 400_000.0)), "flow": Samples(ts, np.full(60, 3e5))}
    [hour] = cems.hourly(cfg, data, T0, T0 + H)
    # 400 000 mg/m³ × 300 000 m³/h × 1 h × 10⁻⁹ = 120 t
    assert hour.status == "valid" and hour.co2_t == pytest.approx(120.0)
    assert hour.averages["co2_dry_pct"] == pytest.approx(400_000 / 19_635.0495, rel=1e-7)
    assert hour.averages["temp_c"] is None


def test_gauge_pressure_adds_the_barometric_pressure():
    cfg = MonitorConfig(co2_basis="dry", pressure_basis="gauge", barometric_kpa=100.8)
    # dry CO2 20 %, 400 000 m³/h, 100 °C, −1.2 kPa gauge → 99.6 kPa, 8 % moisture:
    # Q_sd = 400 000 × 273.15/373.15 × 99.6/101.325 × 0.92 = 264 794.10 m³/h
    # m = 392 700.99 mg/m³ × 264 794.10 m³/h × 10⁻⁹ = 103.9849 t per hour
    assert cfg.required == ("co2", "flow", "temp", "pressure", "moisture")
    data = minutes(60, co2=20.0, temp=100.0, pressure=-1.2, moisture=8.0)
    [hour] = cems.hourly(cfg, data, T0, T0 + H)
    assert hour.averages["pressure_abs_kpa"] == pytest.approx(99.6)
    assert hour.averages["flow_sd_m3_h"] == pytest.approx(264_794.10, abs=0.01)
    assert hour.co2_t == pytest.approx(C_MG * 264_794.0996e-9, rel=1e-9)
    assert hour.co2_t == pytest.approx(103.9849, abs=1e-4)


def test_five_minute_interval_and_averaged_duplicates():
    cfg = MonitorConfig(co2_basis="wet", interval_s=300)
    # 12 slots per hour; slots 0-8 (45 min) valid; two CO2 samples in slot 0 are averaged
    ts = T0 + np.arange(9, dtype=np.int64) * 300 * cems.US_PER_S
    data = {p: Samples(ts, np.full(9, v)) for p, v in STACK.items()}
    data["co2"] = Samples(np.r_[ts, T0 + 60 * cems.US_PER_S], np.r_[np.full(9, 18.0), 27.0])
    [hour] = cems.hourly(cfg, data, T0, T0 + H)
    assert hour.status == "valid" and hour.valid_minutes == 45
    assert {"code": "no_data", "minutes": 15.0} in hour.reasons
    # slot 0: CO2 (18 + 27)/2 = 22.5 % wet = 25 % dry, 1.25 × the steady rate; slots 1-8 steady
    # measured = (1.25 + 8) × 95.9679 / 12 = 73.9753 t; hour = measured × 12/9 = 98.6337 t
    assert hour.measured_co2_t == pytest.approx(9.25 * HOURLY_T / 12)
    assert hour.co2_t == pytest.approx(98.6337, abs=1e-4)


def test_samples_outside_the_period_are_ignored_and_bounds_are_whole_hours():
    data = minutes(180, start=T0 - H)
    [hour] = cems.hourly(WET, data, T0, T0 + H)
    assert hour.valid_minutes == 60
    with pytest.raises(ValueError):
        cems.hourly(WET, data, T0 + M, T0 + H)
    with pytest.raises(ValueError):
        MonitorConfig(interval_s=7)
    with pytest.raises(ValueError):
        MonitorConfig(co2_unit="ppm")


def test_summary_of_a_period():
    data = minutes(120)  # hours 0 and 1 complete
    flags = np.full(120, "N", dtype=object)
    flags[60:90] = "F"  # stack stopped for 30 min in hour 1 (HJ 212 flag F)
    data["co2"].flag = flags
    hours = cems.hourly(WET, data, T0, T0 + 4 * H)  # hours 2 and 3 missing
    s = cems.summarise(hours)
    assert [h.status for h in hours] == ["valid", "invalid", "missing", "missing"]
    assert (s.hours, s.valid_hours, s.invalid_hours, s.missing_hours) == (4, 1, 1, 2)
    # valid: 95.9679 t; partial (not in the total): 30/60 × 95.9679 = 47.9840 t
    assert s.co2_t == pytest.approx(HOURLY_T)
    assert s.partial_co2_t == pytest.approx(HOURLY_T / 2)
    assert s.valid_minutes == 90 and s.data_capture_pct == 25.0
    assert cems.summarise([]).data_capture_pct is None
