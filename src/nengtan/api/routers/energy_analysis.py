"""Energy analysis: structure, cost with TOU tariffs, load profiles, equipment efficiency."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from nengtan.api.deps import SessionDep
from nengtan.api.params import PERIOD_DOC
from nengtan.api.schemas import ERRORS, OPEN
from nengtan.errors import InputError, Issue, NotFound
from nengtan.services import energy_analysis
from nengtan.services.energy_data import Period, parse_period

router = APIRouter(tags=["Energy analysis / 能源消费分析"], responses=ERRORS)

_NODE = "node code (or id) / 节点编码（或 id）"
_PERIOD = PERIOD_DOC


class CarrierShare(BaseModel):
    """One carrier of a node's consumption."""

    model_config = OPEN
    carrier: str
    quantity: float = Field(description="net physical quantity (in + generated − out), `unit`")
    unit: str
    tce: float = Field(description="tce, equivalent value, exports deducted")
    share_pct: float | None = Field(description="tce ÷ node total × 100, %")


class ChildStructure(BaseModel):
    """A direct child node with its own carrier split."""

    model_config = OPEN
    node: str
    total_tce: float
    share_of_children_pct: float | None
    share_of_node_pct: float | None
    carriers: list[CarrierShare]


class Structure(BaseModel):
    """能源消费结构: tce and share per carrier, and per direct child."""

    model_config = OPEN
    node: str
    node_id: int
    period: dict
    total_tce: float = Field(description="comprehensive energy consumption, tce (GB/T 2589)")
    total_tce_equal_value: float = Field(description="the same, electricity at equal value, tce")
    unit: str = Field(description="tce")
    carriers: list[CarrierShare]
    feedstock: list[dict] = Field(description="feedstock use (原料用能), not in the total")
    children: list[ChildStructure] | None = None
    children_total_tce: float | None = None
    unallocated_tce: float | None = Field(None, description="node total − Σ children, tce")
    lineage: dict


class CostTotals(BaseModel):
    model_config = OPEN
    energy_cny: float = Field(description="energy charges of priced meters, CNY")
    export_credit_cny: float = Field(description="credit for exports, CNY (0 without an "
                                                 "export tariff)")
    demand_charge_cny: float | None = Field(description="需量电费, CNY")
    capacity_charge_cny: float | None = Field(description="容量电费, CNY (needs contracted_kva)")
    basic_charge_basis: Literal["demand", "capacity"]
    basic_charge_cny: float
    total_cny: float = Field(description="energy − export credit + basic charge, CNY")


class Cost(BaseModel):
    """能源成本 of a node and period."""

    model_config = OPEN
    node: str
    node_id: int
    period: dict
    currency: str
    totals: CostTotals
    electricity: dict = Field(description="kWh and CNY per band, peak+sharp share %, average "
                                          "price CNY/kWh, demand kW and charge")
    capacity: dict
    carriers: list[dict]
    no_price: list[dict] = Field(description="boundary meters without a price (not costed)")
    months: list[dict]
    meters: list[dict]
    lineage: dict


class LoadProfile(BaseModel):
    """负荷曲线 of a meter or a node's boundary electricity."""

    model_config = OPEN
    period: dict
    unit: str = Field(description="kW (hourly mean power)")
    profiles: dict[str, Any] = Field(description="working / weekend / holiday: days and 24 "
                                                 "hourly mean kW")
    base_load_kw: float | None
    peak_kw: float | None
    average_kw: float | None
    load_factor: float | None = Field(description="average ÷ peak")
    energy_kwh: float
    night_share_pct: float | None
    idle_share_pct: float | None
    idle_to_active_ratio: float | None
    continuous_operation: bool | None
    waste: dict | None = Field(description="idle-time energy above reference_kw: kWh, CNY at "
                                           "the valley price")
    lineage: dict


def _resolve(conn, period: str, node: str | None = None, meter: str | None = None,
             night: str | None = None) -> tuple[int | None, int | None, Period, tuple | None]:
    """(node id, meter id, period, night hours); every problem of the query at once.  An
    unknown code is a 422 naming the parameter, as everywhere in the query API."""
    issues: list[Issue] = []
    nid = mid = per = hours = None
    for name, ref, find in (("node", node, energy_analysis.node_id),
                            ("meter", meter, energy_analysis.meter_id)):
        if ref is None:
            continue
        try:
            found = find(conn, ref)
        except NotFound:
            issues.append(Issue("rule.ref_unknown", field=name, value=ref, params={"ref": name}))
            continue
        nid, mid = (found, mid) if name == "node" else (nid, found)
    try:
        per = parse_period(period, "period")
    except InputError as exc:
        issues += exc.issues
    if night is not None:
        try:
            a, b = (int(x) for x in night.replace("–", "-").split("-", 1))
            hours = (a, b)
        except ValueError:
            issues.append(Issue("rule.ea_night", field="night", value=night))
    if issues:
        raise InputError(issues)
    return nid, mid, per, hours


