"""Meters (measurement points) and the events that change how their registers are read."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nengtan.store.base import Base, utcnow
from nengtan.store.types import UTCDateTime

METER_KINDS = ("physical", "virtual", "manual")
REGISTER_KINDS = ("cumulative", "interval")
#: GB 17167-2006 用能单位能源计量器具配备和管理通则: level 1 = 进出用能单位,
#: level 2 = 进出主要次级用能单位, level 3 = 主要用能设备.
METERING_LEVELS = (1, 2, 3)
EVENT_KINDS = ("reset", "replacement", "multiplier_change")


class Meter(Base):
    __tablename__ = "meters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"), index=True)
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    carrier_code: Mapped[str] = mapped_column(ForeignKey("carriers.code", ondelete="RESTRICT"))
    #: Unit of the register or interval value as the device reports it (e.g. kWh, m3, t).
    unit: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10), default="physical")
    register: Mapped[str] = mapped_column(String(12), default="cumulative")
    #: Nominal seconds between readings (900 for 15-minute data, 86400 for daily).
    interval_s: Mapped[int] = mapped_column(Integer, default=900)
    #: CT × PT ratio (or any scale) applied to register differences.
    multiplier: Mapped[float] = mapped_column(Float, default=1.0)
    level: Mapped[int] = mapped_column(Integer, default=3)
    #: fuel (consumed as energy) or feedstock (原料用能, GB/T 2589-2020 4.2: reported apart).
    energy_use: Mapped[str] = mapped_column(String(10), default="fuel", server_default="fuel")
    #: Flow edge: energy flows from → to (None = outside the boundary: purchase / export).
    flow_from_node_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"))
    flow_to_node_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"))
    #: Parent meter in the metering hierarchy (its sub-meters should add up to it).
    parent_meter_id: Mapped[int | None] = mapped_column(ForeignKey("meters.id", ondelete="SET NULL"))
    #: Virtual meters: expression over other meters, e.g. "{E-101} + {E-102} - 0.5*{E-103}".
    formula: Mapped[str | None] = mapped_column(Text)
    #: Register value at which the counter wraps to zero (e.g. 1e8 for eight digits).
    rollover_at: Mapped[float | None] = mapped_column(Float)
    #: Readings further apart than this are a gap (default 1.5 × interval_s).
    gap_threshold_s: Mapped[int | None] = mapped_column(Integer)
    #: Fill gaps by linear interpolation of the register (values flagged estimated).
    estimate_gaps: Mapped[bool] = mapped_column(Boolean, default=False)
    tariff_id: Mapped[int | None] = mapped_column(ForeignKey("tariffs.id", ondelete="SET NULL"))
    serial_no: Mapped[str | None] = mapped_column(String(64))
    installed_on: Mapped[date | None] = mapped_column(Date)
    removed_on: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def effective_gap_threshold_s(self) -> int:
        return self.gap_threshold_s or int(self.interval_s * 1.5)


class MeterEvent(Base):
    """A recorded change to a meter's register: reset, replacement, or a new CT/PT ratio.

    ``reset``/``replacement`` at ``ts``: the old register ended at ``old_final_value`` and the
    new one started at ``new_initial_value``.  ``multiplier_change``: from ``ts`` on, register
    differences are multiplied by ``new_multiplier``.
    """

    __tablename__ = "meter_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(20))
    old_final_value: Mapped[float | None] = mapped_column(Float)
    new_initial_value: Mapped[float | None] = mapped_column(Float)
    new_multiplier: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
