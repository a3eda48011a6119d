"""Cement clinker plant (水泥熟料): a 4000 t/d dry-process kiln with a waste heat power station.

Design figures, per tonne of clinker at full rate: electricity 52 kWh, heat 3050 MJ from
bituminous coal (≈ 0.136 t as received at 22.4 MJ/kg), raw meal 1.58 t, waste heat power
30 kWh.  Comprehensive energy ≈ 104 kgce heat + 6.4 kgce electricity − 3.7 kgce recovered
≈ 107 kgce/t, between grades 2 and 3 of GB 16780-2021.

Operation: the kiln runs round the clock; it stops for the winter staggered production
(错峰生产, 10 January to the end of February, fired up again on the last day of
February), an annual overhaul (8-18 July, fired up on 19 July) and two unplanned stops a year
(cyclone blockages, 20-40 h); whole days of stop carry maintenance loads on the day shift.
The raw mill has spare capacity and stops in peak and sharp tariff hours (避峰生产); the
crusher runs a day shift and not in heavy summer rain.  The waste heat
generator follows the kiln with a lag, trips three times a year, and is held below plant
demand by reverse-power protection (no export).
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from nengtan.demo import profiles
from nengtan.demo.context import Context
from nengtan.demo.simulation import Simulation

CAPACITY_T_PER_DAY = 4000.0
#: kW per (kWh per tonne of clinker) at full rate.
K = CAPACITY_T_PER_DAY / 24.0
HEAT_MJ_PER_T = 3050.0
RAW_MEAL_PER_CLINKER = 1.58
COAL_MILL_MOISTURE_LOSS = 0.07
WHR_KWH_PER_T = 30.0
NCV_MEAN_KJ_PER_KG = 22400.0


def kiln_campaign(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """Kiln running (0/1) per slot, and heat-up days (firing without feed), (n_days, 96)."""
    d = ctx.days
    on = np.ones((ctx.n, profiles.SLOTS))
    stagger = ((d.month == 1) & (d.dom >= 10)) | (d.month == 2)
    overhaul = (d.month == 7) & (d.dom >= 8) & (d.dom <= 19)
    on[stagger | overhaul] = 0.0
    end_of_february = np.array([x.month == 2 and (x + timedelta(days=1)).month == 3
                                for x in d.dates])
    heatup = end_of_february | ((d.month == 7) & (d.dom == 19))
    rng = ctx.rng("cement.stops")
    flat = on.ravel()
    for day in ctx.yearly_days("cement.stops", 2, (3, 4, 5, 6, 9, 10, 11, 12)):
        first = int(day) * profiles.SLOTS + int(rng.integers(0, profiles.SLOTS))
        flat[first:first + int(rng.integers(80, 160))] = 0.0
    return flat.reshape(on.shape), np.repeat(heatup[:, None], profiles.SLOTS, axis=1)


def coal_lots(ctx: Context, firing_day: np.ndarray) -> list[tuple[int, float, float]]:
    """Coal deliveries as (day index, NCV kJ/kg as received, carbon % as received): every
    3-4 days while the kiln is fired, the first three days before a campaign starts."""
    rng = ctx.rng("cement.coal")
    lots = []
    day = 0
    while day < ctx.n:
        ahead = firing_day[day:day + 4]
        if ahead.any() or day == 0:
            ncv = float(np.clip(rng.normal(NCV_MEAN_KJ_PER_KG, 550), 21000, 23500))
            carbon = 56.0 + 2.6 * (ncv - NCV_MEAN_KJ_PER_KG) / 1000 + rng.normal(0, 0.45)
            lots.append((day, round(ncv), round(float(carbon), 2)))
            day += int(rng.choice((3, 4)))
        else:
            day += 1
    return lots


def simulate(ctx: Context, sim: Simulation) -> None:
    """Electricity (kW per quarter hour), coal, raw meal and water (t/day), diesel (kg/day),
    clinker output (t/day) and coal deliveries of the cement plant."""
    rng = ctx.rng("cement")
    n, S = ctx.n, profiles.SLOTS
    on, heatup = kiln_campaign(ctx)
    rate = np.clip(1.0 + profiles.ar1(rng, n, 0.025, 0.8), 0.9, 1.06)
    feed = profiles.lagged(on * ctx.by_day(rate), 8) * (1 + profiles.smooth_noise(rng, n, 0.01))
    firing = np.maximum(feed, 0.25 * heatup)
    hot = np.clip(profiles.lagged(np.maximum(on, heatup), 96) * 1.5, 0, 1)
    active_day = on.mean(axis=1) > 0.2
    stopped = on.mean(axis=1) == 0

    def noisy(x, sigma=0.02):
        return x * (1 + profiles.smooth_noise(rng, n, sigma))

    # -- raw material preparation
    mill_on = (~ctx.peak_slots()) & active_day[:, None]
    hours_on = np.maximum(mill_on.sum(axis=1) / 4, 1.0)
    mill_scale = ctx.by_day(24.0 / hours_on * feed.mean(axis=1)) * mill_on
    rainy = (ctx.ghi.mean(axis=1) < 60) & np.isin(ctx.days.month, (6, 7, 8))
    crusher_on = profiles.window(7.0, 15.5)[None, :] * ~ctx.peak_slots() \
        * (active_day & ~rainy)[:, None]
    crusher_hours = np.maximum(crusher_on.sum(axis=1) / 4, 1.0)
    sim.set("CEM-E-301", noisy(1.5 * K * ctx.by_day(24 / crusher_hours) * crusher_on + 4, 0.06))
    sim.set("CEM-E-302", noisy(7.5 * K * mill_scale + 3))
    sim.set("CEM-E-303", noisy(8.0 * K * mill_scale + 5))
    sim.set("CEM-E-304", noisy(2.0 * K * feed + 18))
    sim.unmetered["CEM-E-201"] = noisy(1.5 * K * feed + 50, 0.05)
    # -- clinker burning
    sim.set("CEM-E-311", noisy(2.0 * K * (0.85 * feed + 0.15 * hot)))
    sim.set("CEM-E-312", noisy(7.0 * K * (0.75 * feed + 0.25 * np.maximum(hot, firing))))
    sim.set("CEM-E-313", noisy(5.0 * K * (0.9 * feed + 0.1 * hot)))
    sim.set("CEM-E-314", noisy(2.0 * K * (0.7 * feed + 0.3 * hot) + 6))
    sim.set("CEM-E-315", noisy(1.5 * K * feed + 4))
    sim.unmetered["CEM-E-202"] = noisy(2.5 * K * (0.7 * feed + 0.3 * hot) + 30, 0.04)
    # -- coal grinding follows the burners with a short lag
    coal_feed = profiles.lagged(firing, 4)
    sim.set("CEM-E-321", noisy(2.5 * K * coal_feed + 3, 0.03))
    sim.set("CEM-E-322", noisy(1.5 * K * coal_feed + 5, 0.03))
    sim.unmetered["CEM-E-203"] = noisy(0.5 * K * coal_feed + 10, 0.05)
    # -- utilities
    temp = ctx.by_day(ctx.temp)
    dark = ctx.sun < 0
    office = profiles.window(8.0, 17.5)[None, :] * ctx.by_day(ctx.days.working)
    sim.set("CEM-E-331", noisy(2.5 * K * (0.35 * hot + 0.65 * feed) + 60))
    sim.set("CEM-E-332", noisy(1.5 * K * (0.4 * hot + 0.6 * feed) * (1 + 0.012 * (temp - 15)) + 40))
    sim.set("CEM-E-333", noisy(45 + 40 * office + 35 * dark + office * (
        3.0 * profiles.cooling_degree(temp, 22) + 2.0 * profiles.heating_degree(temp, 8)), 0.04))
    # Stops are used for maintenance: cranes, welding and kiln relining on day shifts.
    works = profiles.window(8.0, 18.0)[None, :] * ctx.by_day(stopped)
    sim.unmetered["CEM-E-204"] = noisy(120 + 380 * works, 0.06)

    # -- waste heat power: follows kiln exhaust with thermal lag; poorer vacuum in summer
    rng_whr = ctx.rng("cement.whr")
    available = np.ones(n * S)
    for day in ctx.yearly_days("cement.whr_trips", 3):
        first = int(day) * S + int(rng_whr.integers(0, S))
        available[first:first + int(rng_whr.integers(32, 144))] = 0.0
    heat = profiles.lagged(feed, 12)
    whr = WHR_KWH_PER_T * K * np.clip((heat - 0.35) / 0.65, 0, None) ** 1.2 \
        * (1 - 0.004 * (temp - 15)) * available.reshape(n, S)
    whr = noisy(whr, 0.015)
    sim.set("CEM-E-205", noisy(0.08 * whr + 25, 0.03))
    use = sim.aggregate("CEM-V-100")
    # Reverse-power protection keeps the generator below plant demand: no export.
    whr = sim.set("CEM-E-190", np.clip(whr, 0.0, np.maximum(use - 150.0, 0.0)))
    purchase = use - sim.power["CEM-E-190"]
    share = 0.53 + profiles.smooth_noise(rng, n, 0.015, knots_per_day=6)
    sim.set("CEM-E-101", purchase * share)
    sim.set("CEM-E-102", purchase * (1 - share))

    # -- daily quantities
    clinker = (feed.sum(axis=1) * CAPACITY_T_PER_DAY / S) * (1 + rng.normal(0, 0.004, n))
    sim.production["CLINKER"] = np.round(clinker, 1)
    sim.set("CEM-M-301", clinker * RAW_MEAL_PER_CLINKER * (1 + rng.normal(0, 0.006, n)))
    fired = firing.sum(axis=1) / S
    lots = coal_lots(ctx, fired > 0)
    ncv = np.empty(n)
    for day, value, _ in lots:
        ncv[day:] = value
    heat_mj = fired * CAPACITY_T_PER_DAY * HEAT_MJ_PER_T * (1 + rng.normal(0, 0.012, n))
    raw_coal = heat_mj / ncv  # MJ / (kJ/kg) = t
    burner = raw_coal / (1 + COAL_MILL_MOISTURE_LOSS)
    head_share = np.clip(0.40 + rng.normal(0, 0.012, n), 0.36, 0.44)
    sim.set("CEM-C-301", burner * head_share)
    sim.set("CEM-C-302", burner * (1 - head_share))
    sim.aggregate("CEM-C-201")
    summer = 1 + 0.25 * np.clip((ctx.temp - 15) / 15, 0, 1)
    sim.set("CEM-W-101", (0.28 * clinker + 1.6 * whr.sum(axis=1) / 4 / 1000 + 60) * summer
            * (1 + rng.normal(0, 0.03, n)))
    loaders = np.where(active_day, 210.0, 45.0) * (1 + rng.normal(0, 0.08, n))
    sim.set("CEM-D-101", np.maximum(loaders, 0.0))
    _deliveries(sim, ctx, lots, raw_coal)
    compressed_air(ctx, sim)


_SUPPLIERS = ("晋北煤业供应链有限公司", "陕北榆林煤炭运销有限公司", "鄂尔多斯蒙泰煤炭销售有限公司")


def _deliveries(sim: Simulation, ctx: Context, lots, raw_coal: np.ndarray) -> None:
    """Coal deliveries sized to what is burned until the next one, each with the fuel
    laboratory's as-received NCV (GB/T 213-2008) and carbon content (GB/T 476-2008)."""
    rng = ctx.rng("cement.deliveries")
    ends = [day for day, _, _ in lots[1:]] + [ctx.n]
    per_year: dict[int, int] = {}
    for (day, ncv, carbon), end in zip(lots, ends):
        burned = float(raw_coal[day:end].sum())
        if burned <= 0:
            burned = float(raw_coal[end:end + 4].sum())
        if burned <= 0:
            continue
        when = ctx.days.dates[day]
        k = per_year[when.year] = per_year.get(when.year, 0) + 1
        sim.deliveries.append({
            "node": "CEM", "carrier": "bituminous_coal", "delivered_on": when,
            "quantity": round(burned * (1 + rng.normal(0, 0.03)), 2), "unit": "t",
            "supplier": _SUPPLIERS[int(rng.integers(0, len(_SUPPLIERS)))],
            "lot_no": f"MC{when:%Y%m%d}",
            "ncv": ncv, "ncv_unit": "kJ/kg", "carbon_content_pct": carbon,
            "lab": "山东鲁岳水泥有限公司化验室", "report_no": f"HY-MZ-{when:%Y}-{k:04d}",
            "method": "GB/T 213-2008",
            "note": "收到基低位发热量；元素碳含量按 GB/T 476-2008 测定",
        })


#: Specific power of the compressor station at full load, kW/(m³/min), and its rise at no
#: load (load/unload control: unloaded compressors still draw about a quarter of full power).
AIR_SPECIFIC_POWER_FULL = 6.6
AIR_SPECIFIC_POWER_IDLE_RISE = 0.8


def compressed_air(ctx: Context, sim: Simulation) -> None:
    """Air delivered by the compressor station (CEM-A-331, m³/day at inlet conditions): the
    day's station electricity (CEM-E-331) × 60 ÷ a specific power of ≈ 6.6 kW/(m³/min) at
    full load, rising towards 7.4 when the kiln is down, within 6.5-7.5."""
    rng = ctx.rng("cement.air")
    kwh = sim.power["CEM-E-331"].sum(axis=1) * profiles.SLOT_H
    full = (2.5 * K + 60.0) * 24.0  # the station's design kWh per day (see simulate)
    load = np.clip(kwh / full, 0.0, 1.0)
    sp = np.clip(AIR_SPECIFIC_POWER_FULL + AIR_SPECIFIC_POWER_IDLE_RISE * (1 - load)
                 + rng.normal(0, 0.05, ctx.n), 6.5, 7.5)
    sim.set("CEM-A-331", kwh * 60.0 / sp)
