"""The tamper-evident evidence ledger (存证账本): append record digests to an RFC 6962 Merkle
log, sign checkpoints with Ed25519, prove inclusion and consistency, and verify everything
against the data stored now.

**What goes in.**  An entry is ``(seq, kind, key, digest, meta, created_at)``: *kind* says what
the record is, *key* which one, *digest* what it was when appended (bytes, hex in the table),
*meta* a human label (``label``, ``label_zh``) and context.  Each kind has a *recomputer*
(:func:`register`): ``recompute(conn, key) -> bytes | None`` gives the digest of what is stored
NOW (None: the record is gone).  Built-in kinds and their digests (SHA-256):

* ``readings`` — key ``<meter id>/<local date>``: the stored ``(ts, value, quality)`` of one
  meter's raw readings on one local day (the meter's site timezone), every quality included
  (:func:`readings_digest`); so a changed reading is named by meter and day;
* ``manual_entry`` — key ``<entry id>/v<version>``: the reviewed version (payload, reviewer,
  what it wrote where, the SHA-256 of each attached evidence file);
* ``fuel_delivery`` — key ``<id>``: every column of the delivery (quantity, NCV, carbon ...);
* ``evidence_file`` — key ``<id>``: the SHA-256 of the FILE ON DISK (not of the database row),
  so a file replaced or damaged in the evidence directory is named; a proof of such an entry
  lets a verifier check a copy of the file offline;
* ``energy_parameter`` — key ``<id>``: every column of the parameter version;
* ``factor_value`` — key ``<factor id>``: the digest of the factor library
  (:func:`nengtan.services.factor_library.digest`).

Other services register their own kinds (locked inventory results ...).  Recomputers of those
services are found by importing the modules in :data:`PROVIDERS` before verifying.

**Append-only.**  Entries get consecutive sequence numbers under a lock (PostgreSQL advisory
lock; SQLite's writer lock), in the caller's transaction; the database refuses UPDATE and DELETE
on the ledger tables (triggers of migration 0010).  A record that legitimately changes is
appended again: :func:`verify` compares the latest entry of each (kind, key) with the stored
data and counts the earlier ones as superseded.

**Checkpoints** are signed tree heads (size, root, hash algorithm, time) in the note format of
:mod:`nengtan.ledger.signing`.  The key pair is made on first use at ``NENGTAN_LEDGER_KEY`` or
``<home>/ledger/ledger-ed25519.pem`` (``<name>.pub`` holds the public key to publish).  The hash
algorithm of the tree is ``sha256`` or ``sm3`` (``NENGTAN_LEDGER_HASH``), fixed by the first
entry.  A checkpoint is refused while the log disagrees with an earlier checkpoint, so a
tampered log is never signed over.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.orm import Session

from nengtan.config import get_settings
from nengtan.errors import InputError, Issue, NotFound
from nengtan.i18n import catalogue, t
from nengtan.ledger import signing
from nengtan.ledger.hashing import DEFAULT_ALGORITHM, Hasher, hash_function
from nengtan.ledger.merkle import MerkleTree
from nengtan.ledger.proofs import PROOF_FORMAT, canonical_json, leaf_data
from nengtan.services import audit
from nengtan.store.base import utcnow
from nengtan.store.models import FuelDelivery, Meter, Reading
from nengtan.store.models.energy import EnergyParameter
from nengtan.store.models.ledger import LedgerCheckpoint, LedgerEntry
from nengtan.store.models.manual import (
    EvidenceFile,
    ManualEntry,
    ManualEntryEvidence,
    ManualEntryVersion,
)
from nengtan.store.types import from_us, to_us
from nengtan.timeseries.calendar import local_midnight_us

KEY_ENV = "NENGTAN_LEDGER_KEY"
HASH_ENV = "NENGTAN_LEDGER_HASH"
ORIGIN = "nengtan"
_LOCK = 7_391_004  # advisory lock key of the ledger (7_391_003: the audit log)
_ENTRIES = LedgerEntry.__table__
_CHECKPOINTS = LedgerCheckpoint.__table__
#: Modules that register recomputers for their own kinds; imported (when present) before
#: :func:`verify` so that ``nengtan ledger verify`` knows every kind.
PROVIDERS = ("nengtan.services.factor_library", "nengtan.services.inventories",
             "nengtan.services.park_inventory")
#: Evidence directory used by the ``evidence_file`` recomputer (default: the settings').
EVIDENCE_ROOT: ContextVar[Path | None] = ContextVar("ledger_evidence_root", default=None)

Recompute = Callable[[Connection, str], "bytes | None"]
BulkRecompute = Callable[[Connection, list[str]], "dict[str, bytes | None]"]


# -- registry ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recomputer:
    kind: str
    recompute: Recompute
    bulk: BulkRecompute | None = None

    def many(self, conn: Connection, keys: list[str]) -> dict[str, bytes | None]:
        if self.bulk is not None:
            return self.bulk(conn, keys)
        return {k: self.recompute(conn, k) for k in keys}


_REGISTRY: dict[str, Recomputer] = {}


def register(kind: str, recompute: Recompute, *, bulk: BulkRecompute | None = None) -> None:
    """Say how to recompute the digest of a ``kind`` of record from what is stored now.

    ``recompute(conn, key) -> bytes | None`` (None: the record no longer exists); ``bulk``
    optionally does many keys at once (``{key: digest | None}``), for kinds with many entries.
    Registering a kind again replaces its recomputer (module reloads)."""
    if not kind or len(kind) > 40:
        raise ValueError("a ledger kind is 1 to 40 characters")
    _REGISTRY[kind] = Recomputer(kind, recompute, bulk)


def registered() -> dict[str, Recomputer]:
    return dict(_REGISTRY)


def _load_providers() -> None:
    # a provider that fails to import is a broken installation: say so rather than verify
    # without its record kinds
    for name in PROVIDERS:
        importlib.import_module(name)


# -- small helpers -----------------------------------------------------------------------------
def _conn(bind: Session | Connection) -> Connection:
    if isinstance(bind, Session):
        bind.flush()
        return bind.connection()
    return bind


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
    else:
        # Any write statement makes SQLite take its writer lock now (no row matches, so the
        # append-only trigger does not fire).
        conn.execute(text("UPDATE ledger_entries SET id = id WHERE id < 0"))


def _iso(ts: datetime) -> str:
    """An instant as signed and hashed: ISO 8601 UTC with microseconds and ``Z``."""
    return from_us(to_us(ts)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _text(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def canonical_bytes(value: Any) -> bytes:
    """The canonical JSON of ``value`` (dates and instants as ISO text) that is hashed."""
    return canonical_json(audit.jsonable(_normalise(value)))


def digest_json(value: Any) -> bytes:
    """SHA-256 of the canonical JSON of ``value`` (dates and instants as ISO text): the digest
    other services use for records they ledger (locked results, snapshots ...)."""
    return hashlib.sha256(canonical_bytes(value)).digest()


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    return _text(value)


def _row_digest(row, columns: Iterable[str]) -> bytes:
    return digest_json({c: getattr(row, c) for c in columns})


def configured_algorithm() -> str:
    alg = (os.environ.get(HASH_ENV) or DEFAULT_ALGORITHM).lower()
    hash_function(alg)  # ValueError for an unknown name
    return alg


def hash_algorithm(conn: Connection) -> str:
    """The tree's hash algorithm: the first entry's, else the configured one."""
    first = conn.execute(select(_ENTRIES.c.hash_alg).where(_ENTRIES.c.id == 1)).scalar()
    return first or configured_algorithm()


def key_path() -> Path:
    """Where the signing key lives: ``NENGTAN_LEDGER_KEY`` or ``<home>/ledger/...pem``."""
    env = os.environ.get(KEY_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return (get_settings().home / "ledger" / "ledger-ed25519.pem").resolve()


def signing_key(path: Path | None = None):
    """The Ed25519 private key (made on first use)."""
    return signing.load_or_create(path or key_path())


def public_key(path: Path | None = None) -> dict:
    """This installation's public key: id, raw key (hex), PEM, and where it is stored."""
    path = path or key_path()
    pub = signing_key(path).public_key()
    return {"key_id": signing.key_id(pub), "ed25519_hex": signing.public_raw(pub).hex(),
            "pem": signing.public_pem(pub), "path": str(signing.public_path(path))}


