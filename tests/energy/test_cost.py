"""Known answers of the cost engine, computed by hand from a tiny tariff and a few hours."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from nengtan.energy import cost
from nengtan.energy.tou import Period
from nengtan.timeseries.calendar import day_bounds

US = 1_000_000
Q = 900 * US
SH = ZoneInfo("Asia/Shanghai")

# valley 00-08, flat 08-17, sharp 17-19, peak 19-24, every month (prices CNY/kWh)
TINY = cost.Terms(
    code="T1", carrier="electricity", unit="kWh",
    prices={"valley": 0.30, "flat": 0.60, "sharp": 1.20, "peak": 1.00},
    periods=(Period((), 0, 480, "valley"), Period((), 480, 1020, "flat"),
             Period((), 1020, 1140, "sharp"), Period((), 1140, 1440, "peak")),
    demand_charge=40.0, capacity_charge=20.0)


def test_slot_length_follows_the_band_switches():
    assert TINY.slot_minutes() == 60
    half = cost.Terms("T2", "electricity", "kWh", {"valley": 0.3, "peak": 1.0},
                      (Period((), 0, 630, "valley"), Period((), 630, 690, "peak"),
                       Period((), 690, 1440, "valley")))
    assert half.slot_minutes() == 30
    # a quarter-hour switch only in July: 15 min in July, whole hours in other months
    quarter = cost.Terms("T3", "electricity", "kWh", {"valley": 0.3, "peak": 1.0},
                         (Period((7,), 0, 615, "valley"), Period((7,), 615, 1440, "peak"),
                          Period(tuple(m for m in range(1, 13) if m != 7), 0, 1440, "valley")))
    assert quarter.slot_minutes([7]) == 15 and quarter.slot_minutes([6]) == 60


def test_classification_by_local_month_and_minute():
    bands = cost.classify(TINY, np.array([6, 6, 6, 6, 6]),
                          np.array([0, 479, 480, 17 * 60, 23 * 60 + 45]))
    assert list(bands) == ["valley", "valley", "flat", "sharp", "peak"]
    gas = cost.Terms("G1", "natural_gas", "m3", {"flat": 3.5},
                     (Period((), 0, 1440, "flat"),))
    assert gas.single_band == "flat"
    assert list(cost.classify(gas, np.array([1, 12]), np.array([0, 1439]))) == ["flat", "flat"]


def test_local_slots_start_at_local_midnight():
    _days, bounds = day_bounds(date(2025, 6, 10), date(2025, 6, 11), SH)
    t0 = int(bounds[0])
    # 2025-06-10 00:00 +08:00 is 2025-06-09 16:00 UTC
    assert t0 == int(datetime(2025, 6, 9, 16, tzinfo=ZoneInfo("UTC")).timestamp()) * US
    day, month, minute = cost.local_slots(bounds, np.array([6, 6]), t0, 3600 * US, 48)
    assert list(day[:2]) == [0, 0] and day[24] == 1
    assert minute[0] == 0 and minute[17] == 17 * 60 and minute[24] == 0 and month[47] == 6


def test_band_sums_energy_charge_and_demand_by_hand():
    # One day of 15-minute kWh: 10 kWh in every quarter hour, 30 kWh in 18:00-18:15.
    kwh = np.full(96, 10.0)
    kwh[18 * 4] = 30.0
    minute = np.arange(96) * 15
    bands = cost.classify(TINY, np.full(96, 6), minute)
    totals = cost.band_totals(bands, kwh)
    # valley 32 × 10 = 320; flat 36 × 10 = 360; sharp 8 × 10 + 20 = 100; peak 20 × 10 = 200
    assert totals == {"sharp": 100.0, "peak": 200.0, "flat": 360.0, "valley": 320.0}
    starts = 1_749_484_800 * US + np.arange(96, dtype=np.int64) * Q
    demand = cost.max_demand(kwh, starts, np.ones(96, bool))
    # 30 kWh in 15 minutes = 30 × 3600 / 900 = 120 kW, in the 18:00 quarter hour
    assert demand.kw == pytest.approx(120.0)
    assert demand.start_us == starts[72] and demand.end_us == starts[72] + Q
    # June has 30 days; one day of it: demand charge 120 kW × 40 CNY/(kW·month) × 1/30 = 160
    b = cost.bill(TINY, totals, demand, month_fraction=1 / 30)
    # energy: 320 × 0.30 + 360 × 0.60 + 100 × 1.20 + 200 × 1.00 = 96 + 216 + 120 + 200 = 632
    assert b.energy_cny == pytest.approx(632.0)
    assert b.band_cny["sharp"] == pytest.approx(120.0)
    assert b.demand_charge_cny == pytest.approx(160.0)
    fig = b.as_dict()
    assert fig["quantity"] == pytest.approx(980.0)
    # (sharp + peak) ÷ total = 300 / 980
    assert fig["peak_sharp_share_pct"] == pytest.approx(100 * 300 / 980)
    assert fig["average_price_cny_per_unit"] == pytest.approx(632 / 980)
    assert [r["band"] for r in fig["bands"]] == ["sharp", "peak", "flat", "valley"]


def test_demand_ignores_incomplete_intervals():
    kwh = np.array([5.0, 50.0, 7.0, np.nan])
    starts = np.arange(4, dtype=np.int64) * Q
    d = cost.max_demand(kwh, starts, np.array([True, False, True, True]))
    # the 50 kWh interval has a gap inside: left out; max = 7 kWh × 4 = 28 kW
    assert d.kw == pytest.approx(28.0) and d.start_us == 2 * Q and d.intervals == 2
    assert cost.max_demand(kwh, starts, np.zeros(4, bool)) is None


def test_hourly_intervals_give_hourly_demand():
    d = cost.max_demand(np.array([100.0]), np.array([0]), np.array([True]), interval_s=3600)
    assert d.kw == pytest.approx(100.0)  # 100 kWh in one hour = 100 kW


def test_capacity_charge_is_prorated():
    # 500 kVA × 20 CNY/(kVA·month) = 10 000 per month; 10 days of a 31-day month
    assert cost.capacity_charge(20.0, 500.0) == pytest.approx(10_000.0)
    assert cost.capacity_charge(20.0, 500.0, 10 / 31) == pytest.approx(10_000 * 10 / 31)
    assert cost.capacity_charge(None, 500.0) is None
    assert cost.capacity_charge(20.0, None) is None


def test_gap_energy_is_spread_evenly_over_its_time():
    # 72 kWh over 07:00-10:00 → 24 kWh in each hour slot 7, 8, 9
    t0, h = 0, 3600 * US
    spread = cost.spread_evenly(np.array([7 * h]), np.array([10 * h]), np.array([72.0]),
                                t0, h, 24)
    assert spread[7] == spread[8] == spread[9] == pytest.approx(24.0)
    assert spread.sum() == pytest.approx(72.0)
    # a span reaching past the window keeps only its share inside: 1 h of 4 h
    part = cost.spread_evenly(np.array([23 * h]), np.array([27 * h]), np.array([40.0]),
                              t0, h, 24)
    assert part.sum() == pytest.approx(10.0)


def test_single_band_fuel_costs_quantity_times_price():
    gas = cost.Terms("G1", "natural_gas", "m3", {"flat": 3.5}, (Period((), 0, 1440, "flat"),))
    bands = cost.classify(gas, np.full(24, 1), np.arange(24) * 60)
    b = cost.bill(gas, cost.band_totals(bands, np.full(24, 100 / 24)))
    assert b.energy_cny == pytest.approx(350.0)  # 100 m3 × 3.5 CNY/m3
    assert b.demand_charge_cny is None


def test_validity_and_lineage():
    t = cost.Terms("T", "electricity", "kWh", {"flat": 0.6}, valid_from=date(2025, 1, 1),
                   valid_to=date(2025, 12, 31), source="doc")
    assert t.covers(date(2025, 3, 1), date(2025, 4, 1))
    assert not t.covers(date(2024, 12, 1), date(2025, 1, 1))
    lin = t.lineage()
    assert lin["tariff"] == "T" and lin["prices"] == {"flat": 0.6} and lin["source"] == "doc"
    assert cost.peak_share({}) is None
