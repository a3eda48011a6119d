"""RFC 6962 Merkle tree: hashes of hand-built trees, audit paths and consistency proofs of the
RFC's own 7-leaf example, a literal transcription of the RFC's recursive definitions as the
reference for every size up to 33, and the verification algorithms (RFC 9162 2.1.3.2/2.1.4.2)
accepting every true proof and rejecting altered ones."""

import hashlib

import pytest

from nengtan.ledger.hashing import Hasher
from nengtan.ledger.merkle import (
    MerkleTree,
    ProofError,
    largest_power_of_two_below,
    root_of,
    verify_consistency,
    verify_inclusion,
)
from nengtan.ledger.sm3 import sm3

SHA = Hasher("sha256")


def H(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def leaf(d: bytes) -> bytes:
    return H(b"\x00" + d)


def node(a: bytes, b: bytes) -> bytes:
    return H(b"\x01" + a + b)


DATA = [f"d{i}".encode() for i in range(40)]
LEAVES = [leaf(d) for d in DATA]


# -- the RFC's definitions, transcribed literally (section 2.1) ----------------------------------
def k_of(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def MTH(D):
    if not D:
        return H(b"")
    if len(D) == 1:
        return D[0]  # D holds leaf hashes: HASH(0x00 || d) already applied
    k = k_of(len(D))
    return node(MTH(D[:k]), MTH(D[k:]))


def PATH(m, D):
    if len(D) <= 1:
        return []
    k = k_of(len(D))
    if m < k:
        return PATH(m, D[:k]) + [MTH(D[k:])]
    return PATH(m - k, D[k:]) + [MTH(D[:k])]


def SUBPROOF(m, D, b):
    n = len(D)
    if m == n:
        return [] if b else [MTH(D)]
    k = k_of(n)
    if m <= k:
        return SUBPROOF(m, D[:k], b) + [MTH(D[k:])]
    return SUBPROOF(m - k, D[k:], False) + [MTH(D[:k])]


def PROOF(m, D):
    return SUBPROOF(m, D, True)


# -- hand-built trees ---------------------------------------------------------------------------
def test_empty_and_single():
    assert root_of([], SHA) == hashlib.sha256(b"").digest()
    # the SHA-256 of the empty string (RFC 6962 2.1: MTH({}) = HASH())
    assert root_of([], SHA).hex().startswith("e3b0c442")
    assert root_of([leaf(b"")], SHA) == H(b"\x00")


def test_hand_built_two_three_five():
    a, b, c, d, e = LEAVES[:5]
    assert root_of([a, b], SHA) == node(a, b)
    # n = 3: k = 2, the left subtree is the perfect pair, the right the lone leaf
    assert root_of([a, b, c], SHA) == node(node(a, b), c)
    # n = 5: k = 4: ((ab)(cd)) with e alone on the right (the tree is not balanced)
    assert root_of([a, b, c, d, e], SHA) == node(node(node(a, b), node(c, d)), e)


def test_leaf_and_node_domain_separation():
    # a leaf whose data equal the concatenation of two hashes does not hash like the node
    a, b = LEAVES[:2]
    assert SHA.leaf(a + b) != SHA.node(a, b)


def test_rfc6962_example_tree_of_seven():
    """RFC 6962 section 2.1.3: the tree of 7 leaves d0..d6 with inner nodes a..l."""
    a, b, c, d, e, f, j = LEAVES[:7]
    g, h, i = node(a, b), node(c, d), node(e, f)
    k, l_ = node(g, h), node(i, j)
    root = node(k, l_)
    t = MerkleTree(LEAVES[:7], SHA)
    assert t.root() == root
    # audit paths given by the RFC: d0 [b, h, l], d3 [c, g, l], d4 [f, j, k], d6 [i, k]
    assert t.inclusion_proof(0) == [b, h, l_]
    assert t.inclusion_proof(3) == [c, g, l_]
    assert t.inclusion_proof(4) == [f, j, k]
    assert t.inclusion_proof(6) == [i, k]
    # consistency proofs given by the RFC (section 2.1.3): hash0 = tree of 3 (d0..d2),
    # hash1 = tree of 4, hash2 = tree of 6
    assert t.consistency_proof(3, 7) == [c, d, g, l_]
    assert t.consistency_proof(4, 7) == [l_]
    assert t.consistency_proof(6, 7) == [i, j, k]
    assert t.root(3) == node(g, c) and t.root(4) == k and t.root(6) == node(k, i)


@pytest.mark.parametrize("n", range(1, 34))
def test_against_literal_rfc_definitions(n):
    D = LEAVES[:n]
    t = MerkleTree(D, SHA)
    assert t.root() == MTH(D)
    for m in range(n):
        assert t.inclusion_proof(m) == PATH(m, D)
    for m in range(1, n + 1):
        assert t.root(m) == MTH(D[:m])
        assert t.consistency_proof(m, n) == (PROOF(m, D) if m < n else [])


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 8, 9, 16, 17, 31])
def test_inclusion_verification(n):
    t = MerkleTree(LEAVES[:n], SHA)
    root = t.root()
    for m in range(n):
        path = t.inclusion_proof(m)
        assert verify_inclusion(SHA, m, n, LEAVES[m], path, root)
        # wrong leaf, wrong index, wrong root, truncated or extended path: rejected
        assert not verify_inclusion(SHA, m, n, leaf(b"other"), path, root)
        if n > 1:
            assert not verify_inclusion(SHA, (m + 1) % n, n, LEAVES[m], path, root)
            assert not verify_inclusion(SHA, m, n, LEAVES[m], path[:-1], root)
        assert not verify_inclusion(SHA, m, n, LEAVES[m], path + [root], root)
        assert not verify_inclusion(SHA, m, n, LEAVES[m], path, H(b"x"))
    assert not verify_inclusion(SHA, n, n, LEAVES[0], [], root)


