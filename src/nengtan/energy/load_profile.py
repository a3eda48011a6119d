"""Load profiles (负荷曲线), base load and the energy used at idle times (pure, numpy).

Input is the hourly energy of a meter or of a node's boundary, kWh per local hour, as a
``(days, 24)`` array with NaN where an hour is not completely measured, and the local dates.

Definitions (units: kW, kWh, CNY):

* hourly mean power ``P = E_hour ÷ 1 h`` (kW);
* day type, from the State Council's holiday arrangement as the ``holidays`` package knows it
  (``holidays.China``): ``holiday`` = a statutory holiday or a weekday given off in exchange;
  ``working`` = Monday-Friday, and a weekend day worked in exchange (调休); ``weekend`` = the
  other Saturdays and Sundays;
* average profile of a day type: for each hour of day, the mean of ``P`` over the days of
  that type on which the hour is measured;
* idle hours: the night hours (local 00:00-05:00 by default) of every day, and every hour of
  a public holiday;
* **base load** (基础负荷): the 5th percentile of ``P`` over the idle hours (linear
  interpolation between order statistics, Hyndman & Fan type 7, numpy's default).  A low
  percentile rather than the minimum, so that one odd hour (a power cut, a metering
  glitch) does not set it;
* peak load: the highest ``P``; average load = Σ E ÷ measured hours; load factor (负荷率) =
  average ÷ peak;
* night share = energy of the night hours ÷ energy; idle share = energy of the idle hours ÷
  energy;
* idle-to-active ratio = mean power of the idle hours ÷ mean power of the other hours.  Near
  or above 1 the site produces at idle times (a continuous process, or load shifted to the
  night on purpose): ``continuous_operation`` is set when it is at least 0.8, and the idle
  waste below is then not waste;
* **idle waste** (待机/空载浪费): Σ over idle hours of max(P − P_ref, 0) × 1 h (kWh), priced at
  the valley price (CNY/kWh): the energy used at idle times above a stated reference base
  load ``P_ref``.  By default ``P_ref`` is the base load itself, so the figure is "what idle
  hours use above the level the site already reaches in its quietest idle hours".  It is an
  upper bound of what switching off at idle times can save.

The peak of hourly means is lower than the 15-minute maximum demand that 需量 billing uses
(:mod:`nengtan.energy.cost`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import holidays
import numpy as np

DAY_TYPES = ("working", "weekend", "holiday")
#: Local hours [start, end) counted as night.
NIGHT_HOURS = (0, 5)
#: Percentile of idle-hour power taken as the base load.
BASE_PERCENTILE = 5.0
#: Idle-to-active ratio from which a load is taken to run through its idle hours.
CONTINUOUS_RATIO = 0.8
METHOD_VERSION = "nengtan load profile 1"


def day_types(dates: Sequence[date]) -> np.ndarray:
    """``working`` | ``weekend`` | ``holiday`` for each local date (Chinese calendar)."""
    if not len(dates):
        return np.array([], dtype=object)
    years = sorted({d.year for d in dates})
    cal = holidays.China(years=years)
    out = []
    for d in dates:
        if d in cal:
            out.append("holiday")
        elif cal.is_working_day(d):
            out.append("working")
        else:
            out.append("weekend")
    return np.array(out, dtype=object)


def night_mask(ndays: int, night: tuple[int, int] = NIGHT_HOURS) -> np.ndarray:
    """(days, 24) True in the local hours [night[0], night[1]); a window may wrap midnight
    (22, 6)."""
    a, b = night
    hours = np.arange(24)
    row = (hours >= a) & (hours < b) if a <= b else (hours >= a) | (hours < b)
    return np.repeat(row[None, :], ndays, axis=0)


def idle_mask(types: np.ndarray, night: tuple[int, int] = NIGHT_HOURS) -> np.ndarray:
    """Idle hours: night hours of every day and every hour of a public holiday."""
    mask = night_mask(len(types), night)
    mask[np.asarray(types) == "holiday", :] = True
    return mask


def average_profiles(kw: np.ndarray, types: np.ndarray) -> dict[str, dict]:
    """Mean power of each hour of day for each day type: ``{type: {"days": n,
    "kw": [24 values or None]}}``."""
    out = {}
    types = np.asarray(types)
    for t in DAY_TYPES:
        rows = kw[types == t]
        measured = np.isfinite(rows)
        counts = measured.sum(axis=0)
        sums = np.where(measured, rows, 0.0).sum(axis=0)
        out[t] = {"days": len(rows),
                  "kw": [float(s / c) if c else None for s, c in zip(sums, counts)]}
    return out


def base_load(kw: np.ndarray, mask: np.ndarray, percentile: float = BASE_PERCENTILE) -> float | None:
    """The ``percentile`` of measured hourly power over the hours of ``mask`` (kW)."""
    values = kw[mask & np.isfinite(kw)]
    if not len(values):
        return None
    return float(np.percentile(values, percentile))


@dataclass(frozen=True)
class IdleWaste:
    """Energy at idle hours above a reference base load."""

    reference_kw: float
    idle_hours: int
    idle_kwh: float
    #: Σ max(P − reference, 0) × 1 h over measured idle hours.
    waste_kwh: float
    price_cny_per_kwh: float | None
    waste_cny: float | None

    def as_dict(self) -> dict:
        return {"reference_kw": self.reference_kw, "idle_hours": self.idle_hours,
                "idle_kwh": self.idle_kwh, "waste_kwh": self.waste_kwh,
                "price_cny_per_kwh": self.price_cny_per_kwh, "waste_cny": self.waste_cny}


def idle_waste(kw: np.ndarray, mask: np.ndarray, reference_kw: float,
               price_cny_per_kwh: float | None = None) -> IdleWaste:
    """Σ over measured idle hours of max(P − ``reference_kw``, 0) × 1 h, and × price."""
    values = kw[mask & np.isfinite(kw)]
    waste = float(np.maximum(values - reference_kw, 0.0).sum())
    return IdleWaste(float(reference_kw), len(values), float(values.sum()), waste,
                     price_cny_per_kwh,
                     None if price_cny_per_kwh is None else waste * price_cny_per_kwh)


@dataclass(frozen=True)
class LoadProfile:
    dates: tuple[date, ...]
    types: np.ndarray
    kw: np.ndarray  # (days, 24), NaN = not measured
    night: tuple[int, int]
    percentile: float
    profiles: dict[str, dict]
    base_load_kw: float | None
    peak_kw: float | None
    peak_at: tuple[date, int] | None  # (local date, hour of day)
    average_kw: float | None
    load_factor: float | None
    energy_kwh: float
    measured_hours: int
    hours: int
    night_kwh: float
    idle_kwh: float
    idle_hours: int
    waste: IdleWaste | None

    @property
    def night_share(self) -> float | None:
        return self.night_kwh / self.energy_kwh if self.energy_kwh > 0 else None

    @property
    def idle_share(self) -> float | None:
        return self.idle_kwh / self.energy_kwh if self.energy_kwh > 0 else None

    @property
    def idle_to_active_ratio(self) -> float | None:
        """Mean power of the measured idle hours ÷ mean power of the other measured hours."""
        active_hours = self.measured_hours - self.idle_hours
        if not self.idle_hours or not active_hours:
            return None
        active = (self.energy_kwh - self.idle_kwh) / active_hours
        return (self.idle_kwh / self.idle_hours) / active if active > 0 else None

    @property
    def continuous_operation(self) -> bool | None:
        r = self.idle_to_active_ratio
        return None if r is None else r >= CONTINUOUS_RATIO

    def as_dict(self) -> dict:
        return {
            "profiles": self.profiles,
            "day_counts": {t: int((self.types == t).sum()) for t in DAY_TYPES},
            "base_load_kw": self.base_load_kw,
            "peak_kw": self.peak_kw,
            "peak_at": None if self.peak_at is None else
            {"date": self.peak_at[0].isoformat(), "hour": self.peak_at[1]},
            "average_kw": self.average_kw,
            "load_factor": self.load_factor,
            "energy_kwh": self.energy_kwh,
            "night_kwh": self.night_kwh,
            "night_share_pct": None if self.night_share is None else 100 * self.night_share,
            "idle_kwh": self.idle_kwh,
            "idle_share_pct": None if self.idle_share is None else 100 * self.idle_share,
            "idle_hours": self.idle_hours,
            "idle_to_active_ratio": self.idle_to_active_ratio,
            "continuous_operation": self.continuous_operation,
            "measured_hours": self.measured_hours,
            "hours": self.hours,
            "coverage": self.measured_hours / self.hours if self.hours else 0.0,
            "waste": None if self.waste is None else self.waste.as_dict(),
        }


def analyse(kwh: np.ndarray, dates: Sequence[date], night: tuple[int, int] = NIGHT_HOURS,
            percentile: float = BASE_PERCENTILE, reference_kw: float | None = None,
            valley_price: float | None = None, types: np.ndarray | None = None) -> LoadProfile:
    """Profiles, base load, peak, load factor, night/idle shares and idle waste of hourly
    energy ``kwh`` (days × 24, kWh per hour; NaN = not measured) on local ``dates``.

    ``reference_kw`` for the idle waste defaults to the base load.
    """
    kw = np.asarray(kwh, float)  # kWh in one hour = mean kW over the hour
    if kw.shape != (len(dates), 24):
        raise ValueError(f"expected ({len(dates)}, 24) hourly values, got {kw.shape}")
    types = day_types(dates) if types is None else np.asarray(types)
    night_m = night_mask(len(dates), night)
    idle_m = idle_mask(types, night)
    measured = np.isfinite(kw)
    energy = float(kw[measured].sum())
    n_measured = int(measured.sum())
    peak = peak_at = None
    if n_measured:
        flat = np.where(measured, kw, -np.inf)
        k = int(np.argmax(flat))
        peak = float(flat.flat[k])
        peak_at = (dates[k // 24], k % 24)
    average = energy / n_measured if n_measured else None
    base = base_load(kw, idle_m, percentile)
    ref = base if reference_kw is None else float(reference_kw)
    waste = None if ref is None else idle_waste(kw, idle_m, ref, valley_price)
    return LoadProfile(
        dates=tuple(dates), types=types, kw=kw, night=night, percentile=percentile,
        profiles=average_profiles(kw, types), base_load_kw=base, peak_kw=peak, peak_at=peak_at,
        average_kw=average,
        load_factor=(average / peak) if (average is not None and peak and peak > 0) else None,
        energy_kwh=energy, measured_hours=n_measured, hours=int(kw.size),
        night_kwh=float(kw[night_m & measured].sum()),
        idle_kwh=float(kw[idle_m & measured].sum()), idle_hours=int((idle_m & measured).sum()),
        waste=waste)
