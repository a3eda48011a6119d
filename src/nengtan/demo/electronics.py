"""Electronics assembly plant (电子装配): smart-controller PCBA and final assembly.

Three SMT lines (≈ 800 boards/h each at full speed) and two assembly lines work two shifts,
08:00-16:00 and 16:00-24:00 with meal breaks; normal Saturdays work the day shift only; Sundays
and holidays only keep the burn-in rooms, clean-room air and chillers going.  The plant closes
from four days before to six days after Lunar New Year while migrant workers are home.

Behind the 10 kV meter sit a 1.2 MWp rooftop PV plant (two arrays, self-consumption with
surplus export on weekends and holidays, curtailed above the 200 kW allowed by the
grid-connection agreement) and a 0.5 MW / 2 MWh battery that charges from
00:00 to 04:30 (valley band) and discharges from 17:00 to 21:00 (peak and sharp bands),
never exporting (anti-backflow control keeps 30 kW of import).
"""

from __future__ import annotations

import numpy as np

from nengtan.demo import profiles, structure
from nengtan.demo.context import Context
from nengtan.demo.simulation import Simulation

BOARDS_PER_LINE_HOUR = 800.0
PV_ARRAYS = {"ELE-PV-201": 700.0, "ELE-PV-202": 500.0}  # kWp
EXPORT_LIMIT_KW = 200.0
BATTERY_KW = 480.0
BATTERY_KWH = 2000.0
SOC_MIN, SOC_MAX = 0.05, 0.95
ONE_WAY_EFFICIENCY = 0.935  # ≈ 87 % round trip
CHARGE = profiles.window(0.0, 4.5, 0.0)
DISCHARGE = profiles.window(17.0, 21.0, 0.0)
#: Order factor by month: low after the Spring Festival, high before Double 11 and year end.
DEMAND = np.array([0, .92, .75, .95, .97, .98, .97, .95, 1.0, 1.05, 1.08, 1.07, 1.0])


