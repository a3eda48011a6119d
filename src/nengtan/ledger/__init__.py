"""Tamper-evident ledger: RFC 6962 Merkle log, signed checkpoints, proofs (pure: no I/O
besides reading and writing a key file in :func:`signing.load_or_create`)."""

from nengtan.ledger.hashing import ALGORITHMS, DEFAULT_ALGORITHM, Hasher, hash_function
from nengtan.ledger.merkle import (
    MerkleTree,
    ProofError,
    root_of,
    verify_consistency,
    verify_inclusion,
)
from nengtan.ledger.proofs import PROOF_FORMAT, canonical_json, leaf_data, verify_proof

__all__ = [
    "ALGORITHMS",
    "DEFAULT_ALGORITHM",
    "PROOF_FORMAT",
    "Hasher",
    "MerkleTree",
    "ProofError",
    "canonical_json",
    "hash_function",
    "leaf_data",
    "root_of",
    "verify_consistency",
    "verify_inclusion",
    "verify_proof",
]
