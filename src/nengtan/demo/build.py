"""Write the demo park into an empty database through the services.

The park is simulated first (pure, :mod:`nengtan.demo.model`), then written: organisation
tree, tariff, meters and products in one transaction; readings through the ingestion
pipeline one calendar month of all meters per transaction (≈ 200 000 readings), so rollups
and findings are maintained exactly as for real data; then the register event of the meter
replacement, production, economic data and fuel deliveries; finally the ``demo`` meta key.
"""

from __future__ import annotations

import json
import time as clock
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from nengtan.demo import extras, faults, model, structure
from nengtan.demo.readings import MeterReadings, meter_readings
from nengtan.services import ingest, meters, org, production, tariffs
from nengtan.store import meta
from nengtan.store.models import (
    Carrier,
    EconomicRecord,
    FuelDelivery,
    Meter,
    Node,
    ProductionRecord,
    Reading,
)
from nengtan.timeseries.calendar import from_us, local_midnight_us, next_month

VERSION = 1


@dataclass
class DemoReport:
    """What :func:`build_demo` wrote."""

    today: date
    start: date
    end: date  # last local day with data (the day before ``today``)
    seed: int
    nodes: int
    nodes_by_kind: dict[str, int]
    meters: int
    meters_by_kind: dict[str, int]
    meters_by_level: dict[int, int]
    meters_by_carrier: dict[str, int]
    meters_by_interval: dict[str, int]
    fifteen_minute_electricity_meters: int
    readings: int
    first_reading: datetime | None
    last_reading: datetime | None
    production_records: int
    economic_records: int
    fuel_deliveries: int
    faults: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        out = asdict(self)
        for key in ("today", "start", "end"):
            out[key] = out[key].isoformat()
        for key in ("first_reading", "last_reading"):
            out[key] = out[key].isoformat() if out[key] else None
        out["meters_by_level"] = {str(k): v for k, v in self.meters_by_level.items()}
        out["seconds"] = round(self.seconds, 2)
        return out


def build_demo(engine: Engine, today: date | None = None, seed: int = 2025,
               start: date | None = None) -> DemoReport:
    """Build the demo park into ``engine``'s empty, migrated database.

    Data cover local days ``start`` (default: 1 January of the previous year) to the day
    before ``today`` (default: today in Asia/Shanghai).  The same (today, seed, start) always
    gives the same content.  Raises ValueError if the database already has nodes.
    """
    began = clock.perf_counter()
    tz = ZoneInfo(structure.TIMEZONE)
    today = today or datetime.now(tz).date()
    start = start or date(today.year - 1, 1, 1)
    last = today - timedelta(days=1)
    if start > last:
        raise ValueError(f"demo start {start} must be before today ({today})")
    with Session(engine) as s:
        if s.scalar(select(func.count()).select_from(Node)):
            raise ValueError("the database already has an organisation tree; the demo park "
                             "is only built into an empty database")

    ctx, sim = model.simulate(start, last, seed)
    t0 = local_midnight_us(start, tz)
    readings = {m.code: meter_readings(ctx, sim, m, t0)
                for m in structure.METERS if m.kind != "virtual"}
    planned = faults.plan(ctx.days)
    events = faults.apply(readings, planned)

    with Session(engine) as s, s.begin():
        ids = _write_structure(s, start)
    _ingest(engine, readings, ids, start, today, tz)
    with Session(engine) as s, s.begin():
        for event in events:
            meters.add_event(s, event, created_by="demo")
        _write_records(s, ctx, sim)
    extras.add_all(engine, ctx, ids, start, last, tz)
    with engine.begin() as conn:
        meta.put(conn, "demo", json.dumps({"version": VERSION, "today": today.isoformat(),
                                           "seed": seed, "start": start.isoformat()}))
    report = _report(engine, today, start, last, seed)
    report.faults = [f.as_dict() for f in planned]
    report.seconds = clock.perf_counter() - began
    return report


