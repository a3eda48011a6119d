"""Raw readings, their audit trail, derived rollups and pipeline findings.

Table families (the guide's 采集数据库 / 统计数据库):

* ``readings`` — every raw value as received (in the meter's unit, before multiplier), one row
  per (meter, ts).  PostgreSQL: range-partitioned by month on ``ts`` with a BRIN index; the
  uniqueness of (meter, ts) is kept by the ingestion service under a per-meter advisory lock
  (see docs/architecture.md, "Readings storage").  SQLite: a clustered WITHOUT ROWID table
  keyed by (meter_id, ts).
* ``reading_revisions`` — the earlier value whenever a later reading for the same (meter, ts)
  differed: nothing is overwritten without a trace.
* ``rollup_hour`` — per meter and UTC day, 24 hourly values in the carrier's unit, with the
  seconds of each hour covered by data and quality flags.
* ``rollup_day`` / ``rollup_month`` — per meter and local (site timezone) day / month.
* ``meter_tails`` — each meter's last raw readings, so appends need no scan of ``readings``.
* ``gap_spans`` — register differences across a gap, kept whole (their total is known, their
  distribution is not) unless the meter asks for estimation.
* ``quality_events`` — findings of the pipeline (gaps, decreases, rollovers, applied resets).

Every large table carries ``tenant_id`` (the enterprise, or the park for park facilities) so it
can be distributed by tenant with Citus.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from nengtan.store.base import Base, utcnow
from nengtan.store.types import BigIntArray, FloatArray, SmallIntArray, UTCDateTime


class IngestBatch(Base):
    """One act of ingestion (an API call, a file, a collector flush): source and time."""

    __tablename__ = "ingest_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))  # api | import | mqtt | modbus | demo | ...
    source_detail: Mapped[str | None] = mapped_column(String(400))  # file name, topic, user
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    revised: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))


class Reading(Base):
    __tablename__ = "readings"
    __table_args__ = (
        PrimaryKeyConstraint("meter_id", "ts", name="pk_readings").ddl_if(dialect="sqlite"),
        Index(
            "ix_readings_meter_id_ts_brin",
            "meter_id",
            "ts",
            postgresql_using="brin",
            postgresql_with={"pages_per_range": 16},
        ).ddl_if(dialect="postgresql"),
        {"postgresql_partition_by": "RANGE (ts)", "sqlite_with_rowid": False},
    )

    tenant_id: Mapped[int] = mapped_column(Integer)
    meter_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    #: Register or interval value in the meter's unit, as received (before multiplier).
    value: Mapped[float] = mapped_column(Float)
    #: nengtan.quality.flags.Quality: 0 measured, 1 estimated, 2 manual, 3 rejected.
    quality: Mapped[int] = mapped_column(SmallInteger, default=0)
    batch_id: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)


class ReadingRevision(Base):
    """A superseded value: the reading at (meter, ts) was received again with another value."""

    __tablename__ = "reading_revisions"
    __table_args__ = (Index(None, "meter_id", "ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    meter_id: Mapped[int] = mapped_column(Integer)
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    old_value: Mapped[float] = mapped_column(Float)
    old_quality: Mapped[int] = mapped_column(SmallInteger)
    old_batch_id: Mapped[int] = mapped_column(Integer)
    old_reason: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[float] = mapped_column(Float)
    new_quality: Mapped[int] = mapped_column(SmallInteger)
    new_batch_id: Mapped[int] = mapped_column(Integer)
    revised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RollupHour(Base):
    """24 hourly buckets of one meter on one UTC day (hour i = [day 00:00 + i h, +1 h) UTC).

    ``value`` — sum of interval values in each hour, in the carrier's unit (NaN if no data);
    ``coverage`` — seconds of each hour covered by intervals; NULL means every hour is fully
    covered (3600), which is the common case and keeps rows small;
    ``flags`` — OR of nengtan.quality.flags.Flag of the contributing intervals; NULL = none;
    ``valid_count`` — readings of the day that are not rejected;
    ``raw_count``, ``first_ts``, ``last_ts`` — all raw readings of the day (any quality): the
    ingestion service uses them to know, without touching ``readings``, whether a new batch
    can overlap stored readings and where a meter's neighbouring data lies.
    """

    __tablename__ = "rollup_hour"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "meter_id", "day"),)

    tenant_id: Mapped[int] = mapped_column(Integer)
    meter_id: Mapped[int] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(Date)
    value: Mapped[object] = mapped_column(FloatArray)
    coverage: Mapped[object | None] = mapped_column(SmallIntArray)
    flags: Mapped[object | None] = mapped_column(SmallIntArray)
    valid_count: Mapped[int] = mapped_column(Integer)
    raw_count: Mapped[int] = mapped_column(Integer)
    first_ts: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_ts: Mapped[datetime | None] = mapped_column(UTCDateTime)


class _PeriodRollup:
    tenant_id: Mapped[int] = mapped_column(Integer)
    meter_id: Mapped[int] = mapped_column(Integer)
    #: Sum over the covered part of the period, carrier unit (NULL if nothing covered).
    value: Mapped[float | None] = mapped_column(Float)
    coverage_s: Mapped[int] = mapped_column(Integer)
    expected_s: Mapped[int] = mapped_column(Integer)
    flags: Mapped[int] = mapped_column(Integer)


class RollupDay(_PeriodRollup, Base):
    """One meter, one local day (the timezone of the meter's site)."""

    __tablename__ = "rollup_day"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "meter_id", "day"),)

    day: Mapped[date] = mapped_column(Date)


