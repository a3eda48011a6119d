"""Data-quality rules: configuration, runs, findings, completeness and balance."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from nengtan.api import quality_models as qm
from nengtan.api import tenancy
from nengtan.api.auth import ActorDep
from nengtan.api.deps import PagingDep, SessionDep
from nengtan.api.params import END_DOC, START_DOC, period, resolve
from nengtan.api.schemas import ERRORS, payload
from nengtan.errors import InputError, Issue
from nengtan.quality.rules import KINDS, SEVERITIES
from nengtan.services import quality_rules as qr
from nengtan.services import query
from nengtan.store.models import Carrier, Meter, Node
from nengtan.store.models.quality_rules import QualityRule

router = APIRouter(tags=["quality rules / 数据质量规则"], responses=ERRORS)
Kind = Literal[KINDS]  # type: ignore[valid-type]
Period = Literal[qr.PERIODS]  # type: ignore[valid-type]
Status = Literal[qr.STATUSES]  # type: ignore[valid-type]
Severity = Literal[SEVERITIES]  # type: ignore[valid-type]
Origin = Literal["rules", "pipeline", "all"]


# -- rules -----------------------------------------------------------------------------------
@router.get("/api/quality/rules", response_model=qm.QualityRulePage,
            summary="List quality rules / 数据质量规则列表")
def list_rules(session: SessionDep, paging: PagingDep,
               kind: Annotated[Kind | None, Query(description="rule kind")] = None,
               meter: str | None = Query(None, description="rules on this meter (code)"),
               node: str | None = Query(None, description="rules on this node (code)"),
               enabled: bool | None = Query(None)):
    """Rules matching the filters, oldest first."""
    m = resolve(session, Meter, meter, "meter", "meter")
    n = resolve(session, Node, node, "node", "node")
    rows, total = paging.page(session, qr.list_query(kind, m.id if m else None,
                                                     n.id if n else None, enabled))
    return paging.answer([qr.as_dict(session, r) for r in rows], total)


@router.post("/api/quality/rules", response_model=qm.QualityRule, status_code=201,
             summary="Create a quality rule / 新建数据质量规则")
def create_rule(body: qm.QualityRuleIn, session: SessionDep):
    """Create a rule on a meter or on the meters of a node.  Its findings appear with the
    next run (``POST /api/quality/run``) and whenever data for its meters is ingested."""
    return qr.as_dict(session, qr.create(session, payload(body)))


@router.get("/api/quality/rules/{rule_id}", response_model=qm.QualityRule,
            summary="Get a quality rule / 查询数据质量规则")
def get_rule(rule_id: int, session: SessionDep):
    """One rule with its scope and parameters."""
    return qr.as_dict(session, qr.get(session, rule_id))


@router.patch("/api/quality/rules/{rule_id}", response_model=qm.QualityRule,
              summary="Change a quality rule / 修改数据质量规则")
def update_rule(rule_id: int, body: qm.QualityRulePatch, session: SessionDep):
    """Change some fields (``params``, when given, replaces the parameters whole); the
    result is checked like a new rule.  Changing what the rule
    checks (kind, parameters, scope, enabled) drops its open findings: the next run raises
    them anew.  Acknowledged and closed findings stay."""
    return qr.as_dict(session, qr.update(session, rule_id, payload(body)))


@router.delete("/api/quality/rules/{rule_id}", status_code=204, response_class=Response,
               summary="Delete a quality rule / 删除数据质量规则")
def delete_rule(rule_id: int, session: SessionDep) -> Response:
    """Delete a rule and its open findings; acknowledged and closed ones stay as history."""
    qr.delete_rule(session, rule_id)
    return Response(status_code=204)


# -- runs and findings -----------------------------------------------------------------------
@router.post("/api/quality/run", response_model=qm.RunResult,
             summary="Evaluate quality rules / 执行数据质量检查")
def run(body: qm.RunIn, session: SessionDep):
    """Evaluate the enabled rules over a window of stored data.  Each rule's open findings
    that touch the window are replaced by what it finds now (an unchanged finding keeps its
    id); acknowledged and closed findings are kept and not raised again."""
    conn = session.connection()
    lo, hi = period(body.start, body.end)
    w = query.window(lo, hi, qr.default_timezone())
    ids, issues = None, []
    if body.meters is not None:
        ids = []
        for i, code in enumerate(body.meters):
            m = session.scalar(select(Meter.id).where(Meter.code == code))
            if m is None:
                issues.append(Issue("rule.ref_unknown", row=i, field="meters", value=code,
                                    params={"ref": "meter"}))
            else:
                ids.append(m)
    known = set(session.scalars(select(QualityRule.id).where(
        QualityRule.id.in_(body.rules or []))))
    issues += [Issue("rule.qr_rule_unknown", row=i, field="rules", value=rid)
               for i, rid in enumerate(body.rules or []) if rid not in known]
    if issues:
        raise InputError(issues)
    result = qr.evaluate(conn, w.start_us, w.end_us, meters=ids, rule_ids=body.rules)
    return result.as_dict()


@router.get("/api/quality/findings", response_model=list[qm.Finding],
            summary="Quality findings by status / 按状态查询数据质量事件")
def list_findings(session: SessionDep,
                  origin: Annotated[Origin, Query(
                      description="rules (default), pipeline or all")] = "rules",
                  status: Annotated[Status | None, Query()] = None,
                  rule_id: int | None = Query(None, description="findings of this rule"),
                  meter: str | None = Query(None, description="meter code"),
                  severity: Annotated[Severity | None, Query()] = None,
                  start: str | None = Query(None, description=START_DOC),
                  end: str | None = Query(None, description=END_DOC),
                  limit: int = Query(1000, ge=1, le=10_000)):
    """Findings of the configured rules (or the pipeline), filtered by status, rule, meter,
    severity and period, in time order."""
    m = resolve(session, Meter, meter, "meter", "meter")
    w = None
    if start or end:
        lo, hi = period(start, end)
        w = query.window(lo, hi, qr.default_timezone())
    return qr.findings(session.connection(), origin=None if origin == "all" else origin,
                       status=status, rule_id=rule_id,
                       meter_id=m.id if m else None, severity=severity, w=w, limit=limit,
                       tenants=tenancy.tenants(session))


@router.patch("/api/quality-events/{event_id}", response_model=qm.Finding,
              summary="Acknowledge or close a finding / 确认或关闭数据质量事件")
def set_status(event_id: int, body: qm.FindingPatch, session: SessionDep, actor: ActorDep):
    """Set a finding's status (open, acknowledged, closed) with a comment, recorded with the
    logged-in user; every change is kept in ``detail.history``.  A rule does not raise an
    acknowledged or closed finding again.  Pipeline findings are recomputed, status included,
    when readings in their range change."""
    return qr.set_status(session.connection(), event_id, body.status, body.comment, actor.user)


# -- completeness and balance ----------------------------------------------------------------
@router.get("/api/quality/completeness", response_model=qm.Completeness,
            summary="Data completeness / 数据完整率")
def completeness(session: SessionDep,
                 start: str = Query(description=START_DOC),
                 end: str = Query(description=END_DOC),
                 meter: str | None = Query(None, description="meter code (or give node)"),
                 node: str | None = Query(None, description="node code (or give meter)"),
                 period_: Annotated[Period, Query(alias="period",
                                                  description="hour, day or month")] = "day",
                 carrier: str | None = Query(None, description="node: only this carrier"),
                 subtree: bool = Query(True, description="node: include its subtree")):
    """Expected intervals, intervals present and % per period for a meter, or for the
    meters of a node (virtual meters do not count: their data is their operands').  Only
    elapsed time within the meter's life (installed_on..removed_on) is expected."""
    m = resolve(session, Meter, meter, "meter", "meter")
    n = resolve(session, Node, node, "node", "node")
    resolve(session, Carrier, carrier, "carrier", "carrier")
    if (m is None) == (n is None):
        raise InputError([Issue("rule.qr_scope", field="meter", value=meter or node)])
    lo, hi = period(start, end)
    return qr.completeness(session.connection(), meter_id=m.id if m else None,
                           node_id=n.id if n else None, start=lo, end=hi, period=period_,
                           carrier=carrier, subtree=subtree)


@router.get("/api/quality/balance", response_model=qm.Balance,
            summary="Parent/sub-meter balance / 上下级表计平衡")
def balance(session: SessionDep,
            meter: str = Query(description="code of the parent meter"),
            start: str = Query(description=START_DOC),
            end: str = Query(description=END_DOC),
            period_: Annotated[Period, Query(alias="period",
                                             description="hour, day or month")] = "day",
            tolerance_pct: float | None = Query(None, gt=0, description="default: the "
                                                "meter's balance rule, else 5 %"),
            min_abs: float | None = Query(None, ge=0, description="differences up to this "
                                          "(parent's unit) are never an imbalance")):
    """The parent meter's total against the sum of its sub-meters per period: difference,
    % of the parent, the higher side and ok / imbalance / not_assessable (a side lacking
    data in the period)."""
    m = resolve(session, Meter, meter, "meter", "meter")
    lo, hi = period(start, end)
    return qr.balance(session.connection(), m.id, lo, hi, period_, tolerance_pct, min_abs)
