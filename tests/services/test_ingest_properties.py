"""Property: however readings arrive (order, chunks, duplicates), rollups equal a rebuild."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from nengtan.services import ingest, meters, org, rollups
from nengtan.store import db
from nengtan.store.readings_store import store_for

from .conftest import Plant, quarter_hours

scenario = st.fixed_dictionaries({
    "seed": st.integers(min_value=0, max_value=2**31),
    "n": st.integers(min_value=2, max_value=400),
    "chunks": st.integers(min_value=1, max_value=8),
    "drop": st.floats(min_value=0, max_value=0.3),
    "glitches": st.integers(min_value=0, max_value=3),
    "rollover": st.booleans(),
    "shuffle": st.booleans(),
})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario)
def test_incremental_equals_rebuild(tmp_path_factory, case):
    engine = db.make_engine(f"sqlite:///{tmp_path_factory.mktemp('p') / 'p.db'}")
    db.upgrade(engine)
    with Session(engine) as s, s.begin():
        meters.seed_carriers(s)
        org.create(s, {"code": "P", "name_zh": "园区", "kind": "park"})
        meter_id = meters.create(s, {"code": "M", "name_zh": "表", "node": "P",
                                     "carrier": "electricity", "unit": "kWh",
                                     "rollover_at": 10_000 if case["rollover"] else None}).id
    plant = Plant(engine, {"M": meter_id})
    rng = np.random.default_rng(case["seed"])
    n = case["n"]
    values = np.cumsum(rng.uniform(0, 40, n))
    if case["rollover"]:
        values = np.mod(values, 10_000)
    for i in rng.integers(1, n, case["glitches"]):
        values[i] = rng.uniform(0, 1e6)
    ts = quarter_hours(n)
    idx = np.flatnonzero(rng.random(n) >= case["drop"])
    if case["shuffle"]:
        idx = rng.permutation(idx)
    for chunk in np.array_split(idx, case["chunks"]):
        if len(chunk):
            plant.ingest("M", ts[chunk], values[chunk])
    again = idx[: len(idx) // 3]
    if len(again):
        plant.ingest("M", ts[again], values[again])  # duplicates change nothing
    incremental = (plant.hours(), plant.rows("SELECT day, value, coverage_s, flags FROM rollup_day "
                                             "ORDER BY day"),
                   plant.rows("SELECT month, value, coverage_s, flags FROM rollup_month"),
                   plant.rows("SELECT start_ts, end_ts, value FROM gap_spans ORDER BY start_ts"))
    with engine.begin() as conn:
        rollups.rebuild(conn, store_for(conn))
    rebuilt = (plant.hours(), plant.rows("SELECT day, value, coverage_s, flags FROM rollup_day "
                                         "ORDER BY day"),
               plant.rows("SELECT month, value, coverage_s, flags FROM rollup_month"),
               plant.rows("SELECT start_ts, end_ts, value FROM gap_spans ORDER BY start_ts"))
    assert incremental == rebuilt
    assert db.check(engine) == []
    engine.dispose()
    _ = ingest
