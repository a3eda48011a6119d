"""Load profile engine: day types from the Chinese holiday calendar, base load, waste."""

from datetime import date, timedelta

import numpy as np
import pytest

from nengtan.energy import load_profile as lp


def test_day_types_follow_the_state_council_arrangement():
    days = [date(2025, 9, 28), date(2025, 10, 1), date(2025, 10, 4), date(2025, 10, 8),
            date(2025, 10, 9), date(2025, 10, 11), date(2025, 10, 12)]
    # 9-28 Sunday worked in exchange (调休); 10-01 National Day; 10-04 Saturday inside the
    # break but not itself a holiday; 10-08 day off given in exchange; 10-09 Thursday;
    # 10-11 Saturday worked in exchange; 10-12 ordinary Sunday
    assert list(lp.day_types(days)) == ["working", "holiday", "weekend", "holiday", "working",
                                        "working", "weekend"]
    assert list(lp.day_types([date(2026, 2, 17)])) == ["holiday"]  # Spring Festival
    assert len(lp.day_types([])) == 0


def test_idle_hours_are_nights_and_holidays():
    mask = lp.idle_mask(np.array(["working", "holiday"]), (0, 5))
    assert mask[0].tolist() == [h < 5 for h in range(24)]
    assert mask[1].all()
    wrap = lp.night_mask(1, (22, 6))[0]
    assert wrap[23] and wrap[0] and wrap[5] and not wrap[6] and not wrap[21]


def test_base_load_is_a_low_percentile_of_idle_power():
    kw = np.full((1, 24), np.nan)
    kw[0, :5] = [10, 20, 30, 40, 50]
    mask = lp.night_mask(1)
    # P5 by linear interpolation: rank 0.05 × (5 − 1) = 0.2 → 10 + 0.2 × (20 − 10) = 12
    assert lp.base_load(kw, mask) == pytest.approx(12.0)
    assert lp.base_load(kw, mask, 0) == 10.0
    assert lp.base_load(np.full((1, 24), np.nan), mask) is None


def test_idle_waste_by_hand():
    kw = np.full((1, 24), 100.0)
    kw[0, :5] = [40, 40, 50, 60, 40]
    w = lp.idle_waste(kw, lp.night_mask(1), reference_kw=40.0, price_cny_per_kwh=0.3)
    # above 40 kW: 0 + 0 + 10 + 20 + 0 = 30 kWh; × 0.30 CNY/kWh = 9 CNY
    assert (w.idle_hours, w.idle_kwh, w.waste_kwh) == (5, 230.0, 30.0)
    assert w.waste_cny == pytest.approx(9.0)
    assert lp.idle_waste(kw, lp.night_mask(1), 40.0).waste_cny is None


def test_analyse_one_day_by_hand():
    # 2025-06-10 (a Tuesday): 40 kWh every hour, 60 kWh in 18:00-19:00, 19:00 not measured
    day = date(2025, 6, 10)
    kwh = np.full((1, 24), 40.0)
    kwh[0, 18] = 60.0
    kwh[0, 19] = np.nan
    r = lp.analyse(kwh, [day], valley_price=0.3, reference_kw=30.0)
    # measured: 23 hours, 22 × 40 + 60 = 940 kWh
    assert r.energy_kwh == pytest.approx(940.0) and r.measured_hours == 23 and r.hours == 24
    assert r.peak_kw == 60.0 and r.peak_at == (day, 18)
    assert r.average_kw == pytest.approx(940 / 23)
    assert r.load_factor == pytest.approx(940 / 23 / 60)
    assert r.base_load_kw == pytest.approx(40.0)
    # night 00-05: 5 × 40 = 200 kWh; not a holiday, so idle = night
    assert r.night_share == pytest.approx(200 / 940) and r.idle_kwh == 200.0
    # idle 40 kW vs active (940 − 200) / 18 = 41.11 kW
    assert r.idle_to_active_ratio == pytest.approx(40 / (740 / 18))
    assert r.continuous_operation is True
    # waste above the given 30 kW: 5 h × 10 kW = 50 kWh, × 0.30 = 15 CNY
    assert r.waste.waste_kwh == pytest.approx(50.0) and r.waste.waste_cny == pytest.approx(15.0)
    d = r.as_dict()
    assert d["profiles"]["working"]["days"] == 1 and d["profiles"]["holiday"]["days"] == 0
    assert d["profiles"]["working"]["kw"][18] == 60.0 and d["profiles"]["working"]["kw"][19] is None
    assert d["profiles"]["weekend"]["kw"] == [None] * 24


def test_profiles_per_day_type_and_default_reference():
    first = date(2025, 9, 29)  # Mon 9-29 .. Sun 10-05: two working days, then National Day
    days = [first + timedelta(days=i) for i in range(7)]
    kwh = np.full((7, 24), 20.0)
    kwh[:2, 8:18] = 100.0  # working days: 100 kW in the day shift
    r = lp.analyse(kwh, days)
    types = list(r.types)
    assert types[:2] == ["working", "working"] and types[2:5] == ["holiday"] * 3
    assert r.profiles["working"]["kw"][9] == 100.0 and r.profiles["holiday"]["kw"][9] == 20.0
    # idle hours hold 20 kW only: base load 20, nothing above it
    assert r.base_load_kw == pytest.approx(20.0) and r.waste.waste_kwh == pytest.approx(0.0)
    assert r.continuous_operation is False


def test_shape_is_checked():
    with pytest.raises(ValueError):
        lp.analyse(np.zeros((2, 24)), [date(2025, 1, 1)])
