"""Ranking of product lines and enterprises (园区内对标排名).

Rows are ranked by a key where smaller is better (gap to the benchmark level in %, energy
per 10^4 CNY of output value).  Equal keys share a rank ("1, 2, 2, 4"); rows without a key
(no output, no economic data) come last without a rank.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable


def rank(rows: Iterable[dict], key: Callable[[dict], float | None],
         field: str = "rank") -> list[dict]:
    """``rows`` sorted by ``key`` (ascending) with ``field`` set to the competition rank."""
    def k(r):
        v = key(r)
        return v if v is not None and math.isfinite(v) else None

    rows = list(rows)
    valued = sorted((r for r in rows if k(r) is not None), key=k)
    rest = [r for r in rows if k(r) is None]
    out, previous, current = [], None, 0
    for i, r in enumerate(valued, start=1):
        v = k(r)
        if previous is None or v != previous:
            current, previous = i, v
        out.append({**r, field: current})
    out += [{**r, field: None} for r in rest]
    return out
