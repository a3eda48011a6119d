"""Bucket boundaries in UTC microseconds.

Hours are UTC hours.  Days and months are local calendar periods in the site's timezone
(DESIGN: store UTC, compute calendar periods in the site's timezone).  Local periods are built
from whole UTC hours, so a timezone must have whole-hour offsets over the period (Asia/Shanghai
and every Chinese zone do); days in zones with daylight saving have 23 or 25 hours.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np

US = 1_000_000
HOUR_US = 3600 * US
DAY_US = 24 * HOUR_US
EPOCH_DATE = date(1970, 1, 1)


def utc_day(us: int) -> int:
    """Days since 1970-01-01 of the UTC day containing ``us``."""
    return int(us // DAY_US)


def day_index(d: date) -> int:
    return (d - EPOCH_DATE).days


def index_date(i: int) -> date:
    return EPOCH_DATE + timedelta(days=int(i))


def to_us(dt: datetime) -> int:
    if dt.tzinfo is None:
        raise ValueError(f"naive datetime {dt.isoformat()}")
    delta = dt - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * US + delta.microseconds


def from_us(us: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=int(us))


def local_midnight_us(d: date, tz: ZoneInfo) -> int:
    return to_us(datetime.combine(d, time(0), tzinfo=tz))


def local_date(us: int, tz: ZoneInfo) -> date:
    return from_us(us).astimezone(tz).date()


def first_of_month(d: date) -> date:
    return d.replace(day=1)


def next_month(d: date) -> date:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


def day_bounds(first: date, last: date, tz: ZoneInfo) -> tuple[list[date], np.ndarray]:
    """Local days first..last (inclusive) and their n+1 boundaries in UTC µs."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    bounds = np.array([local_midnight_us(d, tz) for d in days]
                      + [local_midnight_us(last + timedelta(days=1), tz)], dtype=np.int64)
    _require_whole_hours(bounds, tz)
    return days, bounds


def month_bounds(first: date, last: date, tz: ZoneInfo) -> tuple[list[date], np.ndarray]:
    """Local months from the month of ``first`` to that of ``last`` and their boundaries."""
    months = [first_of_month(first)]
    while months[-1] < first_of_month(last):
        months.append(next_month(months[-1]))
    bounds = np.array([local_midnight_us(m, tz) for m in months]
                      + [local_midnight_us(next_month(months[-1]), tz)], dtype=np.int64)
    _require_whole_hours(bounds, tz)
    return months, bounds


def _require_whole_hours(bounds: np.ndarray, tz: ZoneInfo) -> None:
    if np.any(bounds % HOUR_US):
        raise ValueError(f"timezone {tz.key} has an offset that is not a whole hour; "
                         "local days cannot be built from UTC hours")


def check_timezone(name: str) -> ZoneInfo:
    """A ZoneInfo for ``name``; raises ValueError if unknown or not whole-hour today."""
    try:
        tz = ZoneInfo(name)
    except Exception as exc:  # ZoneInfoNotFoundError, ValueError
        raise ValueError(f"unknown timezone {name!r}") from exc
    offset = datetime.now(tz).utcoffset() or timedelta(0)
    if offset.total_seconds() % 3600:
        raise ValueError(f"timezone {name!r} has a UTC offset that is not a whole hour")
    return tz
