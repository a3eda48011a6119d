"""Response dicts for objects whose services have no ``as_dict``: ids and codes side by side."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from nengtan.services.query import iso
from nengtan.store.models import (
    Carrier,
    EconomicRecord,
    FuelDelivery,
    Meter,
    MeterEvent,
    Node,
    Product,
    ProductionRecord,
)
from nengtan.store.types import to_us


def _iso(dt) -> str | None:
    return iso(to_us(dt)) if dt is not None else None


def codes(session: Session, model, ids) -> dict[int, str]:
    """id → code for the given ids of ``model`` (one query for a whole page)."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(model.id, model.code).where(model.id.in_(ids))).all())


def carrier(c: Carrier) -> dict:
    return {"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "unit": c.unit,
            "category": c.category, "is_energy": c.is_energy, "gbt2589_code": c.gbt2589_code,
            "source": c.source, "status": c.status, "builtin": c.builtin,
            "dataset_version": c.dataset_version}


def product(p: Product) -> dict:
    return {"id": p.id, "code": p.code, "name_zh": p.name_zh, "name_en": p.name_en,
            "unit": p.unit, "standard_coefficient": p.standard_coefficient, "sector": p.sector,
            "description": p.description}


def production(session: Session, records: list[ProductionRecord]) -> list[dict]:
    nodes = codes(session, Node, [r.node_id for r in records])
    products = codes(session, Product, [r.product_id for r in records])
    return [{"id": r.id, "node": nodes.get(r.node_id), "node_id": r.node_id,
             "tenant_id": r.tenant_id, "product": products.get(r.product_id),
             "product_id": r.product_id, "period_start": r.period_start,
             "period_end": r.period_end, "quantity": r.quantity, "unit": r.unit,
             "source": r.source, "note": r.note, "created_at": _iso(r.created_at)}
            for r in records]


def economics(session: Session, records: list[EconomicRecord]) -> list[dict]:
    nodes = codes(session, Node, [r.node_id for r in records])
    # money is stored in CNY whatever unit it arrived in, so the answer says CNY
    return [{"id": r.id, "node": nodes.get(r.node_id), "node_id": r.node_id,
             "tenant_id": r.tenant_id, "period_start": r.period_start,
             "period_end": r.period_end, "output_value": r.output_value,
             "added_value": r.added_value, "unit": "CNY", "price_basis": r.price_basis,
             "source": r.source, "note": r.note, "created_at": _iso(r.created_at)}
            for r in records]


def fuel_deliveries(session: Session, records: list[FuelDelivery]) -> list[dict]:
    nodes = codes(session, Node, [r.node_id for r in records])
    return [{"id": r.id, "node": nodes.get(r.node_id), "node_id": r.node_id,
             "tenant_id": r.tenant_id, "carrier": r.carrier_code,
             "delivered_on": r.delivered_on, "quantity": r.quantity, "unit": r.unit,
             "supplier": r.supplier, "lot_no": r.lot_no, "ncv": r.ncv, "ncv_unit": r.ncv_unit,
             "ncv_mj_per_unit": r.ncv_mj_per_unit, "carbon_content_pct": r.carbon_content_pct,
             "lab": r.lab, "report_no": r.report_no, "method": r.method, "note": r.note,
             "created_at": _iso(r.created_at)}
            for r in records]


def meter_events(session: Session, events: list[MeterEvent]) -> list[dict]:
    meters = codes(session, Meter, [e.meter_id for e in events])
    return [{"id": e.id, "meter": meters.get(e.meter_id), "meter_id": e.meter_id,
             "tenant_id": e.tenant_id, "ts": _iso(e.ts), "kind": e.kind,
             "old_final_value": e.old_final_value, "new_initial_value": e.new_initial_value,
             "new_multiplier": e.new_multiplier, "note": e.note, "created_by": e.created_by,
             "created_at": _iso(e.created_at)}
            for e in events]
