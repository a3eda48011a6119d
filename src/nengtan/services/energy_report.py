"""The data of the monthly and annual energy report of a node (park, enterprise, site ...).

:func:`assemble` reads everything a report shows, in figures that name their units and carry
their lineage; :mod:`nengtan.reports.energy` turns it into a document in one language, and the
renderers into Excel or PDF.  Every figure comes from the energy services or the GB/T 2589
engine, never from a formula of its own:

* comprehensive energy consumption (综合能耗, GB/T 2589-2020 clause 4) of the node, the
  previous period (环比) and the same period a year before (同比):
  :func:`nengtan.services.energy_data.node_energy`;
* unit-product consumption (clause 4.4) and energy per 10^4 CNY (clause 4.5):
  :func:`nengtan.services.energy_totals.intensity`;
* the same totals for each child node; a daily (monthly report) or monthly (annual report)
  trend: the boundary meters' day or month rollups converted by
  :func:`nengtan.energy.gbt2589.convert` with the period's coefficients; the structure by
  carrier;
* optional sections, each from its own service when that service is installed: cost
  (time-of-use tariffs), energy balance and losses, benchmark comparison, recommendations,
  equipment efficiency.  A section whose service fails is left out and named in ``skipped``
  with the reason, never silently.

Changes (同比/环比) are given in percent only when the base period's data is complete and its
value non-zero, as :func:`nengtan.services.energy_totals.node_totals` does.
"""

from __future__ import annotations

import importlib
import logging
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from nengtan import __version__
from nengtan.config import get_settings
from nengtan.energy import gbt2589
from nengtan.errors import InputError, Issue, NotFound
from nengtan.services import energy_data, energy_totals
from nengtan.services.energy_data import Boundary, NodeEnergy, Period
from nengtan.store.models import Carrier, Node
from nengtan.timeseries.calendar import next_month

log = logging.getLogger(__name__)

METHOD = "nengtan energy report 1 (GB/T 2589-2020 totals; energy_totals intensity)"
COMPLETE = 0.999


def report_period(text: str, field_name: str = "period") -> Period:
    """A month (``2026-10``) or a year (``2026``); anything else is an input error."""
    s = (text or "").strip()
    if not re.fullmatch(r"\d{4}(-(0[1-9]|1[0-2]))?", s):
        raise InputError([Issue("rule.report_period", field=field_name, value=text)])
    return energy_data.parse_period(s, field_name)


def node_id_of(conn: Connection, code: str) -> int:
    """The id of the node with ``code`` (NotFound otherwise)."""
    nid = conn.execute(select(Node.id).where(Node.code == code)).scalar()
    if nid is None:
        raise NotFound("node", code)
    return int(nid)


# -- helpers -------------------------------------------------------------------------------
def _pct(current: float | None, base: float | None, complete: bool = True) -> float | None:
    """Change in percent, None when the base is missing, zero or incomplete."""
    if current is None or base is None or not complete or abs(base) < 1e-12:
        return None
    return (current - base) / abs(base) * 100.0


def _timezone(conn: Connection, node_path: str) -> str:
    ids = [int(x) for x in node_path.strip("/").split("/") if x]
    zones = dict(conn.execute(select(Node.id, Node.timezone).where(Node.id.in_(ids))).all())
    for nid in reversed(ids):
        if zones.get(nid):
            return zones[nid]
    return get_settings().timezone


def _totals(ne: NodeEnergy) -> dict:
    t = ne.totals
    return {"total_tce": t.total_tce, "total_tce_equal_value": t.total_tce_equal_value,
            "feedstock_tce": t.feedstock_tce, "export_tce": t.export_tce,
            "renewable_tce": t.renewable_tce, "control_total_tce": t.control_total_tce,
            "unit": "tce", "coverage": round(ne.coverage, 6),
            "complete": ne.coverage >= COMPLETE, "period": ne.period.as_dict()}