def _local_public(path: Path | None = None) -> str | None:
    """Raw public key (hex) of the local key if there is one (verifying never makes a key)."""
    path = path or key_path()
    if not path.is_file():
        return None
    return signing.public_raw(signing_key(path).public_key()).hex()


# -- appending ---------------------------------------------------------------------------------
def _append_rows(conn: Connection, items: list[tuple[str, str, bytes, dict | None]],
                 created_by: str | None) -> list[dict]:
    if not items:
        return []
    issues = []
    for i, (kind, key, digest, _meta) in enumerate(items):
        if not kind or len(kind) > 40:
            issues.append(Issue("rule.ledger_kind", row=i, field="kind", value=kind))
        if not key or len(str(key)) > 200:
            issues.append(Issue("rule.ledger_key", row=i, field="key", value=key))
        if not isinstance(digest, (bytes, bytearray)) or not 16 <= len(digest) <= 64:
            issues.append(Issue("rule.ledger_digest", row=i, field="digest", value=None))
    if issues:
        raise InputError(issues)
    _lock(conn)
    last = conn.execute(select(func.max(_ENTRIES.c.id))).scalar() or 0
    hasher = Hasher(hash_algorithm(conn))
    now = utcnow()
    rows = []
    for offset, (kind, key, digest, meta) in enumerate(items):
        seq = last + 1 + offset
        meta = audit.jsonable(_normalise(meta or {}))
        data = leaf_data(seq, kind, str(key), bytes(digest).hex(), meta, _iso(now))
        rows.append({"id": seq, "kind": kind, "key": str(key), "digest": bytes(digest).hex(),
                     "meta": meta, "hash_alg": hasher.alg, "leaf_data": data.decode("utf-8"),
                     "leaf_hash": hasher.leaf(data).hex(), "created_by": created_by,
                     "created_at": now})
    conn.execute(insert(_ENTRIES), rows)
    return [_entry_dict(r) for r in rows]


def append(bind: Session | Connection, kind: str, key: str, digest: bytes,
           meta: dict | None = None, *, created_by: str | None = None) -> dict:
    """Append one record digest to the log in the caller's transaction; returns the entry
    (``id`` = sequence number).  ``meta`` should carry ``label`` and ``label_zh`` (how a report
    names the record)."""
    return _append_rows(_conn(bind), [(kind, key, digest, meta)], created_by)[0]


