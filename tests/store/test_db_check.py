"""`db.check` and `db.reading_counts` name a reading stored twice (possible only on PostgreSQL,
where no unique index guards (meter, ts))."""

from __future__ import annotations

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from nengtan.services import ingest, meters, org
from nengtan.store import db


def test_a_reading_stored_twice_is_named(pg_engine):
    with Session(pg_engine) as s, s.begin():
        org.create(s, {"code": "P", "name_zh": "园区", "kind": "park"})
        meter_id = meters.create(s, {"code": "M", "name_zh": "表", "node": "P",
                                     "carrier": "electricity", "unit": "kWh"}).id
    t0 = 1_767_225_600_000_000  # 2026-01-01T00:00Z
    with pg_engine.begin() as conn:
        ingest.ingest(conn, ingest.ReadingBatch(np.array([meter_id, meter_id]),
                                                np.array([t0, t0 + 900_000_000]),
                                                np.array([1.0, 2.0])), "test")
    assert db.reading_counts(pg_engine) == (2, 2)
    assert db.check(pg_engine) == []
    with pg_engine.begin() as conn:  # what the service never does: the same (meter, ts) again
        conn.execute(text("INSERT INTO readings (tenant_id, meter_id, ts, value, quality, "
                          "batch_id) SELECT tenant_id, meter_id, ts, value, quality, batch_id "
                          "FROM readings WHERE ts = '2026-01-01T00:15Z'"))
    assert db.reading_counts(pg_engine) == (3, 2)
    problems = db.check(pg_engine)
    assert any(p.startswith(f"duplicate reading: meter {meter_id} at ") and p.endswith(
        "stored 2 times") for p in problems), problems
