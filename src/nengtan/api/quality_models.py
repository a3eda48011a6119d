"""The API contract of data-quality rules, runs, findings, completeness and balance.

Rule bodies are generated from the service's field specs (the service validates and reports
every problem at once); answers are declared here, following the dicts of
:mod:`nengtan.services.quality_rules`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nengtan.api.schemas import OPEN, input_model, output_model, page_model
from nengtan.services import quality_rules

_PARAMS_DOC = (
    "Kind-specific parameters. range: min, max, on (interval|raw). rate_of_change: "
    "max_per_hour, on (raw|interval). stuck: min_count and/or min_duration_s, tolerance, "
    "ignore_zero, active_hours (HH:MM-HH:MM local), active_weekdays (1-7). missing: max_gap_s. "
    "negative_interval: tolerance. balance: period (hour|day|month), tolerance_pct, min_abs.")

QualityRuleIn = input_model(
    "QualityRuleIn", quality_rules.RULE_FIELDS,
    doc="A data-quality rule.  Scope: `meter` (a code) or `node` (a code, optionally with "
        "`carrier` and `subtree`).  " + _PARAMS_DOC)
QualityRulePatch = input_model(
    "QualityRulePatch", quality_rules.RULE_FIELDS, partial=True,
    doc="Fields to change; the result is validated like a new rule.  To move the scope, "
        "clear the other one (e.g. `{\"meter\": \"E-1\", \"node\": null}`).")
QualityRule = output_model("QualityRule", quality_rules.RULE_FIELDS, {
    "meter_id": (int | None, "id of the meter (meter scope)"),
    "node_id": (int | None, "id of the node (node scope)"),
    "tenant_id": (int | None, "tenant of the meter or node"),
    "created_at": (datetime | None, "when the rule was stored (UTC)"),
    "updated_at": (datetime | None, "last change (UTC)")},
    doc="A data-quality rule.")
QualityRulePage = page_model(QualityRule)


class RunIn(BaseModel):
    """A window to evaluate the enabled rules over, on stored data."""

    model_config = ConfigDict(extra="forbid")
    start: str = Field(description="start, inclusive: YYYY-MM-DD (local midnight) or ISO 8601")
    end: str = Field(description="end, exclusive, same forms")
    meters: list[str] | None = Field(None, description="only these meter codes (a balance rule "
                                                       "runs when its parent or a sub-meter is "
                                                       "listed)")
    rules: list[int] | None = Field(None, description="only these rule ids")


class RunResult(BaseModel):
    """What a run did: findings inserted, kept unchanged and removed."""

    model_config = OPEN
    window: dict[str, str]
    rules: int = Field(description="enabled rules considered")
    checks: int = Field(description="(rule, meter) pairs evaluated")
    inserted: int = Field(description="new open findings")
    unchanged: int = Field(description="open findings found again (kept, same id)")
    removed: int = Field(description="open findings no longer found")
    kept_acknowledged: int = Field(description="findings found again that stand acknowledged "
                                               "or closed (not raised again)")
    not_assessable_periods: int = Field(description="balance periods with incomplete data")
    open_by_kind: dict[str, int] = Field(description="findings of the run by rule kind")


class Finding(BaseModel):
    """A finding (``quality_events`` row); ``detail`` of rule findings holds ``rule_id``,
    ``measured``, ``limit``, ``unit`` and kind-specific facts, and ``history`` of status
    changes."""

    model_config = OPEN
    id: int
    meter: str
    meter_id: int
    rule: str = Field(description="rule kind (rules) or pipeline rule (gap, register_decrease "
                                  "...)")
    severity: Literal["info", "warning", "error"]
    start: datetime
    end: datetime
    status: Literal["open", "acknowledged", "closed"]
    origin: str = Field(description="rules | pipeline")
    detail: dict[str, Any] | None = None


class FindingPatch(BaseModel):
    """A status change with a comment, appended to the finding's history."""

    model_config = ConfigDict(extra="forbid")
    status: str = Field(description="open | acknowledged | closed")
    comment: str | None = Field(None, description="why / 处理说明")


class CompletenessFigures(BaseModel):
    model_config = OPEN
    expected: float = Field(description="intervals expected (elapsed time in the meter's "
                                        "life ÷ its interval)")
    present: float = Field(description="intervals covered by data")
    pct: float | None = Field(description="present ÷ expected × 100; null if nothing expected")
    expected_s: int
    covered_s: int


class CompletenessPoint(CompletenessFigures):
    period: str = Field(description="local hour (ISO 8601), day (YYYY-MM-DD) or month (YYYY-MM)")


class CompletenessMeter(CompletenessFigures):
    meter: str
    meter_id: int
    interval_s: int


class Completeness(BaseModel):
    """Completeness per period of a meter, or of the (non-virtual) meters of a node."""

    model_config = OPEN
    meter: str | None = None
    node: str | None = None
    period: str
    timezone: str
    window: dict[str, str]
    unit: str = "intervals"
    points: list[CompletenessPoint]
    total: CompletenessFigures
    meters: list[CompletenessMeter]
    excluded_virtual: list[str] = Field(description="virtual meters of the node, not counted")


class BalancePoint(BaseModel):
    model_config = OPEN
    period: str
    start: datetime
    end: datetime
    parent: float | None = Field(description="the parent meter's total (unit of the answer)")
    children_sum: float | None = Field(description="sum of the sub-meters (null if not "
                                                   "assessable)")
    difference: float | None = Field(description="parent − children_sum")
    pct: float | None = Field(description="difference ÷ parent × 100")
    higher: Literal["parent", "children", "equal"] | None
    status: Literal["ok", "imbalance", "not_assessable"]
    incomplete: list[str] = Field(description="meters lacking data in the period")


class Balance(BaseModel):
    """A parent meter against the sum of its sub-meters (GB 17167, GB/T 3484)."""

    model_config = OPEN
    meter: str
    meter_id: int
    period: str
    unit: str
    timezone: str
    window: dict[str, str]
    tolerance_pct: float
    min_abs: float
    children: list[dict[str, Any]]
    points: list[BalancePoint]
    summary: dict[str, int]