def append_many(bind: Session | Connection, items: list[tuple[str, str, bytes, dict | None]],
                *, created_by: str | None = None) -> list[dict]:
    """Append several ``(kind, key, digest, meta)`` at once (one lock, one insert)."""
    return _append_rows(_conn(bind), list(items), created_by)


# -- readings per meter-day --------------------------------------------------------------------
_READING_DTYPE = np.dtype([("ts", ">i8"), ("value", ">f8"), ("quality", ">i2")])
_READINGS_HEADER = b"nengtan.readings/1\n"


def readings_digest(ts_us: np.ndarray, values: np.ndarray, quality: np.ndarray) -> bytes:
    """SHA-256 over a meter-day's readings sorted by time: a header line, then per reading the
    instant (µs since 1970-01-01 UTC, int64), the value as stored (float64) and the quality
    (int16), big-endian."""
    packed = np.empty(len(ts_us), _READING_DTYPE)
    packed["ts"], packed["value"], packed["quality"] = ts_us, values, quality
    return hashlib.sha256(_READINGS_HEADER + packed.tobytes()).digest()


def _meter_rows(conn: Connection, meter_ids: Iterable[int]) -> dict[int, Any]:
    from nengtan.services.meter_specs import effective_timezones

    rows = {m.id: m for m in conn.execute(select(Meter.id, Meter.code, Meter.name_zh,
                                                 Meter.node_id, Meter.tenant_id)
                                          .where(Meter.id.in_(set(meter_ids))))}
    tzs = effective_timezones(conn, {m.node_id for m in rows.values()})
    return {mid: (m, tzs[m.node_id]) for mid, m in rows.items()}


def _fetch_readings(conn: Connection, meter_id: int, start_us: int, end_us: int):
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql(
            "SELECT ts, value, quality FROM readings WHERE meter_id = ? AND ts >= ? AND ts < ? "
            "ORDER BY ts", (meter_id, start_us, end_us)).all()
        ts = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    else:
        rows = conn.execute(select(Reading.ts, Reading.value, Reading.quality)
                            .where(Reading.meter_id == meter_id,
                                   Reading.ts >= from_us(start_us), Reading.ts < from_us(end_us))
                            .order_by(Reading.ts)).all()
        ts = np.fromiter((to_us(r[0]) for r in rows), np.int64, len(rows))
    values = np.fromiter((r[1] for r in rows), np.float64, len(rows))
    quality = np.fromiter((r[2] for r in rows), np.int16, len(rows))
    return ts, values, quality


def _day_digests(conn: Connection, meter_id: int, tz: str, days: list[date]
                 ) -> dict[date, tuple[bytes, int]]:
    """Digest and reading count of each given local day of a meter (days with readings)."""
    if not days:
        return {}
    zone = ZoneInfo(tz)
    first, last = min(days), max(days)
    ts, values, quality = _fetch_readings(conn, meter_id, local_midnight_us(first, zone),
                                          local_midnight_us(last + timedelta(days=1), zone))
    out = {}
    for day in sorted(set(days)):
        lo, hi = np.searchsorted(ts, [local_midnight_us(day, zone),
                                      local_midnight_us(day + timedelta(days=1), zone)])
        if hi > lo:
            out[day] = (readings_digest(ts[lo:hi], values[lo:hi], quality[lo:hi]), int(hi - lo))
    return out


def _meter_day_meta(meter, tz: str, day: date, count: int) -> dict:
    name = f" ({meter.name_zh})" if meter.name_zh else ""
    name_zh = f"（{meter.name_zh}）" if meter.name_zh else " "
    return {"meter": meter.code, "meter_id": meter.id, "tenant_id": meter.tenant_id,
            "day": day.isoformat(), "timezone": tz, "readings": count,
            "label": f"readings of meter {meter.code}{name} on {day.isoformat()}",
            "label_zh": f"计量器具 {meter.code}{name_zh}{day.isoformat()} 的读数"}


def append_readings(bind: Session | Connection, meter_ids: Iterable[int], start_date: date,
                    end_date: date, *, created_by: str | None = None) -> list[dict]:
    """One entry per meter and local day in ``[start_date, end_date)`` (end exclusive) that has
    readings, with the digest of that day's stored readings (:func:`readings_digest`).  Days
    without readings get no entry.  Returns the entries."""
    conn = _conn(bind)
    meter_ids = [int(m) for m in meter_ids]
    if end_date <= start_date:
        raise InputError([Issue("rule.date_order", field="end_date", value=end_date)])
    meters = _meter_rows(conn, meter_ids)
    missing = [m for m in meter_ids if m not in meters]
    if missing:
        raise NotFound("meter", missing[0])
    days = [start_date + timedelta(days=i) for i in range((end_date - start_date).days)]
    items = []
    for mid in dict.fromkeys(meter_ids):
        meter, tz = meters[mid]
        for day, (digest, count) in _day_digests(conn, mid, tz, days).items():
            items.append(("readings", f"{mid}/{day.isoformat()}", digest,
                          _meter_day_meta(meter, tz, day, count)))
    return _append_rows(conn, items, created_by)


def _parse_meter_day(key: str) -> tuple[int, date] | None:
    try:
        mid, day = key.split("/", 1)
        return int(mid), date.fromisoformat(day)
    except ValueError:
        return None