def _write_structure(s: Session, start: date) -> dict[str, int]:
    if not s.scalar(select(func.count()).select_from(Carrier)):
        meters.seed_carriers(s)
    for node in structure.NODES:
        org.create(s, node.payload())
    tariffs.save(s, structure.tariff_payload(date(start.year, 1, 1)))
    ids = {}
    for m in structure.creation_order():
        ids[m.code] = meters.create(s, m.payload(structure.TARIFF_CODE)).id
    for p in structure.PRODUCTS:
        production.upsert_product(s, {"code": p.code, "name_zh": p.name_zh, "name_en": p.name_en,
                                      "unit": p.unit, "sector": p.sector})
    return ids


def _ingest(engine: Engine, readings: dict[str, MeterReadings], ids: dict[str, int],
            start: date, today: date, tz: ZoneInfo) -> None:
    """One transaction per local calendar month, all meters together."""
    edges = [local_midnight_us(start, tz)]
    month = next_month(start)
    while month <= today:
        edges.append(local_midnight_us(month, tz))
        month = next_month(month)
    edges.append(np.iinfo(np.int64).max)
    series = [(ids[code], r) for code, r in readings.items()]
    cuts = {code: np.searchsorted(r.ts, edges) for code, r in readings.items()}
    for k in range(len(edges) - 1):
        parts = [(mid, r, cuts[r.code][k], cuts[r.code][k + 1]) for mid, r in series]
        parts = [p for p in parts if p[3] > p[2]]
        if not parts:
            continue
        batch = ingest.ReadingBatch(
            meter_id=np.concatenate([np.full(b - a, mid, np.int64) for mid, _, a, b in parts]),
            ts=np.concatenate([r.ts[a:b] for _, r, a, b in parts]),
            value=np.concatenate([r.value[a:b] for _, r, a, b in parts]),
            quality=np.concatenate([np.full(b - a, r.quality, np.int16) for _, r, a, b in parts]),
        )
        label = from_us(int(edges[k])).astimezone(tz).strftime("%Y-%m")
        with engine.begin() as conn:
            ingest.ingest(conn, batch, source="demo", detail=f"nengtan demo park {label}")


def _write_records(s: Session, ctx, sim) -> None:
    for p in structure.PRODUCTS:
        quantity = sim.production[p.code]
        for day, q in zip(ctx.days.dates, quantity):
            production.upsert_production(s, {
                "node": p.node, "product": p.code, "period_start": day, "period_end": day,
                "quantity": float(q), "source": "生产日报（演示数据）"})
    for record in sim.economics:
        production.upsert_economic(s, record)
    for delivery in sim.deliveries:
        production.add_fuel_delivery(s, delivery)


def _report(engine: Engine, today: date, start: date, last: date, seed: int) -> DemoReport:
    with Session(engine) as s:
        kinds = Counter(dict(s.execute(select(Node.kind, func.count()).group_by(Node.kind)).all()))
        rows = s.execute(select(Meter.kind, Meter.level, Meter.carrier_code,
                                Meter.interval_s)).all()
        n_readings, first, latest = s.execute(
            select(func.count(), func.min(Reading.ts), func.max(Reading.ts))).one()
        count = lambda model_: s.scalar(select(func.count()).select_from(model_))  # noqa: E731
        return DemoReport(
            today=today, start=start, end=last, seed=seed,
            nodes=sum(kinds.values()), nodes_by_kind=dict(sorted(kinds.items())),
            meters=len(rows),
            meters_by_kind=dict(sorted(Counter(r.kind for r in rows).items())),
            meters_by_level=dict(sorted(Counter(r.level for r in rows).items())),
            meters_by_carrier=dict(sorted(Counter(r.carrier_code for r in rows).items())),
            meters_by_interval=dict(sorted(Counter(_interval_label(r.interval_s)
                                                   for r in rows).items())),
            fifteen_minute_electricity_meters=sum(
                1 for r in rows if r.carrier_code == "electricity" and r.interval_s == 900
                and r.kind == "physical"),
            readings=int(n_readings), first_reading=first, last_reading=latest,
            production_records=count(ProductionRecord), economic_records=count(EconomicRecord),
            fuel_deliveries=count(FuelDelivery),
        )


def _interval_label(seconds: int) -> str:
    if seconds == 900:
        return "15min"
    if seconds == 86400:
        return "daily"
    if seconds >= 28 * 86400:
        return "monthly"
    return f"{seconds}s"
