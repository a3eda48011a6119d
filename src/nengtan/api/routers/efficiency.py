"""Equipment efficiency indicators / 设备能效指标: definitions and values from meters."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from nengtan.api.deps import PagingDep, SessionDep
from nengtan.api.params import PERIOD_DOC, resolve
from nengtan.api.schemas import ERRORS, OPEN, input_model, output_model, page_model, payload
from nengtan.energy.efficiency import KINDS
from nengtan.services import efficiency_indicators as svc
from nengtan.services.energy_data import parse_period
from nengtan.store.models import Node

router = APIRouter(tags=["efficiency indicators / 设备能效指标"], responses=ERRORS)
Kind = Literal[KINDS]  # type: ignore[valid-type]
Grain = Literal[svc.GRAINS]  # type: ignore[valid-type]

_PARAMS_DOC = (
    "Parameters by kind. boiler_efficiency: enthalpy_rise_mj_per_t (steam enthalpy net of feed "
    "water, MJ/t), or steam_pressure_mpa with pressure_basis (gauge default | absolute), "
    "optional steam_temperature_c (checked against saturation) and steam_dryness (0.5-1), or "
    "steam_enthalpy_mj_per_t; with feedwater_temperature_c or feedwater_enthalpy_mj_per_t; "
    "optional ncv_mj_per_unit (overrides the fuel's NCV, MJ per fuel unit), ncv_source, "
    "enthalpy_source.  cop, compressed_air_specific_power: none.  specific_energy: "
    "numerator_unit, denominator_unit, better (lower default | higher).")

IndicatorIn = input_model(
    "EfficiencyIndicatorIn", svc.FIELDS,
    doc="An equipment efficiency indicator: the ratio of signed sums of meters.  " + _PARAMS_DOC)
IndicatorPatch = input_model(
    "EfficiencyIndicatorPatch", svc.FIELDS, partial=True,
    doc="Fields to change; the result is validated like a new indicator.  `params`, "
        "`grades`, `numerator` and `denominator` replace the stored ones whole.")


class MeterRef(BaseModel):
    meter: str = Field(description="meter code / 表计编码")
    meter_id: int
    sign: int = Field(description="+1 added, -1 subtracted")


Indicator = output_model("EfficiencyIndicator", svc.FIELDS, {
    "node_id": (int, "id of the node"),
    "tenant_id": (int, "enterprise (or park) the indicator belongs to"),
    "kind_label": (dict[str, str], "name of the kind in zh-CN and en"),
    "unit": (str, "unit of the indicator's value: %, W/W, kW/(m3/min) or num/den"),
    "better": (str, "higher or lower is better"),
    "resolved_parameters": (dict[str, Any], ("boiler: the steam and feed-water enthalpies "
                                             "derived from the parameters, with the table's "
                                             "source")),
    "formula": (str, "the formula"), "clause": (str, "the standard and clause"),
    "created_at": (datetime, "when it was stored (UTC)"),
    "updated_at": (datetime, "last change (UTC)"),
}, doc="An equipment efficiency indicator.")
IndicatorPage = page_model(Indicator)


class ValuePoint(BaseModel):
    """The indicator over one day or month of the series."""

    model_config = OPEN
    start: str = Field(description="first local date")
    end: str = Field(description="local date after the last (exclusive)")
    label: str
    value: float | None = Field(description="in `unit`; null when status is not ok")
    unit: str
    status: Literal["ok", "no_data", "idle"] = Field(
        description="ok; no_data: a meter has no data; idle: the denominator is zero")
    numerator: float | None = Field(description="signed sum, in `numerator_unit`")
    numerator_unit: str
    denominator: float | None = Field(description="signed sum, in `denominator_unit`")
    denominator_unit: str
    coverage: float = Field(description="lowest share of the bucket covered by data (0-1)")
    complete: bool
    grade: Any = Field(None, description="series: the grade met (or null); period: the "
                                         "grade reference with the grade met and the next")
    target: Any = Field(None, description="period: target value, gap, gap %, met; series: "
                                         "null (see target_met)")
    target_met: bool | None = Field(None, description="series: whether the bucket meets the "
                                                      "target")


class IndicatorValues(ValuePoint):
    """The indicator over a period, with its meters, lineage and optional series."""

    start: str | None = None  # type: ignore[assignment]
    end: str | None = None  # type: ignore[assignment]
    label: str | None = None  # type: ignore[assignment]
    indicator: dict[str, Any]
    period: dict[str, str]
    grain: str | None
    meters: list[dict[str, Any]] = Field(description="each meter: side, sign, quantity "
                                                     "(carrier unit), converted value, "
                                                     "coverage, NCV or enthalpy used")
    summary: dict[str, str] = Field(description="one sentence in zh-CN and en")
    series: list[ValuePoint] | None
    lineage: dict[str, Any] = Field(description="formula, clause, method, parameters with "
                                                "their sources")


BASE = "/api/efficiency-indicators"


@router.get(BASE, response_model=IndicatorPage,
            summary="设备能效指标列表 / List efficiency indicators")
def list_indicators(session: SessionDep, paging: PagingDep,
                    node: str | None = Query(None, description="node code / 节点编码"),
                    subtree: bool = Query(False, description="with node: include the "
                                                             "indicators of its subtree"),
                    kind: Annotated[Kind | None, Query(description="indicator kind")] = None):
    """Indicators matching the filters, oldest first."""
    n = resolve(session, Node, node, "node", "node")
    q = svc.list_query(n.id if n else None, kind, n.path if (n and subtree) else None)
    rows, total = paging.page(session, q)
    return paging.answer([svc.as_dict(session, r) for r in rows], total)


@router.post(BASE, response_model=Indicator, status_code=201,
             summary="新建设备能效指标 / Create an efficiency indicator")
def create_indicator(body: IndicatorIn, session: SessionDep):
    """Define an indicator on a node: kind, numerator and denominator meters (codes with
    signs), parameters, optional target and grade reference.  Every problem is reported at
    once, naming its field; nothing is stored unless all is valid."""
    return svc.as_dict(session, svc.create(session, payload(body)))


@router.get(BASE + "/{indicator_id}", response_model=Indicator,
            summary="查询设备能效指标 / Get an efficiency indicator")
def get_indicator(indicator_id: int, session: SessionDep):
    """One indicator with its meters, parameters (and, for a boiler, the enthalpies derived
    from them), formula and clause."""
    return svc.as_dict(session, svc.get(session, indicator_id))


@router.patch(BASE + "/{indicator_id}", response_model=Indicator,
              summary="修改设备能效指标 / Change an efficiency indicator")
def update_indicator(indicator_id: int, body: IndicatorPatch, session: SessionDep):
    """Change some fields; the result is checked like a new indicator."""
    return svc.as_dict(session, svc.update(session, indicator_id, payload(body)))


@router.delete(BASE + "/{indicator_id}", status_code=204, response_class=Response,
               summary="删除设备能效指标 / Delete an efficiency indicator")
def delete_indicator(indicator_id: int, session: SessionDep) -> Response:
    """Delete the definition (the meters and their data stay)."""
    svc.delete_indicator(session, indicator_id)
    return Response(status_code=204)


@router.get(BASE + "/{indicator_id}/values", response_model=IndicatorValues,
            summary="设备能效指标计算值 / Efficiency indicator values")
def indicator_values(indicator_id: int, session: SessionDep,
                     period: str = Query(..., description=PERIOD_DOC),
                     grain: Annotated[Grain | None, Query(
                         description="day or month: add a series inside the period")] = None):
    """The indicator over a period (boiler efficiency %, COP W/W, specific power
    kW/(m³/min), or the declared ratio) from the meters' rollups, with each meter's quantity
    and coverage, the grade met and the gap to the target, and its lineage (formula, clause,
    parameters with sources, NCV coefficients); with `grain`, the same per day or month."""
    indicator = svc.get(session, indicator_id)
    per = parse_period(period)
    return svc.values(session.connection(), indicator, per, grain)