def _readings_bulk(conn: Connection, keys: list[str]) -> dict[str, bytes | None]:
    by_meter: dict[int, list[tuple[str, date]]] = defaultdict(list)
    out: dict[str, bytes | None] = {}
    for key in keys:
        parsed = _parse_meter_day(key)
        if parsed is None:
            out[key] = None
        else:
            by_meter[parsed[0]].append((key, parsed[1]))
    meters = _meter_rows(conn, by_meter)
    for mid, wanted in by_meter.items():
        if mid not in meters:
            out.update({k: None for k, _ in wanted})
            continue
        digests = _day_digests(conn, mid, meters[mid][1], [d for _, d in wanted])
        out.update({k: digests[d][0] if d in digests else None for k, d in wanted})
    return out


# -- manual entries, fuel deliveries, evidence, energy parameters --------------------------------
def _manual_digest(conn: Connection, entry_id: int, version: int) -> bytes | None:
    entry = conn.execute(select(ManualEntry).where(ManualEntry.id == entry_id)).first()
    ver = conn.execute(select(ManualEntryVersion).where(
        ManualEntryVersion.entry_id == entry_id, ManualEntryVersion.version == version)).first()
    if entry is None or ver is None:
        return None
    files = sorted(conn.execute(
        select(EvidenceFile.sha256).join(ManualEntryEvidence,
                                         ManualEntryEvidence.evidence_id == EvidenceFile.id)
        .where(ManualEntryEvidence.version_id == ver.id)).scalars())
    # The status is left out: an approved version legitimately becomes "superseded".
    return digest_json({"entry_id": entry_id, "kind": entry.kind, "tenant_id": entry.tenant_id,
                        "version": version, "payload": ver.payload, "retract": ver.retract,
                        "created_by": ver.created_by, "submitted_by": ver.submitted_by,
                        "submitted_at": ver.submitted_at, "reviewed_by": ver.reviewed_by,
                        "reviewed_at": ver.reviewed_at, "target_table": ver.target_table,
                        "target_id": ver.target_id, "target_ts": ver.target_ts,
                        "batch_id": ver.batch_id, "evidence_sha256": files})


def _parse_version_key(key: str) -> tuple[int, int] | None:
    try:
        entry, ver = key.split("/v", 1)
        return int(entry), int(ver)
    except ValueError:
        return None


def _recompute_manual(conn: Connection, key: str) -> bytes | None:
    parsed = _parse_version_key(key)
    return None if parsed is None else _manual_digest(conn, *parsed)


def append_manual_entry(bind: Session | Connection, entry_id: int, version: int | None = None,
                        *, created_by: str | None = None) -> dict:
    """Ledger a reviewed version of a manual entry (default: its approved version)."""
    conn = _conn(bind)
    entry = conn.execute(select(ManualEntry).where(ManualEntry.id == entry_id)).first()
    if entry is None:
        raise NotFound("manual entry", entry_id)
    version = version or entry.approved_version
    if version is None:
        raise InputError([Issue("rule.ledger_not_approved", field="entry", value=entry_id)])
    digest = _manual_digest(conn, entry_id, version)
    if digest is None:
        raise NotFound("manual entry version", f"{entry_id}/v{version}")
    meta = {"entry_id": entry_id, "version": version, "entry_kind": entry.kind,
            "tenant_id": entry.tenant_id,
            "label": f"manual entry {entry_id} version {version} ({entry.kind})",
            "label_zh": f"手工填报 {entry_id} 第 {version} 版（{entry.kind}）"}
    return append(conn, "manual_entry", f"{entry_id}/v{version}", digest, meta,
                  created_by=created_by)


_FUEL_COLUMNS = tuple(c.key for c in FuelDelivery.__table__.columns)
_PARAM_COLUMNS = tuple(c.key for c in EnergyParameter.__table__.columns)


def _recompute_row(model, columns):
    def recompute(conn: Connection, key: str) -> bytes | None:
        try:
            rid = int(key)
        except ValueError:
            return None
        row = conn.execute(select(model).where(model.id == rid)).first()
        return None if row is None else _row_digest(row, columns)
    return recompute


_recompute_fuel = _recompute_row(FuelDelivery, _FUEL_COLUMNS)
_recompute_parameter = _recompute_row(EnergyParameter, _PARAM_COLUMNS)


def append_fuel_delivery(bind: Session | Connection, delivery_id: int, *,
                         created_by: str | None = None) -> dict:
    """Ledger a fuel delivery with its laboratory analysis (every column)."""
    conn = _conn(bind)
    row = conn.execute(select(FuelDelivery).where(FuelDelivery.id == delivery_id)).first()
    if row is None:
        raise NotFound("fuel delivery", delivery_id)
    lot = f" lot {row.lot_no}" if row.lot_no else ""
    meta = {"delivery_id": row.id, "carrier": row.carrier_code, "tenant_id": row.tenant_id,
            "delivered_on": row.delivered_on.isoformat(), "quantity": row.quantity,
            "unit": row.unit, "report_no": row.report_no,
            "label": f"fuel delivery {row.id}: {row.carrier_code} {row.quantity:g} {row.unit} "
                     f"on {row.delivered_on.isoformat()}{lot}",
            "label_zh": f"燃料进厂 {row.id}：{row.carrier_code} {row.quantity:g} {row.unit}，"
                        f"{row.delivered_on.isoformat()}" + (f"，批号 {row.lot_no}"
                                                             if row.lot_no else "")}
    return append(conn, "fuel_delivery", str(row.id), _row_digest(row, _FUEL_COLUMNS), meta,
                  created_by=created_by)


