"""CEMS monitor on the cement kiln stack with minute data.

The kiln tail stack of the cement plant (node ``CEM-KL``, 烧成车间) carries a CEMS reporting
every minute: CO2 on a dry basis (vol-%), flue-gas flow at stack conditions (m³/h), temperature
(°C), absolute pressure (kPa) and moisture (vol-%).  The data cover the last 14 local days of
the demo window and follow the kiln of the simulation (:func:`nengtan.demo.cement.kiln_campaign`):

* CO2 ≈ 0.80 t per t of clinker (calcination ≈ 0.52 + coal ≈ 0.28) at 4000 t/d × kiln feed;
  dry CO2 concentration ≈ 21.5 vol-%, so the standard dry flow is CO2 mass / concentration
  (≈ 315 000 m³/h) and the actual flow ≈ 485 000-570 000 m³/h at 9 % moisture and
  100-165 °C (hotter while the raw mill stops in peak-tariff hours);
* while the kiln is stopped the analysers are switched off: samples flagged ``F`` (HJ 212-2017
  停运), stack at draught air flow.

Planted so the hourly report shows every case (local times, days counted back from the last):
a CO2 calibration (flag ``C``) 10:00-10:20 three days back — an invalid hour with its partial
mass; a communication outage with no sample at all 03:00-04:00 five days back — a missing
hour; an analyser fault (flag ``D``) 14:10-17:40 eight days back — four invalid hours; a flow
probe maintenance (flag ``M``) 09:00-09:10 two days back — a valid hour with 50 minutes.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from nengtan.carbon.cems import MG_M3_PER_PCT, P0_KPA, T0_K
from nengtan.demo import cement, profiles
from nengtan.demo.context import Context
from nengtan.services import cems
from nengtan.timeseries.calendar import local_midnight_us

CODE = "CEM-CEMS-KT"
NODE = "CEM-KL"
DAYS = 14
MINUTE_US = 60 * 1_000_000
CO2_PER_CLINKER = 0.80  # t CO2 / t clinker: calcination ≈ 0.52 + coal ≈ 0.28
CO2_DRY_PCT = 21.5
MOISTURE_PCT = 9.0
PRESSURE_KPA = 99.2  # absolute, a little below the ambient pressure at the plant
DRAUGHT_M3_H = 25_000.0  # standard dry flow through the stack while the kiln stands


def add(engine: Engine, ctx: Context, ids: dict[str, int], start: date, last: date,
        tz: ZoneInfo) -> None:
    """Create the kiln stack monitor and ingest its minute samples (one batch)."""
    first = max(start, last - timedelta(days=DAYS - 1))
    n_days = (last - first).days + 1
    with Session(engine) as s, s.begin():
        cems.create_monitor(s, {
            "code": CODE, "name_zh": "窑尾烟囱CEMS", "name_en": "Kiln tail stack CEMS",
            "node": NODE, "co2_basis": "dry", "co2_unit": "pct", "flow_basis": "actual",
            "pressure_basis": "absolute", "interval_s": 60,
            "active_from": f"{first.isoformat()}T00:00:00",
            "description": "演示数据 / demo data: minute values, HJ 212-2017 flags"})
    columns = samples(ctx, first, n_days, tz)
    with engine.begin() as conn:
        cems.ingest_columns(conn, CODE, columns, source="demo",
                            detail="nengtan demo park: kiln stack CEMS")


def samples(ctx: Context, first: date, n_days: int, tz: ZoneInfo) -> dict:
    """``param → (ts µs, values, flags)`` of the monitor's minute samples."""
    rng = ctx.rng("cems.kiln_stack")
    # a context with fresh random streams draws the same kiln campaign as the simulation did
    on, _heatup = cement.kiln_campaign(dataclasses.replace(ctx, _streams={}))
    d0 = (first - ctx.days.first).days
    feed = profiles.lagged(on, 8)[d0:d0 + n_days]  # per quarter hour, (n_days, 96)
    mill_off = ctx.peak_slots()[d0:d0 + n_days]
    n = n_days * 24 * 60
    feed_m, mill_off_m = _minutes(feed), _minutes(mill_off)
    running = feed_m > 0.05

    def wobble(sigma: float) -> np.ndarray:  # smooth minute-scale noise
        k = rng.normal(0.0, sigma, n // 10 + 2)
        return np.interp(np.arange(n) / 10.0, np.arange(len(k)), k) + rng.normal(0, sigma / 4, n)

    co2_dry = np.where(running, CO2_DRY_PCT + wobble(0.35), 0.6 + wobble(0.05))
    clinker_t_h = cement.CAPACITY_T_PER_DAY / 24.0 * feed_m * (1 + wobble(0.01))
    co2_t_h = clinker_t_h * CO2_PER_CLINKER
    q_sd = np.where(running, co2_t_h * 1e9 / (co2_dry * MG_M3_PER_PCT), DRAUGHT_M3_H)
    moisture = np.where(running, MOISTURE_PCT + wobble(0.25), 2.0 + wobble(0.1))
    temp = np.where(running, np.where(mill_off_m > 0, 165.0, 102.0) + wobble(2.0),
                    35.0 + wobble(1.0))
    pressure = PRESSURE_KPA + wobble(0.08)
    flow = q_sd / (1 - moisture / 100) * (T0_K + temp) / T0_K * P0_KPA / pressure
    values = {"co2": co2_dry, "flow": flow, "temp": temp, "pressure": pressure,
              "moisture": moisture}
    flags = {p: np.where(running, "N", "F").astype(object) for p in values}

    def at(days_back: int, hh: int, mm: int) -> int:  # minute index of a local time
        day = max(0, n_days - 1 - days_back)
        return day * 1440 + hh * 60 + mm

    flags["co2"][at(3, 10, 0):at(3, 10, 20)] = "C"
    flags["co2"][at(8, 14, 10):at(8, 17, 40)] = "D"
    flags["flow"][at(2, 9, 0):at(2, 9, 10)] = "M"
    keep = np.ones(n, bool)
    keep[at(5, 3, 0):at(5, 4, 0)] = False  # nothing received: a missing hour
    ts = local_midnight_us(first, tz) + np.arange(n, dtype=np.int64) * MINUTE_US
    return {p: (ts[keep], np.round(v[keep], 3), list(flags[p][keep])) for p, v in values.items()}


def _minutes(per_quarter_hour: np.ndarray) -> np.ndarray:
    return np.repeat(np.asarray(per_quarter_hour, float).ravel(), 15)
