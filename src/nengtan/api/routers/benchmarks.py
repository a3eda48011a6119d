"""Benchmark library and comparisons (标杆/基准, limit grades, equipment grades)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from nengtan.api.auth import AccessDenied, current_principal
from nengtan.api.deps import PagingDep, SessionDep
from nengtan.api.params import resolve
from nengtan.api.schemas import ERRORS, OPEN, input_model, payload
from nengtan.errors import InputError, Issue, NotFound
from nengtan.services import benchmarking as bm
from nengtan.services.energy_data import parse_period
from nengtan.store.models import Node, Product
from nengtan.store.models.benchmark import BENCHMARK_KINDS, BenchmarkLink

router = APIRouter(tags=["Benchmarking / 能效对标"], responses=ERRORS)

PERIOD_DOC = ("period: 2026, 2026-Q3, 2026-10, 2026-10-05 or 2026-10-01/2026-11-01 (local dates, "
              "end exclusive) / 统计期")
Kind = Literal[BENCHMARK_KINDS]  # type: ignore[valid-type]

BenchmarkIn = input_model(
    "BenchmarkIn", bm.BENCHMARK_FIELDS,
    doc="A benchmark entry; an existing `code` gets a new version (values are never edited).")
LinkIn = input_model("BenchmarkLinkIn", bm.LINK_FIELDS,
                     doc="Compare a product with a benchmark entry (everywhere, or in a node's "
                         "subtree).")
LinkPatch = input_model("BenchmarkLinkPatch", bm.LINK_PATCH_FIELDS, partial=True,
                        doc="Pin or unpin a version, change the node scope or the note.")


class LevelOut(BaseModel):
    model_config = OPEN
    key: str = Field(description="benchmark, baseline, grade_1, grade_2, grade_3 ...")
    value: float | None = Field(description="level value in the entry's unit (null: not known)")
    name_zh: str
    name_en: str


class BenchmarkOut(BaseModel):
    """One version of a benchmark entry."""

    model_config = OPEN
    id: int
    code: str
    version: int
    kind: str = Field(description="indicator, limit or equipment")
    sector: str | None
    product: str | None
    indicator: str | None
    unit: str = Field(description="unit of the level values")
    direction: str = Field(description="lower or higher is better")
    levels: list[LevelOut] = Field(description="best first")
    scope: dict[str, Any] | None = Field(description="equipment class of a grade row")
    document: str | None
    source: str
    status: str = Field(description="verified or unverified")
    origin: str = Field(description="shipped (reference dataset) or user")
    dataset: str | None
    dataset_version: str | None
    note: str | None
    created_by: str | None
    created_at: datetime | None
    current: bool = Field(description="this is the current (highest) version")
    versions: list[int] | None = Field(None, description="every version of the code")


class BenchmarkPage(BaseModel):
    items: list[BenchmarkOut]
    total: int
    limit: int
    offset: int


class LinkOut(BaseModel):
    model_config = OPEN
    id: int
    benchmark: str
    version: int | None = Field(description="pinned version; null follows the current one")
    product: str
    product_id: int
    node: str | None = Field(description="scope: the link applies in this node's subtree only")
    node_id: int | None
    note: str | None
    created_by: str | None
    created_at: datetime | None


class ComparisonOut(BaseModel):
    """A product line against one benchmark entry."""

    model_config = OPEN
    benchmark: str
    version: int
    kind: str
    unit: str
    direction: str
    actual: float | None = Field(description="actual value in the entry's unit")
    reached: str | None = Field(description="best level reached (null: none)")
    position: str | None = Field(description="benchmark, baseline, below_baseline, grade_1 .. "
                                             "below_grade_3, no_data or unit_mismatch")
    action: str | None = Field(description="keep, improve, improve_to_benchmark, "
                                           "upgrade_or_retire, below_limit")
    status: str
    source: str
    levels: list[dict[str, Any]] = Field(description="per level: value, reached, gap (entry "
                                                     "unit), gap_pct (%, positive = worse), "
                                                     "energy_gap {tce_per_year, formula}")
    annual_output: float | None = Field(description="annual output used for tce/a (output unit)")


class CompareOut(BaseModel):
    model_config = OPEN
    node: str
    product: str
    period: dict[str, Any]
    actual: dict[str, Any] = Field(description="value (e.g. kgce/t), unit, output, output_unit, "
                                               "energy_tce (tce), annual_output")
    comparisons: list[ComparisonOut]
    lineage: dict[str, Any]


class RankingOut(BaseModel):
    model_config = OPEN
    park: str
    period: dict[str, Any]
    by_gap: list[dict[str, Any]] = Field(description="product lines ranked by gap_to_best_pct "
                                                     "(%), energy_gap_tce_per_year (tce/a)")
    by_intensity: list[dict[str, Any]] = Field(description="enterprises ranked by "
                                                           "tce_per_10k_cny_output "
                                                           "(tce/10^4 CNY)")
    notes: list[str]
    lineage: dict[str, Any]


class EquipmentOut(BaseModel):
    model_config = OPEN
    node: str
    items: list[dict[str, Any]] = Field(description="equipment nodes with their graded "
                                                    "nameplates (grade 1-3, position, levels)")
    summary: dict[str, Any]
    lineage: dict[str, Any]


class NameplateIn(BaseModel):
    """Nameplates of an equipment node; null removes one, an absent key keeps it."""

    motor: dict[str, Any] | None = Field(None, description='{"rated_kw": 250 (kW), "poles": 4, '
                                                           '"efficiency_pct": 94.8 (%), '
                                                           '"annual_hours": 7000 (h/a, optional),'
                                                           ' "load_factor": 0.8 (optional)}')
    compressor: dict[str, Any] | None = Field(
        None, description='{"rated_kw": 90 (kW), "pressure_mpa": 0.8 (MPa), "type": '
                          '"oil_injected_rotary", "specific_power": 6.8 (kW/(m3/min)) or '
                          '"package_power_kw" (kW) and "flow_m3_min" (m3/min)}')


class NameplateOut(BaseModel):
    model_config = OPEN
    node: str
    node_id: int
    attributes: dict[str, Any]


def _node_id(session, code: str, field: str) -> int:
    return resolve(session, Node, code, field, "node").id


# -- library ---------------------------------------------------------------------------------
@router.get("/api/benchmarks", response_model=BenchmarkPage,
            summary="List benchmark entries / 对标库列表")
def list_benchmarks(session: SessionDep, paging: PagingDep,
                    kind: Annotated[Kind | None, Query(
                        description="indicator, limit or equipment")] = None,
                    sector: str | None = Query(None, description="sector / 行业"),
                    q: str | None = Query(None, description="text in code, product or indicator"),
                    status: Literal["verified", "unverified"] | None = Query(None),
                    all_versions: bool = Query(False, description="every version, not only "
                                                                  "the current one")):
    """Benchmark entries (current versions unless ``all_versions``), by code.  The shipped
    entries (NDRC 标杆/基准 levels, GB 16780 limit grades, GB 18613 motor and GB 19153
    compressor grades) are loaded on first use, each with its source and status."""
    items, total = bm.list_entries(session.connection(), kind, sector, q, status, all_versions,
                                   paging.limit, paging.offset)
    return paging.answer(items, total)


@router.post("/api/benchmarks", response_model=BenchmarkOut, status_code=201,
             summary="Add a benchmark entry or version / 新增对标值（新版本）",
             responses={200: {"model": BenchmarkOut,
                              "description": "identical to the current version: nothing added"}})
def create_benchmark(body: BenchmarkIn, session: SessionDep, response: Response):
    """Add an entry with its levels, source and status; for an existing code this is its
    next version (the old one stays, comparisons made with it keep naming it).  Content equal
    to the current version adds nothing and answers 200."""
    entry, created = bm.create_entry(session.connection(), payload(body))
    if not created:
        response.status_code = 200
    return entry


# -- links -----------------------------------------------------------------------------------
@router.get("/api/benchmarks/links", response_model=list[LinkOut],
            summary="List benchmark links / 对标关联列表")
def list_links(session: SessionDep,
               product: str | None = Query(None, description="product code"),
               node: str | None = Query(None, description="node code (scoped links)"),
               benchmark: str | None = Query(None, description="benchmark code")):
    """Which products are compared with which entries, and where (links of other tenants'
    nodes are not shown)."""
    visible = set(session.scalars(select(BenchmarkLink.id)))  # tenant-filtered
    return [link for link in bm.list_links(session.connection(), product, node, benchmark)
            if link["id"] in visible]


def _own_link(session, request: Request, link_id: int, node_code: str | None) -> None:
    """A link scoped to another tenant's node is refused like an unknown node; a link for the
    whole installation (no node) changes what every tenant sees: it needs a park-wide grant.
    Raised after the service ran, the transaction is rolled back."""
    link = session.get(BenchmarkLink, link_id)
    if link is None:
        raise InputError([Issue("rule.ref_unknown", field="node", value=node_code,
                                params={"ref": "node"})])
    if link.node_id is None and not current_principal(request).root_scope:
        raise AccessDenied(403, "auth.forbidden_shared")


@router.post("/api/benchmarks/links", response_model=LinkOut, status_code=201,
             summary="Link a product to a benchmark / 新建对标关联")
def create_link(body: LinkIn, request: Request, session: SessionDep):
    """Compare a product with a benchmark entry (not an equipment grade), wherever it is made
    or only within ``node``'s subtree; ``version`` pins a version."""
    link = bm.create_link(session.connection(), payload(body))
    _own_link(session, request, link["id"], body.node)
    return link