def append_energy_parameter(bind: Session | Connection, parameter_id: int, *,
                            created_by: str | None = None) -> dict:
    """Ledger one version of an energy accounting parameter (coefficient, NCV ...)."""
    conn = _conn(bind)
    row = conn.execute(select(EnergyParameter).where(EnergyParameter.id == parameter_id)).first()
    if row is None:
        raise NotFound("energy_parameter", parameter_id)
    what = f"{row.kind} {row.carrier_code or ''}".strip()
    meta = {"parameter_id": row.id, "kind": row.kind, "carrier": row.carrier_code,
            "value": row.value, "unit": row.unit, "tenant_id": row.tenant_id,
            "valid_from": row.valid_from.isoformat(),
            "label": f"energy parameter {row.id}: {what} = {row.value:g} {row.unit} "
                     f"from {row.valid_from.isoformat()}",
            "label_zh": f"能源参数 {row.id}：{what} = {row.value:g} {row.unit}，"
                        f"自 {row.valid_from.isoformat()} 起"}
    return append(conn, "energy_parameter", str(row.id), _row_digest(row, _PARAM_COLUMNS), meta,
                  created_by=created_by)


def _evidence_root() -> Path:
    return EVIDENCE_ROOT.get() or get_settings().resolved_evidence_dir()


def _file_sha256(root: Path, sha256: str) -> bytes | None:
    from nengtan.services.evidence import hash_file, path_of

    path = path_of(root, sha256)
    if not path.is_file():
        return None
    return bytes.fromhex(hash_file(path)[0])


def _recompute_evidence(conn: Connection, key: str) -> bytes | None:
    try:
        rid = int(key)
    except ValueError:
        return None
    sha = conn.execute(select(EvidenceFile.sha256).where(EvidenceFile.id == rid)).scalar()
    return None if sha is None else _file_sha256(_evidence_root(), sha)


def append_evidence(bind: Session | Connection, evidence_id: int, *,
                    evidence_root: Path | None = None, created_by: str | None = None) -> dict:
    """Ledger an evidence file: the digest is the SHA-256 of the file on disk, which must be
    the SHA-256 recorded at upload (else the file is refused: it already changed)."""
    conn = _conn(bind)
    row = conn.execute(select(EvidenceFile).where(EvidenceFile.id == evidence_id)).first()
    if row is None:
        raise NotFound("evidence file", evidence_id)
    actual = _file_sha256(Path(evidence_root) if evidence_root else _evidence_root(), row.sha256)
    if actual is None or actual.hex() != row.sha256:
        rule = "rule.manual_evidence_missing" if actual is None else "rule.manual_evidence_changed"
        raise InputError([Issue(rule, field="sha256", value=row.sha256)])
    meta = {"evidence_id": row.id, "sha256": row.sha256, "filename": row.filename,
            "size": row.size, "content_type": row.content_type, "tenant_id": row.tenant_id,
            "uploaded_by": row.uploaded_by, "uploaded_at": _iso(row.uploaded_at),
            "label": f"evidence file {row.id} {row.filename}",
            "label_zh": f"证明材料 {row.id} {row.filename}"}
    return append(conn, "evidence_file", str(row.id), actual, meta, created_by=created_by)


def _recompute_factor(conn: Connection, key: str) -> bytes | None:
    from nengtan.services import factor_library

    return factor_library.digest(conn, key)


def append_factor_value(bind: Session | Connection, factor_id: str, *,
                        created_by: str | None = None, label: str | None = None) -> dict:
    """Ledger one value of the factor library (digest by the factor library service)."""
    conn = _conn(bind)
    digest = _recompute_factor(conn, str(factor_id))
    if digest is None:
        raise NotFound("ledger record", f"factor_value {factor_id}")
    meta = {"factor_id": str(factor_id),
            "label": label or f"factor value {factor_id}",
            "label_zh": label or f"排放因子值 {factor_id}"}
    return append(conn, "factor_value", str(factor_id), digest, meta, created_by=created_by)


register("readings", lambda conn, key: _readings_bulk(conn, [key])[key], bulk=_readings_bulk)
register("manual_entry", _recompute_manual)
register("fuel_delivery", _recompute_fuel)
register("evidence_file", _recompute_evidence)
register("energy_parameter", _recompute_parameter)
register("factor_value", _recompute_factor)


# -- the tree ----------------------------------------------------------------------------------
@dataclass
class _Log:
    """The log as the table holds it now."""

    rows: list  # rows of ledger_entries ordered by id
    hasher: Hasher
    #: leaf hashes of the leaf data rebuilt from each row's columns, in order
    leaves: list[bytes]
    #: (entry id, problem, detail) for rows that do not hold together
    problems: list[tuple[int, str, str]]
    tree: MerkleTree | None = None

    def merkle(self) -> MerkleTree:
        if self.tree is None:
            self.tree = MerkleTree(self.leaves, self.hasher)
        return self.tree


def _rebuilt(row) -> bytes:
    return leaf_data(row.id, row.kind, row.key, row.digest, row.meta, _iso(row.created_at))


