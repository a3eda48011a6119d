"""The overview dashboard and wall display data (:mod:`nengtan.services.dashboard`)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from nengtan.api.auth import PrincipalDep
from nengtan.api.deps import SessionDep
from nengtan.api.params import resolve
from nengtan.api.schemas import ERRORS
from nengtan.errors import InputError, Issue
from nengtan.i18n import normalise_language
from nengtan.services import dashboard
from nengtan.store.models import Node

router = APIRouter(tags=["dashboard / 能碳总览"], responses=ERRORS)

#: Node kinds a dashboard is made for.
KINDS = ("park", "enterprise")


def _default_node(session, principal) -> Node | None:
    """The first park or enterprise at the top of the caller's scope, else the first visible
    park or enterprise (the session is filtered to the caller's tenants)."""
    if principal.scope_node_ids:
        node = session.scalar(select(Node).where(Node.id.in_(principal.scope_node_ids),
                                                 Node.kind.in_(KINDS))
                              .order_by(Node.depth, Node.sort_order, Node.code).limit(1))
        if node is not None:
            return node
    return session.scalar(select(Node).where(Node.kind.in_(KINDS))
                          .order_by(Node.depth, Node.sort_order, Node.code).limit(1))


@router.get("/api/dashboard", summary="Dashboard and wall display data / 能碳总览与大屏数据")
def get_dashboard(request: Request, session: SessionDep, principal: PrincipalDep,
                  node: str | None = Query(None, description="code of a park or enterprise "
                                                             "(default: the first of the "
                                                             "caller's scope) / 园区或企业编码"),
                  lang: str | None = Query(None, description="language of the alert messages "
                                                             "(zh-CN, en; default: "
                                                             "Accept-Language) / 语言"),
                  parts: str | None = Query(None, description="comma-separated optional "
                                                              "sections (default: all): " +
                                                              ", ".join(dashboard.PARTS) +
                                                              " / 可选部分")):
    """What the overview dashboard and the wall display show for a park or an enterprise, in
    one answer: energy today, yesterday, month to date (month-on-month over the same days and
    year-on-year) and year to date (year-on-year), tce by GB/T 2589-2020 and kWh of
    electricity; the last 12 months; the carrier mix of the year; the last 24 hours of
    electric load (kW); the largest consumers below the node; energy intensity, the Sankey
    and the benchmark positions of the last complete month; the latest inventory's tCO2e
    (an enterprise's inventory, the park inventory for a park); and open alerts (data-quality
    findings, inventories above target, meters without recent data).

    Every figure comes from the service that owns it (energy query, drill-down, totals,
    energy flow, benchmarking, inventories, quality rules).  The answer is read at ``now`` and
    may be shown again for ``max_age_s`` seconds (``NENGTAN_DASHBOARD_MAX_AGE_S``, default 30;
    many screens watch the same node); any write through the API makes the next answer be
    read afresh.  A section that does not apply answers ``{"error": ...}``;
    ``parts`` leaves out the sections a screen does not show (the energy figures are always
    there)."""
    if node:
        target = resolve(session, Node, node, "node", "node")
    else:
        target = _default_node(session, principal)
        if target is None:
            raise InputError([Issue("rule.required", field="node")])
    if target.kind not in KINDS:
        raise InputError([Issue("rule.choice", field="node", value=target.code,
                                params={"choices": ", ".join(KINDS)})])
    language = normalise_language(lang or request.headers.get("accept-language"))
    wanted = None
    if parts is not None:
        wanted = [x.strip() for x in parts.split(",") if x.strip()]
        bad = [x for x in wanted if x not in dashboard.PARTS]
        if bad:
            raise InputError([Issue("rule.choice", field="parts", value=bad[0],
                                    params={"choices": ", ".join(dashboard.PARTS)})])
    kept = request.app.state.kept_answers

    def read() -> bytes:  # kept encoded: a kept answer costs no encoding either
        answer = dashboard.dashboard(session.connection(), target.id, lang=language,
                                     parts=wanted)
        return JSONResponse({**jsonable_encoder(answer), "max_age_s": kept.max_age_s}).body

    key = ("dashboard", target.id, None if wanted is None else tuple(sorted(set(wanted))),
           language)
    return Response(kept.get(key, read), media_type="application/json")
