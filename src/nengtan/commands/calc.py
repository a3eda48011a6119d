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
