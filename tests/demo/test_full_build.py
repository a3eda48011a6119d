"""Assertions on the full default demo build (SQLite, built once per session)."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nengtan.demo import model, structure
from nengtan.demo.days import lunar_new_years
from nengtan.energy import tou
from nengtan.quality.flags import Quality
from nengtan.services import query, tariffs
from nengtan.store import meta
from nengtan.store.models import (
    EconomicRecord,
    FuelDelivery,
    Meter,
    MeterEvent,
    Node,
    Product,
    ProductionRecord,
    QualityEvent,
    Reading,
    RollupDay,
    Tariff,
)
from nengtan.store.types import to_us
from nengtan.timeseries.calendar import day_index

TZ = ZoneInfo("Asia/Shanghai")


def daily(engine, code: str) -> dict[date, float]:
    with Session(engine) as s:
        rows = s.execute(select(RollupDay.day, RollupDay.value).join(
            Meter, Meter.id == RollupDay.meter_id).where(Meter.code == code)).all()
    return {d: v for d, v in rows}


def total(engine, code: str, first: date | None = None, last: date | None = None) -> float:
    return sum(v or 0.0 for d, v in daily(engine, code).items()
               if (first is None or d >= first) and (last is None or d <= last))


def ids(engine) -> dict[str, int]:
    with Session(engine) as s:
        return dict(s.execute(select(Meter.code, Meter.id)).all())


def hourly(engine, code: str, report):
    """Hourly values (UTC hours) over the whole window, with each hour's local datetime."""
    first = day_index(report.start) - 1
    last = day_index(report.end)
    with engine.connect() as conn:
        _, hours, value, _ = query.hourly_matrix(conn, [ids(engine)[code]], first, last)
    local = hours // 1_000_000 + 8 * 3600
    return value[0], (local // 3600) % 24, local


# -- organisation and meters ---------------------------------------------------------------
def test_park_enterprises_and_public_facilities(full_demo):
    engine, report = full_demo
    with Session(engine) as s:
        park = s.scalar(select(Node).where(Node.kind == "park"))
        assert park.region == "shandong" and park.timezone == "Asia/Shanghai"
        enterprises = s.scalars(select(Node).where(Node.kind == "enterprise")).all()
        assert {e.industry_code for e in enterprises} == {"3011", "1713", "3982"}
        assert all(e.parent_id == park.id for e in enterprises)
        facilities = s.scalars(select(Node).where(Node.kind == "facility",
                                                  Node.parent_id == park.id)).all()
        assert len(facilities) >= 5
        assert {"园区污水处理厂", "园区道路照明", "管委会综合服务楼", "园区公共充电站"} <= {
            f.name_zh for f in facilities}
    assert report.nodes == len(structure.NODES)


def test_meter_counts_levels_and_kinds(full_demo):
    engine, report = full_demo
    assert report.meters >= 80
    assert report.fifteen_minute_electricity_meters >= 50
    assert set(report.meters_by_level) == {1, 2, 3}
    assert report.meters_by_kind["virtual"] >= 1 and report.meters_by_kind["manual"] >= 1
    with Session(engine) as s:
        rows = s.execute(select(Meter.code, Meter.register, Meter.multiplier, Meter.tariff_id,
                                Meter.kind, Meter.carrier_code, Meter.interval_s)).all()
    physical_electricity = [r for r in rows if r.kind == "physical"
                            and r.carrier_code == "electricity"]
    cumulative = [r for r in physical_electricity if r.register == "cumulative"]
    assert len(cumulative) > len(physical_electricity) / 2
    assert any(r.multiplier > 1 for r in cumulative)
    assert any(r.register == "interval" for r in physical_electricity)
    # Every electricity meter is priced by the time-of-use tariff.
    assert all(r.tariff_id is not None for r in physical_electricity)
    assert {r.carrier_code for r in rows} >= {"electricity", "electricity_pv", "electricity_whr",
                                             "bituminous_coal", "natural_gas", "steam", "water",
                                             "raw_meal", "diesel"}


def test_flow_edges_and_parent_meters(full_demo):
    engine, _ = full_demo
    with Session(engine) as s:
        codes = dict(s.execute(select(Node.id, Node.code)).all())
        meters = {m.code: m for m in s.scalars(select(Meter))}
    park_in = meters["QLP-E-001"]
    assert park_in.flow_from_node_id is None and codes[park_in.flow_to_node_id] == "QLP-SUB"
    export = meters["ELE-E-102"]
    assert codes[export.flow_from_node_id] == "ELE-S1"
    assert codes[export.flow_to_node_id] == "QLP-SUB"
    assert meters["CEM-E-311"].parent_meter_id == meters["CEM-E-202"].id
    assert meters["TEX-E-101"].parent_meter_id == meters["QLP-E-001"].id


# -- readings ------------------------------------------------------------------------------
def test_window_is_last_full_year_and_this_year_to_date(full_demo):
    engine, report = full_demo
    today = report.today
    assert report.start == date(today.year - 1, 1, 1)
    assert report.end == today - timedelta(days=1)
    first_midnight = datetime.combine(report.start, time(0), tzinfo=TZ)
    assert to_us(report.first_reading) == to_us(first_midnight)
    assert to_us(report.last_reading) == to_us(datetime.combine(today, time(0), tzinfo=TZ))
    n_days = (report.end - report.start).days + 1
    with Session(engine) as s:
        rows = s.execute(select(Meter.code, func.count(), func.min(RollupDay.day),
                                func.max(RollupDay.day), func.min(RollupDay.coverage_s))
                         .join(Meter, Meter.id == RollupDay.meter_id)
                         .where(Meter.kind == "physical", Meter.interval_s == 900)
                         .group_by(Meter.code)).all()
    assert len(rows) == sum(1 for m in structure.METERS if m.is_fifteen_minute)
    for code, count, first, last, coverage in rows:
        assert (count, first, last) == (n_days, report.start, report.end), code
        if code != "TEX-E-312":  # the injected gap is a gap span, not hourly coverage
            assert coverage == 86400, code


def test_reading_count_is_known(full_demo):
    """Every quarter hour of every 15-minute meter, every midnight of every daily meter, the
    first of every month for the manual meter, less the 23 readings of the injected gap."""
    engine, report = full_demo
    n_days = (report.end - report.start).days + 1
    slots = n_days * 96
    expected = 0
    for m in structure.METERS:
        if m.kind == "virtual":
            continue
        if m.kind == "manual":
            expected += 1 + sum(1 for i in range(1, n_days + 1)
                                if (report.start + timedelta(days=i)).day == 1)
        elif m.interval_s == 86400:
            expected += n_days + 1
        else:
            expected += slots + (1 if m.register == "cumulative" else 0)
    assert report.readings == expected - 23


def test_daily_rollups_equal_the_simulated_quantities(full_demo):
    """Known answer: what the pipeline makes of the readings is what the generator simulated,
    to the resolution of the registers."""
    engine, report = full_demo
    _, sim = model.simulate(report.start, report.end, report.seed)
    for code in ("CEM-C-201", "CEM-M-301", "TEX-G-101", "TEX-S-201", "QLP-W-101", "CEM-E-101",
                 "TEX-E-101", "ELE-PV-201", "QLP-E-203", "QLP-E-001"):
        meter = structure.METERS_BY_CODE[code]
        count = meter.multiplier * 10.0 ** -meter.decimals
        # A day of a register is off by at most one count; of 96 rounded intervals, by 96 halves.
        resolution = (96 * count / 2 if meter.register == "interval" else count) + 1e-6
        expected = sim.daily[code] if meter.interval_s == 86400 \
            else sim.power[code].sum(axis=1) * 0.25
        values = daily(engine, code)
        got = np.array([values[d] for d in sorted(values)])
        assert np.abs(got - expected).max() < resolution, code


def test_manual_meter_has_monthly_manual_readings(full_demo):
    engine, _ = full_demo
    with Session(engine) as s:
        rows = s.execute(select(Reading.ts, Reading.quality, Reading.value)
                         .join(Meter, Meter.id == Reading.meter_id)
                         .where(Meter.code == "CEM-D-101").order_by(Reading.ts)).all()
    assert all(q == Quality.MANUAL for _, q, _ in rows)
    assert all(ts.astimezone(TZ).day == 1 and ts.astimezone(TZ).hour == 0 for ts, _, _ in rows)
    monthly_kg = np.diff([v for _, _, v in rows])
    # Two loaders: a few tonnes of diesel a month.
    assert 1000 < np.median(monthly_kg) < 9000


# -- patterns ------------------------------------------------------------------------------
def _working_days_before(d: date, n: int, cal) -> list[date]:
    out, x = [], d - timedelta(days=1)
    while len(out) < n:
        if cal.is_working_day(x):
            out.append(x)
        x -= timedelta(days=1)
    return out


@pytest.mark.parametrize("code, most", [("ELE-E-201", 0.4), ("TEX-E-101", 0.6),
                                        ("QLP-E-204", 0.7)])
def test_national_day_has_lower_load_than_workdays(full_demo, code, most):
    engine, report = full_demo
    year = report.start.year
    cal = holidays.China(years=year)
    golden = [date(year, 10, d) for d in (1, 2, 3)]
    assert all(d in cal for d in golden)
    values = daily(engine, code)
    holiday_mean = np.mean([values[d] for d in golden])
    workday_mean = np.mean([values[d] for d in _working_days_before(golden[0], 10, cal)])
    assert holiday_mean < most * workday_mean


def test_adjusted_weekend_workday_works_like_a_weekday(full_demo):
    """调休: a Sunday that is an official working day runs two shifts at the electronics
    plant; the ordinary Sunday a week earlier does not."""
    engine, report = full_demo
    years = range(report.start.year, report.end.year + 1)
    cal = holidays.China(years=years)
    new_years = lunar_new_years(years)
    # Workdays next to the Spring Festival fall in the plant's closure: leave them out.
    sundays = [d for d in sorted(cal.weekend_workdays)
               if d.weekday() == 6 and report.start + timedelta(days=7) <= d <= report.end
               and not cal.is_working_day(d - timedelta(days=7))
               and d - timedelta(days=7) not in cal
               and min(abs((d - n).days) for n in new_years) > 15]
    assert sundays, "the window should contain a Sunday workday"
    values = daily(engine, "ELE-E-201")
    for d in sundays:
        assert values[d] > 1.5 * values[d - timedelta(days=7)], d


def test_spring_festival_shutdowns(full_demo):
    engine, report = full_demo
    new_year = lunar_new_years([report.start.year])[0]
    textile = daily(engine, "TEX-E-101")
    january = [v for d, v in textile.items() if d.year == report.start.year and d.month == 1
               and holidays.China(years=d.year).is_working_day(d) and v is not None]
    assert textile[new_year] < 0.1 * np.median(january)
    # The cement kiln is in its winter staggered shutdown (错峰生产) for all of February.
    with Session(engine) as s:
        clinker = s.execute(select(ProductionRecord.period_start, ProductionRecord.quantity)
                            .join(Product).where(Product.code == "CLINKER")).all()
    feb = [q for d, q in clinker if d.year == report.start.year and d.month == 2]
    assert len(feb) >= 28 and max(feb) == 0
    april = [q for d, q in clinker if d.year == report.start.year and d.month == 4]
    assert 3500 < np.median(april) < 4300


def test_pv_is_zero_at_night_and_follows_the_sun(full_demo):
    engine, report = full_demo
    for code, kwp in (("ELE-PV-201", 700.0), ("ELE-PV-202", 500.0)):
        value, hour, _ = hourly(engine, code, report)
        night = np.isin(hour, (21, 22, 23, 0, 1, 2, 3, 4)) & ~np.isnan(value)
        assert night.sum() > 300 * 8
        assert np.all(value[night] == 0.0)
        noon = np.isin(hour, (11, 12)) & ~np.isnan(value)
        assert value[noon].mean() > 0.25 * kwp
        assert np.nanmax(value) < kwp
        years = (report.end - report.start).days / 365.25
        # Central Shandong: about 1 100-1 300 kWh per kWp and year.
        assert 900 < np.nansum(value) / kwp / years < 1400


def _bands(engine, local_us: np.ndarray) -> np.ndarray:
    with Session(engine) as s:
        tariff = s.scalar(select(Tariff).where(Tariff.code == structure.TARIFF_CODE))
        schedule = tariffs.schedule(tariff)
    stamps = local_us.astype("datetime64[s]")
    month = stamps.astype("datetime64[M]").astype(int) % 12 + 1
    minute = (local_us // 60) % 1440
    return np.array(schedule.bands)[schedule.classify(month, minute)]


def test_battery_charges_in_valley_and_discharges_at_peak(full_demo):
    engine, report = full_demo
    charge, _, local = hourly(engine, "ELE-ES-201", report)
    discharge, _, _ = hourly(engine, "ELE-ES-202", report)
    band = _bands(engine, local)
    charge, discharge = np.nan_to_num(charge), np.nan_to_num(discharge)
    assert charge.sum() > 300 * 1500  # about 2 MWh on most nights
    assert charge[band == "valley"].sum() / charge.sum() > 0.999
    assert discharge[np.isin(band, ("peak", "sharp"))].sum() / discharge.sum() > 0.999
    # Round trip: about 87 % of what went in comes out.
    assert 0.8 < discharge.sum() / charge.sum() < 0.9


def test_tou_tariff_is_valid(full_demo):
    engine, _ = full_demo
    with Session(engine) as s:
        tariff = s.scalar(select(Tariff).where(Tariff.code == structure.TARIFF_CODE))
        periods = tariffs.schedule(tariff)
        prices = {b.band: b.price for b in tariff.bands}
        parsed = [tou.Period(tou.parse_months(p.months), tou.parse_hhmm(p.start),
                             tou.parse_hhmm(p.end), p.band) for p in tariff.periods]
    assert tou.check(parsed) == []
    assert prices["sharp"] > prices["peak"] > prices["flat"] > prices["valley"] > 0
    assert periods.band_at(7, 18 * 60) == "sharp" and periods.band_at(1, 17 * 60) == "sharp"
    assert periods.band_at(4, 12 * 60) == "valley" and periods.band_at(4, 2 * 60) == "valley"


# -- balances ------------------------------------------------------------------------------
def test_park_incoming_equals_tenants_plus_public_plus_losses(full_demo):
    engine, _ = full_demo
    incoming = total(engine, "QLP-E-001") + total(engine, "QLP-E-002")
    feeders = sum(total(engine, c) for c in (
        "CEM-E-101", "CEM-E-102", "TEX-E-101", "ELE-E-101", "QLP-E-201", "QLP-E-202",
        "QLP-E-203", "QLP-E-204", "QLP-E-205")) - total(engine, "ELE-E-102")
    # 1.2 % transformer and line losses by construction.
    assert incoming / feeders == pytest.approx(1.012, abs=0.002)
    losses = total(engine, "QLP-V-001")
    assert losses == pytest.approx(incoming - feeders, rel=1e-6)


def test_sub_meters_roll_up_to_their_parents(full_demo):
    engine, _ = full_demo
    for parent in ("QLP-E-001", "QLP-E-201", "CEM-E-201", "CEM-E-202", "TEX-E-101", "TEX-E-203",
                   "ELE-E-201", "ELE-E-204", "TEX-S-201", "TEX-G-101", "QLP-W-101"):
        kids = sum(total(engine, m.code) for m in structure.children(parent))
        ratio = kids / total(engine, parent)
        assert 0.7 < ratio < 1.0, (parent, ratio)


def test_virtual_meters_have_rollups(full_demo):
    engine, report = full_demo
    n_days = (report.end - report.start).days + 1
    for code in ("QLP-V-001", "CEM-V-100", "CEM-V-101", "ELE-V-101"):
        assert len(daily(engine, code)) == n_days, code
    net = daily(engine, "ELE-V-101")
    imp, exp = daily(engine, "ELE-E-101"), daily(engine, "ELE-E-102")
    for d in list(net)[::37]:
        assert net[d] == pytest.approx(imp[d] - exp[d], rel=1e-9, abs=1e-6)
    unmetered = total(engine, "CEM-V-101") / total(engine, "CEM-V-100")
    assert 0.005 < unmetered < 0.03


def test_cement_energy_intensity_is_plausible(full_demo):
    """Comprehensive energy per tonne of clinker ≈ 100-115 kgce: coal at the laboratory NCVs,
    plus electricity (0.1229 kgce/kWh), less the waste heat power."""
    engine, report = full_demo
    first, last = date(report.start.year, 3, 1), date(report.start.year, 12, 31)
    with Session(engine) as s:
        clinker = s.scalar(select(func.sum(ProductionRecord.quantity)).join(Product).where(
            Product.code == "CLINKER", ProductionRecord.period_start >= first,
            ProductionRecord.period_start <= last))
        lots = s.execute(select(FuelDelivery.quantity, FuelDelivery.ncv_mj_per_unit).where(
            FuelDelivery.carrier_code == "bituminous_coal")).all()
    ncv_gj_per_t = sum(q * n for q, n in lots) / sum(q for q, _ in lots) / 1000
    coal = total(engine, "CEM-C-201", first, last)
    electricity = total(engine, "CEM-V-100", first, last)
    whr = total(engine, "CEM-E-190", first, last)
    kgce = coal * ncv_gj_per_t * 1000 / 29.3076 + (electricity - whr) * 0.1229
    assert 100 < kgce / clinker < 115
    assert 50 < electricity / clinker < 62
    assert total(engine, "CEM-M-301", first, last) / clinker == pytest.approx(1.58, rel=0.02)


# -- production, economics, fuel -----------------------------------------------------------
def test_production_economics_and_fuel_deliveries(full_demo):
    engine, report = full_demo
    n_days = (report.end - report.start).days + 1
    with Session(engine) as s:
        per_product = dict(s.execute(select(Product.code, func.count()).join(
            ProductionRecord, ProductionRecord.product_id == Product.id)
            .group_by(Product.code)).all())
        econ = s.execute(select(Node.code, func.count(), func.min(EconomicRecord.output_value))
                         .join(Node, Node.id == EconomicRecord.node_id)
                         .group_by(Node.code)).all()
        coal = s.scalars(select(FuelDelivery).where(
            FuelDelivery.carrier_code == "bituminous_coal")).all()
        gas = s.scalars(select(FuelDelivery).where(
            FuelDelivery.carrier_code == "natural_gas")).all()
    assert per_product == {"CLINKER": n_days, "DYED-FABRIC": n_days, "SMART-CTRL": n_days}
    full_months = (report.end.year - report.start.year) * 12 + report.end.month - 1
    assert {c: n for c, n, _ in econ} == {"CEM": full_months, "TEX": full_months,
                                          "ELE": full_months}
    assert len(coal) > 100 and len(gas) >= full_months
    for lot in coal:
        assert 21000 <= lot.ncv <= 23500 and lot.ncv_unit == "kJ/kg"
        assert lot.ncv_mj_per_unit == pytest.approx(lot.ncv)  # kJ/kg = MJ/t
        assert 50 < lot.carbon_content_pct < 62
        assert lot.method == "GB/T 213-2008" and lot.lab and lot.report_no
    for lot in gas:
        assert 35.0 <= lot.ncv <= 36.3 and lot.ncv_unit == "MJ/m3"
    delivered = sum(lot.quantity for lot in coal)
    assert delivered == pytest.approx(total(engine, "CEM-C-201"), rel=0.05)
    assert sum(lot.quantity for lot in gas) == pytest.approx(total(engine, "TEX-G-101"), rel=0.05)


# -- injected faults -----------------------------------------------------------------------
def _fault(report, kind):
    return next(f for f in report.faults if f["kind"] == kind)


def _findings(engine, origin: str = "pipeline"):
    """Findings of the readings pipeline (or, with origin="rules", of the demo's quality rules)."""
    with Session(engine) as s:
        return s.execute(select(Meter.code, QualityEvent.rule, QualityEvent.start_ts,
                                QualityEvent.end_ts).join(Meter, Meter.id == QualityEvent.meter_id)
                         .where(QualityEvent.origin == origin)).all()


def test_gap_is_found(full_demo):
    engine, report = full_demo
    gap = _fault(report, "gap")
    found = [f for f in _findings(engine) if f.rule == "gap"]
    assert [(f.code, to_us(f.start_ts), to_us(f.end_ts)) for f in found] == [
        (gap["meter"], to_us(datetime.fromisoformat(gap["start"])),
         to_us(datetime.fromisoformat(gap["end"])))]


def test_meter_replacement_is_recorded_and_applied(full_demo):
    engine, report = full_demo
    fault = _fault(report, "replacement")
    at = datetime.fromisoformat(fault["start"])
    with Session(engine) as s:
        event = s.scalar(select(MeterEvent).join(Meter).where(Meter.code == fault["meter"]))
        after = s.scalar(select(Reading.value).join(Meter, Meter.id == Reading.meter_id).where(
            Meter.code == fault["meter"], Reading.ts > at).order_by(Reading.ts).limit(1))
    assert event.kind == "replacement" and to_us(event.ts) == to_us(at)
    assert event.new_initial_value == 0.35 and event.old_final_value > 1000
    assert 0.35 < after < 5  # the new register restarted near zero
    applied = [f for f in _findings(engine) if f.rule == "reset_applied"]
    assert [f.code for f in applied] == [fault["meter"]]
    assert to_us(applied[0].start_ts) < to_us(at) <= to_us(applied[0].end_ts)
    # Nothing is lost: the day of the replacement is as complete as the days around it.
    values = daily(engine, fault["meter"])
    day = at.date()
    assert values[day] > 0.5 * min(values[day - timedelta(days=7)], values[day + timedelta(days=1)]
                                   if day + timedelta(days=1) in values else values[day])


def test_spike_is_in_the_readings(full_demo):
    engine, report = full_demo
    fault = _fault(report, "spike")
    at = datetime.fromisoformat(fault["start"])
    with Session(engine) as s:
        rows = s.execute(select(Reading.ts, Reading.value).join(
            Meter, Meter.id == Reading.meter_id).where(
            Meter.code == fault["meter"], Reading.ts >= at - timedelta(hours=2),
            Reading.ts <= at + timedelta(hours=2)).order_by(Reading.ts)).all()
    spike = [v for ts, v in rows if to_us(ts) == to_us(at)]
    around = [v for ts, v in rows if to_us(ts) != to_us(at)]
    assert len(spike) == 1 and spike[0] > 10 * np.median(around) > 0


def test_unrecorded_decrease_is_found_and_no_other_fault(full_demo):
    engine, report = full_demo
    fault = _fault(report, "decrease")
    rules = sorted((f.code, f.rule) for f in _findings(engine))
    assert rules == sorted([(fault["meter"], "register_decrease"),
                            (_fault(report, "gap")["meter"], "gap"),
                            (_fault(report, "replacement")["meter"], "reset_applied")])


def test_quality_rules_find_the_planted_faults(full_demo):
    engine, report = full_demo
    found = {(f.code, f.rule) for f in _findings(engine, "rules")}
    assert {(_fault(report, "spike")["meter"], "range"),
            (_fault(report, "gap")["meter"], "missing")} <= found


def test_meta_marker_and_report(full_demo):
    engine, report = full_demo
    with engine.connect() as conn:
        marker = json.loads(meta.get(conn, "demo"))
    assert marker == {"version": 1, "today": report.today.isoformat(), "seed": 2025,
                      "start": report.start.isoformat()}
    data = report.as_dict()
    json.dumps(data, ensure_ascii=False)
    assert data["meters_by_level"] == {"1": 15, "2": 34, "3": 45}
    assert {f["kind"] for f in data["faults"]} == {"gap", "replacement", "spike", "decrease"}
