"""Energy totals and intensity (GB/T 2589), coefficients, parameters and the batch calculator."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from nengtan.api.auth import ActorDep
from nengtan.api.deps import SessionDep
from nengtan.api.params import PERIOD_DOC, node_period
from nengtan.api.schemas import ERRORS, input_model, output_model, payload
from nengtan.errors import InputError, Issue
from nengtan.services import energy_data, energy_params, energy_totals

router = APIRouter(tags=["Energy / 能耗总量与强度"], responses=ERRORS)

NODE_DOC = "node code (park, enterprise, site, workshop, line, equipment) / 节点编码"

ParameterIn = input_model("EnergyParameterIn", energy_params.FIELDS,
                          doc="A new energy accounting parameter (a new version; old values "
                              "stay).")
Parameter = output_model("EnergyParameter", energy_params.FIELDS, {
    "id": (int, "id"), "tenant_id": (int | None, "tenant the value applies to; null: all"),
    "created_by": (str | None, "who recorded it"), "created_at": (Any, "when it was recorded"),
}, doc="An energy accounting parameter with its provenance.")


class CalcRow(BaseModel):
    carrier: str = Field(description="carrier code / 能源品种编码")
    quantity: float = Field(description="quantity in `unit` / 数量")
    unit: str = Field(description="t, kg, m3, 10^4 m3, kWh, MWh, GJ, MJ, ... / 单位")
    use: str = Field("fuel", description="fuel | feedstock | export | renewable / 用途")
    ncv_mj_per_unit: float | None = Field(None, description="measured NCV, MJ per unit / 实测低位发热量")
    label: str | None = None


class CalcIn(BaseModel):
    rows: list[CalcRow] = Field(description="energy quantities / 能源数量")
    year: int | None = Field(None, description="year of the equal-value coefficient")
    equal_value_kgce_per_kwh: float | None = Field(None, gt=0,
                                                   description="overrides the yearly value")


@router.get("/api/energy/totals", summary="综合能耗 / Comprehensive energy consumption")
def totals(session: SessionDep, node: str = Query(..., description=NODE_DOC),
           period: str = Query(..., description=PERIOD_DOC),
           compare: bool = Query(True, description="add the previous period and the year "
                                                   "before / 环比与同比")) -> dict:
    """Comprehensive energy consumption of a node (GB/T 2589-2020 clause 4), tce: electricity
    at equivalent value (`total_tce`) and at equal value (`total_tce_equal_value`), exports
    deducted, feedstock (`feedstock_tce`) and renewable electricity (`renewable_tce`) apart,
    per carrier with quantities, coefficients (source, status) and meters; coverage of the
    data; month-on-month and year-on-year."""
    n, per = node_period(session, node, period)
    return energy_totals.node_totals(session.connection(), n.id, per, compare=compare)


@router.get("/api/energy/intensity", summary="能耗强度 / Energy intensity")
def intensity(session: SessionDep, node: str = Query(..., description=NODE_DOC),
              period: str = Query(..., description=PERIOD_DOC),
              price_basis: str = Query("current", description="current or constant_<year>")
              ) -> dict:
    """Unit-product comprehensive energy consumption (kgce per product unit; per standard
    product when a node makes several products) and tce per 10^4 CNY of output value and of
    value added, both electricity methods."""
    n, per = node_period(session, node, period)
    return energy_totals.intensity(session.connection(), n.id, per, price_basis)


@router.get("/api/energy/product-intensity",
            summary="单位产品综合能耗 / Unit product energy consumption")
def product_intensity(session: SessionDep, node: str = Query(..., description=NODE_DOC),
                      product: str = Query(..., description="product code / 产品编码"),
                      period: str = Query(..., description=PERIOD_DOC)) -> dict:
    """kgce per unit of one product made at the node (GB/T 2589-2020 4.4)."""
    n, per = node_period(session, node, period)
    return energy_totals.product_intensity(session.connection(), n.id, product, per)


@router.get("/api/energy/coefficients", summary="折标系数 / Conversion coefficients")
def coefficients(session: SessionDep,
                 node: str | None = Query(None, description="enterprise whose parameters and "
                                                            "measured NCVs apply / 企业编码"),
                 period: str | None = Query(None, description=PERIOD_DOC)) -> dict:
    """The coefficient of every energy carrier (kgce per unit) with its method (reference,
    default NCV, measured NCV, user) and source and status; with `node` and `period`, the
    values that apply to that enterprise then (its parameters and lab analyses)."""
    conn = session.connection()
    if node or period:
        n, per = node_period(session, node or "", period or "")
        lib = energy_data.library_for(conn, n.tenant_id, per.start, per.end)
        scope = {"node": n.code, "period": per.as_dict()}
    else:
        per = None
        lib = energy_data.library_for(conn, None, date.today(), date.today())
        scope = {}
    return {**scope, "unit": "kgce per carrier unit",
            "electricity_equivalent_kgce_per_kwh": 0.1229,
            "equal_value": lib.equal_value.lineage() if lib.equal_value else None,
            "coefficients": energy_params.library_listing(lib)}


@router.get("/api/energy/parameters", response_model=list[Parameter],
            summary="能源核算参数 / Energy accounting parameters")
def list_parameters(session: SessionDep, kind: str | None = Query(None),
                    carrier: str | None = Query(None)):
    """Every recorded parameter, old versions included (they are never changed)."""
    return energy_params.listing(session, kind, carrier)


@router.post("/api/energy/parameters", response_model=Parameter, status_code=201,
             summary="登记能源核算参数 / Record an energy accounting parameter")
def create_parameter(body: ParameterIn, session: SessionDep, actor: ActorDep):
    """Record an equal-value coefficient (kgce/kWh), a coefficient (kgce per unit) or a net
    calorific value (MJ per unit; for steam its enthalpy as heat) from `valid_from`.  A new
    value is a new version: figures computed earlier keep naming the value they used."""
    p = energy_params.record(session, payload(body), created_by=actor.user)
    return energy_params.as_dict(p, energy_params.tenant_codes(session))


@router.get("/api/energy/parameters/{param_id}", response_model=Parameter,
            summary="查询能源核算参数 / Get an energy accounting parameter")
def get_parameter(param_id: int, session: SessionDep):
    """One parameter with its provenance."""
    return energy_params.as_dict(energy_params.get(session, param_id),
                                 energy_params.tenant_codes(session))


@router.post("/api/calc/energy", summary="综合能耗批量计算 / Batch energy calculation")
async def calc_energy(request: Request) -> dict:
    """The batch calculator of `nengtan calc energy`: send the CSV (`text/csv`, header
    `carrier,quantity,unit[,use][,ncv_mj_per_unit][,label]`) or JSON (`CalcIn`).  Answers
    `total_tce`, `total_tce_equal_value`, `feedstock_tce`, `export_tce`, `renewable_tce` and
    one row per input with its coefficient, source and tce; a bad row is a 422 naming it."""
    from nengtan.commands.calc import energy_library
    from nengtan.energy import batch
    from nengtan.energy.gbt2589 import EnergyInput, convert

    ctype = request.headers.get("content-type", "")
    raw = await request.body()
    year = request.query_params.get("year")
    if "csv" in ctype or "text/plain" in ctype:
        try:
            library = energy_library(int(year) if year else None, None)
        except ValueError:
            raise InputError([Issue("rule.type_int", field="year", value=year)]) from None
        return batch.calculate(raw.decode("utf-8-sig"), library).as_dict()
    try:
        body = CalcIn.model_validate_json(raw or b"{}")
    except ValueError as exc:
        raise InputError([Issue("rule.invalid", field="body", params={"detail": str(exc)[:300]})]) \
            from None
    library = energy_library(body.year, body.equal_value_kgce_per_kwh)
    inputs = [EnergyInput(r.carrier, r.quantity, r.unit, r.use, r.ncv_mj_per_unit,
                          label=r.label, row=k) for k, r in enumerate(body.rows)]
    return convert(inputs, library, first_row=0).as_dict()
