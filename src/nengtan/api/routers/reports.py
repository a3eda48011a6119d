"""Monthly and annual energy reports (Excel, PDF) and the balance table in Excel."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request, Response

from nengtan.api.deps import SessionDep
from nengtan.api.errors import language
from nengtan.api.params import node_period
from nengtan.api.schemas import ERRORS
from nengtan.reports.render import MEDIA_TYPES
from nengtan.services import energy_report

router = APIRouter(tags=["Reports / 报表"], responses=ERRORS)

NODE_DOC = "node code: park, enterprise, site, workshop ... / 节点编码"
PERIOD_DOC = "a month `2026-10` (monthly report) or a year `2026` (annual report) / 报告期"
LANG_DOC = "report language; default: Accept-Language (zh-CN when absent) / 报告语言"
Lang = Literal["zh-CN", "en"]


def _node_period(session, node: str, period: str):
    """Both problems (unknown node, bad period) reported at once, as 422."""
    return node_period(session, node, period, energy_report.report_period)


@router.get("/api/reports/energy", summary="能源月报/年报文件 / Energy report file",
            response_class=Response,
            responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()},
                             "description": "the report file (attachment)"}})
def energy_report_file(
        request: Request, session: SessionDep,
        node: str = Query(..., description=NODE_DOC),
        period: str = Query(..., description=PERIOD_DOC),
        format: Literal["xlsx", "pdf"] = Query("pdf", description="file format / 文件格式"),
        lang: Lang | None = Query(None, description=LANG_DOC)) -> Response:
    """The monthly (``period=2026-10``) or annual (``period=2026``) energy report of a node
    as an Excel workbook or a PDF (A4, Chinese font embedded): cover with data coverage; key
    figures (comprehensive energy consumption, GB/T 2589-2020, both electricity methods,
    feedstock, exports, renewable electricity) with year-on-year and month-on-month changes;
    energy per enterprise or unit; structure by carrier; daily or monthly trend; unit product
    consumption and energy per 10^4 CNY; the optional sections whose services are installed;
    an appendix of the coefficients used, with source and status (unverified ones marked)."""
    n, per = _node_period(session, node, period)
    out = energy_report.render(session.connection(), n.id, per, format,
                               lang or language(request))
    return Response(out.content, media_type=out.media_type, headers={
        "Content-Disposition": f'attachment; filename="{out.filename}"',
        "X-Report-Assemble-Seconds": f"{out.assemble_s:.3f}",
        "X-Report-Render-Seconds": f"{out.render_s:.3f}"})


@router.get("/api/reports/energy/data", summary="能源报告数据 / Energy report data")
def energy_report_data(
        request: Request, session: SessionDep,
        node: str = Query(..., description=NODE_DOC),
        period: str = Query(..., description=PERIOD_DOC),
        lang: Lang | None = Query(None, description=LANG_DOC),
        document: bool = Query(True, description="add the report document (sections, tables, "
                                                 "charts in `lang`) / 附报告文档结构")) -> dict:
    """The figures of the energy report as JSON, each with its unit (``tce``, ``kgce/t``,
    ``tce/10^4 CNY`` ...) and lineage (boundary meters, coefficients with source and status,
    periods compared); ``document`` is the same report as sections of tables and charts in the
    language asked for, as the Excel and PDF renderers draw it."""
    from nengtan.reports.energy import compose

    n, per = _node_period(session, node, period)
    data = energy_report.assemble(session.connection(), n.id, per).as_dict()
    if document:
        data["document"] = compose(data, lang or language(request)).as_dict()
    return data
