"""manual entry / 手工填报: entries with review, evidence files and the audit log.

Write endpoints act as the authenticated user (:data:`nengtan.api.auth.ActorDep`), recorded in
the entry's versions and the audit log.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy import select

from nengtan.api import manual_models as mm
from nengtan.api import tenancy
from nengtan.api.auth import ActorDep
from nengtan.api.deps import PagingDep, SessionDep
from nengtan.api.errors import issues_response
from nengtan.api.params import period, resolve
from nengtan.api.schemas import ERRORS, ErrorBody
from nengtan.errors import InputError, Issue
from nengtan.services import audit, evidence
from nengtan.services import manual_entries as entries
from nengtan.services.audit import Actor
from nengtan.services.fields import to_utc
from nengtan.store.models import Node
from nengtan.store.models.manual import VERSION_STATUSES, EvidenceFile, ManualEntry

router = APIRouter(tags=["manual entry / 手工填报"], responses=ERRORS)
_CONFLICT = {409: {"model": ErrorBody,
                   "description": "Evidence store disagrees with the records / 证明材料存储不一致"}}
EntryStatus = Literal[(*VERSION_STATUSES, "retracted")]  # type: ignore[valid-type]
UploadedFile = Annotated[UploadFile, File(description="invoice, lab report, ledger ... / "
                                                      "发票、化验报告、台账等")]


def _settings(request: Request):
    return request.app.state.settings


def _entry(session, entry: ManualEntry) -> dict:
    out = entries.as_dict(session, entry)
    for ver in out["versions"]:
        for f in ver["evidence"]:
            f["url"] = f"/api/evidence/{f['id']}/content"
    return out


def _tenant_id(session, code: str | None) -> int | None:
    node = resolve(session, Node, code, "tenant", "node")
    return None if node is None else node.tenant_id


# -- entries -------------------------------------------------------------------------------
@router.get("/api/manual-entries", response_model=mm.EntryPage,
            summary="List manual entries / 手工填报列表")
def list_entries(session: SessionDep, paging: PagingDep,
                 status: Annotated[EntryStatus | None, Query(
                     description="status of the latest version")] = None,
                 kind: Annotated[mm.Kind | None, Query()] = None,
                 tenant: str | None = Query(None, description="code of a node: entries of "
                                                              "its tenant (enterprise/park)"),
                 submitter: str | None = Query(None, description="submitted any version"),
                 created_by: str | None = Query(None)):
    """Entries, newest first; ``status=submitted`` is the reviewer's queue."""
    q = entries.query(status=status, kind=kind, tenant_id=_tenant_id(session, tenant),
                      submitter=submitter, created_by=created_by)
    rows, total = paging.page(session, q)
    return paging.answer(entries.summaries(session, rows), total)


@router.get("/api/manual-entries/fields", response_model=dict[str, list[mm.FieldInfo]],
            summary="Fields of each entry kind / 各类填报字段")
def entry_fields():
    """The payload fields of each kind with bilingual labels, units, limits and references,
    for building entry forms."""
    return entries.field_catalogue()


@router.post("/api/manual-entries", response_model=mm.Entry, status_code=201,
             summary="Create a manual entry / 新建填报")
def create_entry(body: mm.EntryIn, session: SessionDep, actor: ActorDep):
    """A draft (or, with ``submit``, an entry awaiting review).  The payload is checked with
    the target's own rules at once; 422 names each bad field as ``payload.<field>``."""
    entry = entries.create(session, body.kind, body.payload, actor, note=body.note,
                           submit=body.submit, evidence_ids=body.evidence_ids)
    _refuse_foreign(session, entry.id, body.payload)
    return _entry(session, entry)


def _refuse_foreign(session, entry_id: int, payload: dict | None) -> None:
    """An entry whose payload names another tenant's meter or node belongs to that tenant:
    answered like an unknown code (the transaction is rolled back, nothing is kept)."""
    if tenancy.hidden(session, ManualEntry, [entry_id]):
        named = next(((k, v) for k, v in (payload or {}).items() if k in ("meter", "node")),
                     ("meter", None))
        raise InputError([Issue("rule.ref_unknown", field=f"payload.{named[0]}",
                                value=named[1], params={"ref": named[0]})])


