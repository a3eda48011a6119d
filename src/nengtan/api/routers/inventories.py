"""Carbon inventories (碳盘查): sources, results, locks, versions, diffs.

Writes that freeze figures (``POST .../lock``) act as the user of the ``X-Nengtan-User``
header; computing records it when given.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from nengtan.api.auth import ActorDep
from nengtan.api.deps import PagingDep, SessionDep
from nengtan.api.params import resolve
from nengtan.api.schemas import ERRORS, OPEN, input_model, output_model, page_model, payload
from nengtan.services import inventories as svc
from nengtan.services import inventory_sources as sources
from nengtan.store.models import Node

router = APIRouter(tags=["Carbon inventory / 碳盘查"], responses=ERRORS)
View = Literal[svc.VIEWS]  # type: ignore[valid-type]
BASE = "/api/inventories"
SOURCES = "/api/inventory-sources"

InventoryIn = input_model(
    "InventoryIn", svc.FIELDS,
    doc="A carbon inventory (碳盘查) of an enterprise: boundary, reporting period, base year, "
        "GWP set, methodology, region and an optional target or budget.")
InventoryPatch = input_model("InventoryPatch", svc.FIELDS, partial=True,
                             doc="Fields to change; checked like a new inventory.")


class VersionSummary(BaseModel):
    """A computed result's figures and state (no result body)."""

    model_config = OPEN
    version: int
    status: Literal["draft", "locked"]
    total_tco2e: float
    scope1_tco2e: float
    scope2_tco2e: float = Field(description="location-based")
    scope2_market_tco2e: float = Field(description="market-based (green certificates at 0)")
    unit: str
    digest: str = Field(description="SHA-256 (hex) of the canonical JSON of the version")
    computed_by: str | None
    computed_at: str | None
    locked_by: str | None
    locked_at: str | None
    note: str | None
    ledger: dict[str, Any] | None = Field(
        description="locked: ledger entries appended per kind, the result's entry id and the "
                    "signed checkpoint")


Inventory = output_model("Inventory", svc.FIELDS, {
    "node_id": (int, "id of the enterprise node"),
    "tenant_id": (int, "enterprise (tenant) id"),
    "enterprise_name_zh": (str, "enterprise name"),
    "enterprise_name_en": (str | None, "enterprise name (English)"),
    "period_start": (str, "first local date of the period"),
    "period_end": (str, "local date after the last (exclusive)"),
    "effective_grid_basis": (str, "grid factor basis used (given, else by industry code)"),
    "status": (str, "new (never computed), draft or locked (the latest version)"),
    "latest_version": (VersionSummary | None, "the latest version"),
    "locked_version": (VersionSummary | None, "the latest locked version"),
    "created_at": (str, "UTC"), "updated_at": (str, "UTC"),
}, doc="A carbon inventory with its latest and latest locked version.")
InventoryPage = page_model(Inventory)

SourceIn = input_model(
    "InventorySourceIn", sources.FIELDS,
    doc="An emission source (排放源) with its activity-data links.  Link objects: "
        '{"kind": "meter", "meter": "CEM-C-201", "sign": 1}, '
        '{"kind": "manual_entry", "manual_entry": 12}, '
        '{"kind": "fuel_deliveries", "use": "params"}, '
        '{"kind": "production", "product": "CLINKER"}, '
        '{"kind": "cems", "monitor": "CEM-CEMS-KT"}, '
        '{"kind": "value", "value": 12.5, "unit": "t", "source": "invoice 2025-001", '
        '"period_start": "2025-01-01", "period_end": "2025-12-31", "evidence_id": 3}, '
        '{"kind": "green_certificate", "value": 800, "unit": "MWh", "source": "GEC ...", '
        '"reference": "certificate no."}.')
SourcePatch = input_model("InventorySourcePatch", sources.FIELDS, partial=True,
                          doc="Fields to change (params and links replace the stored ones "
                              "whole); checked like a new source; a new revision.")
Source = output_model("InventorySource", sources.FIELDS, {
    "node_id": (int, "id of the enterprise node"),
    "tenant_id": (int, "enterprise (tenant) id"),
    "inventory_id": (int | None, "id of the inventory (null: shared by the enterprise)"),
    "facility_node_id": (int | None, "id of the facility node"),
    "scope": (int, "1, 2 or 3"),
    "revision": (int, "revision of the definition (every change adds one)"),
    "links": (list[dict[str, Any]], "activity-data links with codes and ids"),
    "created_at": (str, "UTC"), "updated_at": (str, "UTC"),
}, doc="An emission source.")
SourcePage = page_model(Source)


class Version(VersionSummary):
    """A version with its whole result: ``totals``; ``sources`` (each with activity data,
    parameters, formula and lineage); ``by_scope``, ``by_facility``, ``by_gas``, ``by_kind``;
    ``scope3``; ``alongside``; ``trend`` (months); ``alerts``; ``intensity``;
    ``renewables``; ``base_year_comparison``; ``factor_values``; ``warnings``."""

    result: dict[str, Any]


