"""Monthly range partitions of ``readings`` on PostgreSQL, created on demand.

Partitions are UTC calendar months named ``readings_pYYYYMM``.  Creation takes a transaction
advisory lock so that two ingesting processes never race on the same partition.
"""

from __future__ import annotations

import numpy as np

_LOCK = 7_391_001  # advisory lock key for partition DDL
_known: dict[str, set[str]] = {}


def partition_name(month: np.datetime64) -> str:
    return "readings_p" + str(month.astype("datetime64[M]")).replace("-", "")


def months_of(ts_us: np.ndarray) -> np.ndarray:
    """Distinct UTC months (datetime64[M]) of µs timestamps."""
    return np.unique(np.asarray(ts_us, np.int64).astype("datetime64[us]").astype("datetime64[M]"))


def ensure(cursor, months: np.ndarray, cache_key: str) -> None:
    """Create missing partitions for ``months``; ``cache_key`` identifies the database."""
    known = _known.setdefault(cache_key, set())
    missing = [m for m in months if partition_name(m) not in known]
    if not missing:
        return
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'readings'"
    )
    known.update(r[0] for r in cursor.fetchall())
    missing = [m for m in missing if partition_name(m) not in known]
    if not missing:
        return
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
    for m in missing:
        lo = str(m.astype("datetime64[M]"))
        hi = str((m.astype("datetime64[M]") + 1))
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {partition_name(m)} PARTITION OF readings "
            f"FOR VALUES FROM ('{lo}-01 00:00:00+00') TO ('{hi}-01 00:00:00+00')"
        )
    # Only remember partitions once the creating transaction is known to commit; a rolled-back
    # creation must be retried, so the cache is filled from the catalogue on the next call.


def forget(cache_key: str) -> None:
    _known.pop(cache_key, None)
