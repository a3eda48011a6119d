"""Evidence files (证明材料): invoices, lab reports, ledgers — stored by their SHA-256.

The bytes of an upload are written once to ``<evidence dir>/<sha256[:2]>/<sha256>`` (the
directory is ``Settings.resolved_evidence_dir()``, default ``<home>/evidence``); each upload
also gets a row in ``evidence_files`` with its original name, content type, size, tenant,
uploader and time.  The same content uploaded twice is stored once.  A stored file is never
overwritten: if a file already under that name has different bytes (it was damaged or
tampered with), the upload is refused and :func:`verify` reports the file.

Files are written before the database transaction commits; if it rolls back, the file stays
as an unreferenced copy (harmless, content-addressed) that :func:`verify` lists as an orphan.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from nengtan.errors import InputError, Issue, NotFound
from nengtan.services import audit
from nengtan.services.audit import Actor
from nengtan.store.base import utcnow
from nengtan.store.models import Node
from nengtan.store.models.manual import EvidenceFile

CHUNK = 1 << 20
#: Default upper limit of one file (``NENGTAN_EVIDENCE_MAX_BYTES`` overrides it).
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
_INCOMING = ".incoming"


class EvidenceStoreError(Exception):
    """The evidence store on disk disagrees with the database (HTTP 409): a file is missing,
    changed, or a different file sits under an upload's hash."""

    def __init__(self, issue: Issue):
        self.issue = issue
        super().__init__(str(issue))


def path_of(root: Path, sha256: str) -> Path:
    return Path(root) / sha256[:2] / sha256


def hash_file(path: Path) -> tuple[str, int]:
    """SHA-256 (hex) and size in bytes of a file."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def clean_filename(name: str | None) -> str:
    """The last path component of an uploaded name (browsers may send ``C:\\fakepath\\x.pdf``),
    at most 255 characters with the extension kept."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name.strip()
    if len(base) > 255:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 254 - len(ext)] + dot + ext) if dot and len(ext) < 20 else base[:255]
    return base


def _write(root: Path, source: BinaryIO | bytes, max_bytes: int) -> tuple[str, int, Path]:
    """Stream ``source`` into a temporary file under ``root``; hash and count on the way."""
    incoming = Path(root) / _INCOMING
    incoming.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=incoming)
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as out:
            chunks = [source] if isinstance(source, (bytes, bytearray)) else iter(
                lambda: source.read(CHUNK), b"")
            for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise InputError([Issue("rule.manual_evidence_too_large", field="file",
                                            value=size, params={"max": max_bytes})])
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        os.unlink(tmp)
        raise
    return digest.hexdigest(), size, Path(tmp)


def _place(tmp: Path, final: Path, sha256: str) -> None:
    """Move the temporary file to its content address, never replacing an existing file."""
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(tmp, final)  # atomic, and fails if the name exists
        os.chmod(final, 0o444)
    except FileExistsError:
        if hash_file(final)[0] != sha256:
            raise EvidenceStoreError(Issue("rule.manual_evidence_collision", field="file",
                                           value=sha256)) from None
    finally:
        tmp.unlink(missing_ok=True)