def activity(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """Line activity 0..1 per slot for a two-shift day, and whether it is a working day."""
    d = ctx.days
    two = profiles.window(8.0, 24.0) * (1 - 0.6 * profiles.window(11.5, 12.25)
                                         - 0.6 * profiles.window(19.5, 20.0))
    one = profiles.window(8.0, 16.0) * (1 - 0.6 * profiles.window(11.5, 12.25))
    sf = d.spring_festival
    closed = (sf >= -4) & (sf <= 6)
    full = d.working & ~closed
    saturday = (d.weekday == 5) & ~d.working & ~d.festive & ~closed
    staff = np.where(sf == 7, 0.6, np.where(sf == 8, 0.85, 1.0))
    shape = full[:, None] * two[None, :] + saturday[:, None] * one[None, :]
    return shape * ctx.by_day(staff * DEMAND[d.month]), full | saturday


def simulate(ctx: Context, sim: Simulation) -> None:
    """Electricity, PV and battery (kW per quarter hour), water (t/day) and boards (pcs/day)
    of the electronics plant."""
    rng = ctx.rng("electronics")
    n = ctx.n
    act, workday = activity(ctx)
    closed = ctx.by_day((ctx.days.spring_festival >= -4) & (ctx.days.spring_festival <= 6))
    shift_span = (act > 0.05).astype(float)
    temp = ctx.by_day(ctx.temp)
    cdd, hdd = profiles.cooling_degree(temp), profiles.heating_degree(temp)

    def noisy(x, sigma=0.03, knots=24):
        return x * (1 + profiles.smooth_noise(rng, n, sigma, knots))

    boards = np.zeros(n)
    for code in ("ELE-E-301", "ELE-E-302", "ELE-E-303"):
        util = np.clip(rng.normal(0.93, 0.05, n), 0.7, 1.0)
        a = act * ctx.by_day(util)
        boards += a.sum(axis=1) / 4 * BOARDS_PER_LINE_HOUR
        sim.set(code, noisy(5 + 17 * shift_span + 56 * a, 0.05, 96))
    sim.production["SMART-CTRL"] = np.round(boards * (1 - np.abs(rng.normal(0.008, 0.004, n))))
    sim.unmetered["ELE-E-201"] = noisy(30 + 10 * shift_span)
    for code in ("ELE-E-311", "ELE-E-312"):
        sim.set(code, noisy(4 + 34 * act * ctx.by_day(np.clip(rng.normal(0.95, 0.04, n), 0.8, 1)),
                            0.06, 96))
    sim.unmetered["ELE-E-202"] = noisy(5 + 15 * shift_span)
    # Burn-in racks hold the last two days' boards (mean activity ≈ 0.6 in a working week).
    sim.set("ELE-E-321", noisy(8 + 110 * profiles.lagged(act, 192) / 0.6, 0.02))
    sim.unmetered["ELE-E-203"] = noisy(5 + 30 * act)
    sim.set("ELE-E-331", noisy((60 + 9 * cdd + 30 * act) * (1 - 0.55 * closed)))
    sim.set("ELE-E-332", noisy(25 + 70 * act, 0.05, 96))
    sim.set("ELE-E-333", noisy((55 + 3.5 * hdd + 2.0 * cdd) * (1 - 0.5 * closed)))
    sim.unmetered["ELE-E-204"] = noisy(np.full((n, profiles.SLOTS), 15.0))
    office = profiles.window(8.5, 18.0)[None, :] * ctx.by_day(
        np.where(ctx.days.working, 1.0, np.where(workday, 0.2, 0.0)))
    sim.set("ELE-E-205", noisy(20 + 45 * office + office * (2.2 * cdd + 1.5 * hdd)))
    site = sum(sim.aggregate(m.code) for m in structure.children("ELE-E-101"))

    pv = np.zeros_like(site)
    for k, (code, kwp) in enumerate(PV_ARRAYS.items()):
        # Array 2 faces east-west: a flatter, slightly lower curve.
        ghi = ctx.ghi if k == 0 else ctx.ghi ** 0.92 * 1.3
        out = profiles.pv_power(kwp, ghi, ctx.temp) * (0.985 - 0.02 * k)
        pv += sim.set(code, np.where(ctx.sun > 0, out, 0.0))

    demand = site * (1 + structure.METERS_BY_CODE["ELE-E-101"].loss)
    # The grid-connection agreement caps export; the inverters curtail beyond it.
    curtail = np.clip(pv - demand - EXPORT_LIMIT_KW, 0.0, None)
    keep = np.where(pv > 0, 1 - curtail / np.where(pv > 0, pv, 1.0), 1.0)
    pv = pv * keep
    for code in PV_ARRAYS:
        sim.power[code] = sim.power[code] * keep
    load = demand - pv
    charge, discharge = battery(ctx, load)
    sim.set("ELE-ES-201", charge)
    sim.set("ELE-ES-202", discharge)
    net = load + charge - discharge
    sim.set("ELE-E-101", np.maximum(net, 0.0))
    sim.set("ELE-E-102", np.maximum(-net, 0.0))
    sim.set("ELE-W-101", (55 + 85 * act.mean(axis=1) * 24 / 15 + 4 * np.maximum(ctx.temp - 18, 0))
            * (1 + rng.normal(0, 0.04, n)))
    cooling(ctx, sim)


def battery(ctx: Context, load: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Charge and discharge power, kW, from a day-by-day state-of-charge simulation.

    The battery charges at full power in the night valley until full, then in the evening
    peak delivers what it holds, limited so that the site never exports (``load`` is site
    demand net of PV, kW).  It is out of service three days a year for inspection.
    """
    n = ctx.n
    out_of_service = np.zeros(n, bool)
    out_of_service[ctx.yearly_days("electronics.battery_inspection", 3)] = True
    charge = np.zeros_like(load)
    discharge = np.zeros_like(load)
    soc = SOC_MIN * BATTERY_KWH
    cap = SOC_MAX * BATTERY_KWH
    for day in range(n):
        if out_of_service[day]:
            continue
        room = (cap - soc) / ONE_WAY_EFFICIENCY
        want = BATTERY_KW * CHARGE
        scale = min(1.0, room / (want.sum() * 0.25)) if want.sum() else 0.0
        charge[day] = want * scale
        soc += charge[day].sum() * 0.25 * ONE_WAY_EFFICIENCY
        limit = np.clip(load[day] - 30.0, 0.0, BATTERY_KW) * DISCHARGE
        deliverable = (soc - SOC_MIN * BATTERY_KWH) * ONE_WAY_EFFICIENCY
        scale = min(1.0, deliverable / (limit.sum() * 0.25)) if limit.sum() else 0.0
        discharge[day] = limit * scale
        soc -= discharge[day].sum() * 0.25 / ONE_WAY_EFFICIENCY
    return charge, discharge


#: Operating COP of the chiller plant at a daily mean of 14 °C, and its fall per kelvin of
#: warmer weather (condensing temperature follows the cooling-tower water).
COP_AT_14C = 5.0
COP_PER_K = 0.025


def cooling(ctx: Context, sim: Simulation) -> None:
    """Cooling delivered by the chillers (heat meter ELE-Q-331, GJ/day): the day's chiller
    electricity × an operating COP from ≈ 5.5 in winter to ≈ 4.6 in summer, within 4.5-5.5."""
    rng = ctx.rng("electronics.cooling")
    kwh = sim.power["ELE-E-331"].sum(axis=1) * profiles.SLOT_H
    cop = np.clip(COP_AT_14C - COP_PER_K * (ctx.temp - 14.0) + rng.normal(0, 0.04, ctx.n),
                  4.5, 5.5)
    sim.set("ELE-Q-331", kwh * cop * 3.6e-3)  # kWh of cooling → GJ
