"""Enterprise carbon inventories (企业碳盘查): compute, lock, recalculate, compare.

An inventory is an enterprise (organisational boundary: its node's subtree; operational
boundary as text), a reporting period (a year or any period of local dates), a base year, a
GWP set (AR5 by default), a methodology (``gbt32150`` general industry, ``cement``,
``mee_power``), the region of its factors (from the node tree) and optionally a target or
budget in tCO2e per year, month or period.  Its emission sources and their activity data are
in :mod:`nengtan.services.inventory_sources`.

**Compute** (:func:`compute`): activity data of every source for the period and each calendar
month (one rollup query per slice for all meters), parameters of the period (lab NCV and
carbon content of fuel deliveries, values entered with the source), the factor library of
the inventory's year, region and GWP set (:func:`nengtan.services.factor_library.lookup`) and
the accounting engine (:func:`nengtan.carbon.engine.compute`).  The result — by source,
facility, gas, scope and kind, scope 3 and sources shown alongside, monthly trend, alerts
against the target, intensity per product and per 10^4 CNY of output value, the renewable
electricity used on site — is stored as the inventory's *draft* version (replaced by the next
computation).  Every figure carries its lineage (:mod:`nengtan.services.inventory_results`).

**Lock** (:func:`lock`): computes from the data stored now, freezes the result as a *locked*
version (canonical JSON and its SHA-256) and appends to the evidence ledger what it rests on:
the readings of the linked meters per meter-day, the approved manual entries, the fuel
deliveries with their lab analyses, the evidence files, the factor values, the definition of
each source (revision) and the locked result itself (kind ``inventory_result``), then signs a
checkpoint.  A locked version never changes; computing again starts the next version, and
:func:`diff` says per source what changed and why (which activity data, which parameter).
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from nengtan import __version__, units
from nengtan.carbon import engine, methodologies
from nengtan.carbon.factors import GRID_BASES, grid_basis_for
from nengtan.carbon.model import GWP_SETS, SourceInput
from nengtan.errors import InputError, Issue, NotFound
from nengtan.i18n import t as translate
from nengtan.services import audit, energy_data, energy_totals
from nengtan.services import inventory_results as results
from nengtan.services import inventory_sources as sources_svc
from nengtan.services.energy_data import Period, parse_period
from nengtan.services.fields import FieldSpec, coerce_record
from nengtan.store.base import utcnow
from nengtan.store.models import Node
from nengtan.store.models.inventory import (
    TARGET_PERIODS,
    EmissionSource,
    EmissionSourceRevision,
    Inventory,
    InventoryVersion,
)
from nengtan.timeseries.calendar import next_month

RESULT_KIND = "inventory_result"
SOURCE_KIND = "inventory_source"
SCHEMA = "nengtan.inventory/1"
VIEWS = ("sources", "facilities", "gases", "scopes", "kinds", "trend", "alerts", "intensity",
         "scope3", "alongside", "renewables", "factors")

FIELDS = [
    FieldSpec("code", "str", "编码", "code", required=True, max_length=64),
    FieldSpec("name_zh", "str", "中文名称", "Chinese name", required=True, max_length=200),
    FieldSpec("name_en", "str", "英文名称", "English name", max_length=200),
    FieldSpec("enterprise", "str", "企业", "enterprise", required=True, ref="node",
              help_en="enterprise node code: the organisational boundary is its subtree"),
    FieldSpec("period", "str", "核算期", "reporting period", required=True,
              help_en="2025 (year), 2025-Q3, 2025-10 or 2025-01-01/2025-07-01 (local dates, "
                      "end exclusive)"),
    FieldSpec("base_year", "int", "基准年", "base year", minimum=1990, maximum=2100),
    FieldSpec("gwp_set", "choice", "GWP 版本", "GWP set", default="AR5", choices=GWP_SETS,
              help_en="IPCC assessment report of the 100-year GWPs"),
    FieldSpec("methodology", "choice", "核算方法学", "methodology", default="gbt32150",
              choices=tuple(methodologies.MODULES),
              help_en="gbt32150 (GB/T 32150 general industry), cement (GB/T 32151.8), "
                      "mee_power (MEE power generation facilities)"),
    FieldSpec("region", "str", "地区", "region", max_length=40,
              help_en="province-level region of the factors; default: the enterprise's, "
                      "else its nearest ancestor's"),
    FieldSpec("grid_basis", "choice", "电网因子口径", "grid factor basis",
              choices=tuple(GRID_BASES),
              help_en="general (MEE/NBS average), ets (national carbon market reporting "
                      "value) or lca; default by the enterprise's industry code"),
    FieldSpec("operational_boundary", "str", "运营边界", "operational boundary",
              help_en="what is inside and outside (facilities, activities, exclusions)"),
    FieldSpec("target_tco2e", "float", "排放目标/预算", "target or budget", minimum=0,
              unit="tCO2e", help_en="per target_period; alerts when the running total is "
                                    "above it pro rata"),
    FieldSpec("target_period", "choice", "目标周期", "target period", choices=TARGET_PERIODS,
              help_en="year (default), month or period"),
    FieldSpec("target_source", "str", "目标来源", "target source"),
    FieldSpec("description", "str", "说明", "description"),
    FieldSpec("created_by", "str", "创建人", "created by", max_length=100),
]


# == definitions ============================================================================
def region_of(conn: Connection, node_id: int) -> str | None:
    """The node's region, else its nearest ancestor's."""
    path = conn.execute(select(Node.path).where(Node.id == node_id)).scalar()
    chain = [int(x) for x in (path or "").strip("/").split("/") if x]
    regions = dict(conn.execute(select(Node.id, Node.region).where(Node.id.in_(chain))).all())
    return next((regions[i] for i in reversed(chain) if regions.get(i)), None)


def _locked_count(session: Session, inventory_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(InventoryVersion).where(
        InventoryVersion.inventory_id == inventory_id,
        InventoryVersion.status == "locked")) or 0)


def _validated(session: Session, payload: dict, current: Inventory | None = None) -> dict:
    data = coerce_record(FIELDS, payload)
    issues: list[Issue] = []
    taken = session.scalar(select(Inventory.id).where(Inventory.code == data["code"]))
    if taken is not None and (current is None or taken != current.id):
        issues.append(Issue("rule.duplicate", field="code", value=data["code"]))
    node = session.scalar(select(Node).where(Node.code == data["enterprise"]))
    if node is None:
        issues.append(Issue("rule.ref_unknown", field="enterprise", value=data["enterprise"],
                            params={"ref": "node"}))
    elif node.kind not in ("enterprise", "park"):
        issues.append(Issue("rule.inv_node_kind", field="enterprise", value=node.code,
                            params={"kind": node.kind}))
    period = None
    try:
        period = parse_period(data["period"])
    except InputError as exc:
        issues += exc.issues
    if data.get("target_period") and data.get("target_tco2e") is None:
        issues.append(Issue("rule.required", field="target_tco2e"))
    if current is not None and _locked_count(session, current.id):
        # Ledger keys name the inventory by code; the boundary defines what was locked.
        if data["code"] != current.code:
            issues.append(Issue("rule.inv_locked_field", field="code", value=data["code"]))
        if node is not None and node.id != current.node_id:
            issues.append(Issue("rule.inv_locked_field", field="enterprise",
                                value=data["enterprise"]))
    if issues:
        raise InputError(issues)
    conn = session.connection()
    return {
        "code": data["code"], "name_zh": data["name_zh"], "name_en": data.get("name_en"),
        "node_id": node.id, "tenant_id": node.tenant_id or node.id,
        "operational_boundary": data.get("operational_boundary"),
        "period_start": period.start, "period_end": period.end, "period_label": period.label,
        "base_year": data.get("base_year"), "gwp_set": data["gwp_set"],
        "methodology": data["methodology"],
        "region": data.get("region") or region_of(conn, node.id),
        "grid_basis": data.get("grid_basis"),
        "target_tco2e": data.get("target_tco2e"),
        "target_period": data.get("target_period") or (
            "year" if data.get("target_tco2e") is not None else None),
        "target_source": data.get("target_source"), "description": data.get("description"),
        "created_by": data.get("created_by"),
    }


def create(session: Session, payload: dict) -> Inventory:
    inv = Inventory(**_validated(session, payload))
    session.add(inv)
    session.flush()
    return inv


def update(session: Session, inventory_id: int, payload: dict) -> Inventory:
    """Change some fields; checked like a new inventory.  A changed definition affects the
    next computation only: locked versions keep what they were computed with."""
    inv = get(session, inventory_id)
    merged = {k: v for k, v in as_dict(session, inv).items() if k in {s.name for s in FIELDS}}
    merged.update(payload)
    for key, value in _validated(session, merged, inv).items():
        setattr(inv, key, value)
    session.flush()
    return inv


def delete(session: Session, inventory_id: int) -> None:
    """Delete an inventory with its own sources and draft; refused once a version is locked
    (its figures are in the ledger)."""
    inv = get(session, inventory_id)
    if _locked_count(session, inv.id):
        raise InputError([Issue("rule.inv_locked_delete", field="inventory", value=inv.code)])
    for v in session.scalars(select(InventoryVersion).where(
            InventoryVersion.inventory_id == inv.id)):
        session.delete(v)
    for s in session.scalars(select(EmissionSource).where(
            EmissionSource.inventory_id == inv.id)):
        session.delete(s)
    session.flush()
    session.delete(inv)
    session.flush()


def get(session: Session, inventory_id: int) -> Inventory:
    inv = session.get(Inventory, inventory_id)
    if inv is None:
        raise NotFound("inventory", inventory_id)
    return inv


def by_code(session: Session, code: str) -> Inventory:
    inv = session.scalar(select(Inventory).where(Inventory.code == code))
    if inv is None:
        raise NotFound("inventory", code)
    return inv


def list_query(enterprise_id: int | None = None, year: int | None = None):
    q = select(Inventory)
    if enterprise_id is not None:
        q = q.where(Inventory.node_id == enterprise_id)
    if year is not None:
        q = q.where(Inventory.period_start >= date(year, 1, 1),
                    Inventory.period_start < date(year + 1, 1, 1))
    return q.order_by(Inventory.period_start.desc(), Inventory.code)


def period_of(inv: Inventory) -> Period:
    grain = "year" if (inv.period_start.month, inv.period_start.day) == (1, 1) and \
        inv.period_end == date(inv.period_start.year + 1, 1, 1) else "custom"
    return Period(inv.period_start, inv.period_end, inv.period_label, grain)


def effective_grid_basis(conn: Connection, inv: Inventory) -> str:
    if inv.grid_basis:
        return inv.grid_basis
    industry = conn.execute(select(Node.industry_code).where(Node.id == inv.node_id)).scalar()
    return grid_basis_for(industry)


def _latest(session: Session, inventory_id: int) -> InventoryVersion | None:
    return session.scalar(select(InventoryVersion).where(
        InventoryVersion.inventory_id == inventory_id)
        .order_by(InventoryVersion.version.desc()).limit(1))


def as_dict(session: Session, inv: Inventory) -> dict:
    conn = session.connection()
    node = conn.execute(select(Node.code, Node.name_zh, Node.name_en).where(
        Node.id == inv.node_id)).first()
    latest = _latest(session, inv.id)
    locked = session.scalar(select(InventoryVersion).where(
        InventoryVersion.inventory_id == inv.id, InventoryVersion.status == "locked")
        .order_by(InventoryVersion.version.desc()).limit(1))
    return {
        "id": inv.id, "code": inv.code, "name_zh": inv.name_zh, "name_en": inv.name_en,
        "enterprise": node.code, "node_id": inv.node_id, "tenant_id": inv.tenant_id,
        "enterprise_name_zh": node.name_zh, "enterprise_name_en": node.name_en,
        "operational_boundary": inv.operational_boundary, "period": inv.period_label,
        "period_start": inv.period_start.isoformat(), "period_end": inv.period_end.isoformat(),
        "base_year": inv.base_year, "gwp_set": inv.gwp_set, "methodology": inv.methodology,
        "region": inv.region, "grid_basis": inv.grid_basis,
        "effective_grid_basis": effective_grid_basis(conn, inv),
        "target_tco2e": inv.target_tco2e, "target_period": inv.target_period,
        "target_source": inv.target_source, "description": inv.description,
        "created_by": inv.created_by, "created_at": audit.iso(inv.created_at),
        "updated_at": audit.iso(inv.updated_at),
        "latest_version": version_summary(latest) if latest else None,
        "locked_version": version_summary(locked) if locked else None,
        "status": latest.status if latest else "new",
    }


# == computing ==============================================================================
def _months(period: Period) -> list[Period]:
    out = []
    cur = period.start
    while cur < period.end:
        nxt = next_month(cur)
        stop = min(nxt, period.end)
        out.append(Period(cur, stop, f"{cur:%Y-%m}", "month" if cur.day == 1 and stop == nxt
                          else "custom"))
        cur = stop
    return out


def _issue_for(issue: Issue, codes: list[str]) -> Issue:
    """An engine issue (row = index of the source) as an issue naming the source."""
    code = codes[issue.row] if isinstance(issue.row, int) and 0 <= issue.row < len(codes) \
        else None
    field = f"sources.{code}" + (f".{issue.field}" if issue.field else "") if code \
        else issue.field
    return replace(issue, row=None, field=field)


def _run(inputs: list[SourceInput], lookup, inv: Inventory) -> object:
    codes = [i.source for i in inputs]
    try:
        return engine.compute(inputs, lookup, inv.gwp_set, inv.methodology)
    except InputError as exc:
        raise InputError([_issue_for(i, codes) for i in exc.issues]) from None


def _source_input(src, act, params, facility: str | None, row: int,
                  clamp: bool = False) -> SourceInput:
    quantity = act.quantity
    green = act.green_mwh
    if clamp:
        quantity = max(quantity, 0.0)
        try:
            cap = quantity * units.factor(src.unit, "MWh")
            green = min(green, cap)
        except units.UnitError:
            pass
    p = dict(params.params)
    return SourceInput(source=src.code, kind=src.kind, quantity=quantity, unit=src.unit,
                       carrier=src.carrier, gas=src.gas, method=src.method, params=p,
                       facility=facility, green_mwh=green, row=row,
                       evidence=tuple(_evidence_labels(act)))


def _evidence_labels(act) -> list[str]:
    out = []
    for lk in act.links:
        if lk["kind"] == "meter":
            out.append(f"meter {lk['meter']}")
        elif lk["kind"] == "manual_entry":
            out.append(f"manual entry {lk['manual_entry']}")
        elif lk["kind"] == "production":
            out.append(f"production {lk['product']}")
        elif lk["kind"] == "cems":
            out.append(f"CEMS {lk['monitor']}")
        elif lk["kind"] == "fuel_deliveries":
            out.append("fuel deliveries")
        else:
            out.append(f"{lk['kind']}: {lk.get('source')}")
    return out


def lookup_for(conn: Connection, inv: Inventory):
    from nengtan.services import factor_library

    return factor_library.lookup(conn, inv.period_start.year, inv.region, inv.gwp_set,
                                 tenant_id=inv.tenant_id,
                                 grid_basis=effective_grid_basis(conn, inv))


def evaluate(conn: Connection, inv: Inventory) -> dict:
    """The inventory's result from the data stored now (not stored; see :func:`compute`)."""
    period = period_of(inv)
    srcs = sources_svc.for_inventory(conn, inv)
    links = sources_svc.link_rows(conn, [s.id for s in srcs])
    months = _months(period)
    gatherer = sources_svc.Gatherer(conn, period, inv.tenant_id)
    acts = gatherer.activity(srcs, links, [period, *months])
    params = {s.id: gatherer.params(s, links[s.id]) for s in srcs}
    facilities = dict(conn.execute(select(Node.id, Node.code).where(Node.id.in_(
        [s.facility_node_id for s in srcs if s.facility_node_id] or [-1]))).all())
    lookup = lookup_for(conn, inv)
    groups = {"counted": [], "scope3": [], "alongside": []}
    for s in srcs:
        group = "scope3" if s.scope3_category else ("counted" if s.counted else "alongside")
        groups[group].append(s)
    entries: dict[str, list[dict]] = {}
    period_results: dict = {}
    for group, members in groups.items():
        inputs = [_source_input(s, acts[s.id][0], params[s.id],
                                facilities.get(s.facility_node_id), k)
                  for k, s in enumerate(members)]
        res = _run(inputs, lookup, inv) if inputs else None
        if group == "counted" and res:
            period_results = dict(zip([s.id for s in members], res.sources))
        entries[group] = [results.source_entry(s, r, acts[s.id][0], params[s.id],
                                               facilities.get(s.facility_node_id), group)
                          for s, r in zip(members, res.sources if res else [])]
    counted = entries["counted"]
    trend = _trend(groups["counted"], acts, params, facilities, months, lookup, inv,
                   period_results)
    warnings = [_warning(w) for s in srcs
                for w in acts[s.id][0].warnings + params[s.id].warnings]
    target = ({"tco2e": inv.target_tco2e, "period": inv.target_period,
               "source": inv.target_source,
               "lineage": {"origin": "entered with the inventory",
                           "source": inv.target_source}}
              if inv.target_tco2e is not None else None)
    conn_node = conn.execute(select(Node.code, Node.name_zh, Node.name_en).where(
        Node.id == inv.node_id)).first()
    out = {
        "schema": SCHEMA,
        "inventory": {
            "code": inv.code, "name_zh": inv.name_zh, "name_en": inv.name_en,
            "enterprise": conn_node.code, "enterprise_name_zh": conn_node.name_zh,
            "enterprise_name_en": conn_node.name_en,
            "organisational_boundary": f"subtree of {conn_node.code}",
            "operational_boundary": inv.operational_boundary,
            "period": period.as_dict(), "base_year": inv.base_year, "gwp_set": inv.gwp_set,
            "methodology": methodologies.get(inv.methodology).lineage(),
            "region": inv.region, "grid_basis": effective_grid_basis(conn, inv),
            "target": target,
        },
        "engine": {"nengtan": __version__, "engine": "nengtan.carbon.engine",
                   "factor_library": {"year": inv.period_start.year, "region": inv.region,
                                      "gwp_set": inv.gwp_set}},
        "totals": results.totals(counted),
        "sources": counted,
        **results.breakdowns(counted),
        "scope3": results.scope3(entries["scope3"]) if entries["scope3"] else None,
        "alongside": entries["alongside"],
        "trend": trend,
        "alerts": results.alerts(trend, target, period.start, period.end),
        "intensity": _intensity(conn, inv, period, results.totals(counted)),
        "renewables": _renewables(conn, inv, period, lookup),
        "base_year_comparison": _base_year(conn, inv, results.totals(counted)),
        "factor_values": results.factor_values(counted + entries["scope3"]
                                               + entries["alongside"]),
        "warnings": warnings,
    }
    return audit.jsonable(out)