@pytest.mark.parametrize("n", [2, 3, 4, 5, 7, 8, 12, 17, 32, 33])
def test_consistency_verification(n):
    t = MerkleTree(LEAVES[:n], SHA)
    for m in range(n + 1):
        proof = t.consistency_proof(m, n)
        assert verify_consistency(SHA, m, n, t.root(m), t.root(), proof)
        if 0 < m < n:
            assert not verify_consistency(SHA, m, n, H(b"x"), t.root(), proof)
            assert not verify_consistency(SHA, m, n, t.root(m), H(b"x"), proof)
            assert not verify_consistency(SHA, m, n, t.root(m), t.root(), proof[:-1])
            assert not verify_consistency(SHA, m, n, t.root(m), t.root(), [])
            # a different history of the same size is not consistent
            other = MerkleTree(LEAVES[:m - 1] + [leaf(b"forged")] + LEAVES[m:n], SHA)
            assert not verify_consistency(SHA, m, n, t.root(m), other.root(), proof)
    assert not verify_consistency(SHA, n, n, t.root(n - 1), t.root(), [])


def test_proof_errors():
    t = MerkleTree(LEAVES[:5], SHA)
    with pytest.raises(ProofError):
        t.inclusion_proof(5)
    with pytest.raises(ProofError):
        t.consistency_proof(3, 6)
    with pytest.raises(ProofError):
        t.root(6)
    assert t.inclusion_proof(1, 2) == [LEAVES[0]]
    assert largest_power_of_two_below(5) == 4 and largest_power_of_two_below(8) == 4
    with pytest.raises(ValueError):
        largest_power_of_two_below(1)


def test_sm3_tree():
    sm = Hasher("sm3")
    la, lb, lc = (sm3(b"\x00" + d) for d in DATA[:3])
    assert sm.leaf(DATA[0]) == la
    expected = sm3(b"\x01" + sm3(b"\x01" + la + lb) + lc)
    t = MerkleTree([la, lb, lc], sm)
    assert t.root() == expected
    assert verify_inclusion(sm, 2, 3, lc, t.inclusion_proof(2), expected)
    assert sm.empty_root() == sm3(b"")
    with pytest.raises(ValueError):
        Hasher("md5")
