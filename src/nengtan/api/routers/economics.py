"""Economic output: gross output value (产值) and value added (增加值) per node and period."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from nengtan.api import models, records
from nengtan.api.deps import PagingDep, SessionDep, was_created
from nengtan.api.params import resolve
from nengtan.api.routers.production import UPSERTED
from nengtan.api.schemas import ERRORS, payload
from nengtan.services import production
from nengtan.store.models import EconomicRecord, Node

router = APIRouter(prefix="/api/economics", tags=["economics / 经济数据"], responses=ERRORS)


@router.get("", response_model=models.EconomicPage, summary="List economic data / 经济数据列表")
def list_economics(session: SessionDep, paging: PagingDep,
                   node: str | None = Query(None, description="node code / 节点编码"),
                   price_basis: str | None = Query(None, description="current or constant_<year>"),
                   start: date | None = Query(None, alias="from",
                                              description="ending on or after this date"),
                   end: date | None = Query(None, alias="to",
                                            description="starting on or before this date")):
    """Economic records overlapping [from, to]; money in CNY."""
    query = select(EconomicRecord)
    if node:
        query = query.where(EconomicRecord.node_id == resolve(session, Node, node, "node",
                                                              "node").id)
    if price_basis:
        query = query.where(EconomicRecord.price_basis == price_basis)
    if start:
        query = query.where(EconomicRecord.period_end >= start)
    if end:
        query = query.where(EconomicRecord.period_start <= end)
    rows, total = paging.page(session, query.order_by(
        EconomicRecord.period_start, EconomicRecord.node_id, EconomicRecord.id))
    return paging.answer(records.economics(session, rows), total)


@router.get("/{record_id}", response_model=models.Economic,
            summary="Get an economic record / 查询经济数据")
def get_economic(record_id: int, session: SessionDep):
    """One economic record; money in CNY."""
    return records.economics(session, [production.get(session, EconomicRecord, record_id)])[0]


@router.post("", response_model=models.Economic, status_code=201, responses=UPSERTED,
             summary="Record economic data / 填报经济数据")
def upsert_economic(body: models.EconomicIn, session: SessionDep, response: Response):
    """Store 产值 and/or 增加值 of a node over a period; amounts in ``10^4 CNY`` (万元) are
    stored in CNY.  A record with the same node, period and price basis is replaced (200); a
    new one answers 201."""
    record = production.upsert_economic(session, payload(body))
    response.status_code = 201 if was_created(session, record) else 200
    return records.economics(session, [record])[0]


@router.delete("/{record_id}", status_code=204, response_class=Response,
               summary="Delete an economic record / 删除经济数据")
def delete_economic(record_id: int, session: SessionDep) -> Response:
    """Delete one economic record."""
    production.delete(session, EconomicRecord, record_id)
    return Response(status_code=204)
