"""A small plant for service tests: park → enterprise → site with a few meters."""

from dataclasses import dataclass

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from nengtan.services import ingest, meters, org

US = 1_000_000
T0 = 1_735_660_800 * US  # 2024-12-31T16:00Z = 2025-01-01 00:00 Asia/Shanghai
Q = 900 * US


@dataclass
class Plant:
    engine: object
    ids: dict[str, int]

    def ingest(self, code, ts, values, quality=None, reason=None, unit=None, source="test"):
        n = len(ts)
        batch = ingest.ReadingBatch(
            np.full(n, self.ids[code]), np.asarray(ts, np.int64), np.asarray(values, float),
            None if quality is None else np.asarray(quality),
            None if reason is None else np.asarray(reason, dtype=object),
            None if unit is None else np.asarray(unit, dtype=object))
        with self.engine.begin() as conn:
            return ingest.ingest(conn, batch, source)

    def scalar(self, sql, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def rows(self, sql, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).all()

    def hours(self, code=None):
        """rollup_hour rows as (meter code, day, value, coverage, flags) with numpy arrays."""
        from sqlalchemy import select

        from nengtan.store.models import Meter, RollupHour

        codes = {v: k for k, v in self.ids.items()}
        with Session(self.engine) as s:
            q = select(RollupHour).order_by(RollupHour.meter_id, RollupHour.day)
            if code is not None:
                q = q.where(RollupHour.meter_id == self.ids[code])
            out = []
            for r in s.scalars(q):
                cov = np.full(24, 3600) if r.coverage is None else r.coverage
                flags = np.zeros(24) if r.flags is None else r.flags
                out.append((codes.get(r.meter_id, r.meter_id), str(r.day),
                            np.nan_to_num(r.value, nan=-1).tolist(), list(cov), list(flags)))
            _ = Meter
            return out

    def tail(self, code):
        from sqlalchemy import select

        from nengtan.store.models import MeterTail

        with Session(self.engine) as s:
            return s.scalar(select(MeterTail).where(MeterTail.meter_id == self.ids[code]))


@pytest.fixture
def plant(engine):
    with Session(engine) as s, s.begin():
        org.create(s, {"code": "P", "name_zh": "示范园区", "kind": "park"})
        org.create(s, {"code": "E1", "name_zh": "一号企业", "kind": "enterprise", "parent": "P"})
        org.create(s, {"code": "S1", "name_zh": "一号厂区", "kind": "site", "parent": "E1"})
        ids = {}
        for payload in (
            {"code": "MAIN", "name_zh": "进线总表", "unit": "kWh", "multiplier": 80, "level": 1},
            {"code": "SUB", "name_zh": "车间分表", "unit": "Wh", "level": 2},
            {"code": "INT", "name_zh": "区间表", "unit": "kWh", "register": "interval"},
            {"code": "WRAP", "name_zh": "翻转表", "unit": "kWh", "rollover_at": 100000},
        ):
            m = meters.create(s, {"node": "S1", "carrier": "electricity", **payload})
            ids[m.code] = m.id
    return Plant(engine, ids)


def quarter_hours(n, start=T0):
    return start + np.arange(n, dtype=np.int64) * Q
