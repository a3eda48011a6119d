"""Totals and intensity of a node and period (GB/T 2589-2020 clause 4).

* comprehensive energy consumption (综合能耗), tce, by the equivalent-value and the equal-value
  method, with feedstock, exports and renewable electricity apart (:mod:`energy_data`);
* unit-product comprehensive energy consumption (单位产品综合能耗, clause 4.4) = the node's
  comprehensive energy ÷ its output of the product, kgce per product unit; a node making
  several products is given per standard product (标准品: output × standard coefficient), since
  metering does not split the energy between products;
* energy per 10 000 CNY of gross output value (单位产值综合能耗) and of value added (单位增加值
  综合能耗), tce/10^4 CNY, at the price basis asked for (current prices by default).

Production and economic records spanning the period edge are prorated by days (a monthly record
counts 10/31 in a period that holds 10 of its 31 days), and the lineage says so.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Connection, select

from nengtan import units
from nengtan.errors import InputError, Issue, NotFound
from nengtan.services import energy_data
from nengtan.services.energy_data import Period
from nengtan.store.models import EconomicRecord, Node, Product, ProductionRecord

METHOD = "GB/T 2589-2020 4.4 (unit product), 4.5 (per output value); nengtan energy 1"


def _overlap(start: date, end_incl: date, period: Period) -> tuple[int, int]:
    """(days of the record inside the period, days of the record)."""
    total = (end_incl - start).days + 1
    lo, hi = max(start, period.start), min(end_incl + timedelta(days=1), period.end)
    return max((hi - lo).days, 0), total


def _subtree_ids(conn: Connection, node_id: int) -> list[int]:
    path = conn.execute(select(Node.path).where(Node.id == node_id)).scalar()
    if path is None:
        raise NotFound("node", node_id)
    return list(conn.execute(select(Node.id).where(Node.path.startswith(path))).scalars())


def production(conn: Connection, node_id: int, period: Period,
               product_code: str | None = None) -> list[dict]:
    """Output per product of the node's subtree in the period (product unit), prorated."""
    ids = _subtree_ids(conn, node_id)
    q = (select(ProductionRecord.id, ProductionRecord.period_start, ProductionRecord.period_end,
                ProductionRecord.quantity, ProductionRecord.unit, Product.code, Product.name_zh,
                Product.name_en, Product.unit.label("product_unit"),
                Product.standard_coefficient)
         .join(Product, Product.id == ProductionRecord.product_id)
         .where(ProductionRecord.node_id.in_(ids), ProductionRecord.period_start < period.end,
                ProductionRecord.period_end >= period.start))
    if product_code:
        q = q.where(Product.code == product_code)
    out: dict[str, dict] = {}
    for r in conn.execute(q.order_by(Product.code, ProductionRecord.period_start)):
        inside, days = _overlap(r.period_start, r.period_end, period)
        if not inside:
            continue
        qty = r.quantity * units.factor(r.unit, r.product_unit) * inside / days
        p = out.setdefault(r.code, {
            "product": r.code, "name_zh": r.name_zh, "name_en": r.name_en,
            "unit": r.product_unit, "standard_coefficient": r.standard_coefficient,
            "output": 0.0, "records": 0, "prorated_records": 0})
        p["output"] += qty
        p["records"] += 1
        p["prorated_records"] += inside < days
    for p in out.values():
        p["standard_output"] = p["output"] * p["standard_coefficient"]
    return list(out.values())


def economics(conn: Connection, node_id: int, period: Period,
              price_basis: str = "current") -> dict:
    """Gross output value and value added of the node's subtree in the period, CNY."""
    ids = _subtree_ids(conn, node_id)
    rows = conn.execute(select(EconomicRecord.period_start, EconomicRecord.period_end,
                               EconomicRecord.output_value, EconomicRecord.added_value).where(
        EconomicRecord.node_id.in_(ids), EconomicRecord.price_basis == price_basis,
        EconomicRecord.period_start < period.end, EconomicRecord.period_end >= period.start)
    ).all()
    output = added = 0.0
    has_output = has_added = False
    records = prorated = 0
    for r in rows:
        inside, days = _overlap(r.period_start, r.period_end, period)
        if not inside:
            continue
        records += 1
        prorated += inside < days
        if r.output_value is not None:
            output += r.output_value * inside / days
            has_output = True
        if r.added_value is not None:
            added += r.added_value * inside / days
            has_added = True
    return {"output_value_cny": output if has_output else None,
            "added_value_cny": added if has_added else None, "price_basis": price_basis,
            "records": records, "prorated_records": prorated}