def _warning(w: dict) -> dict:
    params = {k: v for k, v in w.items() if k != "rule"}
    return {**w, "message": translate(f"inventory.warning.{w['rule']}", "en", **params),
            "message_zh": translate(f"inventory.warning.{w['rule']}", "zh-CN", **params)}


#: Parameters that are rates per unit of activity: with only these, a source's emission is
#: proportional to its quantity (E = Q × NCV × CC × OF × 44/12, or Q × EF, × GWP).
_RATE_PARAMS = frozenset({"ncv", "carbon_content", "oxidation_rate", "emission_factor"})


def _proportional(src, inp: SourceInput, year_result, year_act) -> bool:
    """Can a month's figure be the period's scaled by quantity?  Exact for the emission-factor
    method with rate parameters only and no green certificates (whose cap is not linear)."""
    return (year_result is not None and src.method == "factor" and year_act.quantity > 0
            and set(inp.params) <= _RATE_PARAMS and not inp.green_mwh
            and not year_act.green_mwh and src.kind != "process")


def _trend(members, acts, params, facilities, months, lookup, inv,
           period_results: dict | None = None) -> list[dict]:
    """Monthly figures of the counted sources with the period's parameters.  Sources whose
    emission is proportional to their quantity are scaled from the period's result (the same
    arithmetic as an engine run, without building its lineage twelve times); the others are
    computed by the engine month by month."""
    period_results = period_results or {}
    out = []
    cumulative = 0.0
    for k, m in enumerate(months, start=1):
        inputs = [_source_input(s, acts[s.id][k], params[s.id],
                                facilities.get(s.facility_node_id), i, clamp=True)
                  for i, s in enumerate(members)]
        year_q = {s.id: max(acts[s.id][0].quantity, 0.0) for s in members}
        scaled = {s.id: _proportional(s, inp, period_results.get(s.id), acts[s.id][0])
                  for s, inp in zip(members, inputs)}
        rest = [inp for s, inp in zip(members, inputs) if not scaled[s.id]]
        res = _run(rest, lookup, inv) if rest else None
        computed = iter(res.sources if res else [])
        parts = []
        for s, inp in zip(members, inputs):
            act = acts[s.id][k]
            if scaled[s.id]:
                yr = period_results[s.id]
                share = inp.quantity / year_q[s.id]
                scope, tco2e, tco2e_market = yr.scope, yr.tco2e * share, yr.tco2e_market * share
                formula = (f"{yr.tco2e:.6g} tCO2e × {inp.quantity:.6g} / {year_q[s.id]:.6g} "
                           f"{s.unit} (period result × share of the period's quantity)")
            else:
                r = next(computed)
                scope, tco2e, tco2e_market = r.scope, r.tco2e, r.tco2e_market
                formula = r.lineage.get("formula")
            parts.append({"source": s.code, "scope": scope, "quantity": act.quantity,
                          "unit": s.unit, "coverage": round(act.coverage, 6),
                          "tco2e": tco2e, "tco2e_market": tco2e_market,
                          "lineage": {
                              "source": s.code, "formula": formula,
                              "parameters": "those of the period (see the source)",
                              "activity_links": [{key: lk.get(key) for key in (
                                  "kind", "meter", "meter_id", "product", "monitor",
                                  "quantity", "quantity_unit", "coverage", "readings",
                                  "rollups", "hours", "url", "manual_entry", "source",
                                  "share") if lk.get(key) is not None}
                                  for lk in act.links]}})
        entry = results.month_entry(m.label, m.start, m.end, parts, cumulative)
        cumulative = entry["cumulative_tco2e"]
        out.append(entry)
    return out


