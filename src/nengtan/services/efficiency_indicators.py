"""Equipment efficiency indicators (issue 4, item 5): definitions stored in the database and
their values per period and per day/month, from the meters' rollups.

* A definition names a node, a kind (:data:`nengtan.energy.efficiency.KINDS`), the meters of
  its numerator and denominator (codes with signs), kind-specific parameters, an optional
  target and an optional grade reference of a standard.  It is validated as a whole before
  anything is written; every issue names its field (``numerator``, ``params.steam_pressure_mpa``
  ...).
* Values come from :func:`nengtan.services.energy_data.period_values` (the period) and
  ``period_series`` (days, summed into months for ``grain=month``), in each meter's carrier
  unit, with their coverage.  A boiler's fuel NCV is that of
  :func:`~nengtan.services.energy_data.library_for` for the meter's tenant: the measured NCV
  of the fuel deliveries in the period (GB/T 2589-2020 4.3), else a recorded parameter, else
  the shipped coefficient × 29.3076 MJ/kgce; a series uses each calendar month's value.
* The formula itself is :func:`nengtan.energy.efficiency.evaluate` (pure).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Connection, delete, select
from sqlalchemy.orm import Session

from nengtan.energy import efficiency as engine
from nengtan.energy.gbt2589 import Library
from nengtan.errors import InputError, Issue, NotFound
from nengtan.i18n import LANGUAGES, t
from nengtan.services import energy_data
from nengtan.services.energy_data import Period, PeriodValue
from nengtan.services.fields import FieldSpec, coerce_record
from nengtan.store.models import Carrier, Meter, Node
from nengtan.store.models.efficiency import EfficiencyIndicator, EfficiencyIndicatorMeter
from nengtan.timeseries.calendar import next_month

GRAINS = ("day", "month")
#: A day series longer than this is refused (ten years and a bit).
MAX_DAYS = 3700

FIELDS = [
    FieldSpec("code", "str", "编码", "code", required=True, max_length=64),
    FieldSpec("name_zh", "str", "中文名称", "Chinese name", required=True, max_length=200),
    FieldSpec("name_en", "str", "英文名称", "English name", max_length=200),
    FieldSpec("node", "str", "节点", "node code", required=True, ref="node",
              help_en="the equipment or station the indicator describes"),
    FieldSpec("kind", "choice", "指标类型", "kind", required=True, choices=engine.KINDS),
    FieldSpec("numerator", "json", "分子表计", "numerator meters", required=True,
              help_en='list of meter codes or {"meter": code, "sign": 1 | -1}; boiler: steam '
                      "or heat output; cop: cooling delivered; compressed air: electricity"),
    FieldSpec("denominator", "json", "分母表计", "denominator meters", required=True,
              help_en="same form; boiler: fuel; cop: electricity; compressed air: air "
                      "volume (m3 at inlet conditions)"),
    FieldSpec("params", "json", "参数", "parameters",
              help_en="object; keys depend on the kind (docs/equipment-efficiency.md)"),
    FieldSpec("target_value", "float", "目标值", "target value",
              help_en="in the indicator's unit"),
    FieldSpec("target_source", "str", "目标值来源", "target source"),
    FieldSpec("grades", "json", "能效等级参照", "grade reference",
              help_en='{"standard", "clause", "source", "status", "note", "levels": '
                      '[{"grade", "value"}, ...]} best first, in the indicator\'s unit'),
    FieldSpec("description", "str", "说明", "description"),
    FieldSpec("created_by", "str", "创建人", "created by", max_length=100),
]
_NAMES = {s.name for s in FIELDS}


# == definitions ============================================================================
def _terms(session: Session, side: str, raw, tenant_id: int | None,
           issues: list[Issue]) -> list[tuple[engine.MeterTerm, int]]:
    """``(MeterTerm, meter id)`` of a side from ``["CODE", {"meter": "CODE", "sign": -1}]``."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raw = [raw]
    out = []
    for i, item in enumerate(raw):
        if isinstance(item, str):
            code, sign = item.strip(), 1
        elif isinstance(item, dict) and isinstance(item.get("meter"), str) \
                and set(item) <= {"meter", "sign"}:
            code, sign = item["meter"].strip(), item.get("sign", 1)
        else:
            issues.append(Issue("rule.eff_term", row=i, field=side,
                                value=item if not isinstance(item, (dict, list)) else None))
            continue
        if isinstance(sign, bool) or sign not in (1, -1):
            issues.append(Issue("rule.eff_sign", row=i, field=f"{side}.sign", value=sign))
            continue
        row = session.execute(
            select(Meter.id, Meter.code, Meter.tenant_id, Meter.carrier_code, Carrier.unit,
                   Carrier.category, Carrier.is_energy)
            .join(Carrier, Carrier.code == Meter.carrier_code).where(Meter.code == code)).first()
        if row is None:
            issues.append(Issue("rule.ref_unknown", row=i, field=side, value=code,
                                params={"ref": "meter"}))
            continue
        if tenant_id is not None and row.tenant_id != tenant_id:
            issues.append(Issue("rule.eff_meter_tenant", row=i, field=side, value=code))
            continue
        out.append((engine.MeterTerm(row.code, row.carrier_code, row.unit, int(sign),
                                     row.category, bool(row.is_energy)), row.id))
    return out


