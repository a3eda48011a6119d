"""Demo-park fixtures: the full default build (once per session) and short builds."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from nengtan.demo import build_demo
from nengtan.store.models import (
    EconomicRecord,
    FuelDelivery,
    GapSpan,
    Meter,
    MeterEvent,
    Node,
    Product,
    ProductionRecord,
    QualityEvent,
    Reading,
    RollupDay,
    RollupHour,
    RollupMonth,
)
from nengtan.store.types import to_us

#: A fixed "today" for short builds, so their content does not depend on the day tests run.
SHORT_TODAY = date(2026, 11, 21)
SHORT_START = SHORT_TODAY - timedelta(days=20)


def _short_build(engine, seed: int = 2025):
    return build_demo(engine, today=SHORT_TODAY, seed=seed, start=SHORT_START)


@pytest.fixture
def short_build():
    """Build the 20-day demo window ending on SHORT_TODAY: ``short_build(engine, seed=2025)``."""
    return _short_build


@pytest.fixture
def digest():
    """``digest(engine)``: a SHA-256 per table of the demo content (see content_digest)."""
    return content_digest


def _norm(value):
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        return np.asarray(value, np.float64).tobytes().hex()
    if hasattr(value, "tzinfo") and hasattr(value, "hour"):
        return to_us(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def content_digest(engine) -> dict[str, str]:
    """A SHA-256 per table over the demo content that must not depend on when or where it
    was built (ids are replaced by codes; audit timestamps are left out)."""
    queries = {
        "nodes": select(Node.code, Node.kind, Node.name_zh, Node.path).order_by(Node.code),
        "meters": select(Meter.code, Meter.kind, Meter.level, Meter.carrier_code,
                         Meter.multiplier, Meter.formula).order_by(Meter.code),
        "readings": select(Meter.code, Reading.ts, Reading.value, Reading.quality)
        .join(Meter, Meter.id == Reading.meter_id).order_by(Meter.code, Reading.ts),
        "rollup_hour": select(Meter.code, RollupHour.day, RollupHour.value, RollupHour.coverage,
                              RollupHour.flags, RollupHour.valid_count, RollupHour.raw_count)
        .join(Meter, Meter.id == RollupHour.meter_id).order_by(Meter.code, RollupHour.day),
        "rollup_day": select(Meter.code, RollupDay.day, RollupDay.value, RollupDay.coverage_s,
                             RollupDay.flags)
        .join(Meter, Meter.id == RollupDay.meter_id).order_by(Meter.code, RollupDay.day),
        "rollup_month": select(Meter.code, RollupMonth.month, RollupMonth.value,
                               RollupMonth.coverage_s)
        .join(Meter, Meter.id == RollupMonth.meter_id).order_by(Meter.code, RollupMonth.month),
        "gap_spans": select(Meter.code, GapSpan.start_ts, GapSpan.end_ts, GapSpan.value)
        .join(Meter, Meter.id == GapSpan.meter_id).order_by(Meter.code, GapSpan.start_ts),
        "quality_events": select(Meter.code, QualityEvent.rule, QualityEvent.start_ts,
                                 QualityEvent.end_ts)
        .join(Meter, Meter.id == QualityEvent.meter_id)
        .order_by(Meter.code, QualityEvent.start_ts, QualityEvent.rule),
        "meter_events": select(Meter.code, MeterEvent.ts, MeterEvent.kind,
                               MeterEvent.old_final_value, MeterEvent.new_initial_value)
        .join(Meter, Meter.id == MeterEvent.meter_id).order_by(Meter.code, MeterEvent.ts),
        "production": select(Product.code, ProductionRecord.period_start,
                             ProductionRecord.quantity)
        .join(Product, Product.id == ProductionRecord.product_id)
        .order_by(Product.code, ProductionRecord.period_start),
        "economics": select(EconomicRecord.period_start, EconomicRecord.output_value,
                            EconomicRecord.added_value, Node.code)
        .join(Node, Node.id == EconomicRecord.node_id)
        .order_by(Node.code, EconomicRecord.period_start),
        "fuel_deliveries": select(FuelDelivery.delivered_on, FuelDelivery.carrier_code,
                                  FuelDelivery.quantity, FuelDelivery.ncv,
                                  FuelDelivery.carbon_content_pct, FuelDelivery.report_no)
        .order_by(FuelDelivery.delivered_on, FuelDelivery.carrier_code),
    }
    out = {}
    with Session(engine) as s:
        for name, query in queries.items():
            h = hashlib.sha256()
            for row in s.execute(query):
                h.update(repr(tuple(_norm(v) for v in row)).encode())
            out[name] = h.hexdigest()
    return out
