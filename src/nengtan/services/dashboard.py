"""The overview dashboard and the wall display: one answer with what both show.

Everything here is read from the services that own each figure, never recomputed:

* energy (GB/T 2589-2020 comprehensive energy, tce) — the energy query's building blocks
  (:mod:`nengtan.services.energy_query`: boundary members, one read of the rollups for every
  period at once, one figure per period, its comparisons), so that each figure equals
  ``GET /api/energy/query`` for the same node and period and the coefficient libraries are
  loaded once per tenant and month for the whole answer;
* top consumers — the figures of :func:`energy_query.drilldown` (the node's children, or the
  first level below it that has more than one node, each by its own boundary);
* intensity — :func:`energy_totals.intensity` (tce per 10^4 CNY of output value, kgce per
  unit of a single product) for the last complete month;
* Sankey — :func:`energy_flow.sankey` of the last complete month;
* benchmark positions — :func:`benchmarking.node_comparisons` of the enterprise (or of each
  enterprise of the park) for the last complete month;
* carbon — the latest enterprise inventory (:mod:`nengtan.services.inventories`; its locked
  version when there is one) or the park inventory (:func:`park_inventory.park_inventory`) of
  the latest year with enterprise inventories;
* alerts — open data-quality findings of the node's meters
  (:func:`quality_rules.findings`), inventories running above their target
  (``result["alerts"]``), boundary meters without recent data
  (:func:`energy_query.realtime`).

Periods, in the node's timezone, with ``D`` = today: *today* [D, D+1) (data so far),
*yesterday*, *month to date* [first day of the month of D−1, D) — complete days only, so the
month-on-month comparison (the same days of the month before) and the year-on-year one are
between like periods —, *year to date* [1 January, D), the last 12 calendar months (the last one
running), the *last complete month*, and for the load curve the last 24 hours that have data.

:func:`dashboard` reads every figure when called; the API keeps its answer for a short time
(:mod:`nengtan.services.kept_answers`, forgotten at any API write).  The GB/T 2589
coefficient libraries are kept between requests under the exact content of the tables they
are made from (:class:`nengtan.services.energy_data.Libraries`).
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, select

from nengtan.energy import gbt2589
from nengtan.errors import InputError, NotFound
from nengtan.i18n import t
from nengtan.services import benchmarking, energy_flow, energy_totals, quality_rules
from nengtan.services import energy_data as ed
from nengtan.services import energy_query as eq
from nengtan.services import park_inventory as pinv
from nengtan.store.models import Meter, Node
from nengtan.store.models.inventory import Inventory, InventoryVersion
from nengtan.store.types import to_us
from nengtan.timeseries.calendar import HOUR_US, next_month

#: Months in the trend (the last one running).
TREND_MONTHS = 12
#: Hours of the load curve, and how far back to look for its last hour with data.
LOAD_HOURS = 24
LOAD_LOOKBACK_HOURS = 48
#: At most this many items per list (alerts, consumers, findings).
TOP = 8


def _month_start(d: date, months_back: int = 0) -> date:
    m = d.year * 12 + d.month - 1 - months_back
    return date(m // 12, m % 12 + 1, 1)


def _name(row, lang: str) -> str:
    return (row.name_en or row.name_zh) if lang == "en" else row.name_zh


def windows(today: date) -> dict[str, tuple[date, date]]:
    """The day-based periods of the dashboard for ``today`` (local dates, end exclusive)."""
    last = today - timedelta(days=1)  # the last complete day
    month = last.replace(day=1)
    days = (today - month).days
    prev = _month_start(month, 1)
    out = {
        "today": (today, today + timedelta(days=1)),
        "yesterday": (last, today),
        "month": (month, today),
        # the same days of the month before (all of it when it is shorter)
        "month_mom": (prev, min(prev + timedelta(days=days), month)),
        "year": (date(last.year, 1, 1), today),
    }
    for k in range(TREND_MONTHS):
        start = _month_start(month, TREND_MONTHS - 1 - k)
        out[f"trend{k}"] = (start, next_month(start))
    lm = _month_start(today, 1)
    out["last_month"] = (lm, next_month(lm))
    return out


# -- energy ----------------------------------------------------------------------------------
def _electric_kwh(fig: dict) -> float | None:
    """Electricity used by the node in a figure: Σ quantity of the electric carriers (grid,
    renewable, recovered), kWh; None without data."""
    values = [c["quantity"] for c in fig["carriers"]
              if c["category"] in gbt2589.ELECTRIC and c["quantity"] is not None]
    return sum(values) if values else None


def _brief(fig: dict) -> dict:
    """A figure without its meter lists: period, tce, coverage, comparisons, carriers."""
    out = {k: fig[k] for k in ("period", "unit", "tce", "tce_equal_value", "coverage",
                               "complete", "missing_coefficients")}
    out["electricity_kwh"] = _electric_kwh(fig)
    for name in ("mom", "yoy"):
        if name in fig:
            out[name] = {k: fig[name][k] for k in ("period", "previous", "change",
                                                   "change_pct", "unit", "reason",
                                                   "reason_text")}
    return out


def _carriers(fig: dict) -> list[dict]:
    return [{"carrier": c["carrier"], "name_zh": c["name_zh"], "name_en": c["name_en"],
             "category": c["category"], "quantity": c["quantity"], "unit": c["unit"],
             "tce": c["tce"], "complete": c["complete"]}
            for c in fig["carriers"] if c["is_energy"]]


def energy(conn: Connection, ctx: eq.Context, b: ed.Boundary, today: date) -> dict:
    """KPIs, the 12-month trend and the carrier mix (year to date), from two reads of the
    rollups: this year's periods, and the same periods a year earlier (two reads rather than
    one because a read takes every day between its first and last day-based edge)."""
    tz = ctx.tz
    mems = eq.members(b, None)
    spans = windows(today)
    names = ["today", "yesterday", "month", "month_mom", "year"] + [
        f"trend{k}" for k in range(TREND_MONTHS)]
    buckets = {n: eq.day_bucket(*spans[n], tz) for n in names}
    earlier = {"month_yoy": eq.year_before(buckets["month"], tz),
               "year_yoy": eq.year_before(buckets["year"], tz)}
    figs = {}
    for group in (buckets, earlier):
        order = list(group)
        values = eq.read_values(conn, [m.meter for m in mems], [group[n] for n in order], "day")
        figs.update({n: eq.figure(ctx, mems, values, k, group[n]) for k, n in enumerate(order)})
    eq.attach_compare("mom", figs["month"], figs["month_mom"])
    eq.attach_compare("yoy", figs["month"], figs["month_yoy"])
    eq.attach_compare("yoy", figs["year"], figs["year_yoy"])
    trend = []
    for k in range(TREND_MONTHS):
        f = figs[f"trend{k}"]
        trend.append({"period": f["period"], "tce": f["tce"], "complete": f["complete"],
                      "coverage": f["coverage"], "electricity_kwh": _electric_kwh(f),
                      "carriers": [{"carrier": c["carrier"], "tce": c["tce"]}
                                   for c in _carriers(f)]})
    return {
        "kpis": {n: _brief(figs[n]) for n in ("today", "yesterday", "month", "year")},
        "trend": trend,
        "carriers": {"period": figs["year"]["period"], "items": _carriers(figs["year"])},
        "lineage": {"method": eq.METHOD, "boundary": eq.BOUNDARY_RULE,
                    "source": eq.read_source_name("day"),
                    "coefficients": ctx.coefs.lineage()},
    }


def load_curve(conn: Connection, ctx: eq.Context, b: ed.Boundary, now_us: int) -> dict:
    """Electricity use of the last 24 hours that have data (hour rollups): each hour's kWh is
    its mean power in kW.  The window ends at the last hour with data, at most the current
    hour, so a site whose collection stopped shows its last day instead of an empty chart."""
    tz = ctx.tz
    mems = [m for m in eq.members(b, None) if m.meter.category in gbt2589.ELECTRIC]
    end = now_us - now_us % HOUR_US + HOUR_US
    starts = range(end - LOAD_LOOKBACK_HOURS * HOUR_US, end, HOUR_US)
    buckets = [eq.sub_bucket(s, s + HOUR_US, "hour", tz) for s in starts]
    values = eq.read_values(conn, [m.meter for m in mems], buckets, "hour")
    kwh = [_electric_kwh(eq.figure(ctx, mems, values, k, x)) for k, x in enumerate(buckets)]
    with_data = [k for k, v in enumerate(kwh) if v is not None]
    if not with_data:
        return {"unit": "kW", "points": [], "start": None, "end": None}
    last = with_data[-1]
    first = max(0, last + 1 - LOAD_HOURS)
    points = [{"start": eq.query.local_iso(buckets[k].start_us, tz), "kw": kwh[k]}
              for k in range(first, last + 1)]
    return {"unit": "kW", "points": points,
            "start": eq.query.local_iso(buckets[first].start_us, tz),
            "end": eq.query.local_iso(buckets[last].end_us, tz),
            "lineage": {"source": "rollup_hour", "meters": [m.meter.code for m in mems],
                        "power": "hourly kWh of the electric carriers (in − out + generated) "
                                 "= mean kW of the hour"}}


def _drill_node(conn: Connection, node_id: int, levels: int = 3) -> int:
    """The node whose children are shown as consumers: the node itself, or the first level
    below it with more than one child (an enterprise with a single site shows the site's
    workshops)."""
    for _ in range(levels):
        kids = eq.children_of(conn, node_id)
        if len(kids) != 1:
            return node_id
        node_id = kids[0]
    return node_id


def top_consumers(conn: Connection, ctx: eq.Context, node_id: int,
                  span: tuple[date, date]) -> dict:
    """The children with the largest comprehensive energy consumption in ``span`` (tce), each
    by its own boundary, and their share of the node's — the figures of
    :func:`energy_query.drilldown`, read once with the dashboard's other figures."""
    parent, kids = ed.family(conn, _drill_node(conn, node_id))
    bucket = eq.day_bucket(*span, ctx.tz)
    groups = [eq.members(x, None) for x in [parent, *kids]]
    values = eq.read_values(conn, [m.meter for ms in groups for m in ms], [bucket], "day")
    head, *figs = [eq.figure(ctx, ms, values, 0, bucket) for ms in groups]
    items = []
    for kb, fig in zip(kids, figs):
        if fig["tce"] is None:
            continue
        share = fig["tce"] / head["tce"] * 100.0 if head["tce"] else None
        items.append({"node": kb.code, "name_zh": kb.name_zh, "name_en": kb.name_en,
                      "kind": kb.kind, "tce": fig["tce"],
                      "share_pct": None if share is None else round(share, 6),
                      "complete": fig["complete"]})
    items.sort(key=lambda c: -c["tce"])
    return {"node": parent.code, "name_zh": parent.name_zh, "name_en": parent.name_en,
            "period": bucket.as_dict(ctx.tz), "total_tce": head["tce"], "items": items[:TOP]}


