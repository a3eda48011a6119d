"""Meters, register events and the carriers catalogue.

Changing anything that alters how readings become values (unit, multiplier, register kind,
interval, rollover, gap handling, formula) recomputes the meter's rollups from its raw
readings; recording or deleting a register event recomputes around the event.  A meter that
has readings cannot be deleted (deactivate it instead): no data is ever lost.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from nengtan import reference, units
from nengtan.errors import InputError, Issue, NotFound
from nengtan.services import meter_specs, org, rollups
from nengtan.services.fields import FieldSpec, coerce_record, to_utc
from nengtan.services.meter_specs import effective_timezones
from nengtan.store.models import (
    CARRIER_CATEGORIES,
    EVENT_KINDS,
    METER_KINDS,
    REGISTER_KINDS,
    Carrier,
    Meter,
    MeterEvent,
    Node,
    Reading,
    RollupHour,
    Tariff,
)
from nengtan.store.readings_store import store_for
from nengtan.store.types import to_us
from nengtan.timeseries import formula as formula_engine
from nengtan.timeseries.calendar import DAY_US, day_index

CARRIER_FIELDS = [
    FieldSpec("code", "str", "编码", "code", required=True, max_length=40),
    FieldSpec("name_zh", "str", "名称", "name (Chinese)", required=True, max_length=100),
    FieldSpec("name_en", "str", "英文名称", "name (English)", required=True, max_length=100),
    FieldSpec("unit", "unit", "计量单位", "unit", required=True),
    FieldSpec("category", "choice", "类别", "category", required=True, choices=CARRIER_CATEGORIES),
    FieldSpec("is_energy", "bool", "是否能源", "is energy", default=True),
    FieldSpec("gbt2589_code", "str", "GB/T 2589 编码", "GB/T 2589 code", max_length=40),
    FieldSpec("source", "str", "来源", "source", required=True),
    FieldSpec("status", "choice", "核实状态", "status", default="unverified",
              choices=("verified", "unverified")),
]

METER_FIELDS = [
    FieldSpec("code", "str", "编码", "code", required=True, max_length=64),
    FieldSpec("name_zh", "str", "名称", "name (Chinese)", required=True, max_length=200),
    FieldSpec("name_en", "str", "英文名称", "name (English)", max_length=200),
    FieldSpec("node", "str", "所属节点编码", "node code", required=True, ref="node"),
    FieldSpec("carrier", "str", "能源品种", "carrier code", required=True, ref="carrier"),
    FieldSpec("unit", "unit", "计量单位", "unit", required=True,
              help_en="unit of the register or interval value as the device reports it"),
    FieldSpec("kind", "choice", "类型", "kind", default="physical", choices=METER_KINDS),
    FieldSpec("register", "choice", "读数方式", "register", default="cumulative",
              choices=REGISTER_KINDS),
    FieldSpec("interval_s", "int", "采集间隔(秒)", "interval (s)", default=900, exclusive_minimum=0,
              unit="s"),
    FieldSpec("multiplier", "float", "倍率", "multiplier (CT×PT)", default=1.0,
              exclusive_minimum=0),
    FieldSpec("level", "int", "计量级别", "metering level (GB 17167)", default=3, minimum=1,
              maximum=3),
    FieldSpec("energy_use", "choice", "用能类别", "energy use", default="fuel",
              choices=("fuel", "feedstock"),
              help_en="fuel: consumed as energy; feedstock: raw material (原料用能, GB/T 2589-2020 "
                      "4.2), reported apart from comprehensive energy consumption"),
    FieldSpec("flow_from", "str", "能流起点", "flow from (node code)", ref="node"),
    FieldSpec("flow_to", "str", "能流终点", "flow to (node code)", ref="node"),
    FieldSpec("parent_meter", "str", "上级表计", "parent meter code", ref="meter"),
    FieldSpec("formula", "str", "计算公式", "formula",
              help_en="virtual meters: e.g. {E-101} + {E-102} - {E-103}"),
    FieldSpec("rollover_at", "float", "翻转值", "rollover at", exclusive_minimum=0),
    FieldSpec("gap_threshold_s", "int", "缺测阈值(秒)", "gap threshold (s)", exclusive_minimum=0,
              unit="s"),
    FieldSpec("estimate_gaps", "bool", "缺测估算", "estimate gaps", default=False),
    FieldSpec("tariff", "str", "电价", "tariff code", ref="tariff"),
    FieldSpec("serial_no", "str", "出厂编号", "serial number", max_length=64),
    FieldSpec("installed_on", "date", "安装日期", "installed on"),
    FieldSpec("removed_on", "date", "拆除日期", "removed on"),
    FieldSpec("active", "bool", "启用", "active", default=True),
    FieldSpec("description", "str", "说明", "description"),
]

EVENT_FIELDS = [
    FieldSpec("meter", "str", "表计编码", "meter code", required=True, ref="meter"),
    FieldSpec("ts", "datetime", "时间", "time", required=True,
              help_en="ISO 8601; without an offset it is read in the site's timezone"),
    FieldSpec("kind", "choice", "事件类型", "kind", required=True, choices=EVENT_KINDS),
    FieldSpec("old_final_value", "float", "旧表末读数", "old final reading"),
    FieldSpec("new_initial_value", "float", "新表起始读数", "new initial reading"),
    FieldSpec("new_multiplier", "float", "新倍率", "new multiplier", exclusive_minimum=0),
    FieldSpec("note", "str", "说明", "note"),
]

#: Meter fields whose change alters computed values (a full recompute follows).
_COMPUTATIONAL = {"unit", "register", "interval_s", "multiplier", "rollover_at",
                  "gap_threshold_s", "estimate_gaps", "formula", "carrier", "kind"}


# -- carriers ------------------------------------------------------------------------------
def seed_carriers(session: Session) -> int:
    """Insert shipped carriers that are missing (existing rows are never overwritten)."""
    have = set(session.scalars(select(Carrier.code)))
    added = 0
    for row in reference.carriers():
        if row["code"] not in have:
            session.add(Carrier(**row, builtin=True, dataset_version=reference.DATASET_VERSION))
            added += 1
    session.flush()
    return added


def create_carrier(session: Session, payload: dict, row: int | None = None) -> Carrier:
    data = coerce_record(CARRIER_FIELDS, payload, row)
    if session.get(Carrier, data["code"]) is not None:
        raise InputError([Issue("rule.duplicate", row=row, field="code", value=data["code"])])
    carrier = Carrier(**data, builtin=False, dataset_version="user")
    session.add(carrier)
    session.flush()
    return carrier


# -- meters --------------------------------------------------------------------------------
def get(session: Session, meter_id: int) -> Meter:
    meter = session.get(Meter, meter_id)
    if meter is None:
        raise NotFound("meter", meter_id)
    return meter


def _resolve(session: Session, data: dict, row: int | None, meter: Meter | None) -> dict:
    """Turn codes into ids and check every cross-field rule; raise all issues at once."""
    issues: list[Issue] = []
    out: dict = {}

    def ref(field: str, model, key: str = "code"):
        code = data.get(field)
        if not code:
            return None
        obj = session.scalar(select(model).where(getattr(model, key) == code))
        if obj is None:
            issues.append(Issue("rule.ref_unknown", row=row, field=field, value=code,
                                params={"ref": model.__tablename__.rstrip("s")}))
        return obj

    node = ref("node", Node)
    carrier = ref("carrier", Carrier)
    for field in ("flow_from", "flow_to"):
        if field in data:
            n = ref(field, Node)
            out[f"{field}_node_id"] = n.id if n else None
    if "parent_meter" in data:
        pm = ref("parent_meter", Meter)
        out["parent_meter_id"] = pm.id if pm else None
        if pm is not None and meter is not None and pm.id == meter.id:
            issues.append(Issue("rule.cycle", row=row, field="parent_meter", value=pm.code))
    if "tariff" in data:
        tf = ref("tariff", Tariff)
        out["tariff_id"] = tf.id if tf else None

    code = data.get("code")
    if code and (meter is None or code != meter.code):
        if session.scalar(select(Meter.id).where(Meter.code == code)) is not None:
            issues.append(Issue("rule.duplicate", row=row, field="code", value=code))
    unit = data.get("unit", meter.unit if meter else None)
    carrier_obj = carrier or (session.get(Carrier, meter.carrier_code) if meter else None)
    if unit and carrier_obj is not None:
        try:
            units.factor(unit, carrier_obj.unit)
        except units.UnitError:
            issues.append(Issue("rule.unit_mismatch", row=row, field="unit", value=unit,
                                params={"expected": carrier_obj.unit}))
    kind = data.get("kind", meter.kind if meter else "physical")
    formula = data.get("formula", meter.formula if meter else None)
    if kind == "virtual":
        issues += _check_formula(session, formula, carrier_obj, row, meter)
    elif formula:
        issues.append(Issue("rule.formula_not_virtual", row=row, field="formula", value=formula))
    if data.get("installed_on") and data.get("removed_on") and data["removed_on"] < data["installed_on"]:
        issues.append(Issue("rule.date_order", row=row, field="removed_on", value=data["removed_on"]))
    if issues:
        raise InputError(issues)
    if node is not None:
        out["node_id"] = node.id
        out["tenant_id"] = node.tenant_id
    if carrier is not None:
        out["carrier_code"] = carrier.code
    return out


def _check_formula(session, formula, carrier, row, meter) -> list[Issue]:
    if not formula:
        return [Issue("rule.required", row=row, field="formula", value=None)]
    try:
        parsed = formula_engine.parse(formula)
    except formula_engine.FormulaError as exc:
        return [Issue("rule.formula", row=row, field="formula", value=formula,
                      params={"detail": str(exc)})]
    issues = []
    refs = {m.code: m for m in session.scalars(select(Meter).where(Meter.code.in_(parsed.codes)))}
    for code in parsed.codes:
        other = refs.get(code)
        if other is None:
            issues.append(Issue("rule.ref_unknown", row=row, field="formula", value=code,
                                params={"ref": "meter"}))
        elif meter is not None and other.id == meter.id:
            issues.append(Issue("rule.cycle", row=row, field="formula", value=code))
        elif carrier is not None:
            ounit = session.scalar(select(Carrier.unit).where(Carrier.code == other.carrier_code))
            try:
                units.factor(ounit, carrier.unit)
            except units.UnitError:
                issues.append(Issue("rule.unit_mismatch", row=row, field="formula", value=code,
                                    params={"expected": carrier.unit}))
    return issues


def create(session: Session, payload: dict, row: int | None = None) -> Meter:
    data = coerce_record(METER_FIELDS, payload, row)
    resolved = _resolve(session, data, row, None)
    plain = {k: v for k, v in data.items() if k not in
             ("node", "carrier", "flow_from", "flow_to", "parent_meter", "tariff")}
    meter = Meter(**plain, **resolved)
    session.add(meter)
    session.flush()
    if meter.kind == "virtual":
        _recompute_virtual(session, meter)
    return meter


def update(session: Session, meter_id: int, payload: dict, row: int | None = None) -> Meter:
    meter = get(session, meter_id)
    data = coerce_record(METER_FIELDS, payload, row, partial=True)
    resolved = _resolve(session, data, row, meter)
    before = {k: getattr(meter, k if k != "carrier" else "carrier_code") for k in _COMPUTATIONAL}
    node_changed = "node_id" in resolved and resolved["node_id"] != meter.node_id
    for key, value in data.items():
        if key not in ("node", "carrier", "flow_from", "flow_to", "parent_meter", "tariff"):
            setattr(meter, key, value)
    for key, value in resolved.items():
        setattr(meter, key, value)
    session.flush()
    if node_changed:
        org.retenant_meter(session, meter.id, meter.tenant_id)
    after = {k: getattr(meter, k if k != "carrier" else "carrier_code") for k in _COMPUTATIONAL}
    if before != after or node_changed:
        recompute(session, meter)
    return meter


def recompute(session: Session, meter: Meter) -> None:
    """Rebuild a meter's rollups (and those of virtual meters using it)."""
    conn = session.connection()
    if meter.kind == "virtual":
        _recompute_virtual(session, meter)
    else:
        rollups.rebuild(conn, store_for(conn), [meter.id])


