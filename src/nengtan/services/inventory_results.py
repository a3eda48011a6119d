"""Figures of an inventory result, built from the engine's source results (no database).

An inventory result is one JSON document (stored canonically as a version, see
:mod:`nengtan.services.inventories`).  Every figure in it — a number of tCO2e — sits in an
object with a ``lineage``:

* a source: the engine's lineage (methodology and version, formula with its numbers, every
  parameter with value, unit, source, status and factor id) plus the activity data: each
  link's quantity, the meter's coverage and the URLs of its rollups and raw readings, the
  approved manual entries with their evidence files (SHA-256, uploader, time), the lab records
  of fuel deliveries;
* an aggregate (total, scope, gas, kind, facility, month): ``sum_of`` the sources it adds up
  (each with its own lineage) and how.

Scopes partition the total (GB/T 32150-2015 6.5: direct = scope 1, purchased and exported
electricity and heat = scope 2; deductions negative in their scope); scope 3 categories and
sources shown alongside (e.g. a CEMS cross-check) are reported apart, never in the total.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date

from nengtan.carbon.engine import gas_group
from nengtan.timeseries.calendar import next_month

UNIT = "tCO2e"
TOTAL_FORMULA = ("total = Σ sources (scope 1: combustion + process + fugitive − recovered; "
                 "scope 2: purchased electricity and heat − exported) = scope1 + scope2 "
                 "(GB/T 32150-2015 6.5)")


def _sum(values) -> float:
    return math.fsum(values)


def source_entry(src, res, act, params, facility: str | None, group: str) -> dict:
    """One source's figure: the engine's result with the activity data and parameters."""
    lineage = dict(res.lineage)
    lineage["activity_data"] = {"quantity": act.quantity, "unit": src.unit,
                                "green_mwh": act.green_mwh, "coverage": round(act.coverage, 6),
                                "links": act.links}
    if params.lineage:
        lineage["given_parameters"] = params.lineage
    lineage["source_definition"] = {"source_id": src.id, "revision": src.revision,
                                    "url": f"/api/inventory-sources/{src.id}"}
    return {
        "source": src.code, "source_id": src.id, "revision": src.revision,
        "name_zh": src.name_zh, "name_en": src.name_en, "kind": src.kind,
        "scope": 3 if src.scope3_category else res.scope,
        "scope3_category": src.scope3_category, "group": group, "carrier": src.carrier,
        "gas": res.gas, "gas_group": gas_group(res.gas), "method": res.method,
        "facility": facility, "quantity": act.quantity, "quantity_unit": src.unit,
        "green_mwh": act.green_mwh, "coverage": round(act.coverage, 6),
        "emission_t": res.emission_t, "gwp": res.gwp, "tco2e": res.tco2e,
        "tco2e_market": res.tco2e_market, "unit": UNIT, "lineage": lineage,
    }


def _aggregate(entries: list[dict], key: str, label: str) -> list[dict]:
    groups: dict = defaultdict(list)
    for e in entries:
        groups[e[key]].append(e)
    out = []
    for k in sorted(groups, key=lambda x: (x is None, str(x))):
        es = groups[k]
        item = {label: k, "tco2e": _sum(e["tco2e"] for e in es),
                "tco2e_market": _sum(e["tco2e_market"] for e in es), "unit": UNIT,
                "lineage": {"sum_of": [e["source"] for e in es],
                            "method": f"sum of the sources' tCO2e by {label}"}}
        if key == "gas_group":
            item["emission_t"] = _sum(e["emission_t"] for e in es)
            item["gases"] = sorted({e["gas"] for e in es})
        out.append(item)
    return out


def totals(entries: list[dict]) -> dict:
    s1 = [e for e in entries if e["scope"] == 1]
    s2 = [e for e in entries if e["scope"] == 2]
    scope1 = _sum(e["tco2e"] for e in s1)
    scope2 = _sum(e["tco2e"] for e in s2)
    scope2m = _sum(e["tco2e_market"] for e in s2)
    return {"total_tco2e": _sum(e["tco2e"] for e in entries), "scope1_tco2e": scope1,
            "scope2_tco2e": scope2, "scope2_market_tco2e": scope2m,
            "total_market_tco2e": scope1 + scope2m, "unit": UNIT,
            "lineage": {"sum_of": [e["source"] for e in entries], "formula": TOTAL_FORMULA,
                        "scope1": [e["source"] for e in s1],
                        "scope2": [e["source"] for e in s2],
                        "market_based": "scope 2 electricity backed by green certificates / "
                                        "green power contracts at 0 tCO2/MWh"}}


def by_scope(entries: list[dict]) -> list[dict]:
    out = []
    for scope, basis in ((1, None), (2, "location"), (2, "market")):
        es = [e for e in entries if e["scope"] == scope]
        field = "tco2e_market" if basis == "market" else "tco2e"
        out.append({"scope": scope, "basis": basis, "tco2e": _sum(e[field] for e in es),
                    "unit": UNIT,
                    "lineage": {"sum_of": [e["source"] for e in es],
                                "method": f"sum of the sources' {field} in scope {scope}"}})
    return out


def breakdowns(entries: list[dict]) -> dict:
    return {"by_scope": by_scope(entries),
            "by_facility": _aggregate(entries, "facility", "facility"),
            "by_gas": _aggregate(entries, "gas_group", "gas"),
            "by_kind": _aggregate(entries, "kind", "kind")}


def scope3(entries: list[dict]) -> dict:
    cats = _aggregate(entries, "scope3_category", "category")
    return {"total_tco2e": _sum(e["tco2e"] for e in entries), "unit": UNIT,
            "categories": cats, "sources": entries,
            "lineage": {"sum_of": [e["source"] for e in entries],
                        "method": "GHG Protocol scope 3 categories, reported apart from "
                                  "scopes 1 and 2 (not in the total)"}}


def month_entry(label: str, start: date, end: date, parts: list[dict],
                cumulative: float) -> dict:
    """One month of the trend: ``parts`` are per-source dicts (source, scope, quantity,
    tco2e, tco2e_market, links)."""
    s1 = _sum(p["tco2e"] for p in parts if p["scope"] == 1)
    s2 = _sum(p["tco2e"] for p in parts if p["scope"] == 2)
    s2m = _sum(p["tco2e_market"] for p in parts if p["scope"] == 2)
    total = s1 + s2
    return {"month": label, "start": start.isoformat(), "end": end.isoformat(),
            "total_tco2e": total, "scope1_tco2e": s1, "scope2_tco2e": s2,
            "scope2_market_tco2e": s2m, "total_market_tco2e": s1 + s2m,
            "cumulative_tco2e": cumulative + total, "unit": UNIT, "sources": parts,
            "lineage": {"sum_of": [p["source"] for p in parts],
                        "method": "each source's activity data of the month × the "
                                  "parameters of the period (see the source); months add "
                                  "up to the period"}}


def alerts(trend: list[dict], target: dict | None, period_start: date,
           period_end: date) -> dict:
    """Months in which the running total is above the target or budget pro rata.

    Budget to date = target × elapsed share: for a ``year`` target, days elapsed / days of
    the year; for a ``month`` target, the number of months elapsed (partial months by days);
    for a ``period`` target, days elapsed / days of the period."""
    if not target or target.get("tco2e") is None:
        return {"target": None, "status": "no_target", "items": [], "lineage": None}
    t, per = float(target["tco2e"]), target.get("period") or "year"
    year_days = float((date(period_start.year + 1, 1, 1) - date(period_start.year, 1, 1)).days)
    items = []
    for m in trend:
        start, end = date.fromisoformat(m["start"]), date.fromisoformat(m["end"])
        elapsed = (end - period_start).days
        if per == "month":
            budget = _months_budget(t, period_start, end)
        elif per == "period":
            budget = t * elapsed / max((period_end - period_start).days, 1)
        else:
            budget = t * elapsed / year_days
        excess = m["cumulative_tco2e"] - budget
        month_budget = (_months_budget(t, start, end) if per == "month" else
                        t * (end - start).days / (year_days if per == "year" else
                                                  max((period_end - period_start).days, 1)))
        items.append({"month": m["month"], "cumulative_tco2e": m["cumulative_tco2e"],
                      "budget_to_date_tco2e": budget, "excess_tco2e": excess,
                      "excess_pct": excess / budget * 100.0 if budget else None,
                      "month_tco2e": m["total_tco2e"], "month_budget_tco2e": month_budget,
                      "above": excess > 1e-9, "unit": UNIT,
                      "lineage": {"cumulative_of": "trend", "budget": f"{t:g} tCO2e per {per}"
                                  f" × elapsed share", "target_source": target.get("source")}})
    above = [i for i in items if i["above"]]
    return {"target": {"tco2e": t, "period": per, "source": target.get("source"),
                       "unit": UNIT, "lineage": target.get("lineage")},
            "status": "above" if above and above[-1] is items[-1] else
            ("was_above" if above else "ok"),
            "items": items, "above": [i["month"] for i in above]}


def _months_budget(per_month: float, start: date, end: date) -> float:
    """``per_month`` × months in [start, end), partial months by their days."""
    total = 0.0
    cur = start
    while cur < end:
        nxt = next_month(cur)
        stop = min(nxt, end)
        first = date(cur.year, cur.month, 1)
        total += per_month * (stop - cur).days / (nxt - first).days
        cur = stop
    return total


def factor_values(entries: list[dict]) -> list[dict]:
    """Every library value the sources used (parameters and GWPs), once each."""
    seen: dict[str, dict] = {}
    for e in entries:
        lin = e["lineage"]
        for p in list(lin.get("parameters", [])) + [lin.get("gwp") or {}]:
            fid = p.get("factor_id")
            if p.get("origin") == "library" and fid and fid not in seen:
                seen[fid] = {k: p.get(k) for k in (
                    "factor_id", "parameter", "subject", "value", "unit", "source", "document",
                    "clause", "year", "region", "status", "dataset", "version")}
                seen[fid]["used_by"] = []
            if p.get("origin") == "library" and fid and e["source"] not in seen[fid]["used_by"]:
                seen[fid]["used_by"].append(e["source"])
    return [seen[k] for k in sorted(seen)]


# == diff ====================================================================================
def _link_key(link: dict) -> str:
    kind = link.get("kind")
    if kind == "meter":
        return f"meter {link.get('meter')}"
    if kind == "manual_entry":
        return f"manual entry {link.get('manual_entry')}"
    if kind == "production":
        return f"production {link.get('product')}"
    if kind == "cems":
        return f"cems {link.get('monitor')}"
    if kind == "fuel_deliveries":
        return "fuel deliveries"
    return f"{kind} {link.get('reference') or link.get('source')}"


def _params(entry: dict) -> dict[str, dict]:
    return {p["parameter"]: p for p in entry["lineage"].get("parameters", [])}


def _close(a, b, rel: float = 1e-12) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)
    return a == b


def source_diff(old: dict | None, new: dict | None) -> dict:
    """Old, new, delta and why, for one source."""
    code = (new or old)["source"]
    o = old["tco2e"] if old else None
    n = new["tco2e"] if new else None
    item = {"source": code, "old_tco2e": o, "new_tco2e": n,
            "delta_tco2e": (n or 0.0) - (o or 0.0), "unit": UNIT, "why": []}
    if old is None:
        item["status"] = "added"
        item["why"].append({"what": "source", "change": "added"})
        return item
    if new is None:
        item["status"] = "removed"
        item["why"].append({"what": "source", "change": "removed"})
        return item
    why = item["why"]
    for f in ("kind", "method", "gas", "carrier", "facility", "scope", "quantity_unit"):
        if old.get(f) != new.get(f):
            why.append({"what": "definition", "field": f, "old": old.get(f), "new": new.get(f)})
    if not _close(old["quantity"], new["quantity"]):
        why.append({"what": "activity", "old": old["quantity"], "new": new["quantity"],
                    "delta": new["quantity"] - old["quantity"],
                    "unit": new["quantity_unit"]})
    ol = {_link_key(x): x for x in old["lineage"]["activity_data"]["links"]}
    nl = {_link_key(x): x for x in new["lineage"]["activity_data"]["links"]}
    for k in sorted(set(ol) | set(nl)):
        a, b = ol.get(k), nl.get(k)
        if a is None or b is None:
            why.append({"what": "activity_link", "link": k,
                        "change": "added" if a is None else "removed",
                        "quantity": (b or a).get("quantity")})
        elif not _close(a.get("quantity"), b.get("quantity")):
            why.append({"what": "activity_link", "link": k, "old": a.get("quantity"),
                        "new": b.get("quantity"),
                        "delta": (b.get("quantity") or 0.0) - (a.get("quantity") or 0.0),
                        "unit": b.get("quantity_unit"),
                        "coverage": {"old": a.get("coverage"), "new": b.get("coverage")}})
    if not _close(old.get("green_mwh", 0.0), new.get("green_mwh", 0.0)):
        why.append({"what": "green_certificates", "old": old.get("green_mwh"),
                    "new": new.get("green_mwh"), "unit": "MWh"})
    op, np_ = _params(old), _params(new)
    for name in sorted(set(op) | set(np_)):
        a, b = op.get(name), np_.get(name)
        if a is None or b is None:
            why.append({"what": "parameter", "parameter": name,
                        "change": "added" if a is None else "removed",
                        "value": (b or a).get("value"), "unit": (b or a).get("unit"),
                        "source": (b or a).get("source")})
            continue
        if not _close(a.get("value"), b.get("value")) or a.get("factor_id") != b.get(
                "factor_id") or a.get("unit") != b.get("unit") or a.get("status") != b.get(
                "status") or a.get("source") != b.get("source"):
            why.append({"what": "parameter", "parameter": name,
                        "old": {k: a.get(k) for k in ("value", "unit", "source", "status",
                                                      "factor_id")},
                        "new": {k: b.get(k) for k in ("value", "unit", "source", "status",
                                                      "factor_id")}})
    og, ng = old["lineage"].get("gwp") or {}, new["lineage"].get("gwp") or {}
    if not _close(og.get("value"), ng.get("value")) or og.get("set") != ng.get("set"):
        why.append({"what": "gwp", "old": {"value": og.get("value"), "set": og.get("set")},
                    "new": {"value": ng.get("value"), "set": ng.get("set")}})
    om, nm = old["lineage"].get("methodology"), new["lineage"].get("methodology")
    if om != nm:
        why.append({"what": "methodology", "old": om, "new": nm})
    changed = not _close(o, n) or not _close(old["tco2e_market"], new["tco2e_market"])
    item["status"] = "changed" if changed else ("inputs_changed" if why else "unchanged")
    return item


def diff(old: dict, new: dict) -> dict:
    """What changed between two results of one inventory, per source and in total."""
    def index(r):
        out = {e["source"]: e for e in r["sources"]}
        out.update({e["source"]: e for e in r.get("alongside", [])})
        out.update({e["source"]: e for e in (r.get("scope3") or {}).get("sources", [])})
        return out
    a, b = index(old), index(new)
    sources = [source_diff(a.get(k), b.get(k)) for k in sorted(set(a) | set(b))]
    tot = {}
    for f in ("total_tco2e", "scope1_tco2e", "scope2_tco2e", "scope2_market_tco2e",
              "total_market_tco2e"):
        x, y = old["totals"][f], new["totals"][f]
        tot[f] = {"old": x, "new": y, "delta": y - x,
                  "delta_pct": (y - x) / x * 100.0 if x else None}
    settings = []
    for f in ("period", "gwp_set", "methodology", "region", "grid_basis"):
        x, y = old["inventory"].get(f), new["inventory"].get(f)
        if x != y:
            settings.append({"field": f, "old": x, "new": y})
    return {"totals": tot, "unit": UNIT, "settings": settings, "sources": sources,
            "changed_sources": [s["source"] for s in sources if s["status"] != "unchanged"]}


# == one figure ==============================================================================
def figure(result: dict, spec: str) -> dict | None:
    """The figure named by ``spec`` with its sources: ``total``, ``scope1``, ``scope2``,
    ``scope2_market``, ``total_market``, ``source:<code>``, ``facility:<code>``,
    ``gas:<gas>``, ``kind:<kind>``, ``month:<YYYY-MM>``, ``scope3:<category>``,
    ``alongside:<code>``."""
    sources = {e["source"]: e for e in result["sources"]}
    kind, _, key = spec.partition(":")
    t = result["totals"]
    if kind in ("total", "scope1", "scope2", "scope2_market", "total_market") and not key:
        field = f"{kind}_tco2e"
        scope = {"scope1": 1, "scope2": 2, "scope2_market": 2}.get(kind)
        codes = [e["source"] for e in result["sources"]
                 if scope is None or e["scope"] == scope]
        return {"figure": spec, "value": t[field], "unit": UNIT, "lineage": t["lineage"],
                "sources": [sources[c] for c in codes]}
    if kind == "source":
        e = sources.get(key)
        return None if e is None else {"figure": spec, "value": e["tco2e"], "unit": UNIT,
                                       "lineage": e["lineage"], "sources": [e]}
    if kind == "alongside":
        e = next((x for x in result.get("alongside", []) if x["source"] == key), None)
        return None if e is None else {"figure": spec, "value": e["tco2e"], "unit": UNIT,
                                       "lineage": e["lineage"], "sources": [e]}
    table = {"facility": ("by_facility", "facility"), "gas": ("by_gas", "gas"),
             "kind": ("by_kind", "kind")}
    if kind in table:
        name, label = table[kind]
        for item in result[name]:
            if str(item[label]) == key or (item[label] is None and key in ("", "-", "none")):
                return {"figure": spec, "value": item["tco2e"], "unit": UNIT,
                        "lineage": item["lineage"],
                        "sources": [sources[c] for c in item["lineage"]["sum_of"]]}
        return None
    if kind == "scope3":
        s3 = result.get("scope3") or {"categories": [], "sources": []}
        by_code = {e["source"]: e for e in s3["sources"]}
        for item in s3["categories"]:
            if str(item["category"]) == key:
                return {"figure": spec, "value": item["tco2e"], "unit": UNIT,
                        "lineage": item["lineage"],
                        "sources": [by_code[c] for c in item["lineage"]["sum_of"]]}
        return None
    if kind == "month":
        for m in result.get("trend", []):
            if m["month"] == key:
                return {"figure": spec, "value": m["total_tco2e"], "unit": UNIT,
                        "lineage": m["lineage"], "month": m,
                        "sources": [sources[p["source"]] for p in m["sources"]
                                    if p["source"] in sources]}
        return None
    return None
