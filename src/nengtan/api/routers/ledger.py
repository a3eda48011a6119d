"""Tamper-evident evidence ledger: entries, checkpoints, proofs, verification."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from nengtan.api.auth import ActorDep
from nengtan.api.deps import PagingDep, SessionDep
from nengtan.api.schemas import ERRORS, page_model
from nengtan.services import ledger

router = APIRouter(tags=["Evidence ledger / 存证账本"], responses=ERRORS)
_OPEN = ConfigDict(extra="allow")


class Entry(BaseModel):
    """One entry of the Merkle log (a record digest)."""

    model_config = _OPEN
    id: int = Field(description="entry id = sequence number (leaf index + 1)")
    seq: int = Field(description="sequence number")
    kind: str = Field(description="record kind: readings, manual_entry, fuel_delivery, "
                                  "evidence_file, energy_parameter, factor_value, ...")
    key: str = Field(description="which record: <meter id>/<local date>, an id, ...")
    digest: str = Field(description="the record's digest when appended (hex, SHA-256)")
    meta: dict[str, Any] | None = Field(description="label, label_zh and context")
    hash_alg: str = Field(description="hash algorithm of the tree: sha256 or sm3")
    leaf_hash: str = Field(description="HASH(0x00 || leaf data), hex (RFC 6962 2.1)")
    created_by: str | None = None
    created_at: str = Field(description="UTC, ISO 8601 with microseconds")


class Checkpoint(BaseModel):
    """A signed tree head."""

    model_config = _OPEN
    id: int
    tree_size: int = Field(description="entries covered")
    root_hash: str = Field(description="Merkle tree hash of the first tree_size entries (hex)")
    hash_alg: str
    note: str = Field(description="the signed text (size, root, hash, time)")
    signature: str = Field(description="Ed25519 signature of the note (base64)")
    public_key: str = Field(description="Ed25519 public key of the signer (raw, hex)")
    key_id: str = Field(description="first 16 hex digits of SHA-256 of the public key")
    created_by: str | None = None
    created_at: str | None = None


class VerifyReport(BaseModel):
    """Result of recomputing every record, the tree and every checkpoint."""

    model_config = _OPEN
    ok: bool = Field(description="nothing mismatches")
    hash_alg: str
    entries: int = Field(description="entries in the log")
    records: int = Field(description="distinct records (kind, key)")
    checked: int = Field(description="records recomputed")
    superseded: int = Field(description="earlier entries of records appended again")
    unchecked: int = Field(description="records of kinds without a recomputer")
    tree_size: int
    root_hash: str
    checkpoints: int
    signed_size: int = Field(description="largest tree size covered by a checkpoint")
    mismatches: list[dict[str, Any]] = Field(
        description="records that no longer match: entry_id, kind, key, label, label_zh, "
                    "problem (changed | missing), recorded_digest, current_digest, message, "
                    "message_zh")
    entry_problems: list[dict[str, Any]] = Field(
        description="damaged or removed log rows: entry_id, problem (missing_entries, "
                    "row_changed, leaf_hash, hash_alg), detail, message, message_zh")
    checkpoint_problems: list[dict[str, Any]] = Field(
        description="checkpoint_id, tree_size, problem (root_mismatch, beyond_log, signature, "
                    "note, key, hash_alg), detail, message, message_zh")
    warnings: list[dict[str, Any]]
    verified_at: str | None = None


class Proof(BaseModel):
    """Inclusion proof of one entry, verifiable offline (``nengtan ledger verify-proof``)."""

    model_config = _OPEN
    format: str = Field(description="nengtan-ledger-proof/1")
    hash_alg: str
    entry: dict[str, Any]
    leaf_index: int
    leaf_data: str = Field(description="canonical JSON of the entry's fields (the leaf)")
    leaf_hash: str
    audit_path: list[str] = Field(description="RFC 6962 PATH(leaf_index, D[tree_size]), hex")
    checkpoint: dict[str, Any]
    public_key: dict[str, Any]


class Consistency(BaseModel):
    """RFC 6962 consistency proof between two tree sizes."""

    model_config = _OPEN
    hash_alg: str
    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str] = Field(description="RFC 6962 PROOF(first, D[second]), hex")
    checkpoints: list[Checkpoint] = Field(description="checkpoints signed at these sizes")


class Status(BaseModel):
    """Size, entries per kind, latest checkpoint, public key."""

    model_config = _OPEN
    entries: int
    hash_alg: str
    by_kind: dict[str, int]
    latest_checkpoint: Checkpoint | None
    unsigned_entries: int
    public_key: dict[str, Any] | None
    kinds_registered: list[str]


EntryPage = page_model(Entry)
CheckpointPage = page_model(Checkpoint)


@router.get("/api/ledger/entries", response_model=EntryPage,
            summary="存证条目列表 / Ledger entries")
def list_entries(session: SessionDep, paging: PagingDep,
                 kind: str | None = Query(None, description="record kind, e.g. readings"),
                 key: str | None = Query(None, description="record key, e.g. 17/2025-01-05")):
    """Entries of the Merkle log in sequence order, optionally of one kind or record."""
    rows, total = paging.page(session, ledger.entries_query(kind, key))
    return paging.answer([ledger.entry_dict(r) for r in rows], total)


@router.get("/api/ledger/checkpoints", response_model=CheckpointPage,
            summary="存证检查点列表 / Ledger checkpoints")
def list_checkpoints(session: SessionDep, paging: PagingDep):
    """Signed tree heads, oldest first, each with its note, signature and public key."""
    rows, total = paging.page(session, ledger.checkpoints_query())
    return paging.answer([ledger.checkpoint_dict(r) for r in rows], total)


@router.post("/api/ledger/checkpoints", response_model=Checkpoint, status_code=201,
             summary="生成签名检查点 / Sign a checkpoint")
def create_checkpoint(session: SessionDep, actor: ActorDep):
    """Sign the current tree head (size, root hash, hash algorithm, time) with the
    installation's Ed25519 key.  Refused (422) while the log is damaged or disagrees with an
    earlier checkpoint."""
    return ledger.checkpoint(session, created_by=actor.user)


@router.get("/api/ledger/verify", response_model=VerifyReport,
            summary="校验存证账本 / Verify the ledger")
def verify(session: SessionDep, request: Request):
    """Recompute every ledgered record from the data stored now (readings per meter-day,
    manual entries, fuel deliveries, evidence files on disk, energy parameters, factor values,
    locked results ...), rebuild the Merkle tree from the log and check every checkpoint's root
    and signature.  Each record that no longer matches is named (kind, key, label)."""
    root = request.app.state.settings.resolved_evidence_dir()
    return ledger.verify(session, evidence_root=root)


@router.get("/api/ledger/status", response_model=Status,
            summary="存证账本状态 / Ledger status")
def status(session: SessionDep):
    """Entries per kind, tree size, latest checkpoint and the public key to publish."""
    return ledger.status(session)


@router.get("/api/ledger/entries/{entry_id}/proof", response_model=Proof,
            summary="导出存证证明 / Inclusion proof of an entry")
def entry_proof(entry_id: int, session: SessionDep,
                checkpoint: int | None = Query(None, description="checkpoint id (default: "
                                                                 "the latest covering it)")):
    """A self-contained JSON proof: the entry, its leaf data, the audit path to a signed
    checkpoint's root and the public key.  A verifier checks it without the server:
    ``nengtan ledger verify-proof FILE``.  422 when no checkpoint covers the entry yet."""
    return ledger.proof(session, entry_id, checkpoint)


@router.get("/api/ledger/consistency", response_model=Consistency,
            summary="一致性证明 / Consistency proof")
def consistency(session: SessionDep,
                first: int = Query(..., ge=0, description="earlier tree size"),
                second: int | None = Query(None, ge=0, description="later tree size "
                                                                   "(default: current)")):
    """RFC 6962 consistency proof that the log at size ``first`` is a prefix of the log at
    size ``second``: nothing before ``first`` was changed or removed in between."""
    return ledger.consistency(session, first, second)
