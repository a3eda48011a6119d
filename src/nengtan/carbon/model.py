"""Plain data of carbon accounting, shared by the factor library, the engine, inventories,
the ledger and reports (pure: no I/O).

Units: activity data in the unit of its ``unit`` field; NCV in GJ per unit of quantity; carbon
content in tC/TJ; oxidation rate as a fraction; emission factors in t of gas per unit of
quantity (or per the factor's own unit, converted by the engine); results in t of gas and
tCO2e (GB/T 32150-2015 clause 3, MEE enterprise accounting guidelines).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

#: Kinds of emission source (排放源类别) and their scope (GHG Protocol scopes, GB/T 32150
#: direct = scope 1, indirect from purchased electricity and heat = scope 2).
SOURCE_KINDS = {
    "combustion": 1,          # 化石燃料燃烧
    "process": 1,             # 工业生产过程
    "fugitive": 1,            # 逸散 (non-CO2 gases)
    "recovered": 1,           # CO2 回收利用 (deducted)
    "electricity": 2,         # 净购入电力
    "heat": 2,                # 净购入热力
    "export_electricity": 2,  # 输出电力 (deducted)
    "export_heat": 2,         # 输出热力 (deducted)
}
#: Kinds whose emissions are deducted from the total.
DEDUCTED = ("recovered", "export_electricity", "export_heat")
METHODS = ("factor", "mass_balance", "measurement")
GASES = ("CO2", "CH4", "N2O", "HFCs", "PFCs", "SF6", "NF3")
GWP_SETS = ("SAR", "AR4", "AR5", "AR6")
CO2_PER_C = 44.0 / 12.0


@dataclass(frozen=True)
class FactorValue:
    """One value of the factor library with its provenance.

    ``parameter``: ``ncv`` (GJ/unit), ``carbon_content`` (tC/TJ), ``oxidation_rate``
    (fraction), ``emission_factor`` (t gas per unit), ``grid_factor`` (tCO2/MWh),
    ``heat_factor`` (tCO2/GJ), ``process_factor`` (tCO2/t), ``gwp`` (t CO2e per t gas).
    ``subject``: the carrier, material, gas or (for grid factors) the use it applies to.
    """

    id: str
    dataset: str
    version: int
    parameter: str
    subject: str
    value: float
    unit: str
    document: str
    status: str  # verified | unverified | measured | user
    clause: str | None = None
    year: int | None = None
    region: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    note: str | None = None

    def lineage(self) -> dict:
        return {"factor_id": self.id, "dataset": self.dataset, "version": self.version,
                "parameter": self.parameter, "subject": self.subject, "value": self.value,
                "unit": self.unit, "document": self.document, "clause": self.clause,
                "year": self.year, "region": self.region, "status": self.status}


class FactorLookup(Protocol):
    """What the engine asks the library: the value of a parameter for a subject, for the
    inventory's year and region (selection rules are the library's), or None."""

    def get(self, parameter: str, subject: str) -> FactorValue | None: ...

    def gwp(self, gas: str) -> FactorValue | None: ...


@dataclass(frozen=True)
class Param:
    """A parameter given with the activity data (measured, or entered with a source)."""

    value: float
    unit: str
    source: str
    status: str = "measured"

    def lineage(self, parameter: str) -> dict:
        return {"parameter": parameter, "value": self.value, "unit": self.unit,
                "source": self.source, "status": self.status, "factor_id": None}


@dataclass(frozen=True)
class SourceInput:
    """One emission source's activity data for a period.

    ``carrier`` is the fuel / material / gas / electricity carrier the library keys on.
    ``params`` may give ``ncv``, ``carbon_content``, ``oxidation_rate``, ``emission_factor``
    (overrides the three), or method-specific values (mass balance: ``carbon_in_t`` etc.;
    measurement: ``measured_t``); whatever is missing comes from the library, and the lineage
    says which.  ``green_mwh``: electricity backed by green certificates / green power
    contracts (market-based scope 2).
    """

    source: str
    kind: str
    quantity: float
    unit: str
    carrier: str | None = None
    gas: str = "CO2"
    method: str = "factor"
    params: dict[str, Param] = field(default_factory=dict)
    facility: str | None = None
    green_mwh: float = 0.0
    row: int | None = None
    #: Where the activity data came from (meter codes, manual entry ids ...).
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceResult:
    source: str
    kind: str
    scope: int
    gas: str
    method: str
    #: mass of the gas, t (signed: deductions negative)
    emission_t: float
    gwp: float
    #: tCO2e, location-based (signed)
    tco2e: float
    #: tCO2e, market-based (differs for electricity only)
    tco2e_market: float
    facility: str | None
    lineage: dict

    def as_dict(self) -> dict:
        return {"source": self.source, "kind": self.kind, "scope": self.scope, "gas": self.gas,
                "method": self.method, "emission_t": self.emission_t, "gwp": self.gwp,
                "tco2e": self.tco2e, "tco2e_market": self.tco2e_market,
                "facility": self.facility, "lineage": self.lineage}


@dataclass(frozen=True)
class InventoryResult:
    total_tco2e: float
    scope1_tco2e: float
    scope2_tco2e: float
    scope2_market_tco2e: float
    total_market_tco2e: float
    by_gas: dict[str, float]
    by_kind: dict[str, float]
    sources: list[SourceResult]
    gwp_set: str
    methodology: str


def dicts_in(lineage: Any) -> Iterator[dict]:
    """Every dict inside a nested lineage structure (dicts and lists), outer ones first."""
    if isinstance(lineage, dict):
        yield lineage
        for v in lineage.values():
            yield from dicts_in(v)
    elif isinstance(lineage, list | tuple):
        for v in lineage:
            yield from dicts_in(v)