def _validated(session: Session, payload: dict, current_id: int | None = None) -> dict:
    """Column values and meter rows of a definition; raises InputError naming every issue."""
    data = coerce_record(FIELDS, payload)
    issues: list[Issue] = []
    taken = session.scalar(select(EfficiencyIndicator.id).where(
        EfficiencyIndicator.code == data["code"]))
    if taken is not None and taken != current_id:
        issues.append(Issue("rule.duplicate", field="code", value=data["code"]))
    node = session.scalar(select(Node).where(Node.code == data["node"]))
    tenant_id = None
    if node is None:
        issues.append(Issue("rule.ref_unknown", field="node", value=data["node"],
                            params={"ref": "node"}))
    else:
        tenant_id = node.tenant_id or node.id
    kind = data["kind"]
    params, param_issues = engine.check_params(kind, data.get("params"))
    issues += param_issues
    sides = {side: _terms(session, side, data.get(side), tenant_id, issues)
             for side in engine.SIDES}
    better = engine.Definition(kind, (), (), params).better
    grades, grade_issues = engine.check_grades(data.get("grades"), better)
    issues += grade_issues
    if data.get("target_source") and data.get("target_value") is None:
        issues.append(Issue("rule.required", field="target_value"))
    if not issues:
        defn = engine.Definition(kind, tuple(x[0] for x in sides["numerator"]),
                                 tuple(x[0] for x in sides["denominator"]), params,
                                 data.get("target_value"), data.get("target_source"), grades)
        issues += engine.check_definition(defn)
        if not issues and kind == "boiler_efficiency" and "ncv_mj_per_unit" not in params:
            issues += _check_ncv(session, tenant_id, defn)
    if issues:
        raise InputError(issues)
    return {
        "columns": {
            "code": data["code"], "name_zh": data["name_zh"], "name_en": data.get("name_en"),
            "node_id": node.id, "tenant_id": tenant_id, "kind": kind, "params": params,
            "target_value": data.get("target_value"),
            "target_source": data.get("target_source"),
            "grades": grades.as_dict() if grades else None,
            "description": data.get("description"), "created_by": data.get("created_by"),
        },
        "meters": [(side, pos, meter_id, term.sign)
                   for side in engine.SIDES
                   for pos, (term, meter_id) in enumerate(sides[side])],
    }


def _check_ncv(session: Session, tenant_id: int | None, defn: engine.Definition) -> list[Issue]:
    """Each fuel needs a calorific value: a coefficient (shipped or recorded) or measured
    deliveries; otherwise the parameter ``ncv_mj_per_unit``."""
    from nengtan.store.models import FuelDelivery

    today = date.today()
    library = energy_data.library_for(session.connection(), tenant_id, today,
                                      today + timedelta(days=1), use_measured=False)
    issues = []
    for i, term in enumerate(defn.denominator):
        if library.coefficient(term.carrier) is not None:
            continue
        measured = session.scalar(select(FuelDelivery.id).where(
            FuelDelivery.tenant_id == tenant_id, FuelDelivery.carrier_code == term.carrier,
            FuelDelivery.ncv_mj_per_unit.is_not(None)).limit(1))
        if measured is None:
            issues.append(Issue("rule.eff_ncv_missing", row=i, field="denominator",
                                value=term.meter, params={"carrier": term.carrier}))
    return issues


def _write_meters(session: Session, indicator: EfficiencyIndicator, meters: list) -> None:
    session.execute(delete(EfficiencyIndicatorMeter).where(
        EfficiencyIndicatorMeter.indicator_id == indicator.id))
    session.flush()
    for side, pos, meter_id, sign in meters:
        session.add(EfficiencyIndicatorMeter(indicator_id=indicator.id, side=side,
                                             position=pos, meter_id=meter_id, sign=sign))
    session.flush()


