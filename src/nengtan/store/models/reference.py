"""Energy carriers catalogue (能源品种), loaded from shipped reference data with provenance."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nengtan.store.base import Base, utcnow
from nengtan.store.types import UTCDateTime

CARRIER_CATEGORIES = (
    "solid_fossil",       # 固体化石燃料: coal, coke
    "liquid_fossil",      # 液体化石燃料: oil products
    "gaseous_fossil",     # 气体化石燃料: natural gas, LPG, process gases
    "electricity",        # 电力 (grid / unspecified source)
    "renewable_electricity",  # 光伏, 风电, 水电, 生物质发电 ...
    "recovered_electricity",  # 余热余压发电
    "heat",               # 热力, 蒸汽
    "other_fuel",         # 甲醇, 乙醇, 氢, 氨, biomass
    "working_medium",     # 耗能工质: water, compressed air, oxygen
    "material",           # raw materials metered for production (not energy)
)


class Carrier(Base):
    __tablename__ = "carriers"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(30))
    is_energy: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Row code in GB/T 2589-2020 Annex A reference coefficients, where the carrier has one.
    gbt2589_code: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))  # verified | unverified
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Version of the shipped catalogue this row came from ("user" for user rows).
    dataset_version: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
