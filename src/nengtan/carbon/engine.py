"""Carbon accounting engine (pure: no I/O) — GB/T 32150-2015 and the MEE guidelines.

:func:`compute` turns the activity data of emission sources (:class:`SourceInput`) into an
:class:`InventoryResult`: per source the mass of its gas (t), tCO2e with the chosen GWP set,
location- and market-based, and a ``lineage`` listing every parameter used (value, unit,
source, status, library factor id or ``given``), the formula with its numbers and the
methodology's id and version.  The formulas are those of the methodology
(:mod:`nengtan.carbon.methodologies`; e.g. fuel combustion in
:meth:`~nengtan.carbon.methodologies.base.Methodology.combustion`).

Totals (GB/T 32150-2015 clause 6.5; MEE guidelines):

* ``total = Σ direct (combustion + process + fugitive − recovered)
  + Σ indirect (purchased electricity + heat − exported electricity and heat)``;
* scope 1 = the direct sources, scope 2 = purchased/exported electricity and heat, so
  ``total = scope1 + scope2`` (deductions counted, negative, in their scope);
* market-based: electricity backed by green certificates / green power contracts at
  0 tCO2/MWh (``total_market = scope1 + scope2_market``);
* tCO2e = t of gas × GWP (100-year) of the set (SAR, AR4, AR5, AR6).

Every problem of every source is collected and raised as one :class:`InputError` naming the
row (``SourceInput.row``, else the 0-based index) and the field; nothing is computed from a
bad list.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace

from nengtan import units
from nengtan.carbon import methodologies
from nengtan.carbon.methodologies.base import (
    CO2_ONLY,
    METHOD_KINDS,
    Methodology,
    num,
)
from nengtan.carbon.model import (
    DEDUCTED,
    GWP_SETS,
    METHODS,
    SOURCE_KINDS,
    FactorLookup,
    InventoryResult,
    Param,
    SourceInput,
    SourceResult,
)
from nengtan.errors import InputError, Issue, NotFound

#: Parameters a source may give (others are reported, so a typo is never silently ignored).
PARAMS = {
    "ncv": "GJ per unit of quantity (e.g. GJ/t, GJ/10^4 Nm3)",
    "carbon_content": "carbon content per unit heat, tC/TJ",
    "oxidation_rate": "oxidation rate, fraction",
    "carbon_fraction": "element carbon content, tC/t (fraction)",
    "emission_factor": "t of gas per unit of quantity (replaces NCV × CC × OF)",
    "grid_factor": "tCO2/MWh",
    "heat_factor": "tCO2/GJ",
    "process_factor": "tCO2/t",
    "purity": "purity of a carbonate, fraction",
    "carbon_in_t": "carbon entering, tC (mass balance)",
    "carbon_out_t": "carbon leaving in products and waste, tC (mass balance)",
    "stock_change_t": "increase of carbon in stock, tC (mass balance)",
    "measured_t": "measured mass of the gas, t (measurement)",
    "cao_content": "CaO in clinker, fraction (cement)",
    "cao_non_carbonate": "CaO from non-carbonate materials, fraction (cement)",
    "mgo_content": "MgO in clinker, fraction (cement)",
    "mgo_non_carbonate": "MgO from non-carbonate materials, fraction (cement)",
    "kiln_dust_t": "cement kiln dust leaving the kiln system, t (cement)",
    "bypass_dust_t": "bypass dust, t (cement)",
    "organic_carbon": "organic carbon in raw meal, fraction (cement)",
}
#: Parameters only the cement methodology reads.
CEMENT_PARAMS = ("cao_content", "cao_non_carbonate", "mgo_content", "mgo_non_carbonate",
                 "kiln_dust_t", "bypass_dust_t", "organic_carbon")
#: Kinds whose carrier is required (the library keys on it).
NEEDS_CARRIER = ("combustion", "process")
GAS_GROUPS = ("HFCs", "PFCs")
_PFC = ("CF4", "C2F6", "C3F8", "C4F10", "C-C4F8", "C5F12", "C6F14")


def normalise_gas(name: str | None) -> str:
    """``co2`` → ``CO2``, ``hfc-134a`` → ``HFC-134a``; others as given (trimmed)."""
    text = (name or "").strip() or "CO2"
    upper = text.upper()
    if upper in ("CO2", "CH4", "N2O", "SF6", "NF3") or upper in _PFC:
        return upper
    if upper.startswith("HFC"):
        return "HFC" + text[3:]
    if upper == "PFCS":
        return "PFCs"
    return text


def gas_group(gas: str) -> str:
    """The reporting group of a gas (GB/T 32150: CO2, CH4, N2O, HFCs, PFCs, SF6, NF3)."""
    upper = gas.upper()
    if upper.startswith("HFC"):
        return "HFCs"
    if upper in _PFC or upper.startswith("PFC"):
        return "PFCs"
    return gas


def _methodology(methodology: str | Methodology) -> Methodology:
    if isinstance(methodology, Methodology):
        return methodology
    try:
        return methodologies.get(methodology)
    except NotFound:
        raise InputError([Issue("rule.choice", field="methodology", value=methodology,
                                params={"choices": ", ".join(methodologies.ids())})]) from None


def _check(inp: SourceInput, m: Methodology, row) -> list[Issue]:
    """Problems of a source that no formula needs to see."""
    out: list[Issue] = []

    def add(rule, field, value=None, **params):
        out.append(Issue(rule, row=row, field=field, value=value, params=params or None))

    if not isinstance(inp.source, str) or not inp.source.strip():
        add("rule.required", "source")
    if inp.kind not in SOURCE_KINDS:
        add("rule.choice", "kind", inp.kind, choices=", ".join(SOURCE_KINDS))
        return out
    if inp.kind not in m.kinds:
        add("rule.carbon_kind_methodology", "kind", inp.kind, methodology=m.id)
    if inp.method not in METHODS:
        add("rule.choice", "method", inp.method, choices=", ".join(METHODS))
    elif inp.kind not in METHOD_KINDS[inp.method]:
        add("rule.carbon_method_kind", "method", inp.method, kind=inp.kind,
            kinds=", ".join(METHOD_KINDS[inp.method]))
    q = inp.quantity
    if isinstance(q, bool) or not isinstance(q, (int, float)) or not math.isfinite(q):
        add("rule.not_finite", "quantity", q)
    elif q < 0:
        add("rule.minimum", "quantity", q, min=0)
    if not units.is_unit(inp.unit or ""):
        add("rule.unit_unknown", "unit", inp.unit)
    if inp.kind in NEEDS_CARRIER and inp.method == "factor" and not inp.carrier:
        add("rule.required", "carrier")
    if inp.kind in CO2_ONLY and inp.gas != "CO2":
        add("rule.carbon_gas_kind", "gas", inp.gas, kind=inp.kind)
    if inp.kind == "fugitive" and inp.carrier:
        named = normalise_gas(inp.carrier)
        if named != inp.gas and (named in ("CO2", "CH4", "N2O", "SF6", "NF3")
                                 or gas_group(named) in GAS_GROUPS):
            # a fugitive source whose carrier names another gas: which one leaks?
            add("rule.carbon_gas_carrier", "gas", inp.gas, carrier=inp.carrier)
    g = inp.green_mwh
    if isinstance(g, bool) or not isinstance(g, (int, float)) or not math.isfinite(g):
        add("rule.not_finite", "green_mwh", g)
    elif g < 0:
        add("rule.minimum", "green_mwh", g, min=0)
    elif g and inp.kind != "electricity":
        add("rule.carbon_green_kind", "green_mwh", g)
    for name, p in inp.params.items():
        if name not in PARAMS:
            add("rule.carbon_param_unknown", name, None, known=", ".join(PARAMS))
        elif name in CEMENT_PARAMS and m.id != "cement":
            add("rule.carbon_param_methodology", name, None, methodology=m.id)
        elif not isinstance(p, Param):
            add("rule.invalid", name, p, detail="a parameter needs value, unit and source")
    return out


class _Gwp:
    """GWP values of the inventory's set, asked once per gas."""

    def __init__(self, lookup: FactorLookup, gwp_set: str):
        self.lookup, self.gwp_set = lookup, gwp_set
        self.cache: dict[str, tuple[float, dict] | None] = {}

    def get(self, gas: str) -> tuple[float, dict] | None:
        if gas not in self.cache:
            fv = self.lookup.gwp(gas)
            if fv is not None:
                lin = fv.lineage()
                lin.update({"gas": gas, "set": self.gwp_set, "origin": "library"})
                self.cache[gas] = (float(fv.value), lin)
            elif gas == "CO2":
                self.cache[gas] = (1.0, {"gas": "CO2", "set": self.gwp_set, "value": 1.0,
                                         "unit": "tCO2e/tCO2", "source": "by definition",
                                         "status": "verified", "factor_id": "definition",
                                         "origin": "definition"})
            else:
                self.cache[gas] = None
        return self.cache[gas]