def intensity(conn: Connection, node_id: int, span: tuple[date, date]) -> dict:
    """Energy intensity of the last complete month (:func:`energy_totals.intensity`)."""
    p = ed.Period(span[0], span[1], f"{span[0]:%Y-%m}", "month")
    data = energy_totals.intensity(conn, node_id, p)
    return {"period": data["period"], "total_tce": data["total_tce"],
            "tce_per_10k_cny_output": data["tce_per_10k_cny_output"],
            "tce_per_10k_cny_added": data["tce_per_10k_cny_added"],
            "products": [{"product": x["product"], "name_zh": x["name_zh"],
                          "name_en": x["name_en"], "output": x["output"], "unit": x["unit"],
                          "kgce_per_unit": x["kgce_per_unit"],
                          "intensity_unit": x["intensity_unit"]} for x in data["products"]]}


def sankey(conn: Connection, node_id: int, span: tuple[date, date]) -> dict:
    """The energy flow of the last complete month, tce, two tree levels deep."""
    p = ed.Period(span[0], span[1], f"{span[0]:%Y-%m}", "month")
    s = energy_flow.sankey(conn, node_id, p, depth=2, unit="tce")
    return {"period": p.as_dict(), "unit": s["value_unit"], "nodes": s["nodes"],
            "links": s["links"]}