def _load_log(conn: Connection) -> _Log:
    rows = conn.execute(select(_ENTRIES).order_by(_ENTRIES.c.id)).all()
    hasher = Hasher(rows[0].hash_alg if rows else configured_algorithm())
    leaves, problems = [], []
    expected = 1
    for row in rows:
        if row.id != expected:
            problems.append((row.id, "missing_entries",
                             f"sequence jumps from {expected - 1} to {row.id}"))
            expected = row.id
        expected += 1
        data = _rebuilt(row)
        leaf = hasher.leaf(data)
        leaves.append(leaf)
        if row.hash_alg != hasher.alg:
            problems.append((row.id, "hash_alg", f"{row.hash_alg} in a {hasher.alg} log"))
        if data.decode("utf-8") != row.leaf_data:
            problems.append((row.id, "row_changed",
                             "the entry's columns no longer encode its stored leaf data"))
        elif row.leaf_hash != leaf.hex():
            problems.append((row.id, "leaf_hash",
                             "the stored leaf hash is not the hash of the leaf data"))
    return _Log(rows, hasher, leaves, problems)


def _checkpoint_problems(log: _Log, cp, trusted: str | None) -> list[tuple[str, str]]:
    out = []
    try:
        head = signing.parse_note(cp.note)
    except ValueError as exc:
        return [("note", str(exc))]
    if (head.size, head.root, head.hash_alg) != (cp.tree_size, cp.root_hash, cp.hash_alg):
        out.append(("note", "the signed note differs from the checkpoint's columns"))
    try:
        sig = base64.b64decode(cp.signature, validate=True)
        valid = signing.verify_signature(cp.public_key, cp.note.encode("utf-8"), sig)
    except ValueError:
        valid = False
    if not valid:
        out.append(("signature", "the Ed25519 signature of the note is not valid"))
    if trusted is not None and cp.public_key != trusted:
        out.append(("key", f"signed by key {cp.key_id}, not this installation's key"))
    if head.hash_alg != log.hasher.alg and log.rows:
        out.append(("hash_alg", f"{head.hash_alg} checkpoint of a {log.hasher.alg} log"))
    elif head.size > len(log.leaves):
        out.append(("beyond_log", f"covers {head.size} entries, the log has {len(log.leaves)}"))
    elif log.merkle().root(head.size).hex() != head.root:
        out.append(("root_mismatch",
                    f"the first {head.size} entries no longer hash to the signed root"))
    return out


def _message(problem: str, lang: str, kind: str | None = None) -> str:
    specific = f"ledger.problem.{kind}.{problem}"
    if kind and specific in catalogue("en"):
        return t(specific, lang)
    return t(f"ledger.problem.{problem}", lang)


def checkpoint(bind: Session | Connection, *, created_by: str | None = None,
               key: Path | None = None) -> dict:
    """Sign the current tree head (size, root, hash algorithm, time) and store it.

    Refused (InputError ``rule.ledger_inconsistent``) while a row of the log is damaged or the
    log disagrees with an earlier checkpoint: the ledger never signs over a tampered log."""
    conn = _conn(bind)
    _lock(conn)
    log = _load_log(conn)
    previous = conn.execute(select(_CHECKPOINTS).order_by(_CHECKPOINTS.c.id.desc())
                            .limit(1)).first()
    bad = [(eid, p) for eid, p, _ in log.problems]
    if previous is not None:
        bad += [(None, p) for p, _ in _checkpoint_problems(log, previous, None)]
    if bad:
        raise InputError([Issue("rule.ledger_inconsistent", field="ledger", value=eid,
                                params={"problem": p}) for eid, p in bad])
    private = signing_key(key)
    pub = private.public_key()
    now = utcnow()
    head = signing.TreeHead(size=len(log.leaves), root=log.merkle().root().hex(),
                            hash_alg=log.hasher.alg, time=_iso(now), origin=ORIGIN)
    note = head.note()
    row = {"tree_size": head.size, "root_hash": head.root, "hash_alg": head.hash_alg,
           "note": note,
           "signature": base64.b64encode(signing.sign(private, note.encode("utf-8"))).decode(),
           "public_key": signing.public_raw(pub).hex(), "key_id": signing.key_id(pub),
           "created_by": created_by, "created_at": now}
    cp_id = conn.execute(insert(_CHECKPOINTS).values(**row)
                         .returning(_CHECKPOINTS.c.id)).scalar_one()
    return checkpoint_dict({"id": cp_id, **row})


# -- verification ------------------------------------------------------------------------------
def verify(bind: Session | Connection, *, evidence_root: Path | None = None,
           key: Path | None = None) -> dict:
    """Recompute every record's digest from the stored data, rebuild the tree from the entry
    rows and check every checkpoint (root, signature, key).  Returns a report: ``ok``,
    ``mismatches`` (records that no longer match: kind, key, label, recorded and current
    digest), ``entry_problems`` (damaged or missing log rows), ``checkpoint_problems``, counts,
    and ``warnings`` (entries after the last checkpoint, kinds nobody can recompute)."""
    conn = _conn(bind)
    _load_providers()
    token = EVIDENCE_ROOT.set(Path(evidence_root)) if evidence_root else None
    try:
        return _verify(conn, key)
    finally:
        if token is not None:
            EVIDENCE_ROOT.reset(token)