@router.get("/api/energy/structure", response_model=Structure,
            summary="能源消费结构 / Energy consumption structure")
def get_structure(session: SessionDep,
                  node: str = Query(..., description=_NODE),
                  period: str = Query(..., description=_PERIOD),
                  children: bool = Query(True, description="split each direct child too / "
                                                           "含下级节点")):
    """Comprehensive energy consumption (GB/T 2589-2020, tce) of a node split by carrier:
    net physical quantity and unit, tce (equivalent and equal value) and share of the total
    in %; feedstock use apart.  With ``children``, the same split for every direct child,
    each from its own boundary, with its share of the children's sum and of the node; the
    remainder ``unallocated_tce`` is energy outside every child's boundary (losses, use
    metered at the node) less what children supply to each other."""
    conn = session.connection()
    nid, _, per, _ = _resolve(conn, period, node=node)
    return energy_analysis.structure(conn, nid, per, children=children)


@router.get("/api/energy/cost", response_model=Cost, summary="能源成本 / Energy cost")
def get_cost(session: SessionDep,
             node: str = Query(..., description=_NODE),
             period: str = Query(..., description=_PERIOD),
             contracted_kva: float | None = Query(None, description="contracted capacity, kVA "
                                                  "(else node attribute contracted_kva) / 合同容量"),
             basic_charge: Literal["demand", "capacity"] | None = Query(
                 None, description="basic charge in the total: demand (default) or capacity "
                                   "/ 基本电费计收方式"),
             export_tariff: str | None = Query(None, description="tariff code crediting "
                                               "exports (else node attribute export_tariff; "
                                               "none: credited at zero) / 上网电价")):
    """Cost of a node's purchased energy in CNY, per meter, per month and in total.

    Electricity meters bringing energy into the node (role ``in``) with a time-of-use tariff:
    kWh per band (sharp/peak/flat/valley/deep valley) from interval values in local time ×
    band price; the share of peak + sharp; the average price CNY/kWh; the monthly maximum
    demand (max 15-minute mean power = max 15-min kWh × 4, kW, with its time) × the demand
    charge CNY/(kW·month); the capacity charge (contracted kVA × CNY/(kVA·month)) when a
    contracted capacity is known, else not computed and said so.  Months partly in the
    period are prorated by days.  Other carriers with a tariff: quantity × price.  Meters
    without a tariff are listed under ``no_price`` (never costed at zero); exports are
    credited at zero unless an export tariff is named; on-site generation has no cost.
    ``lineage`` gives the tariffs (codes, prices, source) and the rules."""
    conn = session.connection()
    nid, _, per, _ = _resolve(conn, period, node=node)
    return energy_analysis.cost(conn, nid, per, contracted_kva=contracted_kva,
                                basic_charge=basic_charge, export_tariff=export_tariff)


@router.get("/api/energy/load-profile", response_model=LoadProfile,
            summary="负荷曲线 / Load profile")
def get_load_profile(session: SessionDep,
                     period: str = Query(..., description=_PERIOD),
                     node: str | None = Query(None, description=_NODE + "; or give meter"),
                     meter: str | None = Query(None, description="electricity meter code (or "
                                                                 "id) / 计量表编码"),
                     night: str = Query("0-5", description="night hours start-end, local / "
                                                           "夜间时段"),
                     percentile: float = Query(5.0, description="percentile of idle-hour power "
                                                                "taken as base load / 基础负荷分位数"),
                     reference_kw: float | None = Query(None, description="reference base load "
                                                        "for the idle waste, kW (default: the "
                                                        "base load) / 参考基础负荷"),
                     hourly: bool = Query(False, description="include every hour's kW / "
                                                             "含逐时数据")):
    """Hourly load of an electricity meter, or of a node's boundary electricity (in +
    generated − exported), over a period: average 24-hour profiles (kW) of working days,
    weekends and Chinese public holidays (``holidays.China``, 调休 workdays counted as
    working days); base load = the ``percentile`` (default 5th) of hourly power over idle
    hours (night hours, default 00:00-05:00, of every day and every hour of public
    holidays); peak hourly load; load factor = average ÷ peak; night and idle energy shares;
    the idle-to-active power ratio (``continuous_operation`` when ≥ 0.8); and the idle waste:
    energy of idle hours above ``reference_kw`` (kWh) and its cost at the valley price
    (CNY)."""
    conn = session.connection()
    if (node is None) == (meter is None):
        raise InputError([Issue("rule.ea_target", field="node")])
    nid, mid, per, hours = _resolve(conn, period, node=node, meter=meter, night=night)
    return energy_analysis.load_profile(conn, per, nid=nid, mid=mid, night=hours,
                                        percentile=percentile, reference_kw=reference_kw,
                                        hourly=hourly)
