"""Products, production output, economic output and fuel deliveries with lab analyses."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nengtan.store.base import Base, utcnow
from nengtan.store.types import UTCDateTime


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20))
    #: 标准品折算系数: output × coefficient = standard-product output (GB/T 2589-2020 4.4).
    standard_coefficient: Mapped[float] = mapped_column(Float, default=1.0)
    #: Sector/industry label, e.g. "cement", "textile", "electronics".
    sector: Mapped[str | None] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(Text)


class ProductionRecord(Base):
    """Output of a product at a node over a period [period_start, period_end] (dates inclusive)."""

    __tablename__ = "production_records"
    __table_args__ = (UniqueConstraint("node_id", "product_id", "period_start", "period_end"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"), index=True)
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    quantity: Mapped[float] = mapped_column(Float)
    #: Unit of ``quantity``; must convert to the product's unit.
    unit: Mapped[str] = mapped_column(String(20))
    source: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EconomicRecord(Base):
    """产值 (gross output value) and 增加值 (value added) of a node over a period, in CNY."""

    __tablename__ = "economic_records"
    __table_args__ = (UniqueConstraint("node_id", "period_start", "period_end", "price_basis"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"), index=True)
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    output_value: Mapped[float | None] = mapped_column(Float)
    added_value: Mapped[float | None] = mapped_column(Float)
    #: "current" prices, or "constant_<year>" (可比价).
    price_basis: Mapped[str] = mapped_column(String(20), default="current")
    source: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FuelDelivery(Base):
    """A delivered fuel lot and its laboratory analysis (收到基低位发热量, 元素碳含量).

    ``ncv`` is given in ``ncv_unit`` (e.g. kJ/kg, MJ/kg, GJ/t, kcal/kg, MJ/m3);
    ``ncv_mj_per_unit`` is the same value per unit of ``quantity``, computed on entry.
    """

    __tablename__ = "fuel_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"), index=True)
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    carrier_code: Mapped[str] = mapped_column(ForeignKey("carriers.code", ondelete="RESTRICT"))
    delivered_on: Mapped[date] = mapped_column(Date)
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20))
    supplier: Mapped[str | None] = mapped_column(String(200))
    lot_no: Mapped[str | None] = mapped_column(String(64))
    ncv: Mapped[float | None] = mapped_column(Float)
    ncv_unit: Mapped[str | None] = mapped_column(String(20))
    ncv_mj_per_unit: Mapped[float | None] = mapped_column(Float)
    #: Element carbon content, mass fraction in percent (as received).
    carbon_content_pct: Mapped[float | None] = mapped_column(Float)
    lab: Mapped[str | None] = mapped_column(String(200))
    report_no: Mapped[str | None] = mapped_column(String(64))
    #: Test method, e.g. "GB/T 213-2008".
    method: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