def create(session: Session, payload: dict) -> EfficiencyIndicator:
    values = _validated(session, payload)
    indicator = EfficiencyIndicator(**values["columns"])
    session.add(indicator)
    session.flush()
    _write_meters(session, indicator, values["meters"])
    return indicator


def get(session: Session, indicator_id: int) -> EfficiencyIndicator:
    indicator = session.get(EfficiencyIndicator, indicator_id)
    if indicator is None:
        raise NotFound("efficiency indicator", indicator_id)
    return indicator


def by_code(session: Session, code: str) -> EfficiencyIndicator:
    indicator = session.scalar(select(EfficiencyIndicator).where(EfficiencyIndicator.code == code))
    if indicator is None:
        raise NotFound("efficiency indicator", code)
    return indicator


def update(session: Session, indicator_id: int, payload: dict) -> EfficiencyIndicator:
    """Change some fields; the result is validated like a new definition.  ``params`` and
    ``grades``, when given, replace the stored ones whole."""
    indicator = get(session, indicator_id)
    current = {k: v for k, v in as_dict(session, indicator).items() if k in _NAMES}
    for side in engine.SIDES:
        current[side] = [{"meter": x["meter"], "sign": x["sign"]} for x in current[side]]
    values = _validated(session, {**current, **payload}, current_id=indicator.id)
    for key, value in values["columns"].items():
        setattr(indicator, key, value)
    session.flush()
    _write_meters(session, indicator, values["meters"])
    return indicator


def delete_indicator(session: Session, indicator_id: int) -> None:
    indicator = get(session, indicator_id)
    session.execute(delete(EfficiencyIndicatorMeter).where(
        EfficiencyIndicatorMeter.indicator_id == indicator.id))
    session.delete(indicator)
    session.flush()


def list_query(node_id: int | None = None, kind: str | None = None, subtree_path: str | None = None):
    """A select of indicators with these filters, for paging."""
    q = select(EfficiencyIndicator)
    if node_id is not None and subtree_path is None:
        q = q.where(EfficiencyIndicator.node_id == node_id)
    if subtree_path is not None:
        q = q.join(Node, Node.id == EfficiencyIndicator.node_id).where(
            Node.path.startswith(subtree_path))
    if kind:
        q = q.where(EfficiencyIndicator.kind == kind)
    return q.order_by(EfficiencyIndicator.id)


def _meter_rows(conn: Connection, indicator_id: int):
    return conn.execute(
        select(EfficiencyIndicatorMeter.side, EfficiencyIndicatorMeter.sign, Meter.id,
               Meter.code, Meter.tenant_id, Meter.carrier_code, Carrier.unit, Carrier.category,
               Carrier.is_energy)
        .join(Meter, Meter.id == EfficiencyIndicatorMeter.meter_id)
        .join(Carrier, Carrier.code == Meter.carrier_code)
        .where(EfficiencyIndicatorMeter.indicator_id == indicator_id)
        .order_by(EfficiencyIndicatorMeter.side.desc(), EfficiencyIndicatorMeter.position)).all()


def kind_label(kind: str) -> dict[str, str]:
    return {lang: t(f"eff.kind.{kind}", lang) for lang in LANGUAGES}


def definition(indicator: EfficiencyIndicator, rows) -> engine.Definition:
    sides: dict[str, list] = {s: [] for s in engine.SIDES}
    for r in rows:
        sides[r.side].append(engine.MeterTerm(r.code, r.carrier_code, r.unit, r.sign,
                                              r.category, bool(r.is_energy)))
    grades = None
    if indicator.grades:
        g = indicator.grades
        grades = engine.GradeReference(
            g["standard"], tuple(engine.Level(x["grade"], x["value"]) for x in g["levels"]),
            g["source"], g["status"], g.get("clause"), g.get("note"))
    return engine.Definition(indicator.kind, tuple(sides["numerator"]),
                             tuple(sides["denominator"]), dict(indicator.params or {}),
                             indicator.target_value, indicator.target_source, grades)


