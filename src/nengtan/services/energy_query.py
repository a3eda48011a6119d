"""Energy consumption query (能耗查询): any node, any carrier, any period.

What a node consumes is what crosses the boundary of its subtree
(:func:`nengtan.services.energy_data.boundary`): flows **in** − flows **out** + renewable
electricity **generated** inside; flows between nodes of the subtree are not counted.  How
each boundary meter counts is the one rule of
:func:`nengtan.services.energy_data.contributions`, the rule of
:func:`~nengtan.services.energy_data.node_energy`: renewable electricity leaving the subtree
counts both as generated and as supplied out, so a PV plant nets to zero and a site
exporting its PV surplus counts what it used of it.  Each figure is given per carrier in the
carrier's physical unit and, for energy carriers, in tonnes of standard coal equivalent (tce)
by GB/T 2589-2020: electricity at the equivalent value 0.1229 kgce/kWh (clause 4.4; the
equal-value figure beside it), measured calorific values where the enterprise has them
(clause 4.3), exports deducted and feedstock use reported apart (clause 4.1/4.2).

Grains, and what each one reads (rollups with one query per table for a whole set of buckets,
never one per meter and period):

* ``interval`` — 15-minute buckets of the meters' interval values, derived from the raw
  readings by the pipeline (:func:`nengtan.services.query.intervals`, one read per meter);
  an interval longer than 15 min (a daily gas meter) is split pro rata by time and flagged
  ``prorated``;
* ``hour`` — ``rollup_hour`` (:func:`nengtan.services.query.hourly_matrix`);
* ``day`` — ``rollup_day``; ``month``, ``year`` and ``custom`` (one figure for the whole
  period) — ``rollup_month`` for whole months plus ``rollup_day`` for the days around them
  (:func:`nengtan.services.energy_data.period_series`).

Coverage: a figure's ``coverage`` is the smallest covered fraction of its meters' expected
time; ``complete`` is true only when every meter covers the whole period.  A value is the sum
of what is covered and is never completed with zeros: a period without any data has the value
``null``.

Coefficients: a figure of a month, a year or any period of a month or more uses the
coefficients of that period (measured NCVs of the deliveries in it, user parameters, the
shipped GB/T 2589 library: :func:`nengtan.services.energy_data.library_for`), so it equals
:func:`nengtan.services.energy_data.node_energy` for the same period; a day, hour or
15-minute figure uses the coefficients of its calendar month, so that the days of a month add
up to the month.

Year-on-year (同比) compares a period with the same period one year earlier; period-on-period
(环比) with the period just before (the previous month for a month, the previous day for a day,
the same length before for a custom period).  A change is only computed between two complete
figures, and a change in % only on a base that is not zero; otherwise the reason is given.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Connection, func, select

from nengtan import __version__, units
from nengtan.energy import gbt2589
from nengtan.energy.gbt2589 import EnergyInput
from nengtan.errors import InputError, Issue
from nengtan.i18n import both, t
from nengtan.quality.flags import Quality, flag_names
from nengtan.quality.normalize import to_intervals
from nengtan.services import energy_data as ed
from nengtan.services import meter_specs, query
from nengtan.store.models import Carrier, IngestBatch, MeterTail, Node, Reading
from nengtan.store.types import from_us, to_us
from nengtan.timeseries.calendar import (
    DAY_US,
    HOUR_US,
    US,
    local_midnight_us,
    next_month,
    utc_day,
)
from nengtan.timeseries.rollup import bucketize

GRAINS = ("interval", "hour", "day", "month", "year", "custom")
COMPARES = ("yoy", "mom")
INTERVAL_S = 900
STEP_US = {"interval": INTERVAL_S * US, "hour": HOUR_US}
#: The longest window of a series, in days: a year of days, a quarter of hours, a month of
#: 15-minute values (about 3 000 buckets each).
MAX_DAYS = {"interval": 31, "hour": 92, "day": 1098}
#: A period counts as complete from this covered fraction (rounding of seconds).
COMPLETE = 0.999
#: Data older than this many meter intervals makes a meter stale (real-time view).
STALE_INTERVALS = 3
METHOD = "nengtan energy query 1 (GB/T 2589-2020 via energy_data)"
BOUNDARY_RULE = ("meters whose flow edge crosses the node's subtree boundary: in − out + "
                 "renewable generated inside (renewable electricity leaving the subtree counts "
                 "as generated and as out); flows between nodes of the subtree not counted; "
                 "energy_data.contributions")


# -- buckets -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bucket:
    """A period of a figure: [start_us, end_us); day-based buckets also as local dates."""

    start_us: int
    end_us: int
    label: str
    grain: str  # interval | hour | day | month | quarter | year | custom
    start: date | None = None
    end: date | None = None

    @property
    def day_based(self) -> bool:
        return self.start is not None

    @property
    def seconds(self) -> int:
        return (self.end_us - self.start_us) // US

    def as_dict(self, tz: ZoneInfo) -> dict:
        if self.day_based:
            return {"start": self.start.isoformat(), "end": self.end.isoformat(),
                    "label": self.label, "grain": self.grain}
        return {"start": query.local_iso(self.start_us, tz),
                "end": query.local_iso(self.end_us, tz), "label": self.label,
                "grain": self.grain}


def _whole(a: date, b: date) -> tuple[str, str]:
    """(label, grain) of the local dates [a, b): a whole day, month, quarter or year, else
    a custom range."""
    if b == a + timedelta(days=1):
        return a.isoformat(), "day"
    if a.day == 1 and b == next_month(a):
        return f"{a:%Y-%m}", "month"
    if a.day == 1 and a.month in (1, 4, 7, 10) and b == next_month(next_month(next_month(a))):
        return f"{a.year}-Q{(a.month - 1) // 3 + 1}", "quarter"
    if a == date(a.year, 1, 1) and b == date(a.year + 1, 1, 1):
        return f"{a.year}", "year"
    return f"{a.isoformat()}/{b.isoformat()}", "custom"


def day_bucket(a: date, b: date, tz: ZoneInfo, label: str | None = None,
               grain: str | None = None) -> Bucket:
    auto_label, auto_grain = _whole(a, b)
    return Bucket(local_midnight_us(a, tz), local_midnight_us(b, tz), label or auto_label,
                  grain or auto_grain, a, b)


def sub_bucket(start_us: int, end_us: int, grain: str, tz: ZoneInfo) -> Bucket:
    if grain in STEP_US and end_us - start_us == STEP_US[grain]:
        label = query.local_iso(start_us, tz)
    else:
        grain = "custom"
        label = f"{query.local_iso(start_us, tz)}/{query.local_iso(end_us, tz)}"
    return Bucket(start_us, end_us, label, grain)


def previous(b: Bucket, tz: ZoneInfo) -> Bucket:
    """The period just before (环比): previous month of a month, day of a day, ..."""
    if b.day_based:
        grain = b.grain if b.grain in ("month", "quarter", "year") else "custom"
        p = ed.Period(b.start, b.end, b.label, grain).previous()
        return day_bucket(p.start, p.end, tz)
    span = b.end_us - b.start_us
    return sub_bucket(b.start_us - span, b.start_us, b.grain, tz)


def year_before(b: Bucket, tz: ZoneInfo) -> Bucket:
    """The same period one year earlier (同比); 29 February becomes 28 February."""
    if b.day_based:
        p = ed.Period(b.start, b.end, b.label, b.grain).shifted(years=-1)
        return day_bucket(p.start, p.end, tz)

    def back(us: int) -> int:
        dt = from_us(us).astimezone(tz).replace(tzinfo=None)
        try:
            dt = dt.replace(year=dt.year - 1)
        except ValueError:  # 29 February
            dt = dt.replace(year=dt.year - 1, day=28)
        return to_us(dt.replace(tzinfo=tz))

    return sub_bucket(back(b.start_us), back(b.end_us), b.grain, tz)


def _local_date(value: date | datetime, tz: ZoneInfo, field_name: str) -> date:
    if isinstance(value, datetime):
        local = value.astimezone(tz) if value.tzinfo else value
        if local.time() != datetime.min.time():
            raise InputError([Issue("rule.eq_dates", field=field_name, value=value.isoformat())])
        return local.date()
    return value


def _instant(value: date | datetime, tz: ZoneInfo) -> int:
    if isinstance(value, datetime):
        return to_us(value if value.tzinfo else value.replace(tzinfo=tz))
    return local_midnight_us(value, tz)


def resolve_window(tz: ZoneInfo, grain: str = "custom", period: str | None = None,
                   start: date | datetime | None = None,
                   end: date | datetime | None = None) -> Bucket:
    """The whole period asked for: ``period`` (``2025``, ``2025-Q3``, ``2025-10``,
    ``2025-10-05``, ``2025-10-01/2025-10-08``) or ``start``/``end`` (end exclusive).

    Day, month, year and custom grains take local dates; the 15-minute and hour grains also
    take times, widened to whole buckets.  Raises :class:`InputError` for a bad combination.
    """
    if grain not in GRAINS:
        raise InputError([Issue("rule.choice", field="grain", value=grain,
                                params={"choices": ", ".join(GRAINS)})])
    has_range = start is not None or end is not None
    if bool(period) == has_range:
        raise InputError([Issue("rule.eq_period_or_range", field="period", value=period)])
    if period:
        p = ed.parse_period(period)
        window = day_bucket(p.start, p.end, tz, p.label, p.grain)
    else:
        missing = [Issue("rule.required", field=name) for name, v in (("start", start),
                                                                       ("end", end)) if v is None]
        if missing:
            raise InputError(missing)
        if grain in STEP_US:
            step = STEP_US[grain]
            lo, hi = _instant(start, tz), _instant(end, tz)
            lo, hi = lo - lo % step, hi + (-hi) % step
            if hi <= lo:
                raise InputError([Issue("rule.period", field="end", value=str(end))])
            if not (isinstance(start, datetime) or isinstance(end, datetime)):
                window = day_bucket(start, end, tz)
            else:
                window = sub_bucket(lo, hi, "custom", tz)
        else:
            a, b = _local_date(start, tz, "start"), _local_date(end, tz, "end")
            if b <= a:
                raise InputError([Issue("rule.period", field="end", value=str(end))])
            window = day_bucket(a, b, tz)
    if grain in MAX_DAYS and (window.end_us - window.start_us) > MAX_DAYS[grain] * DAY_US:
        raise InputError([Issue("rule.eq_too_long", field="grain", value=grain,
                                params={"max_days": MAX_DAYS[grain]})])
    return window


def series_buckets(window: Bucket, grain: str, tz: ZoneInfo) -> list[Bucket]:
    """The buckets of ``grain`` that tile ``window`` (edge buckets clipped to it)."""
    if grain == "custom":
        return [window]
    if grain in STEP_US:
        step = STEP_US[grain]
        return [sub_bucket(t, t + step, grain, tz)
                for t in range(window.start_us, window.end_us, step)]
    out, cur = [], window.start
    while cur < window.end:
        if grain == "day":
            nxt = cur + timedelta(days=1)
        elif grain == "month":
            nxt = next_month(cur)
        else:
            nxt = date(cur.year + 1, 1, 1)
        nxt = min(nxt, window.end)
        out.append(day_bucket(cur, nxt, tz))
        cur = nxt
    return out


# -- meter values per bucket ---------------------------------------------------------------
@dataclass
class Values:
    """Per meter id, arrays over a list of buckets: the covered sum (carrier unit), whether
    any data was there, covered and expected seconds, quality flags."""

    value: dict[int, np.ndarray]
    has: dict[int, np.ndarray]
    cov: dict[int, np.ndarray]
    exp: dict[int, np.ndarray]
    flags: dict[int, np.ndarray]
    #: Per meter id and bucket index, the rollup rows summed (trace only).
    rows: dict[int, list[list[dict]]] = field(default_factory=dict)
    source: str = ""

    @classmethod
    def empty(cls, ids, n: int, source: str) -> Values:
        ids = list(ids)
        return cls({i: np.zeros(n) for i in ids}, {i: np.zeros(n, bool) for i in ids},
                   {i: np.zeros(n, np.int64) for i in ids}, {i: np.zeros(n, np.int64) for i in ids},
                   {i: np.zeros(n, np.int64) for i in ids}, {}, source)

    def coverage(self, mid: int, k: int) -> float:
        e = self.exp[mid][k]
        return float(min(self.cov[mid][k] / e, 1.0)) if e else 0.0


def _unique(meters) -> list:
    seen, out = set(), []
    for m in meters:
        if m.id not in seen:
            seen.add(m.id)
            out.append(m)
    return out


def read_values(conn: Connection, meters, buckets: list[Bucket], source: str,
                keep_rows: bool = False) -> Values:
    """Values of ``meters`` (FlowMeters) for each bucket, from ``source``: ``interval``
    (interval values), ``hour`` (rollup_hour) or ``day`` (rollup_day / rollup_month)."""
    meters = _unique(meters)
    if source == "day":
        return _read_days(conn, meters, buckets, keep_rows)
    return _read_grid(conn, meters, buckets, source)


def _read_days(conn: Connection, meters, buckets: list[Bucket], keep_rows: bool) -> Values:
    n = len(buckets)
    out = Values.empty([m.id for m in meters], n, "rollup_month + rollup_day")
    if not meters or not buckets:
        return out
    # energy_data's split: whole months from rollup_month, the days around them from rollup_day
    splits = [ed.split_months(b.start, b.end) for b in buckets]
    months = sorted({mo for ms, _ in splits for mo in ms})
    day_ranges = [r for _, ds in splits for r in ds]
    mrows = (ed.period_series(conn, meters, months[0], next_month(months[-1]), "month")
             if months else {})
    drows = (ed.period_series(conn, meters, min(a for a, _ in day_ranges),
                              max(b for _, b in day_ranges), "day") if day_ranges else {})
    for m in meters:
        mm, dd = mrows.get(m.id, {}), drows.get(m.id, {})
        v, has, cov, exp, fl = (out.value[m.id], out.has[m.id], out.cov[m.id], out.exp[m.id],
                                out.flags[m.id])
        used_all = [[] for _ in range(n)] if keep_rows else None
        for k, (ms, ds) in enumerate(splits):
            parts = [("rollup_month", mo, mm.get(mo)) for mo in ms]
            for a, b in ds:
                d = a
                while d < b:
                    parts.append(("rollup_day", d, dd.get(d)))
                    d += timedelta(days=1)
            for table, key, r in parts:
                if r is None:
                    continue
                if r.has_data:
                    v[k] += r.value
                    has[k] = True
                cov[k] += r.coverage_s
                exp[k] += r.expected_s
                fl[k] |= r.flags
                if used_all is not None:
                    used_all[k].append({
                        "table": table, "key": key.isoformat(),
                        "value": r.value if r.has_data else None, "coverage_s": r.coverage_s,
                        "expected_s": r.expected_s, "flags": flag_names(r.flags)})
            # a period without a rollup row is expected time without data (a gap, not zero)
            exp[k] = max(exp[k], (buckets[k].end - buckets[k].start).days * 86400)
        if used_all is not None:
            out.rows[m.id] = used_all
    return out


def _read_grid(conn: Connection, meters, buckets: list[Bucket], source: str) -> Values:
    n = len(buckets)
    out = Values.empty([m.id for m in meters], n,
                       "rollup_hour" if source == "hour" else "interval values from readings")
    if not meters or not buckets:
        return out
    step = STEP_US[source]
    lo, hi = min(b.start_us for b in buckets), max(b.end_us for b in buckets)
    grid: dict[int, tuple] = {}
    if source == "hour":
        ids, hours, value, cov = query.hourly_matrix(conn, [m.id for m in meters],
                                                     utc_day(lo), utc_day(hi - 1))
        t0 = int(hours[0])
        for row, mid in enumerate(ids.tolist()):
            grid[mid] = (value[row], cov[row].astype(np.int64), None)
    else:
        t0 = lo - lo % step
        cells = int(-(-(hi - t0) // step))
        infos = meter_specs.load(conn, [m.id for m in meters])
        for m in meters:
            info = infos[m.id]
            # an interval that starts before the window (a daily meter) still overlaps it
            margin = 0 if info.is_virtual else info.spec.interval_s * US
            iv = query.interval_values(conn, info, query.Window(t0 - margin, t0 + cells * step))
            b = bucketize(iv, t0, step, cells)
            grid[m.id] = (b.value, b.coverage_us // US, b.flags.astype(np.int64))
    for mid, (value, cov, flags) in grid.items():
        has = ~np.isnan(value)
        csum_v = np.concatenate([[0.0], np.cumsum(np.where(has, value, 0.0))])
        csum_h = np.concatenate([[0], np.cumsum(has)])
        csum_c = np.concatenate([[0], np.cumsum(cov)])
        for k, b in enumerate(buckets):
            i0 = max((b.start_us - t0) // step, 0)
            i1 = max(min((b.end_us - t0) // step, len(value)), i0)
            out.value[mid][k] = csum_v[i1] - csum_v[i0]
            out.has[mid][k] = csum_h[i1] > csum_h[i0]
            out.cov[mid][k] = csum_c[i1] - csum_c[i0]
            out.exp[mid][k] = b.seconds
            if flags is not None and i1 > i0:
                out.flags[mid][k] = int(np.bitwise_or.reduce(flags[i0:i1]))
    return out


def source_for(grain: str) -> str:
    return grain if grain in STEP_US else "day"


# -- coefficients --------------------------------------------------------------------------
@dataclass(frozen=True)
class Coef:
    """kgce per carrier unit for one (tenant, period, carrier, use)."""

    kgce_per_unit: float
    kgce_per_unit_equal_value: float
    sign: int
    category: str
    lineage: dict


class Coefficients:
    """Coefficients per tenant, coefficient period, carrier, unit and use, computed once per
    request from the tenants' libraries (kept between requests: :class:`energy_data.Libraries`)."""

    def __init__(self, conn: Connection, tz: ZoneInfo):
        self.conn, self.tz = conn, tz
        self.libraries = ed.Libraries(conn)
        self._rows: dict = {}
        self.used: dict = {}

    def period(self, b: Bucket) -> tuple[date, date]:
        """Coefficient period of a bucket: its own, or its month when shorter than one."""
        if b.day_based:
            a, z = b.start, b.end
        else:
            a = from_us(b.start_us).astimezone(self.tz).date()
            last = from_us(b.end_us - 1).astimezone(self.tz).date()
            z = last + timedelta(days=1)
        first = a.replace(day=1)
        if (z - timedelta(days=1)).replace(day=1) == first and z <= next_month(first):
            return first, next_month(first)
        return a, z

    def get(self, tenant: int, period: tuple[date, date], carrier: str, unit: str,
            use: str) -> Coef | None:
        key = (tenant, period, carrier, unit, use)
        if key not in self._rows:
            library = self.libraries.get(tenant, *period)
            coef = None
            if library.knows(carrier):
                try:
                    # GB/T 2589 conversion is linear in the quantity: convert one unit
                    row = gbt2589.convert_one(EnergyInput(carrier, 1.0, unit, use=use), library)
                    coef = Coef(row.kgce_per_input_unit, row.tce_equal_value * 1000.0, row.sign,
                                row.category, row.coefficient.lineage())
                    if row.category == "electricity" and library.equal_value is not None:
                        coef.lineage["equal_value"] = library.equal_value.lineage()
                except InputError:
                    coef = None
            self._rows[key] = coef
            if coef is not None:
                self.used[key] = coef
        return self._rows[key]

    def lineage(self) -> list[dict]:
        return [{"tenant_id": t, "period": {"start": p[0].isoformat(), "end": p[1].isoformat()},
                 "carrier": c, "unit": u, "use": use, "kgce_per_unit": coef.kgce_per_unit,
                 "coefficient": coef.lineage}
                for (t, p, c, u, use), coef in sorted(self.used.items(), key=lambda kv: (
                    kv[0][0], kv[0][1], kv[0][2], kv[0][4]))]


