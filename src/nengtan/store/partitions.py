"""Monthly range partitions of ``readings`` on PostgreSQL, created on demand.

Partitions are UTC calendar months named ``readings_pYYYYMM``.  The catalogue is read on every
call rather than cached: a partition created in a transaction that later rolls back must not be
remembered, and one catalogue query per ingestion call costs about a millisecond.  Creation
takes a transaction advisory lock so that two ingesting processes never race on the same
partition.
"""

from __future__ import annotations

import numpy as np

_LOCK = 7_391_001  # advisory lock key for partition DDL


def partition_name(month: np.datetime64) -> str:
    return "readings_p" + str(month.astype("datetime64[M]")).replace("-", "")


def ensure(cursor, months: np.ndarray) -> None:
    """Create the partitions of ``months`` (datetime64[M]) that do not exist yet."""
    wanted = {partition_name(m): m for m in months}
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'readings' "
        "AND c.relname = ANY(%s)", (list(wanted),))
    missing = sorted(set(wanted) - {r[0] for r in cursor.fetchall()})
    if not missing:
        return
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
    for name in missing:
        m = wanted[name].astype("datetime64[M]")
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF readings "
            f"FOR VALUES FROM ('{m}-01 00:00:00+00') TO ('{m + 1}-01 00:00:00+00')")
