import numpy as np
import pytest

from nengtan.energy.tou import Period, Schedule, check, parse_hhmm, parse_months

# A Shandong-style industrial schedule (illustrative): summer has a sharp peak at 18-20.
PERIODS = [
    Period((), 0, 480, "valley"), Period((), 480, 600, "flat"), Period((), 600, 1020, "flat"),
    Period((7, 8), 1020, 1080, "peak"), Period((7, 8), 1080, 1200, "sharp"),
    Period(tuple(m for m in range(1, 13) if m not in (7, 8)), 1020, 1200, "peak"),
    Period((), 1200, 1320, "peak"), Period((), 1320, 1440, "flat"),
]


def test_schedule_covers_each_month_once():
    assert check(PERIODS) == []
    assert (1, "hole") in check(PERIODS[1:])
    assert (7, "overlap") in check(PERIODS + [Period((7,), 0, 60, "flat")])


def test_classification_by_month_and_minute():
    s = Schedule(PERIODS)
    assert s.band_at(7, 19 * 60) == "sharp" and s.band_at(1, 19 * 60) == "peak"
    assert s.band_at(3, 3 * 60) == "valley" and s.band_at(3, 23 * 60 + 59) == "flat"
    idx = s.classify(np.array([7, 1]), np.array([19 * 60, 19 * 60]))
    assert [s.bands[i] for i in idx] == ["sharp", "peak"]


def test_periods_may_wrap_midnight():
    s = Schedule([Period((), 1320, 480, "valley"), Period((), 480, 1320, "flat")])
    assert s.band_at(5, 23 * 60) == s.band_at(5, 2 * 60) == "valley"


@pytest.mark.parametrize("bad", ["25:00", "24:30", "7", "aa:bb"])
def test_time_of_day_parsing(bad):
    assert parse_hhmm("24:00") == 1440
    with pytest.raises((ValueError, TypeError)):
        parse_hhmm(bad)


def test_months_parsing():
    assert parse_months("7, 8") == (7, 8) and parse_months("") == ()
    with pytest.raises(ValueError):
        parse_months("13")
