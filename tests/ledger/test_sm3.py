"""SM3 against the examples of GB/T 32905-2016 Annex A."""

import pytest

from nengtan.ledger import sm3 as sm3_mod
from nengtan.ledger.sm3 import fast_sm3, sm3


def test_annex_a_example_1_abc():
    # Annex A.1: message "abc" (24 bits)
    assert sm3(b"abc").hex() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")


def test_annex_a_example_2_64_bytes():
    # Annex A.2: "abcd" repeated 16 times (512 bits): padding adds a whole second block
    assert sm3(b"abcd" * 16).hex() == (
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732")


def test_padding_lengths():
    # clause 5.2: l + 1 + k = 448 (mod 512), then 64 bits of length -> whole blocks
    for n in (0, 1, 55, 56, 63, 64, 65, 119, 120):
        padded = sm3_mod._pad(b"x" * n)
        assert len(padded) % 64 == 0
        assert padded[n] == 0x80
        assert int.from_bytes(padded[-8:], "big") == 8 * n
    assert len(sm3_mod._pad(b"x" * 55)) == 64  # 55 bytes + 0x80 + 8 bytes of length
    assert len(sm3_mod._pad(b"x" * 56)) == 128


@pytest.mark.parametrize("n", [0, 1, 33, 64, 65, 200])
def test_fast_path_agrees(n):
    msg = bytes(range(256))[:n] * 3
    assert fast_sm3(msg) == sm3(msg)
    assert len(sm3(msg)) == 32