def compute_source(inp: SourceInput, lookup: FactorLookup, gwp_set: str = "AR5",
                   methodology: str | Methodology = methodologies.DEFAULT,
                   row: int | None = None, _gwp: _Gwp | None = None) -> SourceResult:
    """One source → :class:`SourceResult`, or an :class:`InputError` naming ``row``."""
    m = _methodology(methodology)
    gwp = _gwp or _Gwp(lookup, gwp_set)
    row = inp.row if row is None else row
    inp = _species(inp)
    issues = _check(inp, m, row)
    if issues:
        raise InputError(issues)
    g = gwp.get(inp.gas)
    if g is None:
        rule = "rule.carbon_gas_species" if inp.gas in GAS_GROUPS else "rule.carbon_gwp_missing"
        raise InputError([Issue(rule, row=row, field="gas", value=inp.gas,
                                params={"set": gwp_set})])
    sheet = m.sheet(inp, lookup, row)
    calc = m.calculate(inp, sheet)
    if sheet.issues or calc is None:
        raise InputError(sheet.issues or [Issue("rule.carbon_no_result", row=row)])
    scope = SOURCE_KINDS[inp.kind]
    sign = -1.0 if inp.kind in DEDUCTED else 1.0
    gwp_value, gwp_lineage = g
    emission = sign * calc.emission_t
    tco2e = emission * gwp_value
    market_e = calc.emission_t if calc.market_emission_t is None else calc.market_emission_t
    tco2e_market = sign * market_e * gwp_value
    formula = calc.formula
    if gwp_value != 1.0 or inp.gas != "CO2":
        formula += (f"; tCO2e = E × GWP = {num(calc.emission_t)} t{inp.gas} × {num(gwp_value)} "
                    f"({gwp_set}) = {num(calc.emission_t * gwp_value)} tCO2e")
    if sign < 0:
        formula += f"; deducted: {num(tco2e)} tCO2e"
    activity = {"quantity": inp.quantity, "unit": inp.unit, "carrier": inp.carrier,
                "converted": calc.activity}
    if inp.evidence:
        activity["evidence"] = list(inp.evidence)
    lineage = {
        "methodology": m.lineage(),
        "method": inp.method,
        "kind": inp.kind,
        "scope": scope,
        "deducted": sign < 0,
        "gas": inp.gas,
        "activity": activity,
        "parameters": [u.lineage() for u in sheet.used],
        "gwp": gwp_lineage,
        "formula": formula,
    }
    if calc.market_formula:
        lineage["market"] = {"formula": calc.market_formula,
                             "green_mwh": inp.green_mwh, "tco2e": tco2e_market,
                             "basis": "green certificates / green power contracts at "
                                      "0 tCO2/MWh; the rest at the grid factor"}
    if sheet.notes:
        lineage["notes"] = list(sheet.notes)
    return SourceResult(source=inp.source, kind=inp.kind, scope=scope, gas=inp.gas,
                        method=inp.method, emission_t=emission, gwp=gwp_value, tco2e=tco2e,
                        tco2e_market=tco2e_market, facility=inp.facility, lineage=lineage)


