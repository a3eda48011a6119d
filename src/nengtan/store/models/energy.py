"""Energy accounting parameters (GB/T 2589): equal-value coefficients, user coefficients, NCVs.

Values are never edited: a changed value is a new row.  For a date, the row valid on that date
that was recorded last wins; the older rows stay as the history a verifier can read.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nengtan.store.base import Base, utcnow
from nengtan.store.types import UTCDateTime

#: equal_value: kgce per kWh of grid electricity (等价值, yearly); coefficient: kgce per
#: carrier unit (user value replacing the reference); ncv: MJ per carrier unit (net calorific
#: value, or for steam the enthalpy counted as heat), converted by ÷ 29.3076.
PARAMETER_KINDS = ("equal_value", "coefficient", "ncv")


class EnergyParameter(Base):
    __tablename__ = "energy_parameters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: None: applies to every tenant (a park-wide or installation-wide value).
    tenant_id: Mapped[int | None] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    #: None for equal_value (it applies to grid electricity).
    carrier_code: Mapped[str | None] = mapped_column(
        ForeignKey("carriers.code", ondelete="RESTRICT"))
    value: Mapped[float] = mapped_column(Float)
    #: "kgce/kWh", "kgce/<carrier unit>" or "MJ/<carrier unit>".
    unit: Mapped[str] = mapped_column(String(30))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))  # verified | unverified | measured
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
