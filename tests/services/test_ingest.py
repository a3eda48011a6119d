"""Ingestion guarantees, on SQLite and PostgreSQL: known answers, idempotency, conflicts kept,
all-or-nothing validation, unit conversion, out-of-order equivalence, concurrency."""

import threading

import numpy as np
import pytest

from nengtan.errors import InputError
from nengtan.services import rollups
from nengtan.store import db
from nengtan.store.readings_store import store_for

from .conftest import Q, T0, US, quarter_hours


def day_values(plant, code):
    return plant.rows("SELECT day, value, coverage_s FROM rollup_day WHERE meter_id = :m ORDER BY day",
                      m=plant.ids[code])


def test_known_answer_with_multiplier_and_local_days(plant):
    # MAIN: register +0.5 kWh per quarter hour, CT×PT 80 → 40 kWh per quarter, 160 kWh per hour.
    n = 96 * 2 + 1
    result = plant.ingest("MAIN", quarter_hours(n), 1000.0 + 0.5 * np.arange(n))
    assert (result.inserted, result.unchanged, result.revised) == (n, 0, 0)
    days = day_values(plant, "MAIN")
    assert [(str(d), v, c) for d, v, c in days] == [
        ("2025-01-01", 3840.0, 86400), ("2025-01-02", 3840.0, 86400)]
    month = plant.rows("SELECT month, value, coverage_s, expected_s FROM rollup_month WHERE meter_id = :m",
                       m=plant.ids["MAIN"])
    assert [(str(a), b, c, d) for a, b, c, d in month] == [("2025-01-01", 7680.0, 172800, 2678400)]
    first_day = plant.hours("MAIN")[0][2]  # UTC day 2024-12-31: local midnight is 16:00 UTC
    assert first_day == [-1] * 16 + [160.0] * 8


def test_units_are_converted_to_the_carrier(plant):
    # SUB counts Wh; the carrier is kWh.  Readings sent in kWh are converted to the meter's Wh.
    plant.ingest("SUB", quarter_hours(5), [0, 250_000, 0.5, 0.75, 1.0],
                 unit=["Wh", "Wh", "kWh", "kWh", "kWh"])
    stored = plant.rows("SELECT value FROM readings WHERE meter_id = :m ORDER BY ts", m=plant.ids["SUB"])
    assert [v for (v,) in stored] == [0, 250_000, 500, 750, 1000]
    assert plant.scalar("SELECT count(*) FROM quality_events WHERE meter_id = :m "
                        "AND rule = 'register_glitch'", m=plant.ids["SUB"]) == 1


def test_resending_is_idempotent_in_any_order(plant):
    ts, values = quarter_hours(200), 10.0 * np.arange(200)
    plant.ingest("MAIN", ts, values)
    before = day_values(plant, "MAIN")
    order = np.random.default_rng(3).permutation(200)
    again = plant.ingest("MAIN", ts[order], values[order])
    assert (again.inserted, again.unchanged, again.revised) == (0, 200, 0)
    assert day_values(plant, "MAIN") == before
    assert plant.scalar("SELECT count(*) FROM readings") == 200
    assert plant.scalar("SELECT count(*) FROM reading_revisions") == 0


def test_out_of_order_chunks_give_the_same_rollups_as_one_batch(plant, engine):
    rng = np.random.default_rng(11)
    n = 96 * 6
    ts = quarter_hours(n)
    values = np.cumsum(rng.uniform(0, 5, n))
    keep = rng.random(n) > 0.05
    order = rng.permutation(np.flatnonzero(keep))
    for chunk in np.array_split(order, 7):
        plant.ingest("MAIN", ts[chunk], values[chunk])
    incremental = (plant.hours(), day_values(plant, "MAIN"))
    with engine.begin() as conn:
        rollups.rebuild(conn, store_for(conn))
    assert (plant.hours(), day_values(plant, "MAIN")) == incremental


def test_a_different_value_is_a_conflict_kept_in_revisions(plant):
    ts = quarter_hours(10)
    first = plant.ingest("MAIN", ts, np.arange(10.0))
    second = plant.ingest("MAIN", ts[4:5], [4.5])
    assert (second.inserted, second.revised) == (0, 1)
    assert plant.scalar("SELECT value FROM readings WHERE meter_id = :m AND ts = :t",
                        m=plant.ids["MAIN"], t=_param(plant, ts[4])) == 4.5
    old = plant.rows("SELECT old_value, new_value, old_batch_id, new_batch_id FROM reading_revisions")
    assert old == [(4.0, 4.5, first.batch_id, second.batch_id)]


