"""Equipment efficiency indicators computed from meters.

An indicator (boiler efficiency, chiller COP, compressed-air specific power, a generic
specific energy) is the ratio of two signed sums of meters, with kind-specific parameters
(steam pressure, feed-water temperature, NCV override ...), an optional target and an optional
grade reference of a standard (GB 24500, GB 19577, GB 19153 ...).  The meters are rows of
``efficiency_indicator_meters`` so that a meter in use cannot be deleted silently; see
:mod:`nengtan.services.efficiency_indicators` and :mod:`nengtan.energy.efficiency`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nengtan.store.base import Base, utcnow
from nengtan.store.types import UTCDateTime


class EfficiencyIndicator(Base):
    __tablename__ = "efficiency_indicators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    #: The equipment (or station) the indicator describes.
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"), index=True)
    #: Tenant of the node (enterprise, else park, else root).
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    #: boiler_efficiency | cop | compressed_air_specific_power | specific_energy
    kind: Mapped[str] = mapped_column(String(40))
    #: Kind-specific parameters, validated by the engine (units in the key names).
    params: Mapped[dict] = mapped_column(JSON)
    #: Target or reference value in the indicator's unit, and where it comes from.
    target_value: Mapped[float | None] = mapped_column(Float)
    target_source: Mapped[str | None] = mapped_column(Text)
    #: Grade reference: {"standard", "clause", "source", "status", "note",
    #: "levels": [{"grade", "value"}, ...]} best first, in the indicator's unit.
    grades: Mapped[dict | None] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class EfficiencyIndicatorMeter(Base):
    """One meter on one side (numerator or denominator) of an indicator, with its sign."""

    __tablename__ = "efficiency_indicator_meters"
    __table_args__ = (UniqueConstraint("indicator_id", "side", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("efficiency_indicators.id", ondelete="CASCADE"), index=True)
    side: Mapped[str] = mapped_column(String(12))
    position: Mapped[int] = mapped_column(Integer)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id", ondelete="RESTRICT"), index=True)
    #: +1 added, −1 subtracted (e.g. blow-down or a sub-meter to leave out).
    sign: Mapped[int] = mapped_column(Integer, default=1)
