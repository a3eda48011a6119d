"""Faults injected into the demo park's readings, for the data-quality features to find.

Positions are relative to the last day of the window (``last`` = the day before ``today``),
so every build — including a short one of a couple of weeks — contains them.  Times are local
(Asia/Shanghai).

==============  ===========  ===============================================================
fault           meter        where
==============  ===========  ===============================================================
gap             TEX-E-312    ``last − 11`` days, 08:00-14:00: the 23 readings between are
                             lost (gateway outage).  The pipeline reports a ``gap`` finding
                             and keeps the 6-hour total as a gap span.
replacement     TEX-E-321    ``last − 8`` days at 10:07: the meter is replaced; the new
                             register starts at 0.35 kWh (secondary).  Recorded as a
                             ``replacement`` event with the old final and new initial values,
                             so the pipeline reports ``reset_applied`` and loses no energy.
spike           ELE-E-311    the latest working day at least 4 days before ``last``, interval
                             14:30-14:45 (assembly line A running): the EMS reports 20 × the
                             real value (an implausible reading left for review).
decrease        ELE-W-101    ``last − 14`` days at 00:00: the water company swapped the meter
                             without telling anyone; the register drops to 3.0 t and counts
                             on.  No event is recorded, so the pipeline excludes that day
                             (``register_decrease``).
==============  ===========  ===============================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from nengtan.demo.days import Days
from nengtan.demo.readings import MeterReadings
from nengtan.demo.structure import METERS_BY_CODE, TIMEZONE
from nengtan.timeseries.calendar import to_us

TZ = ZoneInfo(TIMEZONE)
NEW_REGISTER_KWH = 0.35
NEW_WATER_REGISTER_T = 3.0
SPIKE_FACTOR = 20.0


@dataclass(frozen=True)
class Fault:
    kind: str  # gap | replacement | spike | decrease
    meter: str
    start: datetime  # local, aware
    end: datetime

    def as_dict(self) -> dict:
        return {"kind": self.kind, "meter": self.meter, "start": self.start.isoformat(),
                "end": self.end.isoformat()}


def plan(days: Days) -> list[Fault]:
    """The faults that fall inside the window of ``days``."""
    last = days.dates[-1]

    def at(days_back: int, hh: int, mm: int = 0) -> datetime:
        return datetime.combine(last - timedelta(days=days_back), time(hh, mm), tzinfo=TZ)

    working = [days.n - 1 - i for i in range(4, days.n) if days.working[days.n - 1 - i]]
    spike_back = days.n - 1 - working[0] if working else 5
    faults = [
        Fault("gap", "TEX-E-312", at(11, 8), at(11, 14)),
        Fault("replacement", "TEX-E-321", at(8, 10, 7), at(8, 10, 7)),
        Fault("spike", "ELE-E-311", at(spike_back, 14, 30), at(spike_back, 14, 45)),
        Fault("decrease", "ELE-W-101", at(14, 0), at(14, 0)),
    ]
    window_start = datetime.combine(days.first, time(0), tzinfo=TZ)
    # A fault needs some readings before it to be a fault at all.
    return [f for f in faults if f.start - window_start >= timedelta(days=1)]


def apply(readings: dict[str, MeterReadings], faults: list[Fault]) -> list[dict]:
    """Alter ``readings`` in place; return the meter events a technician would record."""
    events = []
    for fault in faults:
        r = readings[fault.meter]
        lo, hi = to_us(fault.start), to_us(fault.end)
        if fault.kind == "gap":
            keep = (r.ts <= lo) | (r.ts >= hi)
            r.ts, r.value = r.ts[keep], r.value[keep]
        elif fault.kind == "spike":
            r.value[r.ts == lo] *= SPIKE_FACTOR
        elif fault.kind == "replacement":
            events.append(_replace(r, lo, fault))
        elif fault.kind == "decrease":
            after = r.ts >= lo
            base = r.value[after][0]
            r.value[after] = np.round(NEW_WATER_REGISTER_T + r.value[after] - base, 1)
    return events


def _replace(r: MeterReadings, at_us: int, fault: Fault) -> dict:
    """The old register runs to ``at_us`` (interpolated between its quarter-hour readings);
    the new one starts at NEW_REGISTER_KWH and counts the same energy from there."""
    decimals = METERS_BY_CODE[r.code].decimals
    k = int(np.searchsorted(r.ts, at_us, "right"))
    frac = (at_us - r.ts[k - 1]) / (r.ts[k] - r.ts[k - 1])
    old_final = round(float(r.value[k - 1] + frac * (r.value[k] - r.value[k - 1])), decimals)
    r.value[k:] = np.round(NEW_REGISTER_KWH + r.value[k:] - old_final, decimals)
    return {"meter": r.code, "ts": fault.start,
            "kind": "replacement", "old_final_value": old_final,
            "new_initial_value": NEW_REGISTER_KWH,
            "note": "表计故障更换（演示数据）/ faulty meter replaced (demo data)"}
