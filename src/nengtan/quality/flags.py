"""Quality codes of readings and flags of derived intervals and rollups.

A raw reading carries one :class:`Quality` (and, when not measured, a reason).  Derived
intervals and rollup buckets carry a bit set of :class:`Flag` telling how their value came
about, so a figure can always say "3 of these 4 hours were estimated".
"""

from __future__ import annotations

from enum import IntEnum, IntFlag
from functools import lru_cache


class Quality(IntEnum):
    MEASURED = 0
    ESTIMATED = 1
    MANUAL = 2
    REJECTED = 3

    @classmethod
    def parse(cls, value: object) -> Quality:
        """Accept the code (0-3) or the name ("measured", "manual", ...)."""
        if isinstance(value, Quality):
            return value
        if isinstance(value, str):
            text = value.strip().lower()
            if text.isdigit():
                return cls(int(text))
            return cls[text.upper()]
        return cls(int(value))  # type: ignore[arg-type]


class Flag(IntFlag):
    #: Part of the value was estimated (gap filled, or an estimated reading).
    ESTIMATED = 1
    #: Part of the value comes from manually entered readings.
    MANUAL = 2
    #: A rejected reading was skipped inside the interval.
    REJECTED_SKIPPED = 4
    #: An interval crossing the bucket boundary was split pro rata by time.
    PRORATED = 8
    #: The register wrapped past ``rollover_at``.
    ROLLOVER = 16
    #: A recorded reset/replacement event was applied.
    RESET = 32
    #: The bucket overlaps a gap (its total may sit in a longer gap span).
    GAP = 64
    #: An interval was excluded because the register decreased without explanation.
    DECREASE_EXCLUDED = 128
    #: An isolated implausible register value was skipped (spike or dip).
    GLITCH_SKIPPED = 256


QUALITY_FLAG = {Quality.ESTIMATED: Flag.ESTIMATED, Quality.MANUAL: Flag.MANUAL}


def flag_names(bits: int) -> list[str]:
    """Names of the flags set in ``bits``, lower-case, for API responses."""
    return list(_flag_names(bits))


@lru_cache(maxsize=1024)  # a few combinations, asked for on every figure
def _flag_names(bits: int) -> tuple[str, ...]:
    return tuple(f.name.lower() for f in Flag if bits & f)  # type: ignore[union-attr]
