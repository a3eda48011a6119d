"""The carbon batch calculator (pure): a CSV of emission sources → an inventory result.

Used by ``nengtan calc carbon --input FILE --json [--gwp AR5]`` and ``POST /api/calc/carbon``.

Header ``source,kind,carrier,quantity,unit`` (required) where ``kind`` is one of
``combustion``, ``process``, ``electricity``, ``heat``, ``export_electricity``,
``export_heat``, ``recovered``, ``fugitive``; optional columns:

=================  =========================================================================
``ncv``            net calorific value, GJ per unit of quantity
``carbon_content`` carbon content per unit heat, tC/TJ
``oxidation_rate`` oxidation rate, fraction (0-1)
``emission_factor`` t of gas per unit of quantity (tCO2/unit for CO2); replaces the three
``gas``            CO2 (default), CH4, N2O, SF6, NF3, HFC-134a, CF4 ...
``method``         factor (default), mass_balance, measurement
``green_mwh``      electricity backed by green certificates / green power contracts, MWh
``carbon_in_t``    mass balance: carbon entering, tC
``carbon_out_t``   mass balance: carbon leaving in products and waste, tC
``stock_change_t`` mass balance: increase of carbon in stock, tC
``facility``       facility (设施) the source belongs to
=================  =========================================================================

Parameters not given come from the factor library and the lineage says so (``origin``
``library``, the factor id, its document and status); given ones are ``origin`` ``given``,
``factor_id`` ``given``.  Rows are numbered as in a spreadsheet (the header is row 1);
every problem of every row is reported together.
"""

from __future__ import annotations

from nengtan.batchfile import number, records
from nengtan.carbon import methodologies
from nengtan.carbon.engine import compute, normalise_gas, result_dict
from nengtan.carbon.model import FactorLookup, Param, SourceInput
from nengtan.errors import InputError, Issue

REQUIRED = ("source", "kind", "carrier", "quantity", "unit")
PARAM_COLUMNS = ("ncv", "carbon_content", "oxidation_rate", "emission_factor",
                 "carbon_in_t", "carbon_out_t", "stock_change_t")
OPTIONAL = PARAM_COLUMNS + ("gas", "method", "green_mwh", "facility")
#: Default carriers of kinds whose rows may leave ``carrier`` empty.
DEFAULT_CARRIER = {"electricity": "electricity", "export_electricity": "electricity",
                   "heat": "heat", "export_heat": "heat", "recovered": "CO2"}


_FRACTIONS = ("oxidation_rate", "carbon_fraction", "purity", "cao_content", "cao_non_carbonate",
              "mgo_content", "mgo_non_carbonate", "organic_carbon")


def param_unit(name: str, unit: str, gas: str = "CO2") -> str:
    """The documented unit of a parameter given as a bare number (a CSV column or a number
    in a JSON request), for a source whose quantity is in ``unit``."""
    if name in _FRACTIONS:
        return "fraction"
    return {"ncv": f"GJ/{unit}", "carbon_content": "tC/TJ", "emission_factor": f"t{gas}/{unit}",
            "grid_factor": "tCO2/MWh", "heat_factor": "tCO2/GJ",
            "process_factor": "tCO2/t"}.get(name, "t")


def read_csv(text: str, where: str = "input file") -> tuple[list[SourceInput], list[Issue]]:
    """Rows of the CSV ``text`` (UTF-8, a BOM is ignored) as sources, and the problems of the
    rows that could not be read (the good rows are returned too, so that the engine can
    check them and every problem of the file is reported at once)."""
    rows, issues = records(text, REQUIRED, OPTIONAL)
    inputs: list[SourceInput] = []
    for k, rec in rows:
        bad = [Issue("rule.required", row=k, field=name)
               for name in ("source", "kind", "quantity", "unit") if not rec[name]]
        quantity = number(rec["quantity"], k, "quantity", bad) if rec["quantity"] else None
        gas = normalise_gas(rec.get("gas"))
        kind = rec["kind"].lower()
        carrier = rec["carrier"] or DEFAULT_CARRIER.get(kind)
        params: dict[str, Param] = {}
        for name in PARAM_COLUMNS:
            if rec.get(name):
                value = number(rec[name], k, name, bad)
                if value is not None:
                    params[name] = Param(value, param_unit(name, rec["unit"], gas),
                                         f"{where}, row {k}", "user")
        green = number(rec["green_mwh"], k, "green_mwh", bad) if rec.get("green_mwh") else 0.0
        if bad:
            issues += bad
            continue
        inputs.append(SourceInput(
            source=rec["source"], kind=kind, quantity=quantity, unit=rec["unit"],
            carrier=carrier, gas=gas, method=(rec.get("method") or "factor").lower(),
            params=params, facility=rec.get("facility") or None, green_mwh=green or 0.0,
            row=k, evidence=(f"{where}, row {k}",)))
    if not inputs and not issues:
        issues.append(Issue("rule.carbon_no_rows", row=2))
    return inputs, issues


def calculate(text: str, lookup: FactorLookup, gwp_set: str = "AR5",
              methodology: str = methodologies.DEFAULT, where: str = "input file") -> dict:
    """Parse and compute a batch file: the result as JSON-ready data (``total_tco2e``,
    ``scope1_tco2e``, ``scope2_tco2e``, ``scope2_market_tco2e``, ``sources`` with
    ``source``, ``row``, ``tco2e`` and ``lineage``), or one InputError naming every bad row."""
    inputs, issues = read_csv(text, where)
    result = None
    try:
        result = compute(inputs, lookup, gwp_set, methodology)
    except InputError as exc:
        issues = issues + exc.issues
    if issues:
        raise InputError(sorted(issues, key=lambda i: (i.row or 0)))
    return with_rows(result_dict(result), inputs)


def with_rows(data: dict, inputs: list[SourceInput]) -> dict:
    """Add each input's row number to its source entry (the engine keeps the order)."""
    for entry, inp in zip(data["sources"], inputs):
        entry["row"] = inp.row
    return data


def shipped_lookup(year: int | None = None, region: str | None = None, gwp_set: str = "AR5"):
    """The shipped factor library (``nengtan.carbon.factors.shipped_library``) for the year,
    region (province code; national when None) and GWP set."""
    from nengtan.carbon.factors import shipped_library

    return shipped_library(year=year, region=region, gwp_set=gwp_set)
