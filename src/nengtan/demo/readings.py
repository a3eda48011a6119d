"""Turn simulated quantities into what the meters would report (pure, no I/O).

* Cumulative 15-minute meters: the register at every quarter hour from the first local
  midnight to the last, in secondary units (energy ÷ multiplier), rounded to the register's
  digits, starting from a register value worth a few years of use.
* Interval 15-minute meters (EMS gateway): kWh of each quarter hour, stamped at its start.
* Daily meters: the totaliser at every local midnight.
* Manual meters: the cumulative total entered on the first of every month (quality manual).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from nengtan.demo import profiles
from nengtan.demo.context import Context
from nengtan.demo.simulation import Simulation
from nengtan.demo.structure import MeterDef
from nengtan.quality.flags import Quality

US = 1_000_000
SLOT_US = 900 * US
DAY_US = 86400 * US


@dataclass
class MeterReadings:
    code: str
    ts: np.ndarray  # int64 µs UTC
    value: np.ndarray  # float64, meter unit (register or interval quantity)
    quality: int = int(Quality.MEASURED)

    def __len__(self) -> int:
        return len(self.ts)


def _register(rng: np.random.Generator, steps: np.ndarray, meter: MeterDef) -> np.ndarray:
    """Register values before each step and after the last one."""
    per_year = float(steps.mean()) * (365 * 86400 / meter.interval_s)
    start = per_year * rng.uniform(0.5, 6.0) / meter.multiplier
    regs = start + np.concatenate(([0.0], np.cumsum(steps))) / meter.multiplier
    return np.round(regs, meter.decimals)


def meter_readings(ctx: Context, sim: Simulation, meter: MeterDef, t0_us: int) -> MeterReadings:
    """Readings of one meter for the window starting at local midnight ``t0_us``."""
    rng = ctx.rng(f"register.{meter.code}")
    if meter.interval_s == 900:
        energy = sim.power[meter.code].ravel() * profiles.SLOT_H
        if meter.register == "interval":
            ts = t0_us + np.arange(len(energy), dtype=np.int64) * SLOT_US
            return MeterReadings(meter.code, ts, np.round(energy, 2))
        ts = t0_us + np.arange(len(energy) + 1, dtype=np.int64) * SLOT_US
        return MeterReadings(meter.code, ts, _register(rng, energy, meter))
    daily = sim.daily[meter.code]
    # Asia/Shanghai has had no daylight saving since 1991: local midnights are 24 h apart.
    midnights = t0_us + np.arange(ctx.n + 1, dtype=np.int64) * DAY_US
    if meter.kind == "manual":
        dates = ctx.days.dates
        entry = np.array([True] + [d.day == 1 for d in dates[1:]]
                         + [(dates[-1] + timedelta(days=1)).day == 1])
        totals = np.concatenate(([0.0], np.cumsum(daily)))
        start = np.round(float(daily.mean()) * 365 * rng.uniform(1.0, 4.0))
        return MeterReadings(meter.code, midnights[entry], np.round(start + totals[entry], 0),
                             int(Quality.MANUAL))
    return MeterReadings(meter.code, midnights, _register(rng, daily, meter))