class _Libraries:
    """Coefficients per (period, tenant), shared by every node_energy call of one report."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.cache: dict[tuple, dict[int, gbt2589.Library]] = {}

    def node_energy(self, node_id: int, period: Period,
                    bound: Boundary | None = None) -> NodeEnergy:
        libs = self.cache.setdefault((period.start, period.end), {})
        ne = energy_data.node_energy(self.conn, node_id, period, libraries=libs, bound=bound)
        libs.update(ne.libraries)
        return ne


# -- sections ------------------------------------------------------------------------------
def _carriers(conn: Connection, ne: NodeEnergy) -> list[dict]:
    """One row per carrier and use (tenants merged): quantity, tce (both methods), share."""
    names = {r.code: (r.name_zh, r.name_en) for r in
             conn.execute(select(Carrier.code, Carrier.name_zh, Carrier.name_en))}
    total = ne.totals.total_tce
    groups: dict[tuple, dict] = {}
    for flow, row in zip(ne.flows, ne.totals.rows):
        key = (row.input.carrier, row.input.use)
        g = groups.setdefault(key, {
            "carrier": row.input.carrier, "name_zh": names.get(row.input.carrier, ("", ""))[0],
            "name_en": names.get(row.input.carrier, ("", ""))[1], "category": row.category,
            "use": row.input.use, "role": flow.role, "quantity": 0.0, "unit": row.input.unit,
            "tce": 0.0, "tce_equal_value": 0.0, "sign": row.sign, "coverage": 1.0,
            "meters": [], "coefficients": []})
        g["quantity"] += row.input.quantity
        g["tce"] += row.tce
        g["tce_equal_value"] += row.tce_equal_value
        g["coverage"] = min(g["coverage"], flow.coverage)
        g["meters"] += [m["meter"] for m in flow.meters]
        lin = row.coefficient.lineage()
        if lin not in g["coefficients"]:
            g["coefficients"].append(lin)
    out = sorted(groups.values(), key=lambda g: (-g["sign"], -g["tce"]))
    for g in out:
        g["kgce_per_unit"] = g["tce"] * 1000.0 / g["quantity"] if g["quantity"] else None
        g["share"] = g["sign"] * g["tce"] / total if total else None
        g["coverage"] = round(g["coverage"], 6)
    return out


def _structure(carriers: list[dict]) -> list[dict]:
    """Consumption by carrier (fuel, generated renewable): the pie of the report."""
    by: dict[str, dict] = {}
    for c in carriers:
        if c["sign"] <= 0:
            continue
        s = by.setdefault(c["carrier"], {k: c[k] for k in ("carrier", "name_zh", "name_en",
                                                           "category")} | {"tce": 0.0})
        s["tce"] += c["tce"]
    total = sum(s["tce"] for s in by.values())
    out = sorted(by.values(), key=lambda s: -s["tce"])
    for s in out:
        s["share"] = s["tce"] / total if total else None
    return out


def _trend(conn: Connection, ne: NodeEnergy, grain: str) -> list[dict]:
    """tce per day (or month) of the period on the period's coefficients, by carrier.

    Grouping and signs as :func:`energy_data.node_energy`, so the points add up to the
    period's total (a month's point in an annual report uses the year's measured calorific
    values, hence may differ slightly from that month's own report).
    """
    period, b = ne.period, ne.boundary
    libs = ne.libraries
    meters = [m for m in b.by_role("in", "out", "generated") if libs[m.tenant_id].knows(m.carrier)]
    series = energy_data.period_series(conn, meters, period.start, period.end, grain)
    keys = []
    cur = period.start
    while cur < period.end:
        keys.append(cur)
        cur = (next_month(cur) if grain == "month"
               else date.fromordinal(cur.toordinal() + 1))
    points = []
    for k in keys:
        groups: dict[tuple, float] = defaultdict(float)
        units: dict[tuple, str] = {}
        coverage, has_data = 1.0, False
        for m in meters:
            pv = series[m.id].get(k)
            for _role, use, _sign in energy_data.contributions(m):
                key = (m.tenant_id, m.carrier, use)
                units[key] = m.unit
                if pv is not None:
                    groups[key] += pv.value
            if pv is None:
                coverage = 0.0
                continue
            has_data = has_data or pv.has_data
            coverage = min(coverage, pv.coverage)
        by_carrier: dict[str, float] = defaultdict(float)
        total = total_eq = 0.0
        for tenant in sorted({key[0] for key in units}):
            inputs = [gbt2589.EnergyInput(c, max(groups[(t, c, u)], 0.0), units[(t, c, u)], use=u)
                      for (t, c, u) in units if t == tenant]
            totals = gbt2589.convert(inputs, libs[tenant])
            total += totals.total_tce
            total_eq += totals.total_tce_equal_value
            for carrier, tce in totals.by_carrier().items():
                by_carrier[carrier] += tce
        points.append({"start": k.isoformat(),
                       "label": f"{k:%Y-%m}" if grain == "month" else f"{k:%m-%d}",
                       "total_tce": total if has_data else None,
                       "total_tce_equal_value": total_eq if has_data else None,
                       "by_carrier": dict(by_carrier) if has_data else {},
                       "coverage": round(coverage, 6)})
    return points


def _report_children(conn: Connection, node_id: int) -> tuple[int, list]:
    """The children to tabulate: those of the node, or of its only child (an enterprise with
    one site shows the site's workshops)."""
    parent = node_id
    for _ in range(4):
        rows = conn.execute(select(Node.id, Node.code, Node.name_zh, Node.name_en, Node.kind)
                            .where(Node.parent_id == parent, Node.active.is_(True))
                            .order_by(Node.sort_order, Node.code)).all()
        if len(rows) != 1:
            return parent, rows
        parent = rows[0].id
    return parent, rows


def _children(conn: Connection, libs: _Libraries, node_id: int, period: Period,
              year_before: Period, total_tce: float) -> dict:
    parent, rows = _report_children(conn, node_id)
    out = []
    for r in rows:
        b = energy_data.boundary(conn, r.id)
        if not b.by_role("in", "out", "generated"):
            continue  # nothing metered across its boundary: no figure to show
        cur = libs.node_energy(r.id, period, bound=b)
        before = libs.node_energy(r.id, year_before, bound=b)
        item = {"node": r.code, "node_id": r.id, "name_zh": r.name_zh, "name_en": r.name_en,
                "kind": r.kind, **{k: v for k, v in _totals(cur).items() if k != "period"},
                "share": cur.totals.total_tce / total_tce if total_tce else None,
                "year_before_tce": before.totals.total_tce if before.coverage > 0 else None,
                "year_before_complete": before.coverage >= COMPLETE,
                "yoy_pct": _pct(cur.totals.total_tce, before.totals.total_tce,
                                before.coverage >= COMPLETE),
                "products": []}
        if energy_totals.production(conn, r.id, period):
            # unit-product consumption (GB/T 2589-2020 4.4) where the child makes one product
            for p in energy_totals.intensity(conn, r.id, period)["products"]:
                item["products"].append({k: p.get(k) for k in (
                    "product", "name_zh", "name_en", "output", "unit", "kgce_per_unit",
                    "intensity_unit")})
        out.append(item)
    parent_code = conn.execute(select(Node.code).where(Node.id == parent)).scalar()
    accounted = sum(c["total_tce"] for c in out)
    return {"parent": parent_code, "items": out, "sum_tce": accounted,
            "remainder_tce": total_tce - accounted,
            "lineage": "each child's own boundary (GB/T 2589 totals); remainder = node total − "
                       "Σ children: energy used at the node itself outside its children, or "
                       "flows between children not metered on both sides"}


# -- optional sections ---------------------------------------------------------------------
def _optional_sections(conn: Connection, node_id: int, period: Period,
                       wanted: set[str] | None, timings: dict) -> tuple[dict, list[dict]]:
    sections, skipped = {}, []
    for key, module, adapter in OPTIONAL:
        t0 = time.perf_counter()
        if wanted is not None and key not in wanted:
            continue
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue  # the capability is not installed: no section, nothing to report
        try:
            data = adapter(conn, mod, node_id, period)
        except (InputError, NotFound, LookupError, ValueError, TypeError, AttributeError,
                ZeroDivisionError) as exc:
            log.warning("energy report: section %s left out: %r", key, exc)
            skipped.append({"section": key, "reason": f"{exc.__class__.__name__}: {exc}"[:300]})
            continue
        finally:
            timings[key] = round(time.perf_counter() - t0, 4)
        if data:
            sections[key] = data
    return sections, skipped


def _cost(conn: Connection, mod, node_id: int, period: Period) -> dict | None:
    """Energy cost with time-of-use tariffs (``energy_analysis.cost``), without per-meter
    detail: totals, electricity by price band, carriers priced or not, months."""
    c = mod.cost(conn, node_id, period)
    if not any(x["status"] != "no_price" for x in c["carriers"]):
        return None  # no tariff on any boundary meter: nothing to cost
    elec = c["electricity"]
    return {
        "currency": c.get("currency", "CNY"), "totals": c["totals"],
        "electricity": {k: elec.get(k) for k in (
            "quantity_kwh", "energy_cny", "bands", "peak_sharp_share_pct",
            "average_price_cny_per_kwh", "all_in_price_cny_per_kwh", "demand_kw",
            "demand_charge_cny", "meters")},
        "carriers": [{k: x.get(k) for k in ("carrier", "unit", "priced_quantity", "energy_cny",
                                             "average_price_cny_per_unit", "status",
                                             "priced_meters", "no_price_meters")}
                     for x in c["carriers"]],
        "no_price": [{"carrier": x["carrier"], "meter": x["meter"],
                      "reason_en": (x.get("reason") or {}).get("message"),
                      "reason_zh": (x.get("reason") or {}).get("message_zh")}
                     for x in c["no_price"]],
        "capacity_note": None if c["capacity"].get("computed") else {
            "en": (c["capacity"].get("reason") or {}).get("message"),
            "zh": (c["capacity"].get("reason") or {}).get("message_zh")},
        "months": c["months"] if period.grain == "year" else [],
        "lineage": c["lineage"],
    }


def _efficiency(conn: Connection, mod, node_id: int, period: Period) -> dict | None:
    """Equipment efficiency indicators defined in the node's subtree
    (``efficiency_indicators.values``): value, grade against the standard, target."""
    from sqlalchemy.orm import Session

    path = energy_data.node_row(conn, node_id).path
    with Session(bind=conn) as session:
        indicators = list(session.scalars(mod.list_query(subtree_path=path)))
        items = []
        for ind in indicators:
            v = mod.values(conn, ind, period)
            node_code = conn.execute(select(Node.code).where(Node.id == ind.node_id)).scalar()
            items.append({
                "code": ind.code, "name_zh": ind.name_zh, "name_en": ind.name_en,
                "node": node_code, "kind": ind.kind, "kind_label": v["indicator"]["kind_label"],
                "value": v["value"], "unit": v["unit"], "status": v["status"],
                "coverage": v["coverage"], "complete": v["complete"],
                "grade": v["grade"], "target": v["target"], "summary": v["summary"],
                "formula": (v.get("lineage") or {}).get("formula")})
    return {"items": items} if items else None


def _balance(conn: Connection, mod, node_id: int, period: Period) -> dict | None:
    """Energy balance (GB/T 3484 / GB/T 28751 stages, ``energy_flow.balance``): supplied,
    effective, losses and utilisation per stage and per conversion unit; identity checks; the
    reconciliation with the comprehensive energy consumption."""
    b = mod.balance(conn, node_id, period)
    stages = []
    for key, st in b["stages"].items():
        stages.append({"stage": key, "name_zh": st.get("name_zh"), "name_en": st.get("name_en"),
                       **{k: st.get(k) for k in ("supplied_tce", "effective_tce", "losses_tce",
                                                 "utilisation")}})
    units = [{k: u.get(k) for k in ("node", "name_zh", "name_en", "kind", "supplied_tce",
                                    "effective_tce", "losses_tce", "utilisation")}
             for u in (b["stages"].get("conversion") or {}).get("units", [])]
    checks = b.get("checks") or []
    rec = b.get("reconciliation") or {}
    return {
        "unit": "tce", "stages": stages, "conversion_units": units, "overall": b["overall"],
        "checks": {"count": len(checks), "failed": [c for c in checks if not c.get("ok")]},
        "notes": [{"zh": n.get("message_zh"), "en": n.get("message_en"),
                   "severity": n.get("severity")} for n in b.get("notes") or []],
        "reconciliation": {k: rec.get(k) for k in ("node_energy_total_tce", "balance_total_tce",
                                                   "difference_tce", "statement")},
        "missing_coefficients": b.get("missing_coefficients"), "coverage": b.get("coverage"),
        "complete": b.get("complete"),
        "lineage": {k: v for k, v in (b.get("lineage") or {}).items() if k != "meters"},
    }


def _benchmarking(conn: Connection, mod, node_id: int, period: Period) -> dict | None:
    """Product lines against their linked benchmark entries (``benchmarking.node_comparisons``):
    for a park, each of its enterprises; otherwise the node itself."""
    node = energy_data.node_row(conn, node_id)
    targets = [node_id]
    if node.kind == "park":
        targets = list(conn.execute(
            select(Node.id).where(Node.path.startswith(node.path), Node.kind == "enterprise")
            .order_by(Node.sort_order, Node.code)).scalars())
    lines, unlinked, method = [], [], None
    for nid in targets:
        res = mod.node_comparisons(conn, nid, period)
        unlinked += [{"node": res["node"], "product": p} for p in res["unlinked"]]
        for line in res["products"]:
            method = method or line["lineage"].get("method")
            for c in line["comparisons"]:
                lines.append({
                    "node": line["node"], "name_zh": line["name_zh"], "name_en": line["name_en"],
                    "product": line["product"], "product_name_zh": line["product_name_zh"],
                    "product_name_en": line["product_name_en"],
                    "actual": line["actual"]["value"], "unit": line["actual"]["unit"],
                    "output": line["actual"]["output"],
                    "output_unit": line["actual"]["output_unit"],
                    "reason": line["actual"].get("reason"),
                    **{k: c.get(k) for k in ("benchmark", "version", "kind", "name", "direction",
                                             "reached", "position", "status", "source",
                                             "document", "levels", "position_zh",
                                             "position_en", "action_zh", "action_en")}})
    if not lines and not unlinked:
        return None
    return {"lines": lines, "unlinked": unlinked, "lineage": {"method": method}}


def _recommendations(conn: Connection, mod, node_id: int, period: Period) -> dict | None:
    """Quantified recommendations (``recommendations.recommend``) from the report period's
    data, figures per year; each with its calculation steps and assumptions."""
    r = mod.recommend(conn, node_id, period)
    not_assessed = [{"node": e["node"], **{k: x.get(k) for k in ("code", "message",
                                                                   "message_zh")}}
                    for e in r["enterprises"] for x in e.get("not_assessed", [])]
    if not r["ranked"] and not not_assessed:
        return None
    keep = ("code", "node", "title_zh", "title_en", "action_zh", "action_en", "cny_per_year",
            "tce_per_year", "tco2_per_year", "investment_cny", "payback_years", "steps",
            "assumptions")
    return {"ranked": [{k: x.get(k) for k in keep} for x in r["ranked"]],
            "totals": r["totals"], "not_assessed": not_assessed,
            "lineage": {**r.get("lineage", {}), "period": period.as_dict(),
                        "scaling": "figures per year = period figures × 365 ÷ days of the "
                                   "period"}}


#: (section key, service module, adapter) tried in this order; the adapter returns a
#: JSON-able dict for the report, or None when there is nothing to show.
OPTIONAL: tuple = (
    ("cost", "nengtan.services.energy_analysis", _cost),
    ("balance", "nengtan.services.energy_flow", _balance),
    ("benchmarking", "nengtan.services.benchmarking", _benchmarking),
    ("efficiency", "nengtan.services.efficiency_indicators", _efficiency),
    ("recommendations", "nengtan.services.recommendations", _recommendations),
)


# -- the report ----------------------------------------------------------------------------
@dataclass
class EnergyReportData:
    """Everything the energy report shows; :meth:`as_dict` is the JSON of the API."""

    node: dict
    period: Period
    kind: str
    generated_at: datetime
    timezone: str
    data: dict = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"report": "energy", "kind": self.kind, "node": self.node,
                "period": self.period.as_dict(),
                "generated_at": self.generated_at.isoformat(timespec="seconds"),
                "timezone": self.timezone, "version": __version__, **self.data}


