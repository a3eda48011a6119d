"""Batch calculators: `nengtan calc energy --input FILE --json`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True, help="Batch calculators (GB/T 2589 energy, ...).")


def energy_library(year: int | None, equal_value: float | None):
    """The shipped coefficient library; ``equal_value`` (kgce/kWh) replaces the yearly one."""
    from nengtan.energy.gbt2589 import EqualValue
    from nengtan.reference.energy import shipped_library

    library = shipped_library(year)
    if equal_value is not None:
        library = library.with_equal_value(EqualValue(
            equal_value, year or 0, "given on the command line (--equal-value)", "user"))
    return library


@app.command("energy")
def energy(
    input: Path = typer.Option(..., "--input", "-i", exists=True, dir_okay=False,
                               help="CSV: carrier,quantity,unit[,use][,ncv_mj_per_unit][,label]"),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    year: int = typer.Option(None, "--year",
                             help="Year of the equal-value electricity coefficient "
                                  "(default: the latest shipped year)."),
    equal_value: float = typer.Option(None, "--equal-value", min=0.0,
                                      help="Equal-value coefficient, kgce/kWh (overrides --year)."),
) -> None:
    """Comprehensive energy consumption of the quantities in FILE (GB/T 2589-2020).

    total_tce: electricity at equivalent value (0.1229 kgce/kWh), exports deducted, feedstock
    excluded; total_tce_equal_value: grid electricity at the equal-value coefficient.
    """
    from nengtan.commands.common import fail
    from nengtan.energy import batch
    from nengtan.errors import InputError

    try:
        text = input.read_text("utf-8-sig")
    except UnicodeDecodeError as exc:
        typer.echo(f"error: {input} is not UTF-8 text: {exc}", err=True)
        raise typer.Exit(code=2) from None
    try:
        result = batch.calculate(text, energy_library(year, equal_value))
    except InputError as exc:
        fail(exc)
        return
    data = result.as_dict()
    data["input"] = str(input)
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{'row':>4}  {'carrier':<22} {'quantity':>14} {'unit':<8} {'use':<10} "
               f"{'kgce/unit':>12} {'tce':>14}  status")
    for r in data["rows"]:
        typer.echo(f"{r['row']:>4}  {r['carrier']:<22} {r['quantity']:>14,.3f} {r['unit']:<8} "
                   f"{r['use']:<10} {r['coefficient_kgce_per_unit']:>12.6g} "
                   f"{r['sign'] * r['tce']:>14,.4f}  {r['status']}")
    typer.echo(f"total_tce (equivalent value)   {data['total_tce']:,.4f}")
    typer.echo(f"total_tce_equal_value          {data['total_tce_equal_value']:,.4f}")
    typer.echo(f"feedstock_tce (excluded)       {data['feedstock_tce']:,.4f}")
    typer.echo(f"export_tce (deducted)          {data['export_tce']:,.4f}")
    typer.echo(f"renewable_tce                  {data['renewable_tce']:,.4f}")


@app.command("carbon")
def carbon(
    input: Path = typer.Option(..., "--input", "-i", exists=True, dir_okay=False,
                               help="CSV: source,kind,carrier,quantity,unit[,ncv]"
                                    "[,carbon_content][,oxidation_rate][,emission_factor][,gas]"
                                    "[,method][,green_mwh][,carbon_in_t][,carbon_out_t]"
                                    "[,stock_change_t][,facility]"),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    gwp: str = typer.Option("AR5", "--gwp", help="GWP set: SAR, AR4, AR5 or AR6."),
    year: int = typer.Option(None, "--year", help="Inventory year for the factor library "
                                                  "(default: the latest values)."),
    region: str = typer.Option(None, "--region", help="Province code for the grid factor "
                                                      "(e.g. shandong; default national)."),
    methodology: str = typer.Option("gbt32150", "--methodology",
                                    help="gbt32150, mee_power or cement."),
) -> None:
    """Greenhouse gas emissions of the sources in FILE (GB/T 32150-2015, MEE guidelines).

    Parameters not in FILE come from the shipped factor library and are reported as such;
    total_tco2e = scope1 + scope2 (exports and recovered CO2 deducted); scope2_market_tco2e
    credits green electricity (green_mwh) at 0 tCO2/MWh.
    """
    from nengtan.carbon import batch
    from nengtan.carbon.model import GWP_SETS
    from nengtan.commands.common import fail
    from nengtan.errors import InputError, Issue

    try:
        text = input.read_text("utf-8-sig")
    except UnicodeDecodeError as exc:
        typer.echo(f"error: {input} is not UTF-8 text: {exc}", err=True)
        raise typer.Exit(code=2) from None
    gwp = gwp.strip().upper()
    try:
        if gwp not in GWP_SETS:
            raise InputError([Issue("rule.choice", field="gwp", value=gwp,
                                    params={"choices": ", ".join(GWP_SETS)})])
        data = batch.calculate(text, batch.shipped_lookup(year, region, gwp), gwp, methodology,
                               where=input.name)
    except InputError as exc:
        fail(exc)
        return
    data["input"] = str(input)
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{'row':>4}  {'source':<24} {'kind':<18} {'gas':<9} {'t gas':>14} "
               f"{'tCO2e':>14}  parameters")
    for s in data["sources"]:
        params = ", ".join(f"{p['parameter']}={p['value']:.6g} {p['unit']} ({p['origin']}, "
                           f"{p['status']})" for p in s["lineage"]["parameters"])
        typer.echo(f"{s['row']:>4}  {s['source']:<24} {s['kind']:<18} {s['gas']:<9} "
                   f"{s['emission_t']:>14,.4f} {s['tco2e']:>14,.4f}  {params}")
    typer.echo(f"methodology                {data['methodology']['id']} "
               f"{data['methodology']['version']}, GWP {data['gwp_set']}")
    typer.echo(f"total_tco2e                {data['total_tco2e']:,.4f}")
    typer.echo(f"scope1_tco2e               {data['scope1_tco2e']:,.4f}")
    typer.echo(f"scope2_tco2e (location)    {data['scope2_tco2e']:,.4f}")
    typer.echo(f"scope2_market_tco2e        {data['scope2_market_tco2e']:,.4f}")
    typer.echo(f"total_market_tco2e         {data['total_market_tco2e']:,.4f}")
