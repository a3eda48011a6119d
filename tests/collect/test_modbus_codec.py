"""Known answers for Modbus register decoding, scaling and read planning.

Register values are written in hex as a meter manual shows them, first register (lowest
address) first.  The bit patterns are worked out by hand in the comments (IEEE 754 and
two's complement).
"""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nengtan.collect import modbus_codec as codec
from nengtan.collect.modbus_codec import Item, decode, encode, plan, problem, scaled

# float32 1.0: sign 0, exponent 127 = 0x7F, mantissa 0 → 0 01111111 000… = 0x3F80_0000.
# "ABCD" = word big/byte big, "CDAB" = word little, "BADC" = byte little, "DCBA" = both.
ONE_F32 = {
    ("big", "big"): [0x3F80, 0x0000],
    ("little", "big"): [0x0000, 0x3F80],
    ("big", "little"): [0x803F, 0x0000],
    ("little", "little"): [0x0000, 0x803F],
}


@pytest.mark.parametrize(("order", "regs"), ONE_F32.items())
def test_float32_one_in_every_order(order, regs):
    word, byte = order
    assert decode(regs, "float32", word, byte) == 1.0
    assert encode(1.0, "float32", word, byte) == regs


@pytest.mark.parametrize(("regs", "value"), [
    ([0xC020, 0x0000], -2.5),        # 2.5 = 1.25·2¹: 1 10000000 0100… = 0xC020_0000
    ([0x47F1, 0x2000], 123456.0),    # 123456 = 1.8837890625·2¹⁶: exp 143 = 0x8F,
                                     # mantissa 0.8837890625·2²³ = 0x71_2000 → 0x47F1_2000
    ([0x0000, 0x0000], 0.0),
])
def test_float32_known_values(regs, value):
    assert decode(regs, "float32") == value


def test_float32_specials_decode_as_they_are():
    assert math.isnan(decode([0x7FC0, 0x0000], "float32"))   # quiet NaN
    assert decode([0x7F80, 0x0000], "float32") == math.inf   # exponent all ones, mantissa 0
    assert decode([0xFF80, 0x0000], "float32") == -math.inf


@pytest.mark.parametrize(("regs", "type_", "value"), [
    ([0xFFFF], "int16", -1),
    ([0x8000], "int16", -32768),
    ([0x7FFF], "int16", 32767),
    ([0xFFFF], "uint16", 65535),
    ([0x8000], "uint16", 32768),
    ([0xFFFF, 0xFFFE], "int32", -2),                 # two's complement of 2 = 0xFFFF_FFFE
    ([0xF8A4, 0x32EB], "int32", -123456789),         # 123456789 = 0x075B_CD15; ~ +1 = 0xF8A4_32EB
    ([0xB2D0, 0x5E00], "uint32", 3_000_000_000),     # > 2³¹: 0xB2D0·65536 + 0x5E00
    ([0xB2D0, 0x5E00], "int32", 3_000_000_000 - 2**32),  # same bits read signed
    ([0x075B, 0xCD15], "uint32", 123456789),
    ([0xFFFF] * 4, "int64", -1),
    ([0x0000, 0x0001, 0x2A05, 0xF200], "int64", 5_000_000_000),  # 0x1_2A05_F200
    ([0x8000, 0, 0, 0], "uint64", 2**63),
    ([0x3FF0, 0, 0, 0], "float64", 1.0),             # exponent 1023 = 0x3FF
    ([0x3FB9, 0x9999, 0x9999, 0x999A], "float64", 0.1),
    ([0xC000, 0, 0, 0], "float64", -2.0),
])
def test_known_values_big_endian(regs, type_, value):
    assert decode(regs, type_) == value
    assert encode(value, type_) == regs


def test_word_and_byte_swaps_of_32_and_64_bit_values():
    # uint32 123456789 = 0x075B_CD15
    assert decode([0xCD15, 0x075B], "uint32", "little", "big") == 123456789   # CDAB
    assert decode([0x5B07, 0x15CD], "uint32", "big", "little") == 123456789   # BADC
    assert decode([0x15CD, 0x5B07], "uint32", "little", "little") == 123456789  # DCBA
    # int32 -2 word-swapped: low word 0xFFFE first
    assert decode([0xFFFE, 0xFFFF], "int32", "little") == -2
    # float64 1.0 with the least significant register first
    assert decode([0, 0, 0, 0x3FF0], "float64", "little") == 1.0
    assert decode([0, 0, 0, 0xF03F], "float64", "little", "little") == 1.0
    # int64 5e9 = 0x0000_0001_2A05_F200, word little
    assert decode([0xF200, 0x2A05, 0x0001, 0x0000], "int64", "little") == 5_000_000_000
    # a 16-bit value only has a byte order
    assert decode([0x3412], "uint16", "little", "little") == 0x1234


def test_wrong_register_count_and_range_are_refused():
    with pytest.raises(ValueError, match="float32 needs 2"):
        decode([0x3F80], "float32")
    with pytest.raises(ValueError, match="0..65535"):
        decode([0x1_0000], "uint16")


