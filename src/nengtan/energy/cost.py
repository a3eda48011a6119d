"""Energy cost with time-of-use tariffs, demand and capacity charges (pure, numpy).

Chinese industrial users on the two-part tariff (两部制电价) pay

* an **energy charge** (电度电费) = Σ over price bands of kWh in the band × the band's price,
  the bands (尖峰 sharp, 高峰 peak, 平段 flat, 低谷 valley, 深谷 deep valley) being set by
  local time of day and month (分时电价, NDRC 《关于进一步完善分时电价机制的通知》
  发改价格〔2021〕1093号);
* a **basic charge** (基本电费), either by maximum demand (需量电费) = the month's maximum
  15-minute average active power, kW × CNY/(kW·month), or by capacity (容量电费) = the
  contracted transformer capacity, kVA × CNY/(kVA·month) (the choice and the rates are in
  the provincial transmission and distribution price notices, e.g. 发改价格〔2023〕526号).

The 15-minute average power of an interval is its energy ÷ its length: kW = kWh × 3600 ÷
900 = kWh × 4 for a 15-minute interval.  A basic charge is monthly; for a part of a month it
is prorated by days (days of the month in the period ÷ days of the month) and says so.

Other carriers with a single-band tariff (natural gas, steam ...) cost quantity × price.

Nothing here reads a database: the service hands in slot values (tariff unit per slot), the
local month and minute of day of each slot start, and the tariff terms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from math import gcd

import numpy as np

from nengtan.energy import tou

#: Band order for display: most expensive first (the names of TariffBand.band).
BAND_ORDER = ("sharp", "peak", "flat", "valley", "deep_valley")
#: Bands whose share is the "peak share" indicator (尖峰 + 高峰).
PEAK_BANDS = ("sharp", "peak")
#: Band of a slot that no tariff period covers.
UNCLASSIFIED = "unclassified"
#: Demand interval of 需量 billing, seconds.
DEMAND_INTERVAL_S = 900
METHOD_VERSION = "nengtan energy cost 1"


@dataclass(frozen=True)
class Terms:
    """A tariff as plain data: prices per band (CNY per ``unit``), daily periods by month,
    demand charge CNY/(kW·month) and capacity charge CNY/(kVA·month)."""

    code: str
    carrier: str
    unit: str
    prices: dict[str, float]
    periods: tuple[tou.Period, ...] = ()
    demand_charge: float | None = None
    capacity_charge: float | None = None
    currency: str = "CNY"
    source: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    name_zh: str | None = None
    name_en: str | None = None

    @property
    def single_band(self) -> str | None:
        """The band of a one-price tariff (every hour at one price), else None."""
        bands = {p.band for p in self.periods} or set(self.prices)
        return next(iter(bands)) if len(bands) == 1 else None

    @cached_property
    def schedule(self) -> tou.Schedule:
        return tou.Schedule(list(self.periods))

    def slot_minutes(self, months=None) -> int:
        """Longest slot (minutes, a divisor of 60) within which no band changes, for the
        given months (all months if None): 60 when every switch is on the hour, 30 for
        half-hour switches, 15 for quarter hours."""
        step = 60
        wanted = set(months or ())
        for p in self.periods:
            if wanted and p.months and not wanted & set(p.months):
                continue
            for minute in (p.start, p.end):
                step = gcd(step, minute % 60)
        return step

    def covers(self, start: date, end: date) -> bool:
        """Is the tariff valid over local dates [start, end)?"""
        if self.valid_from and self.valid_from > start:
            return False
        return not (self.valid_to and self.valid_to < end)

    def lineage(self) -> dict:
        return {
            "tariff": self.code, "carrier": self.carrier, "unit": self.unit,
            "currency": self.currency,
            "prices": {b: self.prices[b] for b in _ordered(self.prices)},
            "price_unit": f"{self.currency}/{self.unit}",
            "demand_charge": self.demand_charge, "demand_charge_unit": "CNY/(kW·month)",
            "capacity_charge": self.capacity_charge,
            "capacity_charge_unit": "CNY/(kVA·month)",
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "source": self.source,
        }


def _ordered(bands) -> list[str]:
    rank = {b: i for i, b in enumerate(BAND_ORDER)}
    return sorted(bands, key=lambda b: (rank.get(b, len(rank)), b))


# -- local calendar of slots ---------------------------------------------------------------
def local_slots(day_starts_us: np.ndarray, months_of_days: np.ndarray, t0_us: int,
                step_us: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local day index, month and minute of day of ``n`` slots ``t0 + k·step``.

    ``day_starts_us``: UTC µs of local midnights, one per day plus the end of the last day;
    ``months_of_days``: the local month (1-12) of each day.  Minutes are counted from local
    midnight, which is the wall clock in zones without daylight saving (every Chinese zone).
    """
    starts = t0_us + np.arange(n, dtype=np.int64) * step_us
    day = np.searchsorted(day_starts_us, starts, side="right") - 1
    day = np.clip(day, 0, len(months_of_days) - 1)
    minute = ((starts - day_starts_us[day]) // 60_000_000).astype(np.int64)
    return day, np.asarray(months_of_days)[day], np.minimum(minute, tou.MINUTES - 1)


def spread_evenly(start_us: np.ndarray, end_us: np.ndarray, value: np.ndarray, t0_us: int,
                  step_us: int, n: int) -> np.ndarray:
    """Values known only as totals over spans (data gaps) spread over the slots in
    proportion to time: a gap's energy has no time of day, so an even spread is the
    assumption that adds no information.  Parts outside [t0, t0 + n·step) are dropped."""
    out = np.zeros(n)
    t1 = t0_us + n * step_us
    for s, e, v in zip(start_us, end_us, value):
        s, e = int(s), int(e)
        if e <= s or e <= t0_us or s >= t1 or not np.isfinite(v):
            continue
        lo, hi = max((s - t0_us) // step_us, 0), min((e - 1 - t0_us) // step_us, n - 1)
        edges = t0_us + np.arange(lo, hi + 2, dtype=np.int64) * step_us
        overlap = np.minimum(edges[1:], e) - np.maximum(edges[:-1], s)
        out[lo:hi + 1] += v * np.maximum(overlap, 0) / (e - s)
    return out


# -- bands ---------------------------------------------------------------------------------
def classify(terms: Terms, month: np.ndarray, minute: np.ndarray) -> np.ndarray:
    """Band name of each slot from its local month and minute of day (``UNCLASSIFIED`` where
    the tariff's periods leave a hole, which a saved tariff never has)."""
    month = np.asarray(month)
    single = terms.single_band
    if single is not None:
        return np.full(len(month), single, dtype=object)
    sched = terms.schedule
    idx = sched.classify(month, np.asarray(minute))
    names = np.array(list(sched.bands) + [UNCLASSIFIED], dtype=object)
    return names[np.where(idx < 0, len(sched.bands), idx)]


def band_totals(bands: np.ndarray, values: np.ndarray) -> dict[str, float]:
    """Sum of ``values`` (NaN = no data) per band name, in band order."""
    values = np.nan_to_num(np.asarray(values, float), nan=0.0)
    out: dict[str, float] = {}
    for b in _ordered({str(x) for x in np.unique(bands)}):
        out[b] = float(values[bands == b].sum())
    return out


@dataclass(frozen=True)
class Demand:
    """Maximum average power over one demand interval: kW, and the interval [start, end)."""

    kw: float
    start_us: int
    end_us: int
    interval_s: int
    #: Intervals that were complete (measured over their whole length) and compared.
    intervals: int
    #: 99th percentile of the complete intervals' demand, kW: what is left when the top 1 %
    #: of intervals (about 7 h a month) are shaved by demand control.
    p99_kw: float | None = None


def max_demand(energy_kwh: np.ndarray, starts_us: np.ndarray, complete: np.ndarray,
               interval_s: int = DEMAND_INTERVAL_S) -> Demand | None:
    """The maximum demand: max over complete intervals of kWh × 3600 ÷ ``interval_s`` (kW).

    Incomplete intervals (a gap inside) are left out: their energy over a shorter time would
    understate the power.  None when no interval is complete.
    """
    energy = np.asarray(energy_kwh, float)
    ok = np.asarray(complete, bool) & np.isfinite(energy)
    if not ok.any():
        return None
    k = int(np.flatnonzero(ok)[np.argmax(energy[ok])])
    start = int(starts_us[k])
    return Demand(float(energy[k]) * 3600.0 / interval_s, start, start + interval_s * 1_000_000,
                  interval_s, int(ok.sum()),
                  float(np.percentile(energy[ok], 99.0)) * 3600.0 / interval_s)


# -- bills ---------------------------------------------------------------------------------
@dataclass
class Bill:
    """Cost of one meter (or the sum of several) over one month or part of it.

    ``quantity`` and ``bands`` in the tariff unit, money in CNY.  ``month_fraction`` =
    days of the month in the period ÷ days of the month (basic charges are prorated by it).
    """

    terms: Terms
    bands: dict[str, float]
    month_fraction: float = 1.0
    demand: Demand | None = None
    demand_charge_cny: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def quantity(self) -> float:
        return float(sum(self.bands.values()))

    @property
    def band_cny(self) -> dict[str, float]:
        return {b: q * self.terms.prices.get(b, 0.0) for b, q in self.bands.items()}

    @property
    def energy_cny(self) -> float:
        return float(sum(self.band_cny.values()))

    def as_dict(self) -> dict:
        return bill_figures(self.terms.unit, self.bands, self.band_cny, self.terms.prices)


def peak_share(bands: dict[str, float]) -> float | None:
    """(sharp + peak) ÷ all bands, as a fraction; None for no energy."""
    total = sum(bands.values())
    if total <= 0:
        return None
    return sum(bands.get(b, 0.0) for b in PEAK_BANDS) / total


def bill(terms: Terms, bands: dict[str, float], demand: Demand | None = None,
         month_fraction: float = 1.0) -> Bill:
    """Energy charge per band and, where the tariff has a demand rate and a demand is known,
    the demand charge = kW × rate × month fraction."""
    unpriced = [b for b, q in bands.items() if b not in terms.prices and q]
    b = Bill(terms, dict(bands), month_fraction, demand)
    if unpriced:
        b.notes.append("bands without a price: " + ", ".join(unpriced))
    if demand is not None and terms.demand_charge is not None:
        b.demand_charge_cny = demand.kw * terms.demand_charge * month_fraction
    return b


def capacity_charge(rate: float | None, contracted_kva: float | None,
                    month_fraction: float = 1.0) -> float | None:
    """容量电费 = contracted kVA × CNY/(kVA·month) × month fraction; None if either is unknown."""
    if rate is None or contracted_kva is None:
        return None
    return contracted_kva * rate * month_fraction


def bill_figures(unit: str, bands: dict[str, float], band_cny: dict[str, float],
                 prices: dict[str, float]) -> dict:
    """Per-band quantity, price and CNY, with shares; the totals and the average price."""
    total = float(sum(bands.values()))
    cny = float(sum(band_cny.values()))
    share = peak_share(bands)
    return {
        "quantity": total, "unit": unit, "energy_cny": cny,
        "average_price_cny_per_unit": cny / total if total > 0 else None,
        "peak_sharp_share_pct": None if share is None else 100.0 * share,
        "bands": [{"band": b, "quantity": q, "unit": unit, "price": prices.get(b),
                   "price_unit": f"CNY/{unit}", "cny": band_cny.get(b, 0.0),
                   "share_pct": 100.0 * q / total if total > 0 else None}
                  for b, q in bands.items()],
    }


def add_bands(*parts: dict[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for p in parts:
        for b, q in p.items():
            out[b] = out.get(b, 0.0) + q
    return {b: out[b] for b in _ordered(out)}
