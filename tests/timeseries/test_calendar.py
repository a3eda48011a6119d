from datetime import date
from zoneinfo import ZoneInfo

import pytest

from nengtan.timeseries.calendar import (
    HOUR_US,
    check_timezone,
    day_bounds,
    from_us,
    month_bounds,
    to_us,
)


def test_shanghai_days_start_at_16_utc():
    days, bounds = day_bounds(date(2025, 1, 1), date(2025, 1, 2), ZoneInfo("Asia/Shanghai"))
    assert days == [date(2025, 1, 1), date(2025, 1, 2)]
    assert [from_us(b).isoformat() for b in bounds] == [
        "2024-12-31T16:00:00+00:00", "2025-01-01T16:00:00+00:00", "2025-01-02T16:00:00+00:00"]


def test_months_and_daylight_saving_days():
    months, bounds = month_bounds(date(2025, 1, 15), date(2025, 3, 2), ZoneInfo("Asia/Shanghai"))
    assert months == [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)]
    _, dst = day_bounds(date(2025, 3, 9), date(2025, 3, 9), ZoneInfo("America/New_York"))
    assert (dst[1] - dst[0]) == 23 * HOUR_US


def test_timezones_must_have_whole_hour_offsets():
    assert check_timezone("Asia/Shanghai").key == "Asia/Shanghai"
    with pytest.raises(ValueError):
        check_timezone("Asia/Kolkata")
    with pytest.raises(ValueError):
        check_timezone("Mars/Olympus")
    with pytest.raises(ValueError):
        day_bounds(date(2025, 1, 1), date(2025, 1, 1), ZoneInfo("Asia/Kathmandu"))


def test_microsecond_round_trip():
    from datetime import datetime, timezone

    t = datetime(2025, 6, 30, 23, 59, 59, 123456, tzinfo=timezone.utc)
    assert from_us(to_us(t)) == t
