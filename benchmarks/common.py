"""What the benchmarks share: a fresh PostgreSQL database and a plant of N meters."""

from __future__ import annotations

import numpy as np
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from nengtan.services import meters, org


def fresh_database(admin_url: str, name: str) -> str:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def setup_meters(engine, n: int, interval: int) -> np.ndarray:
    with Session(engine) as s, s.begin():
        meters.seed_carriers(s)
        org.create(s, {"code": "BENCH-P", "name_zh": "基准园区", "kind": "park", "timezone": "UTC"})
        org.create(s, {"code": "BENCH-E", "name_zh": "基准企业", "kind": "enterprise", "parent": "BENCH-P"})
        org.create(s, {"code": "BENCH-S", "name_zh": "基准厂区", "kind": "site", "parent": "BENCH-E"})
        ids = [meters.create(s, {"code": f"B-{i:05d}", "name_zh": f"表计{i}", "node": "BENCH-S",
                                 "carrier": "electricity", "unit": "kWh", "interval_s": interval,
                                 "level": 3}).id for i in range(n)]
    return np.array(ids, np.int32)