# -- figures -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Member:
    """One way a boundary meter counts in a node's figure: an entry ``(role, use, sign)`` of
    :func:`nengtan.services.energy_data.contributions`.  A meter may count twice (renewable
    electricity leaving the subtree: ``generated`` +1 and ``out`` −1).

    ``role`` is the effective role (in, out, generated), not always the meter's boundary role
    (``meter.role``); ``use`` is the GB/T 2589 use (fuel, feedstock, export) and ``sign`` the
    sign in the tce total (+1 counted, −1 deducted, 0 outside it: feedstock).
    """

    meter: ed.FlowMeter
    role: str
    use: str
    sign: int

    @property
    def id(self) -> int:
        return self.meter.id

    @property
    def tenant_id(self) -> int:
        return self.meter.tenant_id

    @property
    def direction(self) -> int:
        """Sign in the physical balance (carrier unit): +1 in and generated, −1 out.
        Feedstock is physically consumed, so it counts here although outside the tce total."""
        return -1 if self.role == "out" else 1


def members(b: ed.Boundary, carrier: str | None) -> list[Member]:
    """The contributions of a node's boundary meters: energy carriers (or the one carrier
    asked for); internal meters contribute nothing."""
    out = []
    for m in b.meters:
        if carrier is not None:
            if m.carrier != carrier:
                continue
        elif not m.is_energy:
            continue
        out.extend(Member(m, role, use, sign) for role, use, sign in ed.contributions(m))
    return out