def _intensity(conn: Connection, inv: Inventory, period: Period, tot: dict) -> dict:
    """Emissions per unit of product and per 10^4 CNY (GB/T 32150 intensity indicators)."""
    total = tot["total_tco2e"]
    products = []
    for p in energy_totals.production(conn, inv.node_id, period):
        products.append({
            "product": p["product"], "name_zh": p["name_zh"], "name_en": p["name_en"],
            "output": p["output"], "output_unit": p["unit"],
            "tco2e_per_unit": total / p["output"] if p["output"] else None,
            "unit": f"tCO2e/{p['unit']}",
            "standard_output": p["standard_output"],
            "lineage": {"numerator": "totals.total_tco2e", "records": p["records"],
                        "prorated_records": p["prorated_records"],
                        "url": f"/api/production?product={p['product']}"
                               f"&from={period.start}&to={period.end - timedelta(days=1)}",
                        "method": "total tCO2e ÷ output of the product in the period "
                                  "(records spanning the period edge prorated by days)"}})
    econ = energy_totals.economics(conn, inv.node_id, period)
    out: dict = {"products": products, "price_basis": econ["price_basis"]}
    for key, label in (("output_value_cny", "output_value"), ("added_value_cny", "added_value")):
        value = econ[key]
        out[label] = {
            "value_cny": value,
            "tco2e_per_10k_cny": total / (value / 1e4) if value else None,
            "unit": "tCO2e/10^4 CNY",
            "lineage": {"numerator": "totals.total_tco2e", "records": econ["records"],
                        "prorated_records": econ["prorated_records"],
                        "url": f"/api/economics?from={period.start}"
                               f"&to={period.end - timedelta(days=1)}",
                        "method": f"total tCO2e ÷ ({label} in CNY ÷ 10^4)"}}
    return out