class ViewOut(BaseModel):
    model_config = OPEN
    inventory: str
    version: int
    status: str
    view: str
    totals: dict[str, Any]
    items: Any = Field(description="the part asked for (a list, or an object for alerts, "
                                   "intensity, scope3 and renewables)")


class DiffOut(BaseModel):
    """Two versions compared: totals (old, new, delta), settings changed, and per source
    old/new/delta tCO2e with ``why`` (activity links, parameters with factor ids, definition,
    GWP, methodology)."""

    model_config = OPEN
    inventory: str
    from_: VersionSummary = Field(alias="from")
    to: VersionSummary
    totals: dict[str, Any]
    unit: str
    settings: list[dict[str, Any]]
    sources: list[dict[str, Any]]
    changed_sources: list[str]


class LineageOut(BaseModel):
    """One figure with its lineage and the sources it adds up (each with its activity data,
    parameters and evidence)."""

    model_config = OPEN
    inventory: str
    version: int
    status: str
    digest: str
    figure: str
    value: float
    unit: str
    lineage: dict[str, Any]
    sources: list[dict[str, Any]]


class LockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, description="why this version is locked / 锁定说明")


# -- inventories ---------------------------------------------------------------------------
@router.get(BASE, response_model=InventoryPage, summary="碳盘查列表 / List carbon inventories")
def list_inventories(session: SessionDep, paging: PagingDep,
                     enterprise: str | None = Query(None, description="enterprise node code"),
                     year: int | None = Query(None, description="periods starting in this year")):
    """Inventories, latest period first, each with its latest and latest locked version."""
    node = resolve(session, Node, enterprise, "enterprise", "node")
    rows, total = paging.page(session, svc.list_query(node.id if node else None, year))
    return paging.answer([svc.as_dict(session, r) for r in rows], total)


@router.post(BASE, response_model=Inventory, status_code=201,
             summary="新建碳盘查 / Create a carbon inventory")
def create_inventory(body: InventoryIn, session: SessionDep):
    """Define an inventory: enterprise (organisational boundary = its subtree), operational
    boundary, period, base year, GWP set (AR5 default), methodology (gbt32150, cement,
    mee_power), region (default from the node tree), target or budget."""
    return svc.as_dict(session, svc.create(session, payload(body)))


@router.get(BASE + "/{inventory_id}", response_model=Inventory,
            summary="查询碳盘查 / Get a carbon inventory")
def get_inventory(inventory_id: int, session: SessionDep):
    """One inventory with its latest and latest locked version."""
    return svc.as_dict(session, svc.get(session, inventory_id))


@router.patch(BASE + "/{inventory_id}", response_model=Inventory,
              summary="修改碳盘查 / Change a carbon inventory")
def update_inventory(inventory_id: int, body: InventoryPatch, session: SessionDep):
    """Change some fields; the next computation uses them, locked versions keep theirs.
    Code and enterprise are fixed once a version is locked."""
    return svc.as_dict(session, svc.update(session, inventory_id, payload(body)))


@router.delete(BASE + "/{inventory_id}", status_code=204, response_class=Response,
               summary="删除碳盘查 / Delete a carbon inventory")
def delete_inventory(inventory_id: int, session: SessionDep) -> Response:
    """Delete an inventory that has no locked version (with its own sources and draft)."""
    svc.delete(session, inventory_id)
    return Response(status_code=204)


@router.get(BASE + "/{inventory_id}/sources", response_model=list[Source],
            summary="碳盘查的排放源 / Sources of an inventory")
def inventory_sources(inventory_id: int, session: SessionDep,
                      include_inactive: bool = Query(False)):
    """The inventory's own sources and those its enterprise shares with every inventory."""
    inv = svc.get(session, inventory_id)
    return [sources.as_dict(session, s)
            for s in sources.for_inventory(session, inv, active_only=not include_inactive)]


# -- sources -------------------------------------------------------------------------------
@router.get(SOURCES, response_model=SourcePage, summary="排放源列表 / List emission sources")
def list_sources(session: SessionDep, paging: PagingDep,
                 enterprise: str | None = Query(None, description="enterprise node code"),
                 inventory: str | None = Query(None, description="inventory code")):
    """Emission sources, by enterprise, sort order and code."""
    node = resolve(session, Node, enterprise, "enterprise", "node")
    inv = resolve(session, sources.Inventory, inventory, "inventory", "inventory")
    rows, total = paging.page(session, sources.list_query(node.id if node else None,
                                                          inv.id if inv else None))
    return paging.answer([sources.as_dict(session, r) for r in rows], total)


@router.post(SOURCES, response_model=Source, status_code=201,
             summary="新建排放源 / Create an emission source")
def create_source(body: SourceIn, session: SessionDep):
    """Register a source for an inventory (``inventory``) or for an enterprise
    (``enterprise``; every inventory of it uses the source).  Every link is validated:
    unknown meter, carrier mismatch, kind and method combinations, units, approved manual
    entries only; every problem names its field (``links[1].meter``)."""
    return sources.as_dict(session, sources.create(session, payload(body)))


@router.get(SOURCES + "/{source_id}", response_model=Source,
            summary="查询排放源 / Get an emission source")