def _verify(conn: Connection, key: Path | None) -> dict:
    log = _load_log(conn)
    latest: dict[tuple[str, str], Any] = {}
    for row in log.rows:
        latest[(row.kind, row.key)] = row
    by_kind: dict[str, list] = defaultdict(list)
    for row in latest.values():
        by_kind[row.kind].append(row)
    mismatches, unchecked = [], defaultdict(int)
    checked = 0
    for kind, rows in sorted(by_kind.items()):
        rec = _REGISTRY.get(kind)
        if rec is None:
            unchecked[kind] += len(rows)
            continue
        current = rec.many(conn, [r.key for r in rows])
        for row in rows:
            checked += 1
            now = current.get(row.key)
            if now is not None and now.hex() == row.digest:
                continue
            problem = "missing" if now is None else "changed"
            meta = row.meta or {}
            label = meta.get("label") or f"{kind} {row.key}"
            mismatches.append({
                "entry_id": row.id, "kind": kind, "key": row.key, "label": label,
                "label_zh": meta.get("label_zh") or label, "problem": problem,
                "recorded_digest": row.digest, "current_digest": now.hex() if now else None,
                "message": f"{label}: {_message(problem, 'en', kind)}",
                "message_zh": f"{meta.get('label_zh') or label}：{_message(problem, 'zh-CN', kind)}"})
    mismatches.sort(key=lambda m: m["entry_id"])
    entry_problems = [{"entry_id": eid, "problem": p, "detail": d,
                       "message": _message(p, "en"), "message_zh": _message(p, "zh-CN")}
                      for eid, p, d in log.problems]
    trusted = _local_public(key)
    cps = conn.execute(select(_CHECKPOINTS).order_by(_CHECKPOINTS.c.id)).all()
    checkpoint_problems = []
    for cp in cps:
        for p, d in _checkpoint_problems(log, cp, trusted):
            checkpoint_problems.append({
                "checkpoint_id": cp.id, "tree_size": cp.tree_size, "problem": p, "detail": d,
                "message": _message(f"checkpoint_{p}", "en"),
                "message_zh": _message(f"checkpoint_{p}", "zh-CN")})
    signed = max((cp.tree_size for cp in cps), default=0)
    warnings = []
    if len(log.rows) > signed:
        warnings.append({"warning": "unsigned_entries", "count": len(log.rows) - signed,
                         "message": t("ledger.warning.unsigned", "en", n=len(log.rows) - signed),
                         "message_zh": t("ledger.warning.unsigned", "zh-CN",
                                         n=len(log.rows) - signed)})
    for kind, n in sorted(unchecked.items()):
        warnings.append({"warning": "unchecked_kind", "kind": kind, "count": n,
                         "message": t("ledger.warning.unchecked", "en", kind=kind, n=n),
                         "message_zh": t("ledger.warning.unchecked", "zh-CN", kind=kind, n=n)})
    if trusted is None and cps:
        warnings.append({"warning": "no_local_key", "message": t("ledger.warning.no_key", "en"),
                         "message_zh": t("ledger.warning.no_key", "zh-CN")})
    ok = not mismatches and not entry_problems and not checkpoint_problems
    return {"ok": ok, "hash_alg": log.hasher.alg, "entries": len(log.rows),
            "records": len(latest), "checked": checked,
            "superseded": len(log.rows) - len(latest), "unchecked": sum(unchecked.values()),
            "tree_size": len(log.leaves), "root_hash": log.merkle().root().hex(),
            "checkpoints": len(cps), "signed_size": signed,
            "mismatches": mismatches, "entry_problems": entry_problems,
            "checkpoint_problems": checkpoint_problems, "warnings": warnings,
            "verified_at": audit.iso(utcnow())}


# -- proofs ------------------------------------------------------------------------------------
def _entry_row(conn: Connection, entry_id: int):
    row = conn.execute(select(_ENTRIES).where(_ENTRIES.c.id == entry_id)).first()
    if row is None:
        raise NotFound("ledger entry", entry_id)
    return row


def proof(bind: Session | Connection, entry_id: int, checkpoint_id: int | None = None) -> dict:
    """A self-contained inclusion proof of one entry (format ``nengtan-ledger-proof/1``): the
    entry, its leaf data and hash, the audit path to the root of a signed checkpoint (the given
    one, else the latest that covers the entry), the checkpoint and its public key.  Check it
    offline with :func:`nengtan.ledger.verify_proof` or ``nengtan ledger verify-proof``."""
    return proofs(bind, [entry_id], checkpoint_id)[0]


def proofs(bind: Session | Connection, entry_ids: Iterable[int],
           checkpoint_id: int | None = None) -> list[dict]:
    """:func:`proof` of many entries, building the tree once (verification packages)."""
    conn = _conn(bind)
    rows = [_entry_row(conn, int(i)) for i in entry_ids]
    if not rows:
        return []
    log = _load_log(conn)
    q = select(_CHECKPOINTS).order_by(_CHECKPOINTS.c.id.desc())
    if checkpoint_id is not None:
        q = q.where(_CHECKPOINTS.c.id == checkpoint_id)
    checkpoints = conn.execute(q).all()
    out = []
    for row in rows:
        cp = next((c for c in checkpoints if c.tree_size >= row.id), None)
        if cp is None:
            raise InputError([Issue("rule.ledger_no_checkpoint", field="checkpoint",
                                    value=checkpoint_id if checkpoint_id is not None
                                    else row.id)])
        if cp.tree_size > len(log.leaves):
            raise InputError([Issue("rule.ledger_inconsistent", field="ledger", value=cp.id,
                                    params={"problem": "beyond_log"})])
        out.append(_proof_doc(log, row, cp))
    return out


