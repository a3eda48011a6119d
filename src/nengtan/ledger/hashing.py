"""Hash functions of the log and the RFC 6962 domain separation of leaves and nodes.

RFC 6962 section 2.1: ``leaf hash = HASH(0x00 || data)``, ``node hash = HASH(0x01 || left ||
right)``, and the hash of an empty tree is ``HASH()`` (of the empty string).  The prefixes keep a
leaf from ever being taken for an inner node (second-preimage resistance of the tree).

``sha256`` is the default (as in RFC 6962); ``sm3`` (GB/T 32905-2016, :mod:`.sm3`) is the
option for domestic-crypto (国密) deployments.  Both give 32-byte hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from nengtan.ledger.sm3 import fast_sm3

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


ALGORITHMS: dict[str, Callable[[bytes], bytes]] = {"sha256": _sha256, "sm3": fast_sm3}
DEFAULT_ALGORITHM = "sha256"


def hash_function(alg: str) -> Callable[[bytes], bytes]:
    """The hash function named ``alg`` (``sha256`` or ``sm3``); ValueError for others."""
    try:
        return ALGORITHMS[alg.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"unknown hash algorithm {alg!r}; use one of {sorted(ALGORITHMS)}") \
            from None


class Hasher:
    """RFC 6962 hashing with one algorithm."""

    def __init__(self, alg: str = DEFAULT_ALGORITHM):
        self.alg = alg.lower()
        self.hash = hash_function(self.alg)

    def empty_root(self) -> bytes:
        """MTH({}) = HASH() (RFC 6962 section 2.1)."""
        return self.hash(b"")

    def leaf(self, data: bytes) -> bytes:
        """MTH({d}) = HASH(0x00 || d)."""
        return self.hash(LEAF_PREFIX + data)

    def node(self, left: bytes, right: bytes) -> bytes:
        """HASH(0x01 || left || right)."""
        return self.hash(NODE_PREFIX + left + right)

    def __repr__(self) -> str:
        return f"Hasher({self.alg!r})"