def _renewables(conn: Connection, inv: Inventory, period: Period, lookup) -> dict | None:
    """Renewable electricity generated inside the boundary and used there (memo item: it is
    not purchased, so it carries no scope 2 emission; the avoided figure is information)."""
    bound = energy_data.boundary(conn, inv.node_id)
    gen = [m for m in bound.meters if m.category == "renewable_electricity"
           and m.role in ("generated", "out", "internal")]
    if not gen:
        return None
    exported = [m for m in bound.meters if m.role == "out" and m.category in (
        "electricity", "renewable_electricity")]
    values = energy_data.period_values(conn, gen + exported, period.start, period.end)

    def mwh(ms):
        return math.fsum(values[m.id].value * units.factor(m.unit, "MWh")
                         for m in ms)
    generated, out_mwh = mwh(gen), mwh(exported)
    self_used = max(generated - out_mwh, 0.0)
    grid = lookup.get("grid_factor", "electricity")
    avoided = self_used * grid.value if grid is not None else None
    return {
        "generated_mwh": generated, "exported_mwh": out_mwh, "self_used_mwh": self_used,
        "avoided_tco2": avoided, "unit": "tCO2",
        "lineage": {"generated": [{"meter": m.code, "meter_id": m.id,
                                   "value": values[m.id].value, "unit": m.unit,
                                   "coverage": round(values[m.id].coverage, 6),
                                   "readings": f"/api/meters/{m.id}/readings?start="
                                               f"{period.start}&end={period.end}"}
                                  for m in gen],
                    "exported": [{"meter": m.code, "meter_id": m.id,
                                  "value": values[m.id].value, "unit": m.unit,
                                  "coverage": round(values[m.id].coverage, 6),
                                  "readings": f"/api/meters/{m.id}/readings?start="
                                              f"{period.start}&end={period.end}"}
                                 for m in exported],
                    "grid_factor": grid.lineage() if grid is not None else None,
                    "method": "self-used = generated − exported; avoided = self-used × grid "
                              "factor (information only, not deducted)"}}


