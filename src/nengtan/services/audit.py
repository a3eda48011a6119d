"""The audit log: who did what to which object, when and from where, hash-chained.

Every row carries ``prev_hash`` (the ``hash`` of the row before it; 64 zeros for the first)
and ``hash = SHA-256(prev_hash + canonical JSON of the row)``, where the canonical JSON holds
the row's id, time, user, action, object, tenant, source and detail with sorted keys, no
whitespace and UTF-8 text (:func:`canonical`).  Changing any field of a stored row, deleting a
row or inserting one in the middle breaks the chain at that row, and :func:`verify_chain`
names it.  (Cutting rows off the *end* leaves a valid shorter chain; the ledger's signed
checkpoints cover that.)

Ids are assigned consecutively under the lock (1, 2, 3 ...), so a gap is a deleted row.
Appends are serialised so that two transactions never chain onto the same row: PostgreSQL
takes a transaction advisory lock, SQLite's single writer lock does the same.  The lock is
held until the transaction ends, so record after the transaction's other writes: a transaction
that records and then ingests readings (which takes tenant locks) could deadlock with one that
ingests and then records.

:func:`record` is generic — the manual-entry workflow, evidence uploads and later logins and
every write of the security issue use the same table.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text
from sqlalchemy.orm import Session

from nengtan.store.base import utcnow
from nengtan.store.models.manual import AuditRecord
from nengtan.store.types import to_us
from nengtan.timeseries.calendar import from_us

GENESIS = "0" * 64
_LOCK = 7_391_003  # advisory lock key of the chain (7_391_001/2: partitions, tenants)
_TABLE = AuditRecord.__table__


@dataclass(frozen=True)
class Actor:
    """Who acts and from where: the client address of a request, or ``cli``."""

    user: str
    source: str | None = None


def jsonable(value: Any) -> Any:
    """``value`` with dates, decimals and other objects as text, as it is hashed and stored."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=_text))


def _text(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _iso(ts: datetime) -> str:
    return from_us(to_us(ts)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso(ts: datetime | None) -> str | None:
    """An instant for answers: ISO 8601 in UTC with ``Z``."""
    return None if ts is None else from_us(to_us(ts)).isoformat().replace("+00:00", "Z")


def canonical(row: dict) -> bytes:
    """The bytes hashed for a row: its fields (not the hashes) as canonical JSON."""
    fields = {"id": int(row["id"]), "ts": _iso(row["ts"]), "user": row["user_name"],
              "action": row["action"], "object_type": row["object_type"],
              "object_id": row["object_id"], "tenant_id": row["tenant_id"],
              "source": row["source"], "detail": row["detail"]}
    return json.dumps(fields, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def row_hash(prev_hash: str, row: dict) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(row)).hexdigest()


def _conn(bind: Session | Connection) -> Connection:
    return bind.connection() if isinstance(bind, Session) else bind


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
    else:
        # A write statement makes SQLite take its (database-wide) writer lock now, before the
        # chain's last row is read, so no other writer can append in between.
        conn.execute(text("UPDATE audit_log SET id = id WHERE id < 0"))


def record(bind: Session | Connection, *, user: str, action: str, object_type: str,
           object_id: object = None, tenant_id: int | None = None, source: str | None = None,
           detail: dict | None = None, ts: datetime | None = None) -> dict:
    """Append one row in the caller's transaction and return it (with its hash)."""
    conn = _conn(bind)
    _lock(conn)
    last = conn.execute(select(_TABLE.c.id, _TABLE.c.hash)
                        .order_by(_TABLE.c.id.desc()).limit(1)).first()
    row = {"id": (last.id + 1) if last else 1, "ts": ts or utcnow(), "user_name": user,
           "action": action, "object_type": object_type,
           "object_id": None if object_id is None else str(object_id),
           "tenant_id": tenant_id, "source": source,
           "detail": None if detail is None else jsonable(detail)}
    row["prev_hash"] = last.hash if last else GENESIS
    row["hash"] = row_hash(row["prev_hash"], row)
    conn.execute(insert(_TABLE).values(**row))
    return row


@dataclass
class ChainReport:
    """Result of :func:`verify_chain`: ``ok``, rows checked, and the first bad row."""

    ok: bool
    checked: int
    last_hash: str
    first_bad_id: int | None = None
    #: ``missing_row`` (ids jump: rows before it were deleted), ``prev_mismatch`` (it does not
    #: chain onto the row before it) or ``hash_mismatch`` (the row was changed).
    problem: str | None = None
    expected: str | None = None
    found: str | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def verify_chain(bind: Session | Connection, batch: int = 5000) -> ChainReport:
    """Re-hash the whole log in id order; stop at the first broken or missing row."""
    conn = _conn(bind)
    prev, checked, after = GENESIS, 0, 0
    cols = [_TABLE.c[name] for name in ("id", "ts", "user_name", "action", "object_type",
                                        "object_id", "tenant_id", "source", "detail",
                                        "prev_hash", "hash")]
    while True:
        rows = conn.execute(select(*cols).where(_TABLE.c.id > after)
                            .order_by(_TABLE.c.id).limit(batch)).mappings().all()
        if not rows:
            return ChainReport(True, checked, prev)
        for row in rows:
            if row["id"] != after + 1:
                return ChainReport(False, checked, prev, row["id"], "missing_row",
                                   str(after + 1), str(row["id"]))
            if row["prev_hash"] != prev:
                return ChainReport(False, checked, prev, row["id"], "prev_mismatch",
                                   prev, row["prev_hash"])
            digest = row_hash(prev, row)
            if digest != row["hash"]:
                return ChainReport(False, checked, prev, row["id"], "hash_mismatch",
                                   digest, row["hash"])
            prev, after = row["hash"], row["id"]
            checked += 1


def as_dict(row) -> dict:
    """An audit row for the API (``user`` is the acting user)."""
    get = row.__getitem__ if isinstance(row, dict) else lambda k: getattr(row, k)
    return {"id": get("id"), "ts": iso(get("ts")), "user": get("user_name"),
            "action": get("action"), "object_type": get("object_type"),
            "object_id": get("object_id"), "tenant_id": get("tenant_id"),
            "source": get("source"), "detail": get("detail"), "prev_hash": get("prev_hash"),
            "hash": get("hash")}


def query(*, user: str | None = None, action: str | None = None,
          object_type: str | None = None, object_id: object = None,
          tenant_id: int | None = None, start: datetime | None = None,
          end: datetime | None = None):
    """A select of audit rows (oldest first) matching the filters; ``action`` may end in
    ``.*`` to match a family (``entry.*``)."""
    q = select(AuditRecord)
    if user:
        q = q.where(AuditRecord.user_name == user)
    if action:
        q = q.where(AuditRecord.action.like(action[:-1] + "%") if action.endswith(".*")
                    else AuditRecord.action == action)
    if object_type:
        q = q.where(AuditRecord.object_type == object_type)
    if object_id is not None:
        q = q.where(AuditRecord.object_id == str(object_id))
    if tenant_id is not None:
        q = q.where(AuditRecord.tenant_id == tenant_id)
    if start is not None:
        q = q.where(AuditRecord.ts >= start)
    if end is not None:
        q = q.where(AuditRecord.ts < end)
    return q.order_by(AuditRecord.id)