def as_dict(session: Session, indicator: EfficiencyIndicator) -> dict:
    rows = _meter_rows(session.connection(), indicator.id)
    node = session.get(Node, indicator.node_id)
    defn = definition(indicator, rows)
    resolved = engine.enthalpy_rise(defn.params)[1] if defn.kind == "boiler_efficiency" else {}
    return {
        "id": indicator.id, "code": indicator.code, "name_zh": indicator.name_zh,
        "name_en": indicator.name_en, "node": node.code if node else None,
        "node_id": indicator.node_id, "tenant_id": indicator.tenant_id, "kind": indicator.kind,
        "kind_label": kind_label(indicator.kind), "unit": defn.unit, "better": defn.better,
        **{side: [{"meter": r.code, "meter_id": r.id, "sign": r.sign}
                  for r in rows if r.side == side] for side in engine.SIDES},
        "params": dict(indicator.params or {}), "resolved_parameters": resolved,
        "target_value": indicator.target_value, "target_source": indicator.target_source,
        "grades": indicator.grades, "description": indicator.description,
        "created_by": indicator.created_by, "created_at": indicator.created_at,
        "updated_at": indicator.updated_at,
        "formula": defn.info.formula, "clause": defn.info.clause,
    }


# == values =================================================================================
def _ncv(conn: Connection, defn: engine.Definition, meters: dict, start: date, end: date,
         cache: dict) -> dict[str, engine.Ncv]:
    """NCV of each fuel meter of a boiler, MJ per its unit, from its tenant's library for
    [start, end) (a calendar month)."""
    if defn.kind != "boiler_efficiency" or "ncv_mj_per_unit" in defn.params:
        return {}
    out = {}
    for term in defn.denominator:
        tenant = meters[term.meter][1]
        key = (tenant, start, end)
        if key not in cache:
            cache[key] = energy_data.library_for(conn, tenant, start, end)
        library: Library = cache[key]
        coef = library.coefficient(term.carrier)
        if coef is not None:
            out[term.meter] = engine.ncv_from_coefficient(coef, term.unit)
    return out


def _measured(pvs: dict[int, PeriodValue], meters: dict) -> dict[str, engine.Measured]:
    return {code: engine.Measured(pvs[mid].value, pvs[mid].coverage, pvs[mid].has_data)
            for code, (mid, _tenant) in meters.items()}


def _buckets(period: Period, grain: str) -> list[Period]:
    out = []
    cur = period.start
    while cur < period.end:
        if grain == "day":
            nxt = cur + timedelta(days=1)
        else:
            nxt = next_month(cur)
        stop = min(nxt, period.end)
        label = cur.isoformat() if grain == "day" else f"{cur:%Y-%m}"
        out.append(Period(cur, stop, label, grain))
        cur = stop
    return out


def _month_key(d: date) -> tuple[date, date]:
    first = d.replace(day=1)
    return first, next_month(first)


def values(conn: Connection, indicator: EfficiencyIndicator, period: Period,
           grain: str | None = None) -> dict:
    """The indicator over ``period`` and, with ``grain``, per day or month inside it."""
    if grain is not None and grain not in GRAINS:
        raise InputError([Issue("rule.choice", field="grain", value=grain,
                                params={"choices": ", ".join(GRAINS)})])
    if grain == "day" and period.days > MAX_DAYS:
        raise InputError([Issue("rule.eff_series_too_long", field="period", value=period.label,
                                params={"max": MAX_DAYS})])
    rows = _meter_rows(conn, indicator.id)
    defn = definition(indicator, rows)
    meters = {r.code: (r.id, r.tenant_id) for r in rows}
    pairs = list(meters.values())
    cache: dict = {}
    boiler = defn.kind == "boiler_efficiency" and "ncv_mj_per_unit" not in defn.params
    days = energy_data.period_series(conn, pairs, period.start, period.end, "day") \
        if (grain or boiler) else {}
    pvs = energy_data.period_values(conn, pairs, period.start, period.end)
    result = engine.evaluate(defn, _measured(pvs, meters),
                             _period_ncv(conn, defn, meters, period, days, cache))
    out = {
        "indicator": {"id": indicator.id, "code": indicator.code, "name_zh": indicator.name_zh,
                      "name_en": indicator.name_en, "kind": indicator.kind,
                      "kind_label": kind_label(indicator.kind),
                      "node_id": indicator.node_id},
        "period": period.as_dict(), "grain": grain,
        **result.as_dict(),
        "summary": summary(indicator, period, result),
        "series": None,
        "lineage": {
            **engine.lineage(defn),
            "parameters": result.parameters,
            "data": "sums of the meters' rollups (rollup_month for whole months, rollup_day "
                    "otherwise) in each carrier's unit over local dates; coverage = the "
                    "lowest share of the period covered by data among the meters",
            "ncv_rule": _NCV_RULE if boiler else None,
        },
    }
    if grain:
        out["series"] = _series(conn, defn, meters, period, grain, days, cache)
    return out


