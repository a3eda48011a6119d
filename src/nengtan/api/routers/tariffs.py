"""Time-of-use tariffs (分时电价): bands, daily periods by month, demand and capacity charges."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from nengtan.api import models
from nengtan.api.deps import PagingDep, SessionDep
from nengtan.api.params import resolve
from nengtan.api.schemas import ERRORS, payload
from nengtan.services import tariffs
from nengtan.store.models import Carrier, Tariff

router = APIRouter(prefix="/api/tariffs", tags=["tariffs / 电价"], responses=ERRORS)


@router.get("", response_model=models.TariffPage, summary="List tariffs / 电价列表")
def list_tariffs(session: SessionDep, paging: PagingDep,
                 carrier: str | None = Query(None, description="carrier code / 能源品种"),
                 region: str | None = Query(None, description="region code / 地区")):
    """Tariffs with their bands and periods, ordered by code."""
    query = select(Tariff)
    if carrier:
        query = query.where(Tariff.carrier_code == resolve(session, Carrier, carrier, "carrier",
                                                           "carrier").code)
    if region:
        query = query.where(Tariff.region == region)
    rows, total = paging.page(session, query.order_by(Tariff.code))
    return paging.answer([tariffs.as_dict(t) for t in rows], total)


@router.get("/{tariff_id}", response_model=models.Tariff, summary="Get a tariff / 查询电价")
def get_tariff(tariff_id: int, session: SessionDep):
    """One tariff with its bands and periods."""
    return tariffs.as_dict(tariffs.get(session, tariff_id))


@router.post("", response_model=models.Tariff, status_code=201,
             summary="Create a tariff / 新建电价")
def create_tariff(body: models.TariffIn, session: SessionDep):
    """Create a tariff.  Every period's band needs a price, and for every month the periods
    must cover the 24 hours exactly once (422 names the month with a hole or an overlap).
    Issues in ``bands``/``periods`` carry the index in that list as ``row``."""
    return tariffs.as_dict(tariffs.save(session, payload(body)))


@router.put("/{tariff_id}", response_model=models.Tariff, summary="Replace a tariff / 替换电价")
def replace_tariff(tariff_id: int, body: models.TariffIn, session: SessionDep):
    """Replace a tariff whole: fields left out take their defaults, and the bands and periods
    become exactly those given."""
    return tariffs.as_dict(tariffs.save(session, payload(body), tariff_id))


@router.patch("/{tariff_id}", response_model=models.Tariff, summary="Change a tariff / 修改电价")
def update_tariff(tariff_id: int, body: models.TariffPatch, session: SessionDep):
    """Change some fields; ``bands`` or ``periods``, when given, replace that list whole and
    the others are kept.  The result is checked like a new tariff."""
    current = tariffs.as_dict(tariffs.get(session, tariff_id))
    current.pop("id")
    return tariffs.as_dict(tariffs.save(session, {**current, **payload(body)}, tariff_id))


@router.delete("/{tariff_id}", status_code=204, response_class=Response,
               summary="Delete a tariff / 删除电价")
def delete_tariff(tariff_id: int, session: SessionDep) -> Response:
    """Delete a tariff that no meter uses (422 lists the meters that do)."""
    tariffs.delete(session, tariff_id)
    return Response(status_code=204)