@router.get("/api/benchmarks/links/{link_id}", response_model=LinkOut,
            summary="Get a benchmark link / 查询对标关联")
def get_link(link_id: int, session: SessionDep):
    """One link."""
    return bm.link_detail(session.connection(), link_id)


@router.patch("/api/benchmarks/links/{link_id}", response_model=LinkOut,
              summary="Change a benchmark link / 修改对标关联")
def update_link(link_id: int, body: LinkPatch, request: Request, session: SessionDep):
    """Pin (or with null unpin) a version, change the node scope or the note."""
    _own_link(session, request, link_id, None)
    link = bm.update_link(session.connection(), link_id, payload(body))
    session.expire_all()
    _own_link(session, request, link_id, getattr(body, "node", None))
    return link


@router.delete("/api/benchmarks/links/{link_id}", status_code=204, response_class=Response,
               summary="Delete a benchmark link / 删除对标关联")
def delete_link(link_id: int, request: Request, session: SessionDep) -> Response:
    """Stop comparing the product with the entry."""
    _own_link(session, request, link_id, None)
    bm.delete_link(session.connection(), link_id)
    return Response(status_code=204)


# -- comparisons -----------------------------------------------------------------------------
@router.get("/api/benchmarks/compare", response_model=CompareOut,
            summary="Compare a product line / 产品能效对标")