def test_duplicates_inside_one_batch_last_wins_and_the_earlier_is_kept(plant):
    ts = quarter_hours(3)
    result = plant.ingest("MAIN", [ts[0], ts[1], ts[1], ts[2]], [0.0, 1.0, 1.5, 2.0])
    assert (result.inserted, result.revised) == (3, 1)
    assert plant.rows("SELECT old_value, new_value FROM reading_revisions") == [(1.0, 1.5)]


@pytest.mark.parametrize("field,kwargs,rule", [
    ("ts", {"ts": [T0, 946_684_000 * US]}, "ts_range"),
    ("value", {"values": [1.0, float("nan")]}, "not_finite"),
    ("quality", {"quality": [0, 7]}, "quality"),
    ("reason", {"quality": [0, 3]}, "reason_required"),
    ("unit", {"unit": ["kWh", "m3"]}, "unit_mismatch"),
])
def test_one_bad_row_rejects_the_whole_batch(plant, field, kwargs, rule):
    args = {"ts": [T0, T0 + Q], "values": [1.0, 2.0]}
    args.update(kwargs)
    with pytest.raises(InputError) as err:
        plant.ingest("MAIN", args.pop("ts"), args.pop("values"), **args)
    issue = err.value.issues[0].as_dict()
    assert (issue["row"], issue["field"], issue["rule"]) == (1, field, rule)
    assert "message_zh" in issue and issue["message"]
    assert plant.scalar("SELECT count(*) FROM readings") == 0
    assert plant.scalar("SELECT count(*) FROM ingest_batches") == 0


def test_rejected_readings_are_stored_with_reason_and_skipped(plant):
    ts = quarter_hours(5)
    plant.ingest("MAIN", ts, [0, 1, 999, 3, 4], quality=[0, 0, 3, 0, 0],
                 reason=[None, None, "瞬时干扰 interference", None, None])
    assert plant.scalar("SELECT reason FROM readings WHERE quality = 3") == "瞬时干扰 interference"
    value = np.array(plant.hours("MAIN")[0][2])
    assert value[value >= 0].sum() == 4 * 80


def test_rollover_and_interval_meters(plant):
    plant.ingest("WRAP", quarter_hours(4), [99_980.0, 99_995.0, 5.0, 20.0])
    assert plant.scalar("SELECT sum(value) FROM rollup_day WHERE meter_id = :m",
                        m=plant.ids["WRAP"]) == 40.0
    plant.ingest("INT", quarter_hours(4), [1.0, 2.0, 3.0, 4.0])
    assert plant.scalar("SELECT value FROM rollup_day WHERE meter_id = :m",
                        m=plant.ids["INT"]) == 10.0


def test_storage_invariants_hold(plant, engine):
    plant.ingest("MAIN", quarter_hours(300), np.arange(300.0))
    plant.ingest("MAIN", quarter_hours(50, T0 + 100 * Q), np.arange(100.0, 150.0))
    assert db.check(engine) == []
    tail = plant.tail("MAIN")
    assert len(tail.ts) == 16 and not tail.complete
    assert tail.ts[-1] == T0 + 299 * Q and tail.value[-1] == 299.0


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_partitions_by_month_and_concurrent_ingest_never_duplicates(plant, engine):
    ts = quarter_hours(96 * 40)  # December 2024 (UTC) to February 2025
    values = np.arange(len(ts), dtype=float)
    errors = []

    def send():
        try:
            plant.ingest("MAIN", ts, values)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(3)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    assert plant.scalar("SELECT count(*) FROM readings") == len(ts)
    assert db.check(engine) == []
    parts = {r[0] for r in plant.rows(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE c.relkind = 'r'")}
    assert parts == {"readings_p202412", "readings_p202501", "readings_p202502"}


def _param(plant, us):
    from nengtan.store.types import from_us

    return int(us) if plant.engine.dialect.name == "sqlite" else from_us(int(us))

