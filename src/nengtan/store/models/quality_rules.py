"""Configured data-quality rules (range, rate of change, stuck, missing, negative interval,
balance).

A rule applies to one meter, or to every meter of a node (and, by default, its subtree),
optionally only those of one carrier.  Its findings are ``quality_events`` rows with origin
``rules`` and the rule's id in ``detail.rule_id``; see :mod:`nengtan.services.quality_rules`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nengtan.store.base import Base, utcnow
from nengtan.store.types import UTCDateTime


class QualityRule(Base):
    __tablename__ = "quality_rules"
    __table_args__ = (
        # A rule's scope is a meter or a node, never both.
        CheckConstraint("(meter_id IS NULL) <> (node_id IS NULL)", name="scope"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Tenant of the meter or node the rule watches.
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    meter_id: Mapped[int | None] = mapped_column(
        ForeignKey("meters.id", ondelete="CASCADE"), index=True)
    node_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"),
                                                index=True)
    #: Node scope only: restrict to the meters of this carrier.
    carrier_code: Mapped[str | None] = mapped_column(
        ForeignKey("carriers.code", ondelete="RESTRICT"))
    #: Node scope only: include the meters of the node's subtree (default) or only its own.
    subtree: Mapped[bool] = mapped_column(Boolean, default=True)
    kind: Mapped[str] = mapped_column(String(20))
    #: Kind-specific parameters (limits, tolerance, period ...), validated by the service.
    params: Mapped[dict] = mapped_column(JSON)
    severity: Mapped[str] = mapped_column(String(10), default="warning")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
