"""Data of the GHG emission report (温室气体排放报告) of an enterprise inventory version or of
a park inventory, and the report as a file.

:func:`enterprise_data` reads one version of an enterprise inventory
(:mod:`nengtan.services.inventories`: the locked snapshot, or the version asked for) and the
enterprise's node; :func:`park_data` computes the park inventory
(:mod:`nengtan.services.park_inventory`).  Both return the same plain structure (figures in
tCO2e, each source with its activity data, parameters with their sources and status, data
quality facts), which :mod:`nengtan.reports.ghg` turns into a document in one language and
the renderers into Excel or PDF.  No figure is computed here: totals, scopes and breakdowns
come from the inventory result or the park inventory as stored or computed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from nengtan import __version__
from nengtan.carbon.model import dicts_in
from nengtan.config import get_settings
from nengtan.errors import InputError, Issue, NotFound
from nengtan.services import energy_data, park_inventory
from nengtan.services.energy_data import Period
from nengtan.store.models import Node

FORMATS = ("xlsx", "pdf")


def _period_dict(start: date, end: date, label: str, grain: str = "custom") -> dict:
    return {"start": start.isoformat(), "end": end.isoformat(),
            "end_inclusive": (end - timedelta(days=1)).isoformat(), "label": label,
            "grain": grain}


def _timezone(conn: Connection, node_id: int) -> str:
    path = conn.execute(select(Node.path).where(Node.id == node_id)).scalar() or ""
    ids = [int(x) for x in path.strip("/").split("/") if x]
    zones = dict(conn.execute(select(Node.id, Node.timezone).where(Node.id.in_(ids))).all())
    return next((zones[i] for i in reversed(ids) if zones.get(i)), get_settings().timezone)


def _subject(conn: Connection, node_id: int) -> dict:
    n = conn.execute(select(Node.code, Node.name_zh, Node.name_en, Node.kind, Node.credit_code,
                            Node.industry_code, Node.address, Node.region, Node.description,
                            Node.id).where(Node.id == node_id)).one()
    return {"code": n.code, "name_zh": n.name_zh, "name_en": n.name_en, "kind": n.kind,
            "credit_code": n.credit_code, "industry_code": n.industry_code,
            "industry_section": park_inventory.industry_section(n.industry_code),
            "address": n.address, "region": n.region, "description": n.description,
            "node_id": n.id}


def _params_of(source_code: str, lineage: dict) -> list[dict]:
    out = []
    for p in (lineage or {}).get("parameters", []) or []:
        out.append({"source": source_code, "parameter": p.get("parameter"),
                    "value": p.get("value"), "unit": p.get("unit"), "origin": p.get("origin"),
                    "document": p.get("source") or p.get("document"),
                    "status": p.get("status"), "factor_id": p.get("factor_id")})
    return out


def _unverified(factors: list[dict], params: list[dict]) -> list[str]:
    ids = [f["factor_id"] for f in factors if f.get("status") == "unverified"]
    ids += [f"{p['source']}:{p['parameter']}" for p in params
            if p.get("status") == "unverified" and p.get("origin") != "library"]
    return list(dict.fromkeys(ids))


# -- park ----------------------------------------------------------------------------------
def park_data(conn: Connection, park: str | int, period: Period | str, gwp_set: str = "AR5",
              inventory: park_inventory.ParkInventory | None = None) -> dict:
    """The report data of the park inventory of ``park`` over ``period``."""
    inv = inventory or park_inventory.park_inventory(conn, park, period, gwp_set)
    d = inv.as_dict()
    per = inv.period
    sources, params, links = [], [], []
    incomplete = []
    for term in d["terms"]:
        for p in term["parts"]:
            lin = p["lineage"]
            src = lin.get("source") or {}
            slin = src.get("lineage") or {}
            item = lin.get("item")
            tenant = lin.get("tenant")
            if tenant:
                data_source = park_tenant_origin(tenant)
                quantity, unit, coverage = None, None, None
            elif item:
                data_source = f"{item['source']} ({item['status']})"
                quantity = item["quantity"] * item["share"] if item.get("quantity") is not None \
                    else None
                unit, coverage = item.get("unit"), None
            else:
                meters = [lin["meter"]] if lin.get("meter") else [
                    m["meter"] for m in lin.get("meters", [])]
                data_source = ", ".join(meters)
                quantity, unit = lin.get("quantity"), lin.get("unit")
                coverage = lin.get("coverage")
                if coverage is None and lin.get("meters"):
                    coverage = min(m["coverage"] for m in lin["meters"])
                for m in ([lin] if lin.get("meter") else lin.get("meters", [])):
                    links.append({"source": p["key"], "kind": "meter", "reference": m["meter"],
                                  "quantity": m["quantity"], "unit": m["unit"],
                                  "coverage": m["coverage"], "evidence": m.get("role", "")})
                    if m["coverage"] < 0.999:
                        incomplete.append({"reference": m["meter"], "coverage": m["coverage"]})
            sources.append({
                "code": p["key"], "name_zh": p["label_zh"], "name_en": p["label_en"],
                "kind": src.get("kind") or ("tenant_inventory" if tenant else "amount"),
                "scope": src.get("scope"), "facility": p.get("node"), "gas": src.get("gas"),
                "method": src.get("method"), "quantity": quantity, "unit": unit,
                "coverage": coverage, "data_source": data_source,
                "emission_t": src.get("emission_t"), "gwp": src.get("gwp"),
                "tco2e": term["sign"] * p["tco2e"], "tco2e_market": None,
                "formula": slin.get("formula") or (lin.get("formula") and
                                                   f"{lin['formula']} tCO2e"),
                "term": term["term"]})
            params += _params_of(p["key"], slin)
    warnings = list(d["warnings"])
    for t in d["tenants"]:
        if t["origin"] != "locked":
            warnings.append({"rule": "tenant_not_locked", "node": t["node"],
                             "origin": t["origin"]})
    for tr in d["transfers"]:
        if tr["correction_sign"]:
            warnings.append({"rule": "transfer_corrected", "meter": tr["meter"],
                             "supplier": tr["supplier"], "receiver": tr["receiver"]})
    for it in d["items"]:
        if it["status"] not in ("verified", "measured"):
            warnings.append({"rule": "item_status", "code": it["code"], "status": it["status"]})
    covs = [x["coverage"] for x in links if x.get("coverage") is not None]
    ledger = _ledger_of(conn, park_inventory.LEDGER_KIND, [str(i["id"]) for i in d["items"]])
    return {
        "kind": "park", "generated_at": datetime.now(UTC).isoformat(),
        "timezone": _timezone(conn, d["park"]["node_id"]), "software_version": __version__,
        "subject": _subject(conn, d["park"]["node_id"]),
        "period": _period_dict(per.start, per.end, per.label, per.grain),
        "gwp_set": inv.gwp_set,
        "methodology": {"id": "park", "version": "1", "document": "seed 001 (3)",
                        "title_zh": "工业互联网园区综合碳核算",
                        "title_en": "industrial park comprehensive carbon accounting"},
        "inventory": None,
        "boundary": {"tenants": d["tenants"], "facilities": d["facilities"]},
        "terms": d["terms"], "sectors": d["sectors"], "transfers": d["transfers"],
        "items": d["items"], "sources": sources, "parameters": params,
        "activity_links": links, "factors": d["factors"],
        "totals": {"total_tco2e": d["total_tco2e"], "unit": "tCO2e"},
        "quality": {"coverage": min(covs) if covs else None, "incomplete": incomplete,
                    "unverified": _unverified(d["factors"], params), "warnings": warnings,
                    "ledger": ledger, "manual_entries": [], "evidence": []},
        "park_inventory": d,
    }


def park_tenant_origin(tenant: dict) -> str:
    if tenant.get("inventory_id"):
        return f"{tenant['origin']} inventory #{tenant['inventory_id']} v{tenant['version']}"
    return tenant["origin"]


def _ledger_of(conn: Connection, kind: str, keys: list[str]) -> dict | None:
    """How many of the records are in the evidence ledger, and its latest signed head."""
    from nengtan.services import ledger
    from nengtan.store.models.ledger import LedgerEntry

    if not keys:
        return None
    n = len(set(conn.execute(select(LedgerEntry.key).where(
        LedgerEntry.kind == kind, LedgerEntry.key.in_(keys))).scalars()))
    st = ledger.status(conn)
    cp = st.get("latest_checkpoint") or {}
    return {"entries": n, "tree_size": cp.get("tree_size"), "root_hash": cp.get("root_hash")}


# -- enterprise ----------------------------------------------------------------------------
def _inventory_row(conn: Connection, inventory: str | int):
    from nengtan.store.models.inventory import Inventory

    orm = Session(bind=conn)
    q = select(Inventory)
    row = None
    if isinstance(inventory, int) or str(inventory).isdigit():
        row = orm.scalars(q.where(Inventory.id == int(inventory))).first()
    if row is None:
        row = orm.scalars(q.where(Inventory.code == str(inventory))).first()
    if row is None:
        raise NotFound("inventory", inventory)
    return row


def _version_row(conn: Connection, inv, version: int | None):
    """The version asked for; else the latest locked one; else the latest."""
    from nengtan.store.models.inventory import InventoryVersion as V

    orm = Session(bind=conn)
    q = select(V).where(V.inventory_id == inv.id)
    if version is not None:
        row = orm.scalars(q.where(V.version == version)).first()
        if row is None:
            raise NotFound("inventory version", f"{inv.code} v{version}")
        return row
    row = orm.scalars(q.where(V.status == "locked").order_by(V.version.desc())).first()
    row = row or orm.scalars(q.order_by(V.version.desc())).first()
    if row is None:
        raise InputError([Issue("rule.ghg_no_version", field="inventory", value=inv.code)])
    return row


def _link_reference(link: dict) -> str:
    kind = link.get("kind")
    if kind == "meter":
        return str(link.get("meter") or link.get("meter_id") or "")
    if kind == "manual_entry":
        return f"#{link.get('manual_entry')}"
    if kind == "production":
        return str(link.get("product") or "")
    if kind == "cems":
        return str(link.get("monitor") or "")
    if kind == "fuel_deliveries":
        n = len(link.get("deliveries") or link.get("records") or [])
        return f"{n} deliveries" if n else "fuel deliveries"
    return str(link.get("reference") or link.get("source") or "")


def _evidence_of_link(link) -> list[dict]:
    """Every evidence file (a dict with ``sha256`` and ``evidence_id``) anywhere in a link's
    lineage: manual entries, lab records, certificates."""
    return [x for x in dicts_in(link)
            if isinstance(x.get("sha256"), str) and "evidence_id" in x]


def enterprise_data(conn: Connection, inventory: str | int, version: int | None = None) -> dict:
    """The report data of one version of an enterprise inventory (the latest locked version
    when ``version`` is None, else the latest)."""
    inv = _inventory_row(conn, inventory)
    ver = _version_row(conn, inv, version)
    result = ver.result or {}
    entries = list(result.get("sources") or [])
    sources, params, links, manual, evidence, incomplete = [], [], [], [], {}, []
    for e in entries:
        lin = e.get("lineage") or {}
        act = lin.get("activity_data") or {}
        src_links = act.get("links") or []
        refs = []
        for lk in src_links:
            ref = _link_reference(lk)
            refs.append(f"{lk.get('kind')} {ref}".strip())
            evs = _evidence_of_link(lk)
            for ev in evs:
                evidence.setdefault(ev["sha256"], ev)
            links.append({"source": e["source"], "kind": lk.get("kind"), "reference": ref,
                          "quantity": lk.get("quantity", lk.get("value")),
                          "unit": lk.get("unit"), "coverage": lk.get("coverage"),
                          "evidence": ", ".join(x["sha256"][:12] for x in evs)})
            if lk.get("coverage") is not None and lk["coverage"] < 0.999:
                incomplete.append({"reference": f"{e['source']} / {ref}",
                                   "coverage": lk["coverage"]})
            for me in _manual_entries_of(lk):
                manual.append(me | {"source": e["source"]})
        for ev in _evidence_of_link(lin.get("given_parameters")):
            evidence.setdefault(ev["sha256"], ev)
        for me in _manual_entries_of(lin.get("given_parameters")):
            manual.append(me | {"source": e["source"]})
        sources.append({
            "code": e["source"], "name_zh": e.get("name_zh"), "name_en": e.get("name_en"),
            "kind": e["kind"], "scope": e.get("scope"), "facility": e.get("facility"),
            "carrier": e.get("carrier"), "gas": e.get("gas"), "method": e.get("method"),
            "quantity": e.get("quantity"), "unit": e.get("quantity_unit"),
            "coverage": e.get("coverage"), "data_source": "; ".join(refs),
            "emission_t": e.get("emission_t"), "gwp": e.get("gwp"), "tco2e": e["tco2e"],
            "tco2e_market": e.get("tco2e_market"), "formula": lin.get("formula")})
        params += _params_of(e["source"], lin)
    totals = result.get("totals") or {
        "total_tco2e": ver.total_tco2e, "scope1_tco2e": ver.scope1_tco2e,
        "scope2_tco2e": ver.scope2_tco2e, "scope2_market_tco2e": ver.scope2_market_tco2e,
        "total_market_tco2e": ver.scope1_tco2e + ver.scope2_market_tco2e}
    bd = result
    by_fac = bd.get("by_facility") or []
    nodes = dict(conn.execute(select(Node.code, Node.kind)).all())
    names = {r.code: r for r in conn.execute(select(Node.code, Node.name_zh, Node.name_en))}
    facilities = []
    for f in by_fac:
        code = f.get("facility")
        if not code:
            continue
        n = names.get(code)
        facilities.append({"code": code, "name_zh": n.name_zh if n else code,
                           "name_en": n.name_en if n else code, "kind": nodes.get(code),
                           "sources": len(f.get("lineage", {}).get("sum_of", [])),
                           "tco2e": f["tco2e"]})
    factors = result.get("factor_values") or result.get("factors") or []
    from nengtan.carbon import methodologies

    try:
        meth = methodologies.get(inv.methodology)
        methodology = {"id": meth.id, "version": meth.version, "document": meth.document,
                       "title_zh": meth.title_zh, "title_en": meth.title_en}
    except NotFound:
        methodology = {"id": inv.methodology}
    warnings = [w for w in (result.get("warnings") or [])]
    covs = [s["coverage"] for s in sources if s.get("coverage") is not None]
    led = ver.ledger or {}
    counts = led.get("entries")
    ledger_info = {
        "entries": sum(counts.values()) if isinstance(counts, dict) else counts,
        "by_kind": counts if isinstance(counts, dict) else None,
        "tree_size": (led.get("checkpoint") or {}).get("tree_size"),
        "root_hash": (led.get("checkpoint") or {}).get("root_hash")} if led else None
    return {
        "kind": "enterprise", "generated_at": datetime.now(UTC).isoformat(),
        "timezone": _timezone(conn, inv.node_id), "software_version": __version__,
        "subject": _subject(conn, inv.node_id),
        "period": _period_dict(inv.period_start, inv.period_end, inv.period_label),
        "gwp_set": inv.gwp_set, "methodology": methodology,
        "inventory": {"id": inv.id, "code": inv.code, "name_zh": inv.name_zh,
                      "name_en": inv.name_en, "base_year": inv.base_year,
                      "version": ver.version, "status": ver.status,
                      "computed_at": _iso(ver.computed_at), "locked_at": _iso(ver.locked_at),
                      "locked_by": ver.locked_by, "digest": ver.digest,
                      "version_id": ver.id, "region": inv.region},
        "boundary": {"operational": inv.operational_boundary, "facilities": facilities},
        "sources": sources, "parameters": params, "activity_links": links,
        "factors": factors, "totals": totals,
        "by_kind": [{"kind": x["kind"], "tco2e": x["tco2e"]} for x in bd.get("by_kind", [])],
        "by_gas": [{"gas": x["gas"], "tco2e": x["tco2e"], "emission_t": x.get("emission_t")}
                   for x in bd.get("by_gas", [])],
        "by_facility": [{"facility": x.get("facility"), "tco2e": x["tco2e"]} for x in by_fac],
        "quality": {"coverage": min(covs) if covs else None, "incomplete": incomplete,
                    "unverified": _unverified(factors, params), "warnings": warnings,
                    "manual_entries": _unique_entries(manual),
                    "evidence": list(evidence.values()), "ledger": ledger_info},
        "result": result,
    }


def _manual_entries_of(link) -> list[dict]:
    """Every reviewed manual entry version cited anywhere in a link's lineage."""
    return [{k: x.get(k) for k in ("manual_entry", "version", "entered_by", "reviewed_by",
                                   "reviewed_at")} | {"evidence": _evidence_of_link(x)}
            for x in dicts_in(link)
            if isinstance(x.get("manual_entry"), int) and x.get("reviewed_by")]


