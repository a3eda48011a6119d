"""SM3 cryptographic hash (GB/T 32905-2016 《信息安全技术 SM3密码杂凑算法》), pure Python.

Written from the standard, clause by clause, so that a domestic-crypto deployment does not
depend on the SM3 support of the local OpenSSL build:

* clause 4.1 initial value ``IV``; 4.2 constants ``T_j``; 4.3 Boolean functions ``FF_j`` and
  ``GG_j``; 4.4 permutations ``P0`` and ``P1``;
* clause 5.2 padding (a ``1`` bit, zeros, and the 64-bit big-endian message length in bits, to
  a multiple of 512 bits);
* clause 5.3.2 message expansion (``W_0 .. W_67`` and ``W'_0 .. W'_63``);
* clause 5.3.3 compression function ``CF``; 5.4 the 256-bit digest ``V_n``.

The standard's Annex A examples are the test vectors: ``"abc"`` and the 64-byte message
``"abcd" * 16``.  The digest is 32 bytes.  Pure Python hashes roughly 0.1 MB/s; the Merkle log
only hashes short leaves and node pairs, where that is adequate (see :func:`fast_sm3`).
"""

from __future__ import annotations

import hashlib
import struct

_MASK = 0xFFFFFFFF
#: clause 4.1
IV = (0x7380166F, 0x4914B2B9, 0x172442D7, 0xDA8A0600,
      0xA96F30BC, 0x163138AA, 0xE38DEE4D, 0xB0FB0E4E)


def _rotl(x: int, n: int) -> int:
    n %= 32
    return ((x << n) | (x >> (32 - n))) & _MASK


#: clause 4.2: T_j = 79cc4519 (0 <= j <= 15), 7a879d8a (16 <= j <= 63), pre-rotated by j mod 32
#: as used in SS1 (clause 5.3.3).
_T_ROT = tuple(_rotl(0x79CC4519 if j < 16 else 0x7A879D8A, j) for j in range(64))


def _p0(x: int) -> int:  # clause 4.4
    return x ^ _rotl(x, 9) ^ _rotl(x, 17)


def _p1(x: int) -> int:  # clause 4.4
    return x ^ _rotl(x, 15) ^ _rotl(x, 23)


def _pad(message: bytes) -> bytes:
    """clause 5.2: append bit 1, k zero bits with l + 1 + k = 448 mod 512, then l (64 bits)."""
    length = len(message) * 8
    padded = message + b"\x80" + b"\x00" * ((55 - len(message)) % 64)
    return padded + struct.pack(">Q", length)


def _compress(v: tuple[int, ...], block: bytes) -> tuple[int, ...]:
    # clause 5.3.2: message expansion
    w = list(struct.unpack(">16I", block))
    for j in range(16, 68):
        w.append(_p1(w[j - 16] ^ w[j - 9] ^ _rotl(w[j - 3], 15)) ^ _rotl(w[j - 13], 7) ^ w[j - 6])
    w1 = [w[j] ^ w[j + 4] for j in range(64)]
    # clause 5.3.3: compression function CF
    a, b, c, d, e, f, g, h = v
    for j in range(64):
        a12 = _rotl(a, 12)
        ss1 = _rotl((a12 + e + _T_ROT[j]) & _MASK, 7)
        ss2 = ss1 ^ a12
        if j < 16:
            ff, gg = a ^ b ^ c, e ^ f ^ g
        else:
            ff = (a & b) | (a & c) | (b & c)
            gg = (e & f) | (~e & g)
        tt1 = (ff + d + ss2 + w1[j]) & _MASK
        tt2 = (gg + h + ss1 + w[j]) & _MASK
        d, c, b, a = c, _rotl(b, 9), a, tt1
        h, g, f, e = g, _rotl(f, 19), e, _p0(tt2)
    return tuple(x ^ y for x, y in zip((a, b, c, d, e, f, g, h), v))


def sm3(message: bytes) -> bytes:
    """The SM3 digest (32 bytes) of ``message`` (clause 5.4: ``y = V_n``)."""
    padded = _pad(bytes(message))
    v = IV
    for i in range(0, len(padded), 64):
        v = _compress(v, padded[i:i + 64])
    return struct.pack(">8I", *v)


def _openssl_sm3():
    try:
        hashlib.new("sm3", b"")
    except (ValueError, TypeError):
        return None

    def digest(message: bytes) -> bytes:
        return hashlib.new("sm3", message).digest()

    # Trust the library only if it agrees with the standard's own example.
    return digest if digest(b"abc") == sm3(b"abc") else None


_FAST = _openssl_sm3()


def fast_sm3(message: bytes) -> bytes:
    """SM3 by OpenSSL when the local build has it (and reproduces the Annex A example), else
    :func:`sm3`.  The results are identical; tests check both."""
    return _FAST(message) if _FAST is not None else sm3(message)
