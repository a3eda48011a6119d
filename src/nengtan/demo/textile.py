"""Textile dyeing and finishing plant (印染): cotton and blended woven fabric, 9 × 10^4 m/day.

Design figures per 10^4 m of fabric: electricity ≈ 2 800 kWh, steam 22 t (1.0 MPa saturated,
from a natural-gas boiler at ≈ 82.5 m3 gas per tonne, i.e. ≈ 92 % efficiency at 35.5 MJ/m3),
stenter gas ≈ 590 m3, fresh water ≈ 160 t; together ≈ 32 kgce per 100 m.

Operation: three shifts round the clock, with short dips at the 00:00, 08:00 and 16:00
handovers; Saturdays are worked, Sundays run at about 55 %; public holidays at about 35 %.
The plant closes from five days before to eight days after Lunar New Year and ramps up over
three days.  Orders are seasonal: strong in spring and autumn, weak in July-August and after
the Spring Festival.
"""

from __future__ import annotations

import numpy as np

from nengtan.demo import profiles
from nengtan.demo.context import Context
from nengtan.demo.simulation import Simulation

CAPACITY_10K_M_PER_DAY = 9.0
STEAM_T_PER_10K_M = 22.0
BOILER_GAS_M3_PER_T = 82.5
STENTER_GAS_M3_PER_10K_M = 590.0
#: Order-book factor by month (index 1..12).
DEMAND = np.array([0, .95, .80, 1.0, 1.02, 1.0, .93, .85, .88, 1.0, 1.03, 1.02, .97])


def production_factor(ctx: Context) -> np.ndarray:
    """Share of capacity in use per day."""
    d = ctx.days
    rng = ctx.rng("textile.days")
    p = DEMAND[d.month] * np.clip(1 + rng.normal(0, 0.04, ctx.n), 0.85, 1.1)
    sunday = (d.weekday == 6) & ~d.working & ~d.festive
    p = np.where(sunday, 0.55 * p, p)
    p = np.where(d.festive, 0.35 * p, p)
    sf = d.spring_festival
    p = np.where((sf >= -5) & (sf <= 8), 0.0, p)
    for offset, level in ((9, 0.5), (10, 0.75), (11, 0.9)):
        p = np.where(sf == offset, level * p, p)
    return np.minimum(p, 1.0)


