"""Leaf encoding of ledger entries and self-contained proofs a verifier checks offline.

**Leaf data.**  Each entry of the log is one leaf; the leaf data are the entry's fields as
canonical JSON (keys sorted, no whitespace, UTF-8, ``v`` = 1)::

    {"created_at":"2026-11-21T08:00:00.000000Z","digest":"<hex>","key":"17/2026-01-05",
     "kind":"readings","meta":{...},"seq":42,"v":1}

and the leaf hash is ``HASH(0x00 || leaf data)`` (RFC 6962 section 2.1).  Entry ``seq`` (1, 2,
3 ...) is leaf index ``seq - 1``.

**Proof document** (``format`` = ``nengtan-ledger-proof/1``, JSON): the entry, its leaf data
and leaf hash, the audit path to the root of a signed checkpoint, the checkpoint (note,
signature) and the public key.  :func:`verify_proof` checks it with no database and no server:
the leaf data are the entry's fields; the leaf hash is the hash of the leaf data; the audit path
leads from the leaf hash to the checkpoint's root (RFC 9162 section 2.1.3.2); the note says that
size and root; the Ed25519 signature of the note is valid; optionally the public key is the one
the verifier was given beforehand, and a file's SHA-256 is the entry's digest (evidence files).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from nengtan.ledger import signing
from nengtan.ledger.hashing import Hasher
from nengtan.ledger.merkle import verify_inclusion

PROOF_FORMAT = "nengtan-ledger-proof/1"
LEAF_VERSION = 1


def canonical_json(value: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no whitespace, UTF-8 (not ASCII-escaped)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


def leaf_data(seq: int, kind: str, key: str, digest_hex: str, meta: dict | None,
              created_at: str) -> bytes:
    """The leaf data of an entry (``created_at`` as ISO 8601 UTC text with microseconds)."""
    return canonical_json({"v": LEAF_VERSION, "seq": int(seq), "kind": kind, "key": key,
                           "digest": digest_hex, "meta": meta if meta is not None else {},
                           "created_at": created_at})


def _check(checks: list[dict], name: str, ok: bool, detail: str = "") -> bool:
    checks.append({"check": name, "ok": bool(ok), "detail": detail})
    return bool(ok)


def verify_proof(doc: dict, *, public_key: str | bytes | None = None,
                 data: bytes | None = None) -> dict:
    """Check a proof document offline.  ``public_key``: the key the verifier trusts (PEM, or the
    raw key in hex/base64); without it the key in the document is used and the answer says so.
    ``data``: the bytes of the record (an evidence file) whose SHA-256 must be the entry's
    digest.  Returns ``{"ok", "entry", "checks": [{"check", "ok", "detail"}]}``."""
    checks: list[dict] = []
    out = {"ok": False, "checks": checks, "entry": None}
    if not _check(checks, "format", isinstance(doc, dict) and doc.get("format") == PROOF_FORMAT,
                  f"expected {PROOF_FORMAT}"):
        return out
    try:
        entry, cp = doc["entry"], doc["checkpoint"]
        out["entry"] = {k: entry.get(k) for k in ("id", "seq", "kind", "key", "digest")}
        hasher = Hasher(doc["hash_alg"])
        raw = doc["leaf_data"].encode("utf-8")
        leaf_hash = bytes.fromhex(doc["leaf_hash"])
        path = [bytes.fromhex(h) for h in doc["audit_path"]]
        index = int(doc["leaf_index"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        _check(checks, "structure", False, f"{exc.__class__.__name__}: {exc}")
        return out
    expected = leaf_data(entry["seq"], entry["kind"], entry["key"], entry["digest"],
                         entry.get("meta"), entry["created_at"])
    _check(checks, "leaf_data", expected == raw, "the leaf data encode the entry's fields")
    _check(checks, "leaf_index", index == int(entry["seq"]) - 1, "leaf index = seq - 1")
    _check(checks, "leaf_hash", hasher.leaf(raw) == leaf_hash,
           f"{hasher.alg}(0x00 || leaf data) = leaf_hash")
    try:
        head = signing.parse_note(cp["note"])
        note_ok = (head.size == int(cp["tree_size"]) and head.root == cp["root_hash"]
                   and head.hash_alg == doc["hash_alg"])
    except (KeyError, ValueError, TypeError) as exc:
        _check(checks, "checkpoint_note", False, str(exc))
        return out
    _check(checks, "checkpoint_note", note_ok, "the signed note states this size, root and hash")
    try:
        signature = base64.b64decode(cp["signature"], validate=True)
        key_text = public_key if public_key is not None else doc["public_key"]["pem"]
        key = signing.load_public(key_text)
    except (KeyError, ValueError, TypeError) as exc:
        _check(checks, "signature", False, str(exc))
        return out
    _check(checks, "signature", signing.verify_signature(key, cp["note"].encode("utf-8"),
                                                         signature),
           f"Ed25519 signature by key {signing.key_id(key)}"
           + ("" if public_key is not None else " (the key in the document: compare it with "
              "the published key)"))
    _check(checks, "inclusion", verify_inclusion(hasher, index, head.size, leaf_hash, path,
                                                 bytes.fromhex(head.root)),
           f"audit path of leaf {index} leads to the root of the tree of size {head.size}")
    if data is not None:
        actual = hashlib.sha256(data).hexdigest()
        _check(checks, "data_digest", actual == entry["digest"],
               f"SHA-256 of the file {actual} vs the entry's digest {entry['digest']}")
    out["ok"] = all(c["ok"] for c in checks)
    out["tree_size"], out["root_hash"], out["time"] = head.size, head.root, head.time
    return out