@router.get("/api/manual-entries/{entry_id}", response_model=mm.Entry,
            summary="Get a manual entry with its versions / 查询填报")
def get_entry(entry_id: int, session: SessionDep):
    """The entry with every version (payload, who entered, submitted and reviewed it, when,
    the review comment, what approval wrote) and the evidence attached to each."""
    return _entry(session, entries.get(session, entry_id))


@router.put("/api/manual-entries/{entry_id}", response_model=mm.Entry,
            summary="Change a draft / 修改草稿")
def update_draft(entry_id: int, body: mm.DraftIn, session: SessionDep, actor: ActorDep):
    """Replace the payload of a draft; only its creator may, and nobody has reviewed it yet."""
    entry = entries.update_draft(session, entry_id, body.payload, actor, note=body.note,
                                 version_no=body.version)
    _refuse_foreign(session, entry_id, body.payload)
    return _entry(session, entry)


@router.post("/api/manual-entries/{entry_id}/revise", response_model=mm.Entry, status_code=201,
             summary="Revise: new version / 修订（新版本）")
def revise_entry(entry_id: int, body: mm.ReviseIn, session: SessionDep, actor: ActorDep):
    """A new version of a rejected, withdrawn or approved entry (earlier versions stay
    read-only; evidence is carried over).  ``retract: true`` without payload takes the approved
    values out of the target once this version is approved."""
    entry = entries.revise(session, entry_id, actor, payload=body.payload,
                           retract=body.retract, note=body.note, submit=body.submit,
                           version_no=body.version)
    _refuse_foreign(session, entry_id, body.payload)
    return _entry(session, entry)


@router.post("/api/manual-entries/{entry_id}/submit", response_model=mm.Entry,
             summary="Submit for review / 提交审核")
def submit_entry(entry_id: int, session: SessionDep, actor: ActorDep,
                 body: mm.ActionIn | None = None):
    """Submit the draft; its payload is checked again."""
    return _entry(session, entries.submit(session, entry_id, actor,
                                          version_no=body.version if body else None))


@router.post("/api/manual-entries/{entry_id}/approve", response_model=mm.Entry,
             summary="Approve / 审核通过")
def approve_entry(entry_id: int, session: SessionDep, actor: ActorDep,
                  body: mm.ActionIn | None = None):
    """Approve the submitted version: its values are written to the target (readings through
    the ingestion pipeline, source ``manual``, quality manual); an earlier approved version is
    superseded.  The reviewer must not be who entered or submitted it (four-eyes rule)."""
    body = body or mm.ActionIn()
    return _entry(session, entries.approve(session, entry_id, actor, comment=body.comment,
                                           version_no=body.version))


@router.post("/api/manual-entries/{entry_id}/reject", response_model=mm.Entry,
             summary="Reject with comment / 驳回")
def reject_entry(entry_id: int, body: mm.RejectIn, session: SessionDep, actor: ActorDep):
    """Send the submitted version back; the comment is required.  Nothing is applied."""
    return _entry(session, entries.reject(session, entry_id, actor, body.comment,
                                          version_no=body.version))


@router.post("/api/manual-entries/{entry_id}/withdraw", response_model=mm.Entry,
             summary="Withdraw / 撤回")
def withdraw_entry(entry_id: int, session: SessionDep, actor: ActorDep,
                   body: mm.ActionIn | None = None):
    """Pull back a draft or submitted version (its creator or submitter).  An earlier approved
    version stays in force; revise with ``retract`` to take it out."""
    body = body or mm.ActionIn()
    return _entry(session, entries.withdraw(session, entry_id, actor, comment=body.comment,
                                            version_no=body.version))


@router.post("/api/manual-entries/{entry_id}/evidence", response_model=mm.Entry,
             status_code=201, responses=_CONFLICT,
             summary="Upload evidence to an entry / 上传证明材料")