def _species(inp: SourceInput) -> SourceInput:
    """The gas of a source as a species with a GWP: a group (HFCs, PFCs) named with the
    species as the carrier (``gas="HFCs", carrier="HFC-134a"``) becomes that species."""
    gas = normalise_gas(inp.gas)
    if gas in GAS_GROUPS and inp.carrier:
        species = normalise_gas(inp.carrier)
        if gas_group(species) == gas and species != gas:
            gas = species
    return inp if gas == inp.gas else replace(inp, gas=gas)


def compute(inputs: Iterable[SourceInput], lookup: FactorLookup, gwp_set: str = "AR5",
            methodology: str | Methodology = methodologies.DEFAULT) -> InventoryResult:
    """Emissions of the sources, per source and in total (see the module docstring).

    ``lookup`` answers the parameters not given with the activity data (the factor library
    for the inventory's year, region and GWP set); ``gwp_set`` is one of SAR, AR4, AR5, AR6
    and must be the set the lookup was built for; ``methodology`` an id of
    :mod:`nengtan.carbon.methodologies` (gbt32150, mee_power, cement).
    """
    issues: list[Issue] = []
    if gwp_set not in GWP_SETS:
        issues.append(Issue("rule.choice", field="gwp_set", value=gwp_set,
                            params={"choices": ", ".join(GWP_SETS)}))
    lookup_set = getattr(lookup, "gwp_set", None)
    if isinstance(lookup_set, str) and gwp_set in GWP_SETS and lookup_set != gwp_set:
        issues.append(Issue("rule.carbon_gwp_set_mismatch", field="gwp_set", value=gwp_set,
                            params={"library": lookup_set}))
    try:
        m = _methodology(methodology)
    except InputError as exc:
        issues += exc.issues
        m = None
    if issues:
        raise InputError(issues)
    gwp = _Gwp(lookup, gwp_set)
    results: list[SourceResult] = []
    for k, inp in enumerate(inputs):
        try:
            results.append(compute_source(inp, lookup, gwp_set, m,
                                          inp.row if inp.row is not None else k, gwp))
        except InputError as exc:
            issues += exc.issues
    if issues:
        raise InputError(issues)
    return summarise(results, gwp_set, m.id)


