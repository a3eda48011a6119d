"""Park carbon items: transport, new infrastructure, waste, fixed carbon, sinks, CCUS.

The park formula of seed 001 (formula 3, 工业互联网园区综合碳核算) adds to the tenants' and the
park's metered emissions some terms that no meter of the park measures: park transport
(E_交通: commuter buses, in-park logistics), new infrastructure (E_新基建: base stations,
data centres), waste treatment (part of E_公共设施与环境), and the removals (E_固碳 fixed-carbon
products, E_碳汇 sinks, E_CCUS).  Each is entered here as an item with its source.

An item is identified by its ``code`` within its park; a change is a new ``version`` row (the
highest version is the current one, ``active = False`` retires it), so an inventory computed
last year can still name the values it used.  An item holds either activity data (``kind``,
``carrier``, ``quantity``, ``unit``: computed by the accounting engine with the factor library)
or an amount ``tco2e`` given with its source (a sink estimate, a CCUS meter report).  Amounts
of removals are stored positive; the park formula subtracts them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
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

#: Terms of the park formula an item can belong to, with their sign in the total.
ITEM_TERMS: dict[str, int] = {
    "public": 1,          # E_公共设施与环境 (waste treatment, unmetered public equipment)
    "new_infra": 1,       # E_新基建 (base stations, data-centre servers and cooling)
    "transport": 1,       # E_交通 (in-park traffic, material/product transport, commuting)
    "fixed_carbon": -1,   # E_固碳 (carbon fixed in products)
    "sink": -1,           # E_碳汇 (ecological sinks in or bought by the park)
    "ccus": -1,           # E_CCUS (captured, utilised and stored CO2)
}
#: Sub-items named by seed 001 formulas (5)-(7); free text is allowed too.
ITEM_CATEGORIES: dict[str, tuple[str, ...]] = {
    "public": ("public_equipment", "waste"),
    "new_infra": ("base_station", "data_center_server", "data_center_cooling"),
    "transport": ("in_park", "material_transport", "product_transport", "commuting"),
    "fixed_carbon": ("product",),
    "sink": ("green_space", "forest", "purchased"),
    "ccus": ("capture",),
}
ITEM_STATUSES = ("verified", "unverified", "measured", "estimated", "demo")


class ParkCarbonItem(Base):
    __tablename__ = "park_carbon_items"
    __table_args__ = (UniqueConstraint("park_id", "code", "version"),
                      Index(None, "park_id", "term"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    term: Mapped[str] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    #: The park node (facility, site) the item belongs to, if any.
    node_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"))
    #: Local dates [start, end) the activity or amount covers; an inventory period takes the
    #: overlapping share (by days).
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    #: Activity data (computed by the engine): kind of nengtan.carbon.model.SOURCE_KINDS,
    #: carrier (fuel, material or "electricity"/"heat"), quantity in ``unit``, gas.
    kind: Mapped[str | None] = mapped_column(String(20))
    carrier: Mapped[str | None] = mapped_column(String(40))
    quantity: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(30))
    gas: Mapped[str | None] = mapped_column(String(10))
    #: Or an amount, tCO2e over the item's period (positive; removals are subtracted).
    tco2e: Mapped[float | None] = mapped_column(Float)
    #: Where the figure comes from (document, survey, meter report); required.
    source: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    #: SHA-256 of a supporting evidence file (services.evidence storage).
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
