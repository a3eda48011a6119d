"""The demo window's local days: weekdays, Chinese public holidays and adjusted workdays.

Holidays come from the ``holidays`` package (``holidays.China``), which knows the State
Council's yearly arrangement: statutory days off, the weekdays given off in exchange, and the
weekend days worked instead (调休).  Factories also close around the Spring Festival for longer
than the statutory days, so every day carries its distance to the nearest Lunar New Year's Day
(正月初一).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import holidays
import numpy as np


@dataclass(frozen=True)
class Days:
    """Consecutive local days ``first`` .. ``first + n - 1`` and what kind of day each is."""

    first: date
    dates: tuple[date, ...]
    weekday: np.ndarray  # 0 = Monday
    month: np.ndarray  # 1..12
    dom: np.ndarray  # day of month, 1..31
    doy: np.ndarray  # day of year, 1..366
    working: np.ndarray  # bool: an official working day (including 调休 weekend workdays)
    holiday: np.ndarray  # bool: a statutory holiday or a day off given in exchange
    #: bool: a day off that belongs to a holiday break (a weekend inside Golden Week counts).
    festive: np.ndarray
    #: Days from the nearest Lunar New Year's Day (negative before it).
    spring_festival: np.ndarray

    @property
    def n(self) -> int:
        return len(self.dates)


def lunar_new_years(years) -> list[date]:
    """正月初一 of each year, from the holiday calendar's Spring Festival entries."""
    out = []
    for year in years:
        cal = holidays.China(years=year, language="en_US")
        out.append(min(d for d, name in cal.items() if "Spring Festival" in name))
    return out


def make_days(first: date, last: date) -> Days:
    """Days ``first`` .. ``last`` (inclusive)."""
    n = (last - first).days + 1
    if n <= 0:
        raise ValueError(f"empty window: {first} .. {last}")
    dates = tuple(first + timedelta(days=i) for i in range(n))
    years = list(range(first.year - 1, last.year + 2))
    cal = holidays.China(years=years, language="en_US")
    new_years = np.array([(d - first).days for d in lunar_new_years(years)])
    index = np.arange(n)
    nearest = new_years[np.abs(index[:, None] - new_years[None, :]).argmin(axis=1)]
    working = np.array([cal.is_working_day(d) for d in dates])
    holiday = np.array([d in cal for d in dates])
    return Days(
        first=first,
        dates=dates,
        weekday=np.array([d.weekday() for d in dates]),
        month=np.array([d.month for d in dates]),
        dom=np.array([d.day for d in dates]),
        doy=np.array([d.timetuple().tm_yday for d in dates]),
        working=working,
        holiday=holiday,
        festive=_festive(working, holiday),
        spring_festival=index - nearest,
    )


def _festive(working: np.ndarray, holiday: np.ndarray) -> np.ndarray:
    """Days off in a run of days off that contains a holiday."""
    out = np.zeros(len(working), bool)
    run_start = None
    for i in range(len(working) + 1):
        off = i < len(working) and not working[i]
        if off and run_start is None:
            run_start = i
        elif not off and run_start is not None:
            if holiday[run_start:i].any():
                out[run_start:i] = True
            run_start = None
    return out