def simulate(ctx: Context, sim: Simulation) -> None:
    """Electricity (kW per quarter hour), gas (m3/day), steam and water (t/day), fabric output
    (10^4 m/day) and the gas supplier's monthly statements of the dyeing plant."""
    rng = ctx.rng("textile")
    n = ctx.n
    p_day = production_factor(ctx)
    open_ = ctx.by_day(p_day > 0)
    handover = sum(profiles.window(h - 0.25, h + 0.25, 0.25) for h in (0.0, 8.0, 16.0))
    night = profiles.window(0.0, 8.0, 0.0)
    shape = (1 - 0.18 * handover) * (1 - 0.04 * night)
    p = ctx.by_day(p_day) * shape[None, :] * (1 + profiles.smooth_noise(rng, n, 0.03))

    def machine(kw, idle, sigma=0.03, knots=24):
        load = kw * (idle * open_ + (1 - idle) * p)
        return load * (1 + profiles.smooth_noise(rng, n, sigma, knots))

    sim.set("TEX-E-301", machine(95, 0.10))
    sim.set("TEX-E-302", machine(70, 0.10))
    sim.unmetered["TEX-E-201"] = machine(35, 0.30) + 3
    # Jet dyeing machines run in batches: loads swing within the hour.
    sim.set("TEX-E-311", machine(185, 0.15, 0.08, 96))
    sim.set("TEX-E-312", machine(110, 0.10))
    sim.unmetered["TEX-E-202"] = machine(40, 0.30) + 3
    sim.set("TEX-E-321", machine(120, 0.15))
    sim.set("TEX-E-322", machine(110, 0.15))
    sim.set("TEX-E-323", machine(45, 0.10))
    sim.unmetered["TEX-E-203"] = machine(25, 0.30) + 2
    temp = ctx.by_day(ctx.temp)
    steam_rate = p * (1 + 0.004 * (15 - temp))
    sim.set("TEX-E-331", 55 * steam_rate * (1 + profiles.smooth_noise(rng, n, 0.03)) + 5 * open_)
    sim.unmetered["TEX-E-204"] = 15 * open_ + 3
    sim.set("TEX-E-341", machine(75, 0.40))
    sim.set("TEX-E-342", 45 * (0.3 + 0.7 * profiles.lagged(p, 16))
            * (1 + profiles.smooth_noise(rng, n, 0.04)))
    sim.unmetered["TEX-E-205"] = 10 * open_ + 2
    office = profiles.window(8.0, 17.5)[None, :] * ctx.by_day(ctx.days.working)
    sim.set("TEX-E-206", (12 + 18 * office + office * (
        1.2 * profiles.cooling_degree(temp, 22) + 0.8 * profiles.heating_degree(temp, 8)))
        * (1 + profiles.smooth_noise(rng, n, 0.05)))
    sim.aggregate("TEX-E-101")

    # -- daily quantities
    fabric = CAPACITY_10K_M_PER_DAY * p.mean(axis=1) * (1 + rng.normal(0, 0.02, n))
    sim.production["DYED-FABRIC"] = np.round(fabric, 3)
    steam = fabric * STEAM_T_PER_10K_M * (1 + 0.004 * (15 - ctx.temp)) \
        * (1 + rng.normal(0, 0.02, n))
    shares = np.array([0.45, 0.45, 0.10])
    for code, share in zip(("TEX-S-301", "TEX-S-302", "TEX-S-303"), shares):
        sim.set(code, steam * share * (1 + rng.normal(0, 0.015, n)))
    boiler_steam = sim.aggregate("TEX-S-201")
    sim.set("TEX-G-201", boiler_steam * BOILER_GAS_M3_PER_T * (1 + rng.normal(0, 0.012, n)))
    sim.set("TEX-G-202", fabric * STENTER_GAS_M3_PER_10K_M * (1 + rng.normal(0, 0.02, n)))
    sim.aggregate("TEX-G-101")
    sim.set("TEX-W-201", fabric * 90.0 * (1 + rng.normal(0, 0.03, n)))
    sim.unmetered["TEX-W-101"] = fabric * 70.0 * (1 + rng.normal(0, 0.03, n)) + 35.0
    sim.aggregate("TEX-W-101")
    _gas_statements(ctx, sim)


def _gas_statements(ctx: Context, sim: Simulation) -> None:
    """The gas supplier's monthly statement: the month's volume at the custody meter and the
    NCV computed from the gas composition (GB/T 13610 analysis, GB/T 11062 calculation)."""
    rng = ctx.rng("textile.gas")
    gas = sim.daily["TEX-G-101"]
    months = [(x.year, x.month) for x in ctx.days.dates]
    for key in sorted(set(months)):
        idx = [i for i, m in enumerate(months) if m == key]
        volume = float(gas[idx].sum())
        if volume <= 0:
            continue
        year, month = key
        sim.deliveries.append({
            "node": "TEX", "carrier": "natural_gas", "delivered_on": ctx.days.dates[idx[-1]],
            "quantity": round(volume, 1), "unit": "m3", "supplier": "鲁中天然气管网有限公司",
            "lot_no": f"NG{year}{month:02d}",
            "ncv": round(float(np.clip(rng.normal(35.6, 0.2), 35.1, 36.1)), 2),
            "ncv_unit": "MJ/m3",
            "lab": "鲁中天然气管网有限公司计量化验中心", "report_no": f"TRQ-{year}{month:02d}",
            "method": "GB/T 13610-2020; GB/T 11062-2020",
            "note": "月度结算气量；低位发热量由组分分析计算（20 ℃, 101.325 kPa）",
        })