class Context:
    """What every figure of one request shares: timezone, carriers, coefficients."""

    def __init__(self, conn: Connection, tz: ZoneInfo):
        self.conn, self.tz = conn, tz
        self.coefs = Coefficients(conn, tz)
        self.carriers = {r.code: r for r in conn.execute(select(
            Carrier.code, Carrier.name_zh, Carrier.name_en, Carrier.unit, Carrier.category,
            Carrier.is_energy))}


def _r(x: float | None, nd: int = 9) -> float | None:
    return None if x is None else round(float(x), nd)


def figure(ctx: Context, mems: list[Member], values: Values, k: int, bucket: Bucket) -> dict:
    """One figure of a node: per carrier (physical unit) and in tce, with coverage."""
    period = ctx.coefs.period(bucket)
    acc: dict[str, dict] = {}
    for mb in mems:
        m = mb.meter
        c = acc.setdefault(m.carrier, {"in": 0.0, "out": 0.0, "generated": 0.0, "has": False,
                                       "coverage": 1.0, "flags": 0, "meters": [],
                                       "groups": {}})
        if m.code not in c["meters"]:
            c["meters"].append(m.code)
        c["coverage"] = min(c["coverage"], values.coverage(m.id, k))
        c["flags"] |= int(values.flags[m.id][k])
        if values.has[m.id][k]:
            v = float(values.value[m.id][k])
            c["has"] = True
            c[mb.role] += v
            # energy_data.node_energy's groups: (carrier, role, use, tenant)
            key = (mb.role, mb.use, m.tenant_id)
            c["groups"][key] = c["groups"].get(key, 0.0) + v
    carriers, missing = [], []
    totals = {"tce": 0.0, "tce_equal_value": 0.0, "export_tce": 0.0, "feedstock_tce": 0.0,
              "renewable_tce": 0.0}
    any_tce = False
    for code in sorted(acc, key=lambda c: (not ctx.carriers[c].is_energy, c)):
        c, info = acc[code], ctx.carriers[code]
        quantity = c["in"] - c["out"] + c["generated"] if c["has"] else None
        tce = tce_eq = None
        if info.is_energy and c["has"]:
            tce = tce_eq = 0.0
            for (role, use, tenant), q in sorted(c["groups"].items()):
                coef = ctx.coefs.get(tenant, period, code, info.unit, use)
                if coef is None:
                    tce = tce_eq = None
                    missing.append(code)
                    break
                # as energy_data.node_energy: a group's quantity is never negative
                q = max(q, 0.0)
                part = q * coef.kgce_per_unit / 1000.0
                part_eq = q * coef.kgce_per_unit_equal_value / 1000.0
                tce += coef.sign * part
                tce_eq += coef.sign * part_eq
                if use == "export":
                    totals["export_tce"] += part
                elif use == "feedstock":
                    totals["feedstock_tce"] += part
                # as gbt2589.convert: renewable electricity signed, so that renewable power
                # supplied out is deducted from the renewable part too (a PV plant: 0)
                if coef.sign and (use == "renewable" or coef.category in gbt2589.RENEWABLE):
                    totals["renewable_tce"] += coef.sign * part
            if tce is not None:
                totals["tce"] += tce
                totals["tce_equal_value"] += tce_eq
                any_tce = True
        complete = c["has"] and c["coverage"] >= COMPLETE
        carriers.append({
            "carrier": code, "name_zh": info.name_zh, "name_en": info.name_en,
            "unit": info.unit, "category": info.category, "is_energy": bool(info.is_energy),
            "quantity": _r(quantity), "in": _r(c["in"]) if c["has"] else None,
            "out": _r(c["out"]) if c["has"] else None,
            "generated": _r(c["generated"]) if c["has"] else None,
            "tce": _r(tce), "tce_equal_value": _r(tce_eq),
            "coverage": round(c["coverage"], 6), "complete": bool(complete),
            "flags": flag_names(c["flags"]), "meters": c["meters"],
        })
    coverage = min((c["coverage"] for c in carriers), default=0.0)
    complete = bool(carriers) and all(c["complete"] for c in carriers)
    out = {"period": bucket.as_dict(ctx.tz), "unit": "tce"}
    for name, v in totals.items():
        out[name] = _r(v) if any_tce else None
    out["control_total_tce"] = (_r(totals["tce"] - totals["renewable_tce"]) if any_tce
                                else None)
    out.update({"coverage": round(coverage, 6), "complete": complete,
                "missing_coefficients": sorted(set(missing)), "carriers": carriers})
    return out


