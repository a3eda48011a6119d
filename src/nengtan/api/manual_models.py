"""Request and response models of manual entry, evidence files and the audit log."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nengtan.api.schemas import OPEN, page_model
from nengtan.services.manual_entries import FIELDS
from nengtan.store.models.manual import ENTRY_KINDS, VERSION_STATUSES

Kind = Literal[ENTRY_KINDS]  # type: ignore[valid-type]
_CLOSED = ConfigDict(extra="forbid")


def _payload_doc() -> str:
    lines = [("The record, with the fields of its import template (codes for references; "
              "a time without offset is read in the site's timezone):")]
    for kind, specs in FIELDS.items():
        names = ", ".join(s.name + ("*" if s.required and s.default is None else "")
                          for s in specs)
        lines.append(f"{kind}: {names}")
    return "\n".join(lines) + "\n(* required)"


PAYLOAD_DOC = _payload_doc()
_EXAMPLES = {
    "reading": {"meter": "CEM-D-101", "ts": "2025-03-01T00:00:00+08:00", "value": 18250,
                "unit": "kg", "reason": "油库发油台账月末累计"},
    "fuel_delivery": {"node": "CEM", "carrier": "bituminous_coal", "delivered_on": "2025-03-05",
                      "quantity": 3120.5, "unit": "t", "ncv": 22450, "ncv_unit": "kJ/kg",
                      "carbon_content_pct": 56.8, "lab": "省煤炭质量检测中心",
                      "report_no": "MZ-2025-0311", "method": "GB/T 213-2008"},
}


class EntryIn(BaseModel):
    """A new manual entry."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"kind": "reading", "payload": _EXAMPLES["reading"], "submit": True},
        {"kind": "fuel_delivery", "payload": _EXAMPLES["fuel_delivery"],
         "note": "3月第1批原煤", "evidence_ids": [12]}]})

    kind: Kind = Field(description="reading | production | economic | fuel_delivery")
    payload: dict[str, Any] = Field(description=PAYLOAD_DOC)
    note: str | None = Field(None, description="remark of the clerk / 填报说明")
    submit: bool = Field(False, description="submit for review at once (else a draft)")
    evidence_ids: list[int] = Field(default_factory=list,
                                    description="uploaded evidence files to attach")


class DraftIn(BaseModel):
    """New content of a draft (only its creator may change it)."""

    model_config = _CLOSED

    payload: dict[str, Any] = Field(description=PAYLOAD_DOC)
    note: str | None = None
    version: int | None = Field(None, description="the version you edited (guards against "
                                                  "acting on a stale copy)")


class ReviseIn(BaseModel):
    """A new version of a reviewed or withdrawn entry: corrected ``payload``, or ``retract``
    to take the approved values out once this version is approved."""

    model_config = _CLOSED

    payload: dict[str, Any] | None = Field(None, description=PAYLOAD_DOC)
    retract: bool = False
    note: str | None = Field(None, description="why it is revised / 修订说明")
    submit: bool = False
    version: int | None = Field(None, description="the latest version you saw")


class ActionIn(BaseModel):
    """Submit, approve or withdraw; ``version`` guards against acting on a stale copy."""

    model_config = _CLOSED

    version: int | None = Field(None, description="the version you reviewed")
    comment: str | None = Field(None, description="review or withdrawal comment / 意见")


class RejectIn(BaseModel):
    """A rejection; the comment tells the clerk what to correct."""

    model_config = _CLOSED

    comment: str = Field(description="required / 驳回意见（必填）")
    version: int | None = None


class Applied(BaseModel):
    model_config = OPEN

    table: str = Field(description="target table")
    id: int | None = Field(None, description="row id (readings: the meter id)")
    ts: str | None = Field(None, description="readings: time of the reading (UTC)")
    batch_id: int | None = Field(None, description="readings: ingest batch")


class Evidence(BaseModel):
    """An uploaded evidence file (证明材料)."""

    model_config = OPEN

    id: int
    sha256: str = Field(description="SHA-256 of the content, hex")
    filename: str
    content_type: str
    size: int = Field(description="bytes")
    tenant_id: int | None = None
    tenant: str | None = Field(None, description="code of the tenant node")
    description: str | None = None
    uploaded_by: str
    uploaded_at: str
    url: str | None = Field(None, description="download address")


class AttachedEvidence(Evidence):
    attached_by: str | None = None
    attached_at: str | None = None


class EntryVersion(BaseModel):
    model_config = OPEN

    version: int
    status: Literal[VERSION_STATUSES]  # type: ignore[valid-type]
    payload: dict[str, Any] | None
    retract: bool
    note: str | None = None
    created_by: str
    created_at: str
    submitted_by: str | None = None
    submitted_at: str | None = None
    reviewed_by: str | None = None
    reviewed_at: str | None = None
    review_comment: str | None = Field(None, description="review or withdrawal comment")
    applied: Applied | None = Field(None, description="what approval wrote")
    evidence: list[AttachedEvidence] = Field(default_factory=list)


class EntrySummary(BaseModel):
    """An entry with the payload of its latest version."""

    model_config = OPEN

    id: int = Field(description="entry number / 填报编号")
    kind: Kind
    status: str = Field(description="status of the latest version, or `retracted`")
    tenant_id: int
    tenant: str | None = None
    latest_version: int
    approved_version: int | None = Field(None, description="version whose values count")
    payload: dict[str, Any] | None = None
    retract: bool = False
    submitted_by: str | None = None
    created_by: str
    created_at: str
    updated_at: str


class Entry(EntrySummary):
    """An entry with every version, oldest first."""

    versions: list[EntryVersion]


EntryPage = page_model(EntrySummary)
EvidencePage = page_model(Evidence)


class AuditRow(BaseModel):
    """One audited action."""

    model_config = OPEN

    id: int
    ts: str
    user: str
    action: str = Field(description="e.g. entry.submit, entry.approve, evidence.upload")
    object_type: str
    object_id: str | None = None
    tenant_id: int | None = None
    source: str | None = Field(None, description="client address or `cli`")
    detail: dict[str, Any] | None = None
    prev_hash: str
    hash: str = Field(description="SHA-256(prev_hash + canonical JSON of the row)")


AuditPage = page_model(AuditRow)


class ChainReport(BaseModel):
    """Verification of the audit log's hash chain."""

    model_config = OPEN

    ok: bool
    checked: int = Field(description="rows verified before the first problem")
    last_hash: str = Field(description="hash of the last good row")
    first_bad_id: int | None = None
    problem: str | None = Field(None, description="missing_row | prev_mismatch | "
                                                  "hash_mismatch")
    expected: str | None = None
    found: str | None = None


class EvidenceVerifyReport(BaseModel):
    """Re-hash of every stored evidence file."""

    model_config = OPEN

    ok: bool
    directory: str
    files: int = Field(description="distinct files checked")
    uploads: int = Field(description="upload rows")
    missing: list[dict[str, Any]]
    changed: list[dict[str, Any]]
    orphans: list[str] = Field(description="files on disk that no row refers to")


class FieldInfo(BaseModel):
    model_config = OPEN

    name: str
    kind: str
    label_zh: str
    label_en: str
    required: bool
    unit: str | None = None
    ref: str | None = None
