"""Run the tenant models of the demo park in dependency order (pure, no I/O)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from nengtan.demo import cement, electronics, public, structure, textile
from nengtan.demo.context import Context, make_context
from nengtan.demo.simulation import Simulation

#: Enterprise → (product, CNY per product unit, value-added ratio).  Ex-works clinker around
#: 330 CNY/t; commission dyeing around 2.3 CNY/m; a smart controller around 86 CNY.
ECONOMICS = {
    "CEM": ("CLINKER", 330.0, 0.24),
    "TEX": ("DYED-FABRIC", 23000.0, 0.27),
    "ELE": ("SMART-CTRL", 86.0, 0.19),
}


def simulate(first: date, last: date, seed: int) -> tuple[Context, Simulation]:
    """Every series of the park for local days ``first`` .. ``last``."""
    ctx = make_context(first, last, seed)
    sim = Simulation()
    cement.simulate(ctx, sim)
    textile.simulate(ctx, sim)
    electronics.simulate(ctx, sim)
    # Public facilities treat the tenants' effluent and close the park balance: last.
    public.simulate(ctx, sim)
    for m in structure.METERS:
        if m.kind != "virtual" and structure.children(m.code):
            sim.aggregate(m.code)
    missing = sim.missing()
    if missing:
        raise RuntimeError(f"demo model left meters without data: {', '.join(missing)}")
    negative = [code for code, x in {**sim.power, **sim.daily}.items()
                if structure.METERS_BY_CODE[code].kind != "virtual" and (x < 0).any()]
    if negative:
        # A register cannot run backwards: a model change broke a balance.
        raise RuntimeError(f"demo model gave negative quantities for {', '.join(negative)}")
    sim.economics = economics(ctx, sim)
    return ctx, sim


def economics(ctx: Context, sim: Simulation) -> list[dict]:
    """Monthly gross output value and value added (10^4 CNY, current prices) of every
    enterprise, for the calendar months wholly inside the window."""
    rng = ctx.rng("economics")
    months = np.array([x.year * 12 + x.month - 1 for x in ctx.days.dates])
    out = []
    for key in np.unique(months):
        idx = np.flatnonzero(months == key)
        first, last = ctx.days.dates[idx[0]], ctx.days.dates[idx[-1]]
        if first.day != 1 or (last + timedelta(days=1)).day != 1:
            continue
        for node, (product, price, ratio) in ECONOMICS.items():
            output = float(sim.production[product][idx].sum()) * price \
                * (1 + rng.normal(0, 0.03))
            added = output * ratio * (1 + rng.normal(0, 0.05))
            out.append({"node": node, "period_start": first, "period_end": last,
                        "output_value": round(output / 1e4, 2),
                        "added_value": round(added / 1e4, 2), "unit": "10^4 CNY",
                        "price_basis": "current", "source": "财务月报（演示数据）"})
    return out