def test_scale_and_offset():
    # an energy register in 0.01 kWh: 123456789 × 0.01 = 1234567.89 kWh
    assert scaled(123456789, 0.01) == pytest.approx(1234567.89, abs=1e-9)
    # a temperature in 0.1 K: 2981 × 0.1 − 273.15 = 24.95 °C
    assert scaled(2981, 0.1, -273.15) == pytest.approx(24.95, abs=1e-9)
    # a power factor as int16 in 0.001: -850 × 0.001 = -0.85
    assert scaled(decode([0xFCAE], "int16"), 0.001) == pytest.approx(-0.85)  # 0xFCAE = -850
    assert scaled(7) == 7.0


def test_problems():
    assert problem(5, 5.0) is None
    assert problem(0xFFFF, 65535.0, invalid=[0xFFFF]) == "no_value"
    assert problem(-32768, -3276.8, invalid=[-32768]) == "no_value"
    assert problem(math.nan, math.nan) == "not_finite"
    assert problem(1, math.inf) == "not_finite"
    assert problem(1, -math.inf, low=0) == "not_finite"
    assert problem(-1, -1.0, low=0) == "out_of_range"
    assert problem(11, 11.0, low=0, high=10) == "out_of_range"
    assert problem(10, 10.0, low=0, high=10) is None   # bounds are inclusive
    assert problem(0, 0.0, low=0, high=10) is None


def test_exception_names():
    assert codec.exception_name(2) == "ILLEGAL DATA ADDRESS (0x02)"
    assert codec.exception_name(0x0B) == "GATEWAY TARGET DEVICE FAILED TO RESPOND (0x0B)"
    assert codec.exception_name(0x42) == "UNKNOWN EXCEPTION (0x42)"


# -- planning -------------------------------------------------------------------------------

def _blocks(items, **kw):
    return [(b.table, b.address, b.count, [(i.key, off) for i, off in b.items])
            for b in plan(items, **kw)]


def test_adjacent_points_share_one_read():
    items = [Item("a", "holding", 0, 1), Item("b", "holding", 1, 2), Item("c", "holding", 3, 1)]
    assert _blocks(items) == [("holding", 0, 4, [("a", 0), ("b", 1), ("c", 3)])]


def test_gaps_split_unless_allowed():
    items = [Item("a", "holding", 0, 2), Item("d", "holding", 8, 2)]  # registers 2..7 unmapped
    assert _blocks(items) == [("holding", 0, 2, [("a", 0)]), ("holding", 8, 2, [("d", 0)])]
    assert _blocks(items, max_gap=5) == _blocks(items)      # the gap is 6 registers
    assert _blocks(items, max_gap=6) == [("holding", 0, 10, [("a", 0), ("d", 8)])]


def test_tables_are_read_apart_and_in_order():
    items = [Item("i", "input", 0, 1), Item("h2", "holding", 5, 1), Item("h1", "holding", 4, 1)]
    assert _blocks(items) == [("holding", 4, 2, [("h1", 0), ("h2", 1)]),
                              ("input", 0, 1, [("i", 0)])]


def test_reads_hold_at_most_125_registers():
    # Reading through the gap, 0..124 is exactly 125 registers: one read; a float32 at 124
    # needs 124..125: two.
    far = {"max_gap": 124}
    assert len(plan([Item("a", "holding", 0, 1), Item("b", "holding", 124, 1)], **far)) == 1
    assert len(plan([Item("a", "holding", 0, 1), Item("b", "holding", 124, 2)], **far)) == 2
    run = [Item(f"p{k}", "input", 1000 + k, 1) for k in range(200)]
    assert [(b.address, b.count) for b in plan(run)] == [(1000, 125), (1125, 75)]
    assert [(b.address, b.count) for b in plan(run, max_block=64)] == [
        (1000, 64), (1064, 64), (1128, 64), (1192, 8)]


def test_overlapping_points_share_registers():
    items = [Item("signed", "holding", 7, 1), Item("unsigned", "holding", 7, 1),
             Item("wide", "holding", 6, 2)]
    assert _blocks(items) == [("holding", 6, 2, [("wide", 0), ("signed", 1), ("unsigned", 1)])]


def test_bad_plans_are_refused():
    with pytest.raises(ValueError, match="max_block"):
        plan([], max_block=126)
    with pytest.raises(ValueError, match="needs 4 registers"):
        plan([Item("x", "holding", 0, 4)], max_block=2)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(codec.TYPES)), st.sampled_from(["big", "little"]),
       st.sampled_from(["big", "little"]), st.data())
def test_encode_decode_round_trip(type_, word, byte, data):
    count, fmt = codec.TYPES[type_]
    regs = data.draw(st.lists(st.integers(0, 0xFFFF), min_size=count, max_size=count))
    value = decode(regs, type_, word, byte)
    if isinstance(value, float) and math.isnan(value):
        return  # NaN payload bits need not survive a float round trip
    assert encode(value, type_, word, byte) == regs
    # the canonical order is what struct reads big-endian
    big = struct.unpack(">" + fmt, struct.pack(f">{count}H", *encode(value, type_)))[0]
    assert big == value
