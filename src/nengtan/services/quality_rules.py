"""Data-quality rules: configuration, evaluation on stored and incoming data, completeness and
balance (issue 3, item 8).

* **Rules** (``quality_rules``) watch one meter, or every meter of a node (its subtree by
  default, optionally one carrier).  The checks are the pure functions of
  :mod:`nengtan.quality.rules`; this module loads the data they need and stores what they
  find.
* **Findings** are ``quality_events`` rows with origin ``rules``, ``rule`` = the rule's kind
  and ``detail.rule_id`` = the rule.  Evaluating a rule over a window replaces its *open*
  findings that touch the window; a finding identical to an existing one keeps that row (and
  its id); acknowledged and closed findings are never touched, and the same finding is not
  raised again while one of them stands.
* :func:`evaluate` runs on stored data; :func:`on_ingest` runs after every ingestion batch on
  the ranges the batch changed, and costs one indexed lookup when no rule is enabled.
* :func:`completeness` — share of the expected time (in the meter's intervals) covered by
  data, per meter or node and hour/day/month; :func:`balance` — a parent meter against the
  sum of its sub-meters (GB 17167-2006 metering levels, GB/T 3484-2009 balance).

Times are µs since the Unix epoch internally; day and month periods are local calendar
periods in the site's timezone (meter) or the node's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Connection, func, insert, select
from sqlalchemy import delete as sql_delete
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from nengtan import units
from nengtan.config import get_settings
from nengtan.energy import tou
from nengtan.errors import InputError, Issue, NotFound
from nengtan.quality import rules as engine
from nengtan.quality.flags import Quality
from nengtan.quality.normalize import to_intervals
from nengtan.services import meter_specs, query
from nengtan.services.fields import FieldSpec, coerce_record
from nengtan.services.meter_specs import MeterInfo
from nengtan.store.models import (
    Carrier,
    Meter,
    Node,
    QualityEvent,
    RollupDay,
    RollupHour,
    RollupMonth,
)
from nengtan.store.models.quality_rules import QualityRule
from nengtan.store.readings_store import RawRows, store_for
from nengtan.store.types import from_us, to_us
from nengtan.timeseries.calendar import (
    DAY_US,
    HOUR_US,
    US,
    day_bounds,
    index_date,
    local_date,
    local_midnight_us,
    month_bounds,
    utc_day,
)

ORIGIN = "rules"
STATUSES = ("open", "acknowledged", "closed")
PERIODS = engine.BALANCE_PERIODS
#: Tolerance of ``balance`` when no rule of the meter says otherwise.
DEFAULT_TOLERANCE_PCT = 5.0
#: Findings further than this beyond a window are not read when reconciling.
_PAD_US = 14 * DAY_US

RULE_FIELDS = [
    FieldSpec("name", "str", "名称", "name", max_length=200),
    FieldSpec("kind", "choice", "规则类型", "kind", required=True, choices=engine.KINDS),
    FieldSpec("meter", "str", "表计", "meter code", ref="meter",
              help_en="scope: this meter (give meter or node)"),
    FieldSpec("node", "str", "节点", "node code", ref="node",
              help_en="scope: every meter of this node (and its subtree)"),
    FieldSpec("carrier", "str", "能源品种", "carrier code", ref="carrier",
              help_en="node scope: only meters of this carrier"),
    FieldSpec("subtree", "bool", "含下级节点", "include subtree", default=True,
              help_en="node scope: include the meters of descendant nodes"),
    FieldSpec("params", "json", "参数", "parameters",
              help_en="object; keys depend on the kind (docs/data-quality.md)"),
    FieldSpec("severity", "choice", "严重程度", "severity", default="warning",
              choices=engine.SEVERITIES),
    FieldSpec("enabled", "bool", "启用", "enabled", default=True),
    FieldSpec("description", "str", "说明", "description"),
    FieldSpec("created_by", "str", "创建人", "created by", max_length=100),
]

_ON = ("interval", "raw")
PARAM_FIELDS: dict[str, list[FieldSpec]] = {
    "range": [
        FieldSpec("min", "float", "下限", "minimum"),
        FieldSpec("max", "float", "上限", "maximum"),
        FieldSpec("on", "choice", "对象", "applies to", default="interval", choices=_ON,
                  help_en="interval values (carrier unit, per nominal interval) or raw readings"),
    ],
    "rate_of_change": [
        FieldSpec("max_per_hour", "float", "每小时最大变化", "max change per hour", required=True,
                  exclusive_minimum=0),
        FieldSpec("on", "choice", "对象", "applies to", default="raw", choices=_ON),
    ],
    "stuck": [
        FieldSpec("min_count", "int", "最少读数", "minimum readings", minimum=2),
        FieldSpec("min_duration_s", "int", "最短持续(秒)", "minimum duration (s)",
                  exclusive_minimum=0, unit="s"),
        FieldSpec("tolerance", "float", "容差", "tolerance", default=0.0, minimum=0),
        FieldSpec("ignore_zero", "bool", "忽略零值", "ignore zero", default=False),
        FieldSpec("active_hours", "str", "应运行时段", "expected-moving hours",
                  help_en="local HH:MM-HH:MM, may wrap midnight"),
        FieldSpec("active_weekdays", "str", "应运行星期", "expected-moving weekdays",
                  help_en="ISO weekdays 1-7, e.g. 1-5 or 1,3,5"),
    ],
    "missing": [
        FieldSpec("max_gap_s", "int", "最长无数据(秒)", "max gap (s)", required=True,
                  exclusive_minimum=0, unit="s"),
    ],
    "negative_interval": [
        FieldSpec("tolerance", "float", "容差", "tolerance", default=0.0, minimum=0),
    ],
    "balance": [
        FieldSpec("period", "choice", "周期", "period", default="day", choices=PERIODS),
        FieldSpec("tolerance_pct", "float", "允许偏差(%)", "tolerance (%)", required=True,
                  exclusive_minimum=0, unit="%"),
        FieldSpec("min_abs", "float", "最小绝对偏差", "minimum absolute difference", default=0.0,
                  minimum=0, help_en="in the parent's carrier unit"),
    ],
}


# == configuration ==========================================================================
def _params(kind: str, raw, issues: list[Issue]) -> dict:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        issues.append(Issue("rule.type_object", field="params", value=None))
        return {}
    try:
        params = coerce_record(PARAM_FIELDS[kind], raw)
    except InputError as exc:
        issues.extend(Issue(i.rule, field=f"params.{i.field}", value=i.value, params=i.params)
                      for i in exc.issues)
        return {}
    params = {k: v for k, v in params.items() if v is not None}
    if kind == "range":
        if "min" not in params and "max" not in params:
            issues.append(Issue("rule.qr_range_bounds", field="params"))
        elif params.get("min", -np.inf) > params.get("max", np.inf):
            issues.append(Issue("rule.qr_range_order", field="params.max", value=params["max"]))
    if kind == "stuck":
        if "min_count" not in params and "min_duration_s" not in params:
            issues.append(Issue("rule.qr_stuck_limit", field="params"))
        for key, parse in (("active_hours", _hours), ("active_weekdays", _weekdays)):
            if key in params:
                try:
                    parse(params[key])
                except (ValueError, TypeError):
                    issues.append(Issue(f"rule.qr_{key}", field=f"params.{key}",
                                        value=params[key]))
    return params


def _hours(text: str) -> tuple[int, int]:
    """``"08:00-18:00"`` → minutes (480, 1080); the end may be before the start (night)."""
    a, b = str(text).replace("–", "-").split("-")
    lo, hi = tou.parse_hhmm(a), tou.parse_hhmm(b)
    if lo == 1440 or lo == hi:
        raise ValueError(text)
    return lo, hi


def _weekdays(text: str) -> set[int]:
    days: set[int] = set()
    for part in str(text).replace("，", ",").split(","):
        part = part.strip()
        if "-" in part:
            a, b = (int(x) for x in part.split("-"))
            days |= set(range(a, b + 1))
        elif part:
            days.add(int(part))
    if not days or min(days) < 1 or max(days) > 7:
        raise ValueError(text)
    return days


def _check_scope(session: Session, data: dict, issues: list[Issue]) -> dict:
    """Ids of the scope, or issues: exactly one of meter/node; carrier only with a node."""
    meter = node = None
    if bool(data.get("meter")) == bool(data.get("node")):
        issues.append(Issue("rule.qr_scope", field="meter" if data.get("meter") else "node",
                            value=data.get("meter") or data.get("node")))
    if data.get("meter"):
        meter = session.scalar(select(Meter).where(Meter.code == data["meter"]))
        if meter is None:
            issues.append(Issue("rule.ref_unknown", field="meter", value=data["meter"],
                                params={"ref": "meter"}))
    if data.get("node"):
        node = session.scalar(select(Node).where(Node.code == data["node"]))
        if node is None:
            issues.append(Issue("rule.ref_unknown", field="node", value=data["node"],
                                params={"ref": "node"}))
    if data.get("carrier"):
        if data.get("meter"):
            issues.append(Issue("rule.qr_carrier_scope", field="carrier", value=data["carrier"]))
        elif session.get(Carrier, data["carrier"]) is None:
            issues.append(Issue("rule.ref_unknown", field="carrier", value=data["carrier"],
                                params={"ref": "carrier"}))
    return {"meter": meter, "node": node}


def _check_meter_kind(session: Session, meter: Meter, kind: str, params: dict,
                      issues: list[Issue]) -> None:
    """A rule on one meter must be able to run on it."""
    if kind == "balance":
        children = list(session.scalars(select(Meter).where(Meter.parent_meter_id == meter.id)))
        if not children:
            issues.append(Issue("rule.qr_balance_children", field="meter", value=meter.code))
        units_of = dict(session.execute(select(Carrier.code, Carrier.unit)).all())
        for child in children:
            try:
                units.factor(units_of[child.carrier_code], units_of[meter.carrier_code])
            except units.UnitError:
                issues.append(Issue("rule.qr_balance_units", field="meter", value=meter.code,
                                    params={"child": child.code}))
        return
    if meter.kind == "virtual":
        issues.append(Issue("rule.qr_virtual", field="meter", value=meter.code))
    elif kind == "negative_interval" and meter.register != "interval":
        issues.append(Issue("rule.qr_negative_cumulative", field="meter", value=meter.code))
    elif kind == "missing" and params["max_gap_s"] < meter.interval_s:
        issues.append(Issue("rule.qr_missing_interval", field="params.max_gap_s",
                            value=params["max_gap_s"], params={"interval": meter.interval_s}))


def _validated(session: Session, payload: dict) -> dict:
    """Column values of a rule from an API/CLI payload; raises InputError naming every issue."""
    data = coerce_record(RULE_FIELDS, payload)
    issues: list[Issue] = []
    scope = _check_scope(session, data, issues)
    params = _params(data["kind"], data.get("params"), issues)
    if scope["meter"] is not None and not issues:
        _check_meter_kind(session, scope["meter"], data["kind"], params, issues)
    if issues:
        raise InputError(issues)
    meter, node = scope["meter"], scope["node"]
    return {
        "name": data.get("name"), "kind": data["kind"], "params": params,
        "meter_id": meter.id if meter else None, "node_id": node.id if node else None,
        "carrier_code": data.get("carrier") if node else None,
        "subtree": bool(data.get("subtree", True)),
        "tenant_id": meter.tenant_id if meter else (node.tenant_id or node.id),
        "severity": data["severity"], "enabled": data["enabled"],
        "description": data.get("description"), "created_by": data.get("created_by"),
    }


def create(session: Session, payload: dict) -> QualityRule:
    rule = QualityRule(**_validated(session, payload))
    session.add(rule)
    session.flush()
    return rule


def get(session: Session, rule_id: int) -> QualityRule:
    rule = session.get(QualityRule, rule_id)
    if rule is None:
        raise NotFound("quality rule", rule_id)
    return rule


def update(session: Session, rule_id: int, payload: dict) -> QualityRule:
    """Change some fields (the result is validated like a new rule).  A change of what the
    rule checks drops its open findings: the next run or ingest raises them anew."""
    rule = get(session, rule_id)
    current = {k: v for k, v in as_dict(session, rule).items()
               if k in {s.name for s in RULE_FIELDS}}
    values = _validated(session, {**current, **payload})
    checks = ("kind", "params", "meter_id", "node_id", "carrier_code", "subtree", "enabled")
    if any(getattr(rule, k) != values[k] for k in checks):
        _drop_open(session.connection(), rule)
    for key, value in values.items():
        setattr(rule, key, value)
    session.flush()
    return rule


def delete_rule(session: Session, rule_id: int) -> None:
    """Delete a rule and its open findings; acknowledged and closed ones stay as history."""
    rule = get(session, rule_id)
    _drop_open(session.connection(), rule)
    session.delete(rule)
    session.flush()


def _drop_open(conn: Connection, rule: QualityRule) -> None:
    rows = conn.execute(select(QualityEvent.id, QualityEvent.detail).where(
        QualityEvent.origin == ORIGIN, QualityEvent.status == "open",
        QualityEvent.rule == rule.kind)).all()
    ids = [r.id for r in rows if (r.detail or {}).get("rule_id") == rule.id]
    if ids:
        conn.execute(sql_delete(QualityEvent).where(QualityEvent.id.in_(ids)))


def list_query(kind: str | None = None, meter_id: int | None = None,
               node_id: int | None = None, enabled: bool | None = None):
    """A select of rules with these filters, for paging."""
    q = select(QualityRule)
    if kind:
        q = q.where(QualityRule.kind == kind)
    if meter_id is not None:
        q = q.where(QualityRule.meter_id == meter_id)
    if node_id is not None:
        q = q.where(QualityRule.node_id == node_id)
    if enabled is not None:
        q = q.where(QualityRule.enabled.is_(enabled))
    return q.order_by(QualityRule.id)


def as_dict(session: Session, rule: QualityRule) -> dict:
    meter = session.scalar(select(Meter.code).where(Meter.id == rule.meter_id)) \
        if rule.meter_id else None
    node = session.scalar(select(Node.code).where(Node.id == rule.node_id)) \
        if rule.node_id else None
    return {
        "id": rule.id, "name": rule.name, "kind": rule.kind, "meter": meter,
        "meter_id": rule.meter_id, "node": node, "node_id": rule.node_id,
        "carrier": rule.carrier_code, "subtree": rule.subtree, "params": dict(rule.params or {}),
        "severity": rule.severity, "enabled": rule.enabled, "description": rule.description,
        "created_by": rule.created_by, "tenant_id": rule.tenant_id,
        "created_at": rule.created_at, "updated_at": rule.updated_at,
    }


# == findings ===============================================================================
def _finding(r) -> dict:
    return {"id": r.id, "meter": r.meter_code, "meter_id": r.meter_id, "rule": r.rule,
            "severity": r.severity, "start": query.iso(to_us(r.start_ts)),
            "end": query.iso(to_us(r.end_ts)), "status": r.status, "origin": r.origin,
            "detail": r.detail}


def _finding_query():
    return select(QualityEvent, Meter.code.label("meter_code")).join(
        Meter, Meter.id == QualityEvent.meter_id)


def finding_dict(conn: Connection, event_id: int) -> dict:
    row = conn.execute(_finding_query().where(QualityEvent.id == event_id)).first()
    if row is None:
        raise NotFound("quality event", event_id)
    return _finding(row)


def set_status(conn: Connection, event_id: int, status: str, comment: str | None = None,
               by: str | None = None) -> dict:
    """Acknowledge, close or reopen a finding; the change and its comment are appended to
    ``detail.history``.  (Pipeline findings are re-derived, status included, when readings
    in their range change.)"""
    issues = []
    if status not in STATUSES:
        issues.append(Issue("rule.choice", field="status", value=status,
                            params={"choices": ", ".join(STATUSES)}))
    if comment is not None and not isinstance(comment, str):
        issues.append(Issue("rule.type_str", field="comment", value=comment))
    if issues:
        raise InputError(issues)
    current = finding_dict(conn, event_id)
    detail = dict(current["detail"] or {})
    detail["history"] = [*detail.get("history", []), {
        "status": status, "comment": comment, "by": by,
        "at": query.iso(time.time_ns() // 1000)}]
    conn.execute(sql_update(QualityEvent).where(QualityEvent.id == event_id)
                 .values(status=status, detail=detail))
    return finding_dict(conn, event_id)


def findings(conn: Connection, *, origin: str | None = ORIGIN, status: str | None = None,
             rule_id: int | None = None, meter_id: int | None = None,
             severity: str | None = None, w: query.Window | None = None,
             limit: int = 1000, tenants=None) -> list[dict]:
    """Findings filtered by origin, status, rule, meter, severity and overlap with ``w``
    (and to ``tenants``, ids, when given)."""
    q = _finding_query()
    if tenants is not None:
        q = q.where(QualityEvent.tenant_id.in_(sorted(tenants)))
    if origin:
        q = q.where(QualityEvent.origin == origin)
    if status:
        q = q.where(QualityEvent.status == status)
    if meter_id is not None:
        q = q.where(QualityEvent.meter_id == meter_id)
    if severity:
        q = q.where(QualityEvent.severity == severity)
    if w is not None:
        q = q.where(QualityEvent.start_ts < from_us(w.end_us),
                    QualityEvent.end_ts >= from_us(w.start_us))
    out = []
    for r in conn.execute(q.order_by(QualityEvent.start_ts, QualityEvent.id)):
        if rule_id is not None and (r.detail or {}).get("rule_id") != rule_id:
            continue
        out.append(_finding(r))
        if len(out) >= limit:
            break
    return out


# == evaluation =============================================================================
@dataclass(frozen=True)
class _Rule:
    id: int
    name: str | None
    kind: str
    params: dict
    severity: str
    meter_id: int | None
    node_id: int | None
    node_path: str | None
    carrier: str | None
    subtree: bool


@dataclass(frozen=True)
class _MeterRow:
    id: int
    code: str
    kind: str
    register: str
    carrier: str
    node_id: int
    path: str
    parent_id: int | None


@dataclass
class _Target:
    rule: _Rule
    meter_id: int
    a: int  # window asked for, µs
    b: int
    lo: int = 0  # window after taking in the open findings it touches
    hi: int = 0


@dataclass
class RunResult:
    """What an evaluation did."""

    start_us: int
    end_us: int
    rules: int = 0
    checks: int = 0  # (rule, meter) pairs evaluated
    inserted: int = 0
    unchanged: int = 0
    removed: int = 0
    kept_acknowledged: int = 0
    not_assessable: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"window": query.Window(self.start_us, self.end_us).iso(), "rules": self.rules,
                "checks": self.checks, "inserted": self.inserted, "unchanged": self.unchanged,
                "removed": self.removed, "kept_acknowledged": self.kept_acknowledged,
                "not_assessable_periods": self.not_assessable,
                "open_by_kind": dict(sorted(self.by_kind.items()))}


def _load_rules(conn: Connection, rule_ids=None) -> list[_Rule]:
    q = (select(QualityRule.id, QualityRule.name, QualityRule.kind, QualityRule.params,
                QualityRule.severity, QualityRule.meter_id, QualityRule.node_id, Node.path,
                QualityRule.carrier_code, QualityRule.subtree)
         .outerjoin(Node, Node.id == QualityRule.node_id)
         .where(QualityRule.enabled.is_(True)).order_by(QualityRule.id))
    if rule_ids is not None:
        q = q.where(QualityRule.id.in_([int(r) for r in rule_ids]))
    return [_Rule(r.id, r.name, r.kind, dict(r.params or {}), r.severity, r.meter_id, r.node_id,
                  r.path, r.carrier_code, bool(r.subtree)) for r in conn.execute(q)]


def _meter_rows(conn: Connection, ids=None) -> dict[int, _MeterRow]:
    q = select(Meter.id, Meter.code, Meter.kind, Meter.register, Meter.carrier_code,
               Meter.node_id, Node.path, Meter.parent_meter_id).join(Node, Node.id == Meter.node_id)
    if ids is not None:
        q = q.where(Meter.id.in_([int(i) for i in ids]))
    return {r.id: _MeterRow(*r) for r in conn.execute(q)}


def _children(conn: Connection, parents=None) -> dict[int, list[int]]:
    q = select(Meter.parent_meter_id, Meter.id).where(Meter.parent_meter_id.is_not(None))
    if parents is not None:
        q = q.where(Meter.parent_meter_id.in_([int(p) for p in parents]))
    out: dict[int, list[int]] = {}
    for p, m in conn.execute(q.order_by(Meter.id)):
        out.setdefault(p, []).append(m)
    return out


def _covers(rule: _Rule, m: _MeterRow) -> bool:
    if rule.meter_id is not None:
        return m.id == rule.meter_id
    if rule.carrier and m.carrier != rule.carrier:
        return False
    return m.path.startswith(rule.node_path) if rule.subtree else m.node_id == rule.node_id


def _applies(rule: _Rule, m: _MeterRow, has_children: bool) -> bool:
    if rule.kind == "balance":
        return has_children
    if m.kind == "virtual":
        return False  # computed from other meters: no readings of its own to judge
    return rule.kind != "negative_interval" or m.register == "interval"


def _us(x) -> int:
    return int(x) if isinstance(x, (int, np.integer)) else to_us(x)


def evaluate(conn: Connection, start, end, meters=None, rule_ids=None,
             now_us: int | None = None) -> RunResult:
    """Evaluate the enabled rules (or those in ``rule_ids``) over ``[start, end)`` on stored
    data and store their findings.  ``start``/``end``: aware datetimes or µs.  ``meters``
    restricts the run to these meter ids (a balance rule runs when its parent meter or one
    of its sub-meters is among them)."""
    a, b = _us(start), _us(end)
    if b <= a:
        raise InputError([Issue("rule.period", field="end", value=query.iso(b))])
    rules = _load_rules(conn, rule_ids)
    result = RunResult(a, b, rules=len(rules))
    if not rules:
        return result
    rows = _meter_rows(conn)
    kids = _children(conn)
    only = None if meters is None else {int(m) for m in meters}
    targets = []
    for rule in rules:
        for m in rows.values():
            if not (_covers(rule, m) and _applies(rule, m, m.id in kids)):
                continue
            if only is not None and m.id not in only and not (
                    rule.kind == "balance" and only & set(kids.get(m.id, ()))):
                continue
            targets.append(_Target(rule, m.id, a, b))
    # Serialise with ingestion of these meters (whose hook rewrites the same findings).
    involved = {t.meter_id for t in targets} | {
        c for t in targets if t.rule.kind == "balance" for c in kids.get(t.meter_id, ())}
    tenants = conn.execute(select(Meter.tenant_id).where(Meter.id.in_(involved))).scalars()
    store_for(conn).lock_tenants(np.array(sorted(set(tenants)), np.int64))
    _run(conn, targets, kids, result, now_us)
    return result


def on_ingest(conn: Connection, changes: dict) -> RunResult | None:
    """Evaluate the rules that watch the meters of an ingested batch, over the ranges it
    changed (``changes``: meter id → object with ``lo``/``hi`` µs, as in
    :func:`nengtan.services.ingest.ingest`).  Costs one indexed lookup when no rule is
    enabled."""
    if not changes:
        return None
    if conn.execute(select(QualityRule.id).where(QualityRule.enabled.is_(True)).limit(1)).first() \
            is None:
        return None
    rules = _load_rules(conn)
    ranges = {int(m): (int(c.lo), int(c.hi)) for m, c in changes.items()}
    changed = set(ranges)
    lo_all, hi_all = min(r[0] for r in ranges.values()), max(r[1] for r in ranges.values())
    if any(r.kind == "balance" for r in rules):
        # Virtual meters computed from changed meters changed too (their rollups were just
        # rewritten), and so did the balance of every parent above a changed meter.
        for v in meter_specs.virtual_dependents(conn, list(changed)):
            ranges.setdefault(v, (lo_all, hi_all))
    rows = _meter_rows(conn, ranges)
    parents = {m.parent_id for m in rows.values() if m.parent_id is not None}
    rows.update(_meter_rows(conn, parents - set(rows)))
    kids = _children(conn, rows)
    result = RunResult(lo_all, hi_all, rules=len(rules))
    targets = []
    for rule in rules:
        for m in rows.values():
            if not (_covers(rule, m) and _applies(rule, m, m.id in kids)):
                continue
            if rule.kind == "balance":
                spans = [ranges[i] for i in [m.id, *kids.get(m.id, ())] if i in ranges]
                if spans:
                    targets.append(_Target(rule, m.id, min(s[0] for s in spans),
                                           max(s[1] for s in spans)))
            elif m.id in changed:
                targets.append(_Target(rule, m.id, *ranges[m.id]))
    _run(conn, targets, kids, result, None)
    return result


@dataclass
class _Event:
    id: int
    start: int
    end: int
    status: str
    severity: str
    detail: dict


def _touches(start: int, end: int, lo: int, hi: int) -> bool:
    return start <= hi and end >= lo


def _existing(conn: Connection, targets: list[_Target]) -> dict[tuple[int, int], list[_Event]]:
    lo = min(t.a for t in targets) - _PAD_US
    hi = max(t.b for t in targets) + _PAD_US
    rows = conn.execute(select(QualityEvent.id, QualityEvent.meter_id, QualityEvent.start_ts,
                               QualityEvent.end_ts, QualityEvent.status, QualityEvent.severity,
                               QualityEvent.detail).where(
        QualityEvent.origin == ORIGIN,
        QualityEvent.meter_id.in_(sorted({t.meter_id for t in targets})),
        QualityEvent.start_ts <= from_us(hi), QualityEvent.end_ts >= from_us(lo)))
    out: dict[tuple[int, int], list[_Event]] = {}
    for r in rows:
        rid = (r.detail or {}).get("rule_id")
        if rid is not None:
            out.setdefault((int(rid), r.meter_id), []).append(
                _Event(r.id, to_us(r.start_ts), to_us(r.end_ts), r.status, r.severity,
                       r.detail or {}))
    return out


def _run(conn: Connection, targets: list[_Target], kids: dict[int, list[int]],
         result: RunResult, now_us: int | None) -> None:
    result.checks = len(targets)
    if not targets:
        return
    now_us = now_us if now_us is not None else time.time_ns() // 1000
    existing = _existing(conn, targets)
    for t in targets:
        t.lo, t.hi = t.a, t.b
        for e in existing.get((t.rule.id, t.meter_id), ()):
            if e.status == "open" and _touches(e.start, e.end, t.a, t.b):
                t.lo, t.hi = min(t.lo, e.start), max(t.hi, e.end)
    ids = {t.meter_id for t in targets}
    ids |= {c for t in targets if t.rule.kind == "balance" for c in kids.get(t.meter_id, ())}
    infos = meter_specs.load(conn, ids)
    raw_targets = [t for t in targets if t.rule.kind != "balance"]
    data = _fetch(conn, infos, raw_targets)
    computed: list[list[engine.RuleFinding]] = []
    for t in targets:
        if t.rule.kind == "balance":
            bal = _balance_of(conn, infos, t.meter_id, kids.get(t.meter_id, []),
                              t.rule.params["period"], t.lo, t.hi,
                              t.rule.params["tolerance_pct"], t.rule.params.get("min_abs", 0.0),
                              t.rule.severity)
            result.not_assessable += sum(
                1 for s, e, st in zip(bal.start, bal.end, bal.status)
                if st == engine.NOT_ASSESSABLE and s < t.b and e > t.a)
            computed.append(bal.findings)
        else:
            computed.append(_check(conn, t, infos[t.meter_id], data[t.meter_id], now_us))
    _reconcile(conn, targets, computed, existing, infos, result)


# -- data of the raw-data rules --------------------------------------------------------------
@dataclass
class _Data:
    rows: RawRows
    lo: int  # the readings are those in [lo, hi): whole UTC days
    hi: int


def _margin(rule: _Rule, info: MeterInfo) -> int:
    """Readings needed beyond a window for its edges to be judged as in the middle."""
    m = max(2 * DAY_US, 8 * info.spec.gap_threshold_us)
    if rule.kind == "stuck":
        m = max(m, 2 * rule.params.get("min_duration_s", 0) * US,
                2 * rule.params.get("min_count", 0) * info.spec.interval_s * US)
    return m


def _fetch(conn: Connection, infos: dict[int, MeterInfo], targets: list[_Target]
           ) -> dict[int, _Data]:
    span: dict[int, tuple[int, int]] = {}
    for t in targets:
        m = _margin(t.rule, infos[t.meter_id])
        lo, hi = span.get(t.meter_id, (t.lo - m, t.hi + m))
        span[t.meter_id] = (min(lo, t.lo - m), max(hi, t.hi + m))
    if not span:
        return {}
    ids = np.array(sorted(span), np.int64)
    lo = np.array([utc_day(span[i][0]) * DAY_US for i in ids], np.int64)
    hi = np.array([(utc_day(span[i][1]) + 1) * DAY_US for i in ids], np.int64)
    raw, _ = store_for(conn).fetch(ids, lo, hi)
    out = {}
    for i, a, b in zip(ids, lo, hi):
        r0, r1 = np.searchsorted(raw.meter_id, [i, i + 1])
        out[int(i)] = _Data(raw.take(np.arange(r0, r1)), int(a), int(b))
    return out


def _check(conn: Connection, t: _Target, info: MeterInfo, data: _Data,
           now_us: int) -> list[engine.RuleFinding]:
    p, sev, kind = t.rule.params, t.rule.severity, t.rule.kind
    rows = data.rows
    if kind == "missing":
        first, last, open_end = _edges(conn, info, data, t, now_us)
        # A meter is never expected to report more often than its interval (a node's rule
        # may cover daily meters too).
        limit = max(p["max_gap_s"], info.spec.interval_s) * US
        return engine.missing(rows.ts, first_us=first, last_us=last, max_gap_us=limit,
                              open_end=open_end, severity=sev)
    valid = rows.quality != Quality.REJECTED
    ts, value = rows.ts[valid], rows.value[valid]
    if kind == "stuck":
        return engine.stuck(ts, value, min_count=p.get("min_count"),
                            min_duration_us=p["min_duration_s"] * US
                            if "min_duration_s" in p else None,
                            tolerance=p.get("tolerance", 0.0),
                            expected=_expected(ts, info, p),
                            ignore_zero=p.get("ignore_zero", False), severity=sev)
    raw = p.get("on") == "raw"
    if raw and kind == "range":
        return engine.range_check(ts, ts, value, minimum=p.get("min"), maximum=p.get("max"),
                                  severity=sev)
    if raw:  # rate of change of raw readings
        return engine.rate_of_change(ts, value, max_per_hour=p["max_per_hour"],
                                     max_dt_us=info.spec.gap_threshold_us,
                                     exclude=_register_jumps(ts, value, info), severity=sev)
    iv, _ = to_intervals(rows.ts, rows.value, rows.quality, info.spec, info.events)
    iv = iv.select(~iv.gap)  # a gap's total is not an interval value
    # Values per nominal interval, so a limit holds whatever the spacing of the readings.
    per = iv.value * (info.spec.interval_s * US) / np.maximum(iv.end - iv.start, 1)
    if kind == "range":
        return engine.range_check(iv.start, iv.end, per, minimum=p.get("min"),
                                  maximum=p.get("max"), severity=sev)
    if kind == "rate_of_change":
        return engine.rate_of_change(iv.start, per, max_per_hour=p["max_per_hour"],
                                     max_dt_us=info.spec.gap_threshold_us, severity=sev)
    return engine.negative_interval(iv.start, iv.end, iv.value,
                                    tolerance=p.get("tolerance", 0.0), severity=sev)


def _register_jumps(ts: np.ndarray, value: np.ndarray, info: MeterInfo) -> np.ndarray:
    """Pairs of raw readings across a recorded reset/replacement or a counter wrap: their
    difference is not a rate."""
    out = np.zeros(max(len(ts) - 1, 0), bool)
    if len(ts) < 2:
        return out
    for ev in info.events:
        if ev.kind in ("reset", "replacement"):
            out |= (ts[:-1] < ev.ts_us) & (ts[1:] >= ev.ts_us)
    if info.spec.rollover_at:
        out |= (value[:-1] - value[1:]) > info.spec.rollover_at / 2
    return out


def _expected(ts: np.ndarray, info: MeterInfo, p: dict) -> np.ndarray | None:
    """When the meter is expected to move (``active_hours``/``active_weekdays``, local)."""
    if "active_hours" not in p and "active_weekdays" not in p:
        return None
    if not len(ts):
        return np.zeros(0, bool)
    days = np.arange(utc_day(int(ts[0])), utc_day(int(ts[-1])) + 1)
    offset = np.array([int(from_us(int(d) * DAY_US).astimezone(info.tz).utcoffset()
                           .total_seconds()) * US for d in days], np.int64)
    local = ts + offset[(ts // DAY_US) - days[0]]
    ok = np.ones(len(ts), bool)
    if "active_hours" in p:
        lo, hi = _hours(p["active_hours"])
        minute = (local // (60 * US)) % 1440
        ok &= ((minute >= lo) & (minute < hi)) if lo < hi else ((minute >= lo) | (minute < hi))
    if "active_weekdays" in p:
        weekday = (local // DAY_US + 3) % 7 + 1  # 1970-01-01 was a Thursday (ISO 4)
        ok &= np.isin(weekday, sorted(_weekdays(p["active_weekdays"])))
    return ok


def _edges(conn: Connection, info: MeterInfo, data: _Data, t: _Target,
           now_us: int) -> tuple[int, int, bool]:
    """The readings just outside the fetched days (from ``rollup_hour``'s first/last reading
    of each day), so that a gap reaching beyond them is measured whole."""
    d0, d1 = utc_day(data.lo), utc_day(data.hi)
    prev = conn.execute(select(func.max(RollupHour.last_ts)).where(
        RollupHour.tenant_id == info.tenant_id, RollupHour.meter_id == info.id,
        RollupHour.day < index_date(d0))).scalar()
    nxt = conn.execute(select(func.min(RollupHour.first_ts)).where(
        RollupHour.tenant_id == info.tenant_id, RollupHour.meter_id == info.id,
        RollupHour.day >= index_date(d1))).scalar()
    ts = data.rows.ts
    if prev is not None:
        first = _us(prev)
    elif len(ts):
        first = int(ts[0])  # the meter's first reading: nothing was missing before it
    else:
        first = t.a  # never reported
    if nxt is not None:
        return first, _us(nxt), False
    return first, max(now_us, int(ts[-1]) if len(ts) else first), True


# -- storing findings ------------------------------------------------------------------------
def _detail(t: _Target, f: engine.RuleFinding, info: MeterInfo) -> dict:
    p = t.rule.params
    unit = {"range": info.unit if p.get("on") == "raw" else info.carrier_unit,
            "rate_of_change": (info.unit if p.get("on") == "raw" else info.carrier_unit) + "/h",
            "stuck": "readings" if "min_count" in p else "s", "missing": "s",
            "negative_interval": info.carrier_unit, "balance": "%"}[t.rule.kind]
    out = {"rule_id": t.rule.id, "rule_name": t.rule.name, "measured": f.measured,
           "limit": f.limit, "unit": unit, **f.detail}
    if t.rule.kind == "balance":
        out["period"] = p["period"]
        out["value_unit"] = info.carrier_unit
        if f.detail.get("pct") is None:
            out["unit"] = info.carrier_unit  # parent 0: measured is the difference
    return out


def _key(kind: str, start: int, end: int) -> tuple:
    """What makes two findings of one rule on one meter the same: their span; for ``missing``
    its start alone, since a gap that is still open grows until data resumes."""
    return (start,) if kind == "missing" else (start, end)


def _overlapping(spans: list[tuple[int, int]], others: list[tuple[int, int]]) -> np.ndarray:
    """For each span, whether it shares time with one of ``others`` (or is one of them)."""
    if not spans or not others:
        return np.zeros(len(spans), bool)
    o = np.array(sorted(others), np.int64).reshape(-1, 2)
    reach = np.maximum.accumulate(o[:, 1])  # latest end among the others starting so far
    s = np.array(spans, np.int64).reshape(-1, 2)
    before = np.searchsorted(o[:, 0], s[:, 1], "left")  # others starting before span end
    hit = (before > 0) & (reach[np.maximum(before - 1, 0)] > s[:, 0])
    same = {tuple(x) for x in o.tolist()}
    return hit | np.array([tuple(x) in same for x in s.tolist()])


def _reconcile(conn: Connection, targets: list[_Target], computed, existing, infos,
               result: RunResult) -> None:
    """Replace each target's open findings that touch its window by what was found.

    Kept: the findings that touch the window, and those that overlap an open finding being
    replaced (a run that now ends before the window still replaces its longer old self).
    Replaced: open findings touching the window, and those overlapping a kept finding (an
    old, shorter piece of a run found whole now).  Findings merely adjacent stay.
    """
    inserts, deletes = [], []
    for t, found in zip(targets, computed):
        kind = t.rule.kind
        mine = existing.get((t.rule.id, t.meter_id), [])
        opened = [e for e in mine if e.status == "open"]
        touched = [e for e in opened if _touches(e.start, e.end, t.a, t.b)]
        spans = [(f.start_us, f.end_us) for f in found]
        keep = np.array([_touches(f.start_us, f.end_us, t.a, t.b) for f in found], bool) \
            | _overlapping(spans, [(e.start, e.end) for e in touched])
        new = [f for f, k in zip(found, keep) if k]
        hit = _overlapping([(e.start, e.end) for e in opened],
                           [(f.start_us, f.end_us) for f in new])
        touched_ids = {e.id for e in touched}
        stale = [e for e, h in zip(opened, hit) if h or e.id in touched_ids]
        settled = {_key(kind, e.start, e.end) for e in mine if e.status != "open"}
        info = infos[t.meter_id]
        for f in new:
            key = _key(kind, f.start_us, f.end_us)
            if key in settled:
                result.kept_acknowledged += 1
                continue
            detail = _detail(t, f, info)
            same = next((e for e in stale if _key(kind, e.start, e.end) == key), None)
            if same is not None:
                stale.remove(same)
                result.unchanged += 1
                if (same.end, same.severity, same.detail) != (f.end_us, f.severity, detail):
                    conn.execute(sql_update(QualityEvent).where(QualityEvent.id == same.id)
                                 .values(end_ts=from_us(f.end_us), severity=f.severity,
                                         detail=detail))
            else:
                inserts.append({"tenant_id": info.tenant_id, "meter_id": t.meter_id,
                                "start_ts": from_us(f.start_us), "end_ts": from_us(f.end_us),
                                "rule": kind, "severity": f.severity, "origin": ORIGIN,
                                "status": "open", "detail": detail})
            result.by_kind[kind] = result.by_kind.get(kind, 0) + 1
        deletes += [e.id for e in stale]
    if deletes:
        conn.execute(sql_delete(QualityEvent).where(QualityEvent.id.in_(deletes)))
    if inserts:
        conn.execute(insert(QualityEvent), inserts)
    result.inserted, result.removed = len(inserts), len(deletes)


# == periods: completeness and balance ======================================================
@dataclass
class _Grid:
    period: str
    start: np.ndarray  # µs, whole hours
    end: np.ndarray
    labels: list[str]


def _grid(period: str, lo: int, hi: int, tz) -> _Grid:
    """Hour (UTC hours), day or month (local) periods overlapping ``[lo, hi)``."""
    if period == "hour":
        s = np.arange(lo // HOUR_US, -(-hi // HOUR_US), dtype=np.int64) * HOUR_US
        return _Grid(period, s, s + HOUR_US, [query.local_iso(int(x), tz) for x in s])
    if period not in ("day", "month"):
        raise InputError([Issue("rule.choice", field="period", value=period,
                                params={"choices": ", ".join(PERIODS)})])
    first, last = local_date(lo, tz), local_date(hi - 1, tz)
    keys, bounds = (day_bounds if period == "day" else month_bounds)(first, last, tz)
    labels = [k.isoformat() if period == "day" else k.strftime("%Y-%m") for k in keys]
    return _Grid(period, bounds[:-1], bounds[1:], labels)


def _hour_coverage(conn: Connection, infos: list[MeterInfo], grid: _Grid):
    """Per meter: seconds covered by data (``rollup_hour`` coverage) and hourly values over
    the grid's hours, as (meters × hours) arrays starting at the grid's first hour."""
    h0, h1 = int(grid.start[0] // HOUR_US), int(grid.end[-1] // HOUR_US)
    d0, d1 = h0 // 24, (h1 - 1) // 24
    ndays = d1 - d0 + 1
    ids = np.array([i.id for i in infos], np.int64)
    cov = np.zeros((len(ids), ndays * 24), np.int64)
    val = np.full((len(ids), ndays * 24), np.nan)
    if len(ids):
        m, d, v, c, _ = store_for(conn).read_hours([i.tenant_id for i in infos], ids, d0, d1)
        order = np.argsort(ids)
        row = order[np.searchsorted(ids[order], m)]
        for r, day, vv, cc in zip(row, d, v, c):
            k = (int(day) - d0) * 24
            cov[r, k:k + 24] = cc
            val[r, k:k + 24] = vv
    cut = h0 - d0 * 24
    return cov[:, cut:cut + (h1 - h0)], val[:, cut:cut + (h1 - h0)]


def _sum_periods(hourly: np.ndarray, grid: _Grid) -> np.ndarray:
    idx = ((grid.start - grid.start[0]) // HOUR_US).astype(np.int64)
    return np.add.reduceat(hourly, idx, axis=-1) if hourly.shape[-1] else hourly


def _lives(conn: Connection, infos: list[MeterInfo]) -> list[tuple[int, int]]:
    """[from, until) in µs when each meter is expected to deliver data."""
    dates = {r.id: (r.installed_on, r.removed_on) for r in conn.execute(
        select(Meter.id, Meter.installed_on, Meter.removed_on)
        .where(Meter.id.in_([i.id for i in infos])))}
    out = []
    for info in infos:
        installed, removed = dates[info.id]
        out.append((local_midnight_us(installed, info.tz) if installed else -(2**62),
                    local_midnight_us(removed + timedelta(days=1), info.tz) if removed
                    else 2**62))
    return out


def _window(start, end, tz) -> query.Window:
    """[start, end) from dates (local midnight), datetimes (naive ones local) or µs."""
    if isinstance(start, (int, np.integer)) and isinstance(end, (int, np.integer)):
        if end <= start:
            raise InputError([Issue("rule.period", field="end", value=query.iso(int(end)))])
        return query.Window(int(start), int(end))
    return query.window(start, end, tz)


def completeness(conn: Connection, *, meter_id: int | None = None, node_id: int | None = None,
                 start, end, period: str = "day", carrier: str | None = None,
                 subtree: bool = True, now_us: int | None = None) -> dict:
    """Expected intervals, intervals present and % per period, for one meter or the meters
    of a node (its subtree unless ``subtree`` is false; virtual meters do not count: they are
    computed from other meters and their gaps are those meters' gaps).

    ``present`` is the time covered by interval values (measured, manual or estimated; a gap
    kept whole is not covered) in the meter's nominal intervals; ``expected`` is the
    period's elapsed time (until now) in the meter's life (``installed_on``..``removed_on``).
    """
    if (meter_id is None) == (node_id is None):
        raise InputError([Issue("rule.qr_scope", field="meter")])
    now_us = now_us if now_us is not None else time.time_ns() // 1000
    excluded: list[str] = []
    if meter_id is not None:
        info = query.meter_info(conn, meter_id)
        infos, tz, head = [info], info.tz, {"meter": info.code, "meter_id": info.id}
    else:
        node = conn.execute(select(Node.id, Node.code, Node.path).where(Node.id == node_id)).first()
        if node is None:
            raise NotFound("node", node_id)
        q = select(Meter.id).join(Node, Node.id == Meter.node_id)
        q = q.where(Node.path.startswith(node.path)) if subtree else q.where(
            Meter.node_id == node_id)
        if carrier:
            q = q.where(Meter.carrier_code == carrier)
        loaded = meter_specs.load(conn, [r[0] for r in conn.execute(q)])
        infos = [loaded[k] for k in sorted(loaded) if not loaded[k].is_virtual]
        excluded = sorted(i.code for i in loaded.values() if i.is_virtual)
        tz = ZoneInfo(meter_specs.effective_timezones(conn, [node_id])[node_id])
        head = {"node": node.code, "node_id": node.id, "carrier": carrier, "subtree": subtree}
    w = _window(start, end, tz)
    grid = _grid(period, w.start_us, w.end_us, tz)
    cov, _ = _hour_coverage(conn, infos, grid)
    hour = grid.start[0] + np.arange(cov.shape[1], dtype=np.int64) * HOUR_US
    due = np.zeros(cov.shape, np.int64)  # seconds of each hour the meter owed data
    for r, (lo, hi) in enumerate(_lives(conn, infos)):
        lo, hi = max(lo, w.start_us), min(hi, w.end_us, now_us)
        due[r] = np.clip(np.minimum(hour + HOUR_US, hi) - np.maximum(hour, lo), 0, None) // US
    expected = _sum_periods(due, grid).astype(np.float64)
    covered = _sum_periods(np.minimum(cov, due), grid).astype(np.float64)
    step = np.array([i.spec.interval_s for i in infos], np.float64)[:, None]

    def figures(exp_s, cov_s, exp_n, cov_n) -> dict:
        return {"expected": round(float(exp_n), 3), "present": round(float(cov_n), 3),
                "pct": round(100.0 * float(cov_s) / float(exp_s), 3) if exp_s else None,
                "expected_s": int(exp_s), "covered_s": int(cov_s)}

    exp_n, cov_n = expected / step, covered / step
    points = [{"period": lab, **figures(expected[:, k].sum(), covered[:, k].sum(),
                                        exp_n[:, k].sum(), cov_n[:, k].sum())}
              for k, lab in enumerate(grid.labels)]
    meters = [{"meter": i.code, "meter_id": i.id, "interval_s": i.spec.interval_s,
               **figures(expected[r].sum(), covered[r].sum(), exp_n[r].sum(), cov_n[r].sum())}
              for r, i in enumerate(infos)]
    return {**head, "period": period, "timezone": tz.key, "window": w.iso(), "unit": "intervals",
            "points": points, "total": figures(expected.sum(), covered.sum(), exp_n.sum(),
                                               cov_n.sum()),
            "meters": meters, "excluded_virtual": excluded}


def _period_values(conn: Connection, infos: list[MeterInfo], grid: _Grid):
    """(meters × periods) values and completeness of each meter's rollups on the grid."""
    n = len(grid.labels)
    if n == 0:  # a window shorter than one whole period: nothing to compare
        return np.full((len(infos), 0), np.nan), np.zeros((len(infos), 0), bool)
    if grid.period == "hour":
        cov, val = _hour_coverage(conn, infos, grid)
        return val, (cov >= 3600) & np.isfinite(val)
    model, key = (RollupDay, RollupDay.day) if grid.period == "day" else \
        (RollupMonth, RollupMonth.month)
    tz = infos[0].tz
    keys = [local_date(int(s), tz) for s in grid.start]
    pos = {k: i for i, k in enumerate(keys)}
    val = np.full((len(infos), n), np.nan)
    ok = np.zeros((len(infos), n), bool)
    row_of = {i.id: r for r, i in enumerate(infos)}
    for info in infos:
        rows = conn.execute(select(model.meter_id, key, model.value, model.coverage_s,
                                   model.expected_s).where(
            model.tenant_id == info.tenant_id, model.meter_id == info.id,
            key >= keys[0], key <= keys[-1])).all()
        for m, k, v, c, e in rows:
            k = k if isinstance(k, date) else date.fromisoformat(str(k))
            if k in pos and v is not None:
                val[row_of[m], pos[k]] = v
                ok[row_of[m], pos[k]] = c >= e
    return val, ok


def _balance_of(conn: Connection, infos: dict[int, MeterInfo], parent_id: int, child_ids,
                period: str, lo: int, hi: int, tolerance_pct: float, min_abs: float,
                severity: str = "warning") -> engine.Balance:
    parent = infos[parent_id]
    children = [infos[c] for c in child_ids]
    grid = _grid(period, lo, hi, parent.tz)
    val, ok = _period_values(conn, [parent, *children], grid)
    factors = []
    for c in children:
        try:
            factors.append(units.factor(c.carrier_unit, parent.carrier_unit))
        except units.UnitError:
            factors.append(np.nan)  # not comparable: never assessable
    kid_val = val[1:] * np.array(factors)[:, None] if children else np.zeros((0, len(grid.labels)))
    return engine.balance(grid.start, grid.end, val[0], ok[0], kid_val, ok[1:],
                          tolerance_pct=tolerance_pct, min_abs=min_abs, severity=severity,
                          labels=tuple(c.code for c in children))


def balance(conn: Connection, meter_id: int, start, end, period: str = "day",
            tolerance_pct: float | None = None, min_abs: float | None = None) -> dict:
    """A parent meter against the sum of its sub-meters per period: parent, sum, difference
    (parent − sum), % of the parent, the higher side and ok / imbalance / not_assessable.

    The tolerance is ``tolerance_pct``, else that of the meter's balance rule, else
    :data:`DEFAULT_TOLERANCE_PCT`.
    """
    info = query.meter_info(conn, meter_id)
    if period not in PERIODS:
        raise InputError([Issue("rule.choice", field="period", value=period,
                                params={"choices": ", ".join(PERIODS)})])
    child_ids = _children(conn, [meter_id]).get(meter_id, [])
    if not child_ids:
        raise InputError([Issue("rule.qr_balance_children", field="meter", value=info.code)])
    rule = _rule_of(conn, meter_id)
    if tolerance_pct is None:
        tolerance_pct = rule.get("tolerance_pct", DEFAULT_TOLERANCE_PCT)
    if min_abs is None:
        min_abs = rule.get("min_abs", 0.0)
    infos = {info.id: info, **meter_specs.load(conn, child_ids)}
    w = _window(start, end, info.tz)
    bal = _balance_of(conn, infos, meter_id, child_ids, period, w.start_us, w.end_us,
                      tolerance_pct, min_abs)
    codes = [infos[c].code for c in child_ids]
    grid_labels = _grid(period, w.start_us, w.end_us, info.tz).labels

    def num(x) -> float | None:
        return float(x) if np.isfinite(x) else None

    points = []
    for k, label in enumerate(grid_labels):
        points.append({
            "period": label, "start": query.iso(int(bal.start[k])),
            "end": query.iso(int(bal.end[k])), "parent": num(bal.parent[k]),
            "children_sum": num(bal.children[k]), "difference": num(bal.difference[k]),
            "pct": num(bal.pct[k]), "higher": bal.higher[k] or None, "status": bal.status[k],
            "incomplete": [info.code if i < 0 else codes[i] for i in bal.incomplete[k]]})
    counts = {s: bal.status.count(s) for s in (engine.OK, engine.IMBALANCE,
                                                engine.NOT_ASSESSABLE)}
    return {"meter": info.code, "meter_id": info.id, "period": period,
            "unit": info.carrier_unit, "timezone": info.tz.key, "window": w.iso(),
            "tolerance_pct": tolerance_pct, "min_abs": min_abs,
            "children": [{"meter": infos[c].code, "meter_id": c,
                          "carrier": infos[c].carrier_code} for c in child_ids],
            "points": points, "summary": counts}


def _rule_of(conn: Connection, meter_id: int) -> dict:
    params = conn.execute(select(QualityRule.params).where(
        QualityRule.meter_id == meter_id, QualityRule.kind == "balance",
        QualityRule.enabled.is_(True)).order_by(QualityRule.id).limit(1)).scalar()
    return dict(params or {})


def default_timezone() -> ZoneInfo:
    """The timezone of times given without an offset when no meter or node says otherwise."""
    return ZoneInfo(get_settings().timezone)
