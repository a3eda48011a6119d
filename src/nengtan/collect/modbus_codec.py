"""Modbus register decoding and read planning, without I/O.

Modbus carries 16-bit registers, each sent most significant byte first (Modbus Application
Protocol Specification V1.1b3 §4.2, "big-Endian representation ... for addresses and data
items").  How a 32- or 64-bit value is spread over several registers is not standardised, so
every point says:

* ``word_order`` — ``big``: the most significant register comes first (lowest address);
  ``little``: the least significant register comes first ("word swap").
* ``byte_order`` — ``big``: the register's bytes as the protocol sends them; ``little``: the
  two bytes of every register swapped ("byte swap").

In the letter notation of many meter manuals, with ``A`` the most significant byte of a
32-bit value: ``ABCD`` = big/big, ``CDAB`` = word little, ``BADC`` = byte little,
``DCBA`` = both little.  Floats are IEEE 754 binary32/binary64.

A register value is an int in ``0..65535``.  A point's value is ``raw × scale + offset`` in
the point's engineering unit (the tag map may convert it further to the meter's unit).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

Order = Literal["big", "little"]

#: type → (registers, struct format)
TYPES: dict[str, tuple[int, str]] = {
    "int16": (1, "h"), "uint16": (1, "H"),
    "int32": (2, "i"), "uint32": (2, "I"), "float32": (2, "f"),
    "int64": (4, "q"), "uint64": (4, "Q"), "float64": (4, "d"),
}
DataType = Literal["int16", "uint16", "int32", "uint32", "float32", "int64", "uint64", "float64"]

#: Quantity limit of one Read Holding/Input Registers request (function codes 0x03 and 0x04:
#: "1 to 125 (0x7D)", Modbus Application Protocol Specification V1.1b3 §6.3, §6.4).
MAX_READ = 125

#: Exception codes, named as in the Modbus Application Protocol Specification V1.1b3 §7.
EXCEPTIONS = {
    0x01: "ILLEGAL FUNCTION", 0x02: "ILLEGAL DATA ADDRESS", 0x03: "ILLEGAL DATA VALUE",
    0x04: "SERVER DEVICE FAILURE", 0x05: "ACKNOWLEDGE", 0x06: "SERVER DEVICE BUSY",
    0x08: "MEMORY PARITY ERROR", 0x0A: "GATEWAY PATH UNAVAILABLE",
    0x0B: "GATEWAY TARGET DEVICE FAILED TO RESPOND",
}
#: A gateway answering with these codes says the device behind it is unreachable: for us the
#: device did not answer (it counts towards "offline"), unlike the other exceptions, which
#: come from a device that is there but refuses the request.
UNREACHABLE = frozenset({0x0A, 0x0B})


def registers_of(type_: str) -> int:
    return TYPES[type_][0]


def exception_name(code: int) -> str:
    return f"{EXCEPTIONS.get(code, 'UNKNOWN EXCEPTION')} (0x{code:02X})"


def to_bytes(registers: Sequence[int], word_order: Order = "big",
             byte_order: Order = "big") -> bytes:
    """The value's bytes, most significant first, from registers in device order."""
    regs = list(registers)
    if any(not 0 <= r <= 0xFFFF for r in regs):
        raise ValueError(f"registers must be 0..65535: {regs}")
    if byte_order == "little":
        regs = [((r & 0xFF) << 8) | (r >> 8) for r in regs]
    if word_order == "little":
        regs.reverse()
    return struct.pack(f">{len(regs)}H", *regs)


def decode(registers: Sequence[int], type_: str, word_order: Order = "big",
           byte_order: Order = "big") -> int | float:
    """The raw number stored in ``registers`` (exactly as many as the type needs)."""
    count, fmt = TYPES[type_]
    if len(registers) != count:
        raise ValueError(f"{type_} needs {count} register(s), got {len(registers)}")
    return struct.unpack(">" + fmt, to_bytes(registers, word_order, byte_order))[0]


def encode(value: float, type_: str, word_order: Order = "big",
           byte_order: Order = "big") -> list[int]:
    """The registers a device holding ``value`` sends (inverse of :func:`decode`)."""
    count, fmt = TYPES[type_]
    regs = list(struct.unpack(f">{count}H", struct.pack(">" + fmt, value)))
    # Both swaps are their own inverse and commute, so undoing them is doing them again.
    if word_order == "little":
        regs.reverse()
    if byte_order == "little":
        regs = [((r & 0xFF) << 8) | (r >> 8) for r in regs]
    return regs


def scaled(raw: float, scale: float = 1.0, offset: float = 0.0) -> float:
    """Engineering value ``raw × scale + offset`` (e.g. a uint32 in 0.01 kWh, scale 0.01)."""
    return float(raw) * scale + offset


def problem(raw: float, value: float, *, low: float | None = None,
            high: float | None = None, invalid: Iterable[float] = ()) -> str | None:
    """Why a decoded value is no reading, or None.

    ``no_value``: the raw value is one the device uses for "not available" (e.g. SunSpec's
    0x8000 for int16, 0xFFFF for uint16); ``not_finite``: NaN or ±inf (a float register, or a
    scale that overflowed); ``out_of_range``: outside the point's ``[low, high]``.
    """
    if any(raw == m for m in invalid):
        return "no_value"
    if not math.isfinite(value):
        return "not_finite"
    if (low is not None and value < low) or (high is not None and value > high):
        return "out_of_range"
    return None


@dataclass(frozen=True)
class Item:
    """One point to read: ``key`` is the caller's (a point name)."""

    key: str
    table: str
    address: int
    count: int


@dataclass
class Block:
    """One read request: ``count`` registers of ``table`` from ``address``; ``items`` are the
    points in it with their offset from ``address``."""

    table: str
    address: int
    count: int
    items: list[tuple[Item, int]] = field(default_factory=list)


def plan(items: Iterable[Item], max_block: int = MAX_READ, max_gap: int = 0) -> list[Block]:
    """Group points into as few reads as possible.

    Points of one table are taken in address order and join the current block while the
    registers between the block's end and the point's start are at most ``max_gap`` (unmapped
    registers read and thrown away; some devices refuse reads that touch a hole in their map,
    so the default is 0) and the block stays within ``max_block`` registers.  Overlapping
    points (one register read as two types) share a block.
    """
    if not 1 <= max_block <= MAX_READ:
        raise ValueError(f"max_block must be 1..{MAX_READ}")
    blocks: list[Block] = []
    current: Block | None = None
    for item in sorted(items, key=lambda i: (i.table, i.address, i.count, i.key)):
        if item.count > max_block:
            raise ValueError(f"{item.key} needs {item.count} registers, more than "
                             f"max_block {max_block}")
        if current is not None and current.table == item.table:
            end = current.address + current.count
            new_end = max(end, item.address + item.count)
            if item.address - end <= max_gap and new_end - current.address <= max_block:
                current.count = new_end - current.address
                current.items.append((item, item.address - current.address))
                continue
        current = Block(item.table, item.address, item.count, [(item, 0)])
        blocks.append(current)
    return blocks
