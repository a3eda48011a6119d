"""Column types that behave the same on SQLite and PostgreSQL.

* :class:`UTCDateTime` — an instant.  PostgreSQL ``timestamptz``; SQLite an ``INTEGER`` of
  microseconds since 1970-01-01 UTC (sortable, compact, and fast to bulk-load).  Python sees
  timezone-aware ``datetime`` in UTC; a naive datetime is refused rather than guessed.
* :class:`FloatArray`, :class:`IntArray`, :class:`SmallIntArray`, :class:`BigIntArray` —
  short vectors (the 24 hours of a day in ``rollup_hour``, a meter's last readings in
  ``meter_tails``).  PostgreSQL ``float8[]``/``int4[]``/``int2[]``/``int8[]`` (queryable with
  ``unnest``); SQLite a BLOB of little-endian values.  Python sees ``numpy.ndarray``.
"""

from __future__ import annotations

from datetime import timezone

import numpy as np
from sqlalchemy import BigInteger, DateTime, Float, Integer, LargeBinary, SmallInteger
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeDecorator

from nengtan.timeseries.calendar import from_us, to_us

# Instants as µs since the Unix epoch: one definition, in the engines' calendar module.
__all__ = ["to_us", "from_us", "UTCDateTime", "FloatArray", "IntArray", "SmallIntArray",
           "BigIntArray"]


class UTCDateTime(TypeDecorator):
    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, (int, np.integer)):
            value = from_us(int(value))
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} has no timezone")
        if dialect.name == "sqlite":
            return to_us(value)
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return from_us(value)
        return value.astimezone(timezone.utc)


class _NumpyArray(TypeDecorator):
    impl = LargeBinary
    cache_ok = True
    dtype: str = "<f8"
    pg_item = Float(53)

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ARRAY(self.pg_item, dimensions=1))
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        arr = np.asarray(value, dtype=self.dtype)
        if dialect.name == "postgresql":
            return arr.tolist()
        return arr.tobytes()

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "postgresql":
            return np.asarray(value, dtype=self.dtype)
        return np.frombuffer(value, dtype=self.dtype).copy()


class FloatArray(_NumpyArray):
    cache_ok = True  # SQLAlchemy reads the flag from each class, not inherited
    dtype = "<f8"
    pg_item = Float(53)


class IntArray(_NumpyArray):
    cache_ok = True  # SQLAlchemy reads the flag from each class, not inherited
    dtype = "<i4"
    pg_item = Integer()


class BigIntArray(_NumpyArray):
    cache_ok = True  # SQLAlchemy reads the flag from each class, not inherited
    dtype = "<i8"
    pg_item = BigInteger()


class SmallIntArray(_NumpyArray):
    cache_ok = True  # SQLAlchemy reads the flag from each class, not inherited
    dtype = "<i2"
    pg_item = SmallInteger()