def _compare(cur, cur_complete: bool, prev, prev_complete: bool, base: dict, unit: str) -> dict:
    reason = None
    if cur is None:
        reason = "no_data"
    elif prev is None:
        reason = "base_no_data"
    elif not cur_complete:
        reason = "current_incomplete"
    elif not prev_complete:
        reason = "base_incomplete"
    change = pct = None
    if reason is None:
        change = cur - prev
        # below a millionth of a unit a base is rounding noise (kWh, m3, t, tce)
        if abs(prev) < 1e-6:
            reason = "base_zero"
        else:
            # on a negative base (a net exporter) the change is relative to its size
            pct = change / abs(prev) * 100.0
    return {"period": base, "previous": prev, "previous_complete": prev_complete,
            "change": _r(change), "change_pct": _r(pct, 6), "unit": unit, "reason": reason,
            "reason_text": both(f"eq.reason.{reason}") if reason else None}


def attach_compare(name: str, cur: dict, prev: dict) -> None:
    """Put ``prev`` (the figure of the comparison period) into ``cur`` as ``cur[name]``, for
    the tce total and for each carrier's quantity."""
    cur[name] = _compare(cur["tce"], cur["complete"], prev["tce"], prev["complete"],
                         prev["period"], "tce")
    before = {c["carrier"]: c for c in prev["carriers"]}
    for c in cur["carriers"]:
        p = before.get(c["carrier"])
        c[name] = _compare(c["quantity"], c["complete"], p["quantity"] if p else None,
                           p["complete"] if p else False, prev["period"], c["unit"])