_NCV_RULE = ("NCV of each calendar month from the tenant's coefficients: the measured NCV of "
             "the month's fuel deliveries (GB/T 2589-2020 4.3), else a recorded parameter, "
             "else the shipped coefficient × 29.3076 MJ/kgce; over several months the "
             "fuel-quantity-weighted mean, so that the period's heat input is Σ B_month × "
             "NCV_month")


def _bucket_values(days: dict, meters: dict, bucket: Period) -> dict[int, PeriodValue]:
    """Per meter id, the sum of the day rollups in ``bucket`` (no row: a gap)."""
    pvs = {}
    for mid, _tenant in meters.values():
        pv = PeriodValue()
        d = bucket.start
        while d < bucket.end:
            day = days[mid].get(d)
            if day is not None:
                pv.add(day.value if day.has_data else None, day.coverage_s, day.expected_s,
                       day.flags)
            d += timedelta(days=1)
        pv.expected_s = max(pv.expected_s, bucket.days * 86400)
        pvs[mid] = pv
    return pvs


def _period_ncv(conn: Connection, defn: engine.Definition, meters: dict, period: Period,
                days: dict, cache: dict) -> dict[str, engine.Ncv]:
    """NCV of each fuel meter over ``period``: its calendar months' NCVs weighted by the fuel
    burned in each month (the month's alone when the period lies in one month)."""
    months = _buckets(period, "month")
    if defn.kind != "boiler_efficiency" or "ncv_mj_per_unit" in defn.params:
        return {}
    per_month = [(m, _ncv(conn, defn, meters, *_month_key(m.start), cache)) for m in months]
    if len(months) == 1:
        return per_month[0][1]
    out = {}
    for term in defn.denominator:
        mid = meters[term.meter][0]
        parts = []
        for bucket, ncvs in per_month:
            if term.meter not in ncvs:
                break
            quantity = _bucket_values(days, {term.meter: meters[term.meter]}, bucket)[mid].value
            parts.append((bucket.label, quantity, ncvs[term.meter]))
        else:
            burned = sum(q for _, q, _ in parts)
            value = (sum(q * n.mj_per_unit for _, q, n in parts) / burned if burned > 0
                     else parts[0][2].mj_per_unit)
            out[term.meter] = engine.Ncv(value, {
                "method": "fuel-quantity-weighted mean of the calendar months' NCVs",
                "ncv_mj_per_unit_of_meter": value,
                "months": [{"month": label, "quantity": q, "unit": term.unit,
                            "ncv_mj_per_unit": n.mj_per_unit, "coefficient": n.lineage}
                           for label, q, n in parts]})
    return out


def _series(conn: Connection, defn: engine.Definition, meters: dict, period: Period,
            grain: str, days: dict, cache: dict) -> list[dict]:
    out = []
    for bucket in _buckets(period, grain):
        pvs = _bucket_values(days, meters, bucket)
        result = engine.evaluate(defn, _measured(pvs, meters),
                                 _ncv(conn, defn, meters, *_month_key(bucket.start), cache))
        item = {"start": bucket.start.isoformat(), "end": bucket.end.isoformat(),
                "label": bucket.label, **result.as_dict(terms=False)}
        # the reference and the target are those of the period: each bucket says only
        # which grade it meets and whether it meets the target
        item["grade"] = result.grade["grade"] if result.grade else None
        item["target"] = None
        item["target_met"] = result.target["met"] if result.target else None
        out.append(item)
    return out


def summary(indicator: EfficiencyIndicator, period: Period, result: engine.Result) -> dict:
    """One sentence per language: the value, or why there is none, and the grade."""
    out = {}
    for lang in LANGUAGES:
        name = indicator.name_en if lang == "en" and indicator.name_en else indicator.name_zh
        if result.value is None:
            text = t(f"eff.summary.{result.status}", lang, name=name, period=period.label)
        else:
            text = t("eff.summary.value", lang, name=name, period=period.label,
                     value=f"{result.value:.2f}", unit=result.unit)
            g = result.grade
            if g and g["grade"] is not None:
                text += t("eff.summary.grade", lang, standard=g["standard"], grade=g["grade"])
            elif g and g["below_lowest"]:
                text += t("eff.summary.below", lang, standard=g["standard"])
            if result.target and result.target["met"] is not None:
                key = "eff.summary.target_met" if result.target["met"] \
                    else "eff.summary.target_missed"
                text += t(key, lang, target=f"{result.target['value']:g}", unit=result.unit)
        if not result.complete and result.value is not None:
            text += t("eff.summary.incomplete", lang, coverage=f"{result.coverage * 100:.1f}")
        out[lang] = text
    return out
