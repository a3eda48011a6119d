"""Time-of-use tariffs (分时电价): price bands, the daily periods that select them, demand charge."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nengtan.store.base import Base

#: 尖峰 / 高峰 / 平段 / 低谷 / 深谷
BANDS = ("sharp", "peak", "flat", "valley", "deep_valley")


class Tariff(Base):
    __tablename__ = "tariffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    carrier_code: Mapped[str] = mapped_column(ForeignKey("carriers.code", ondelete="RESTRICT"))
    #: Unit the energy prices are per (kWh for electricity, m3 for gas, ...).
    unit: Mapped[str] = mapped_column(String(20), default="kWh")
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    #: 需量电费, CNY per kW of monthly maximum demand.
    demand_charge: Mapped[float | None] = mapped_column(Float)
    #: 容量电费, CNY per kVA of contracted capacity per month.
    capacity_charge: Mapped[float | None] = mapped_column(Float)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    region: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str | None] = mapped_column(Text)

    bands: Mapped[list[TariffBand]] = relationship(
        cascade="all, delete-orphan", order_by="TariffBand.band", lazy="selectin"
    )
    periods: Mapped[list[TariffPeriod]] = relationship(
        cascade="all, delete-orphan", order_by="TariffPeriod.id", lazy="selectin"
    )


class TariffBand(Base):
    __tablename__ = "tariff_bands"
    __table_args__ = (UniqueConstraint("tariff_id", "band"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tariff_id: Mapped[int] = mapped_column(ForeignKey("tariffs.id", ondelete="CASCADE"), index=True)
    band: Mapped[str] = mapped_column(String(12))
    #: Energy price, CNY per ``Tariff.unit``.
    price: Mapped[float] = mapped_column(Float)


class TariffPeriod(Base):
    """A daily time window [start, end) in local time, in the given months, priced at ``band``."""

    __tablename__ = "tariff_periods"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tariff_id: Mapped[int] = mapped_column(ForeignKey("tariffs.id", ondelete="CASCADE"), index=True)
    #: Comma-separated months 1-12 ("7,8" for summer); empty means every month.
    months: Mapped[str] = mapped_column(String(40), default="")
    start: Mapped[str] = mapped_column(String(5))  # "HH:MM"
    end: Mapped[str] = mapped_column(String(5))  # "HH:MM", "24:00" allowed
    band: Mapped[str] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(Text)