def _node_info(b: ed.Boundary) -> dict:
    return {"node": b.code, "node_id": b.node_id, "name_zh": b.name_zh, "name_en": b.name_en,
            "kind": b.kind}


def timezone_of(conn: Connection, node_id: int) -> ZoneInfo:
    return ZoneInfo(meter_specs.effective_timezones(conn, [node_id])[node_id])


def _check_carrier(ctx: Context, carrier: str | None) -> None:
    if carrier is not None and carrier not in ctx.carriers:
        raise InputError([Issue("rule.ref_unknown", field="carrier", value=carrier,
                                params={"ref": "carrier"})])


def _check_compare(compare) -> tuple[str, ...]:
    compare = tuple(c for c in (compare or ()) if c)
    bad = [c for c in compare if c not in COMPARES]
    if bad:
        raise InputError([Issue("rule.choice", field="compare", value=bad[0],
                                params={"choices": ", ".join(COMPARES)})])
    return tuple(dict.fromkeys(compare))


def _meter_lineage(mems: list[Member]) -> list[dict]:
    """One entry per contribution: ``role`` is the effective role, ``boundary_role`` the
    meter's role on the boundary."""
    return [{"meter": mb.meter.code, "meter_id": mb.id, "carrier": mb.meter.carrier,
             "role": mb.role, "boundary_role": mb.meter.role, "sign": mb.sign, "use": mb.use,
             "tenant_id": mb.tenant_id, "level": mb.meter.level} for mb in mems]


def _lineage(ctx: Context, mems: list[Member], source: str, extra: dict | None = None) -> dict:
    out = {
        "method": METHOD, "engine": f"nengtan {__version__}",
        "standard": gbt2589.METHOD_VERSION,
        "boundary": BOUNDARY_RULE,
        "source": source,
        "coverage": "smallest covered fraction of the meters' expected time; values are sums "
                    "of the covered time, never filled with zeros",
        "coefficient_period": "the figure's own period; the calendar month for periods "
                              "shorter than a month",
        "electricity_equivalent_kgce_per_kwh": gbt2589.KGCE_PER_KWH_EQUIVALENT,
        "meters": _meter_lineage(mems),
        "coefficients": ctx.coefs.lineage(),
    }
    out.update(extra or {})
    return out


def _trace_link(node: str, carrier: str | None, b: Bucket) -> str | None:
    """API path of the trace of a day-based figure."""
    if not b.day_based:
        return None
    params = {"node": node, "start": b.start.isoformat(), "end": b.end.isoformat()}
    if carrier:
        params["carrier"] = carrier
    return f"/api/energy/trace?{urlencode(params)}"


def _summary(node: dict, fig: dict) -> dict:
    """One sentence per language: the figure, its period and coverage."""
    out = {}
    for lang in ("zh-CN", "en"):
        name = node["name_zh"] if lang == "zh-CN" else (node["name_en"] or node["name_zh"])
        text = t("eq.summary.figure", lang, node=node["node"], name=name,
                 period=fig["period"]["label"],
                 tce="—" if fig["tce"] is None else f"{fig['tce']:,.3f}",
                 coverage=f"{fig['coverage'] * 100:.1f}")
        out[lang] = text + ("" if fig["complete"] else t("eq.summary.incomplete", lang))
    return out


# -- 1. the query ----------------------------------------------------------------------------
def consumption(conn: Connection, node_id: int, *, grain: str = "custom",
                period: str | None = None, start=None, end=None, carrier: str | None = None,
                compare=()) -> dict:
    """Consumption of a node per ``grain`` bucket over a period, and over the whole period.

    Returns ``series`` (one figure per bucket; for ``custom`` the one period) and ``total``
    (the whole window), each with tce totals (``unit`` = tce), carriers in their physical
    units, coverage and, with ``compare`` (``yoy``, ``mom``), the comparison figures.
    """
    b = ed.boundary(conn, node_id)
    tz = timezone_of(conn, node_id)
    ctx = Context(conn, tz)
    _check_carrier(ctx, carrier)
    compare = _check_compare(compare)
    window = resolve_window(tz, grain, period, start, end)
    buckets = series_buckets(window, grain, tz)
    mems = members(b, carrier)
    source = source_for(grain)
    sets = {"main": buckets + ([window] if len(buckets) > 1 else [])}
    if "mom" in compare:
        sets["mom"] = [previous(x, tz) for x in sets["main"]]
    if "yoy" in compare:
        sets["yoy"] = [year_before(x, tz) for x in sets["main"]]
    figures = {}
    for name, bs in sets.items():
        vals = read_values(conn, [mb.meter for mb in mems], bs, source)
        figures[name] = [figure(ctx, mems, vals, k, x) for k, x in enumerate(bs)]
    main = figures["main"]
    for name in compare:
        for cur, prev in zip(main, figures[name]):
            attach_compare(name, cur, prev)
    series = main[:len(buckets)]
    total = main[-1]
    node = _node_info(b)
    return {
        **node, "carrier": carrier, "grain": grain, "timezone": tz.key,
        "period": window.as_dict(tz), "compare": list(compare),
        "summary": _summary(node, total),
        "total": total, "series": series,
        "lineage": _lineage(ctx, mems, read_source_name(source),
                            {"trace": _trace_link(b.code, carrier, window)}),
    }


def read_source_name(source: str) -> str:
    return {"day": "rollup_month + rollup_day", "hour": "rollup_hour",
            "interval": "interval values from readings"}[source]


