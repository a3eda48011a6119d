"""Readings: batch ingestion, and the read side (raw readings, interval values, rollups)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request

from nengtan.api import models, readings_body, tenancy
from nengtan.api.deps import SessionDep
from nengtan.api.errors import issues_response
from nengtan.api.params import END_DOC, START_DOC, period
from nengtan.api.schemas import ERRORS, ErrorBody, inline_schema
from nengtan.errors import Issue
from nengtan.services import ingest, query
from nengtan.store.models import Meter

router = APIRouter(tags=["readings / 读数"], responses=ERRORS)
Grain = Literal["hour", "day", "month"]

_CSV_EXAMPLE = ("meter,ts,value,unit,quality,reason\n"
                "E-101,2025-01-01T00:15:00+08:00,1234.5,,,\n"
                "E-101,2025-01-01 00:30,1236.0,kWh,manual,read on site\n")
_INGEST_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {
        "schema": inline_schema(models.ReadingsIn),
        "example": {"source": "api", "readings": [
            {"meter": "E-101", "ts": "2025-01-01T00:15:00+08:00", "value": 1234.5},
            {"meter": "E-101", "ts": "2025-01-01T00:30:00+08:00", "value": 1236.0,
             "quality": "manual", "reason": "read on site"}]}},
    "text/csv": {"schema": {"type": "string", "description": "long format with a header: "
                                                             "meter,ts,value[,unit,quality,reason]"},
                 "example": _CSV_EXAMPLE},
}}}


async def _raw_body(request: Request) -> bytes:
    # The body is parsed by hand: JSON and CSV share the endpoint, and every row's problems
    # must be reported together with row numbers, which request-model validation would not do.
    return await request.body()


@router.post("/api/readings", response_model=models.IngestResult, openapi_extra=_INGEST_BODY,
             responses={415: {"model": ErrorBody, "description": "neither JSON nor CSV"}},
             summary="Ingest readings / 批量写入读数")
def ingest_readings(request: Request, session: SessionDep, data: bytes = Depends(_raw_body),
                    source: str | None = Query(None, description="source of CSV uploads "
                                                                 "(JSON: the body's `source`)"),
                    detail: str | None = Query(None, description="detail of CSV uploads")):
    """Store a batch of readings, validated as a whole.

    Send JSON (``{"source": "api", "readings": [{"meter": "E-101", "ts": ..., "value": ...}]}``)
    or ``text/csv`` in the long format ``meter,ts,value[,unit,quality,reason]``.  Meters are
    named by code; a ``ts`` without an offset is read in the meter's site timezone; a value
    in another ``unit`` of the same kind is converted to the meter's unit.

    Any invalid row rejects the whole batch with 422 listing every bad row (``row`` = index in
    the JSON list, 0-based, or line of the CSV file, header = 1) and nothing is stored.
    Re-sending stored readings is a no-op (``unchanged``); a different value for a stored
    (meter, ts) replaces it and keeps the old one as a revision (``revised``).  Rollups are
    recomputed for the affected periods in the same transaction.
    """
    ctype = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if ctype in ("text/csv", "application/csv"):
        parsed = readings_body.from_csv(data)
    elif ctype in ("application/json", "") or ctype.endswith("+json"):
        parsed = readings_body.from_json(data)
    else:
        return issues_response(request, [Issue("rule.media_type", field="content-type",
                                               value=ctype, params={
                                                   "expected": "application/json, text/csv"})],
                               status=415)
    conn = session.connection()
    batch = readings_body.batch(conn, parsed)
    tenancy.refuse_hidden(session, Meter, batch.meter_id, field="meter")
    result = ingest.ingest(conn, batch, parsed.source or source or "api",
                           parsed.detail or detail)
    return result.as_dict()


@router.get("/api/meters/{meter_id}/readings", response_model=models.RawReadings,
            summary="Raw readings / 原始读数")
def raw_readings(meter_id: int, session: SessionDep,
                 start: str = Query(description=START_DOC), end: str = Query(description=END_DOC),
                 limit: int = Query(10_000, ge=1, le=query.MAX_RAW_ROWS,
                                    description="most readings to return")):
    """Readings as received (meter unit, before the multiplier) with quality, reason, batch,
    source and ingestion time; ``truncated`` says whether more exist in the window."""
    conn = session.connection()
    lo, hi = period(start, end)
    w = query.window(lo, hi, query.meter_info(conn, meter_id).tz)
    return query.raw_readings(conn, meter_id, w, limit)


@router.get("/api/meters/{meter_id}/intervals", response_model=models.Intervals,
            summary="Interval values / 区间值")
def intervals(meter_id: int, session: SessionDep,
              start: str = Query(description=START_DOC), end: str = Query(description=END_DOC)):
    """Interval values derived from the readings (register differences × multiplier × unit
    factor, in the carrier's unit) with flags, gaps, the pipeline's findings and lineage."""
    conn = session.connection()
    lo, hi = period(start, end)
    w = query.window(lo, hi, query.meter_info(conn, meter_id).tz)
    return query.intervals(conn, meter_id, w)


@router.get("/api/meters/{meter_id}/rollups", response_model=models.Rollups,
            summary="Meter rollups / 表计汇总")
def meter_rollups(meter_id: int, session: SessionDep,
                  grain: Grain = Query(description="hour, day or month"),
                  start: str = Query(description=START_DOC + "; day/month: local dates"),
                  end: str = Query(description=END_DOC)):
    """Hourly, daily or monthly totals of a meter in its carrier's unit, in the site's
    timezone.  For ``day`` and ``month``, ``start``/``end`` are local dates (end exclusive);
    for ``hour`` dates or ISO times.  An incomplete period has ``value`` null and its covered
    part in ``partial_value``."""
    lo, hi = period(start, end)
    return query.rollups(session.connection(), meter_id, grain, lo, hi)


@router.get("/api/nodes/{node_id}/rollups", response_model=models.NodeRollups,
            tags=["nodes / 组织节点"], summary="Node rollups / 节点汇总")
def node_rollups(node_id: int, session: SessionDep,
                 grain: Grain = Query(description="hour, day or month"),
                 start: str = Query(description=START_DOC + "; day/month: local dates"),
                 end: str = Query(description=END_DOC),
                 carrier: str | None = Query(None, description="only meters of this carrier"),
                 subtree: bool = Query(True, description="include the meters of the whole "
                                                         "subtree")):
    """Rollups of every meter of a node (and by default its subtree), grouped by carrier,
    each series in its carrier's unit with lineage."""
    lo, hi = period(start, end)
    return query.node_rollups(session.connection(), node_id, grain, lo, hi, carrier, subtree)
