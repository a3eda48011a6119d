"""Park public facilities (公共设施) and the park boundary.

* Wastewater treatment (≈ 3 000 m3/day of mostly dyeing effluent): aeration ≈ 0.45 kWh/m3,
  influent lifting ≈ 0.12 kWh/m3 following the day's inflow curve, a belt press on
  weekday day shifts.
* Water booster station: ≈ 0.22 kWh per tonne supplied, with morning and evening peaks.
* Street lighting: 320 LED lamps × 150 W from dusk (sun 2° below the horizon) to dawn,
  dimmed to 60 % from 23:00 to 05:00.
* Administration building: office hours on working days, heat-pump air conditioning.
* Public EV charging (10 × 120 kW DC): logistics vans overnight in the valley band,
  commuters at midday and evening, growing about 30 % a year.

The two 110 kV incoming lines feed bus sections I and II (bus tie open); each line's energy
is the sum of its feeders (the electronics plant's export flows back onto section II) plus
1.2 % transformer and line losses.  The municipal water inlet is the sum of the tenants' and the
public meters plus 5 % network leakage.
"""

from __future__ import annotations

import numpy as np

from nengtan.demo import profiles
from nengtan.demo.context import Context
from nengtan.demo.simulation import Simulation

#: Diurnal shape of influent and of water demand (relative to the daily mean), by hour.
_INFLOW = np.array([.70, .62, .58, .56, .58, .66, .80, .98, 1.12, 1.22, 1.26, 1.25,
                    1.20, 1.18, 1.18, 1.16, 1.14, 1.12, 1.10, 1.06, 1.00, .92, .84, .77])
_DEMAND = np.array([.55, .50, .48, .48, .52, .68, .95, 1.25, 1.30, 1.22, 1.15, 1.12,
                    1.10, 1.08, 1.08, 1.10, 1.15, 1.28, 1.32, 1.20, 1.05, .90, .75, .62])


def _hourly(shape: np.ndarray) -> np.ndarray:
    s = np.repeat(shape, 4)
    return s / s.mean()


def simulate(ctx: Context, sim: Simulation) -> None:
    """Public facilities' electricity (kW per quarter hour) and water (t/day), then the park's
    incoming lines and water inlet; needs the tenants' series already in ``sim``."""
    rng = ctx.rng("public")
    n = ctx.n
    d = ctx.days

    def noisy(x, sigma=0.03, knots=24):
        return x * (1 + profiles.smooth_noise(rng, n, sigma, knots))

    temp = ctx.by_day(ctx.temp)
    inflow = 0.8 * (sim.daily["TEX-W-101"] + 0.15 * sim.daily["CEM-W-101"]
                    + 0.6 * sim.daily["ELE-W-101"]) + 600.0
    flow = ctx.by_day(inflow / 24.0) * _hourly(_INFLOW)[None, :]
    sim.set("QLP-E-301", noisy(0.45 * profiles.lagged(flow, 8) * (1 + 0.01 * (temp - 15)) + 15))
    sim.set("QLP-E-302", noisy(0.12 * flow + 2, 0.06, 96))
    press = profiles.window(8.5, 16.5)[None, :] * ctx.by_day(d.working)
    sim.set("QLP-E-303", noisy(1 + 34 * press, 0.05))
    sim.unmetered["QLP-E-201"] = noisy(np.full((n, profiles.SLOTS), 18.0))

    public_water = (150 + 100 * ((d.month >= 5) & (d.month <= 9))) * (1 + rng.normal(0, 0.05, n))
    sim.set("QLP-W-201", public_water)
    supplied = sim.aggregate("QLP-W-101")
    sim.set("QLP-E-202", noisy(ctx.by_day(0.22 * supplied / 24.0) * _hourly(_DEMAND)[None, :] + 3))

    dusk = np.clip((-0.035 - ctx.sun) / 0.02, 0, 1)
    dim = np.where(profiles.window(23.0, 5.0, 0.0) > 0, 0.6, 1.0)[None, :]
    sim.set("QLP-E-203", 0.4 + 48.0 * dusk * dim * (1 + rng.normal(0, 0.004, (n, 1))))

    office = profiles.window(8.0, 17.5)[None, :] * ctx.by_day(d.working)
    canteen = profiles.window(11.0, 13.0)[None, :] * ctx.by_day(d.working)
    sim.set("QLP-E-304", noisy(3 + office * (8 + 6.0 * profiles.cooling_degree(temp)
                                                 + 4.5 * profiles.heating_degree(temp))))
    sim.unmetered["QLP-E-204"] = noisy(20 + 55 * office + 25 * canteen)

    years = (np.arange(n) - n) / 365.0
    growth = ctx.by_day(1.30 ** years)
    valley = profiles.window(23.0, 6.0, 0.5)[None, :] * 0.36 / 7
    midday = profiles.window(9.0, 16.0, 0.5)[None, :] * 0.28 / 7
    evening = profiles.window(17.0, 21.0, 0.5)[None, :] * 0.28 / 4
    anytime = 0.08 / 24
    daily_kwh = ctx.by_day(np.where(d.working, 2800.0, 1400.0))
    sessions = np.clip(1 + profiles.smooth_noise(rng, n, 0.3, 96), 0.1, None)
    ev = daily_kwh * growth * (valley + midday + evening + anytime) * sessions
    sim.set("QLP-E-205", np.minimum(ev, 1200.0))

    # Bus section II: the electronics plant's export flows back towards the 110 kV side.
    sim.unmetered["QLP-E-002"] = -sim.power["ELE-E-102"]
    sim.aggregate("QLP-E-001")
    sim.aggregate("QLP-E-002")
