"""Timestamps of whole columns: parse ISO 8601 text to µs, localise, format back.

Readings files hold millions of timestamps, so they are handled as numpy columns: a column
whose cells share one layout (``2025-01-01 00:15:00``, ``2025-01-01T00:15:00+08:00``,
``...Z``) is parsed by numpy in one call; anything else falls back to a per-cell parser that
also accepts what spreadsheets write (``2025/1/1 0:15``).  The semantics are those of
:func:`nengtan.services.fields.parse_datetime` and :func:`~nengtan.services.fields.to_utc`:
a time with an offset is an instant; a time without one is wall-clock time at the site,
converted with the site's timezone (the earlier instant when a wall-clock time repeats).
"""

from __future__ import annotations

import re
import warnings
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np

US = 1_000_000
HOUR_US = 3600 * US
_EPOCH_NAIVE = datetime(1970, 1, 1)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})$")
_LOOSE = re.compile(
    r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"(?:[T\s]+(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,](\d{1,6}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?\s*$", re.IGNORECASE)


class Parsed:
    """A parsed column: ``us`` holds UTC µs where ``aware`` and site wall-clock µs elsewhere;
    ``empty`` and ``bad`` mark cells without a value and cells that are not a time."""

    def __init__(self, n: int):
        self.us = np.zeros(n, np.int64)
        self.aware = np.zeros(n, bool)
        self.empty = np.zeros(n, bool)
        self.bad = np.zeros(n, bool)


def parse_column(cells: list) -> Parsed:
    out = Parsed(len(cells))
    if not cells:
        return out
    if _fast(cells, out):
        return out
    for i, cell in enumerate(cells):
        try:
            value = parse_cell(cell)
        except ValueError:
            out.bad[i] = True
            continue
        if value is None:
            out.empty[i] = True
        elif value.tzinfo is None:
            out.us[i] = (value - _EPOCH_NAIVE) // timedelta(microseconds=1)
        else:
            out.us[i] = (value - _EPOCH) // timedelta(microseconds=1)
            out.aware[i] = True
    return out


def parse_cell(cell) -> datetime | None:
    """One cell as a datetime (naive = site wall-clock time); None if empty."""
    if cell is None:
        return None
    if isinstance(cell, datetime):
        return cell
    if isinstance(cell, date):
        return datetime(cell.year, cell.month, cell.day)
    text = str(cell).strip()
    if not text:
        return None
    m = _LOOSE.match(text)
    if m is None:
        raise ValueError(text)
    y, mo, d, h, mi, s, frac, off = m.groups()
    value = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0),
                     int((frac or "0").ljust(6, "0")))
    if off:
        value = value.replace(tzinfo=_tz_of(off))
    return value


def _tz_of(text: str) -> timezone:
    if text.upper() == "Z":
        return timezone.utc
    m = _OFFSET.match(text)
    sign = -1 if m.group(1) == "-" else 1
    return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))


def _tail_length(text: str) -> int:
    """Length of the UTC offset (``Z``, ``+08:00``, ``+0800``) ending ``text``, else 0."""
    if text[-1:] in ("Z", "z"):
        return 1
    m = _OFFSET.search(text)
    return len(text) - m.start() if m and m.start() >= 16 else 0


def _fast(cells: list, out: Parsed) -> bool:
    """Parse a uniform column with numpy; False (nothing done) if the column is not uniform."""
    first = cells[0]
    if isinstance(first, datetime):
        if not all(type(c) is datetime and c.tzinfo is None for c in cells):
            return False
        out.us[:] = np.array(cells, dtype="datetime64[us]").astype(np.int64)
        return True
    if not isinstance(first, str) or first != first.strip():
        return False
    n = _tail_length(first)
    tail = first[len(first) - n:]
    try:
        if n:
            if {c[-n:] for c in cells} != {tail}:
                return False
            body = [c[:-n] for c in cells]
        else:
            body = cells
        # numpy also reads "2025", "today" and "now"; a real timestamp is a full date at least.
        if min(map(len, body)) < 10:
            return False
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # an offset in a cell makes numpy warn: not uniform
            parsed = np.array(body, dtype="datetime64[us]")
    except (ValueError, TypeError, Warning):
        return False
    if np.isnat(parsed).any():
        return False
    us = parsed.astype(np.int64)
    if tail:
        offset = _tz_of(tail).utcoffset(None)
        us = us - offset // timedelta(microseconds=1)
        out.aware[:] = True
    out.us[:] = us
    return True


def localise(wall_us: np.ndarray, tz: ZoneInfo) -> np.ndarray:
    """UTC µs of site wall-clock µs in ``tz`` (as :func:`fields.to_utc`: fold 0 when a
    wall-clock time repeats, the offset before the change when it is skipped)."""
    if not len(wall_us):
        return wall_us.astype(np.int64)

    def offset(us: int) -> int:
        local = (_EPOCH_NAIVE + timedelta(microseconds=us)).replace(tzinfo=tz)
        return local.utcoffset() // timedelta(microseconds=1)

    return wall_us - _offsets(wall_us, offset)


def utc_offsets(utc_us: np.ndarray, tz: ZoneInfo) -> np.ndarray:
    """The UTC offset (µs) of ``tz`` at each instant."""

    def offset(us: int) -> int:
        return (_EPOCH + timedelta(microseconds=us)).astimezone(tz).utcoffset() \
            // timedelta(microseconds=1)

    return _offsets(utc_us, offset)


def _offsets(us: np.ndarray, offset) -> np.ndarray:
    """``offset`` of every element, computed once per hour: offsets change at most once in an
    hour, and where the start and end of an hour differ each element gets its own."""
    hours, inverse = np.unique(us // HOUR_US, return_inverse=True)
    start = np.array([offset(int(h) * HOUR_US) for h in hours], np.int64)
    end = np.array([offset(int(h) * HOUR_US + HOUR_US - 1) for h in hours], np.int64)
    out = start[inverse]
    changing = np.flatnonzero((start != end)[inverse])
    for i in changing:
        out[i] = offset(int(us[i]))
    return out


def format_column(utc_us: np.ndarray, tz: ZoneInfo) -> list[str]:
    """ISO 8601 in the site's time with its offset (``2025-01-01T00:15:00+08:00``), or with
    ``Z`` where the offset is zero; seconds, or microseconds when any value has them."""
    if not len(utc_us):
        return []
    offsets = utc_offsets(utc_us, tz)
    local = (utc_us + offsets).astype("datetime64[us]")
    unit = "s" if not (utc_us % US).any() else "us"
    body = np.datetime_as_string(local, unit=unit).tolist()
    distinct, inverse = np.unique(offsets, return_inverse=True)
    suffixes = [_suffix(int(o)) for o in distinct]
    if len(distinct) == 1:
        suffix = suffixes[0]
        return [b + suffix for b in body]
    return [b + suffixes[i] for b, i in zip(body, inverse.tolist())]


def format_instant(value: datetime, tz: ZoneInfo) -> str:
    """One aware datetime as :func:`format_column` writes it."""
    us = (value - _EPOCH) // timedelta(microseconds=1)
    return format_column(np.array([us], np.int64), tz)[0]


def _suffix(offset_us: int) -> str:
    if offset_us == 0:
        return "Z"
    sign = "-" if offset_us < 0 else "+"
    minutes = abs(offset_us) // (60 * US)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
