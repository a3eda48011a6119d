"""What every tenant model of the demo park shares: the window, the weather, the tariff
bands of every quarter hour and named random streams."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from nengtan.demo import profiles, structure
from nengtan.demo.days import Days, make_days
from nengtan.energy import tou


def stream(seed: int, name: str, *more: int) -> np.random.Generator:
    """The random stream ``name`` of ``seed`` (``numpy.random.default_rng``)."""
    return np.random.default_rng([seed, zlib.crc32(name.encode()), *more])


@dataclass
class Context:
    seed: int
    days: Days
    temp: np.ndarray  # daily mean air temperature, °C, (n_days,)
    sun: np.ndarray  # sine of solar elevation, (n_days, 96)
    ghi: np.ndarray  # global horizontal irradiance with clouds, W/m², (n_days, 96)
    band: np.ndarray  # tariff band name of every slot, (n_days, 96)
    _streams: dict = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        return self.days.n

    def rng(self, name: str) -> np.random.Generator:
        """A random stream of its own for ``name``: what one model draws never shifts what
        another draws, so the data stay the same when a model changes."""
        if name not in self._streams:
            self._streams[name] = stream(self.seed, name)
        return self._streams[name]

    def yearly_days(self, name: str, count: int, months=tuple(range(1, 13))) -> np.ndarray:
        """Window indices of ``count`` random days per calendar year among ``months``.

        The days are drawn over whole years from a stream keyed by the year, so an event
        (an unplanned stop, a trip) falls on the same date whatever window is built.
        """
        out = []
        for year in range(self.days.first.year, self.days.dates[-1].year + 1):
            rng = stream(self.seed, name, year)
            first = date(year, 1, 1)
            dates = [first + timedelta(days=i) for i in range((date(year + 1, 1, 1) - first).days)]
            pool = [i for i, d in enumerate(dates) if d.month in months]
            for k in np.sort(rng.choice(pool, size=count, replace=False)):
                idx = (dates[int(k)] - self.days.first).days
                if 0 <= idx < self.n:
                    out.append(idx)
        return np.array(out, dtype=np.int64)

    def by_day(self, x: np.ndarray) -> np.ndarray:
        """A per-day array broadcast over the slots of the day."""
        return np.asarray(x, dtype=float)[:, None]

    def peak_slots(self) -> np.ndarray:
        """Slots in the peak or sharp band (when energy-intensive plant avoids running)."""
        return (self.band == "peak") | (self.band == "sharp")


def tariff_schedule() -> tou.Schedule:
    return tou.Schedule([tou.Period(tou.parse_months(m), tou.parse_hhmm(s), tou.parse_hhmm(e), b)
                         for m, s, e, b in structure.TARIFF_PERIODS])


def make_context(first: date, last: date, seed: int) -> Context:
    days = make_days(first, last)
    sun = profiles.sun_sine_elevation(days.doy)
    clouds = profiles.cloudiness(stream(seed, "weather.clouds"), days.month)
    schedule = tariff_schedule()
    minutes = np.arange(profiles.SLOTS) * 15
    band = np.array(schedule.bands)[schedule.classify(days.month[:, None], minutes[None, :])]
    return Context(
        seed=seed, days=days,
        temp=profiles.daily_temperature(stream(seed, "weather.temperature"), days.doy),
        sun=sun, ghi=profiles.clear_sky_ghi(sun) * clouds, band=band)
