"""Energy of a node over a period, from its meters: boundary, quantities, coefficients, tce.

A node's consumption is what crosses the boundary of its subtree, read from the meters' flow
edges (``flow_from`` → ``flow_to``), so that nothing is counted twice however deep the
metering goes:

* ``in`` — flows into the subtree from outside it (or from outside the model: purchases);
* ``out`` — flows from the subtree to outside it (exports, supply to others), deducted;
* ``generated`` — renewable electricity produced inside the subtree and used there (rooftop
  PV): part of consumption, reported as renewable (GB/T 2589-2020 counts energy consumed; the
  renewable part is shown apart for control totals); renewable electricity leaving the
  subtree counts as generated and as supplied out (a PV plant nets to zero);
* ``internal`` — flows between nodes of the subtree (workshop sub-meters, steam from the
  boiler house, waste-heat power): not part of the node's consumption.

Quantities are sums of the meters' rollups (``rollup_month`` for whole months, ``rollup_day``
otherwise) in the carrier's unit, with their coverage.  Periods are local dates, end
exclusive.  Coefficients come from :func:`library_for`: the shipped GB/T 2589 library, user
parameters (``energy_parameters``) and measured calorific values of fuel deliveries;
:class:`Libraries` keeps them between requests under the exact content of those tables.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Connection, and_, or_, select

from nengtan import units
from nengtan.energy import gbt2589
from nengtan.energy.boundary import role as flow_role
from nengtan.energy.gbt2589 import Coefficient, EnergyInput, EqualValue, Library
from nengtan.errors import InputError, Issue, NotFound
from nengtan.reference import energy as reference_energy
from nengtan.store.models import Carrier, FuelDelivery, Meter, Node, RollupDay, RollupMonth
from nengtan.store.models.energy import EnergyParameter
from nengtan.timeseries.calendar import next_month

ROLES = ("in", "out", "generated", "internal")


# -- periods -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """Local dates [start, end); ``label`` as given ("2026-10", "2026", "2026-10-01/2026-10-08")."""

    start: date
    end: date
    label: str
    grain: str = "custom"  # day | month | quarter | year | custom

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def shifted(self, years: int = 0, months: int = 0) -> Period:
        """The same period ``years``/``months`` earlier (negative) or later."""
        def move(d: date) -> date:
            m = d.year * 12 + d.month - 1 + years * 12 + months
            y, mo = divmod(m, 12)
            day = min(d.day, _month_days(y, mo + 1))
            return date(y, mo + 1, day)
        start, end = move(self.start), move(self.end)
        return Period(start, end, _label(start, end, self.grain), self.grain)

    def previous(self) -> Period:
        """The period just before (month-on-month for a month, the year before for a year)."""
        if self.grain == "month":
            return self.shifted(months=-1)
        if self.grain == "quarter":
            return self.shifted(months=-3)
        if self.grain == "year":
            return self.shifted(years=-1)
        length = self.end - self.start
        return Period(self.start - length, self.start,
                      f"{self.start - length}/{self.start}", self.grain)

    def as_dict(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(),
                "label": self.label, "grain": self.grain}


def _month_days(y: int, m: int) -> int:
    nxt = date(y + (m == 12), m % 12 + 1, 1)
    return (nxt - date(y, m, 1)).days


def _label(start: date, end: date, grain: str) -> str:
    if grain == "month":
        return f"{start:%Y-%m}"
    if grain == "year":
        return f"{start:%Y}"
    if grain == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if grain == "day":
        return start.isoformat()
    return f"{start.isoformat()}/{end.isoformat()}"


def parse_period(text: str, field_name: str = "period") -> Period:
    """``2026``, ``2026-Q3``, ``2026-10``, ``2026-10-05`` or ``2026-10-01/2026-11-01``."""
    s = (text or "").strip()
    try:
        if re.fullmatch(r"\d{4}", s):
            y = int(s)
            return Period(date(y, 1, 1), date(y + 1, 1, 1), s, "year")
        if m := re.fullmatch(r"(\d{4})-[Qq]([1-4])", s):
            y, q = int(m[1]), int(m[2])
            start = date(y, 3 * q - 2, 1)
            end = date(y + 1, 1, 1) if q == 4 else date(y, 3 * q + 1, 1)
            return Period(start, end, f"{y}-Q{q}", "quarter")
        if re.fullmatch(r"\d{4}-\d{2}", s):
            start = date(int(s[:4]), int(s[5:]), 1)
            return Period(start, next_month(start), s, "month")
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
            d = date.fromisoformat(s)
            return Period(d, d + timedelta(days=1), s, "day")
        if "/" in s:
            a, b = (x.strip() for x in s.split("/", 1))
            start, end = date.fromisoformat(a), date.fromisoformat(b)
            if end > start:
                return Period(start, end, f"{start}/{end}", "custom")
    except ValueError:
        pass
    raise InputError([Issue("rule.energy_period", field=field_name, value=text)])


def month_periods(year: int) -> list[Period]:
    return [parse_period(f"{year}-{m:02d}") for m in range(1, 13)]


# -- the boundary --------------------------------------------------------------------------
@dataclass(frozen=True)
class FlowMeter:
    id: int
    code: str
    name_zh: str
    name_en: str | None
    tenant_id: int
    node_id: int
    carrier: str
    category: str
    unit: str  # the carrier's unit: what rollups hold
    is_energy: bool
    level: int
    kind: str
    energy_use: str
    flow_from: int | None
    flow_to: int | None
    role: str


@dataclass(frozen=True)
class Boundary:
    node_id: int
    code: str
    name_zh: str
    name_en: str | None
    kind: str
    tenant_id: int | None
    path: str
    subtree: frozenset[int]
    meters: tuple[FlowMeter, ...]

    def by_role(self, *roles: str, energy_only: bool = True) -> list[FlowMeter]:
        return [m for m in self.meters if m.role in roles and (m.is_energy or not energy_only)]


def node_row(conn: Connection, node_id: int):
    node = conn.execute(select(Node.id, Node.code, Node.name_zh, Node.name_en, Node.kind,
                               Node.tenant_id, Node.path).where(Node.id == node_id)).first()
    if node is None:
        raise NotFound("node", node_id)
    return node


def _meters_touching(conn: Connection, ids: list[int]) -> list:
    """Active meters with a flow edge from or to one of ``ids``, by code."""
    return conn.execute(
        select(Meter.id, Meter.code, Meter.name_zh, Meter.name_en, Meter.tenant_id,
               Meter.node_id, Meter.carrier_code, Meter.level, Meter.kind, Meter.energy_use,
               Meter.flow_from_node_id, Meter.flow_to_node_id, Carrier.unit, Carrier.category,
               Carrier.is_energy)
        .join(Carrier, Carrier.code == Meter.carrier_code)
        .where(Meter.active.is_(True),
               or_(Meter.flow_from_node_id.in_(ids), Meter.flow_to_node_id.in_(ids)))
        .order_by(Meter.code)).all()


def _boundary(node, subtree: frozenset[int], rows) -> Boundary:
    """The boundary of ``node`` (a row with id, code, names, kind, tenant_id, path) whose
    subtree is ``subtree``, from meter rows of :func:`_meters_touching` (a superset will do)."""
    meters = tuple(FlowMeter(
        id=r.id, code=r.code, name_zh=r.name_zh, name_en=r.name_en, tenant_id=r.tenant_id,
        node_id=r.node_id, carrier=r.carrier_code, category=r.category, unit=r.unit,
        is_energy=bool(r.is_energy), level=r.level, kind=r.kind, energy_use=r.energy_use,
        flow_from=r.flow_from_node_id, flow_to=r.flow_to_node_id,
        role=flow_role(r.flow_from_node_id, r.flow_to_node_id, subtree, r.category))
        for r in rows if r.flow_from_node_id in subtree or r.flow_to_node_id in subtree)
    return Boundary(node.id, node.code, node.name_zh, node.name_en, node.kind, node.tenant_id,
                    node.path, subtree, meters)


def boundary(conn: Connection, node_id: int) -> Boundary:
    """Meters with flow edges touching the subtree of ``node_id``, each with its role."""
    node = node_row(conn, node_id)
    subtree = frozenset(conn.execute(select(Node.id).where(Node.path.startswith(node.path)))
                        .scalars())
    return _boundary(node, subtree, _meters_touching(conn, list(subtree)))


def family(conn: Connection, node_id: int) -> tuple[Boundary, list[Boundary]]:
    """The boundary of ``node_id`` and of each of its direct children (by sort order, code),
    from one read of the subtree and of its meters: what a drill-down needs."""
    node = node_row(conn, node_id)
    rows = conn.execute(select(Node.id, Node.code, Node.name_zh, Node.name_en, Node.kind,
                               Node.tenant_id, Node.path, Node.parent_id)
                        .where(Node.path.startswith(node.path))
                        .order_by(Node.sort_order, Node.code)).all()
    subtree = frozenset(r.id for r in rows)
    meters = _meters_touching(conn, list(subtree))
    kids = [_boundary(k, frozenset(r.id for r in rows if r.path.startswith(k.path)), meters)
            for k in rows if k.parent_id == node_id]
    return _boundary(node, subtree, meters), kids


# -- period values from rollups ------------------------------------------------------------
@dataclass
class PeriodValue:
    """Sum over a period of one meter, carrier unit; coverage in seconds."""

    value: float = 0.0
    coverage_s: int = 0
    expected_s: int = 0
    flags: int = 0
    has_data: bool = False

    @property
    def coverage(self) -> float:
        return min(self.coverage_s / self.expected_s, 1.0) if self.expected_s else 0.0

    def add(self, value, coverage_s, expected_s, flags) -> None:
        if value is not None:
            self.value += float(value)
            self.has_data = True
        self.coverage_s += int(coverage_s or 0)
        self.expected_s += int(expected_s or 0)
        self.flags |= int(flags or 0)


def split_months(start: date, end: date) -> tuple[list[date], list[tuple[date, date]]]:
    """Whole months inside [start, end) and the leftover day ranges."""
    months, days = [], []
    cur = start
    while cur < end:
        if cur.day == 1 and next_month(cur) <= end:
            months.append(cur)
            cur = next_month(cur)
        else:
            stop = min(next_month(cur), end)
            days.append((cur, stop))
            cur = stop
    return months, days


def period_values(conn: Connection, meters, start: date, end: date) -> dict[int, PeriodValue]:
    """Per meter id, the sum of its rollups over local dates [start, end).

    ``meters``: objects with ``id`` and ``tenant_id`` (FlowMeter) or (id, tenant_id) pairs.
    Periods with no rollup row count as expected time with no coverage (a gap, not zero).
    """
    pairs = [(m.id, m.tenant_id) if hasattr(m, "id") else (int(m[0]), int(m[1])) for m in meters]
    out = {mid: PeriodValue() for mid, _ in pairs}
    if not pairs:
        return out
    ids = [p[0] for p in pairs]
    tenants = sorted({p[1] for p in pairs})
    months, days = split_months(start, end)
    if months:
        for r in conn.execute(select(RollupMonth.meter_id, RollupMonth.value,
                                     RollupMonth.coverage_s, RollupMonth.expected_s,
                                     RollupMonth.flags)
                              .where(RollupMonth.tenant_id.in_(tenants),
                                     RollupMonth.meter_id.in_(ids),
                                     RollupMonth.month.in_(months))):
            out[r.meter_id].add(r.value, r.coverage_s, r.expected_s, r.flags)
    if days:
        cond = or_(*[and_(RollupDay.day >= a, RollupDay.day < b) for a, b in days])
        for r in conn.execute(select(RollupDay.meter_id, RollupDay.value, RollupDay.coverage_s,
                                     RollupDay.expected_s, RollupDay.flags)
                              .where(RollupDay.tenant_id.in_(tenants),
                                     RollupDay.meter_id.in_(ids), cond)):
            out[r.meter_id].add(r.value, r.coverage_s, r.expected_s, r.flags)
    full = (end - start).days * 86400
    for pv in out.values():
        # a missing rollup row is expected time without data
        pv.expected_s = max(pv.expected_s, full)
    return out


def period_series(conn: Connection, meters, start: date, end: date,
                  grain: str) -> dict[int, dict[date, PeriodValue]]:
    """Per meter id, per day or month start, the rollup values in [start, end)."""
    pairs = [(m.id, m.tenant_id) if hasattr(m, "id") else (int(m[0]), int(m[1])) for m in meters]
    ids = [p[0] for p in pairs]
    tenants = sorted({p[1] for p in pairs})
    out: dict[int, dict[date, PeriodValue]] = {mid: {} for mid in ids}
    if not ids:
        return out
    model, key = (RollupMonth, RollupMonth.month) if grain == "month" else (RollupDay, RollupDay.day)
    for r in conn.execute(select(model.meter_id, key.label("k"), model.value, model.coverage_s,
                                 model.expected_s, model.flags)
                          .where(model.tenant_id.in_(tenants), model.meter_id.in_(ids),
                                 key >= start, key < end)):
        pv = out[r.meter_id].setdefault(r.k, PeriodValue())
        pv.add(r.value, r.coverage_s, r.expected_s, r.flags)
    return out


# -- coefficients --------------------------------------------------------------------------
def _catalogue(conn: Connection) -> list[dict]:
    return [{"code": c.code, "category": c.category, "is_energy": c.is_energy,
             "gbt2589_code": c.gbt2589_code}
            for c in conn.execute(select(Carrier.code, Carrier.category, Carrier.is_energy,
                                         Carrier.gbt2589_code))]


def _parameters(conn: Connection, tenant_id: int | None, on: date) -> list:
    """Parameters valid on ``on`` for the tenant (or global); the latest recorded first."""
    q = select(EnergyParameter.__table__).where(
        EnergyParameter.valid_from <= on,
        or_(EnergyParameter.valid_to.is_(None), EnergyParameter.valid_to > on),
        or_(EnergyParameter.tenant_id.is_(None), EnergyParameter.tenant_id == tenant_id))
    rows = list(conn.execute(q))
    # tenant values before global ones, then the latest recorded
    rows.sort(key=lambda p: (p.tenant_id is None, -p.created_at.timestamp(), -p.id))
    return rows


def parameter_lineage(p) -> str:
    return f"energy_parameter:{p.id}"


def library_for(conn: Connection, tenant_id: int | None, start: date, end: date,
                use_measured: bool = True) -> Library:
    """Coefficients for a tenant and period, in this order of precedence:

    1. measured NCV of the fuel deliveries of the tenant in the period (quantity-weighted
       mean, GB/T 2589-2020 4.3), with the lab records as evidence;
    2. the tenant's (or a global) ``coefficient``/``ncv`` parameter valid at ``start``;
    3. the shipped library (GB/T 2589 Annex A, guideline default NCVs).
    Equal value: the parameter valid at ``start``, else the shipped table for the year.
    """
    coefficients, categories = reference_energy.shipped_coefficients(_catalogue(conn))
    library = Library(coefficients, categories, reference_energy.equal_value(start.year))
    carrier_units = dict(conn.execute(select(Carrier.code, Carrier.unit)).all())
    seen: set[str] = set()
    for p in _parameters(conn, tenant_id, start):
        key = p.kind if p.kind == "equal_value" else f"{p.kind}:{p.carrier_code}"
        if p.kind == "equal_value":
            if "equal_value" in seen:
                continue
            seen.add("equal_value")
            library = library.with_equal_value(EqualValue(
                p.value, start.year, p.source, p.status))
            continue
        if p.carrier_code in seen or key in seen:
            continue
        seen.add(p.carrier_code)
        unit = p.unit.split("/", 1)[1].strip() if "/" in p.unit else carrier_units[p.carrier_code]
        base = library.coefficient(p.carrier_code)
        if p.kind == "ncv":
            num = p.unit.split("/", 1)[0].strip() if "/" in p.unit else "MJ"
            ncv = p.value * units.factor(num, "MJ")
            coef = gbt2589.measured(base, p.carrier_code, unit, ncv, (parameter_lineage(p),),
                                    source=p.source)
            coef = Coefficient(coef.carrier, coef.unit, coef.kgce_per_unit, "user_ncv",
                               p.source, p.status, ncv, coef.evidence, coef.note)
        else:
            coef = Coefficient(p.carrier_code, unit, p.value, "user", p.source, p.status,
                               evidence=(parameter_lineage(p),),
                               note=(f"replaces {base.kgce_per_unit:g} kgce/{base.unit}"
                                     if base else None))
        library = library.with_coefficient(coef)
    if use_measured and tenant_id is not None:
        for coef in measured_coefficients(conn, tenant_id, start, end, library, carrier_units):
            library = library.with_coefficient(coef)
    return library


def measured_coefficients(conn: Connection, tenant_id: int, start: date, end: date,
                          library: Library, carrier_units: dict[str, str]) -> list[Coefficient]:
    """One coefficient per carrier from the lab NCVs of deliveries in [start, end)."""
    rows = conn.execute(select(
        FuelDelivery.id, FuelDelivery.carrier_code, FuelDelivery.quantity, FuelDelivery.unit,
        FuelDelivery.ncv_mj_per_unit, FuelDelivery.lab, FuelDelivery.report_no).where(
        FuelDelivery.tenant_id == tenant_id, FuelDelivery.delivered_on >= start,
        FuelDelivery.delivered_on < end, FuelDelivery.ncv_mj_per_unit.is_not(None))
        .order_by(FuelDelivery.delivered_on, FuelDelivery.id)).all()
    groups: dict[str, list] = defaultdict(list)
    for d in rows:
        groups[d.carrier_code].append(d)
    out = []
    for carrier, lots in groups.items():
        unit = carrier_units.get(carrier)
        if unit is None or not library.knows(carrier):
            continue
        qty = energy = 0.0
        for d in lots:
            q = d.quantity * units.quantity_factor(d.unit, unit)
            qty += q
            energy += q * d.ncv_mj_per_unit / units.quantity_factor(d.unit, unit)
        if qty <= 0:
            continue
        ncv = energy / qty
        evidence = tuple(f"fuel_delivery:{d.id}" + (f" ({d.lab} {d.report_no})" if d.report_no else "")
                         for d in lots)
        coef = gbt2589.measured(library.coefficient(carrier), carrier, unit, ncv, evidence,
                                source=f"quantity-weighted NCV of {len(lots)} lab-analysed "
                                       f"deliveries {start}..{end - timedelta(days=1)}")
        out.append(coef)
    return out


# -- kept libraries ------------------------------------------------------------------------
def library_inputs_digest(conn: Connection, tenant_id: int | None) -> str:
    """SHA-256 of everything :func:`library_for` reads for a tenant, whatever the period: the
    carrier catalogue, the tenant's and the global energy parameters, and the tenant's fuel
    deliveries with a measured calorific value.  The shipped reference tables belong to the
    installed package and do not change while it runs."""
    h = hashlib.sha256()
    queries = [
        select(Carrier.code, Carrier.category, Carrier.is_energy, Carrier.gbt2589_code,
               Carrier.unit).order_by(Carrier.code),
        select(EnergyParameter.__table__).where(or_(
            EnergyParameter.tenant_id.is_(None), EnergyParameter.tenant_id == tenant_id))
        .order_by(EnergyParameter.id),
    ]
    if tenant_id is not None:
        queries.append(select(
            FuelDelivery.id, FuelDelivery.carrier_code, FuelDelivery.delivered_on,
            FuelDelivery.quantity, FuelDelivery.unit, FuelDelivery.ncv_mj_per_unit,
            FuelDelivery.lab, FuelDelivery.report_no)
            .where(FuelDelivery.tenant_id == tenant_id,
                   FuelDelivery.ncv_mj_per_unit.is_not(None)).order_by(FuelDelivery.id))
    for q in queries:
        for row in conn.execute(q):
            h.update(repr(tuple(row)).encode("utf-8"))
        h.update(b"\x1e")
    return h.hexdigest()


#: Libraries kept between requests: (database, tenant) → (digest of their inputs,
#: {(start, end): Library}); the least recently used tenants go beyond ``_KEPT_TENANTS``,
#: a tenant's periods are dropped together beyond ``_KEPT_PERIODS``.
_KEPT: OrderedDict = OrderedDict()
_KEPT_TENANTS = 256
_KEPT_PERIODS = 512
_KEPT_LOCK = threading.Lock()


class Libraries:
    """The coefficient libraries of one request (or one calculation), per tenant and period.

    Building a library takes four queries and the assembly of every coefficient; a request
    of the energy query or the dashboard needs one per tenant and month.  They are kept
    between requests under the exact content of their inputs
    (:func:`library_inputs_digest`, read once per tenant by this object): a new parameter,
    delivery or carrier changes the digest and the tenant's libraries are built again, so a
    kept library is never older than the data it comes from.  Make one per request: the
    digest it reads is not read again."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self._kept: dict[int | None, dict] = {}

    def _for_tenant(self, tenant_id: int | None) -> dict:
        found = self._kept.get(tenant_id)
        if found is not None:
            return found
        key = (str(self.conn.engine.url), tenant_id)
        digest = library_inputs_digest(self.conn, tenant_id)
        with _KEPT_LOCK:
            kept = _KEPT.get(key)
            if kept is None or kept[0] != digest:
                kept = _KEPT[key] = (digest, {})
            _KEPT.move_to_end(key)
            while len(_KEPT) > _KEPT_TENANTS:
                _KEPT.popitem(last=False)
            if len(kept[1]) > _KEPT_PERIODS:
                kept[1].clear()
        self._kept[tenant_id] = kept[1]
        return kept[1]

    def get(self, tenant_id: int | None, start: date, end: date) -> Library:
        """:func:`library_for` the tenant and [start, end), kept."""
        periods = self._for_tenant(tenant_id)
        lib = periods.get((start, end))
        if lib is None:
            lib = periods[(start, end)] = library_for(self.conn, tenant_id, start, end)
        return lib