def _recompute_virtual(session: Session, meter: Meter) -> None:
    """Evaluate a virtual meter over the whole period its operands have rollups for."""
    conn = session.connection()
    info = meter_specs.load(conn, [meter.id])[meter.id]
    span = conn.execute(select(func.min(RollupHour.day), func.max(RollupHour.day))
                        .where(RollupHour.meter_id.in_(list(info.operands)))).one()
    if span[0] is None:
        return
    store = store_for(conn)
    lo, hi = day_index(span[0]), day_index(span[1])
    infos = {**meter_specs.load(conn, info.operands), meter.id: info}
    fake = {o: rollups.Written(lo, hi, (hi + 1) * DAY_US) for o in info.operands}
    written = rollups.recompute_virtual(store, infos, [meter.id], fake)
    dependents = meter_specs.virtual_dependents(conn, [meter.id])
    if dependents:
        infos.update(meter_specs.load(conn, dependents))
        extra = {o for d in dependents for o in infos[d].operands} - set(infos)
        infos.update(meter_specs.load(conn, extra))
        written.update(rollups.recompute_virtual(store, infos, dependents, {**fake, **written}))
    rollups.refresh_periods(store, infos, written)


def delete(session: Session, meter_id: int) -> None:
    meter = get(session, meter_id)
    issues = []
    if session.scalar(select(Reading.meter_id).where(Reading.meter_id == meter.id).limit(1)):
        issues.append(Issue("rule.has_readings", field="id", value=meter.code))
    users = [m.code for m in session.scalars(select(Meter).where(Meter.kind == "virtual"))
             if m.formula and meter.code in formula_engine.parse(m.formula).codes]
    if users:
        issues.append(Issue("rule.used_in_formula", field="id", value=meter.code,
                            params={"meters": ", ".join(users)}))
    if issues:
        raise InputError(issues)
    conn = session.connection()
    for table in ("rollup_hour", "rollup_day", "rollup_month", "gap_spans", "meter_tails",
                  "quality_events"):
        conn.execute(text(f"DELETE FROM {table} WHERE meter_id = :m"), {"m": meter.id})
    session.delete(meter)
    session.flush()


