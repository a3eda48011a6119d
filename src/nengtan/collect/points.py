"""The common unit of collected data: a columnar batch of tagged points.

A *tag* is the device-side name of a measurement (``gw01/E101.kwh``, ``40001``, ``ns=2;s=Kiln.Coal``);
the adapter's tag map turns it into a target (a meter, or a CEMS monitor parameter).  Times are
µs since the Unix epoch, UTC, like everywhere in the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from nengtan.store.types import to_us


@dataclass
class Points:
    """Points from one message, poll or pull; all arrays have the same length."""

    tag: list[str]
    ts: np.ndarray  # int64 µs UTC
    value: np.ndarray  # float64, as the device reports it (scale/unit applied by the tag map)
    quality: np.ndarray | None = None  # int16 Quality codes; None = all measured
    #: Why a point is not measured (e.g. the device's status code), per point; None = the sink's
    #: generic "rejected at source" text.
    reason: list[str | None] | None = None

    def __len__(self) -> int:
        return len(self.tag)

    @classmethod
    def of(cls, rows: list[tuple[str, datetime | int, float]]) -> Points:
        """Build from ``(tag, ts, value)`` rows; ``ts`` a timezone-aware datetime or µs."""
        tags = [r[0] for r in rows]
        ts = np.array([r[1] if isinstance(r[1], (int, np.integer)) else to_us(r[1]) for r in rows],
                      np.int64)
        return cls(tags, ts, np.array([float(r[2]) for r in rows], np.float64))


@dataclass
class Letter:
    """Input that could not be used, with why.  Becomes a ``dead_letters`` row.

    ``reason`` is a catalogue key under ``dead.`` (``dead.not_json``, ``dead.unknown_tag``,
    ``dead.bad_type``, ``dead.bad_timestamp``, ...); ``detail`` holds its parameters and, for one
    bad point in a good message, the point's index.
    """

    reason: str
    payload: bytes
    source: str
    device: str | None = None
    detail: dict = field(default_factory=dict)


def now_us() -> int:
    return int(datetime.now(UTC).timestamp() * 1_000_000)
