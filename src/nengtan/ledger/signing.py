"""Ed25519 keys and signed tree heads (checkpoints) of the log.

A checkpoint is a short text note (UTF-8, one field per line, ending in a newline) that names
the log, its hash algorithm, the tree size, the root hash and the time; the log signs the note
with Ed25519 (RFC 8032) and the signature covers exactly those bytes::

    nengtan-ledger checkpoint v1
    origin: nengtan
    hash: sha256
    size: 1234
    root: 4d0b...e1 (64 hex digits)
    time: 2026-11-21T08:00:00.000000Z

Anyone holding the public key can check a checkpoint without the server
(:func:`verify_signature`).  The key id is the first 16 hex digits of SHA-256 of the raw 32-byte
public key.  Keys are stored as PKCS#8 PEM (private, mode 0600) and SubjectPublicKeyInfo PEM
(public); :func:`load_or_create` makes a key pair on first use.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

NOTE_HEADER = "nengtan-ledger checkpoint v1"
NOTE_FIELDS = ("origin", "hash", "size", "root", "time")


@dataclass(frozen=True)
class TreeHead:
    """The signed content of a checkpoint: tree size, root hash (hex), hash algorithm, time
    (ISO 8601 UTC text as signed) and the name of the log."""

    size: int
    root: str
    hash_alg: str
    time: str
    origin: str = "nengtan"

    def note(self) -> str:
        return (f"{NOTE_HEADER}\norigin: {self.origin}\nhash: {self.hash_alg}\n"
                f"size: {self.size}\nroot: {self.root}\ntime: {self.time}\n")


def parse_note(note: str) -> TreeHead:
    """The tree head of a checkpoint note; ValueError when it is not one."""
    lines = note.split("\n")
    if len(lines) != len(NOTE_FIELDS) + 2 or lines[0] != NOTE_HEADER or lines[-1] != "":
        raise ValueError("not a nengtan-ledger checkpoint note")
    values = {}
    for name, line in zip(NOTE_FIELDS, lines[1:-1]):
        prefix = f"{name}: "
        if not line.startswith(prefix):
            raise ValueError(f"checkpoint note: expected field {name!r}")
        values[name] = line[len(prefix):]
    return TreeHead(size=int(values["size"]), root=values["root"], hash_alg=values["hash"],
                    time=values["time"], origin=values["origin"])


def generate() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def key_id(key: Ed25519PublicKey | bytes) -> str:
    raw = key if isinstance(key, bytes) else public_raw(key)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_public(text: str | bytes) -> Ed25519PublicKey:
    """A public key from PEM, or from the raw 32 bytes given as hex or base64 text."""
    data = text.encode("ascii") if isinstance(text, str) else bytes(text)
    if data.lstrip().startswith(b"-----BEGIN"):
        key = serialization.load_pem_public_key(data)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key
    raw = data.strip()
    try:
        raw_bytes = bytes.fromhex(raw.decode("ascii"))
    except ValueError:
        raw_bytes = base64.b64decode(raw, validate=True)
    return Ed25519PublicKey.from_public_bytes(raw_bytes)


def sign(key: Ed25519PrivateKey, message: bytes) -> bytes:
    return key.sign(message)


def verify_signature(public: Ed25519PublicKey | str | bytes, message: bytes,
                     signature: bytes) -> bool:
    """Is ``signature`` a valid Ed25519 signature of ``message`` by ``public``?"""
    try:
        key = public if isinstance(public, Ed25519PublicKey) else load_public(public)
        key.verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


def load_or_create(path: Path) -> Ed25519PrivateKey:
    """The private key at ``path`` (PKCS#8 PEM); a new key pair is made and written there on
    first use, with the public key next to it (``<name>.pub``)."""
    path = Path(path)
    if path.is_file():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 private key")
        return key
    key = generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    # Created with 0600 from the start and never replaced: O_EXCL fails if another process
    # made the key in between, and then that key is used.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_or_create(path)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    public_path(path).write_text(public_pem(key.public_key()))
    return key


def public_path(private_path: Path) -> Path:
    return Path(private_path).with_name(Path(private_path).name + ".pub")