# -- benchmarks ------------------------------------------------------------------------------
def benchmark_positions(conn: Connection, node, span: tuple[date, date]) -> dict:
    """Product lines against their linked benchmarks (标杆/基准, GB energy limits) in the last
    complete month (:func:`benchmarking.node_comparisons` of the enterprise, or of each
    enterprise of the park), one row per linked entry, the largest gap first."""
    p = ed.Period(span[0], span[1], f"{span[0]:%Y-%m}", "month")
    lines, unlinked = [], []
    for ent in _enterprises_under(conn, node):
        r = benchmarking.node_comparisons(conn, ent, p)
        unlinked.extend(f"{r['node']}:{code}" for code in r["unlinked"])
        for line in r["products"]:
            for c in line["comparisons"]:
                best = next((lv for lv in c["levels"] if lv["value"] is not None), None)
                lines.append({"enterprise": line["node"], "name_zh": line["name_zh"],
                              "name_en": line["name_en"], "product": line["product"],
                              "product_name_zh": line["product_name_zh"],
                              "product_name_en": line["product_name_en"],
                              "actual": c["actual"], "unit": c["unit"],
                              "benchmark": c["benchmark"], "kind": c["kind"],
                              "position": c["position"], "position_zh": c.get("position_zh"),
                              "position_en": c.get("position_en"),
                              "best_level": best["key"] if best else None,
                              "best_level_value": best["value"] if best else None,
                              "gap_to_best_pct": best["gap_pct"] if best else None})
    lines.sort(key=lambda x: -(x["gap_to_best_pct"] if x["gap_to_best_pct"] is not None
                               else float("-inf")))
    return {"period": p.as_dict(), "lines": lines, "unlinked": unlinked}


