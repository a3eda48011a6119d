"""Short demo builds: determinism, refusal of non-empty databases, PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from nengtan.demo import build_demo
from nengtan.store import db
from nengtan.store.models import Meter, QualityEvent


def _sqlite(tmp_path, name):
    engine = db.make_engine(f"sqlite:///{tmp_path / name}")
    db.upgrade(engine)
    return engine


def test_same_inputs_give_identical_content(tmp_path, short_build, digest):
    a, b = _sqlite(tmp_path, "a.db"), _sqlite(tmp_path, "b.db")
    ra, rb = short_build(a), short_build(b)
    assert ra.readings == rb.readings > 0
    assert digest(a) == digest(b)


def test_another_seed_gives_other_data_in_the_same_park(tmp_path, short_build, digest):
    a, b = _sqlite(tmp_path, "a.db"), _sqlite(tmp_path, "b.db")
    short_build(a, seed=2025)
    short_build(b, seed=7)
    da, db_ = digest(a), digest(b)
    assert da["nodes"] == db_["nodes"] and da["meters"] == db_["meters"]
    assert da["readings"] != db_["readings"]


def test_short_window_holds_every_fault(sqlite_engine, short_build):
    report = short_build(sqlite_engine)
    assert report.start == report.today - timedelta(days=20)
    assert report.end == report.today - timedelta(days=1)
    assert {f["kind"] for f in report.faults} == {"gap", "replacement", "spike", "decrease"}
    with Session(sqlite_engine) as s:
        found = s.execute(select(QualityEvent.origin, Meter.code, QualityEvent.rule).join(
            Meter, Meter.id == QualityEvent.meter_id)).all()
    pipeline = {(code, rule) for origin, code, rule in found if origin == "pipeline"}
    assert pipeline == {("TEX-E-312", "gap"), ("TEX-E-321", "reset_applied"),
                        ("ELE-W-101", "register_decrease")}
    # The demo's quality rules find the planted faults too, and the water network's losses.
    by_rules = {(code, rule) for origin, code, rule in found if origin == "rules"}
    assert by_rules == {("ELE-E-311", "range"), ("TEX-E-312", "missing"),
                        ("CEM-E-190", "stuck"), ("QLP-W-101", "balance")}


def test_refuses_a_database_that_has_nodes(sqlite_engine, short_build):
    short_build(sqlite_engine)
    with pytest.raises(ValueError, match="organisation tree"):
        short_build(sqlite_engine)


def test_refuses_a_window_without_days(sqlite_engine):
    with pytest.raises(ValueError, match="before today"):
        build_demo(sqlite_engine, today=date(2026, 11, 21), start=date(2026, 11, 21))


@pytest.mark.postgres
def test_postgres_build_matches_sqlite(pg_engine, tmp_path, short_build, digest):
    report = short_build(pg_engine)
    assert report.meters >= 80 and report.readings > 20 * 96 * 50
    lite = _sqlite(tmp_path, "lite.db")
    short_build(lite)
    # Same readings, same rollups to the last bit, same findings and records.
    assert digest(pg_engine) == digest(lite)