def get_source(source_id: int, session: SessionDep):
    """One source with its links and revision."""
    return sources.as_dict(session, sources.get(session, source_id))


@router.patch(SOURCES + "/{source_id}", response_model=Source,
              summary="修改排放源 / Change an emission source")
def update_source(source_id: int, body: SourcePatch, session: SessionDep):
    """Change some fields (``params`` and ``links`` replace the stored ones whole): a new
    revision; locked versions keep what they used (the revision is in the ledger)."""
    return sources.as_dict(session, sources.update(session, source_id, payload(body)))


@router.delete(SOURCES + "/{source_id}", status_code=204, response_class=Response,
               summary="删除排放源 / Delete an emission source")
def delete_source(source_id: int, session: SessionDep) -> Response:
    """Delete a source no locked version used (set ``active`` false to retire one that
    was used)."""
    sources.delete(session, source_id)
    return Response(status_code=204)


# -- results -------------------------------------------------------------------------------
@router.post(BASE + "/{inventory_id}/compute", response_model=Version,
             summary="核算碳盘查 / Compute an inventory")
def compute(inventory_id: int, session: SessionDep, actor: ActorDep):
    """Compute from the data stored now (meters, approved manual entries, fuel deliveries,
    production, CEMS, the factor library of the inventory's year, region and GWP set) and
    keep the result as the draft version (after a lock: the next version).  Locked versions
    never change."""
    return svc.version_dict(svc.compute(session, inventory_id, actor.user))


@router.get(BASE + "/{inventory_id}/results", response_model=Version,
            summary="碳盘查结果 / Inventory results")
def results(inventory_id: int, session: SessionDep,
            version: int | None = Query(None, description="version (default: the latest)")):
    """A stored result: totals and scopes (location- and market-based), sources with
    activity data, parameters, formula and lineage, breakdowns by facility, gas and kind,
    scope 3, sources shown alongside, monthly trend, alerts, intensity, renewable self-use."""
    return svc.version_dict(svc.version(session, inventory_id, version))


@router.get(BASE + "/{inventory_id}/results/{view}", response_model=ViewOut,
            summary="碳盘查结果分项 / Inventory results by view")
def result_view(inventory_id: int, view: View, session: SessionDep,
                version: int | None = Query(None, description="version (default: the latest)")):
    """One part of a stored result: ``sources``, ``facilities``, ``gases``, ``scopes``,
    ``kinds``, ``trend`` (months, cumulative), ``alerts`` (running total against the target
    pro rata), ``intensity`` (per product, per 10^4 CNY), ``scope3``, ``alongside``,
    ``renewables``, ``factors`` (library values used)."""
    return svc.view(svc.version(session, inventory_id, version), view)


@router.post(BASE + "/{inventory_id}/lock", response_model=Version,
             summary="锁定碳盘查 / Lock an inventory")
def lock(inventory_id: int, session: SessionDep, actor: ActorDep, body: LockIn | None = None):
    """Compute from the data stored now and lock that version: its figures never change.
    The readings (per meter-day), approved manual entries, fuel deliveries, evidence files,
    factor values and source definitions it rests on, and its own digest, are appended to the
    evidence ledger and a checkpoint is signed."""
    v = svc.lock(session, inventory_id, actor.user, body.note if body else None)
    return svc.version_dict(v)


@router.get(BASE + "/{inventory_id}/versions", response_model=list[VersionSummary],
            summary="碳盘查版本 / Inventory versions")
def versions(inventory_id: int, session: SessionDep):
    """Every version, oldest first (figures, digest, who computed and locked it)."""
    return [svc.version_summary(v) for v in svc.versions(session, inventory_id)]


@router.get(BASE + "/{inventory_id}/diff", response_model=DiffOut,
            summary="碳盘查版本差异 / Compare inventory versions")
def diff(inventory_id: int, session: SessionDep,
         old: int | None = Query(None, alias="from", description="default: the version before "
                                                                 "`to`"),
         new: int | None = Query(None, alias="to", description="default: the latest")):
    """Per source: old, new and delta tCO2e and why — which activity data (meter, manual
    entry, deliveries ...) or parameter (value, source, factor id) changed."""
    return svc.diff(session, inventory_id, old, new)


@router.get(BASE + "/{inventory_id}/lineage", response_model=LineageOut,
            summary="数字溯源 / Lineage of a figure")
def lineage(inventory_id: int, session: SessionDep,
            figure: str = Query("total", description="total, scope1, scope2, scope2_market, "
                                                     "total_market, source:CODE, facility:CODE, "
                                                     "gas:GAS, kind:KIND, month:YYYY-MM, "
                                                     "scope3:N, alongside:CODE"),
            version: int | None = Query(None, description="default: the latest")):
    """One figure drilled down: the sources it adds up, each to its activity data (meter
    rollups with coverage and links to the raw readings, manual entries with evidence files:
    SHA-256, uploader, time; lab records of fuel deliveries), its parameters with source and
    status, the formula and the methodology."""
    return svc.lineage(session, inventory_id, figure, version)
