"""Data quality and audit: findings, revisions, gap spans and ingest batches."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from nengtan.api import models, tenancy
from nengtan.api.deps import SessionDep
from nengtan.api.params import END_DOC, START_DOC, period, resolve
from nengtan.api.schemas import ERRORS
from nengtan.config import get_settings
from nengtan.services import query
from nengtan.store.models import Meter

router = APIRouter(tags=["quality / 数据质量"], responses=ERRORS)

#: Open ends of optional periods: ingestion stores nothing before 2000 (and nothing far
#: in the future), so these bounds mean "everything".
_FIRST = datetime(2000, 1, 1, tzinfo=UTC)
_LAST = datetime(2100, 1, 1, tzinfo=UTC)


def _window(start: str | None, end: str | None, tz) -> query.Window:
    lo, hi = period(start, end, required=False)
    return query.window(lo or _FIRST, hi or _LAST, tz)


@router.get("/api/meters/{meter_id}/revisions", response_model=list[models.Revision],
            tags=["meters / 表计"], summary="Reading revisions / 读数修订记录")
def revisions(meter_id: int, session: SessionDep,
              start: str | None = Query(None, description=START_DOC + "; default: all"),
              end: str | None = Query(None, description=END_DOC)):
    """Every stored reading that a later, different reading for the same time replaced: old
    and new value, quality and batch.  No value is ever lost."""
    conn = session.connection()
    w = _window(start, end, query.meter_info(conn, meter_id).tz)
    return query.revisions(conn, meter_id, w)


@router.get("/api/meters/{meter_id}/gaps", response_model=list[models.GapSpan],
            tags=["meters / 表计"], summary="Gap spans / 缺测区间")
def gaps(meter_id: int, session: SessionDep,
         start: str | None = Query(None, description=START_DOC + "; default: all"),
         end: str | None = Query(None, description=END_DOC)):
    """Register differences across gaps, kept whole: their total is known, not how it spread
    over the gap (unless the meter estimates gaps)."""
    conn = session.connection()
    w = _window(start, end, query.meter_info(conn, meter_id).tz)
    return query.gap_spans(conn, meter_id, w)


@router.get("/api/quality-events", response_model=list[models.QualityEvent],
            summary="Quality findings / 数据质量事件")
def quality_events(session: SessionDep,
                   meter: str | None = Query(None, description="meter code / 表计编码"),
                   rule: str | None = Query(None, description="e.g. gap, register_decrease, "
                                                              "register_glitch, rollover"),
                   tenant_id: int | None = Query(None, description="findings of this tenant"),
                   start: str | None = Query(None, description=START_DOC),
                   end: str | None = Query(None, description=END_DOC),
                   limit: int = Query(1000, ge=1, le=10_000)):
    """Findings of the pipeline (gaps, decreases, glitches, rollovers, applied resets) that
    overlap the period, in time order."""
    conn = session.connection()
    meter_id, tz = None, ZoneInfo(get_settings().timezone)
    if meter:
        meter_id = resolve(session, Meter, meter, "meter", "meter").id
        tz = query.meter_info(conn, meter_id).tz
    w = _window(start, end, tz) if (start or end) else None
    return query.quality_events(conn, meter_id, tenant_id, rule, w, limit,
                                tenants=tenancy.tenants(session))


@router.get("/api/ingest-batches", response_model=list[models.IngestBatch],
            summary="Ingest batches / 写入批次")
def ingest_batches(session: SessionDep, limit: int = Query(100, ge=1, le=1000)):
    """The latest acts of ingestion (API calls, files, collector flushes), newest first, with
    what each stored."""
    return query.batches(session.connection(), limit)
