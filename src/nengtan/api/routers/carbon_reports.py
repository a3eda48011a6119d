"""Park inventory, GHG reports and verification packages.

* ``GET /api/carbon/park-inventory`` — the park inventory (seed 001 formula 3) as JSON;
* ``GET|POST /api/carbon/park-items`` — the entered park items (transport, new
  infrastructure, waste, fixed carbon, sinks, CCUS), versioned;
* ``GET /api/carbon/reports/ghg`` — the GHG emission report of an inventory version (Excel,
  PDF), ``GET /api/carbon/reports/ghg/park`` the park's;
* ``GET /api/carbon/verification-package`` — the zip for a third-party verifier.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from nengtan.api.auth import ActorDep
from nengtan.api.deps import SessionDep
from nengtan.api.errors import language
from nengtan.api.schemas import ERRORS
from nengtan.carbon.model import GWP_SETS
from nengtan.reports.render import MEDIA_TYPES
from nengtan.services import ghg_report, park_inventory, verification_package
from nengtan.store.models.park_carbon import ITEM_STATUSES, ITEM_TERMS

router = APIRouter(tags=["GHG reports / 碳排放报告与核查"], responses=ERRORS)

PARK_DOC = "park node code / 园区编码"
PERIOD_DOC = ("a year `2025`, quarter `2025-Q3`, month `2025-10` or local dates "
              "`2025-01-01/2025-07-01` (end exclusive) / 核算期")
INVENTORY_DOC = "inventory code or id / 碳盘查编码或编号"
VERSION_DOC = ("inventory version; default: the latest locked version, else the latest / "
               "版本号（默认最新锁定版本）")
LANG_DOC = "report language; default: Accept-Language (zh-CN when absent) / 报告语言"
Lang = Literal["zh-CN", "en"]
Gwp = Literal[GWP_SETS]  # type: ignore[valid-type]
FILE = {200: {"content": {t: {} for t in MEDIA_TYPES.values()},
              "description": "the report file (attachment)"}}


def _file(content: bytes, media_type: str, filename: str) -> Response:
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/api/carbon/park-inventory", summary="园区碳排放核算 / Park carbon inventory")
def park_inventory_json(session: SessionDep,
                        park: str = Query(..., description=PARK_DOC),
                        period: str = Query(..., description=PERIOD_DOC),
                        gwp: Gwp = Query("AR5", description="GWP set / 全球增温潜势版本")
                        ) -> dict:
    """The park's CO2e over the period by seed 001 formula (3): ``E = E_电和热 + E_企业 +
    E_公共设施与环境 + E_新基建 + E_交通 − E_固碳 − E_碳汇 − E_CCUS`` in tCO2e.  Each term has
    its parts with lineage (meters, quantities, factor values with source and status, the
    tenants' inventories and versions, entered items with their source); ``transfers`` lists
    every metered intra-park transfer of electricity or heat and whether it needed a
    correction so it is counted once; ``sectors`` regroups the same total by provincial
    inventory sector (能源活动 by GB/T 4754 section, 工业生产过程, 废弃物处理, 土地利用变化和林业)."""
    per = ghg_report.parse_park_period(period)
    return park_inventory.park_inventory(session.connection(), park, per, gwp).as_dict()


class ParkItemIn(BaseModel):
    """A park item of the park formula that no meter measures: activity data computed with
    the factor library (``kind``, ``carrier``, ``quantity``, ``unit``), or an amount
    ``tco2e`` (removals — fixed carbon, sinks, CCUS — are entered as amounts).  Sending an
    existing ``code`` adds a new version; ``active: false`` retires the item."""

    model_config = ConfigDict(extra="allow")
    code: str = Field(..., description="item code within the park / 编码")
    term: Literal[tuple(ITEM_TERMS)] = Field(  # type: ignore[valid-type]
        ..., description="public | new_infra | transport | fixed_carbon | sink | ccus")
    category: str | None = Field(None, description="e.g. commuting, waste, green_space")
    name_zh: str = Field(..., description="中文名称")
    name_en: str | None = None
    node: str | None = Field(None, description="park node (facility) it belongs to")
    period_start: date = Field(..., description="first local date covered")
    period_end: date = Field(..., description="local date after the last (exclusive)")
    kind: str | None = Field(None, description="combustion | electricity | heat | process | "
                                               "fugitive (activity data)")
    carrier: str | None = Field(None, description="fuel / material / gas of the library")
    quantity: float | None = Field(None, description="activity quantity in `unit`")
    unit: str | None = None
    gas: str | None = Field(None, description="default CO2")
    tco2e: float | None = Field(None, description="amount over the item's period, tCO2e")
    source: str = Field(..., description="document, survey, meter report / 数据来源")
    status: Literal[ITEM_STATUSES] = "unverified"  # type: ignore[valid-type]
    evidence_sha256: str | None = Field(None, description="SHA-256 of an evidence file")
    note: str | None = None
    active: bool = True


@router.get("/api/carbon/park-items", summary="园区核算项列表 / Park carbon items")
def park_items(session: SessionDep, park: str = Query(..., description=PARK_DOC),
               period: str | None = Query(None, description=PERIOD_DOC + "; default: all"),
               history: bool = Query(False, description="every version / 含历史版本")
               ) -> list[dict[str, Any]]:
    """The park's entered items (current versions; ``history`` every version), each with the
    ``share`` of ``period`` it covers (overlap days ÷ item days)."""
    conn = session.connection()
    root = park_inventory.park_node(conn, park)
    per = ghg_report.parse_park_period(period) if period else None
    return park_inventory.load_items(conn, root.id, per, history=history)


@router.post("/api/carbon/park-items", status_code=201,
             summary="录入园区核算项 / Enter a park carbon item")
def add_park_item(body: ParkItemIn, session: SessionDep, actor: ActorDep,
                  park: str = Query(..., description=PARK_DOC)) -> dict[str, Any]:
    """Add an item or a new version of it (values never change silently: the earlier
    versions stay); the new version is appended to the evidence ledger (kind ``park_item``).
    Every problem is reported at once (422) and nothing is written."""
    data = body.model_dump(exclude_unset=True)
    return park_inventory.save_item(session.connection(), park, data, user=actor.user)


@router.get("/api/carbon/reports/ghg", summary="温室气体排放报告 / GHG emission report",
            response_class=Response, responses=FILE)
def ghg_report_file(request: Request, session: SessionDep,
                    inventory: str = Query(..., description=INVENTORY_DOC),
                    version: int | None = Query(None, description=VERSION_DOC, ge=1),
                    format: Literal["xlsx", "pdf"] = Query("pdf", description="file format"),
                    lang: Lang | None = Query(None, description=LANG_DOC)) -> Response:
    """The GHG emission report of an inventory version in the structure of the MEE
    enterprise report — basic information, accounting boundary, emission sources, activity
    data, emission factors, emissions, data quality management, and the calculations — as an
    Excel workbook or a PDF (A4, Chinese font embedded); unverified values highlighted."""
    out = ghg_report.enterprise_report(session.connection(), inventory, version, format,
                                       lang or language(request))
    return _file(out.content, out.media_type, out.filename)


@router.get("/api/carbon/reports/ghg/park",
            summary="园区温室气体排放报告 / Park GHG emission report",
            response_class=Response, responses=FILE)
def ghg_park_report_file(request: Request, session: SessionDep,
                         park: str = Query(..., description=PARK_DOC),
                         period: str = Query(..., description=PERIOD_DOC),
                         format: Literal["xlsx", "pdf"] = Query("pdf", description="file format"),
                         lang: Lang | None = Query(None, description=LANG_DOC),
                         gwp: Gwp = Query("AR5", description="GWP set")) -> Response:
    """The park's GHG emission report (same structure): the terms of the park formula and
    their parts, tenants and their inventory versions, public facilities, intra-park transfers
    and their check, the provincial sector view, entered items with their sources."""
    out = ghg_report.park_report(session.connection(), park,
                                 ghg_report.parse_park_period(period), format,
                                 lang or language(request), gwp)
    return _file(out.content, out.media_type, out.filename)


@router.get("/api/carbon/verification-package", summary="核查资料包 / Verification package",
            response_class=Response,
            responses={200: {"content": {"application/zip": {}},
                             "description": "the package (zip attachment)"}})
def verification_package_file(request: Request, session: SessionDep,
                              inventory: str = Query(..., description=INVENTORY_DOC),
                              version: int | None = Query(None, description=VERSION_DOC, ge=1)
                              ) -> Response:
    """A zip for a third-party verifier: the report (PDF, Excel; zh-CN and en), activity data
    per source and month with meter and manual-entry references, parameters and factor values
    with source and status, lab records, evidence files by SHA-256, the locked result with the
    lineage of every figure, a ledger inclusion proof of every record the version rests on
    with the signed checkpoint and public key, a README on checking each part offline
    (``nengtan ledger verify-proof``), and a manifest with the SHA-256 of every file."""
    settings = getattr(request.app.state, "settings", None)
    root = settings.resolved_evidence_dir() if settings is not None else None
    pkg = verification_package.build(session.connection(), inventory, version,
                                     evidence_root=root)
    return _file(pkg.content, pkg.media_type, pkg.filename)