# -- carbon ----------------------------------------------------------------------------------
def _latest_versions(conn: Connection, node_ids: list[int]) -> list:
    """Per enterprise, its latest inventory (by period) with the version that counts: the
    latest locked one, else the latest computed one."""
    out = []
    for nid in node_ids:
        inv = conn.execute(select(Inventory.id, Inventory.code, Inventory.node_id,
                                  Inventory.period_label, Inventory.period_start,
                                  Inventory.target_tco2e)
                           .where(Inventory.node_id == nid)
                           .order_by(Inventory.period_start.desc(), Inventory.id.desc())
                           .limit(1)).first()
        if inv is None:
            continue
        cols = (InventoryVersion.id, InventoryVersion.version, InventoryVersion.status,
                InventoryVersion.total_tco2e, InventoryVersion.scope1_tco2e,
                InventoryVersion.scope2_tco2e)
        q = select(*cols).where(InventoryVersion.inventory_id == inv.id)
        v = (conn.execute(q.where(InventoryVersion.status == "locked")
                          .order_by(InventoryVersion.version.desc()).limit(1)).first()
             or conn.execute(q.order_by(InventoryVersion.version.desc()).limit(1)).first())
        out.append((inv, v))
    return out


def _target_status(conn: Connection, version_id: int) -> dict | None:
    """The stored result's target check (``alerts``): status and months above."""
    result = conn.execute(select(InventoryVersion.result).where(
        InventoryVersion.id == version_id)).scalar()
    alerts = (result or {}).get("alerts") or {}
    if not alerts.get("target"):
        return None
    return {"status": alerts.get("status"), "above": alerts.get("above", []),
            "target_tco2e": alerts["target"].get("tco2e"),
            "period": alerts["target"].get("period")}


