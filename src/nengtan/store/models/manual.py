"""Manual entry (手工填报) with review, evidence files and the audit log.

* ``manual_entries`` — one entry a data clerk keeps (its number is the id): what kind of record
  it is, whose data (tenant), the status of its latest version and which version is approved.
* ``manual_entry_versions`` — every version of an entry as submitted, read-only once reviewed:
  payload, who entered, submitted and reviewed it and when, the review comment, and what the
  approved version wrote into the target table.
* ``evidence_files`` — uploaded documents (invoices, lab reports, ledgers), stored
  content-addressed by SHA-256 under the evidence directory; one row per upload.
* ``manual_entry_evidence`` — which files support which version (many-to-many).
* ``audit_log`` — every step, hash-chained: ``hash = SHA-256(prev_hash + canonical JSON of the
  row)`` (see :mod:`nengtan.services.audit`), so a changed or deleted row breaks the chain.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
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

#: What an entry can hold; each maps onto an existing record type once approved.
ENTRY_KINDS = ("reading", "production", "economic", "fuel_delivery")
#: Status of a version: draft → submitted → approved | rejected; withdrawn (pulled back before
#: review); superseded (an approved version replaced by a later approved one).
VERSION_STATUSES = ("draft", "submitted", "approved", "rejected", "withdrawn", "superseded")


class ManualEntry(Base):
    __tablename__ = "manual_entries"
    __table_args__ = (Index(None, "status", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    #: The enterprise (or park) whose data this is: the tenant of the node or meter named.
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    #: Status of the latest version (for lists and filters).
    status: Mapped[str] = mapped_column(String(12))
    latest_version: Mapped[int] = mapped_column(Integer, default=1)
    #: The version whose values are in the target table (None: nothing applied).
    approved_version: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ManualEntryVersion(Base):
    __tablename__ = "manual_entry_versions"
    __table_args__ = (UniqueConstraint("entry_id", "version"),
                      Index(None, "target_table", "target_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("manual_entries.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))
    #: The record as entered (JSON, field names of the target's import template); None for a
    #: retraction.
    payload: Mapped[dict | None] = mapped_column(JSON)
    #: This version withdraws the approved values from the target instead of replacing them.
    retract: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by: Mapped[str | None] = mapped_column(String(100), index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_comment: Mapped[str | None] = mapped_column(Text)
    #: What approval wrote: the table and row id (readings: the meter id and ``target_ts``, and
    #: the ingest batch).
    target_table: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[int | None] = mapped_column(Integer)
    target_ts: Mapped[datetime | None] = mapped_column(UTCDateTime)
    batch_id: Mapped[int | None] = mapped_column(Integer)


class EvidenceFile(Base):
    """One upload; the bytes live at ``<evidence dir>/<sha256[:2]>/<sha256>``."""

    __tablename__ = "evidence_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    tenant_id: Mapped[int | None] = mapped_column(Integer, index=True)
    description: Mapped[str | None] = mapped_column(Text)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ManualEntryEvidence(Base):
    __tablename__ = "manual_entry_evidence"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("manual_entry_versions.id", ondelete="CASCADE"), primary_key=True)
    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("evidence_files.id", ondelete="RESTRICT"), primary_key=True, index=True)
    attached_by: Mapped[str] = mapped_column(String(100))
    attached_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditRecord(Base):
    """One audited action.  Rows are only ever appended; ``hash`` chains each to the one before.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    user_name: Mapped[str] = mapped_column(String(100), index=True)
    #: Dotted action name: ``entry.submit``, ``evidence.upload``, later ``auth.login`` ...
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    tenant_id: Mapped[int | None] = mapped_column(Integer, index=True)
    #: Where the request came from (client address), or the command that acted.
    source: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[dict | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
