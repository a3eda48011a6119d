"""Collection bookkeeping: dead letters, collector events and incremental cursors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nengtan.store.base import Base, utcnow
from nengtan.store.types import UTCDateTime

DEAD_LETTER_STATUSES = ("open", "replayed", "discarded")


class DeadLetter(Base):
    """A payload (or one point of it) that could not be parsed, mapped or stored.

    The raw bytes are kept as received, so nothing a device sent is ever lost: once the cause
    is fixed (a tag mapped, a meter created) the letter can be replayed.
    """

    __tablename__ = "dead_letters"
    __table_args__ = (Index(None, "status", "received_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    collector: Mapped[str] = mapped_column(String(100))
    adapter: Mapped[str] = mapped_column(String(100))
    #: Where it came from: MQTT topic, device name, URL, query name.
    source: Mapped[str] = mapped_column(String(400))
    #: Rule key (``dead.not_json``, ``dead.unknown_tag``, ...); message texts in the catalogues.
    reason: Mapped[str] = mapped_column(String(60))
    detail: Mapped[dict | None] = mapped_column(JSON)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(12), default="open")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)


class CollectorEvent(Base):
    """Something that happened to a collector, adapter or device (start, offline, reconnect)."""

    __tablename__ = "collector_events"
    __table_args__ = (Index(None, "collector", "ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    collector: Mapped[str] = mapped_column(String(100))
    adapter: Mapped[str | None] = mapped_column(String(100))
    device: Mapped[str | None] = mapped_column(String(200))
    #: started | stopped | connected | disconnected | offline | online | error
    kind: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10), default="info")
    detail: Mapped[dict | None] = mapped_column(JSON)


class CollectCursor(Base):
    """How far an incremental pull (HTTP/SQL system interface) has read.

    Written in the same transaction as the data it covers, so a crash never skips or repeats
    a record.
    """

    __tablename__ = "collect_cursors"

    collector: Mapped[str] = mapped_column(String(100), primary_key=True)
    adapter: Mapped[str] = mapped_column(String(100), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
