"""Continuous emission monitoring (CEMS, 实测法): monitors, samples and hourly results.

* ``cems_monitors`` — one CEMS on a stack: the emission-source node it measures, how it
  measures (CO2 wet or dry, vol-% or mg/m³; flow at stack conditions or standard dry;
  absolute or gauge pressure), its sample interval.
* ``cems_samples`` — every value as received, one row per (monitor, parameter, ts), with the
  analyser's status flag (HJ 212-2017 数据标记: N normal, C calibration, M maintenance, ...) and
  the ingest batch (``ingest_batches``) that brought it.
* ``cems_sample_revisions`` — the earlier value and flag whenever a sample was received again
  differently: nothing is overwritten without a trace.
* ``cems_hours`` — the hourly CO2 mass and validity computed by :mod:`nengtan.carbon.cems`,
  recomputed for the affected hours on every ingest.  Only hours with samples have a row; an
  hour without one is *missing*.

Every table carries ``tenant_id`` (the monitor node's enterprise) for distribution by tenant.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from nengtan.store.base import Base, utcnow
from nengtan.store.types import UTCDateTime


class CemsMonitor(Base):
    __tablename__ = "cems_monitors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    #: The emission source (stack, kiln, boiler) the monitor measures.
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"), index=True)
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    co2_basis: Mapped[str] = mapped_column(String(8), default="dry")  # dry | wet
    co2_unit: Mapped[str] = mapped_column(String(8), default="pct")  # pct | mg/m3
    flow_basis: Mapped[str] = mapped_column(String(10), default="actual")  # actual | std_dry
    pressure_basis: Mapped[str] = mapped_column(String(10), default="absolute")  # | gauge
    #: Ambient pressure added to a gauge static pressure (kPa).
    barometric_kpa: Mapped[float] = mapped_column(Float, default=101.325)
    interval_s: Mapped[int] = mapped_column(Integer, default=60)
    #: Hours before this instant are not expected (not reported missing).
    active_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CemsSample(Base):
    __tablename__ = "cems_samples"
    __table_args__ = (PrimaryKeyConstraint("monitor_id", "param", "ts"),)

    monitor_id: Mapped[int] = mapped_column(Integer)
    #: co2 | flow | temp | pressure | moisture
    param: Mapped[str] = mapped_column(String(10))
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    tenant_id: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)
    #: Analyser status flag (HJ 212-2017 table 8); only N counts.
    status: Mapped[str] = mapped_column(String(4), default="N")
    batch_id: Mapped[int] = mapped_column(Integer)
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CemsSampleRevision(Base):
    """A superseded sample: (monitor, param, ts) was received again with another value/flag."""

    __tablename__ = "cems_sample_revisions"
    __table_args__ = (Index(None, "monitor_id", "ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    monitor_id: Mapped[int] = mapped_column(Integer)
    param: Mapped[str] = mapped_column(String(10))
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    old_value: Mapped[float] = mapped_column(Float)
    old_status: Mapped[str] = mapped_column(String(4))
    old_batch_id: Mapped[int] = mapped_column(Integer)
    new_value: Mapped[float] = mapped_column(Float)
    new_status: Mapped[str] = mapped_column(String(4))
    new_batch_id: Mapped[int] = mapped_column(Integer)
    revised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CemsHour(Base):
    """One clock hour (UTC start) of one monitor, as computed by the engine."""

    __tablename__ = "cems_hours"
    __table_args__ = (PrimaryKeyConstraint("monitor_id", "hour"),)

    monitor_id: Mapped[int] = mapped_column(Integer)
    hour: Mapped[datetime] = mapped_column(UTCDateTime)
    tenant_id: Mapped[int] = mapped_column(Integer)
    #: valid | invalid (missing hours have no row).
    status: Mapped[str] = mapped_column(String(10))
    #: CO2 of the hour (t); NULL unless valid.
    co2_t: Mapped[float | None] = mapped_column(Float)
    #: CO2 of the valid samples only (t): the partial mass of an invalid hour.
    measured_co2_t: Mapped[float | None] = mapped_column(Float)
    valid_minutes: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list | None] = mapped_column(JSON)
    averages: Mapped[dict | None] = mapped_column(JSON)
    method_version: Mapped[str] = mapped_column(String(20))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