# -- 2. drill-down -------------------------------------------------------------------------
def children_of(conn: Connection, node_id: int) -> list[int]:
    return list(conn.execute(select(Node.id).where(Node.parent_id == node_id)
                             .order_by(Node.sort_order, Node.code)).scalars())


def drilldown(conn: Connection, node_id: int, *, period: str | None = None, start=None,
              end=None, carrier: str | None = None, compare=()) -> dict:
    """The node's figure, each direct child's figure (by its own boundary), by carrier, and
    what is not attributed to a child (parent − Σ children: metering and line losses,
    unmetered consumers).

    Renewable power a child generates for the node is in no remainder: the generating child
    nets to zero (generated and supplied out, :func:`energy_data.contributions`), and the
    children that use it meter it on their own inputs."""
    parent, kids = ed.family(conn, node_id)
    tz = timezone_of(conn, node_id)
    ctx = Context(conn, tz)
    _check_carrier(ctx, carrier)
    compare = _check_compare(compare)
    window = resolve_window(tz, "custom", period, start, end)
    nodes = [parent] + kids
    mems = [members(x, carrier) for x in nodes]
    all_meters = [mb.meter for ms in mems for mb in ms]
    sets = {"main": [window]}
    if "mom" in compare:
        sets["mom"] = [previous(window, tz)]
    if "yoy" in compare:
        sets["yoy"] = [year_before(window, tz)]
    figs: dict[str, list[dict]] = {}
    rests: dict[str, dict] = {}
    for name, bs in sets.items():
        vals = read_values(conn, all_meters, bs, "day")
        figs[name] = [figure(ctx, ms, vals, 0, bs[0]) for ms in mems]
        rests[name] = _unattributed(ctx, figs[name])
    for name in compare:
        for cur, prev in zip(figs["main"] + [rests["main"]], figs[name] + [rests[name]]):
            attach_compare(name, cur, prev)
    main = figs["main"]
    head = main[0]
    children = []
    for kb, fig in zip(kids, main[1:]):
        share = (fig["tce"] / head["tce"] * 100.0 if fig["tce"] is not None and head["tce"]
                 else None)
        children.append({**_node_info(kb), **fig, "share_pct": _r(share, 6),
                         "trace": _trace_link(kb.code, carrier, window)})
    rest = rests["main"]
    by_carrier = []
    codes = sorted({c["carrier"] for f in main for c in f["carriers"]},
                   key=lambda c: (not ctx.carriers[c].is_energy, c))
    for code in codes:
        def qty(f, code=code):
            return next((c["quantity"] for c in f["carriers"] if c["carrier"] == code), None)
        by_carrier.append({
            "carrier": code, "unit": ctx.carriers[code].unit, "node": qty(head),
            "children": [{"node": kb.code, "quantity": qty(f)} for kb, f in zip(kids, main[1:])],
            "unattributed": qty(rest)})
    node = _node_info(parent)
    return {
        **node, "carrier": carrier, "timezone": tz.key, "period": window.as_dict(tz),
        "compare": list(compare), "summary": _summary(node, head),
        "figure": head, "children": children, "unattributed": rest, "by_carrier": by_carrier,
        "lineage": _lineage(ctx, [mb for ms in mems for mb in ms], read_source_name("day"), {
            "unattributed": "node − Σ direct children, per carrier and in tce",
            "trace": _trace_link(parent.code, carrier, window)}),
    }


def _unattributed(ctx: Context, figs: list[dict]) -> dict:
    """parent − Σ children (``figs[0]`` − Σ ``figs[1:]``), per carrier and in tce.

    Every flow the node's children exchange among themselves or with the node is counted
    once on each side, so the remainder is what the node's boundary meters saw and no child
    meter did: losses (lines, transformers, busbars, meter error) and unmetered use.
    """
    head, rest = figs[0], figs[1:]
    energy = {c: ctx.carriers[c].is_energy for f in figs for c in (x["carrier"]
                                                                   for x in f["carriers"])}
    codes = sorted(energy, key=lambda c: (not energy[c], c))
    carriers = []
    tce = tce_eq = 0.0 if head["tce"] is not None else None
    for code in codes:
        hc = next((c for c in head["carriers"] if c["carrier"] == code), None)
        q, t, te = (hc["quantity"], hc["tce"], hc["tce_equal_value"]) if hc else (0.0, 0.0, 0.0)
        complete, coverage = (hc["complete"], hc["coverage"]) if hc else (True, 1.0)
        for f in rest:
            kc = next((c for c in f["carriers"] if c["carrier"] == code), None)
            if kc is None:  # the child has no meter of this carrier: nothing flows there
                continue
            q = None if q is None or kc["quantity"] is None else q - kc["quantity"]
            t = None if t is None or kc["tce"] is None else t - kc["tce"]
            te = None if te is None or kc["tce_equal_value"] is None else te - kc["tce_equal_value"]
            complete, coverage = complete and kc["complete"], min(coverage, kc["coverage"])
        if not energy[code]:
            t = te = None
        elif tce is not None:
            tce = None if t is None else tce + t
            tce_eq = None if te is None else tce_eq + te
        info = ctx.carriers[code]
        carriers.append({"carrier": code, "name_zh": info.name_zh, "name_en": info.name_en,
                         "unit": info.unit, "category": info.category, "quantity": _r(q, 6),
                         "tce": _r(t, 6), "tce_equal_value": _r(te, 6),
                         "coverage": round(coverage, 6), "complete": bool(complete)})
    out = {
        "label": both("eq.unattributed"), "period": head["period"], "unit": "tce",
        "tce": _r(tce, 6), "tce_equal_value": _r(tce_eq, 6),
        "coverage": min((c["coverage"] for c in carriers), default=0.0),
        "complete": bool(carriers) and all(c["complete"] for c in carriers),
        "carriers": carriers,
        # kept for clients of the earlier remainder, which held children's renewable
        # generation apart; the remainder now holds nothing else
        "losses_and_unmetered_tce": _r(tce, 6),
    }
    electric = [c for c in carriers if c["category"] in gbt2589.ELECTRIC]
    if electric:
        # Power of every source meets on the node's own busbar and children meter what they
        # take of it as grid electricity: per carrier the remainder can be negative (grid)
        # and positive (PV, waste-heat power); together they are the busbar's loss.
        known = all(c["quantity"] is not None for c in electric)
        out["electricity"] = {
            "label": both("eq.unattributed.electricity"), "unit": "kWh",
            "carriers": [c["carrier"] for c in electric],
            "quantity": _r(sum(c["quantity"] for c in electric), 6) if known else None}
    return out


