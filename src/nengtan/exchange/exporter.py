"""Exporting each kind in the layout the importer reads, and empty templates.

An export imported into an empty database reproduces the data: codes instead of ids, times
with their offset in the site's timezone, readings as stored (raw register or interval values
in the meter's unit, before the multiplier), money in CNY.  Headers are the field names
(``lang="en"``) or the Chinese labels (``lang="zh-CN"``); values are language-neutral codes
(``enterprise``, ``cumulative``, ``measured``) in both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from nengtan.errors import InputError, Issue
from nengtan.exchange import timeparse, writers
from nengtan.exchange.kinds import BY_NAME, KINDS, QUALITY_NAMES, Kind
from nengtan.exchange.tables import FORMATS
from nengtan.i18n import normalise_language
from nengtan.services import meters as meter_service
from nengtan.services import org
from nengtan.services.fields import to_utc
from nengtan.services.meter_specs import effective_timezones
from nengtan.store.models import (
    EconomicRecord,
    FuelDelivery,
    Meter,
    MeterEvent,
    Node,
    Product,
    ProductionRecord,
)
from nengtan.store.readings_store import store_for
from nengtan.store.types import to_us

#: Readings are read per meter in windows of this many days, to bound memory.
_WINDOW_US = 92 * 86_400 * 1_000_000


def template(kind: str, fmt: str = "csv", lang: str = "zh-CN") -> bytes:
    """An empty import file: the header row (xlsx: and the README sheet)."""
    k, fmt, lang = _check(kind, fmt, lang)
    return _write(k, fmt, lang, iter(()))


def export(engine: Engine, kind: str, fmt: str = "csv", lang: str = "en", *,
           template: bool = False, meters: list[str] | None = None,
           start: datetime | None = None, end: datetime | None = None,
           limit: Callable[[Session], None] | None = None) -> bytes:
    """All records of ``kind`` as a file the importer reads back.

    ``meters`` (codes) filters meters, meter events and readings; ``start``/``end`` ([start,
    end); a time without an offset is read in each meter's site timezone) filter meter events
    and readings.  ``template=True`` gives the empty template instead.  ``limit`` prepares the
    session every record is read through (the API binds the caller's tenant filter to it:
    every kind is read with ORM queries, readings by the ids of the meters found that way).
    """
    k, fmt, lang = _check(kind, fmt, lang)
    if template:
        return _write(k, fmt, lang, iter(()))
    with engine.connect() as conn, Session(bind=conn) as session:
        if limit is not None:
            limit(session)
        if meters:
            _check_meters(session, meters)
        rows = _ROWS[k.name](session, conn, meters=meters, start=start, end=end)
        return _write(k, fmt, lang, rows)


def _check(kind: str, fmt: str, lang: str) -> tuple[Kind, str, str]:
    issues = []
    if kind not in KINDS:
        issues.append(Issue("rule.choice", field="kind", value=kind,
                            params={"choices": ", ".join(KINDS)}))
    if fmt not in FORMATS:
        issues.append(Issue("rule.choice", field="format", value=fmt,
                            params={"choices": ", ".join(FORMATS)}))
    if issues:
        raise InputError(issues)
    return BY_NAME[kind], fmt, normalise_language(lang)


def _check_meters(session: Session, codes: list[str]) -> None:
    known = set(session.scalars(select(Meter.code).where(Meter.code.in_(codes))))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InputError([Issue("rule.meter_unknown", field="meters", value=c) for c in unknown])


def _write(kind: Kind, fmt: str, lang: str, rows) -> bytes:
    header = [kind.header(f.name, lang) for f in kind.fields]
    if fmt == "csv":
        return writers.write_csv(header, rows, bom=lang == "zh-CN")
    return writers.write_xlsx(kind, kind.sheet_title(lang), header, kind.fields, rows)


def _values(kind: str, record: dict) -> list:
    return [record.get(f.name) for f in BY_NAME[kind].fields]


# -- record kinds --------------------------------------------------------------------------
def _nodes(session: Session, conn: Connection, **_) -> Iterator[list]:
    nodes = session.scalars(select(Node).order_by(Node.depth, Node.sort_order, Node.code)).all()
    codes = {n.id: n.code for n in nodes}
    for node in nodes:  # parents before children, so the file also reads top-down
        yield _values("nodes", org.as_dict(session, node, codes))


def _meters(session: Session, conn: Connection, meters=None, **_) -> Iterator[list]:
    query = select(Meter).order_by(Meter.code)
    if meters:
        query = query.where(Meter.code.in_(meters))
    codes = meter_service.reference_codes(session)
    for meter in session.scalars(query):
        yield _values("meters", meter_service.as_dict(session, meter, codes))


def _events(session: Session, conn: Connection, meters=None, start=None, end=None,
            **_) -> Iterator[list]:
    query = (select(MeterEvent, Meter.code, Meter.node_id)
             .join(Meter, Meter.id == MeterEvent.meter_id)
             .order_by(Meter.code, MeterEvent.ts, MeterEvent.id))
    if meters:
        query = query.where(Meter.code.in_(meters))
    rows = session.execute(query).all()
    zones = {n: ZoneInfo(z)
             for n, z in effective_timezones(conn, {r.node_id for r in rows}).items()}
    for event, code, node_id in rows:
        tz = zones[node_id]
        if start is not None and event.ts < to_utc(start, tz):
            continue
        if end is not None and event.ts >= to_utc(end, tz):
            continue
        yield _values("meter_events", {
            "meter": code, "ts": timeparse.format_instant(event.ts, tz), "kind": event.kind,
            "old_final_value": event.old_final_value, "new_initial_value": event.new_initial_value,
            "new_multiplier": event.new_multiplier, "note": event.note})


def _products(session: Session, conn: Connection, **_) -> Iterator[list]:
    for p in session.scalars(select(Product).order_by(Product.code)):
        yield _values("products", {f.name: getattr(p, f.name) for f in BY_NAME["products"].fields})


def _production(session: Session, conn: Connection, **_) -> Iterator[list]:
    query = (select(ProductionRecord, Node.code, Product.code)
             .join(Node, Node.id == ProductionRecord.node_id)
             .join(Product, Product.id == ProductionRecord.product_id)
             .order_by(ProductionRecord.period_start, Node.code, Product.code,
                       ProductionRecord.period_end))
    for rec, node, product in session.execute(query):
        yield _values("production", {
            "node": node, "product": product, "period_start": rec.period_start,
            "period_end": rec.period_end, "quantity": rec.quantity, "unit": rec.unit,
            "source": rec.source, "note": rec.note})


def _economics(session: Session, conn: Connection, **_) -> Iterator[list]:
    query = (select(EconomicRecord, Node.code).join(Node, Node.id == EconomicRecord.node_id)
             .order_by(EconomicRecord.period_start, Node.code, EconomicRecord.period_end,
                       EconomicRecord.price_basis))
    for rec, node in session.execute(query):
        yield _values("economics", {
            "node": node, "period_start": rec.period_start, "period_end": rec.period_end,
            "output_value": rec.output_value, "added_value": rec.added_value, "unit": "CNY",
            "price_basis": rec.price_basis, "source": rec.source, "note": rec.note})


def _fuel_deliveries(session: Session, conn: Connection, **_) -> Iterator[list]:
    query = (select(FuelDelivery, Node.code).join(Node, Node.id == FuelDelivery.node_id)
             .order_by(FuelDelivery.delivered_on, Node.code, FuelDelivery.id))
    for rec, node in session.execute(query):
        values = {f.name: getattr(rec, f.name, None) for f in BY_NAME["fuel_deliveries"].fields}
        values.update(node=node, carrier=rec.carrier_code)
        yield _values("fuel_deliveries", values)


# -- readings ------------------------------------------------------------------------------
def _readings(session: Session, conn: Connection, meters=None, start=None, end=None,
              **_) -> Iterator[list]:
    """Long layout, by meter code then time; times in each meter's site timezone."""
    query = select(Meter.id, Meter.code, Meter.unit, Meter.node_id, Meter.tenant_id).where(
        Meter.kind != "virtual").order_by(Meter.code)
    if meters:
        query = query.where(Meter.code.in_(meters))
    rows = session.execute(query).all()
    zones = effective_timezones(conn, {r.node_id for r in rows})
    store = store_for(conn)
    extents = store.reading_extent([r.tenant_id for r in rows], [r.id for r in rows])
    for m in rows:
        if m.id not in extents:
            continue
        tz = ZoneInfo(zones[m.node_id])
        lo, hi = extents[m.id][0], extents[m.id][1] + 1
        if start is not None:
            lo = max(lo, to_us(to_utc(start, tz)))
        if end is not None:
            hi = min(hi, to_us(to_utc(end, tz)))
        for a in range(lo, hi, _WINDOW_US):
            got, reasons = store.fetch(np.array([m.id]), np.array([a]),
                                       np.array([min(a + _WINDOW_US, hi)]), with_reason=True)
            if not len(got):
                continue
            times = timeparse.format_column(got.ts, tz)
            quality = [QUALITY_NAMES[q] for q in got.quality.tolist()]
            reasons = reasons if reasons is not None else [None] * len(got)
            for t, v, q, why in zip(times, got.value.tolist(), quality, reasons):
                yield [m.code, t, v, m.unit, q, why]


_ROWS = {
    "nodes": _nodes, "meters": _meters, "meter_events": _events, "products": _products,
    "production": _production, "economics": _economics, "fuel_deliveries": _fuel_deliveries,
    "readings": _readings,
}
