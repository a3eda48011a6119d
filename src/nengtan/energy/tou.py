"""Time-of-use (分时电价) classification of local time into price bands (pure).

A schedule is a list of periods (months, start "HH:MM", end "HH:MM", band).  For every month
the periods must cover the 24 hours exactly once; :func:`check` reports holes and overlaps.
Classification works on minute-of-day, so bands may switch at any minute (provincial tariffs
switch on the hour or half hour).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MINUTES = 1440


@dataclass(frozen=True)
class Period:
    months: tuple[int, ...]  # empty = every month
    start: int  # minute of day, 0..1439
    end: int  # minute of day, 1..1440 (exclusive); end <= start wraps past midnight
    band: str


def parse_hhmm(text: str) -> int:
    """Minutes since midnight for "HH:MM" (00:00-24:00)."""
    hh, mm = str(text).strip().split(":")
    h, m = int(hh), int(mm)
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        raise ValueError(text)
    return h * 60 + m


def parse_months(text: str | None) -> tuple[int, ...]:
    if text is None or not str(text).strip():
        return ()
    months = tuple(sorted({int(x) for x in str(text).replace("，", ",").split(",") if x.strip()}))
    if any(m < 1 or m > 12 for m in months):
        raise ValueError(text)
    return months


def _minutes(p: Period) -> np.ndarray:
    if p.end > p.start:
        return np.arange(p.start, p.end)
    return np.concatenate([np.arange(p.start, MINUTES), np.arange(0, p.end)])


def check(periods: list[Period]) -> list[tuple[int, str]]:
    """Problems as (month, "hole" | "overlap"); empty when every month is covered once."""
    problems = []
    for month in range(1, 13):
        count = np.zeros(MINUTES, np.int32)
        for p in periods:
            if not p.months or month in p.months:
                count[_minutes(p)] += 1
        if (count == 0).any():
            problems.append((month, "hole"))
        if (count > 1).any():
            problems.append((month, "overlap"))
    return problems


class Schedule:
    """Band of every (month, minute of day)."""

    def __init__(self, periods: list[Period]):
        self.bands = sorted({p.band for p in periods})
        self._table = np.full((13, MINUTES), -1, np.int16)
        for p in periods:
            months = p.months or tuple(range(1, 13))
            for m in months:
                self._table[m, _minutes(p)] = self.bands.index(p.band)

    def band_at(self, month: int, minute: int) -> str | None:
        i = self._table[month, minute]
        return None if i < 0 else self.bands[i]

    def classify(self, month: np.ndarray, minute: np.ndarray) -> np.ndarray:
        """Band index (into ``self.bands``) for arrays of local month and minute of day."""
        return self._table[np.asarray(month), np.asarray(minute)]
