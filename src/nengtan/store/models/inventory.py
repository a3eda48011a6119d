"""Carbon inventories (碳盘查): boundary, emission sources, versions, locks.

* ``inventories`` — one inventory of an enterprise (organisational boundary: the enterprise
  node's subtree; operational boundary as text), a reporting period of local dates [start,
  end), base year, GWP set, methodology, region (for regional factors) and an optional
  emission target or budget for alerts.
* ``emission_sources`` — a source (排放源) registered for one inventory, or for the enterprise
  (``inventory_id`` NULL) and then reused by every inventory of that enterprise: kind, the
  carrier / material / gas the factor library keys on, method, facility, parameters entered
  with their source.  ``revision`` counts changes; every revision is kept in
  ``emission_source_revisions`` (what a locked version used stays provable).
* ``emission_source_links`` — where a source's activity data come from: meters (rollups),
  approved manual entries, fuel deliveries (lab NCV and carbon content), production records,
  CEMS monitors, values entered with a source, green-electricity certificates.
* ``inventory_versions`` — computed results, canonical JSON snapshots; a locked version never
  changes (its digest is in the ledger), a recalculation is a new version.
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
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from nengtan.store.base import Base, utcnow
from nengtan.store.types import UTCDateTime

#: How an inventory's target is given: tCO2e per year, per month, or for the whole period.
TARGET_PERIODS = ("year", "month", "period")
#: Kinds of activity-data link (see nengtan.services.inventory_sources).
LINK_KINDS = ("meter", "manual_entry", "fuel_deliveries", "production", "cems", "value",
              "green_certificate")
VERSION_STATUSES = ("draft", "locked")


class Inventory(Base):
    __tablename__ = "inventories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    #: The enterprise (organisational boundary = its subtree).
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"), index=True)
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    #: Operational boundary (运营边界): what is in and out, as text for the report.
    operational_boundary: Mapped[str | None] = mapped_column(Text)
    #: Reporting period, local dates [period_start, period_end).
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    period_label: Mapped[str] = mapped_column(String(40))
    base_year: Mapped[int | None] = mapped_column(Integer)
    gwp_set: Mapped[str] = mapped_column(String(8), default="AR5")
    methodology: Mapped[str] = mapped_column(String(40), default="gbt32150")
    #: Province-level region for regional factors (from the node tree unless given).
    region: Mapped[str | None] = mapped_column(String(40))
    #: Purchased-electricity factor basis: general | ets | lca (None: by the industry code).
    grid_basis: Mapped[str | None] = mapped_column(String(10))
    #: Target or budget, tCO2e per ``target_period``.
    target_tco2e: Mapped[float | None] = mapped_column(Float)
    target_period: Mapped[str | None] = mapped_column(String(10))
    target_source: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class EmissionSource(Base):
    __tablename__ = "emission_sources"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    #: The enterprise node the source belongs to (and its tenant).
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"), index=True)
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    #: NULL: registered for the enterprise and used by each of its inventories.
    inventory_id: Mapped[int | None] = mapped_column(
        ForeignKey("inventories.id", ondelete="CASCADE"), index=True)
    #: nengtan.carbon.model.SOURCE_KINDS
    kind: Mapped[str] = mapped_column(String(30))
    #: Carrier, material or gas the factor library keys on (bituminous_coal, clinker ...).
    carrier: Mapped[str | None] = mapped_column(String(64))
    gas: Mapped[str] = mapped_column(String(8), default="CO2")
    #: factor | mass_balance | measurement
    method: Mapped[str] = mapped_column(String(20), default="factor")
    #: Unit of the activity data handed to the engine (t, m3, MWh, GJ ...).
    unit: Mapped[str] = mapped_column(String(20))
    facility_node_id: Mapped[int | None] = mapped_column(
        ForeignKey("nodes.id", ondelete="RESTRICT"), index=True)
    #: Parameters entered with the source: {name: {value, unit, source, status}}.
    params: Mapped[dict | None] = mapped_column(JSON)
    #: GHG Protocol scope 3 category (1-15): reported apart, not in scopes 1 and 2.
    scope3_category: Mapped[int | None] = mapped_column(Integer)
    #: False: computed and shown alongside (e.g. a CEMS cross-check) but not in the totals.
    counted: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class EmissionSourceLink(Base):
    """One activity-data link of a source; the columns used depend on ``kind``."""

    __tablename__ = "emission_source_links"
    __table_args__ = (UniqueConstraint("source_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("emission_sources.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    #: +1 added, −1 subtracted (meters, values).
    sign: Mapped[int] = mapped_column(Integer, default=1)
    meter_id: Mapped[int | None] = mapped_column(
        ForeignKey("meters.id", ondelete="RESTRICT"), index=True)
    manual_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("manual_entries.id", ondelete="RESTRICT"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"))
    cems_monitor_id: Mapped[int | None] = mapped_column(
        ForeignKey("cems_monitors.id", ondelete="RESTRICT"))
    evidence_id: Mapped[int | None] = mapped_column(
        ForeignKey("evidence_files.id", ondelete="RESTRICT"))
    #: fuel deliveries: quantity, params or both (which of their figures count).
    use: Mapped[str | None] = mapped_column(String(12))
    #: value / green certificate: the figure, its unit and the dates it covers (inclusive).
    value: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(20))
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    #: Where an entered value comes from (document, certificate number ...).
    source: Mapped[str | None] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(100))


class EmissionSourceRevision(Base):
    """The definition of a source (fields, parameters, links) as of each revision; only
    ever appended."""

    __tablename__ = "emission_source_revisions"
    __table_args__ = (UniqueConstraint("source_id", "revision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("emission_sources.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InventoryVersion(Base):
    """A computed result of an inventory.  ``draft``: the latest computation, replaced by the
    next one; ``locked``: frozen (its digest is in the ledger); computing after a lock starts
    the next version."""

    __tablename__ = "inventory_versions"
    __table_args__ = (UniqueConstraint("inventory_id", "version"),
                      Index(None, "inventory_id", "status"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inventory_id: Mapped[int] = mapped_column(ForeignKey("inventories.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    #: The whole result (canonical JSON): figures, lineage, inputs.
    result: Mapped[dict] = mapped_column(JSON)
    #: SHA-256 (hex) of the canonical JSON of the result and the figures below.
    digest: Mapped[str] = mapped_column(String(64))
    total_tco2e: Mapped[float] = mapped_column(Float)
    scope1_tco2e: Mapped[float] = mapped_column(Float)
    scope2_tco2e: Mapped[float] = mapped_column(Float)
    scope2_market_tco2e: Mapped[float] = mapped_column(Float)
    computed_by: Mapped[str | None] = mapped_column(String(100))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(100))
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    #: What the lock appended to the ledger (entry counts, checkpoint).
    ledger: Mapped[dict | None] = mapped_column(JSON)
