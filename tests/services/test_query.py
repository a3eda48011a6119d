"""Read side: raw readings, intervals, rollups with units and lineage, status."""

from datetime import date, datetime, timezone

import numpy as np

from nengtan.services import query

from .conftest import T0, quarter_hours


def test_rollups_intervals_and_lineage(plant):
    n = 96 + 1
    plant.ingest("MAIN", quarter_hours(n), 0.25 * np.arange(n))
    with plant.engine.connect() as conn:
        days = query.rollups(conn, plant.ids["MAIN"], "day", date(2025, 1, 1), date(2025, 1, 2))
        assert days["unit"] == "kWh" and days["timezone"] == "Asia/Shanghai"
        assert days["points"] == [{"period": "2025-01-01", "value": 1920.0, "partial_value": None,
                                   "coverage": 1.0, "complete": True, "flags": []}]
        assert days["lineage"]["conversion"]["multiplier"] == 80.0
        hours = query.rollups(conn, plant.ids["MAIN"], "hour", datetime(2025, 1, 1, 0, 0),
                              datetime(2025, 1, 1, 2, 0))
        assert [p["period"] for p in hours["points"]] == ["2025-01-01T00:00:00+08:00",
                                                         "2025-01-01T01:00:00+08:00"]
        assert {p["value"] for p in hours["points"]} == {80.0}
        w = query.window(datetime(2025, 1, 1, 0, 0), datetime(2025, 1, 1, 0, 30),
                         plant_tz := days and __import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
        iv = query.intervals(conn, plant.ids["MAIN"], w)
        assert [i["value"] for i in iv["intervals"]] == [20.0, 20.0]
        raw = query.raw_readings(conn, plant.ids["MAIN"], w)
        assert [r["value"] for r in raw["readings"]] == [0.0, 0.25]
        assert raw["readings"][0]["source"] == "test" and plant_tz
        status = query.status(conn)
        assert status["readings"] == n and status["meters"] == 4
        assert status["first_reading"] == "2024-12-31T16:00:00Z"


def test_hourly_matrix(plant):
    plant.ingest("INT", quarter_hours(8), np.ones(8))
    with plant.engine.connect() as conn:
        ids, hours, value, cov = query.hourly_matrix(conn, [plant.ids["INT"]], 20088, 20088)
    assert value.shape == (1, 24) and value[0, 16:18].tolist() == [4.0, 4.0]
    assert np.isnan(value[0, :16]).all() and cov[0, 16] == 3600
    assert hours[16] == T0
    _ = timezone