def node_totals(conn: Connection, node_id: int, period: Period, compare: bool = True) -> dict:
    """Comprehensive energy consumption of a node for a period, with the previous period
    (环比) and the same period a year earlier (同比) when ``compare``."""
    kept = energy_data.Libraries(conn)
    current = energy_data.node_energy(conn, node_id, period, kept=kept)
    out = current.as_dict()
    if compare:
        for key, other in (("previous", period.previous()), ("year_before",
                                                             period.shifted(years=-1))):
            ne = energy_data.node_energy(conn, node_id, other, bound=current.boundary,
                                         kept=kept)
            base = ne.totals.total_tce
            complete = ne.coverage >= 0.999
            out[key] = {
                "period": other.as_dict(), "total_tce": base,
                "total_tce_equal_value": ne.totals.total_tce_equal_value,
                "coverage": round(ne.coverage, 6), "complete": complete,
                "change_tce": current.totals.total_tce - base,
                "change_pct": ((current.totals.total_tce - base) / base * 100.0
                               if base and complete else None),
            }
    return out


def intensity(conn: Connection, node_id: int, period: Period,
              price_basis: str = "current") -> dict:
    """Energy intensities of a node: per product, per standard product, per 10^4 CNY."""
    ne = energy_data.node_energy(conn, node_id, period)
    tce = ne.totals.total_tce
    tce_eq = ne.totals.total_tce_equal_value
    products = production(conn, node_id, period)
    for p in products:
        # metering does not split a node's energy between its products: per-product figures
        # only where the node makes one product (link a line or workshop otherwise)
        single = len(products) == 1 and p["output"] > 0
        p["kgce_per_unit"] = tce * 1000.0 / p["output"] if single else None
        p["kgce_per_unit_equal_value"] = tce_eq * 1000.0 / p["output"] if single else None
        p["intensity_unit"] = f"kgce/{p['unit']}"
        p["allocated"] = single
    std = None
    std_units = {p["unit"] for p in products}
    if len(products) > 1 and len(std_units) == 1:
        total_std = sum(p["standard_output"] for p in products)
        std = {"standard_output": total_std, "unit": std_units.pop(),
               "kgce_per_standard_unit": tce * 1000.0 / total_std if total_std > 0 else None}
    econ = economics(conn, node_id, period, price_basis)
    ov, av = econ["output_value_cny"], econ["added_value_cny"]
    return {
        "node": ne.boundary.code, "node_id": node_id, "period": period.as_dict(),
        "total_tce": tce, "total_tce_equal_value": tce_eq, "coverage": round(ne.coverage, 6),
        "products": products, "standard_product": std,
        "economics": econ,
        "tce_per_10k_cny_output": tce / (ov / 1e4) if ov else None,
        "tce_per_10k_cny_added": tce / (av / 1e4) if av else None,
        "tce_per_10k_cny_output_equal_value": tce_eq / (ov / 1e4) if ov else None,
        "tce_per_10k_cny_added_equal_value": tce_eq / (av / 1e4) if av else None,
        "lineage": {
            "method": METHOD,
            "energy": "comprehensive energy consumption of the node (see /api/energy/totals)",
            "formulas": {
                "kgce_per_unit": "total_tce × 1000 ÷ output",
                "tce_per_10k_cny_output": "total_tce ÷ (output value ÷ 10 000)",
                "tce_per_10k_cny_added": "total_tce ÷ (value added ÷ 10 000)",
            },
            "proration": "records crossing the period edge count by the share of their days "
                         "inside the period",
        },
    }


def product_intensity(conn: Connection, node_id: int, product_code: str,
                      period: Period) -> dict:
    """Unit product comprehensive energy consumption of one product at a node (kgce/unit).

    When the node makes other products too, the energy is not attributable to one of them
    from metering: ``kgce_per_unit`` is None and ``reason`` says why (link the benchmark to
    the line or workshop that makes only this product).
    """
    if conn.execute(select(Product.id).where(Product.code == product_code)).scalar() is None:
        raise NotFound("product", product_code)
    data = intensity(conn, node_id, period)
    mine = [p for p in data["products"] if p["product"] == product_code]
    base = {"node": data["node"], "node_id": node_id, "product": product_code,
            "period": data["period"], "energy_tce": data["total_tce"],
            "energy_tce_equal_value": data["total_tce_equal_value"],
            "coverage": data["coverage"], "lineage": data["lineage"]}
    if not mine:
        raise InputError([Issue("rule.energy_no_output", field="product", value=product_code,
                                params={"period": period.label})])
    p = mine[0]
    others = [q["product"] for q in data["products"] if q["product"] != product_code]
    out = {**base, "output": p["output"], "output_unit": p["unit"],
           "unit": p["intensity_unit"], "records": p["records"],
           "kgce_per_unit": None if others else p["kgce_per_unit"],
           "kgce_per_unit_equal_value": None if others else p["kgce_per_unit_equal_value"]}
    if others:
        out["reason"] = f"the node also makes {', '.join(others)}"
    return out