def as_dict(session: Session, meter: Meter, codes: dict | None = None) -> dict:
    codes = codes if codes is not None else reference_codes(session)
    return {
        "id": meter.id, "code": meter.code, "name_zh": meter.name_zh, "name_en": meter.name_en,
        "node": codes["node"].get(meter.node_id), "node_id": meter.node_id,
        "tenant_id": meter.tenant_id, "carrier": meter.carrier_code, "unit": meter.unit,
        "kind": meter.kind, "register": meter.register, "interval_s": meter.interval_s,
        "multiplier": meter.multiplier, "level": meter.level, "energy_use": meter.energy_use,
        "flow_from": codes["node"].get(meter.flow_from_node_id),
        "flow_to": codes["node"].get(meter.flow_to_node_id),
        "parent_meter": codes["meter"].get(meter.parent_meter_id), "formula": meter.formula,
        "rollover_at": meter.rollover_at, "gap_threshold_s": meter.gap_threshold_s,
        "estimate_gaps": meter.estimate_gaps, "tariff": codes["tariff"].get(meter.tariff_id),
        "serial_no": meter.serial_no, "installed_on": meter.installed_on,
        "removed_on": meter.removed_on, "active": meter.active, "description": meter.description,
    }


def reference_codes(session: Session) -> dict[str, dict[int, str]]:
    return {
        "node": dict(session.execute(select(Node.id, Node.code)).all()),
        "meter": dict(session.execute(select(Meter.id, Meter.code)).all()),
        "tariff": dict(session.execute(select(Tariff.id, Tariff.code)).all()),
    }