def _base_year(conn: Connection, inv: Inventory, tot: dict) -> dict | None:
    """The latest locked inventory of the same enterprise for the base year, if any."""
    if not inv.base_year or inv.base_year == inv.period_start.year:
        return None
    row = conn.execute(select(Inventory.code, InventoryVersion.version,
                              InventoryVersion.total_tco2e)
                       .join(InventoryVersion, InventoryVersion.inventory_id == Inventory.id)
                       .where(Inventory.node_id == inv.node_id,
                              Inventory.period_start == date(inv.base_year, 1, 1),
                              Inventory.period_end == date(inv.base_year + 1, 1, 1),
                              InventoryVersion.status == "locked")
                       .order_by(InventoryVersion.locked_at.desc()).limit(1)).first()
    if row is None:
        return {"base_year": inv.base_year, "base_tco2e": None, "lineage": None}
    change = tot["total_tco2e"] - row.total_tco2e
    return {"base_year": inv.base_year, "base_tco2e": row.total_tco2e, "change_tco2e": change,
            "change_pct": change / row.total_tco2e * 100.0 if row.total_tco2e else None,
            "unit": "tCO2e",
            "lineage": {"inventory": row.code, "version": row.version, "status": "locked"}}


# == versions ===============================================================================
def version_record(inv_code: str, v: InventoryVersion) -> dict:
    return {"inventory": inv_code, "inventory_id": v.inventory_id, "version": v.version,
            "status": v.status, "result": v.result, "total_tco2e": v.total_tco2e,
            "scope1_tco2e": v.scope1_tco2e, "scope2_tco2e": v.scope2_tco2e,
            "scope2_market_tco2e": v.scope2_market_tco2e, "locked_by": v.locked_by,
            "locked_at": v.locked_at}


