"""Emission factor library: versioned datasets and values with provenance.

A *dataset* is a document (or a user's collection) at a *version*; its values are immutable.
A changed value is a new version of the dataset (all its values, new rows), never an edit:
results keep naming the value ids they used, and old versions stay readable.  Shipped
datasets come from the reference files (loaded on first use); user datasets belong to the
installation (``tenant_id`` empty) or to one tenant (an enterprise or park node).
See :mod:`nengtan.services.factor_library`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
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

DATASET_ORIGINS = ("shipped", "user")


class FactorDataset(Base):
    __tablename__ = "factor_datasets"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(300))
    #: Main document of the dataset (each value names its own document too).
    document: Mapped[str | None] = mapped_column(String(500))
    #: shipped (a reference file of nengtan) or user.
    origin: Mapped[str] = mapped_column(String(10), default="user")
    #: User datasets of one tenant (enterprise or park node); empty: the whole installation.
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"),
                                                  index=True)
    #: Shipped: version of the reference data and sha256 of the file the values came from.
    reference_version: Mapped[str | None] = mapped_column(String(20))
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FactorValueRow(Base):
    """One value of one dataset version (never updated)."""

    __tablename__ = "factor_values"
    __table_args__ = (
        UniqueConstraint("dataset_id", "key"),
        Index("ix_factor_values_parameter_subject", "parameter", "subject"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("factor_datasets.id", ondelete="RESTRICT"), index=True)
    #: Identity within the dataset: the same key in the next version is the same value.
    key: Mapped[str] = mapped_column(String(300))
    #: ncv, carbon_content, oxidation_rate, emission_factor, grid_factor, heat_factor,
    #: process_factor, gwp (see nengtan.carbon.factors.PARAMETERS).
    parameter: Mapped[str] = mapped_column(String(30))
    #: carrier, material, gas or use (electricity, electricity_ets, electricity_lca ...).
    subject: Mapped[str] = mapped_column(String(100))
    #: IPCC set of a gwp value: SAR, AR4, AR5, AR6.
    gwp_set: Mapped[str | None] = mapped_column(String(4))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(40))
    document: Mapped[str] = mapped_column(String(500))
    clause: Mapped[str | None] = mapped_column(String(300))
    year: Mapped[int | None] = mapped_column(Integer)
    #: Province-level region code, or national.
    region: Mapped[str | None] = mapped_column(String(40))
    valid_from: Mapped[date | None] = mapped_column(Date)
    #: exclusive
    valid_to: Mapped[date | None] = mapped_column(Date)
    #: verified | unverified | measured | user
    status: Mapped[str] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(Text)
