"""The organisation tree: one table of typed nodes (park → enterprise → site → ... → equipment)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nengtan.store.base import Base, utcnow
from nengtan.store.types import UTCDateTime

#: Allowed node kinds and the kinds each may sit under (None: may be a root).
NODE_KINDS: dict[str, tuple[str | None, ...]] = {
    "park": (None,),
    "enterprise": (None, "park"),
    "site": ("park", "enterprise"),
    "facility": ("park", "site"),
    "workshop": ("site",),
    "process": ("site", "workshop"),
    "line": ("site", "workshop", "process"),
    "equipment": ("site", "facility", "workshop", "process", "line", "equipment"),
}

#: Kinds that own data: a node's tenant is its nearest enterprise, else its park, else its root.
TENANT_KINDS = ("enterprise", "park")


class Node(Base):
    __tablename__ = "nodes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"), index=True)
    tenant_id: Mapped[int | None] = mapped_column(Integer, index=True)
    #: Materialised path of ids, "/1/4/9/": subtree queries are a prefix match.
    path: Mapped[str] = mapped_column(String(400), index=True, default="/")
    depth: Mapped[int] = mapped_column(Integer, default=0)
    #: IANA zone; None inherits from the parent (root default: settings.timezone).
    timezone: Mapped[str | None] = mapped_column(String(64))
    #: Province-level region code (e.g. "shandong") for regional factors.
    region: Mapped[str | None] = mapped_column(String(40))
    #: 国民经济行业分类 GB/T 4754 code, e.g. "3011" (cement manufacturing).
    industry_code: Mapped[str | None] = mapped_column(String(10))
    #: 统一社会信用代码 of an enterprise.
    credit_code: Mapped[str | None] = mapped_column(String(18))
    address: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    attributes: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