def assemble(conn: Connection, node_id: int, period: Period,
             sections: set[str] | None = None) -> EnergyReportData:
    """The data of the energy report of ``node_id`` for a month or a year.

    ``sections``: the optional sections wanted (None: all that are available).
    """
    if period.grain not in ("month", "year"):
        raise InputError([Issue("rule.report_period", field="period", value=period.label)])
    t0 = time.perf_counter()
    node = energy_data.node_row(conn, node_id)
    tz = _timezone(conn, node.path)
    libs = _Libraries(conn)
    b = energy_data.boundary(conn, node_id)
    previous = period.previous() if period.grain == "month" else None
    year_before = period.shifted(years=-1)
    cur = libs.node_energy(node_id, period, bound=b)
    before = libs.node_energy(node_id, year_before, bound=b)
    prev = libs.node_energy(node_id, previous, bound=b) if previous else None

    totals = _totals(cur)
    comparison = {"year_before": _totals(before), "previous": _totals(prev) if prev else None}
    figures = []
    for key in ("total_tce", "total_tce_equal_value", "control_total_tce", "renewable_tce",
                "feedstock_tce", "export_tce"):
        figures.append(_figure(key, "tce", totals[key],
                               comparison["previous"], comparison["year_before"]))

    intensity = energy_totals.intensity(conn, node_id, period)
    intensity_before = energy_totals.intensity(conn, node_id, year_before)
    intensity_prev = energy_totals.intensity(conn, node_id, previous) if previous else None
    for key, unit in (("tce_per_10k_cny_output", "tce/10^4 CNY"),
                      ("tce_per_10k_cny_added", "tce/10^4 CNY")):
        if intensity.get(key) is not None:
            figures.append(_figure(key, unit, intensity[key], _complete(intensity_prev, prev),
                                   _complete(intensity_before, before)))
    for p in intensity["products"]:
        if p.get("kgce_per_unit") is None:
            continue
        figures.append(_figure(
            "kgce_per_unit", p["intensity_unit"], p["kgce_per_unit"],
            _product(intensity_prev, p["product"], prev),
            _product(intensity_before, p["product"], before),
            product=p["product"], name_zh=p["name_zh"], name_en=p["name_en"]))

    carriers = _carriers(conn, cur)
    grain = "day" if period.grain == "month" else "month"
    trend = {"grain": grain, "unit": "tce", "points": _trend(conn, cur, grain)}
    if period.grain == "year":
        trend["year_before"] = _trend(conn, before, grain)
    children = _children(conn, libs, node_id, period, year_before, cur.totals.total_tce)
    timings = {"core": round(time.perf_counter() - t0, 4)}
    optional, skipped = _optional_sections(conn, node_id, period, sections, timings)

    incomplete = [{"meter": m["meter"], "carrier": f.carrier, "coverage": m["coverage"]}
                  for f in cur.flows for m in f.meters if m["coverage"] < COMPLETE]
    now = datetime.now(UTC)
    data = {
        "totals": totals,
        "comparison": comparison,
        "figures": figures,
        "coverage": {"coverage": round(cur.coverage, 6), "complete": cur.coverage >= COMPLETE,
                     "meters": sum(len(f.meters) for f in cur.flows),
                     "incomplete_meters": incomplete},
        "carriers": carriers,
        "structure": _structure(carriers),
        "trend": trend,
        "children": children,
        "intensity": intensity,
        "sections": optional,
        "skipped": skipped,
        # seconds spent on the core figures and on each optional section's service
        "timings_s": timings,
        "lineage": _lineage(cur, before, prev),
    }
    report = EnergyReportData(
        node={"id": node.id, "code": node.code, "name_zh": node.name_zh,
              "name_en": node.name_en, "kind": node.kind},
        period=period, kind=period.grain, generated_at=now, timezone=tz, data=data)
    report.seconds = time.perf_counter() - t0
    return report