def _unique_entries(entries: list[dict]) -> list[dict]:
    seen: dict = {}
    for e in entries:
        key = (e.get("manual_entry"), e.get("version"))
        seen.setdefault(key, e)
    return list(seen.values())


def _iso(ts) -> str | None:
    return ts.isoformat() if ts else None


# -- files ---------------------------------------------------------------------------------
@dataclass
class Rendered:
    content: bytes
    filename: str
    media_type: str
    data: dict
    seconds: float


def render_data(data: dict, fmt: str, lang: str | None = None) -> Rendered:
    """Report data → file bytes in ``fmt`` (xlsx, pdf) and ``lang`` (zh-CN default)."""
    from nengtan.reports import ghg as ghg_doc
    from nengtan.reports.render import MEDIA_TYPES
    from nengtan.reports.render import render as render_bytes

    if fmt not in FORMATS:
        raise InputError([Issue("rule.choice", field="format", value=fmt,
                                params={"choices": ", ".join(FORMATS)})])
    t0 = time.perf_counter()
    doc = ghg_doc.compose(data, lang)
    content = render_bytes(doc, fmt)
    return Rendered(content, f"{doc.filename}.{fmt}", MEDIA_TYPES[fmt], data,
                    time.perf_counter() - t0)


def enterprise_report(conn: Connection, inventory: str | int, version: int | None, fmt: str,
                      lang: str | None = None) -> Rendered:
    return render_data(enterprise_data(conn, inventory, version), fmt, lang)


def park_report(conn: Connection, park: str | int, period: Period | str, fmt: str,
                lang: str | None = None, gwp_set: str = "AR5") -> Rendered:
    return render_data(park_data(conn, park, period, gwp_set), fmt, lang)


def parse_park_period(text: str, field_name: str = "period") -> Period:
    return energy_data.parse_period(text, field_name)
