"""Benchmark library (标杆/基准, limit grades, equipment efficiency grades) and links.

An entry is identified by its ``code``; every change is a new ``version`` row (the highest
version is the current one), so a comparison made last year can still name the values it used.
Shipped entries are loaded from the reference datasets on first use; users add entries (or
new versions of shipped ones) through the API with their own source and status.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nengtan.store.base import Base, utcnow
from nengtan.store.types import UTCDateTime

#: indicator: national benchmark/baseline levels (NDRC); limit: energy-consumption limit
#: standard grades (能耗限额 1/2/3级); equipment: equipment efficiency grades (GB 18613 ...).
BENCHMARK_KINDS = ("indicator", "limit", "equipment")


class Benchmark(Base):
    __tablename__ = "benchmarks"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    kind: Mapped[str] = mapped_column(String(12))
    sector: Mapped[str | None] = mapped_column(String(60))
    product: Mapped[str | None] = mapped_column(String(200))
    indicator: Mapped[str | None] = mapped_column(String(200))
    #: Unit of the levels, e.g. "kgce/t", "%", "kW/(m3/min)".
    unit: Mapped[str] = mapped_column(String(40))
    #: lower (energy per unit, specific power) or higher (efficiency) is better.
    direction: Mapped[str] = mapped_column(String(6), default="lower")
    #: Levels best first: [{"key": "benchmark", "value": 100.0}, {"key": "baseline", ...}].
    levels: Mapped[list] = mapped_column(JSON)
    #: Equipment class a grade row applies to: equipment, type, poles, size range, pressure.
    scope: Mapped[dict | None] = mapped_column(JSON)
    #: The standard or notice, e.g. "GB 16780-2021".
    document: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))  # verified | unverified
    #: shipped (from a reference dataset) or user.
    origin: Mapped[str] = mapped_column(String(10), default="user")
    #: Reference dataset and its version for shipped entries.
    dataset: Mapped[str | None] = mapped_column(String(40))
    dataset_version: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BenchmarkLink(Base):
    """A product compared with a benchmark entry, everywhere or only within a node's subtree.

    ``version`` None follows the current version; a number pins that version.
    """

    __tablename__ = "benchmark_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    benchmark_code: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int | None] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"),
                                            index=True)
    node_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"),
                                                index=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
