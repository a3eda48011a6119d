"""Energy flow: balance table (GB/T 3484, GB/T 28751) and Sankey data."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Query, Response

from nengtan.api.deps import SessionDep
from nengtan.api.params import PERIOD_DOC, node_period
from nengtan.api.schemas import ERRORS
from nengtan.i18n import normalise_language
from nengtan.services import energy_flow

router = APIRouter(tags=["Energy flow / 能流分析"], responses=ERRORS)

NODE_DOC = "node code: park, enterprise, site, workshop ... / 节点编码"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/api/energy/balance", summary="能量平衡表 / Energy balance table")
def balance(session: SessionDep, node: str = Query(..., description=NODE_DOC),
            period: str = Query(..., description=PERIOD_DOC)) -> dict:
    """Energy balance table of a node over a period, structured as GB/T 28751-2012
    (企业能量平衡表): stages purchase & storage, processing & conversion, transmission &
    distribution, end use (main, auxiliary, ancillary); per stage supplied, effective and
    losses in tce (equivalent value) and utilisation rate (GB/T 3484-2009); rows per carrier
    in physical units and tce.  Distribution losses are metered supply − Σ metered deliveries
    (`losses`, "loss / unmetered"); end-use effective energy only where a node states
    `end_use_efficiency`.  `checks` lists the identities with their residuals,
    `reconciliation` the comparison with the node's comprehensive energy consumption,
    `nodes` the stage of every node and the rule that gave it, `notes` what is missing
    (coefficients, efficiencies) in both languages; `lineage` the meters and coefficients."""
    n, per = node_period(session, node, period)
    return energy_flow.balance(session.connection(), n.id, per)


@router.get("/api/energy/balance.xlsx", response_class=Response,
            summary="能量平衡表（Excel） / Energy balance table (Excel)",
            responses={200: {"content": {XLSX: {}},
                             "description": "the workbook / 工作簿"}})
def balance_xlsx(session: SessionDep, node: str = Query(..., description=NODE_DOC),
                 period: str = Query(..., description=PERIOD_DOC),
                 lang: str = Query("zh-CN", description="zh-CN or en / 语言")) -> Response:
    """The balance table as an Excel workbook in Chinese or English: the GB/T 28751 table
    (carriers × stages, with supplied / effective / losses / utilisation rows), the details
    (stage of each node, distribution points, conversion and end-use units with meters) and
    the checks (identities, reconciliation, coefficients, notes)."""
    n, per = node_period(session, node, period)
    lang = normalise_language(lang)
    content = energy_flow.workbook(session.connection(), n.id, per, lang)
    name = f"energy-balance-{n.code}-{per.label.replace('/', '_')}-{lang}.xlsx"
    return Response(content, media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@router.get("/api/energy/sankey", summary="能流图数据 / Energy flow Sankey data")
def sankey(session: SessionDep, node: str = Query(..., description=NODE_DOC),
           period: str = Query(..., description=PERIOD_DOC),
           depth: int = Query(energy_flow.DEFAULT_DEPTH,
                              description="tree levels below the node to draw (0-12); deeper "
                                          "nodes are drawn inside their ancestor / 展开层级"),
           unit: str = Query("tce", description="tce or physical (each link in its "
                                                "carrier's unit) / 单位")) -> dict:
    """Sankey nodes and links from the metered flow edges of the meters under the node:
    `purchased:<carrier>` sources, tree nodes down to `depth`, `exported`, and an explicit
    `loss` node ("loss / unmetered") fed at every node with metered outflows by inflow −
    Σ metered outflows (conversion units: input − output in tce).  Where metered outflows
    exceed inflow the difference enters from an `imbalance` node and is listed in
    `imbalances` (never clipped).  Each link has `quantity` and `unit` (physical),
    `value_tce` and `value` (in the chosen unit) and its meters; `checks` shows that every
    node conserves energy (in = out + loss + consumed)."""
    n, per = node_period(session, node, period)
    return energy_flow.sankey(session.connection(), n.id, per, depth, unit)
