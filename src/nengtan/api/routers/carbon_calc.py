"""Carbon batch calculator (GB/T 32150, MEE guidelines)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from nengtan.api.schemas import ERRORS
from nengtan.errors import InputError, Issue

router = APIRouter(tags=["Carbon calculator / 碳排放计算"], responses=ERRORS)


class CarbonParamIn(BaseModel):
    value: float = Field(description="value / 数值")
    unit: str = Field(description="unit, e.g. GJ/t, tC/TJ, fraction, tCO2/MWh, t / 单位")
    source: str = Field("given in the request", description="document, lab report, meter ... "
                                                            "/ 来源")
    status: str = Field("user", description="measured | verified | unverified | user / 状态")


class CarbonSourceIn(BaseModel):
    source: str = Field(description="source name / 排放源名称")
    kind: str = Field(description="combustion | process | electricity | heat | "
                                  "export_electricity | export_heat | recovered | fugitive "
                                  "/ 排放源类别")
    carrier: str | None = Field(None, description="fuel, material or carrier code (e.g. "
                                                  "bituminous_coal, calcium_carbonate, clinker) "
                                                  "/ 燃料、物料编码")
    quantity: float = Field(description="activity data in `unit` / 活动数据")
    unit: str = Field(description="t, 10^4 Nm3, m3, kWh, MWh, GJ ... / 单位")
    gas: str = Field("CO2", description="CO2, CH4, N2O, SF6, NF3, HFC-134a, CF4 ... / 温室气体")
    method: str = Field("factor", description="factor | mass_balance | measurement / 核算方法")
    params: dict[str, float | CarbonParamIn] = Field(
        default_factory=dict,
        description="given parameters (ncv, carbon_content, oxidation_rate, emission_factor, "
                    "carbon_fraction, purity, carbon_in_t, carbon_out_t, stock_change_t, "
                    "measured_t, cement: cao_content ...); a bare number is in the parameter's "
                    "documented unit / 实测或给定参数")
    green_mwh: float = Field(0.0, description="green certificates / green power, MWh "
                                              "(electricity) / 绿证绿电")
    facility: str | None = Field(None, description="facility / 设施")


class CarbonCalcIn(BaseModel):
    sources: list[CarbonSourceIn] = Field(description="emission sources / 排放源")
    gwp_set: str = Field("AR5", description="SAR | AR4 | AR5 | AR6")
    year: int | None = Field(None, description="inventory year for the factor library / 核算年度")
    region: str | None = Field(None, description="province code for the grid factor / 省份")
    methodology: str = Field("gbt32150", description="gbt32150 | mee_power | cement / 方法学")


def _inputs(body: CarbonCalcIn):
    from nengtan.carbon.batch import param_unit
    from nengtan.carbon.engine import normalise_gas
    from nengtan.carbon.model import Param, SourceInput

    out = []
    for k, s in enumerate(body.sources):
        gas = normalise_gas(s.gas)
        params = {}
        for name, p in s.params.items():
            if isinstance(p, CarbonParamIn):
                params[name] = Param(p.value, p.unit, p.source, p.status)
            else:
                params[name] = Param(float(p), param_unit(name, s.unit, gas),
                                     f"given in the request, sources[{k}]", "user")
        out.append(SourceInput(source=s.source, kind=s.kind, quantity=s.quantity, unit=s.unit,
                               carrier=s.carrier, gas=gas, method=s.method, params=params,
                               facility=s.facility, green_mwh=s.green_mwh, row=k))
    return out


def _check_gwp(gwp: str) -> str:
    from nengtan.carbon.model import GWP_SETS

    gwp = (gwp or "").strip().upper()
    if gwp not in GWP_SETS:
        raise InputError([Issue("rule.choice", field="gwp_set", value=gwp,
                                params={"choices": ", ".join(GWP_SETS)})])
    return gwp


@router.post("/api/calc/carbon", summary="碳排放批量计算 / Batch carbon calculation")
async def calc_carbon(request: Request) -> dict:
    """The batch calculator of `nengtan calc carbon`: send the CSV (`text/csv`, header
    `source,kind,carrier,quantity,unit` and optional `ncv` (GJ/unit), `carbon_content`
    (tC/TJ), `oxidation_rate` (fraction), `emission_factor` (t gas/unit), `gas`, `method`,
    `green_mwh`, `carbon_in_t`, `carbon_out_t`, `stock_change_t`, `facility`; query
    parameters `gwp`, `year`, `region`, `methodology`) or JSON (`CarbonCalcIn`).  Answers
    `total_tco2e`, `scope1_tco2e`, `scope2_tco2e` (location-based), `scope2_market_tco2e`
    (green electricity at 0), `total_market_tco2e`, totals by gas and kind, and one entry per
    source with `tco2e` and `lineage` (every parameter with value, unit, source, status and
    factor id or `given`; the formula with its numbers; the methodology id and version).
    Missing parameters come from the shipped factor library (GB/T 32150-2015, MEE
    guidelines).  A bad row is a 422 naming it (CSV rows as in a spreadsheet, header = 1;
    JSON sources by 0-based index)."""
    from nengtan.carbon import batch
    from nengtan.carbon.engine import compute, result_dict

    ctype = request.headers.get("content-type", "")
    raw = await request.body()
    if "csv" in ctype or "text/plain" in ctype:
        q = request.query_params
        gwp = _check_gwp(q.get("gwp") or q.get("gwp_set") or "AR5")
        year = q.get("year")
        try:
            year_i = int(year) if year else None
        except ValueError:
            raise InputError([Issue("rule.type_int", field="year", value=year)]) from None
        lookup = batch.shipped_lookup(year_i, q.get("region") or None, gwp)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError([Issue("rule.file_format", field="body")]) from None
        return batch.calculate(text, lookup, gwp, q.get("methodology") or "gbt32150",
                               where="request body")
    try:
        body = CarbonCalcIn.model_validate_json(raw or b"{}")
    except ValueError as exc:
        raise InputError([Issue("rule.invalid", field="body",
                                params={"detail": str(exc)[:300]})]) from None
    gwp = _check_gwp(body.gwp_set)
    inputs = _inputs(body)
    lookup = batch.shipped_lookup(body.year, body.region, gwp)
    return batch.with_rows(result_dict(compute(inputs, lookup, gwp, body.methodology)), inputs)


@router.get("/api/calc/carbon/methodologies",
            summary="碳核算方法学 / Carbon accounting methodologies")
def list_methodologies() -> list[dict]:
    """The accounting methodologies the engine knows (id, version, document, the source
    kinds and methods each accounts for): GB/T 32150-2015 general industry, the MEE
    power-generation guideline, cement (GB/T 32151.8-2015)."""
    from nengtan.carbon import methodologies

    return [m.describe() for m in methodologies.all_methodologies()]