# -- register events -----------------------------------------------------------------------
def add_event(session: Session, payload: dict, row: int | None = None,
              created_by: str | None = None) -> MeterEvent:
    data = coerce_record(EVENT_FIELDS, payload, row)
    meter = session.scalar(select(Meter).where(Meter.code == data["meter"]))
    issues = []
    if meter is None:
        raise InputError([Issue("rule.ref_unknown", row=row, field="meter", value=data["meter"],
                                params={"ref": "meter"})])
    if data["kind"] == "multiplier_change" and data.get("new_multiplier") is None:
        issues.append(Issue("rule.required", row=row, field="new_multiplier", value=None))
    if data["kind"] != "multiplier_change" and meter.register != "cumulative":
        issues.append(Issue("rule.event_register", row=row, field="kind", value=data["kind"]))
    if meter.kind == "virtual":
        issues.append(Issue("rule.meter_virtual", row=row, field="meter", value=meter.code))
    if issues:
        raise InputError(issues)
    tz = ZoneInfo(effective_timezones(session.connection(), [meter.node_id])[meter.node_id])
    event = MeterEvent(meter_id=meter.id, tenant_id=meter.tenant_id, ts=to_utc(data["ts"], tz),
                       kind=data["kind"], old_final_value=data.get("old_final_value"),
                       new_initial_value=data.get("new_initial_value"),
                       new_multiplier=data.get("new_multiplier"), note=data.get("note"),
                       created_by=created_by)
    session.add(event)
    session.flush()
    _recompute_around(session, meter, to_us(event.ts))
    return event


def delete_event(session: Session, event_id: int) -> None:
    event = session.get(MeterEvent, event_id)
    if event is None:
        raise NotFound("meter event", event_id)
    meter = get(session, event.meter_id)
    ts = to_us(event.ts)
    session.delete(event)
    session.flush()
    _recompute_around(session, meter, ts)


def _recompute_around(session: Session, meter: Meter, ts_us: int) -> None:
    """Recompute what an event at ``ts_us`` changes: the interval around a reset, everything
    after a multiplier change."""
    if meter.kind == "virtual":
        return
    conn = session.connection()
    store = store_for(conn)
    hi = ts_us
    if session.scalar(select(func.count()).select_from(MeterEvent).where(
            MeterEvent.meter_id == meter.id, MeterEvent.kind == "multiplier_change")):
        extent = store.reading_extent([meter.tenant_id], [meter.id]).get(meter.id)
        if extent:
            hi = max(ts_us, extent[1])
    rollups.apply(conn, store, {meter.id: rollups.Change(ts_us, hi)})