def upload_to_entry(entry_id: int, request: Request, session: SessionDep, actor: ActorDep,
                    file: UploadedFile, description: str | None = Form(None)):
    """Upload a file (multipart) and attach it to the entry's open version."""
    entry = entries.get(session, entry_id)
    entries.open_version(session, entry, "attach")  # 404/422 before storing anything
    row = _store(request, session, actor, file, description, tenant_id=entry.tenant_id)
    if isinstance(row, Response):
        return row
    return _entry(session, entries.attach(session, entry_id, row.id, actor))


@router.put("/api/manual-entries/{entry_id}/evidence/{evidence_id}", response_model=mm.Entry,
            summary="Attach evidence / 关联证明材料")
def attach_evidence(entry_id: int, evidence_id: int, session: SessionDep, actor: ActorDep):
    """Attach an uploaded file to the entry's open (draft or submitted) version."""
    return _entry(session, entries.attach(session, entry_id, evidence_id, actor))


@router.delete("/api/manual-entries/{entry_id}/evidence/{evidence_id}", response_model=mm.Entry,
               summary="Detach evidence / 取消关联")
def detach_evidence(entry_id: int, evidence_id: int, session: SessionDep, actor: ActorDep):
    """Take a file off the open version (the file stays stored)."""
    return _entry(session, entries.detach(session, entry_id, evidence_id, actor))


@router.get("/api/manual-entries/{entry_id}/audit", response_model=list[mm.AuditRow],
            summary="Audit trail of an entry / 填报审计记录")
def entry_audit(entry_id: int, session: SessionDep):
    """Every audited step of the entry, oldest first, with user, time and client address."""
    entries.get(session, entry_id)
    q = audit.query(object_type=entries.OBJECT, object_id=entry_id)
    return [audit.as_dict(r) for r in session.scalars(q)]


# -- evidence files ------------------------------------------------------------------------
def _store(request: Request, session, actor: Actor, file: UploadFile, description: str | None,
           tenant: str | None = None, tenant_id: int | None = None) -> EvidenceFile | Response:
    """The stored upload, or a 409 answer (nothing was written) if the store disagrees."""
    settings = _settings(request)
    try:
        return evidence.store(session, settings.resolved_evidence_dir(), file.file,
                              filename=file.filename, content_type=file.content_type,
                              actor=actor, tenant=tenant, tenant_id=tenant_id,
                              description=description,
                              max_bytes=settings.evidence_max_bytes)
    except evidence.EvidenceStoreError as exc:
        return _store_conflict(request, exc)


def _store_conflict(request: Request, exc: evidence.EvidenceStoreError) -> Response:
    return issues_response(request, [exc.issue], status=409, summary="api.manual_evidence_store")


def _evidence(row: EvidenceFile, tenants: dict[int, str] | None = None) -> dict:
    return {**evidence.as_dict(row, tenants), "url": f"/api/evidence/{row.id}/content"}


@router.post("/api/evidence", response_model=mm.Evidence, status_code=201, responses=_CONFLICT,
             summary="Upload an evidence file / 上传证明材料")
def upload_evidence(request: Request, session: SessionDep, actor: ActorDep, file: UploadedFile,
                    tenant: str | None = Form(None, description="code of a node whose "
                                                                "enterprise/park owns the file"),
                    description: str | None = Form(None)):
    """Store a file (multipart) by its SHA-256; the same content is stored once.  The size
    limit is ``NENGTAN_EVIDENCE_MAX_BYTES`` (default 50 MiB)."""
    row = _store(request, session, actor, file, description, tenant=tenant)
    if isinstance(row, Response):
        return row
    return _evidence(row, entries.tenant_codes(session, [row.tenant_id]))


@router.get("/api/evidence", response_model=mm.EvidencePage,
            summary="List evidence files / 证明材料列表")