def _proof_doc(log: _Log, row, cp) -> dict:
    tree = log.merkle()
    pub = signing.load_public(cp.public_key)
    entry = _entry_dict(row)
    return {"format": PROOF_FORMAT, "hash_alg": log.hasher.alg,
            "entry": {k: entry[k] for k in ("id", "seq", "kind", "key", "digest", "meta",
                                            "created_at")},
            "leaf_index": row.id - 1, "leaf_data": row.leaf_data, "leaf_hash": row.leaf_hash,
            "audit_path": [h.hex() for h in tree.inclusion_proof(row.id - 1, cp.tree_size)],
            "checkpoint": {"id": cp.id, "tree_size": cp.tree_size, "root_hash": cp.root_hash,
                           "hash_alg": cp.hash_alg, "note": cp.note, "signature": cp.signature,
                           "key_id": cp.key_id, "time": audit.iso(cp.created_at)},
            "public_key": {"key_id": cp.key_id, "ed25519_hex": cp.public_key,
                           "pem": signing.public_pem(pub)},
            "how_to_verify": "nengtan ledger verify-proof FILE [--public-key KEY.pub] "
                             "[--data FILE]; RFC 6962 leaf/node hashing, RFC 9162 2.1.3.2"}


def consistency(bind: Session | Connection, first: int, second: int | None = None) -> dict:
    """Consistency proof (RFC 6962 section 2.1.2) that the tree of ``first`` entries is a prefix
    of the tree of ``second`` (default: all) entries, with both roots and any checkpoints
    signed at those sizes."""
    conn = _conn(bind)
    log = _load_log(conn)
    size = len(log.leaves)
    second = size if second is None else second
    if not 0 <= first <= second <= size:
        raise InputError([Issue("rule.ledger_sizes", field="first", value=f"{first}..{second}",
                                params={"size": size})])
    tree = log.merkle()
    cps = conn.execute(select(_CHECKPOINTS).where(_CHECKPOINTS.c.tree_size.in_({first, second}))
                       .order_by(_CHECKPOINTS.c.id)).all()
    return {"hash_alg": log.hasher.alg, "first": first, "second": second,
            "first_root": tree.root(first).hex(), "second_root": tree.root(second).hex(),
            "proof": [h.hex() for h in tree.consistency_proof(first, second)],
            "checkpoints": [checkpoint_dict(cp) for cp in cps]}


def status(bind: Session | Connection, *, key: Path | None = None) -> dict:
    """Size, root, hash algorithm, entries per kind, latest checkpoint and the public key."""
    conn = _conn(bind)
    kinds = dict(conn.execute(select(_ENTRIES.c.kind, func.count())
                              .group_by(_ENTRIES.c.kind)).all())
    size = conn.execute(select(func.count()).select_from(_ENTRIES)).scalar() or 0
    last = conn.execute(select(_CHECKPOINTS).order_by(_CHECKPOINTS.c.id.desc()).limit(1)).first()
    local = _local_public(key)
    pub = None
    if local is not None:
        p = signing.load_public(local)
        pub = {"key_id": signing.key_id(p), "ed25519_hex": local, "pem": signing.public_pem(p),
               "path": str(signing.public_path(key or key_path()))}
    return {"entries": size, "hash_alg": hash_algorithm(conn),
            "by_kind": {k: kinds[k] for k in sorted(kinds)},
            "latest_checkpoint": checkpoint_dict(last) if last else None,
            "unsigned_entries": size - (last.tree_size if last else 0),
            "public_key": pub, "kinds_registered": sorted(_REGISTRY)}


# -- listings ----------------------------------------------------------------------------------
def _entry_dict(row) -> dict:
    get = row.__getitem__ if isinstance(row, dict) else lambda k: getattr(row, k)
    return {"id": get("id"), "seq": get("id"), "kind": get("kind"), "key": get("key"),
            "digest": get("digest"), "meta": get("meta"), "hash_alg": get("hash_alg"),
            "leaf_hash": get("leaf_hash"), "created_by": get("created_by"),
            "created_at": _iso(get("created_at"))}


entry_dict = _entry_dict


def checkpoint_dict(row) -> dict:
    get = row.__getitem__ if isinstance(row, dict) else lambda k: getattr(row, k)
    return {"id": get("id"), "tree_size": get("tree_size"), "root_hash": get("root_hash"),
            "hash_alg": get("hash_alg"), "note": get("note"), "signature": get("signature"),
            "public_key": get("public_key"), "key_id": get("key_id"),
            "created_by": get("created_by"), "created_at": audit.iso(get("created_at"))}


def entries_query(kind: str | None = None, key: str | None = None):
    q = select(LedgerEntry)
    if kind:
        q = q.where(LedgerEntry.kind == kind)
    if key:
        q = q.where(LedgerEntry.key == key)
    return q.order_by(LedgerEntry.id)


def checkpoints_query():
    return select(LedgerCheckpoint).order_by(LedgerCheckpoint.id)


def entry(bind: Session | Connection, entry_id: int) -> dict:
    return _entry_dict(_entry_row(_conn(bind), entry_id))


def latest_entry(bind: Session | Connection, kind: str, key: str) -> dict | None:
    """The latest entry of a record, or None (for services that ledger once per record)."""
    conn = _conn(bind)
    row = conn.execute(select(_ENTRIES).where(_ENTRIES.c.kind == kind, _ENTRIES.c.key == key)
                       .order_by(_ENTRIES.c.id.desc()).limit(1)).first()
    return None if row is None else _entry_dict(row)


def dumps(doc: dict) -> str:
    """A proof or report as JSON text (UTF-8, indented)."""
    return json.dumps(doc, ensure_ascii=False, indent=2)