# -- node energy ---------------------------------------------------------------------------
@dataclass
class CarrierFlow:
    carrier: str
    role: str
    unit: str
    quantity: float = 0.0
    coverage: float = 1.0
    meters: list[dict] = field(default_factory=list)


@dataclass
class NodeEnergy:
    boundary: Boundary
    period: Period
    flows: list[CarrierFlow]
    totals: gbt2589.EnergyTotals
    #: The coefficients used, per tenant whose meters are on the boundary.
    libraries: dict[int, Library]

    @property
    def coverage(self) -> float:
        return min((f.coverage for f in self.flows), default=1.0)

    def as_dict(self) -> dict:
        b = self.boundary
        t = self.totals.as_dict()
        rows = t.pop("rows")
        lineage = t.pop("lineage")
        lineage["boundary"] = ("meters whose flow edge crosses the subtree boundary: in − out "
                               "+ renewable generated inside; internal flows not counted")
        return {
            "node": b.code, "node_id": b.node_id, "name_zh": b.name_zh, "name_en": b.name_en,
            "period": self.period.as_dict(), **t, "coverage": round(self.coverage, 6),
            "complete": self.coverage >= 0.999,
            "carriers": [{"carrier": f.carrier, "role": f.role, "quantity": f.quantity,
                          "unit": f.unit, "coverage": round(f.coverage, 6), **_row_part(r),
                          "meters": f.meters} for f, r in zip(self.flows, rows)],
            "lineage": lineage,
        }


