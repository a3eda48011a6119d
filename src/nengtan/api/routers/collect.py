"""collection / 数据采集: dead letters, collector events and pull cursors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from nengtan.api.deps import SessionDep
from nengtan.api.schemas import ERRORS
from nengtan.services import collect_admin

router = APIRouter(tags=["collection / 数据采集"], responses=ERRORS)


class DeadLetterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    received_at: datetime
    collector: str
    adapter: str
    source: str
    reason: str
    message: dict[str, str]
    detail: dict[str, Any] | None = None
    size: int
    preview: str
    status: str
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    note: str | None = None


class CollectorEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    ts: datetime
    collector: str
    adapter: str | None = None
    device: str | None = None
    kind: str
    severity: str
    detail: dict[str, Any] | None = None


class CursorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    collector: str
    adapter: str
    cursor: str | None = None
    updated_at: datetime


class Discard(BaseModel):
    user: str
    note: str


@router.get("/api/dead-letters", response_model=list[DeadLetterOut],
            summary="Dead letters / 死信")
def dead_letters(session: SessionDep,
                 status: str | None = Query(None, description="open | replayed | discarded"),
                 reason: str | None = Query(None, description="e.g. dead.unknown_tag"),
                 adapter: str | None = Query(None),
                 limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0)):
    """Payloads a collector could not parse, map or store, newest first, with the reason in
    Chinese and English and the first 2,000 bytes.  Nothing a device sent is thrown away."""
    return collect_admin.dead_letters(session, status, reason, adapter, limit, offset)


@router.get("/api/dead-letters/{letter_id}", response_model=DeadLetterOut,
            summary="One dead letter / 单条死信")
def dead_letter(letter_id: int, session: SessionDep):
    """One letter with its reason, detail and the start of its payload."""
    return collect_admin.describe(collect_admin.dead_letter(session, letter_id))


@router.get("/api/dead-letters/{letter_id}/payload", summary="Raw payload / 原始报文",
            response_class=Response)
def dead_letter_payload(letter_id: int, session: SessionDep):
    """The payload exactly as received (bytes)."""
    letter = collect_admin.dead_letter(session, letter_id)
    return Response(bytes(letter.payload), media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="dead-letter-{letter_id}.bin"'})


@router.post("/api/dead-letters/{letter_id}/discard", response_model=DeadLetterOut,
             summary="Discard a dead letter / 处置死信")
def discard(letter_id: int, session: SessionDep, body: Discard = Body(...)):
    """Mark an open letter as dealt with, saying by whom and why.  The payload is kept."""
    letter = collect_admin.discard(session, letter_id, body.user, body.note)
    session.flush()
    return collect_admin.describe(letter)


@router.get("/api/collector-events", response_model=list[CollectorEventOut],
            summary="Collector events / 采集器事件")
def collector_events(session: SessionDep, collector: str | None = Query(None),
                     adapter: str | None = Query(None),
                     kind: str | None = Query(None, description="started, stopped, connected, "
                                              "disconnected, offline, online, error"),
                     limit: int = Query(200, ge=1, le=5000)):
    """Starts, stops, connection losses and device offline/online events, newest first."""
    return collect_admin.events(session, collector, adapter, kind, limit)


@router.get("/api/collect-cursors", response_model=list[CursorOut],
            summary="Pull cursors / 增量游标")
def collect_cursors(session: SessionDep):
    """How far each incremental system-interface pull has read."""
    return collect_admin.cursors(session)