def list_evidence(session: SessionDep, paging: PagingDep,
                  tenant: str | None = Query(None, description="code of a node: its tenant"),
                  sha256: str | None = Query(None), uploaded_by: str | None = Query(None)):
    """Uploads, newest first."""
    q = select(EvidenceFile)
    tenant_id = _tenant_id(session, tenant)
    if tenant_id is not None:
        q = q.where(EvidenceFile.tenant_id == tenant_id)
    if sha256:
        q = q.where(EvidenceFile.sha256 == sha256.lower())
    if uploaded_by:
        q = q.where(EvidenceFile.uploaded_by == uploaded_by)
    rows, total = paging.page(session, q.order_by(EvidenceFile.id.desc()))
    tenants = entries.tenant_codes(session, [r.tenant_id for r in rows])
    return paging.answer([_evidence(r, tenants) for r in rows], total)


@router.get("/api/evidence/verify", response_model=mm.EvidenceVerifyReport,
            summary="Verify stored evidence files / 校验证明材料")
def verify_evidence(request: Request, session: SessionDep):
    """Re-hash every stored file and name each missing or changed one."""
    return evidence.verify(session, _settings(request).resolved_evidence_dir()).as_dict()


@router.get("/api/evidence/{evidence_id}", response_model=mm.Evidence,
            summary="Get an evidence file's record / 查询证明材料")
def get_evidence(evidence_id: int, session: SessionDep):
    """An upload's record: SHA-256, original name, content type, size, tenant, uploader."""
    row = evidence.get(session, evidence_id)
    return _evidence(row, entries.tenant_codes(session, [row.tenant_id]))


@router.get("/api/evidence/{evidence_id}/content", response_class=FileResponse,
            responses={**_CONFLICT, 200: {"content": {"application/octet-stream": {}},
                                          "description": "the file as uploaded"}},
            summary="Download an evidence file / 下载证明材料")
def download_evidence(evidence_id: int, request: Request, session: SessionDep):
    """The file as uploaded, after checking that its bytes still have the recorded SHA-256
    (409 if the stored file is missing or changed).  ``ETag`` and ``Repr-Digest`` carry the
    hash."""
    row = evidence.get(session, evidence_id)
    try:
        path = evidence.verified_path(_settings(request).resolved_evidence_dir(), row)
    except evidence.EvidenceStoreError as exc:
        return _store_conflict(request, exc)
    b64 = base64.b64encode(bytes.fromhex(row.sha256)).decode()
    return FileResponse(path, media_type=row.content_type, filename=row.filename,
                        headers={"ETag": f'"{row.sha256}"', "Repr-Digest": f"sha-256=:{b64}:"})


# -- audit log -----------------------------------------------------------------------------
@router.get("/api/audit-log", response_model=mm.AuditPage, summary="Audit log / 审计日志")
def audit_log(request: Request, session: SessionDep, paging: PagingDep,
              user: str | None = Query(None), action: str | None = Query(
                  None, description="e.g. entry.approve, or a family: entry.*"),
              object_type: str | None = Query(None, description="manual_entry, evidence_file "
                                                                "..."),
              object_id: str | None = Query(None),
              tenant: str | None = Query(None, description="code of a node: its tenant"),
              start: str | None = Query(None, alias="from", description="from this time "
                                                                         "(inclusive, ISO 8601)"),
              end: str | None = Query(None, alias="to", description="before this time")):
    """Audited actions, oldest first, with their hashes.  Times without an offset (and dates)
    are read in the default timezone."""
    lo, hi = period(start, end, required=False)
    tz = ZoneInfo(_settings(request).timezone)
    q = audit.query(user=user, action=action, object_type=object_type, object_id=object_id,
                    tenant_id=_tenant_id(session, tenant), start=_instant(lo, tz),
                    end=_instant(hi, tz))
    rows, total = paging.page(session, q)
    return paging.answer([audit.as_dict(r) for r in rows], total)


def _instant(value, tz: ZoneInfo) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return to_utc(value, tz)


@router.get("/api/audit-log/verify", response_model=mm.ChainReport,
            summary="Verify the audit log's hash chain / 校验审计日志")
def verify_audit(session: SessionDep):
    """Re-hash the whole log; names the first changed, inserted or missing row."""
    return audit.verify_chain(session).as_dict()
