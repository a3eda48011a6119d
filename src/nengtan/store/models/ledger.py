"""Tamper-evident evidence ledger: Merkle log entries and signed checkpoints.

* ``ledger_entries`` — the log, append-only: one row per appended record digest, ``id`` = the
  entry's sequence number (1, 2, 3 ... without gaps; leaf index ``id - 1``).  The row keeps the
  exact leaf data (canonical JSON of seq, kind, key, digest, meta, created_at) and its leaf hash,
  so the tree can be recomputed from the table alone.  Triggers (migration 0010) refuse UPDATE
  and DELETE on both SQLite and PostgreSQL.
* ``ledger_checkpoints`` — signed tree heads: size, root hash, hash algorithm and time as the
  signed note states them, the Ed25519 signature and the public key that made it.  Append-only
  too.

See :mod:`nengtan.services.ledger` and docs/ledger.md.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nengtan.store.base import Base, utcnow
from nengtan.store.types import UTCDateTime


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (Index(None, "kind", "key"),)

    #: The sequence number (leaf index + 1), assigned consecutively under a lock.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: What the record is: ``readings``, ``manual_entry``, ``fuel_delivery``,
    #: ``evidence_file``, ``energy_parameter``, ``factor_value``, or a kind registered by
    #: another service (inventory results ...).
    kind: Mapped[str] = mapped_column(String(40))
    #: Which record of that kind (``<meter id>/<local date>``, an id ...).
    key: Mapped[str] = mapped_column(String(200))
    #: The record's digest at append time (hex; SHA-256 unless the kind says otherwise).
    digest: Mapped[str] = mapped_column(String(128))
    #: Human label (``label``, ``label_zh``) and context of the record (JSON).
    meta: Mapped[dict | None] = mapped_column(JSON)
    #: Hash algorithm of the tree (``sha256`` or ``sm3``).
    hash_alg: Mapped[str] = mapped_column(String(10))
    #: Canonical JSON of the fields above (see nengtan.ledger.proofs.leaf_data).
    leaf_data: Mapped[str] = mapped_column(Text)
    #: HASH(0x00 || leaf_data), hex.
    leaf_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerCheckpoint(Base):
    __tablename__ = "ledger_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tree_size: Mapped[int] = mapped_column(Integer, index=True)
    root_hash: Mapped[str] = mapped_column(String(64))
    hash_alg: Mapped[str] = mapped_column(String(10))
    #: The signed text (see nengtan.ledger.signing.TreeHead.note).
    note: Mapped[str] = mapped_column(Text)
    #: Ed25519 signature of the note (base64).
    signature: Mapped[str] = mapped_column(String(100))
    #: The signer's public key (raw 32 bytes, hex) and its id.
    public_key: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
