"""What collectors leave in the database: dead letters, collector events, pull cursors."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from nengtan import i18n
from nengtan.errors import InputError, Issue, NotFound
from nengtan.store.models import CollectCursor, CollectorEvent, DeadLetter

PREVIEW_BYTES = 2000


def dead_letters(session: Session, status: str | None = None, reason: str | None = None,
                 adapter: str | None = None, limit: int = 100, offset: int = 0) -> list[dict]:
    q = select(DeadLetter).order_by(DeadLetter.id.desc())
    if status:
        q = q.where(DeadLetter.status == status)
    if reason:
        q = q.where(DeadLetter.reason == reason)
    if adapter:
        q = q.where(DeadLetter.adapter == adapter)
    return [describe(d) for d in session.scalars(q.limit(limit).offset(offset))]


def dead_letter(session: Session, letter_id: int) -> DeadLetter:
    letter = session.get(DeadLetter, letter_id)
    if letter is None:
        raise NotFound("dead letter", letter_id)
    return letter


def describe(d: DeadLetter) -> dict:
    """A letter for people: the reason in both languages and the start of the payload."""
    payload = bytes(d.payload)
    try:
        preview = payload[:PREVIEW_BYTES].decode("utf-8")
    except UnicodeDecodeError:
        preview = payload[:PREVIEW_BYTES].hex()
    return {"id": d.id, "received_at": d.received_at, "collector": d.collector,
            "adapter": d.adapter, "source": d.source, "reason": d.reason,
            "message": i18n.both(d.reason, **{k: v for k, v in (d.detail or {}).items()
                                              if isinstance(v, (str, int, float))}),
            "detail": d.detail, "size": len(payload), "preview": preview,
            "status": d.status, "resolved_at": d.resolved_at, "resolved_by": d.resolved_by,
            "note": d.note}


def discard(session: Session, letter_id: int, user: str, note: str) -> DeadLetter:
    """Mark a letter as dealt with; its payload stays (nothing is deleted)."""
    letter = dead_letter(session, letter_id)
    if not note or not note.strip():
        raise InputError([Issue("rule.required", field="note")])
    if letter.status != "open":
        raise InputError([Issue("dead.not_open", field="status", value=letter.status)])
    letter.status, letter.note = "discarded", note.strip()
    letter.resolved_by, letter.resolved_at = user, datetime.now(timezone.utc)
    return letter


def events(session: Session, collector: str | None = None, adapter: str | None = None,
           kind: str | None = None, limit: int = 200) -> list[CollectorEvent]:
    q = select(CollectorEvent).order_by(CollectorEvent.id.desc())
    if collector:
        q = q.where(CollectorEvent.collector == collector)
    if adapter:
        q = q.where(CollectorEvent.adapter == adapter)
    if kind:
        q = q.where(CollectorEvent.kind == kind)
    return list(session.scalars(q.limit(limit)))


def cursors(session: Session) -> list[CollectCursor]:
    return list(session.scalars(select(CollectCursor).order_by(CollectCursor.collector,
                                                               CollectCursor.adapter)))