def summarise(results: list[SourceResult], gwp_set: str, methodology: str) -> InventoryResult:
    """Totals of source results: by scope, gas group and kind (signed; deductions negative)."""
    s1 = math.fsum(r.tco2e for r in results if r.scope == 1)
    s2 = math.fsum(r.tco2e for r in results if r.scope == 2)
    s2m = math.fsum(r.tco2e_market for r in results if r.scope == 2)
    by_gas: dict[str, list[float]] = {}
    by_kind: dict[str, list[float]] = {}
    for r in results:
        by_gas.setdefault(gas_group(r.gas), []).append(r.tco2e)
        by_kind.setdefault(r.kind, []).append(r.tco2e)
    return InventoryResult(
        total_tco2e=math.fsum(r.tco2e for r in results), scope1_tco2e=s1, scope2_tco2e=s2,
        scope2_market_tco2e=s2m, total_market_tco2e=s1 + s2m,
        by_gas={g: math.fsum(v) for g, v in by_gas.items()},
        by_kind={k: math.fsum(v) for k, v in by_kind.items()},
        sources=results, gwp_set=gwp_set, methodology=methodology)


def result_dict(result: InventoryResult) -> dict:
    """An inventory result as JSON-ready data (units named in the keys)."""
    try:
        meth = methodologies.get(result.methodology).lineage()
    except NotFound:
        meth = {"id": result.methodology}
    return {
        "total_tco2e": result.total_tco2e,
        "scope1_tco2e": result.scope1_tco2e,
        "scope2_tco2e": result.scope2_tco2e,
        "scope2_market_tco2e": result.scope2_market_tco2e,
        "total_market_tco2e": result.total_market_tco2e,
        "unit": "tCO2e",
        "by_gas_tco2e": result.by_gas,
        "by_kind_tco2e": result.by_kind,
        "gwp_set": result.gwp_set,
        "methodology": meth,
        "sources": [s.as_dict() for s in result.sources],
    }
