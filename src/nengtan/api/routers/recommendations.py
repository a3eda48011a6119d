"""Quantified energy strategy recommendations (用能策略推荐)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from nengtan.api.deps import SessionDep
from nengtan.api.params import PERIOD_DOC, node_only, node_period
from nengtan.api.schemas import ERRORS
from nengtan.services import recommendations

router = APIRouter(tags=["Recommendations / 用能策略推荐"], responses=ERRORS)


@router.get("/api/energy/recommendations", summary="用能策略推荐 / Energy strategy recommendations")
def recommend(session: SessionDep,
              node: str = Query(..., description="enterprise or park code / 企业或园区编码"),
              period: str | None = Query(None, description=PERIOD_DOC + "; default: the last "
                                                           "12 whole months")) -> dict:
    """Measures for each enterprise (every enterprise of a park, ranked), each quantified per
    year in CNY, tce and tCO2 with its calculation (`steps`) and the assumed values with their
    source (`assumptions`): shifting load to valley hours, demand-charge reduction,
    power-factor correction, the gap to the benchmark level, rooftop PV, green power, idle-time
    base load.  Measures that lack data are listed in `not_assessed` with the reason."""
    if period:
        n, per = node_period(session, node, period)
    else:
        n, per = node_only(session, node), None
    return recommendations.recommend(session.connection(), n.id, per)
