"""PostgreSQL ``COPY ... (FORMAT binary)`` encoding and decoding with numpy.

Rows of fixed-width fields are laid out as a numpy structured array (big-endian), which makes
building or parsing millions of rows a handful of vectorised assignments instead of a Python
loop per row.  Supported column types:

``bool int2 int4 int8 float8``; ``timestamptz`` from/to int64 µs since the Unix epoch; ``date``
from/to int days since the Unix epoch; ``float8[] int4[] int2[] int8[]`` of a fixed length (2-D numpy
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
           "timestamptz": ">i8", "date": ">i4", "bool": "?"}
_ARRAY_ELEM = {"float8[]": (">f8", 701), "int4[]": (">i4", 23), "int2[]": (">i2", 21),
               "int8[]": (">i8", 20)}


def _be(values, t: str) -> np.ndarray:
    """Column values as big-endian bytes of the PostgreSQL binary representation."""
    arr = np.asarray(values)
    if t == "timestamptz":
        arr = arr.astype(np.int64) - PG_EPOCH_US
    elif t == "date":
        arr = arr.astype(np.int64) - PG_EPOCH_DAYS
    return np.ascontiguousarray(arr, dtype=_SCALAR.get(t) or _ARRAY_ELEM[t][0])


def encode(columns: list[np.ndarray | None], types: list[str]) -> np.ndarray:
    """Rows for ``COPY ... FROM STDIN (FORMAT binary)``, as a 2-D uint8 array (one row each).

    A template row holds the constant bytes (field count, lengths, array headers); the data
    columns are then copied in as pre-swapped big-endian bytes.  Pass the result to
    :func:`copy_in`, which adds the file header and trailer.
    """
    n = next(len(c) for c in columns if c is not None)
    template = bytearray(np.array([len(types)], ">i2").tobytes())
    slots: list[tuple[int, int, int]] = []  # (column index, byte offset, byte width)
    for i, (col, t) in enumerate(zip(columns, types)):
        if t == "null":
            template += np.array([-1], ">i4").tobytes()
        elif t in _SCALAR:
            size = np.dtype(_SCALAR[t]).itemsize
            template += np.array([size], ">i4").tobytes()
            slots.append((i, len(template), size))
            template += bytes(size)
        elif t in _ARRAY_ELEM:
            elem, oid = _ARRAY_ELEM[t]
            size, width = np.dtype(elem).itemsize, col.shape[1]
            template += np.array([20 + width * (4 + size), 1, 0, oid, width, 1], ">i4").tobytes()
            slots.append((i, len(template), width * (4 + size)))
            template += np.tile(np.frombuffer(np.array([size], ">i4").tobytes() + bytes(size),
                                              np.uint8), width).tobytes()
        else:
            raise ValueError(f"unsupported COPY type {t}")
    rows = np.empty((n, len(template)), np.uint8)
    rows[:] = np.frombuffer(bytes(template), np.uint8)
    for i, offset, width in slots:
        t = types[i]
        if t in _SCALAR:
            rows[:, offset:offset + width] = _be(columns[i], t).view(np.uint8).reshape(n, width)
        else:
            elem = _ARRAY_ELEM[t][0]
            cells = rows[:, offset:offset + width].view(
                np.dtype([("len", ">i4"), ("v", elem)]))
            cells["v"] = _be(columns[i], t)
    return rows


def copy_in(cursor, table: str, columns: list[str], rows: np.ndarray, chunk: int = 1 << 20) -> None:
    """``COPY table (columns) FROM STDIN`` of rows made by :func:`encode`."""
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT binary)") as cp:
        cp.write(HEADER)
        if rows.size:
            view = memoryview(np.ascontiguousarray(rows)).cast("B")
            for i in range(0, len(view), chunk):
                cp.write(view[i:i + chunk])
        cp.write(TRAILER)


def copy_out(cursor, query: str, params=None) -> bytes:
    parts: list[bytes] = []
    with cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT binary)", params) as cp:
        for block in cp:
            parts.append(bytes(block))
    return b"".join(parts)


_ELEM = {"int2": ">i2", "int4": ">i4", "int8": ">i8", "float8": ">f8", "date": ">i4",
         "timestamptz": ">i8", "bool": "?"}


def _convert(values: np.ndarray, t: str) -> np.ndarray:
    out = values.astype(np.dtype(_ELEM[t]).newbyteorder("="))
    if t == "timestamptz":
        return out.astype(np.int64) + PG_EPOCH_US
    if t == "date":
        return out.astype(np.int64) + PG_EPOCH_DAYS
    return out


def decode_rows(payload: bytes, types: list[str]) -> list[list]:
    """Rows of a COPY binary payload with variable-length fields.

    ``types`` entries are scalar types (``int4``, ``date``, ...) or arrays written as
    ``"float8[]"`` (any number of dimensions, no NULL elements).  Scalars come back as Python
    numbers (None for NULL), arrays as numpy arrays shaped like the PostgreSQL array.  Meant for
    few, wide rows (one per meter, with ``array_agg``), not millions of narrow ones.
    """
    view = memoryview(payload)
    pos = len(HEADER)
    rows: list[list] = []
    be_i2, be_i4 = np.dtype(">i2"), np.dtype(">i4")
    while True:
        nfields = int(np.frombuffer(view[pos:pos + 2], be_i2)[0])
        pos += 2
        if nfields == -1:
            break
        row = []
        for t in types:
            length = int(np.frombuffer(view[pos:pos + 4], be_i4)[0])
            pos += 4
            if length == -1:
                row.append(None)
                continue
            field = view[pos:pos + length]
            pos += length
            if t.endswith("[]"):
                row.append(_decode_array(field, t[:-2]))
            else:
                row.append(_convert(np.frombuffer(field, _ELEM[t]), t)[0].item())
        rows.append(row)
    return rows


def _decode_array(field: memoryview, elem: str) -> np.ndarray:
    head = np.frombuffer(field[:12], ">i4")
    ndim = int(head[0])
    if ndim == 0:
        return np.empty(0, np.dtype(_ELEM[elem]).newbyteorder("="))
    dims = np.frombuffer(field[12:12 + 8 * ndim], ">i4")[0::2]
    body = field[12 + 8 * ndim:]
    item = np.dtype([("len", ">i4"), ("v", _ELEM[elem])])
    values = np.frombuffer(body, item)["v"]
    return _convert(values, elem).reshape(tuple(int(d) for d in dims))