def store(session: Session, root: Path, source: BinaryIO | bytes, *, filename: str | None,
          actor: Actor, content_type: str | None = None, tenant: str | None = None,
          tenant_id: int | None = None, description: str | None = None,
          max_bytes: int = DEFAULT_MAX_BYTES) -> EvidenceFile:
    """Store an upload and record it (``evidence.upload`` in the audit log).

    ``tenant`` is the code of a node whose tenant (enterprise or park) owns the file;
    ``tenant_id`` gives the tenant directly (used when uploading for an entry).
    """
    issues: list[Issue] = []
    name = clean_filename(filename)
    if not name:
        issues.append(Issue("rule.required", field="filename", value=filename))
    if tenant:
        node = session.scalar(select(Node).where(Node.code == tenant))
        if node is None:
            issues.append(Issue("rule.ref_unknown", field="tenant", value=tenant,
                                params={"ref": "node"}))
        else:
            tenant_id = node.tenant_id
    if content_type and len(content_type) > 100:
        issues.append(Issue("rule.max_length", field="content_type", value=content_type,
                            params={"max": 100}))
    if issues:
        raise InputError(issues)
    sha256, size, tmp = _write(root, source, max_bytes)
    if size == 0:
        tmp.unlink()
        raise InputError([Issue("rule.manual_evidence_empty", field="file", value=name)])
    _place(tmp, path_of(root, sha256), sha256)
    ctype = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    now = utcnow()
    row = EvidenceFile(sha256=sha256, filename=name, content_type=ctype, size=size,
                       tenant_id=tenant_id, description=description, uploaded_by=actor.user,
                       uploaded_at=now)
    session.add(row)
    session.flush()
    audit.record(session, user=actor.user, action="evidence.upload",
                 object_type="evidence_file", object_id=row.id, tenant_id=tenant_id,
                 source=actor.source, ts=now,
                 detail={"sha256": sha256, "filename": name, "size": size,
                         "content_type": ctype})
    return row


def get(session: Session, evidence_id: int) -> EvidenceFile:
    row = session.get(EvidenceFile, evidence_id)
    if row is None:
        raise NotFound("evidence file", evidence_id)
    return row


def verified_path(root: Path, row: EvidenceFile) -> Path:
    """The file of ``row`` after re-hashing it; raises EvidenceStoreError if it is missing
    or its bytes no longer have the recorded SHA-256."""
    path = path_of(root, row.sha256)
    if not path.is_file():
        raise EvidenceStoreError(Issue("rule.manual_evidence_missing", field="sha256",
                                       value=row.sha256))
    if hash_file(path)[0] != row.sha256:
        raise EvidenceStoreError(Issue("rule.manual_evidence_changed", field="sha256",
                                       value=row.sha256))
    return path


@dataclass
class VerifyReport:
    """Result of :func:`verify`.  ``missing``/``changed``: one item per stored file with the
    ids and names of the uploads that refer to it; ``orphans``: files no row refers to."""

    directory: str
    files: int = 0
    uploads: int = 0
    missing: list[dict] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.changed

    def as_dict(self) -> dict:
        return {"ok": self.ok, **self.__dict__}


def verify(session: Session, root: Path) -> VerifyReport:
    """Re-hash every stored file against ``evidence_files`` and name each missing or changed
    one (the ledger and backups use this too)."""
    root = Path(root)
    report = VerifyReport(str(root))
    uploads: dict[str, list[tuple[int, str]]] = {}
    for rid, sha, name in session.execute(select(EvidenceFile.id, EvidenceFile.sha256,
                                                 EvidenceFile.filename)
                                          .order_by(EvidenceFile.id)):
        uploads.setdefault(sha, []).append((rid, name))
        report.uploads += 1
    for sha, refs in uploads.items():
        report.files += 1
        item = {"sha256": sha, "ids": [r for r, _ in refs], "filenames": [n for _, n in refs]}
        path = path_of(root, sha)
        if not path.is_file():
            report.missing.append(item)
            continue
        actual, size = hash_file(path)
        if actual != sha:
            report.changed.append({**item, "actual_sha256": actual, "size": size})
    if root.is_dir():
        for sub in sorted(p for p in root.iterdir() if p.is_dir() and len(p.name) == 2):
            report.orphans += [p.name for p in sorted(sub.iterdir()) if p.name not in uploads]
    return report


def as_dict(row: EvidenceFile, tenant_codes: dict[int, str] | None = None) -> dict:
    return {"id": row.id, "sha256": row.sha256, "filename": row.filename,
            "content_type": row.content_type, "size": row.size, "tenant_id": row.tenant_id,
            "tenant": (tenant_codes or {}).get(row.tenant_id), "description": row.description,
            "uploaded_by": row.uploaded_by,
            "uploaded_at": audit.iso(row.uploaded_at)}
