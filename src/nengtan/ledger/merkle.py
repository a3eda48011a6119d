"""Merkle Tree Hash, audit paths and consistency proofs of RFC 6962 (section 2.1), and their
verification (the algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2, which restate the
RFC 6962 definitions as checks a client can run).

Definitions (RFC 6962 section 2.1), for a list ``D[n]`` of ``n`` leaves (leaf hashes here):

* ``MTH({}) = HASH()``; ``MTH({d0}) = HASH(0x00 || d0)``;
* for ``n > 1`` let ``k`` be the largest power of two smaller than ``n``;
  ``MTH(D[n]) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n]))``.  The tree is therefore not
  balanced when ``n`` is not a power of two: the left subtree is always perfect.
* ``PATH(m, D[n])`` (audit path of leaf ``m``): ``PATH(m, D[0:k]) : MTH(D[k:n])`` when
  ``m < k``, else ``PATH(m - k, D[k:n]) : MTH(D[0:k])``; empty for ``n = 1``.
* ``PROOF(m, D[n]) = SUBPROOF(m, D[n], true)`` (consistency of the first ``m`` leaves with
  all ``n``): ``SUBPROOF(m, D[m], true) = {}``, ``SUBPROOF(m, D[m], false) = {MTH(D[m])}``;
  for ``m < n``: ``SUBPROOF(m, D[0:k], b) : MTH(D[k:n])`` when ``m <= k``, else
  ``SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])``.

:class:`MerkleTree` keeps every perfect subtree's hash (level by level), so the hash of any
range the definitions ask for costs ``O(log n)`` node hashes; building it costs ``n - 1``.
Leaf indexes are 0-based.
"""

from __future__ import annotations

from collections.abc import Sequence

from nengtan.ledger.hashing import Hasher


def largest_power_of_two_below(n: int) -> int:
    """k with k < n <= 2k (n >= 2)."""
    if n < 2:
        raise ValueError("n must be at least 2")
    return 1 << ((n - 1).bit_length() - 1)


class ProofError(ValueError):
    """A proof was asked for leaves or sizes the tree does not have."""


class MerkleTree:
    """An RFC 6962 tree over a list of leaf hashes (``Hasher.leaf(data)`` of each entry)."""

    def __init__(self, leaf_hashes: Sequence[bytes], hasher: Hasher):
        self.hasher = hasher
        levels = [list(leaf_hashes)]
        node = hasher.node
        while len(levels[-1]) > 1:
            below = levels[-1]
            levels.append([node(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
        self._levels = levels

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def leaf_hash(self, index: int) -> bytes:
        return self._levels[0][index]

    def _range(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi]) for 0 <= lo < hi <= size."""
        n = hi - lo
        if n & (n - 1) == 0 and lo % n == 0:  # a perfect, aligned subtree: stored
            return self._levels[n.bit_length() - 1][lo // n]
        k = largest_power_of_two_below(n)
        return self.hasher.node(self._range(lo, lo + k), self._range(lo + k, hi))

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (default all): the root of the tree at that size."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ProofError(f"tree size {size} outside 0..{self.size}")
        return self.hasher.empty_root() if size == 0 else self._range(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[size]): the audit path of leaf ``index`` in the tree of ``size``."""
        size = self.size if size is None else size
        if not 0 <= index < size <= self.size:
            raise ProofError(f"leaf {index} is not in a tree of size {size}")
        path: list[bytes] = []
        lo, hi = 0, size
        # Walk down from the root; the sibling hashes are collected top-down and the RFC lists
        # them bottom-up.
        while hi - lo > 1:
            k = largest_power_of_two_below(hi - lo)
            if index < lo + k:
                path.append(self._range(lo + k, hi))
                hi = lo + k
            else:
                path.append(self._range(lo, lo + k))
                lo += k
        return path[::-1]

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """PROOF(first, D[second]): that the tree of ``first`` leaves is a prefix of the tree of
        ``second`` leaves.  Empty when ``first`` is 0 or equals ``second``."""
        second = self.size if second is None else second
        if not 0 <= first <= second <= self.size:
            raise ProofError(f"sizes {first}, {second} outside 0..{self.size} or out of order")
        if first == 0 or first == second:
            return []
        proof: list[bytes] = []
        m, lo, hi, complete = first, 0, second, True
        while m != hi - lo:
            k = largest_power_of_two_below(hi - lo)
            if m <= k:
                proof.append(self._range(lo + k, hi))
                hi = lo + k
            else:
                proof.append(self._range(lo, lo + k))
                m -= k
                lo += k
                complete = False
        if not complete:
            proof.append(self._range(lo, hi))
        return proof[::-1]


def root_of(leaf_hashes: Sequence[bytes], hasher: Hasher) -> bytes:
    """MTH over the given leaf hashes."""
    return MerkleTree(leaf_hashes, hasher).root()


def verify_inclusion(hasher: Hasher, index: int, size: int, leaf_hash: bytes,
                     path: Sequence[bytes], root: bytes) -> bool:
    """Does ``path`` prove that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with
    ``root``?  RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = hasher.node(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hasher.node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(hasher: Hasher, first: int, second: int, first_root: bytes,
                       second_root: bytes, proof: Sequence[bytes]) -> bool:
    """Does ``proof`` show that the tree of ``first`` leaves (``first_root``) is a prefix of
    the tree of ``second`` leaves (``second_root``)?  RFC 9162 section 2.1.4.2; a tree of 0
    leaves is a prefix of every tree, and equal sizes need equal roots and an empty proof."""
    if not 0 <= first <= second:
        return False
    if first == 0:
        return not proof and (second > 0 or second_root == first_root)
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: the old root is a node of the new tree
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = hasher.node(c, fr)
            sr = hasher.node(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hasher.node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0