def _row_part(row: dict) -> dict:
    return {k: row[k] for k in ("use", "category", "tce", "tce_equal_value", "sign",
                                "coefficient_kgce_per_unit", "coefficient")}


def contributions(m: FlowMeter) -> list[tuple[str, str, int]]:
    """How a boundary meter's quantity counts in its node's figure: ``(role, use, sign)``
    entries, ``use`` as in :data:`gbt2589.USES` and ``sign`` +1 counted, −1 deducted, 0 apart.

    * ``in`` → fuel (+1), or feedstock (0) for a meter with ``energy_use = feedstock``;
    * ``generated`` → fuel (+1), reported as renewable;
    * ``out`` → export (−1); renewable electricity leaving the subtree was generated inside it,
      so it also counts as generated (+1): a PV plant, or a site exporting its PV surplus, nets
      to its own use instead of going negative;
    * ``internal`` → nothing.
    """
    if m.role == "in":
        return [("in", "feedstock", 0) if m.energy_use == "feedstock" else ("in", "fuel", 1)]
    if m.role == "generated":
        return [("generated", "fuel", 1)]
    if m.role == "out":
        if m.category == "renewable_electricity":
            return [("generated", "fuel", 1), ("out", "export", -1)]
        return [("out", "export", -1)]
    return []


