"""Benchmark library, links and comparisons (能效对标): the I/O around :mod:`nengtan.benchmark`.

* **Library** — table ``benchmarks``: loaded from the shipped datasets (``benchmarks``: NDRC
  标杆/基准 levels; ``limit_grades``: 能耗限额 grades; ``equipment_grades``: GB 18613 motors and
  GB 19153 compressors) on first use.  Loading is idempotent and never edits a row: a shipped
  value that changed in a new nengtan release becomes a new version of its entry.  Users add
  entries, or new versions of any entry, with their own source and status.
* **Links** — table ``benchmark_links``: a product compared with an entry, everywhere or only in
  a node's subtree (e.g. a provincial level for one plant).
* **Comparisons** — a product line's unit product comprehensive energy consumption over a
  period (from :func:`nengtan.services.energy_totals.product_intensity`) against each linked
  entry: level reached, gap in % and in tce/a; ranking of a park's enterprises; grading of
  equipment nameplates.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.orm import Session

from nengtan import reference
from nengtan.benchmark import equipment as eq
from nengtan.benchmark import ranking as rk
from nengtan.benchmark.levels import (
    DIRECTIONS,
    LOWER,
    Level,
    LevelSet,
    annualise,
    compare,
    level_issues,
)
from nengtan.errors import InputError, Issue, NotFound
from nengtan.i18n import t
from nengtan.services.energy_data import Period, parse_period
from nengtan.services.fields import FieldSpec, coerce_record
from nengtan.store import meta
from nengtan.store.models import Node, Product, ProductionRecord
from nengtan.store.models.benchmark import BENCHMARK_KINDS, Benchmark, BenchmarkLink

METHOD_VERSION = "nengtan.benchmark 1"
SHIPPED_DATASETS = ("benchmarks", "limit_grades", "equipment_grades")
META_KEY = "benchmark_library"
STATUSES = ("verified", "unverified")
#: Path segments of the API that a code must not take.
RESERVED_CODES = ("links", "compare", "ranking", "equipment")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")
_CONTENT = ("kind", "sector", "product", "indicator", "unit", "direction", "levels", "scope",
            "document", "source", "status", "note")

BENCHMARK_FIELDS = [
    FieldSpec("code", "str", "编码", "code", required=True, max_length=100,
              help_en="letters, digits and . _ : -; an existing code gets a new version"),
    FieldSpec("kind", "choice", "类别", "kind", default="indicator", choices=BENCHMARK_KINDS,
              help_en="indicator: 标杆/基准 levels; limit: 能耗限额 grades; equipment: "
                      "equipment efficiency grades"),
    FieldSpec("sector", "str", "行业", "sector", max_length=60),
    FieldSpec("product", "str", "产品", "product", max_length=200),
    FieldSpec("indicator", "str", "指标", "indicator", max_length=200),
    FieldSpec("unit", "str", "单位", "unit", required=True, max_length=40,
              help_en="unit of the level values, e.g. kgce/t"),
    FieldSpec("direction", "choice", "优劣方向", "direction", default="lower",
              choices=DIRECTIONS, help_en="lower or higher values are better"),
    FieldSpec("levels", "json", "水平值", "levels", required=True,
              help_en='best first: [{"key": "benchmark", "value": 100}, {"key": "baseline", '
                      '"value": 117}] or {"grade_1": 100, "grade_2": 105, "grade_3": 117}'),
    FieldSpec("scope", "json", "适用范围", "scope",
              help_en="equipment entries: equipment, type, poles, size_min, size_max, "
                      "pressure_mpa"),
    FieldSpec("document", "str", "文件", "document", max_length=200),
    FieldSpec("source", "str", "来源", "source", required=True),
    FieldSpec("status", "choice", "核实状态", "status", required=True, choices=STATUSES),
    FieldSpec("note", "str", "备注", "note"),
    FieldSpec("created_by", "str", "创建人", "created by", max_length=100),
]

LINK_FIELDS = [
    FieldSpec("benchmark", "str", "对标编码", "benchmark code", required=True, max_length=100),
    FieldSpec("version", "int", "版本", "version", minimum=1,
              help_en="empty: follow the current version"),
    FieldSpec("product", "str", "产品编码", "product code", required=True, ref="product",
              max_length=64),
    FieldSpec("node", "str", "节点编码", "node code", ref="node", max_length=64,
              help_en="empty: the link applies wherever the product is made"),
    FieldSpec("note", "str", "备注", "note"),
    FieldSpec("created_by", "str", "创建人", "created by", max_length=100),
]
LINK_PATCH_FIELDS = [s for s in LINK_FIELDS if s.name in ("version", "node", "note")]


# -- the shipped library -------------------------------------------------------------------
def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _num(text: str | None) -> float | None:
    return float(text) if text not in (None, "") else None


def shipped_entries() -> list[dict]:
    """Every entry of the shipped datasets, as rows of ``benchmarks`` (without versions)."""
    out = []
    for r in reference.rows("benchmarks"):
        out.append({
            "code": f"ndrc.{_slug(r['product'])}", "kind": "indicator", "sector": r["sector"],
            "product": r["product"], "indicator": r["indicator"], "unit": r["unit"],
            "direction": LOWER,
            "levels": [{"key": "benchmark", "value": _num(r["benchmark_level"])},
                       {"key": "baseline", "value": _num(r["baseline_level"])}],
            "scope": None, "document": "工业重点领域能效标杆水平和基准水平",
            "source": r["source"], "status": r["status"], "note": None,
            "dataset": "benchmarks"})
    for r in reference.rows("limit_grades"):
        out.append({
            "code": r["code"], "kind": "limit", "sector": r["sector"], "product": r["product"],
            "indicator": r["indicator"], "unit": r["unit"], "direction": r["direction"],
            "levels": [{"key": f"grade_{i}", "value": _num(r[f"grade_{i}"])} for i in (1, 2, 3)],
            "scope": None, "document": r["standard"], "source": r["source"],
            "status": r["status"], "note": r["note"] or None, "dataset": "limit_grades"})
    for r in reference.rows("equipment_grades"):
        scope = {"equipment": r["equipment"], "type": r["type"] or None,
                 "poles": int(r["poles"]) if r["poles"] else None,
                 "size_basis": r["size_basis"], "size_min": _num(r["size_min"]),
                 "size_max": _num(r["size_max"]), "size_unit": r["size_unit"],
                 "pressure_mpa": _num(r["pressure_mpa"])}
        out.append({
            "code": r["code"], "kind": "equipment", "sector": "equipment",
            "product": r["equipment"], "indicator": r["indicator"], "unit": r["unit"],
            "direction": r["direction"],
            "levels": [{"key": f"grade_{i}", "value": _num(r[f"grade_{i}"])} for i in (1, 2, 3)],
            "scope": scope, "document": r["standard"], "source": r["source"],
            "status": r["status"], "note": r["note"] or None, "dataset": "equipment_grades"})
    return out


def _digest() -> str:
    h = hashlib.sha256(reference.DATASET_VERSION.encode())
    for name in SHIPPED_DATASETS:
        h.update(reference.sha256(name).encode())
    return h.hexdigest()


def _content(row) -> dict:
    get = row.get if isinstance(row, dict) else (lambda k: getattr(row, k))
    return {k: get(k) for k in _CONTENT}


def _same(a: dict, b: dict) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def ensure_library(conn: Connection) -> dict:
    """Load the shipped entries into ``benchmarks`` unless already done for these datasets.

    Returns ``{"inserted": n, "new_versions": m, "skipped": bool}``.  An entry whose shipped
    content differs from its latest shipped version gets a new version; nothing is updated.
    """
    digest = _digest()
    if meta.get(conn, META_KEY) == digest:
        return {"inserted": 0, "new_versions": 0, "skipped": True}
    latest_shipped: dict[str, Benchmark] = {}
    max_version: dict[str, int] = {}
    for b in conn.execute(select(Benchmark).order_by(Benchmark.code, Benchmark.version)):
        max_version[b.code] = b.version
        if b.origin == "shipped":
            latest_shipped[b.code] = b
    rows, inserted, new_versions = [], 0, 0
    for e in shipped_entries():
        old = latest_shipped.get(e["code"])
        if old is not None and _same(_content(old), _content(e)):
            continue
        version = max_version.get(e["code"], 0) + 1
        if old is None and e["code"] not in max_version:
            inserted += 1
        else:
            new_versions += 1
        rows.append({**e, "version": version, "origin": "shipped",
                     "dataset_version": reference.DATASET_VERSION, "created_by": "nengtan",
                     "created_at": datetime.now(ZoneInfo("UTC"))})
    if rows:
        conn.execute(insert(Benchmark), rows)
    meta.put(conn, META_KEY, digest)
    return {"inserted": inserted, "new_versions": new_versions, "skipped": False}


# -- entries -------------------------------------------------------------------------------
def _levels_out(levels: list) -> list[dict]:
    out = []
    for lv in levels or []:
        level = Level(lv["key"], lv.get("value"))
        out.append({"key": level.key, "value": level.value, "name_zh": level.name_zh,
                    "name_en": level.name_en})
    return out


def as_dict(b: Benchmark, current_version: int | None = None) -> dict:
    return {
        "id": b.id, "code": b.code, "version": b.version, "kind": b.kind, "sector": b.sector,
        "product": b.product, "indicator": b.indicator, "unit": b.unit,
        "direction": b.direction, "levels": _levels_out(b.levels), "scope": b.scope,
        "document": b.document, "source": b.source, "status": b.status, "origin": b.origin,
        "dataset": b.dataset, "dataset_version": b.dataset_version, "note": b.note,
        "created_by": b.created_by, "created_at": b.created_at,
        "current": current_version is None or b.version == current_version,
    }


def _rows(conn: Connection, query) -> list:
    """Rows of ``benchmarks`` (Core rows: attribute access by column name)."""
    return list(conn.execute(query))


def _current_filter():
    latest = (select(Benchmark.code, func.max(Benchmark.version).label("v"))
              .group_by(Benchmark.code).subquery())
    return latest, (Benchmark.code == latest.c.code) & (Benchmark.version == latest.c.v)


def list_entries(conn: Connection, kind: str | None = None, sector: str | None = None,
                 q: str | None = None, status: str | None = None,
                 all_versions: bool = False, limit: int = 100,
                 offset: int = 0) -> tuple[list[dict], int]:
    """Current entries (every version with ``all_versions``) matching the filters, by code."""
    ensure_library(conn)
    query = select(Benchmark)
    if not all_versions:
        latest, cond = _current_filter()
        query = query.join(latest, cond)
    if kind:
        query = query.where(Benchmark.kind == kind)
    if sector:
        query = query.where(Benchmark.sector == sector)
    if status:
        query = query.where(Benchmark.status == status)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(func.lower(Benchmark.code).like(like)
                            | func.lower(func.coalesce(Benchmark.product, "")).like(like)
                            | func.lower(func.coalesce(Benchmark.indicator, "")).like(like))
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar() or 0
    rows = _rows(conn, query.order_by(Benchmark.code, Benchmark.version)
                 .limit(limit).offset(offset))
    current = _current_versions(conn, {r.code for r in rows})
    return [as_dict(r, current.get(r.code)) for r in rows], int(total)


def _current_versions(conn: Connection, codes) -> dict[str, int]:
    if not codes:
        return {}
    return dict(conn.execute(select(Benchmark.code, func.max(Benchmark.version))
                             .where(Benchmark.code.in_(list(codes)))
                             .group_by(Benchmark.code)).all())


def get_entry(conn: Connection, code: str, version: int | None = None) -> Benchmark:
    """The entry ``code`` at ``version`` (default: current); NotFound otherwise."""
    ensure_library(conn)
    query = select(Benchmark).where(Benchmark.code == code)
    query = (query.where(Benchmark.version == version) if version is not None
             else query.order_by(Benchmark.version.desc()).limit(1))
    row = conn.execute(query).first()
    if row is None:
        raise NotFound("benchmark", code if version is None else f"{code} v{version}")
    return row


def entry_detail(conn: Connection, code: str, version: int | None = None) -> dict:
    b = get_entry(conn, code, version)
    versions = list(conn.execute(select(Benchmark.version).where(Benchmark.code == code)
                                 .order_by(Benchmark.version)).scalars())
    return {**as_dict(b, versions[-1]), "versions": versions}


def _parse_levels(raw, direction: str, row=None) -> list[dict]:
    def bad():
        return InputError([Issue("rule.bm_levels_format", row=row, field="levels",
                                 value=json.dumps(raw, ensure_ascii=False)[:200])])
    if isinstance(raw, dict):
        items = list(raw.items())
    elif isinstance(raw, list):
        items = []
        for x in raw:
            if not isinstance(x, dict) or "key" not in x:
                raise bad()
            items.append((x.get("key"), x.get("value")))
    else:
        raise bad()
    levels = []
    for key, value in items:
        if not isinstance(key, str) or not key.strip() or len(key) > 20:
            raise bad()
        if value is not None:
            if isinstance(value, bool):
                raise bad()
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise bad() from None
            if not math.isfinite(value):
                raise bad()
        levels.append({"key": key.strip(), "value": value})
    problems = level_issues([(lv["key"], lv["value"]) for lv in levels], direction)
    if problems:
        raise InputError([Issue(f"rule.{p}", row=row, field="levels",
                                value=json.dumps(raw, ensure_ascii=False)[:200])
                          for p in problems])
    return levels


def create_entry(conn: Connection, payload: dict) -> tuple[dict, bool]:
    """A new entry, or a new version of ``code``; ``(entry, created)``.

    Content identical to the current version creates nothing (``created`` False).
    """
    ensure_library(conn)
    data = coerce_record(BENCHMARK_FIELDS, payload)
    issues = []
    code = data["code"]
    if not _CODE.match(code) or code.lower() in RESERVED_CODES:
        issues.append(Issue("rule.bm_code", field="code", value=code))
    if data["scope"] is not None and not isinstance(data["scope"], dict):
        issues.append(Issue("rule.type_object", field="scope", value=None))
    if issues:
        raise InputError(issues)
    levels = _parse_levels(data["levels"], data["direction"])
    content = {k: data.get(k) for k in _CONTENT}
    content["levels"] = levels
    current = conn.execute(select(Benchmark).where(Benchmark.code == code)
                           .order_by(Benchmark.version.desc()).limit(1)).first()
    if current is not None:
        if current.kind != data["kind"]:
            raise InputError([Issue("rule.bm_kind_change", field="kind", value=data["kind"],
                                    params={"kind": current.kind})])
        if _same(_content(current), content):
            return entry_detail(conn, code), False
    version = (current.version + 1) if current is not None else 1
    conn.execute(insert(Benchmark).values(
        **content, code=code, version=version, origin="user", dataset=None,
        dataset_version="user", created_by=data.get("created_by"),
        created_at=datetime.now(ZoneInfo("UTC"))))
    return entry_detail(conn, code), True


def levelset(b: Benchmark) -> LevelSet:
    return LevelSet(b.code, b.unit, b.direction,
                    tuple(Level(lv["key"], lv.get("value")) for lv in b.levels or []),
                    b.version, " / ".join(x for x in (b.product, b.indicator) if x),
                    b.document or "", b.source, b.status, b.kind)


# -- links ---------------------------------------------------------------------------------
def _link_dict(conn: Connection, link: BenchmarkLink) -> dict:
    product = conn.execute(select(Product.code).where(Product.id == link.product_id)).scalar()
    node = (conn.execute(select(Node.code).where(Node.id == link.node_id)).scalar()
            if link.node_id else None)
    return {"id": link.id, "benchmark": link.benchmark_code, "version": link.version,
            "product": product, "product_id": link.product_id, "node": node,
            "node_id": link.node_id, "note": link.note, "created_by": link.created_by,
            "created_at": link.created_at}


def get_link(conn: Connection, link_id: int) -> BenchmarkLink:
    row = conn.execute(select(BenchmarkLink).where(BenchmarkLink.id == link_id)).first()
    if row is None:
        raise NotFound("benchmark link", link_id)
    return row


def link_detail(conn: Connection, link_id: int) -> dict:
    return _link_dict(conn, get_link(conn, link_id))


def list_links(conn: Connection, product: str | None = None, node: str | None = None,
               benchmark: str | None = None) -> list[dict]:
    query = select(BenchmarkLink).order_by(BenchmarkLink.id)
    if product:
        pid = _ref_id(conn, Product, product, "product", "product")
        query = query.where(BenchmarkLink.product_id == pid)
    if node:
        nid = _ref_id(conn, Node, node, "node", "node")
        query = query.where(BenchmarkLink.node_id == nid)
    if benchmark:
        query = query.where(BenchmarkLink.benchmark_code == benchmark)
    return [_link_dict(conn, r) for r in conn.execute(query)]


def _ref_id(conn: Connection, model, code: str, field: str, ref: str,
            issues: list | None = None) -> int | None:
    rid = conn.execute(select(model.id).where(model.code == code)).scalar()
    if rid is None:
        issue = Issue("rule.ref_unknown", field=field, value=code, params={"ref": ref})
        if issues is None:
            raise InputError([issue])
        issues.append(issue)
    return rid


def _check_link(conn: Connection, code: str, version: int | None, issues: list) -> None:
    versions = list(conn.execute(select(Benchmark.version).where(Benchmark.code == code))
                    .scalars())
    if not versions:
        issues.append(Issue("rule.ref_unknown", field="benchmark", value=code,
                            params={"ref": "benchmark"}))
        return
    if version is not None and version not in versions:
        issues.append(Issue("rule.bm_version_unknown", field="version", value=version,
                            params={"versions": ", ".join(map(str, sorted(versions)))}))
    kind = conn.execute(select(Benchmark.kind).where(Benchmark.code == code).limit(1)).scalar()
    if kind == "equipment":
        issues.append(Issue("rule.bm_link_equipment", field="benchmark", value=code))


def _duplicate(conn: Connection, code: str, product_id: int, node_id: int | None,
               except_id: int | None = None) -> bool:
    query = select(BenchmarkLink.id).where(
        BenchmarkLink.benchmark_code == code, BenchmarkLink.product_id == product_id,
        BenchmarkLink.node_id.is_(None) if node_id is None else BenchmarkLink.node_id == node_id)
    if except_id is not None:
        query = query.where(BenchmarkLink.id != except_id)
    return conn.execute(query.limit(1)).first() is not None


def create_link(conn: Connection, payload: dict) -> dict:
    ensure_library(conn)
    data = coerce_record(LINK_FIELDS, payload)
    issues: list[Issue] = []
    _check_link(conn, data["benchmark"], data["version"], issues)
    pid = _ref_id(conn, Product, data["product"], "product", "product", issues)
    nid = (_ref_id(conn, Node, data["node"], "node", "node", issues) if data["node"] else None)
    if not issues and _duplicate(conn, data["benchmark"], pid, nid):
        issues.append(Issue("rule.duplicate", field="benchmark", value=data["benchmark"]))
    if issues:
        raise InputError(issues)
    result = conn.execute(insert(BenchmarkLink).values(
        benchmark_code=data["benchmark"], version=data["version"], product_id=pid, node_id=nid,
        note=data["note"], created_by=data["created_by"],
        created_at=datetime.now(ZoneInfo("UTC"))))
    return link_detail(conn, result.inserted_primary_key[0])


def update_link(conn: Connection, link_id: int, payload: dict) -> dict:
    link = get_link(conn, link_id)
    data = coerce_record(LINK_PATCH_FIELDS, payload, partial=True)
    issues: list[Issue] = []
    values = {}
    if "version" in data:
        _check_link(conn, link.benchmark_code, data["version"], issues)
        values["version"] = data["version"]
    if "node" in data:
        values["node_id"] = (_ref_id(conn, Node, data["node"], "node", "node", issues)
                             if data["node"] else None)
        if not issues and _duplicate(conn, link.benchmark_code, link.product_id,
                                     values["node_id"], except_id=link_id):
            issues.append(Issue("rule.duplicate", field="node", value=data["node"]))
    if "note" in data:
        values["note"] = data["note"]
    if issues:
        raise InputError(issues)
    if values:
        conn.execute(BenchmarkLink.__table__.update().where(BenchmarkLink.id == link_id)
                     .values(**values))
    return link_detail(conn, link_id)


def delete_link(conn: Connection, link_id: int) -> None:
    get_link(conn, link_id)
    conn.execute(BenchmarkLink.__table__.delete().where(BenchmarkLink.id == link_id))


# -- comparisons ---------------------------------------------------------------------------
def _product_intensity(conn: Connection, node_id: int, product_code: str, period: Period) -> dict:
    """Unit product comprehensive energy consumption (the lead's energy_totals service)."""
    from nengtan.services import energy_totals

    return energy_totals.product_intensity(conn, node_id, product_code, period)


def _node(conn: Connection, node_id: int):
    row = conn.execute(select(Node.id, Node.code, Node.name_zh, Node.name_en, Node.kind,
                              Node.path).where(Node.id == node_id)).first()
    if row is None:
        raise NotFound("node", node_id)
    return row


def _ancestors(path: str) -> list[int]:
    return [int(x) for x in path.strip("/").split("/") if x]


def links_for(conn: Connection, node_id: int, product_id: int) -> list[BenchmarkLink]:
    """Links of a product that apply at a node: global ones and those of the node or an
    ancestor (the nearest node first, then global), in creation order."""
    node = _node(conn, node_id)
    chain = _ancestors(node.path)
    rows = list(conn.execute(
        select(BenchmarkLink).where(BenchmarkLink.product_id == product_id)
        .order_by(BenchmarkLink.id)))
    scoped = [r for r in rows if r.node_id is not None and r.node_id in chain]
    scoped.sort(key=lambda r: -chain.index(r.node_id))
    return scoped + [r for r in rows if r.node_id is None]


def _elapsed_days(period: Period, today: date | None) -> int:
    today = today or datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return max(0, (min(period.end, today) - period.start).days)


def _annual(output: float | None, period: Period, today: date | None) -> tuple[float | None, str]:
    if output is None:
        return None, "no output"
    days = _elapsed_days(period, today)
    year_days = 365
    if period.grain == "year" and days >= period.days:
        return output, f"output of the calendar year {period.label}"
    if days <= 0:
        return None, "the period has not started"
    annual = annualise(output, days, year_days)
    return annual, (f"output × {year_days} / {days} elapsed days of {period.label} = "
                    f"{output:.6g} × {year_days} / {days} = {annual:.6g}")


def _units_match(actual_unit: str | None, level_unit: str) -> bool:
    norm = lambda u: re.sub(r"\s+", "", (u or "").lower())
    return norm(actual_unit) == norm(level_unit)


def compare_product(conn: Connection, node_id: int, product_code: str, period: Period | str,
                    today: date | None = None, intensity: dict | None = None) -> dict:
    """A product line at a node over a period against every linked benchmark entry.

    Raises InputError ``bm_no_link`` when the product has no link applying at the node.
    """
    ensure_library(conn)
    if isinstance(period, str):
        period = parse_period(period)
    node = _node(conn, node_id)
    product = conn.execute(select(Product.id, Product.code, Product.name_zh, Product.name_en,
                                  Product.unit).where(Product.code == product_code)).first()
    if product is None:
        raise InputError([Issue("rule.ref_unknown", field="product", value=product_code,
                                params={"ref": "product"})])
    links = links_for(conn, node_id, product.id)
    if not links:
        raise InputError([Issue("rule.bm_no_link", field="product", value=product_code,
                                params={"node": node.code})])
    pi = intensity if intensity is not None else _product_intensity(conn, node_id, product_code,
                                                                      period)
    actual = pi.get("kgce_per_unit")
    annual, annual_how = _annual(pi.get("output"), period, today)
    comparisons, benchmarks = [], []
    for link in links:
        b = get_entry(conn, link.benchmark_code, link.version)
        ls = levelset(b)
        if actual is not None and not _units_match(pi.get("unit"), b.unit):
            d = compare(ls, None).as_dict()
            d["position"] = "unit_mismatch"
        else:
            d = compare(ls, actual, annual, pi.get("output_unit")).as_dict()
            if actual is None:
                d["position"] = "no_data"
        d.update(link_id=link.id, scope_node=_code_of(conn, link.node_id),
                 pinned_version=link.version, **_texts(d))
        comparisons.append(d)
        benchmarks.append(ls.lineage())
    return {
        "node": node.code, "node_id": node.id, "name_zh": node.name_zh, "name_en": node.name_en,
        "product": product.code, "product_name_zh": product.name_zh,
        "product_name_en": product.name_en, "period": period.as_dict(),
        "actual": {"value": actual, "unit": pi.get("unit"), "output": pi.get("output"),
                   "output_unit": pi.get("output_unit"), "energy_tce": pi.get("energy_tce"),
                   "annual_output": annual, "reason": pi.get("reason")},
        "comparisons": comparisons,
        "lineage": {
            "method": ("level reached = best level met (≤ for lower-is-better); gap % = "
                       "(actual − level) / |level| × 100; energy gap tce/a = (actual − level) × "
                       "annual output ÷ 1000 (kgce → tce)"),
            "method_version": METHOD_VERSION, "annual_output": annual_how,
            "intensity": pi.get("lineage"), "benchmarks": benchmarks,
        },
    }


def _texts(d: dict) -> dict:
    """Position and action in both languages."""
    out = {}
    for name in ("position", "action"):
        key = d.get(name)
        out[f"{name}_zh"] = t(f"bm.{name}.{key}", "zh-CN") if key else None
        out[f"{name}_en"] = t(f"bm.{name}.{key}", "en") if key else None
    return out


def _code_of(conn: Connection, node_id: int | None) -> str | None:
    if node_id is None:
        return None
    return conn.execute(select(Node.code).where(Node.id == node_id)).scalar()


def produced_products(conn: Connection, node_id: int, period: Period) -> list[str]:
    """Codes of products with output recorded in a node's subtree during the period."""
    node = _node(conn, node_id)
    sub = select(Node.id).where(Node.path.startswith(node.path))
    rows = conn.execute(
        select(Product.code).join(ProductionRecord, ProductionRecord.product_id == Product.id)
        .where(ProductionRecord.node_id.in_(sub), ProductionRecord.period_start < period.end,
               ProductionRecord.period_end >= period.start)
        .distinct().order_by(Product.code)).scalars()
    return list(rows)


def node_comparisons(conn: Connection, node_id: int, period: Period | str,
                     today: date | None = None) -> dict:
    """Every product made in a node's subtree during the period, compared with its links.

    Products without a link are listed in ``unlinked`` (nothing to compare with).
    """
    ensure_library(conn)
    if isinstance(period, str):
        period = parse_period(period)
    node = _node(conn, node_id)
    lines, unlinked = [], []
    for code in produced_products(conn, node_id, period):
        pid = conn.execute(select(Product.id).where(Product.code == code)).scalar()
        if not links_for(conn, node_id, pid):
            unlinked.append(code)
            continue
        lines.append(compare_product(conn, node_id, code, period, today))
    return {"node": node.code, "node_id": node.id, "period": period.as_dict(),
            "products": lines, "unlinked": unlinked}


def _primary(line: dict) -> dict | None:
    """The comparison a ranking uses: an indicator (标杆) entry first, then a limit entry."""
    for kind in ("indicator", "limit"):
        for c in line["comparisons"]:
            if c["kind"] == kind and c["position"] not in ("no_data", "unit_mismatch", None):
                return c
    return None


def _intensity(conn: Connection, node_id: int, period: Period) -> dict | None:
    try:
        from nengtan.services import energy_totals
        fn = energy_totals.intensity
    except (ImportError, AttributeError):
        return None
    return fn(conn, node_id, period)


def ranking(conn: Connection, park_id: int, period: Period | str,
            today: date | None = None) -> dict:
    """Product lines of a park's enterprises ranked by gap to the best level (%), and the
    enterprises ranked by energy per 10^4 CNY of output value (when economic data exist)."""
    ensure_library(conn)
    if isinstance(period, str):
        period = parse_period(period)
    park = _node(conn, park_id)
    enterprises = conn.execute(
        select(Node.id, Node.code, Node.name_zh, Node.name_en)
        .where(Node.path.startswith(park.path), Node.kind == "enterprise")
        .order_by(Node.sort_order, Node.code)).all()
    lines, intensities, notes = [], [], []
    for ent in enterprises:
        for line in node_comparisons(conn, ent.id, period, today)["products"]:
            c = _primary(line)
            best = next((lv for lv in c["levels"] if lv["value"] is not None), None) if c else None
            gap_tce = (best["energy_gap"]["tce_per_year"]
                       if best and best.get("energy_gap") else None)
            lines.append({
                "enterprise": ent.code, "enterprise_id": ent.id, "name_zh": ent.name_zh,
                "name_en": ent.name_en, "product": line["product"],
                "actual": line["actual"]["value"], "unit": line["actual"]["unit"],
                "benchmark": c["benchmark"] if c else None,
                "version": c["version"] if c else None,
                "status": c["status"] if c else None,
                "position": c["position"] if c else "no_data",
                "best_level": best["key"] if best else None,
                "best_level_value": best["value"] if best else None,
                "gap_to_best_pct": best["gap_pct"] if best else None,
                "energy_gap_tce_per_year": gap_tce,
            })
        inten = _intensity(conn, ent.id, period)
        if inten is None:
            if not notes:
                notes.append("energy intensity per 10^4 CNY not available "
                             "(nengtan.services.energy_totals.intensity)")
            continue
        value = inten.get("tce_per_10k_cny_output")
        intensities.append({"enterprise": ent.code, "enterprise_id": ent.id,
                            "name_zh": ent.name_zh, "name_en": ent.name_en,
                            "tce_per_10k_cny_output": value, "unit": "tce/10^4 CNY",
                            "lineage": inten.get("lineage")})
    return {
        "park": park.code, "park_id": park.id, "period": period.as_dict(),
        "by_gap": rk.rank(lines, lambda r: r["gap_to_best_pct"]),
        "by_intensity": rk.rank(intensities, lambda r: r["tce_per_10k_cny_output"]),
        "notes": notes,
        "lineage": {"method": ("product lines ranked by gap to the best level of their "
                               "benchmark entry, % (smaller is better; ties share a rank); "
                               "enterprises by tce per 10^4 CNY of output value"),
                    "method_version": METHOD_VERSION},
    }


# -- equipment -----------------------------------------------------------------------------
def grade_rows(conn: Connection) -> list[eq.GradeRow]:
    """Current equipment grade entries as engine rows."""
    ensure_library(conn)
    latest, cond = _current_filter()
    out = []
    for b in _rows(conn, select(Benchmark).join(latest, cond)
                   .where(Benchmark.kind == "equipment")):
        s = b.scope or {}
        grades = {lv["key"]: lv.get("value") for lv in b.levels or []}
        if s.get("size_min") is None or s.get("size_max") is None:
            continue
        out.append(eq.GradeRow(
            b.code, b.version, s.get("equipment") or "", s.get("type"), s.get("poles"),
            float(s["size_min"]), float(s["size_max"]), s.get("pressure_mpa"), b.unit,
            b.direction, (grades.get("grade_1"), grades.get("grade_2"), grades.get("grade_3")),
            b.document or "", b.source, b.status))
    return out


def equipment_grades(conn: Connection, node_id: int) -> dict:
    """Nameplates of the node's subtree graded (GB 18613 motors, GB 19153 compressors)."""
    node = _node(conn, node_id)
    rows = grade_rows(conn)
    items = []
    summary = {"nameplates": 0, "graded": 0, "meets_limit": 0, "below_limit": 0,
               "by_grade": {"1": 0, "2": 0, "3": 0}, "not_gradable": 0}
    for n in conn.execute(select(Node.id, Node.code, Node.name_zh, Node.name_en, Node.kind,
                                 Node.attributes)
                          .where(Node.path.startswith(node.path))
                          .order_by(Node.path)).all():
        attrs = n.attributes or {}
        if not any(isinstance(attrs.get(k), dict) for k in eq.EQUIPMENT_KINDS):
            continue
        grades = eq.grade(rows, attrs)
        for g in grades:
            g.update(_texts(g))
            summary["nameplates"] += 1
            if g.get("grade") is not None:
                summary["graded"] += 1
                summary["by_grade"][str(g["grade"])] += 1
            if g.get("meets_limit"):
                summary["meets_limit"] += 1
            elif g.get("position", "").startswith("below_"):
                summary["below_limit"] += 1
            else:
                summary["not_gradable"] += 1
        items.append({"node": n.code, "node_id": n.id, "name_zh": n.name_zh,
                      "name_en": n.name_en, "kind": n.kind, "grades": grades})
    return {"node": node.code, "node_id": node.id, "items": items, "summary": summary,
            "lineage": {"method": ("motor: rated efficiency vs GB 18613-2020 grades of the "
                                   "same poles and the next tabulated power ≥ rated; "
                                   "compressor: specific power vs GB 19153-2019 grades of "
                                   "the same type and pressure"),
                        "method_version": METHOD_VERSION}}


NAMEPLATE_KINDS = eq.EQUIPMENT_KINDS


def set_nameplate(session: Session, node_id: int, payload: dict) -> dict:
    """Write (or with null remove) the ``motor`` / ``compressor`` nameplate of an equipment
    node in ``Node.attributes``; the nameplate is checked as grading would read it."""
    node = session.get(Node, node_id)
    if node is None:
        raise NotFound("node", node_id)
    issues = [Issue("rule.unknown_field", field=k) for k in payload if k not in NAMEPLATE_KINDS]
    if node.kind != "equipment":
        issues.append(Issue("rule.bm_nameplate_kind", field="node", value=node.code,
                            params={"kind": node.kind}))
    for kind in NAMEPLATE_KINDS:
        plate = payload.get(kind)
        if plate is None:
            continue
        if not isinstance(plate, dict):
            issues.append(Issue("rule.type_object", field=kind))
            continue
        issues += [Issue(f"rule.{rule}", field=f"{kind}.{key}", value=plate.get(key))
                   for rule, key in eq.nameplate_issues(kind, plate)]
    if issues:
        raise InputError(issues)
    attrs = dict(node.attributes or {})
    for kind in NAMEPLATE_KINDS:
        if kind in payload:
            if payload[kind] is None:
                attrs.pop(kind, None)
            else:
                attrs[kind] = payload[kind]
    node.attributes = attrs
    session.flush()
    return {"node": node.code, "node_id": node.id, "attributes": attrs}
