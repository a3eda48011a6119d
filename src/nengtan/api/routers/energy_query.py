"""Energy consumption query: any node, carrier and period; drill-down, YoY/MoM, trace."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from nengtan.api import params
from nengtan.api.deps import SessionDep
from nengtan.api.params import END_DOC, START_DOC
from nengtan.api.schemas import ERRORS, OPEN
from nengtan.services import energy_query as eq
from nengtan.store.models import Node

router = APIRouter(tags=["Energy query / 能耗查询"], responses=ERRORS)

Grain = Literal["interval", "hour", "day", "month", "year", "custom"]
NODE_DOC = "node code (any kind: park, enterprise, site, workshop, line, equipment) / 节点编码"
CARRIER_DOC = ("carrier code (e.g. electricity, natural_gas); default: every energy carrier "
               "/ 能源品种编码，缺省为全部能源品种")
PERIOD_DOC = ("period instead of start/end: 2025, 2025-Q3, 2025-10, 2025-10-05 or "
              "2025-10-01/2025-10-08 (end exclusive) / 统计期")
GRAIN_DOC = ("interval (15 min), hour, day, month, year, or custom (one figure for the whole "
             "period) / 统计粒度")
COMPARE_DOC = "comparisons, comma-separated: yoy (同比), mom (环比) / 同比、环比"
FIRST_DAY_DOC = "first local day (YYYY-MM-DD), instead of period / 起始日期（含）"
END_DAY_DOC = "the day after the last (YYYY-MM-DD), exclusive / 结束日期（不含）"
Texts = dict[str, str]


# -- response models (documentation; services' extra keys pass through) -------------------
class PeriodOut(BaseModel):
    model_config = OPEN
    start: str = Field(description="local date, or local ISO time for sub-day periods")
    end: str = Field(description="exclusive")
    label: str
    grain: str


class Comparison(BaseModel):
    model_config = OPEN
    period: PeriodOut = Field(description="the comparison period")
    previous: float | None = Field(None, description="value of the comparison period, in `unit`")
    previous_complete: bool
    change: float | None = Field(None, description="value − previous, in `unit`; null unless "
                                                   "both periods are complete")
    change_pct: float | None = Field(None, description="change ÷ |previous| × 100, %; null on "
                                                       "a zero or incomplete base")
    unit: str
    reason: str | None = Field(None, description="why a change is missing: no_data, "
                                                 "base_no_data, current_incomplete, "
                                                 "base_incomplete, base_zero")
    reason_text: Texts | None = None


class CarrierFigure(BaseModel):
    model_config = OPEN
    carrier: str
    name_zh: str | None = None
    name_en: str | None = None
    unit: str = Field(description="the carrier's physical unit (kWh, m3, t, GJ ...)")
    category: str | None = None
    is_energy: bool | None = None
    quantity: float | None = Field(None, description="in − out + generated, `unit`; the "
                                                     "covered part when incomplete; null "
                                                     "without data")
    in_: float | None = Field(None, alias="in", description="flows into the node, `unit`")
    out: float | None = Field(None, description="flows out of the node (deducted), `unit`")
    generated: float | None = Field(None, description="renewable electricity generated inside "
                                                      "and used there, `unit`")
    tce: float | None = Field(None, description="tce, equivalent value, exports deducted")
    tce_equal_value: float | None = Field(None, description="tce, electricity at equal value")
    coverage: float = Field(description="covered fraction of the period, 0-1")
    complete: bool
    flags: list[str] = []
    meters: list[str] = Field([], description="codes of the meters counted")
    yoy: Comparison | None = None
    mom: Comparison | None = None


class Figure(BaseModel):
    model_config = OPEN
    period: PeriodOut
    unit: str = Field("tce", description="unit of the tce fields")
    tce: float | None = Field(None, description="comprehensive energy consumption, tce "
                                                "(GB/T 2589-2020, equivalent value)")
    tce_equal_value: float | None = Field(None, description="the same, electricity at equal "
                                                            "value, tce")
    export_tce: float | None = Field(None, description="exports deducted, tce")
    feedstock_tce: float | None = Field(None, description="feedstock use, outside the total, "
                                                          "tce")
    renewable_tce: float | None = Field(None, description="renewable electricity in the "
                                                          "total, tce")
    control_total_tce: float | None = Field(None, description="total − renewable, tce")
    coverage: float = Field(description="smallest covered fraction of the meters, 0-1")
    complete: bool
    missing_coefficients: list[str] = Field([], description="carriers without a coefficient: "
                                                            "left out of the tce fields")
    carriers: list[CarrierFigure]
    yoy: Comparison | None = None
    mom: Comparison | None = None


class _Node(BaseModel):
    model_config = OPEN
    node: str
    node_id: int
    name_zh: str
    name_en: str | None = None
    kind: str


class QueryOut(_Node):
    carrier: str | None = None
    grain: str
    timezone: str
    period: PeriodOut
    compare: list[str]
    summary: Texts = Field(description="one sentence in zh-CN and en")
    total: Figure = Field(description="the whole period")
    series: list[Figure] = Field(description="one figure per bucket of `grain`")
    lineage: dict[str, Any]


class ChildFigure(Figure):
    node: str
    node_id: int
    name_zh: str
    name_en: str | None = None
    kind: str
    share_pct: float | None = Field(None, description="child tce ÷ node tce × 100, %")
    trace: str | None = Field(None, description="API path of the child's trace")


class Unattributed(BaseModel):
    model_config = OPEN
    label: Texts
    period: PeriodOut
    unit: str = "tce"
    tce: float | None = Field(None, description="node − Σ children, tce")
    tce_equal_value: float | None = None
    losses_and_unmetered_tce: float | None = Field(
        None, description="equals `tce`; kept for compatibility")
    coverage: float
    complete: bool
    carriers: list[dict[str, Any]] = Field(description="node − Σ children per carrier, in its "
                                                       "unit (`quantity`) and tce")
    electricity: dict[str, Any] | None = Field(None, description="all electric carriers "
                                                                 "together, kWh")
    yoy: Comparison | None = None
    mom: Comparison | None = None


class DrilldownOut(_Node):
    carrier: str | None = None
    timezone: str
    period: PeriodOut
    compare: list[str]
    summary: Texts
    figure: Figure = Field(description="the node itself")
    children: list[ChildFigure]
    unattributed: Unattributed
    by_carrier: list[dict[str, Any]] = Field(description="per carrier: node, each child and the "
                                                         "remainder, in the carrier's unit")
    lineage: dict[str, Any]


class LatestValue(BaseModel):
    model_config = OPEN
    meter: str
    meter_id: int
    carrier: str
    role: str = Field(description="in, out or generated (on the node's boundary)")
    sign: int = Field(description="net direction in the node's figure: +1 in, −1 out, 0 for "
                                  "renewable power leaving the node (generated and supplied)")
    contributions: list[dict[str, Any]] = Field(default_factory=list,
                                                description="(role, use, sign) entries")
    meter_unit: str = Field(description="unit of the raw readings")
    unit: str = Field(description="the carrier's unit")
    last_reading: str | None = Field(None, description="local time of the last reading")
    last_value: float | None = Field(None, description="last reading as received, `meter_unit`")
    last_quality: str | None = None
    last_interval: dict[str, Any] | None = Field(None, description="the last interval value, "
                                                                   "`unit`, multiplier applied")
    rate: float | None = Field(None, description="last interval's average rate in `rate_unit`")
    rate_unit: str = Field(description="kW for electricity, else carrier unit per hour")
    age_s: float | None = Field(None, description="seconds since the last reading")
    status: str = Field(description="online, stale, no_data or virtual")
    status_text: Texts | None = None


class RealtimeOut(_Node):
    carrier: str | None = None
    timezone: str
    now: str
    stale_after_intervals: int
    meters: list[LatestValue]
    net: list[dict[str, Any]] = Field(description="per carrier: Σ sign × rate of online meters")
    lineage: dict[str, Any]


class TraceOut(_Node):
    carrier: str | None = None
    timezone: str
    period: PeriodOut
    summary: Texts
    figure: Figure
    meters: list[dict[str, Any]] = Field(description="each meter: period value, sign and role, "
                                                     "conversion, coefficient, rollup rows, "
                                                     "ingestion batches and API links")
    steps: Texts
    lineage: dict[str, Any]


# -- routes ---------------------------------------------------------------------------------
def _node_id(session, code: str) -> int:
    return params.resolve(session, Node, code, "node", "node").id


def _compare(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


@router.get("/api/energy/query", response_model=QueryOut, summary="能耗查询 / Energy query")
def energy_query(session: SessionDep,
                 node: str = Query(description=NODE_DOC),
                 carrier: str | None = Query(None, description=CARRIER_DOC),
                 period: str | None = Query(None, description=PERIOD_DOC),
                 start: str | None = Query(None, description=START_DOC),
                 end: str | None = Query(None, description=END_DOC),
                 grain: Annotated[Grain, Query(description=GRAIN_DOC)] = "custom",
                 compare: str | None = Query(None, description=COMPARE_DOC)):
    """Consumption of a node over a period: per carrier in its physical unit and in tce
    (GB/T 2589-2020, electricity at equivalent value 0.1229 kgce/kWh and beside it at equal
    value; exports deducted; feedstock apart), as a series of ``grain`` buckets plus the
    total of the whole period.

    The node's consumption is what crosses the boundary of its subtree: in − out + renewable
    generated inside; flows between its own sub-nodes are not counted.  ``coverage`` and
    ``complete`` flag periods with missing data; values are sums of what is covered and are
    never completed with zeros (no data at all: ``null``).  With ``compare=yoy,mom`` each
    figure carries year-on-year (同比) and period-on-period (环比) values.

    Series limits: 15-minute values over at most 31 days, hours over 92 days, days over
    1098 days; months and years without limit.
    """
    lo, hi = params.period(start, end, required=False)
    return eq.consumption(session.connection(), _node_id(session, node), grain=grain,
                          period=period, start=lo, end=hi, carrier=carrier,
                          compare=_compare(compare))


@router.get("/api/energy/drilldown", response_model=DrilldownOut,
            summary="能耗下钻 / Energy drill-down")
def energy_drilldown(session: SessionDep,
                     node: str = Query(description=NODE_DOC),
                     carrier: str | None = Query(None, description=CARRIER_DOC),
                     period: str | None = Query(None, description=PERIOD_DOC),
                     start: str | None = Query(None, description=FIRST_DAY_DOC),
                     end: str | None = Query(None, description=END_DAY_DOC),
                     compare: str | None = Query(None, description=COMPARE_DOC)):
    """The node's figure for a period, the same figure for each direct child node (by its
    own boundary), by carrier, and explicitly what is not attributed to a child: node − Σ
    children, per carrier and in tce — metering losses and unmetered consumers, and
    renewable power a child generates for the node (shown apart).  Dates are local days."""
    lo, hi = params.period(start, end, required=False)
    return eq.drilldown(session.connection(), _node_id(session, node), period=period,
                        start=lo, end=hi, carrier=carrier, compare=_compare(compare))


@router.get("/api/energy/realtime", response_model=RealtimeOut,
            summary="实时数据 / Real-time values")
def energy_realtime(session: SessionDep,
                    node: str = Query(description=NODE_DOC),
                    carrier: str | None = Query(None, description=CARRIER_DOC)):
    """The latest values of the node's boundary meters: last reading (time, value, quality),
    the last interval's average power in kW for electricity (interval kWh × 3600 ÷ interval
    seconds; other carriers a rate per hour), the data age and ``online``/``stale`` (stale:
    last reading older than 3 × the meter's interval), and the node's net rate per carrier."""
    return eq.realtime(session.connection(), _node_id(session, node), carrier=carrier)


@router.get("/api/energy/trace", response_model=TraceOut, summary="能耗追溯 / Trace a figure")
def energy_trace(session: SessionDep,
                 node: str = Query(description=NODE_DOC),
                 carrier: str | None = Query(None, description=CARRIER_DOC),
                 period: str | None = Query(None, description=PERIOD_DOC),
                 start: str | None = Query(None, description=FIRST_DAY_DOC),
                 end: str | None = Query(None, description=END_DAY_DOC)):
    """From a node + carrier + period figure down to the readings: every meter counted with
    its period value, sign and role, multiplier and unit conversion, coefficient and tce,
    the rollup rows summed (month and day), the ingestion batches of its readings and API
    paths to its raw readings, interval values, rollups, gaps and revisions."""
    lo, hi = params.period(start, end, required=False)
    return eq.trace(session.connection(), _node_id(session, node), period=period, start=lo,
                    end=hi, carrier=carrier)
