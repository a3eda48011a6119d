"""Emission factor library: datasets, values, versions, selection."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from nengtan.api.deps import PagingDep, SessionDep
from nengtan.api.schemas import ERRORS, OPEN, input_model, payload
from nengtan.carbon.factors import GRID_BASES, PARAMETERS
from nengtan.carbon.model import GWP_SETS
from nengtan.services import factor_library as fl

router = APIRouter(tags=["Emission factors / 排放因子库"], responses=ERRORS)

Parameter = Literal[tuple(PARAMETERS)]  # type: ignore[valid-type]
GwpSet = Literal[GWP_SETS]  # type: ignore[valid-type]
GridBasis = Literal[tuple(GRID_BASES)]  # type: ignore[valid-type]
Status = Literal[fl.STATUSES]  # type: ignore[valid-type]

FactorValueIn = input_model("FactorValueIn", fl.VALUE_FIELDS,
                            doc="One factor value with its provenance.")
FactorDatasetIn = input_model(
    "FactorDatasetIn", fl.DATASET_FIELDS,
    doc="A user factor dataset with its values; an existing `code` gets a new version "
        "(values are never edited).",
    values=(list[FactorValueIn] | None,
            Field(None, description="the values of this version, complete (they replace the "
                                    "previous version's values for selection)")))


class FactorValueOut(BaseModel):
    """One stored factor value of one dataset version."""

    model_config = OPEN
    id: int
    key: str = Field(description="identity within the dataset across versions")
    dataset: str
    dataset_id: int
    version: int
    origin: str = Field(description="shipped or user")
    tenant_id: int | None
    current: bool = Field(description="its dataset version is the current one")
    parameter: str
    subject: str
    gwp_set: str | None
    value: float = Field(description="in `unit`")
    unit: str
    document: str
    clause: str | None
    year: int | None
    region: str | None
    valid_from: date | None
    valid_to: date | None = Field(description="exclusive")
    status: str = Field(description="verified, unverified, measured or user")
    note: str | None


class FactorValuePage(BaseModel):
    items: list[FactorValueOut]
    total: int
    limit: int
    offset: int


class FactorValueDetail(FactorValueOut):
    dataset_info: dict[str, Any]
    lineage: dict[str, Any] = Field(description="as results cite it")
    history: list[dict[str, Any]] = Field(description="the same key in every version of the "
                                                      "dataset (value null: not in it)")
    sha256: str = Field(description="digest of the stored value (evidence ledger record "
                                    "kind factor_value)")


class FactorDatasetOut(BaseModel):
    """One version of a factor dataset."""

    model_config = OPEN
    id: int
    code: str
    version: int
    title: str
    document: str | None
    origin: str = Field(description="shipped (reference data of nengtan) or user")
    tenant: str | None = Field(description="code of the tenant of a user dataset (null: "
                                           "every tenant)")
    tenant_id: int | None
    reference_version: str | None
    content_sha256: str | None
    note: str | None
    created_by: str | None
    created_at: datetime | None
    current: bool
    values_count: int | None


class FactorDatasetDetail(FactorDatasetOut):
    versions: list[int]
    values: list[FactorValueOut]
    changes: dict[str, Any] | None = Field(description="keys added, removed and changed since "
                                                       "the previous version")


class SelectionOut(BaseModel):
    model_config = OPEN
    parameter: str
    subject: str
    value: dict[str, Any] | None = Field(description="lineage of the chosen value (null: none)")
    rule: str | None = Field(description="selection rule that chose it")
    tier: str | None = Field(description="tenant, installation or shipped")
    why: str | None
    why_zh: str | None
    considered: dict[str, int] = Field(description="valid candidates per tier")
    settings: dict[str, Any]
    candidates: list[dict[str, Any]]


class GwpOut(BaseModel):
    model_config = OPEN
    gwp_set: str
    unit: str
    values: list[dict[str, Any]] = Field(description="per gas: value (tCO2e/t), factor_id, "
                                                     "document, status, lineage")


# -- values ----------------------------------------------------------------------------------
@router.get("/api/factors", response_model=FactorValuePage,
            summary="List emission factor values / 排放因子列表")
def list_factors(session: SessionDep, paging: PagingDep,
                 parameter: Annotated[Parameter | None,
                                      Query(description="parameter / 参数")] = None,
                 subject: str | None = Query(None, description="carrier, material, gas or "
                                                               "electricity use / 对象"),
                 region: str | None = Query(None, description="region (shandong or 山东; "
                                                              "national) / 地区"),
                 year: int | None = Query(None, description="the value's year / 年份"),
                 dataset: str | None = Query(None, description="dataset code / 数据集"),
                 status: Annotated[Status | None, Query()] = None,
                 all_versions: bool = Query(False, description="values of every dataset "
                                                               "version, not only current")):
    """Factor values of the current dataset versions (every version with ``all_versions``),
    each with document, clause, year, region, validity and status.  The shipped datasets are
    loaded on first use."""
    items, total = fl.list_values(session.connection(), parameter, subject, region, year,
                                  dataset, status, all_versions, paging.limit, paging.offset)
    return paging.answer(items, total)


@router.get("/api/factors/select", response_model=SelectionOut,
            summary="Which factor an inventory would use / 因子选用规则查询")
def select_factor(session: SessionDep,
                  parameter: Annotated[Parameter, Query(description="parameter / 参数")],
                  subject: str = Query(description="carrier, material, gas; electricity for "
                                                   "the grid factor / 对象"),
                  year: int | None = Query(None, description="inventory year / 核算年份"),
                  region: str | None = Query(None, description="inventory region / 地区"),
                  gwp_set: Annotated[GwpSet, Query(description="GWP set / GWP 版本")] = "AR5",
                  tenant: str | None = Query(None, description="enterprise or park code: its "
                                                               "own values come first"),
                  grid_basis: Annotated[GridBasis, Query(description=(
                      "general: MEE/NBS average (default); ets: MEE reporting value of the "
                      "national carbon market; lca: life-cycle (footprints)"))] = "general"):
    """The value the selection rules choose for ``parameter`` and ``subject`` in an inventory
    of ``year`` and ``region``: the tenant's values, then the installation's, then shipped
    ones; within them the region's latest year not after the inventory year, else the
    region's earliest, else national; validity dates respected.  Answers the rule, and every
    candidate with why it was or was not eligible."""
    return fl.select_value(session.connection(), parameter, subject, year, region, gwp_set,
                           tenant, grid_basis)


@router.get("/api/factors/{factor_id}", response_model=FactorValueDetail,
            summary="Get an emission factor value / 查询排放因子")
def get_factor(factor_id: str, session: SessionDep):
    """One value (of any version) with its dataset, lineage, history across the dataset's
    versions and its ledger digest.  ``factor_id`` is the id in lineage: a number, or
    ``shipped:<dataset>:<key>`` (the current shipped version's value)."""
    return fl.value_detail(session.connection(), factor_id)


# -- datasets --------------------------------------------------------------------------------
@router.get("/api/factor-datasets", response_model=list[FactorDatasetOut],
            summary="List factor datasets / 排放因子数据集列表")
def list_datasets(session: SessionDep,
                  origin: Annotated[Literal["shipped", "user"] | None, Query()] = None,
                  tenant: str | None = Query(None, description="datasets of this tenant"),
                  all_versions: bool = Query(False, description="every version (history)")):
    """Datasets (current versions unless ``all_versions``) with their number of values."""
    return fl.list_datasets(session.connection(), origin, tenant, all_versions)


@router.post("/api/factor-datasets", response_model=FactorDatasetDetail, status_code=201,
             summary="Add a factor dataset or version / 新增排放因子数据集（新版本）",
             responses={200: {"model": FactorDatasetDetail,
                              "description": "identical to the current version: nothing added"}})
def create_dataset(body: FactorDatasetIn, session: SessionDep, response: Response):
    """Add a user dataset with its values (document, clause, year, region, validity, status
    each); for an existing code this is its next version and the old one stays readable.
    Values of a user dataset take precedence over shipped ones (the tenant's over the
    installation's).  Shipped dataset codes are not writable.  Issues in ``values`` carry the
    index in that list as ``row``."""
    detail, created = fl.create_dataset(session.connection(), payload(body))
    if not created:
        response.status_code = 200
    return detail


@router.get("/api/factor-datasets/{code}", response_model=FactorDatasetDetail,
            summary="Get a factor dataset version / 查询排放因子数据集")
def get_dataset(code: str, session: SessionDep,
                version: int | None = Query(None, ge=1, description="default: current")):
    """A dataset version with its values, all version numbers and the changes from the
    previous version."""
    return fl.dataset_detail(session.connection(), code, version)


# -- GWPs ------------------------------------------------------------------------------------
@router.get("/api/gwp", response_model=GwpOut, summary="Global warming potentials / 全球增温潜势")
def gwp(session: SessionDep,
        set_: Annotated[GwpSet, Query(alias="set", description="SAR, AR4, AR5 or AR6")] = "AR5",
        tenant: str | None = Query(None, description="include this tenant's own values")):
    """GWP-100 (tCO2e per t of gas) of every gas in one IPCC set, as an inventory choosing
    that set would use them, with document and status."""
    return fl.gwp_table(session.connection(), set_, tenant)
