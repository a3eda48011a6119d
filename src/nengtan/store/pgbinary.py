"""PostgreSQL ``COPY ... (FORMAT binary)`` encoding and decoding with numpy.

Rows of fixed-width fields are laid out as a numpy structured array (big-endian), which makes
building or parsing millions of rows a handful of vectorised assignments instead of a Python
loop per row.  Supported column types:

``int2 int4 int8 float8``; ``timestamptz`` from/to int64 µs since the Unix epoch; ``date``
from/to int days since the Unix epoch; ``float8[] int4[] int2[]`` of a fixed length (2-D numpy
input, one row per table row, no NULL elements — NaN is a value); ``null`` for a column that is
NULL in every row.
"""

from __future__ import annotations

import numpy as np

HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
#: Microseconds and days between 1970-01-01 and PostgreSQL's epoch 2000-01-01.
PG_EPOCH_US = 946_684_800_000_000
PG_EPOCH_DAYS = 10_957

_SCALAR = {"int2": ">i2", "int4": ">i4", "int8": ">i8", "float8": ">f8",
           "timestamptz": ">i8", "date": ">i4"}
_ARRAY_ELEM = {"float8[]": (">f8", 701), "int4[]": (">i4", 23), "int2[]": (">i2", 21)}


def _record_dtype(types: list[str], width: dict[int, int]) -> np.dtype:
    fields: list[tuple] = [("n", ">i2")]
    for i, t in enumerate(types):
        if t == "null":
            fields.append((f"l{i}", ">i4"))
        elif t in _SCALAR:
            fields += [(f"l{i}", ">i4"), (f"v{i}", _SCALAR[t])]
        elif t in _ARRAY_ELEM:
            elem = _ARRAY_ELEM[t][0]
            fields += [(f"l{i}", ">i4"), (f"h{i}", ">i4", (5,)),
                       (f"a{i}", [("len", ">i4"), ("val", elem)], (width[i],))]
        else:
            raise ValueError(f"unsupported COPY type {t}")
    return np.dtype(fields)


def encode(columns: list[np.ndarray | None], types: list[str]) -> bytes:
    """COPY binary payload for the given columns (``None`` for a ``null`` column)."""
    n = next(len(c) for c in columns if c is not None)
    width = {i: columns[i].shape[1] for i, t in enumerate(types) if t in _ARRAY_ELEM}
    rec = np.empty(n, dtype=_record_dtype(types, width))
    rec["n"] = len(types)
    for i, (col, t) in enumerate(zip(columns, types)):
        if t == "null":
            rec[f"l{i}"] = -1
        elif t in _SCALAR:
            rec[f"l{i}"] = np.dtype(_SCALAR[t]).itemsize
            if t == "timestamptz":
                rec[f"v{i}"] = np.asarray(col, np.int64) - PG_EPOCH_US
            elif t == "date":
                rec[f"v{i}"] = np.asarray(col, np.int64) - PG_EPOCH_DAYS
            else:
                rec[f"v{i}"] = col
        else:
            elem, oid = _ARRAY_ELEM[t]
            size = np.dtype(elem).itemsize
            w = width[i]
            rec[f"l{i}"] = 20 + w * (4 + size)
            rec[f"h{i}"] = (1, 0, oid, w, 1)  # ndim, has_null, element oid, length, lower bound
            rec[f"a{i}"]["len"] = size
            rec[f"a{i}"]["val"] = col
    return HEADER + rec.tobytes() + TRAILER


def decode(payload: bytes, types: list[str], widths: dict[int, int] | None = None) -> list[np.ndarray]:
    """Columns of a COPY binary payload of fixed-width rows (``COPY (query) TO STDOUT``)."""
    body = memoryview(payload)[len(HEADER):]
    if len(body) >= 2 and bytes(body[-2:]) == TRAILER:
        body = body[:-2]
    dtype = _record_dtype(types, widths or {})
    if len(body) % dtype.itemsize:
        raise ValueError("COPY payload is not made of fixed-width rows (a NULL or variable field?)")
    rec = np.frombuffer(body, dtype=dtype)
    out: list[np.ndarray] = []
    for i, t in enumerate(types):
        if t in _SCALAR:
            col = rec[f"v{i}"].astype(np.dtype(_SCALAR[t]).newbyteorder("="))
            if t == "timestamptz":
                col = col.astype(np.int64) + PG_EPOCH_US
            elif t == "date":
                col = col.astype(np.int64) + PG_EPOCH_DAYS
            out.append(col)
        elif t in _ARRAY_ELEM:
            out.append(rec[f"a{i}"]["val"].astype(np.dtype(_ARRAY_ELEM[t][0]).newbyteorder("=")))
        else:
            out.append(np.full(len(rec), None, dtype=object))
    return out


def copy_in(cursor, table: str, columns: list[str], payload: bytes, chunk: int = 1 << 20) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT binary)") as cp:
        view = memoryview(payload)
        for i in range(0, len(view), chunk):
            cp.write(view[i:i + chunk])


def copy_out(cursor, query: str, params=None) -> bytes:
    parts: list[bytes] = []
    with cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT binary)", params) as cp:
        for block in cp:
            parts.append(bytes(block))
    return b"".join(parts)