# -- 3. real-time values -------------------------------------------------------------------
def realtime(conn: Connection, node_id: int, *, carrier: str | None = None,
             now_us: int | None = None) -> dict:
    """Latest values of the node's boundary meters: last reading, the last interval's
    average power (kW for electricity: interval kWh × 3600 / interval seconds; other carriers
    a rate per hour), data age and an online/stale flag (stale when the last reading is older
    than 3 × the meter's interval).  Read from ``meter_tails`` (one query for all meters).

    Each meter's ``sign`` is its net direction in the node's balance over its contributions
    (:func:`energy_data.contributions`): +1 in or generated, −1 out, 0 for renewable power
    leaving the node (generated and supplied out)."""
    b = ed.boundary(conn, node_id)
    tz = timezone_of(conn, node_id)
    ctx = Context(conn, tz)
    _check_carrier(ctx, carrier)
    now_us = int(now_us if now_us is not None else time.time_ns() // 1000)
    meters = [m for m in b.meters if ed.contributions(m) and (carrier is None
                                                              or m.carrier == carrier)]
    infos = meter_specs.load(conn, [m.id for m in meters])
    tails = {r.meter_id: r for r in conn.execute(select(
        MeterTail.meter_id, MeterTail.ts, MeterTail.value, MeterTail.quality).where(
        MeterTail.tenant_id.in_(sorted({m.tenant_id for m in meters}) or [-1]),
        MeterTail.meter_id.in_([m.id for m in meters] or [-1])))}
    rows = []
    for m in meters:
        rows.append(_latest(m, infos[m.id], tails.get(m.id), now_us, tz, ctx))
    nets = []
    for code in sorted({r["carrier"] for r in rows}):
        rs = [r for r in rows if r["carrier"] == code]
        rate_unit = rs[0]["rate_unit"]
        ok = all(r["status"] == "online" and r["rate"] is not None for r in rs)
        net = sum(r["sign"] * r["rate"] for r in rs) if ok else None
        nets.append({"carrier": code, "rate": _r(net, 6), "rate_unit": rate_unit,
                     "complete": ok, "meters": [r["meter"] for r in rs]})
    return {
        **_node_info(b), "carrier": carrier, "timezone": tz.key,
        "now": query.local_iso(now_us, tz), "stale_after_intervals": STALE_INTERVALS,
        "meters": rows, "net": nets,
        "lineage": {
            "method": METHOD, "engine": f"nengtan {__version__}", "boundary": BOUNDARY_RULE,
            "source": "meter_tails (the last raw readings of each meter)",
            "power": "last interval value (carrier unit, multiplier applied) × 3600 / "
                     "interval seconds; for electricity in kW",
            "stale": f"age of the last reading > {STALE_INTERVALS} × the meter's interval",
            "net": "Σ sign × rate of online meters (in +, out −, generated +; renewable "
                   "power leaving the node counts as generated and as out: 0); null if any "
                   "meter is stale or without data",
        },
    }


def _latest(m: ed.FlowMeter, info: meter_specs.MeterInfo, tail, now_us: int, tz: ZoneInfo,
            ctx: Context) -> dict:
    electric = units.get_unit(m.unit).dimension == units.get_unit("kWh").dimension
    parts = [Member(m, role, use, sign) for role, use, sign in ed.contributions(m)]
    out = {"meter": m.code, "meter_id": m.id, "name_zh": m.name_zh, "name_en": m.name_en,
           "carrier": m.carrier, "role": m.role, "sign": sum(mb.direction for mb in parts),
           "contributions": [{"role": mb.role, "use": mb.use, "sign": mb.sign}
                             for mb in parts],
           "meter_unit": info.unit, "unit": m.unit, "register": info.spec.register,
           "interval_s": info.spec.interval_s, "multiplier": info.spec.multiplier,
           "last_reading": None, "last_value": None, "last_quality": None,
           "last_interval": None, "rate": None,
           "rate_unit": "kW" if electric else f"{m.unit}/h",
           "age_s": None, "status": "virtual" if info.is_virtual else "no_data",
           "status_text": None}
    if tail is not None and len(tail.ts):
        ts = np.asarray(tail.ts, np.int64)
        value = np.asarray(tail.value, np.float64)
        quality = np.asarray(tail.quality, np.int16)
        valid = np.flatnonzero(quality != Quality.REJECTED)
        if len(valid):
            i = int(valid[-1])
            age = (now_us - int(ts[i])) / US
            out.update({"last_reading": query.local_iso(int(ts[i]), tz),
                        "last_value": float(value[i]),
                        "last_quality": Quality(int(quality[i])).name.lower(),
                        "age_s": round(age, 3),
                        "status": ("stale" if age > STALE_INTERVALS * info.spec.interval_s
                                   else "online")})
            iv, _ = to_intervals(ts, value, quality, info.spec, info.events)
            if len(iv):
                s, e, v = int(iv.start[-1]), int(iv.end[-1]), float(iv.value[-1])
                seconds = (e - s) / US
                rate = v * 3600.0 / seconds if seconds > 0 else None
                if electric and rate is not None:
                    rate *= units.factor(m.unit, "kWh")
                out["last_interval"] = {"start": query.local_iso(s, tz),
                                        "end": query.local_iso(e, tz), "value": v,
                                        "unit": m.unit, "seconds": seconds,
                                        "gap": bool(iv.gap[-1])}
                out["rate"] = _r(rate, 6)
    out["status_text"] = both(f"eq.status.{out['status']}")
    return out


# -- 4. tracing ----------------------------------------------------------------------------
def trace(conn: Connection, node_id: int, *, period: str | None = None, start=None,
          end=None, carrier: str | None = None) -> dict:
    """From a figure down to the readings: the meters of the node+carrier+period figure with
    their period values, sign and role, multiplier and unit conversion, coefficient, the
    rollup rows summed, the ingestion batches of their readings and API links to the raw
    readings, interval values and rollups."""
    b = ed.boundary(conn, node_id)
    tz = timezone_of(conn, node_id)
    ctx = Context(conn, tz)
    _check_carrier(ctx, carrier)
    window = resolve_window(tz, "custom", period, start, end)
    order = {"in": 0, "generated": 1, "out": 2}
    mems = sorted(members(b, carrier), key=lambda mb: (mb.meter.carrier, order[mb.role],
                                                      mb.meter.code))
    vals = read_values(conn, [mb.meter for mb in mems], [window], "day", keep_rows=True)
    fig = figure(ctx, mems, vals, 0, window)
    infos = meter_specs.load(conn, list(dict.fromkeys(mb.id for mb in mems)))
    codes = dict(conn.execute(select(Node.id, Node.code).where(Node.id.in_(
        {x for mb in mems for x in (mb.meter.flow_from, mb.meter.flow_to) if x} or {-1}))).all())
    batches = _batches(conn, mems, infos, window)
    cperiod = ctx.coefs.period(window)
    rows, arithmetic = [], {}
    for mb in mems:
        m, info = mb.meter, infos[mb.id]
        has = bool(vals.has[m.id][0])
        q = float(vals.value[m.id][0]) if has else None
        cinfo = ctx.carriers[m.carrier]
        coef = (ctx.coefs.get(m.tenant_id, cperiod, m.carrier, cinfo.unit, mb.use)
                if cinfo.is_energy else None)
        # the readings of the intervals that touch the period's edges, one interval either side
        margin = 0 if info.is_virtual else info.spec.interval_s * US
        lo, hi_r = query.iso(window.start_us - margin), query.iso(window.end_us + margin)
        w0, hi = query.iso(window.start_us), query.iso(window.end_us)
        d0, d1 = window.start.isoformat(), window.end.isoformat()
        readings = None
        if not info.is_virtual:
            readings = f"/api/meters/{m.id}/readings?start={lo}&end={hi_r}"
            count = (window.end_us - window.start_us) // (info.spec.interval_s * US) + 3
            if count > 10_000:
                readings += f"&limit={min(count, query.MAX_RAW_ROWS)}"
        rows.append({
            "meter": m.code, "meter_id": m.id, "name_zh": m.name_zh, "name_en": m.name_en,
            "carrier": m.carrier, "role": mb.role, "boundary_role": m.role,
            "sign": mb.sign, "use": mb.use,
            "level": m.level, "tenant_id": m.tenant_id, "kind": info.kind,
            "flow_from": codes.get(m.flow_from), "flow_to": codes.get(m.flow_to),
            "quantity": _r(q), "unit": cinfo.unit,
            # the physical balance: feedstock is consumed although outside the tce total
            "signed_quantity": _r(mb.direction * q) if q is not None else None,
            "coverage": round(vals.coverage(m.id, 0), 6),
            "complete": has and vals.coverage(m.id, 0) >= COMPLETE,
            "flags": flag_names(int(vals.flags[m.id][0])),
            "conversion": ({"formula": info.formula.text if info.formula else None,
                            "operands": info.operand_ids} if info.is_virtual else {
                "register": info.spec.register, "meter_unit": info.unit,
                "carrier_unit": info.carrier_unit, "unit_factor": info.spec.unit_factor,
                "multiplier": info.spec.multiplier, "interval_s": info.spec.interval_s,
                "rule": query.METHOD[info.spec.register]}),
            "events": [{"ts": query.iso(e.ts_us), "kind": e.kind, "old_final": e.old_final,
                        "new_initial": e.new_initial, "new_multiplier": e.new_multiplier}
                       for e in info.events],
            "coefficient": ({"kgce_per_unit": coef.kgce_per_unit, "unit": cinfo.unit,
                             **coef.lineage} if coef else None),
            "tce": (_r(coef.sign * max(q, 0.0) * coef.kgce_per_unit / 1000.0)
                    if coef and q is not None else None),
            "rollups": vals.rows.get(m.id, [[]])[0],
            "batches": batches.get(m.id, []),
            "links": {
                "meter": f"/api/meters/{m.id}",
                "readings": readings,
                "intervals": f"/api/meters/{m.id}/intervals?start={w0}&end={hi}",
                "rollups_day": f"/api/meters/{m.id}/rollups?grain=day&start={d0}&end={d1}",
                "rollups_month": f"/api/meters/{m.id}/rollups?grain=month&start={d0}&end={d1}",
                "gaps": f"/api/meters/{m.id}/gaps?start={w0}&end={hi}",
                "revisions": f"/api/meters/{m.id}/revisions?start={lo}&end={hi}",
                "ingest_batches": "/api/ingest-batches",
            },
        })
        if q is not None:
            arithmetic.setdefault(m.carrier, []).append(
                f"{'+' if mb.direction > 0 else '−'} {_num(q)} ({m.code}, {mb.role})")
    for c in fig["carriers"]:
        terms = " ".join(arithmetic.get(c["carrier"], []))
        c["arithmetic"] = (f"{terms} = {_num(c['quantity'])} {c['unit']}"
                           if c["quantity"] is not None else None)
    node = _node_info(b)
    return {
        **node, "carrier": carrier, "timezone": tz.key, "period": window.as_dict(tz),
        "summary": _summary(node, fig), "figure": fig, "meters": rows,
        "steps": both("eq.trace.steps"),
        "lineage": _lineage(ctx, mems, read_source_name("day"), {
            "readings_window": "raw readings and batches from one meter interval before the "
                               "start to one after the end: the register differences of the "
                               "intervals touching the period's edges need them"}),
    }


def _num(x: float) -> str:
    return f"{x:.6f}".rstrip("0").rstrip(".")


def _batches(conn: Connection, mems: list[Member], infos, window: Bucket) -> dict[int, list]:
    """Per meter, the ingestion batches its readings in the window came from (one query)."""
    ids = list(dict.fromkeys(mb.id for mb in mems if not infos[mb.id].is_virtual))
    if not ids:
        return {}
    margin = max(infos[i].spec.interval_s for i in ids) * US
    rows = conn.execute(
        select(Reading.meter_id, Reading.batch_id, func.count().label("n"),
               func.min(Reading.ts).label("first"), func.max(Reading.ts).label("last"),
               IngestBatch.source, IngestBatch.source_detail, IngestBatch.received_at,
               IngestBatch.sha256)
        .join(IngestBatch, IngestBatch.id == Reading.batch_id)
        .where(Reading.tenant_id.in_(sorted({mb.tenant_id for mb in mems})),
               Reading.meter_id.in_(ids), Reading.ts >= from_us(window.start_us - margin),
               Reading.ts < from_us(window.end_us + margin))
        .group_by(Reading.meter_id, Reading.batch_id, IngestBatch.source,
                  IngestBatch.source_detail, IngestBatch.received_at, IngestBatch.sha256)
        .order_by(Reading.meter_id, Reading.batch_id)).all()
    out: dict[int, list] = {}
    for r in rows:
        out.setdefault(r.meter_id, []).append({
            "batch_id": r.batch_id, "readings": int(r.n), "first": query.iso(to_us(r.first)),
            "last": query.iso(to_us(r.last)), "source": r.source,
            "source_detail": r.source_detail, "received_at": query.iso(to_us(r.received_at)),
            "sha256": r.sha256})
    return out