def version_digest(inv_code: str, v: InventoryVersion) -> bytes:
    """SHA-256 of the canonical JSON of the version (result and figures, status, lock)."""
    from nengtan.services.ledger import digest_json

    return digest_json(version_record(inv_code, v))


def _store(session: Session, inv: Inventory, result: dict, actor: str | None,
           note: str | None = None) -> InventoryVersion:
    """The draft version holding ``result`` (the current draft, else a new version)."""
    latest = _latest(session, inv.id)
    if latest is None or latest.status == "locked":
        v = InventoryVersion(inventory_id=inv.id, version=(latest.version + 1) if latest else 1,
                             status="draft")
        session.add(v)
    else:
        v = latest
    t = result["totals"]
    v.result = result
    v.total_tco2e, v.scope1_tco2e = t["total_tco2e"], t["scope1_tco2e"]
    v.scope2_tco2e, v.scope2_market_tco2e = t["scope2_tco2e"], t["scope2_market_tco2e"]
    v.computed_by, v.computed_at, v.note = actor, utcnow(), note
    v.digest = v.digest or ""
    session.flush()
    v.digest = version_digest(inv.code, v).hex()
    session.flush()
    return v


def compute(session: Session, inventory_id: int, actor: str | None = None,
            note: str | None = None) -> InventoryVersion:
    """Compute from the data stored now and keep it as the draft version."""
    inv = get(session, inventory_id)
    result = evaluate(session.connection(), inv)
    return _store(session, inv, result, actor, note)


def versions(session: Session, inventory_id: int) -> list[InventoryVersion]:
    get(session, inventory_id)
    return list(session.scalars(select(InventoryVersion).where(
        InventoryVersion.inventory_id == inventory_id).order_by(InventoryVersion.version)))