def compare(session: SessionDep,
            node: str = Query(description="node code (enterprise, line ...) / 节点编码"),
            product: str = Query(description="product code / 产品编码"),
            period: str = Query(description=PERIOD_DOC)):
    """Unit product comprehensive energy consumption of the product at the node over the
    period against every linked entry: level reached, gap in % and in tce/a
    ((actual − level) × annual output ÷ 1000), with the arithmetic in ``lineage``.  A period
    shorter than a year (or not over yet) is annualised by its elapsed days."""
    conn = session.connection()
    nid = _node_id(session, node, "node")
    resolve(session, Product, product, "product", "product")
    return bm.compare_product(conn, nid, product, parse_period(period))


@router.get("/api/benchmarks/ranking", response_model=RankingOut,
            summary="Park ranking / 园区对标排名")
def ranking(session: SessionDep,
            park: str = Query(description="park node code / 园区编码"),
            period: str = Query(description=PERIOD_DOC)):
    """The product lines of every enterprise under the park ranked by their gap to the best
    level of their benchmark (%), and the enterprises ranked by energy per 10^4 CNY of output
    value (when economic data exist)."""
    pid = _node_id(session, park, "park")
    return bm.ranking(session.connection(), pid, parse_period(period))


@router.get("/api/benchmarks/equipment", response_model=EquipmentOut,
            summary="Equipment efficiency grades / 设备能效等级")
def equipment(session: SessionDep,
              node: str = Query(description="node code: its subtree is graded / 节点编码")):
    """Motor (GB 18613-2020) and air-compressor (GB 19153-2019) nameplates under the node
    graded: grade 1-3 reached or below the limit value (能效限定值), margins per grade and,
    for motors with ``annual_hours``, the kWh/a a better grade would save."""
    return bm.equipment_grades(session.connection(), _node_id(session, node, "node"))


@router.put("/api/benchmarks/equipment/{node}/nameplate", response_model=NameplateOut,
            summary="Set equipment nameplates / 设置设备铭牌")
def set_nameplate(node: str, body: NameplateIn, session: SessionDep):
    """Store the motor and/or compressor nameplate of an equipment node (in its attributes),
    checked as grading reads it."""
    from sqlalchemy import select

    nid = session.scalar(select(Node.id).where(Node.code == node))
    if nid is None:
        raise NotFound("node", node)
    return bm.set_nameplate(session, nid, body.model_dump(exclude_unset=True))


# -- one entry (after the fixed paths above) ------------------------------------------------
@router.get("/api/benchmarks/{code}", response_model=BenchmarkOut,
            summary="Get a benchmark entry / 查询对标值")
def get_benchmark(code: str, session: SessionDep,
                  version: int | None = Query(None, ge=1, description="default: current")):
    """One version of an entry (the current one by default) and the list of its versions."""
    return bm.entry_detail(session.connection(), code, version)
