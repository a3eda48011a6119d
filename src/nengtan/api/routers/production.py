"""Production output (产量) per node, product and period."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from nengtan.api import models, records
from nengtan.api.deps import PagingDep, SessionDep, was_created
from nengtan.api.params import resolve
from nengtan.api.schemas import ERRORS, payload
from nengtan.services import production
from nengtan.store.models import Node, Product, ProductionRecord

router = APIRouter(prefix="/api/production", tags=["production / 产量"], responses=ERRORS)
UPSERTED = {200: {"description": "an existing record with the same key was replaced"}}


@router.get("", response_model=models.ProductionPage, summary="List production / 产量列表")
def list_production(session: SessionDep, paging: PagingDep,
                    node: str | None = Query(None, description="node code / 节点编码"),
                    product: str | None = Query(None, description="product code / 产品编码"),
                    start: date | None = Query(None, alias="from",
                                               description="ending on or after this date"),
                    end: date | None = Query(None, alias="to",
                                             description="starting on or before this date")):
    """Production records overlapping [from, to], ordered by period, node and product."""
    query = select(ProductionRecord)
    if node:
        query = query.where(ProductionRecord.node_id == resolve(session, Node, node, "node",
                                                                "node").id)
    if product:
        query = query.where(ProductionRecord.product_id == resolve(session, Product, product,
                                                                   "product", "product").id)
    if start:
        query = query.where(ProductionRecord.period_end >= start)
    if end:
        query = query.where(ProductionRecord.period_start <= end)
    rows, total = paging.page(session, query.order_by(
        ProductionRecord.period_start, ProductionRecord.node_id, ProductionRecord.product_id,
        ProductionRecord.id))
    return paging.answer(records.production(session, rows), total)


@router.get("/{record_id}", response_model=models.Production,
            summary="Get a production record / 查询产量记录")
def get_production(record_id: int, session: SessionDep):
    """One production record."""
    return records.production(session, [production.get(session, ProductionRecord, record_id)])[0]


@router.post("", response_model=models.Production, status_code=201, responses=UPSERTED,
             summary="Record production / 填报产量")
def upsert_production(body: models.ProductionIn, session: SessionDep, response: Response):
    """Store the output of a product at a node over [period_start, period_end] (dates
    inclusive).  A record with the same node, product and period is replaced (200), so
    re-sending a corrected figure is safe; a new one answers 201.  The unit must convert to
    the product's unit."""
    record = production.upsert_production(session, payload(body))
    response.status_code = 201 if was_created(session, record) else 200
    return records.production(session, [record])[0]


@router.delete("/{record_id}", status_code=204, response_class=Response,
               summary="Delete a production record / 删除产量记录")
def delete_production(record_id: int, session: SessionDep) -> Response:
    """Delete one production record."""
    production.delete(session, ProductionRecord, record_id)
    return Response(status_code=204)