def version(session: Session, inventory_id: int, number: int | None = None) -> InventoryVersion:
    """Version ``number`` (default: the latest); NotFound before the first computation."""
    get(session, inventory_id)
    if number is None:
        v = _latest(session, inventory_id)
    else:
        v = session.scalar(select(InventoryVersion).where(
            InventoryVersion.inventory_id == inventory_id,
            InventoryVersion.version == number))
    if v is None:
        raise NotFound("inventory version", f"{inventory_id} v{number or 'latest'}")
    return v


def version_summary(v: InventoryVersion) -> dict:
    return {"version": v.version, "status": v.status, "total_tco2e": v.total_tco2e,
            "scope1_tco2e": v.scope1_tco2e, "scope2_tco2e": v.scope2_tco2e,
            "scope2_market_tco2e": v.scope2_market_tco2e, "unit": "tCO2e",
            "digest": v.digest, "computed_by": v.computed_by,
            "computed_at": audit.iso(v.computed_at), "locked_by": v.locked_by,
            "locked_at": audit.iso(v.locked_at), "note": v.note, "ledger": v.ledger}


def version_dict(v: InventoryVersion) -> dict:
    return {**version_summary(v), "result": v.result}


def view(v: InventoryVersion, name: str) -> dict:
    """One part of a stored result (``sources``, ``facilities``, ``gases``, ``scopes``,
    ``kinds``, ``trend``, ``alerts``, ``intensity``, ``scope3``, ``alongside``,
    ``renewables``, ``factors``)."""
    r = v.result
    key = {"sources": "sources", "facilities": "by_facility", "gases": "by_gas",
           "scopes": "by_scope", "kinds": "by_kind", "trend": "trend", "alerts": "alerts",
           "intensity": "intensity", "scope3": "scope3", "alongside": "alongside",
           "renewables": "renewables", "factors": "factor_values"}[name]
    return {"inventory": r["inventory"]["code"], "version": v.version, "status": v.status,
            "view": name, "totals": r["totals"], "items": r.get(key)}


def diff(session: Session, inventory_id: int, old: int | None = None,
         new: int | None = None) -> dict:
    """Per source: old, new, delta and why (activity data, parameters, definition).
    Defaults: ``new`` the latest version, ``old`` the version before it."""
    b = version(session, inventory_id, new)
    if old is None:
        old = b.version - 1
    if old < 1:
        raise InputError([Issue("rule.inv_diff_first", field="from", value=old)])
    a = version(session, inventory_id, old)
    return {"inventory": get(session, inventory_id).code,
            "from": version_summary(a), "to": version_summary(b),
            **results.diff(a.result, b.result)}


def lineage(session: Session, inventory_id: int, spec: str, number: int | None = None) -> dict:
    v = version(session, inventory_id, number)
    found = results.figure(v.result, spec)
    if found is None:
        raise InputError([Issue("rule.inv_figure_unknown", field="figure", value=spec)])
    return {"inventory": v.result["inventory"]["code"], "version": v.version,
            "status": v.status, "digest": v.digest, **found}


# == locking and the ledger =================================================================
def _walk(obj, out: dict) -> None:
    if isinstance(obj, dict):
        if isinstance(obj.get("evidence_id"), int) and obj.get("sha256"):
            out["evidence"].add(obj["evidence_id"])
        if isinstance(obj.get("fuel_delivery"), int):
            out["fuel"].add(obj["fuel_delivery"])
        if isinstance(obj.get("manual_entry"), int) and isinstance(obj.get("version"), int):
            out["manual"].add((obj["manual_entry"], obj["version"]))
        if obj.get("kind") == "meter" and isinstance(obj.get("meter_id"), int):
            out["meters"].add(obj["meter_id"])
        record = obj.get("record")
        if isinstance(record, dict) and record.get("table") == "fuel_deliveries":
            out["fuel"].add(record["id"])
        for v in obj.values():
            _walk(v, out)
    elif isinstance(obj, list):
        for v in obj:
            _walk(v, out)


def records_of(result: dict) -> dict:
    """What a result rests on: meter ids, (manual entry, version), fuel deliveries, evidence
    files, factor values and sources (id, revision)."""
    out = {"meters": set(), "manual": set(), "fuel": set(), "evidence": set()}
    groups = [result["sources"], result.get("alongside") or [],
              (result.get("scope3") or {}).get("sources") or []]
    for group in groups:
        for e in group:
            _walk(e["lineage"].get("activity_data"), out)
            _walk(e["lineage"].get("given_parameters"), out)
    out["factors"] = list(result.get("factor_values", []))
    out["sources"] = sorted({(e["source_id"], e["revision"]) for g in groups for e in g})
    return out


def source_snapshot_digest(conn: Connection, source_id: int, revision: int) -> bytes | None:
    """Digest of a source definition as of ``revision``: the live row for its current
    revision (so a direct change to the stored parameters is caught), the stored revision
    snapshot for an earlier one."""
    from nengtan.services.ledger import digest_json

    src = conn.execute(select(EmissionSource.__table__).where(
        EmissionSource.id == source_id)).first()
    if src is None:
        return None
    if src.revision == revision:
        return digest_json(sources_svc.snapshot(conn, src))
    snap = conn.execute(select(EmissionSourceRevision.snapshot).where(
        EmissionSourceRevision.source_id == source_id,
        EmissionSourceRevision.revision == revision)).scalar()
    return None if snap is None else digest_json(snap)


