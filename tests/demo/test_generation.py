"""The pure parts of the demo generator: calendar, solar geometry, shapes, the park model."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from nengtan.demo import faults, model, profiles, structure
from nengtan.demo.context import make_context, tariff_schedule
from nengtan.demo.days import lunar_new_years, make_days
from nengtan.demo.readings import meter_readings
from nengtan.energy import tou


def test_holiday_calendar_with_adjusted_workdays():
    d = make_days(date(2025, 1, 20), date(2025, 10, 12))
    at = {x: i for i, x in enumerate(d.dates)}
    # 2025 arrangement: 26 Jan (Sunday) and 8 Feb (Saturday) worked for the Spring Festival.
    assert d.working[at[date(2025, 1, 26)]] and d.working[at[date(2025, 2, 8)]]
    assert d.holiday[at[date(2025, 1, 29)]] and d.spring_festival[at[date(2025, 1, 29)]] == 0
    assert d.spring_festival[at[date(2025, 1, 26)]] == -3
    # Golden Week: 4-5 October are a weekend inside the break, 11 October (Saturday) is worked.
    assert d.festive[at[date(2025, 10, 4)]] and not d.holiday[at[date(2025, 10, 4)]]
    assert d.working[at[date(2025, 10, 11)]]
    assert not d.festive[at[date(2025, 9, 21)]] and not d.working[at[date(2025, 9, 21)]]


def test_lunar_new_years_are_known():
    assert lunar_new_years([2024, 2025, 2026]) == [date(2024, 2, 10), date(2025, 1, 29),
                                                   date(2026, 2, 17)]


def test_solar_noon_elevation_at_the_solstices():
    """Elevation at solar noon = 90° − latitude ± 23.45° (Cooper's declination)."""
    sin_elev = profiles.sun_sine_elevation(np.array([172, 355]))
    elev = np.degrees(np.arcsin(sin_elev.max(axis=1)))
    assert elev[0] == pytest.approx(90 - 36.5 + 23.45, abs=0.1)
    assert elev[1] == pytest.approx(90 - 36.5 - 23.45, abs=0.1)
    # Day length at 36.5° N: about 14.5 h in June, 9.6 h in December.
    hours = (sin_elev > 0).sum(axis=1) / 4
    assert hours[0] == pytest.approx(14.5, abs=0.3) and hours[1] == pytest.approx(9.6, abs=0.3)


def test_haurwitz_clear_sky_known_values():
    ghi = profiles.clear_sky_ghi(np.array([1.0, 0.5, 0.0, -0.2]))
    assert ghi[0] == pytest.approx(1098 * np.exp(-0.057), rel=1e-9)  # 1037.2 W/m²
    assert ghi[1] == pytest.approx(1098 * 0.5 * np.exp(-0.114), rel=1e-9)
    assert ghi[2] == 0 and ghi[3] == 0


def test_window_shape_and_wrap_past_midnight():
    day = profiles.window(8.0, 16.0, 0.0)
    assert day.sum() / 4 == 8.0 and day[32] == 1 and day[31] == 0
    night = profiles.window(23.0, 7.0, 0.0)
    assert night.sum() / 4 == 8.0 and night[0] == 1 and night[92] == 1 and night[28] == 0


def test_demo_tariff_covers_every_month_once():
    periods = [tou.Period(tou.parse_months(m), tou.parse_hhmm(s), tou.parse_hhmm(e), b)
               for m, s, e, b in structure.TARIFF_PERIODS]
    assert tou.check(periods) == []
    assert set(tariff_schedule().bands) == {"sharp", "peak", "flat", "valley"}


def test_structure_is_consistent():
    codes = [m.code for m in structure.METERS]
    assert len(codes) == len(set(codes)) >= 80
    nodes = {n.code for n in structure.NODES}
    for m in structure.METERS:
        assert m.node in nodes and {m.flow_from, m.flow_to} - {None} <= nodes, m.code
        assert m.parent is None or m.parent in codes
        assert m.name_zh and m.name_en
    order = [m.code for m in structure.creation_order()]
    assert sorted(order) == sorted(codes)
    for m in structure.METERS:
        if m.parent:
            assert order.index(m.parent) < order.index(m.code)


@pytest.fixture(scope="module")
def spring():
    """Ten weeks around the 2025 Spring Festival and the cement restart."""
    return model.simulate(date(2025, 1, 6), date(2025, 3, 16), 2025)


def test_quantities_are_non_negative_and_complete(spring):
    ctx, sim = spring
    for m in structure.METERS:
        if m.kind == "virtual":
            continue
        series = sim.power[m.code] if m.interval_s == 900 else sim.daily[m.code]
        assert series.shape[0] == ctx.n and (series >= 0).all(), m.code


def test_aggregates_are_children_plus_losses(spring):
    _, sim = spring
    for parent in ("TEX-E-101", "ELE-E-201", "QLP-E-001", "TEX-S-201", "QLP-W-101"):
        kids = sum(sim.aggregate(k.code) for k in structure.children(parent))
        extra = sim.unmetered.get(parent, 0.0)
        loss = structure.METERS_BY_CODE[parent].loss
        np.testing.assert_allclose(sim.aggregate(parent), (kids + extra) * (1 + loss))


def test_electronics_boundary_balances(spring):
    """Import − export = site demand + battery charge − discharge − PV."""
    _, sim = spring
    p = sim.power
    site = sum(sim.aggregate(c.code) for c in structure.children("ELE-E-101")) * 1.01
    net = site + p["ELE-ES-201"] - p["ELE-ES-202"] - p["ELE-PV-201"] - p["ELE-PV-202"]
    np.testing.assert_allclose(p["ELE-E-101"] - p["ELE-E-102"], net, atol=1e-9)
    assert p["ELE-E-102"].max() <= 200.0 + 1e-9


def test_cement_waste_heat_never_exceeds_plant_use(spring):
    _, sim = spring
    assert (sim.power["CEM-E-190"] <= sim.power["CEM-V-100"] - 149.9).all()


def test_registers_are_monotone_and_fault_free_before_faults(spring):
    ctx, sim = spring
    t0 = 1_736_092_800_000_000  # 2025-01-06 00:00 +08:00
    for m in structure.METERS:
        if m.kind == "virtual" or m.register != "cumulative":
            continue
        r = meter_readings(ctx, sim, m, t0)
        assert (np.diff(r.value) >= 0).all(), m.code
        assert (np.diff(r.ts) > 0).all()


def test_faults_stay_inside_the_window():
    short = make_days(date(2026, 11, 10), date(2026, 11, 20))
    kinds = {f.kind for f in faults.plan(short)}
    assert "decrease" not in kinds and "gap" not in kinds  # 14 and 11 days back
    assert kinds == {"replacement", "spike"}
    spike = next(f for f in faults.plan(short) if f.kind == "spike")
    at = {x: i for i, x in enumerate(short.dates)}
    assert short.working[at[spike.start.date()]]


def test_context_streams_are_independent():
    a = make_context(date(2025, 3, 1), date(2025, 3, 10), 1)
    b = make_context(date(2025, 3, 1), date(2025, 3, 10), 1)
    a.rng("x").random(100)
    assert a.rng("y").random() == b.rng("y").random()