def _enterprises_under(conn: Connection, node) -> list[int]:
    if node.kind == "enterprise":
        return [node.id]
    return list(conn.execute(select(Node.id).where(
        Node.path.startswith(node.path), Node.kind == "enterprise")
        .order_by(Node.sort_order, Node.code)).scalars())


def carbon(conn: Connection, node, versions: list) -> dict | None:
    """The latest inventory figure of the node, tCO2e: an enterprise's inventory version, or
    the park inventory of the latest year any of its enterprises has an inventory for."""
    if node.kind == "enterprise":
        if not versions:
            return None
        inv, v = versions[0]
        if v is None:
            return None
        return {"source": "inventory", "inventory": inv.code, "inventory_id": inv.id,
                "period": inv.period_label, "version": v.version, "status": v.status,
                "total_tco2e": v.total_tco2e, "scope1_tco2e": v.scope1_tco2e,
                "scope2_tco2e": v.scope2_tco2e, "unit": "tCO2e"}
    if node.kind != "park" or not versions:
        return None
    year = max(inv.period_start.year for inv, _ in versions)
    p = pinv.park_inventory(conn, node.id, ed.parse_period(str(year)))
    d = p.as_dict()
    origins: dict[str, int] = {}
    for tnt in d.get("tenants", []):
        origins[tnt.get("origin")] = origins.get(tnt.get("origin"), 0) + 1
    return {"source": "park_inventory", "period": str(year), "total_tco2e": p.total_tco2e,
            "terms": d.get("terms"), "tenants_by_origin": origins, "unit": "tCO2e"}


# -- alerts ----------------------------------------------------------------------------------
def _meter_ids(conn: Connection, node) -> set[int]:
    return set(conn.execute(select(Meter.id).join(Node, Node.id == Meter.node_id)
                            .where(Node.path.startswith(node.path))).scalars())


def alerts(conn: Connection, node, b: ed.Boundary, versions: list, now_us: int,
           lang: str) -> dict:
    """Open data-quality findings, inventories above target and meters without recent data,
    most severe first."""
    items = []
    mine = _meter_ids(conn, node)
    found = [f for f in quality_rules.findings(conn, origin=None, status="open")
             if f["meter_id"] in mine]
    rank = {"error": 0, "warning": 1, "info": 2}
    by_severity: dict[str, int] = {}
    for f in found:
        by_severity[f["severity"]] = by_severity.get(f["severity"], 0) + 1
    # most severe first, then the latest
    found.sort(key=lambda f: f["end"] or "", reverse=True)
    found.sort(key=lambda f: rank.get(f["severity"], 3))
    for f in found[:TOP]:
        kind = t(f"web.core.alert.kind.{f['rule']}", lang)
        items.append({"kind": "quality", "severity": f["severity"], "meter": f["meter"],
                      "rule": f["rule"], "start": f["start"], "end": f["end"], "id": f["id"],
                      "message": t("web.core.alert.quality", lang, meter=f["meter"],
                                   kind=kind)})
    for inv, v in versions:
        if v is None:
            continue
        status = _target_status(conn, v.id)
        if status and status["status"] in ("above", "was_above"):
            items.append({"kind": "target", "severity": "warning" if status["status"] ==
                          "was_above" else "error", "inventory": inv.code,
                          "inventory_id": inv.id, "months": status["above"],
                          "message": t(f"web.core.alert.target_{status['status']}", lang,
                                       inventory=inv.code,
                                       months=", ".join(status["above"][-3:]))})
    rt = eq.realtime(conn, b.node_id, now_us=now_us)
    stale = [m for m in rt["meters"] if m["status"] in ("stale", "no_data")]
    if stale:
        oldest = min((m["last_reading"] for m in stale if m["last_reading"]), default=None)
        items.append({"kind": "stale", "severity": "warning", "count": len(stale),
                      "meters": [m["meter"] for m in stale][:TOP * 2],
                      "since": oldest,
                      "message": t("web.core.alert.stale", lang, count=len(stale),
                                   total=len(rt["meters"]))})
    order = {"error": 0, "warning": 1, "info": 2}
    items.sort(key=lambda a: order.get(a["severity"], 3))
    return {"items": items, "quality_open": len(found), "quality_by_severity": by_severity,
            "stale_meters": len(stale), "boundary_meters": len(rt["meters"])}