class RollupMonth(_PeriodRollup, Base):
    """One meter, one local calendar month (``month`` is its first day)."""

    __tablename__ = "rollup_month"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "meter_id", "month"),)

    month: Mapped[date] = mapped_column(Date)


class MeterTail(Base):
    """The last raw readings of a meter (any quality), newest last, kept with every ingest.

    A batch that starts after ``ts[-1]`` cannot overlap stored readings, and its rollups need
    no other context than these readings: appending — the normal case for collectors and bulk
    loads — never scans ``readings``.  ``complete`` says the tail holds the meter's whole
    history.  ``ts`` in µs since the Unix epoch.
    """

    __tablename__ = "meter_tails"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "meter_id"),)

    tenant_id: Mapped[int] = mapped_column(Integer)
    meter_id: Mapped[int] = mapped_column(Integer)
    ts: Mapped[object] = mapped_column(BigIntArray)
    value: Mapped[object] = mapped_column(FloatArray)
    quality: Mapped[object] = mapped_column(SmallIntArray)
    complete: Mapped[bool] = mapped_column(Boolean)


class GapSpan(Base):
    """A register difference across a gap: total known, distribution unknown."""

    __tablename__ = "gap_spans"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "meter_id", "start_ts"),)

    tenant_id: Mapped[int] = mapped_column(Integer)
    meter_id: Mapped[int] = mapped_column(Integer)
    start_ts: Mapped[datetime] = mapped_column(UTCDateTime)
    end_ts: Mapped[datetime] = mapped_column(UTCDateTime)
    value: Mapped[float] = mapped_column(Float)
    flags: Mapped[int] = mapped_column(Integer)


class QualityEvent(Base):
    """A finding about a meter's data over [start_ts, end_ts]."""

    __tablename__ = "quality_events"
    __table_args__ = (Index(None, "meter_id", "start_ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    meter_id: Mapped[int | None] = mapped_column(ForeignKey("meters.id", ondelete="CASCADE"))
    start_ts: Mapped[datetime] = mapped_column(UTCDateTime)
    end_ts: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Rule key: gap, register_decrease, rollover, reset_applied, ...
    rule: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))  # info | warning | error
    #: "pipeline" findings are derived and recomputed with the rollups.
    origin: Mapped[str] = mapped_column(String(20), default="pipeline")
    status: Mapped[str] = mapped_column(String(12), default="open")
    detail: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Meta(Base):
    """Key/value facts about this database (demo build marker, reference data versions)."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
