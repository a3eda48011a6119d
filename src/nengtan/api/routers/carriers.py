"""Energy carriers (能源品种): the shipped catalogue and user additions."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from sqlalchemy import select

from nengtan.api import models, records
from nengtan.api.deps import PagingDep, SessionDep
from nengtan.api.schemas import ERRORS, payload
from nengtan.errors import NotFound
from nengtan.services import meters
from nengtan.store.models import CARRIER_CATEGORIES, Carrier

router = APIRouter(prefix="/api/carriers", tags=["carriers / 能源品种"], responses=ERRORS)
Category = Literal[tuple(CARRIER_CATEGORIES)]  # type: ignore[valid-type]


@router.get("", response_model=models.CarrierPage, summary="List carriers / 能源品种列表")
def list_carriers(session: SessionDep, paging: PagingDep,
                  category: Category | None = Query(None, description="category / 类别"),
                  is_energy: bool | None = Query(None, description="energy carriers only "
                                                                   "(true) or materials and "
                                                                   "working media (false)")):
    """Carriers with their physical unit, category and provenance (source, status)."""
    query = select(Carrier)
    if category:
        query = query.where(Carrier.category == category)
    if is_energy is not None:
        query = query.where(Carrier.is_energy == is_energy)
    rows, total = paging.page(session, query.order_by(Carrier.category, Carrier.code))
    return paging.answer([records.carrier(c) for c in rows], total)


@router.get("/{code}", response_model=models.Carrier, summary="Get a carrier / 查询能源品种")
def get_carrier(code: str, session: SessionDep):
    """One carrier by its code (carriers are keyed by code, e.g. ``electricity``)."""
    carrier = session.get(Carrier, code)
    if carrier is None:
        raise NotFound("carrier", code)
    return records.carrier(carrier)


@router.post("", response_model=models.Carrier, status_code=201,
             summary="Add a carrier / 新增能源品种")
def create_carrier(body: models.CarrierIn, session: SessionDep):
    """Add a user-defined carrier (shipped ones are reference data and never overwritten)."""
    return records.carrier(meters.create_carrier(session, payload(body)))
