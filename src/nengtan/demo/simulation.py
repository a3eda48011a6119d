"""The demo park's simulated quantities, and rolling sub-meters up to their parents."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nengtan.demo import structure


@dataclass
class Simulation:
    """Everything the tenant models produce, in meter units.

    ``power``: mean kW of every quarter hour, (n_days, 96), for 15-minute meters (interval
    energy is power × 0.25 h).  ``daily``: quantity per local day, (n_days,), for daily and
    manual meters.  ``unmetered``: load under a meter that none of its sub-meters sees (same
    shape as the meter's own series).  ``production``: output per day by product code.
    ``deliveries``: fuel delivery payloads for ``production.add_fuel_delivery``;
    ``economics``: monthly payloads for ``production.upsert_economic`` (services).
    """

    power: dict[str, np.ndarray] = field(default_factory=dict)
    daily: dict[str, np.ndarray] = field(default_factory=dict)
    unmetered: dict[str, np.ndarray] = field(default_factory=dict)
    production: dict[str, np.ndarray] = field(default_factory=dict)
    deliveries: list[dict] = field(default_factory=list)
    economics: list[dict] = field(default_factory=list)

    def _store(self, code: str) -> dict[str, np.ndarray]:
        return self.power if structure.METERS_BY_CODE[code].interval_s == 900 else self.daily

    def set(self, code: str, values: np.ndarray) -> np.ndarray:
        if code not in structure.METERS_BY_CODE:
            raise KeyError(f"unknown demo meter {code}")
        self._store(code)[code] = values
        return values

    def aggregate(self, code: str) -> np.ndarray:
        """The series of ``code``: as set by a model, or its sub-meters plus unmetered load,
        grossed up by the meter's losses (computed once, then kept)."""
        store = self._store(code)
        if code in store:
            return store[code]
        kids = structure.children(code)
        if not kids:
            raise KeyError(f"demo meter {code} has no series and no sub-meters")
        total = sum(self.aggregate(k.code) for k in kids) + self.unmetered.get(code, 0.0)
        return self.set(code, total * (1.0 + structure.METERS_BY_CODE[code].loss))

    def missing(self) -> list[str]:
        """Physical or manual meters without a series."""
        return [m.code for m in structure.METERS if m.kind != "virtual"
                and m.code not in self._store(m.code)]