# -- the answer --------------------------------------------------------------------------------
#: Optional sections (the energy KPIs, the trend and the carrier mix are always there).
PARTS = ("load", "top", "intensity", "carbon", "sankey", "benchmarks", "alerts")


def dashboard(conn: Connection, node_id: int, *, now: datetime | None = None,
              lang: str = "zh-CN", parts=None) -> dict:
    """Everything the dashboard and the wall display show for a park or an enterprise (see
    the module docstring); ``now`` defaults to the current time, ``parts`` (names of
    :data:`PARTS`) to all sections — a screen that shows less asks for less."""
    want = set(PARTS if parts is None else parts)
    node = conn.execute(select(Node.id, Node.code, Node.name_zh, Node.name_en, Node.kind,
                               Node.path).where(Node.id == node_id)).first()
    if node is None:
        raise NotFound("node", node_id)
    tz = eq.timezone_of(conn, node_id)
    now_us = to_us(now) if now is not None else time.time_ns() // 1000
    today = datetime.fromtimestamp(now_us / 1e6, tz).date()
    spans = windows(today)
    b = ed.boundary(conn, node_id)
    versions = (_latest_versions(conn, _enterprises_under(conn, node))
                if want & {"carbon", "alerts"} else [])
    out = {"node": node.code, "node_id": node.id, "name_zh": node.name_zh,
           "name_en": node.name_en, "name": _name(node, lang), "kind": node.kind,
           "timezone": tz.key, "lang": lang, "parts": [x for x in PARTS if x in want],
           "now": eq.query.local_iso(now_us, tz), "today": today.isoformat(),
           "periods": {k: {"start": a.isoformat(), "end": z.isoformat()}
                       for k, (a, z) in spans.items() if not k.startswith("trend")}}
    ctx = eq.Context(conn, tz)  # shared by every energy figure below
    out.update(energy(conn, ctx, b, today))
    if "load" in want:
        out["load"] = load_curve(conn, ctx, b, now_us)
    if "top" in want:
        out["top"] = _guarded(top_consumers, conn, ctx, node_id, spans["month"])
    if "intensity" in want:
        out["kpis"]["intensity"] = _guarded(intensity, conn, node_id, spans["last_month"])
    if "carbon" in want:
        out["kpis"]["carbon"] = _guarded(carbon, conn, node, versions)
    if "sankey" in want:
        out["sankey"] = _guarded(sankey, conn, node_id, spans["last_month"])
    if "benchmarks" in want:
        out["benchmarks"] = _guarded(benchmark_positions, conn, node, spans["last_month"])
    if "alerts" in want:
        out["alerts"] = alerts(conn, node, b, versions, now_us, lang)
    out["links"] = {"energy_query": f"/api/energy/query?node={node.code}",
                    "sankey": f"/api/energy/sankey?node={node.code}",
                    "wall": f"/wall?node={node.code}"}
    return out


def _guarded(fn, *args):
    """A section that may not apply to the node (no children, no products, no inventory):
    its input error becomes ``{"error": message}`` instead of failing the whole answer."""
    try:
        return fn(*args)
    except (InputError, NotFound, LookupError) as exc:
        return {"error": str(exc)}
