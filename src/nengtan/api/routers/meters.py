"""Meters (measurement points) and their register events."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from nengtan.api import models, records
from nengtan.api.deps import PagingDep, SessionDep
from nengtan.api.params import resolve
from nengtan.api.schemas import ERRORS, payload
from nengtan.errors import NotFound
from nengtan.services import meters
from nengtan.store.models import METER_KINDS, REGISTER_KINDS, Carrier, Meter, MeterEvent, Node

router = APIRouter(tags=["meters / 表计"], responses=ERRORS)
MeterKind = Literal[tuple(METER_KINDS)]  # type: ignore[valid-type]
Register = Literal[tuple(REGISTER_KINDS)]  # type: ignore[valid-type]


@router.get("/api/meters", response_model=models.MeterPage, summary="List meters / 表计列表")
def list_meters(session: SessionDep, paging: PagingDep,
                node: str | None = Query(None, description="code of the node / 节点编码"),
                subtree: bool = Query(False, description="with `node`: include the meters of "
                                                         "its whole subtree"),
                carrier: str | None = Query(None, description="carrier code / 能源品种"),
                level: int | None = Query(None, ge=1, le=3,
                                          description="GB 17167 metering level 1-3"),
                kind: MeterKind | None = Query(None, description="physical, virtual, manual"),
                register: Register | None = Query(None, description="cumulative or interval"),
                active: bool | None = Query(None)):
    """Meters matching the filters, ordered by code."""
    query = select(Meter)
    if node:
        n = resolve(session, Node, node, "node", "node")
        query = (query.join(Node, Node.id == Meter.node_id).where(Node.path.startswith(n.path))
                 if subtree else query.where(Meter.node_id == n.id))
    if carrier:
        resolve(session, Carrier, carrier, "carrier", "carrier")
        query = query.where(Meter.carrier_code == carrier)
    for column, value in ((Meter.level, level), (Meter.kind, kind),
                          (Meter.register, register), (Meter.active, active)):
        if value is not None:
            query = query.where(column == value)
    rows, total = paging.page(session, query.order_by(Meter.code))
    refs = meters.reference_codes(session)
    return paging.answer([meters.as_dict(session, m, refs) for m in rows], total)


@router.get("/api/meters/{meter_id}", response_model=models.Meter, summary="Get a meter / 查询表计")
def get_meter(meter_id: int, session: SessionDep):
    """One meter with the codes and ids of its node, flow nodes, parent meter and tariff."""
    return meters.as_dict(session, meters.get(session, meter_id))


@router.post("/api/meters", response_model=models.Meter, status_code=201,
             summary="Create a meter / 新建表计")
def create_meter(body: models.MeterIn, session: SessionDep):
    """Create a meter on a node (by code).  Its unit must convert to the carrier's unit; a
    virtual meter needs a formula over existing meters, e.g. ``{E-101} + {E-102}``."""
    return meters.as_dict(session, meters.create(session, payload(body)))


@router.patch("/api/meters/{meter_id}", response_model=models.Meter,
              summary="Change a meter / 修改表计")
def update_meter(meter_id: int, body: models.MeterPatch, session: SessionDep):
    """Change fields of a meter.  Changing how readings become values (unit, multiplier,
    register kind, interval, rollover, gap handling, formula) recomputes its rollups."""
    return meters.as_dict(session, meters.update(session, meter_id, payload(body)))


@router.delete("/api/meters/{meter_id}", status_code=204, response_class=Response,
               summary="Delete a meter / 删除表计")
def delete_meter(meter_id: int, session: SessionDep) -> Response:
    """Delete a meter without readings that no virtual meter uses; a meter with readings is
    deactivated instead (``PATCH active=false``) so no data is lost."""
    meters.delete(session, meter_id)
    return Response(status_code=204)


# -- register events -----------------------------------------------------------------------
@router.get("/api/meter-events", response_model=models.MeterEventPage,
            tags=["meter events / 表计事件"], summary="List meter events / 表计事件列表")
def list_events(session: SessionDep, paging: PagingDep,
                meter: str | None = Query(None, description="meter code / 表计编码")):
    """Register resets, meter replacements and multiplier changes, in time order."""
    query = select(MeterEvent)
    if meter:
        query = query.where(MeterEvent.meter_id == resolve(session, Meter, meter, "meter",
                                                           "meter").id)
    rows, total = paging.page(session, query.order_by(MeterEvent.ts, MeterEvent.id))
    return paging.answer(records.meter_events(session, rows), total)


@router.get("/api/meter-events/{event_id}", response_model=models.MeterEvent,
            tags=["meter events / 表计事件"], summary="Get a meter event / 查询表计事件")
def get_event(event_id: int, session: SessionDep):
    """One register event."""
    event = session.get(MeterEvent, event_id)
    if event is None:
        raise NotFound("meter event", event_id)
    return records.meter_events(session, [event])[0]


@router.post("/api/meter-events", response_model=models.MeterEvent, status_code=201,
             tags=["meter events / 表计事件"], summary="Record a meter event / 登记表计事件")
def create_event(body: models.MeterEventIn, session: SessionDep):
    """Record a reset or replacement (old final and new initial register values) or a new
    multiplier from ``ts`` on; the meter's values around it are recomputed.  A ``ts`` without
    an offset is read in the meter's site timezone."""
    return records.meter_events(session, [meters.add_event(session, payload(body))])[0]


@router.delete("/api/meter-events/{event_id}", status_code=204, response_class=Response,
               tags=["meter events / 表计事件"], summary="Delete a meter event / 删除表计事件")
def delete_event(event_id: int, session: SessionDep) -> Response:
    """Delete an event; the meter's values around it are recomputed."""
    meters.delete_event(session, event_id)
    return Response(status_code=204)