def node_energy(conn: Connection, node_id: int, period: Period,
                libraries: dict[int, Library] | None = None,
                bound: Boundary | None = None, kept: Libraries | None = None) -> NodeEnergy:
    """Comprehensive energy consumption of a node over a period, from its boundary meters.

    Each meter's quantity is converted with the coefficients of the meter's own tenant (a park
    total uses each enterprise's measured calorific values), and flows are grouped per
    (carrier, role, use, tenant).
    """
    b = bound or boundary(conn, node_id)
    libraries = dict(libraries or {})
    kept = kept or Libraries(conn)
    for tenant in sorted({m.tenant_id for m in b.meters}):
        if tenant not in libraries:
            libraries[tenant] = kept.get(tenant, period.start, period.end)
    meters = [m for m in b.by_role("in", "out", "generated")
              if libraries[m.tenant_id].knows(m.carrier)]
    values = period_values(conn, meters, period.start, period.end)
    groups: dict[tuple, CarrierFlow] = {}
    for m in meters:
        pv = values[m.id]
        for role, use_, _sign in contributions(m):
            key = (m.carrier, role, use_, m.tenant_id)
            flow = groups.setdefault(key, CarrierFlow(m.carrier, role, m.unit))
            flow.quantity += pv.value
            flow.coverage = min(flow.coverage, pv.coverage)
            flow.meters.append({"meter": m.code, "meter_id": m.id, "quantity": pv.value,
                                "coverage": round(pv.coverage, 6), "level": m.level})
    parts = []
    for tenant in sorted({k[3] for k in groups}):
        keys = [k for k in groups if k[3] == tenant]
        inputs = [EnergyInput(k[0], max(groups[k].quantity, 0.0), groups[k].unit, use=k[2],
                              label=", ".join(x["meter"] for x in groups[k].meters))
                  for k in keys]
        parts.append((keys, gbt2589.convert(inputs, libraries[tenant])))
    flows = [groups[k] for keys, _ in parts for k in keys]
    totals = merge_totals([t for _, t in parts],
                          next(iter(libraries.values())).equal_value if libraries else None)
    return NodeEnergy(b, period, flows, totals, libraries)


def merge_totals(parts: list[gbt2589.EnergyTotals], equal_value=None) -> gbt2589.EnergyTotals:
    """One EnergyTotals from several (rows concatenated, figures summed)."""
    def total(name):
        return sum(getattr(p, name) for p in parts)
    return gbt2589.EnergyTotals(
        total("total_tce"), total("total_tce_equal_value"), total("feedstock_tce"),
        total("export_tce"), total("renewable_tce"), total("control_total_tce"),
        [r for p in parts for r in p.rows], parts[0].equal_value if parts else equal_value)