def _recompute_source(conn: Connection, key: str) -> bytes | None:
    try:
        sid, rev = key.split("/r", 1)
        return source_snapshot_digest(conn, int(sid), int(rev))
    except ValueError:
        return None


def _recompute_result(conn: Connection, key: str) -> bytes | None:
    code, _, number = key.rpartition("/v")
    try:
        n = int(number)
    except ValueError:
        return None
    inv = conn.execute(select(Inventory.id, Inventory.code).where(Inventory.code == code)).first()
    if inv is None:
        return None
    v = conn.execute(select(InventoryVersion.__table__).where(
        InventoryVersion.inventory_id == inv.id, InventoryVersion.version == n)).first()
    return None if v is None else version_digest(inv.code, v)


def _ledger_items(conn: Connection, inv: Inventory, v: InventoryVersion, rec: dict,
                  actor: str | None) -> dict:
    from nengtan.services import ledger

    counts: dict[str, int] = {}
    period = period_of(inv)
    if rec["meters"]:
        counts["readings"] = len(ledger.append_readings(conn, sorted(rec["meters"]),
                                                         period.start, period.end,
                                                         created_by=actor))
    for entry_id, number in sorted(rec["manual"]):
        ledger.append_manual_entry(conn, entry_id, number, created_by=actor)
    counts["manual_entry"] = len(rec["manual"])
    for fid in sorted(rec["fuel"]):
        ledger.append_fuel_delivery(conn, fid, created_by=actor)
    counts["fuel_delivery"] = len(rec["fuel"])
    for eid in sorted(rec["evidence"]):
        ledger.append_evidence(conn, eid, created_by=actor)
    counts["evidence_file"] = len(rec["evidence"])
    for f in rec["factors"]:
        what = f"{f['parameter']} {f.get('subject') or ''} = {f['value']:g} {f['unit']}"
        ledger.append_factor_value(conn, f["factor_id"], created_by=actor,
                                   label=f"factor value {f['factor_id']} ({what.strip()})")
    counts["factor_value"] = len(rec["factors"])
    items = []
    for sid, rev in rec["sources"]:
        digest = source_snapshot_digest(conn, sid, rev)
        code = conn.execute(select(EmissionSource.code).where(
            EmissionSource.id == sid)).scalar()
        items.append((SOURCE_KIND, f"{sid}/r{rev}", digest, {
            "source_id": sid, "revision": rev, "code": code, "inventory": inv.code,
            "label": f"emission source {code} revision {rev} (definition and parameters)",
            "label_zh": f"排放源 {code} 第 {rev} 版（定义与参数）"}))
    items.append((RESULT_KIND, f"{inv.code}/v{v.version}", bytes.fromhex(v.digest), {
        "inventory": inv.code, "version": v.version, "total_tco2e": v.total_tco2e,
        "tenant_id": inv.tenant_id,
        "label": f"locked result of inventory {inv.code} version {v.version}",
        "label_zh": f"碳盘查 {inv.code} 第 {v.version} 版锁定结果"}))
    entries = ledger.append_many(conn, items, created_by=actor)
    counts[SOURCE_KIND] = len(rec["sources"])
    counts[RESULT_KIND] = 1
    checkpoint = ledger.checkpoint(conn, created_by=actor)
    return {"entries": counts, "result_entry_id": entries[-1]["id"],
            "checkpoint": {k: checkpoint.get(k) for k in ("id", "tree_size", "root_hash",
                                                          "hash_alg", "key_id", "created_at")}}


def lock(session: Session, inventory_id: int, actor: str, note: str | None = None) -> InventoryVersion:
    """Compute from the data stored now and lock that version: its figures never change
    again; the records it rests on and its digest go into the evidence ledger."""
    if not (actor or "").strip():
        raise InputError([Issue("rule.manual_user_required", field="user")])
    inv = get(session, inventory_id)
    conn = session.connection()
    v = _store(session, inv, evaluate(conn, inv), actor, note)
    v.status, v.locked_by, v.locked_at = "locked", actor, utcnow()
    session.flush()
    v.digest = version_digest(inv.code, v).hex()
    session.flush()
    v.ledger = _ledger_items(conn, inv, v, records_of(v.result), actor)
    session.flush()
    audit.record(session, user=actor, action="inventory.lock", object_type="inventory",
                 object_id=inv.id, tenant_id=inv.tenant_id, source=None,
                 detail={"code": inv.code, "version": v.version, "digest": v.digest,
                         "total_tco2e": v.total_tco2e})
    return v


def _register() -> None:
    try:
        from nengtan.services import ledger
    except ImportError:  # pragma: no cover - the ledger is part of the package
        return
    ledger.register(RESULT_KIND, _recompute_result)
    ledger.register(SOURCE_KIND, _recompute_source)


_register()
