"""Products, production output, economic output (产值/增加值) and fuel deliveries.

Records are keyed naturally — a product by code; production by (node, product, period);
economic data by (node, period, price basis) — and :func:`upsert_*` updates a record with the
same key instead of duplicating it, so re-importing a corrected file is safe.  Quantities are
stored in the unit given (which must convert to the product's unit); money in CNY.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from nengtan import units
from nengtan.errors import InputError, Issue, NotFound
from nengtan.services.fields import FieldSpec, coerce_record
from nengtan.store.models import Carrier, EconomicRecord, FuelDelivery, Node, Product, ProductionRecord

PRODUCT_FIELDS = [
    FieldSpec("code", "str", "编码", "code", required=True, max_length=64),
    FieldSpec("name_zh", "str", "名称", "name (Chinese)", required=True, max_length=200),
    FieldSpec("name_en", "str", "英文名称", "name (English)", max_length=200),
    FieldSpec("unit", "unit", "计量单位", "unit", required=True),
    FieldSpec("standard_coefficient", "float", "标准品折算系数", "standard-product coefficient",
              default=1.0, exclusive_minimum=0, help_en="GB/T 2589-2020 4.4"),
    FieldSpec("sector", "str", "行业", "sector", max_length=40),
    FieldSpec("description", "str", "说明", "description"),
]

PRODUCTION_FIELDS = [
    FieldSpec("node", "str", "节点编码", "node code", required=True, ref="node"),
    FieldSpec("product", "str", "产品编码", "product code", required=True, ref="product"),
    FieldSpec("period_start", "date", "期初", "period start", required=True),
    FieldSpec("period_end", "date", "期末", "period end", required=True,
              help_en="inclusive; equal to period_start for a daily record"),
    FieldSpec("quantity", "float", "产量", "quantity", required=True, minimum=0),
    FieldSpec("unit", "unit", "计量单位", "unit", help_en="default: the product's unit"),
    FieldSpec("source", "str", "数据来源", "source", max_length=100),
    FieldSpec("note", "str", "备注", "note"),
]

ECONOMIC_FIELDS = [
    FieldSpec("node", "str", "节点编码", "node code", required=True, ref="node"),
    FieldSpec("period_start", "date", "期初", "period start", required=True),
    FieldSpec("period_end", "date", "期末", "period end", required=True),
    FieldSpec("output_value", "float", "工业总产值", "gross output value", minimum=0, unit="CNY"),
    FieldSpec("added_value", "float", "工业增加值", "value added", unit="CNY"),
    FieldSpec("unit", "unit", "金额单位", "money unit", default="CNY",
              help_en="CNY or 10^4 CNY (万元); stored in CNY"),
    FieldSpec("price_basis", "str", "价格口径", "price basis", default="current", max_length=20,
              help_en="current, or constant_<year> for comparable prices"),
    FieldSpec("source", "str", "数据来源", "source", max_length=100),
    FieldSpec("note", "str", "备注", "note"),
]

FUEL_DELIVERY_FIELDS = [
    FieldSpec("node", "str", "节点编码", "node code", required=True, ref="node"),
    FieldSpec("carrier", "str", "能源品种", "carrier code", required=True, ref="carrier"),
    FieldSpec("delivered_on", "date", "到货日期", "delivered on", required=True),
    FieldSpec("quantity", "float", "数量", "quantity", required=True, exclusive_minimum=0),
    FieldSpec("unit", "unit", "计量单位", "unit", required=True),
    FieldSpec("supplier", "str", "供应商", "supplier", max_length=200),
    FieldSpec("lot_no", "str", "批次号", "lot number", max_length=64),
    FieldSpec("ncv", "float", "收到基低位发热量", "net calorific value (as received)",
              exclusive_minimum=0),
    FieldSpec("ncv_unit", "str", "发热量单位", "NCV unit", max_length=20,
              help_en="energy per quantity, e.g. kJ/kg, MJ/kg, GJ/t, kcal/kg, MJ/m3"),
    FieldSpec("carbon_content_pct", "float", "元素碳含量(%)", "carbon content (%)", minimum=0,
              maximum=100, unit="%"),
    FieldSpec("lab", "str", "检测机构", "laboratory", max_length=200),
    FieldSpec("report_no", "str", "报告编号", "report number", max_length=64),
    FieldSpec("method", "str", "检测方法", "test method", max_length=100,
              help_en="e.g. GB/T 213-2008"),
    FieldSpec("note", "str", "备注", "note"),
]


def _ref(session: Session, model, code, row, field, issues):
    if not code:
        return None
    key = model.code
    obj = session.scalar(select(model).where(key == code))
    if obj is None:
        issues.append(Issue("rule.ref_unknown", row=row, field=field, value=code,
                            params={"ref": model.__tablename__.rstrip("s")}))
    return obj


def _save(session: Session, model, record, values: dict):
    """Create ``model(**values)``, or update ``record`` with ``values`` when it exists."""
    if record is None:
        record = model(**values)
        session.add(record)
    else:
        for k, v in values.items():
            setattr(record, k, v)
    session.flush()
    return record


def _period(data: dict, row, issues) -> None:
    if data.get("period_start") and data.get("period_end") and data["period_end"] < data["period_start"]:
        issues.append(Issue("rule.period", row=row, field="period_end", value=data["period_end"]))


# -- products ------------------------------------------------------------------------------
def upsert_product(session: Session, payload: dict, row: int | None = None) -> Product:
    data = coerce_record(PRODUCT_FIELDS, payload, row)
    product = session.scalar(select(Product).where(Product.code == data["code"]))
    return _save(session, Product, product, data)


def create_product(session: Session, payload: dict, row: int | None = None) -> Product:
    code = payload.get("code")
    if code and session.scalar(select(Product.id).where(Product.code == str(code).strip())):
        raise InputError([Issue("rule.duplicate", row=row, field="code", value=code)])
    return upsert_product(session, payload, row)


# -- production ----------------------------------------------------------------------------
def upsert_production(session: Session, payload: dict, row: int | None = None) -> ProductionRecord:
    data = coerce_record(PRODUCTION_FIELDS, payload, row)
    issues: list[Issue] = []
    node = _ref(session, Node, data["node"], row, "node", issues)
    product = _ref(session, Product, data["product"], row, "product", issues)
    _period(data, row, issues)
    unit = data.get("unit") or (product.unit if product else None)
    if product is not None and unit:
        try:
            units.factor(unit, product.unit)
        except units.UnitError:
            issues.append(Issue("rule.unit_mismatch", row=row, field="unit", value=unit,
                                params={"expected": product.unit}))
    if issues:
        raise InputError(issues)
    record = session.scalar(select(ProductionRecord).where(
        ProductionRecord.node_id == node.id, ProductionRecord.product_id == product.id,
        ProductionRecord.period_start == data["period_start"],
        ProductionRecord.period_end == data["period_end"]))
    values = dict(node_id=node.id, tenant_id=node.tenant_id, product_id=product.id,
                  period_start=data["period_start"], period_end=data["period_end"],
                  quantity=data["quantity"], unit=unit, source=data.get("source"),
                  note=data.get("note"))
    return _save(session, ProductionRecord, record, values)


# -- economic data -------------------------------------------------------------------------
def upsert_economic(session: Session, payload: dict, row: int | None = None) -> EconomicRecord:
    data = coerce_record(ECONOMIC_FIELDS, payload, row)
    issues: list[Issue] = []
    node = _ref(session, Node, data["node"], row, "node", issues)
    _period(data, row, issues)
    try:
        scale = units.factor(data["unit"], "CNY")
    except units.UnitError:
        issues.append(Issue("rule.unit_mismatch", row=row, field="unit", value=data["unit"],
                            params={"expected": "CNY"}))
        scale = 1.0
    if data.get("output_value") is None and data.get("added_value") is None:
        issues.append(Issue("rule.required", row=row, field="output_value", value=None))
    if issues:
        raise InputError(issues)
    record = session.scalar(select(EconomicRecord).where(
        EconomicRecord.node_id == node.id, EconomicRecord.period_start == data["period_start"],
        EconomicRecord.period_end == data["period_end"],
        EconomicRecord.price_basis == data["price_basis"]))
    scaled = lambda v: None if v is None else v * scale  # noqa: E731
    values = dict(node_id=node.id, tenant_id=node.tenant_id, period_start=data["period_start"],
                  period_end=data["period_end"], output_value=scaled(data.get("output_value")),
                  added_value=scaled(data.get("added_value")), price_basis=data["price_basis"],
                  source=data.get("source"), note=data.get("note"))
    return _save(session, EconomicRecord, record, values)


# -- fuel deliveries -----------------------------------------------------------------------
def add_fuel_delivery(session: Session, payload: dict, row: int | None = None) -> FuelDelivery:
    data = coerce_record(FUEL_DELIVERY_FIELDS, payload, row)
    issues: list[Issue] = []
    node = _ref(session, Node, data["node"], row, "node", issues)
    carrier = session.get(Carrier, data["carrier"])
    if carrier is None:
        issues.append(Issue("rule.ref_unknown", row=row, field="carrier", value=data["carrier"],
                            params={"ref": "carrier"}))
    else:
        try:
            units.factor(data["unit"], carrier.unit)
        except units.UnitError:
            issues.append(Issue("rule.unit_mismatch", row=row, field="unit", value=data["unit"],
                                params={"expected": carrier.unit}))
    ncv_per_unit = None
    if data.get("ncv") is not None:
        if not data.get("ncv_unit"):
            issues.append(Issue("rule.required", row=row, field="ncv_unit", value=None))
        else:
            try:
                ncv_per_unit = data["ncv"] * units.ratio_factor(data["ncv_unit"], "MJ", data["unit"])
            except units.UnitError:
                issues.append(Issue("rule.unit_mismatch", row=row, field="ncv_unit",
                                    value=data["ncv_unit"], params={"expected": f"MJ/{data['unit']}"}))
    if issues:
        raise InputError(issues)
    record = FuelDelivery(node_id=node.id, tenant_id=node.tenant_id, carrier_code=carrier.code,
                          ncv_mj_per_unit=ncv_per_unit,
                          **{k: v for k, v in data.items() if k not in ("node", "carrier")})
    session.add(record)
    session.flush()
    return record


#: Names of record kinds in messages ("fuel_deliveries".rstrip("s") would say "fuel_deliverie").
_KIND = {Product: "product", ProductionRecord: "production record",
         EconomicRecord: "economic record", FuelDelivery: "fuel delivery"}


def get(session: Session, model, record_id: int):
    obj = session.get(model, record_id)
    if obj is None:
        raise NotFound(_KIND.get(model, model.__tablename__), record_id)
    return obj


def update_product(session: Session, product_id: int, payload: dict,
                   row: int | None = None) -> Product:
    """Change some fields of a product; a new unit must still fit its production records."""
    product = get(session, Product, product_id)
    data = coerce_record(PRODUCT_FIELDS, payload, row, partial=True)
    issues: list[Issue] = []
    if data.get("code") and data["code"] != product.code and session.scalar(
            select(Product.id).where(Product.code == data["code"])):
        issues.append(Issue("rule.duplicate", row=row, field="code", value=data["code"]))
    if data.get("unit") and data["unit"] != product.unit:
        for unit in session.scalars(select(ProductionRecord.unit).distinct().where(
                ProductionRecord.product_id == product.id)):
            try:
                units.factor(unit, data["unit"])
            except units.UnitError:
                issues.append(Issue("rule.unit_mismatch", row=row, field="unit",
                                    value=data["unit"], params={"expected": unit}))
    if issues:
        raise InputError(issues)
    for k, v in data.items():
        setattr(product, k, v)
    session.flush()
    return product


def delete_product(session: Session, product_id: int) -> None:
    """Delete a product that no production record uses (else 422 naming the table)."""
    product = get(session, Product, product_id)
    if session.scalar(select(ProductionRecord.id).where(
            ProductionRecord.product_id == product.id).limit(1)):
        raise InputError([Issue("rule.has_records", field="id", value=product.code,
                                params={"table": ProductionRecord.__tablename__})])
    session.delete(product)
    session.flush()


def delete(session: Session, model, record_id: int) -> None:
    """Delete a production, economic or fuel-delivery record (nothing depends on them)."""
    session.delete(get(session, model, record_id))
    session.flush()