def _complete(intensity: dict | None, ne: NodeEnergy | None) -> dict | None:
    if intensity is None or ne is None:
        return None
    return {**intensity, "complete": ne.coverage >= COMPLETE}


def _product(intensity: dict | None, product: str, ne: NodeEnergy | None) -> dict | None:
    if intensity is None or ne is None:
        return None
    p = next((x for x in intensity["products"] if x["product"] == product), None)
    if p is None:
        return None
    return {"kgce_per_unit": p.get("kgce_per_unit"), "complete": ne.coverage >= COMPLETE}


def _figure(key: str, unit: str, value, previous: dict | None, year_before: dict | None,
            **extra) -> dict:
    name = "kgce_per_unit" if key == "kgce_per_unit" else key

    def base(d):
        # a base period without any data has no value (not zero)
        return None if d is None or d.get("coverage", 1.0) == 0 else d.get(name)

    prev_v, before_v = base(previous), base(year_before)
    return {"key": key, "value": value, "unit": unit, **extra,
            "previous": prev_v, "year_before": before_v,
            "mom_pct": _pct(value, prev_v, bool(previous and previous.get("complete"))),
            "yoy_pct": _pct(value, before_v, bool(year_before and year_before.get("complete")))}


def _lineage(cur: NodeEnergy, before: NodeEnergy, prev: NodeEnergy | None) -> dict:
    coefficients = []
    seen = set()
    for row in cur.totals.rows:
        lin = row.coefficient.lineage()
        key = (row.input.carrier, repr(sorted(lin.items(), key=lambda kv: kv[0])))
        if key in seen:
            continue
        seen.add(key)
        coefficients.append({"carrier": row.input.carrier, "category": row.category,
                             "meters": row.input.label, **lin})
    ev = cur.totals.equal_value
    return {
        "method": METHOD,
        "standard": gbt2589.METHOD_VERSION,
        "electricity_equivalent_kgce_per_kwh": gbt2589.KGCE_PER_KWH_EQUIVALENT,
        "equal_value": ev.lineage() if ev else None,
        "coefficients": coefficients,
        "unverified": sorted({c["carrier"] for c in coefficients
                              if c.get("status") == "unverified"}),
        "boundary": ("meters whose flow edge crosses the subtree boundary: in − out + "
                     "renewable generated inside; internal flows not counted"),
        "boundary_meters": [{"meter": m.code, "carrier": m.carrier, "role": m.role,
                             "level": m.level}
                            for m in cur.boundary.by_role("in", "out", "generated")],
        "periods": {"current": cur.period.as_dict(), "year_before": before.period.as_dict(),
                    "previous": prev.period.as_dict() if prev else None},
        "changes": "percent change only when the base period is complete and non-zero",
    }


def local_time(report: EnergyReportData) -> datetime:
    return report.generated_at.astimezone(ZoneInfo(report.timezone))


@dataclass
class RenderedReport:
    content: bytes
    filename: str
    media_type: str
    data: EnergyReportData
    assemble_s: float
    render_s: float


def render(conn: Connection, node_id: int, period: Period, fmt: str,
           lang: str | None = None) -> RenderedReport:
    """The energy report as a file (``fmt`` xlsx or pdf) in ``lang`` (zh-CN default)."""
    from nengtan.reports import energy as energy_doc
    from nengtan.reports.render import FORMATS as RENDER_FORMATS
    from nengtan.reports.render import MEDIA_TYPES
    from nengtan.reports.render import render as render_bytes

    if fmt not in RENDER_FORMATS:
        raise InputError([Issue("rule.choice", field="format", value=fmt,
                                params={"choices": ", ".join(RENDER_FORMATS)})])
    data = assemble(conn, node_id, period)
    t0 = time.perf_counter()
    doc = energy_doc.compose(data.as_dict(), lang)
    content = render_bytes(doc, fmt)
    return RenderedReport(content, f"{doc.filename}.{fmt}", MEDIA_TYPES[fmt], data,
                          data.seconds, time.perf_counter() - t0)
