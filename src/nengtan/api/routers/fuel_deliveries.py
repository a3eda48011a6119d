"""Fuel deliveries with their lab analyses (NCV, carbon content) for carbon accounting."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from nengtan.api import models, records
from nengtan.api.deps import PagingDep, SessionDep
from nengtan.api.params import resolve
from nengtan.api.schemas import ERRORS, payload
from nengtan.services import production
from nengtan.store.models import Carrier, FuelDelivery, Node

router = APIRouter(prefix="/api/fuel-deliveries", tags=["fuel deliveries / 燃料到货"],
                   responses=ERRORS)


@router.get("", response_model=models.FuelDeliveryPage,
            summary="List fuel deliveries / 燃料到货列表")
def list_deliveries(session: SessionDep, paging: PagingDep,
                    node: str | None = Query(None, description="node code / 节点编码"),
                    carrier: str | None = Query(None, description="carrier code / 能源品种"),
                    start: date | None = Query(None, alias="from",
                                               description="delivered on or after this date"),
                    end: date | None = Query(None, alias="to",
                                             description="delivered on or before this date")):
    """Fuel deliveries ordered by delivery date."""
    query = select(FuelDelivery)
    if node:
        query = query.where(FuelDelivery.node_id == resolve(session, Node, node, "node",
                                                            "node").id)
    if carrier:
        query = query.where(FuelDelivery.carrier_code == resolve(session, Carrier, carrier,
                                                                 "carrier", "carrier").code)
    if start:
        query = query.where(FuelDelivery.delivered_on >= start)
    if end:
        query = query.where(FuelDelivery.delivered_on <= end)
    rows, total = paging.page(session, query.order_by(FuelDelivery.delivered_on,
                                                      FuelDelivery.id))
    return paging.answer(records.fuel_deliveries(session, rows), total)


@router.get("/{delivery_id}", response_model=models.FuelDelivery,
            summary="Get a fuel delivery / 查询燃料到货")
def get_delivery(delivery_id: int, session: SessionDep):
    """One fuel delivery."""
    return records.fuel_deliveries(session, [production.get(session, FuelDelivery,
                                                            delivery_id)])[0]


@router.post("", response_model=models.FuelDelivery, status_code=201,
             summary="Record a fuel delivery / 登记燃料到货")
def create_delivery(body: models.FuelDeliveryIn, session: SessionDep):
    """Record a delivery.  The unit must convert to the carrier's unit; an NCV needs its unit
    (e.g. ``MJ/kg``, ``kJ/kg``, ``GJ/t``), and is also stored as MJ per delivery unit."""
    return records.fuel_deliveries(session, [production.add_fuel_delivery(session,
                                                                          payload(body))])[0]


@router.delete("/{delivery_id}", status_code=204, response_class=Response,
               summary="Delete a fuel delivery / 删除燃料到货")
def delete_delivery(delivery_id: int, session: SessionDep) -> Response:
    """Delete one fuel delivery."""
    production.delete(session, FuelDelivery, delivery_id)
    return Response(status_code=204)
