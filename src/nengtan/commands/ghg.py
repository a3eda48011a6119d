"""GHG reports, park inventory and verification packages: `nengtan ghg ...`.

    nengtan ghg report --inventory INV-CEM-2025 --format pdf --lang zh-CN -o CEM-2025.pdf
    nengtan ghg report --park QLP --period 2025 --format xlsx --lang en
    nengtan ghg package --inventory INV-CEM-2025 [--version 1] -o CEM-2025-verification.zip
    nengtan ghg park --park QLP --period 2025 [--json]
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from nengtan.commands.common import DbOption, engine, fail

app = typer.Typer(no_args_is_help=True,
                  help="GHG reports, park inventory and verification packages.")


def _lang(lang: str) -> None:
    from nengtan.errors import InputError, Issue
    from nengtan.i18n import LANGUAGES

    if lang not in LANGUAGES:
        fail(InputError([Issue("rule.choice", field="lang", value=lang,
                               params={"choices": ", ".join(LANGUAGES)})]))


@app.command("report")
def report(inventory: str = typer.Option(None, "--inventory",
                                         help="Inventory code or id (enterprise report)."),
           version: int = typer.Option(None, "--version",
                                       help="Inventory version (default: the latest locked, "
                                            "else the latest)."),
           park: str = typer.Option(None, "--park", help="Park code (park report)."),
           period: str = typer.Option(None, "--period",
                                      help="Park report period: 2025, 2025-Q3, 2025-10 ..."),
           fmt: str = typer.Option("pdf", "--format", help="xlsx or pdf."),
           lang: str = typer.Option("zh-CN", "--lang", help="zh-CN or en."),
           gwp: str = typer.Option("AR5", "--gwp", help="GWP set of the park report."),
           output: Path = typer.Option(None, "--output", "-o",
                                       help="File to write (default: the report's own name)."),
           db: str = DbOption) -> None:
    """The GHG emission report (MEE structure) of an inventory version or of a park."""
    from nengtan.errors import InputError, Issue, NotFound
    from nengtan.services import ghg_report

    _lang(lang)
    if bool(inventory) == bool(park) or (park and not period):
        fail(InputError([Issue("rule.ghg_report_target", field="inventory",
                               value=inventory or park)]))
    eng = engine(db)
    try:
        with eng.connect() as conn:
            if inventory:
                out = ghg_report.enterprise_report(conn, inventory, version, fmt, lang)
            else:
                out = ghg_report.park_report(conn, park, ghg_report.parse_park_period(period),
                                             fmt, lang, gwp)
    except (InputError, NotFound) as exc:
        fail(exc)
    path = output or Path(out.filename)
    path.write_bytes(out.content)
    typer.echo(f"{path}  ({len(out.content):,} bytes; {out.seconds:.2f} s)")


@app.command("package")
def package(inventory: str = typer.Option(..., "--inventory", help="Inventory code or id."),
            version: int = typer.Option(None, "--version",
                                        help="Version (default: the latest locked)."),
            output: Path = typer.Option(None, "--output", "-o",
                                        help="Zip file to write (default: its own name)."),
            db: str = DbOption) -> None:
    """The verification package (zip) of an inventory version for a third-party verifier."""
    from nengtan.errors import InputError, NotFound
    from nengtan.services import verification_package

    eng = engine(db)
    try:
        with eng.connect() as conn:
            pkg = verification_package.build(conn, inventory, version)
    except (InputError, NotFound) as exc:
        fail(exc)
    path = output or Path(pkg.filename)
    path.write_bytes(pkg.content)
    m = pkg.manifest
    led = m.get("ledger") or {}
    typer.echo(f"{path}  ({len(pkg.content):,} bytes, {len(m['files'])} files, "
               f"{led.get('entries', 0)} ledger proofs)")
    for miss in m.get("missing_evidence") or []:
        typer.echo(f"  missing evidence file / 证据文件缺失: {miss}", err=True)


@app.command("park")
def park_cmd(park: str = typer.Option(..., "--park", help="Park code."),
             period: str = typer.Option(..., "--period", help="2025, 2025-Q3, 2025-10 ..."),
             gwp: str = typer.Option("AR5", "--gwp", help="GWP set (SAR, AR4, AR5, AR6)."),
             as_json: bool = typer.Option(False, "--json", help="Print the whole inventory "
                                                                "as JSON (as the API)."),
             db: str = DbOption) -> None:
    """The park inventory (seed 001 formula 3): terms, tenants, sectors."""
    from nengtan.errors import InputError, NotFound
    from nengtan.services import ghg_report, park_inventory

    eng = engine(db)
    try:
        with eng.connect() as conn:
            inv = park_inventory.park_inventory(conn, park, ghg_report.parse_park_period(period),
                                                gwp)
    except (InputError, NotFound) as exc:
        fail(exc)
    data = inv.as_dict()
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, default=str, indent=1))
        return
    typer.echo(f"{data['park']['code']} {data['park']['name_zh']}  {data['period']['label']}  "
               f"({gwp})")
    for term in data["terms"]:
        sign = "+" if term["sign"] > 0 else "−"
        typer.echo(f"  {sign} {term['symbol']:<18} {term['tco2e']:>16,.3f} tCO2e "
                   f"({len(term['parts'])} parts)")
    typer.echo(f"  = {'E':<18} {data['total_tco2e']:>16,.3f} tCO2e")
    for t in data["tenants"]:
        ref = f" inventory {t['inventory_id']} v{t['version']}" if t["inventory_id"] else ""
        typer.echo(f"    {t['node']:<10} {t['total_tco2e']:>16,.3f} tCO2e  {t['origin']}{ref}")
    for s in data["sectors"]:
        if s["parts"]:
            typer.echo(f"    [{s['group']}/{s['sector']}] {s['tco2e']:,.3f} tCO2e")
    for tr in data["transfers"]:
        if tr["correction_sign"]:
            typer.echo(f"    transfer {tr['meter']} {tr['supplier']}→{tr['receiver']}: "
                       f"corrected ({'+' if tr['correction_sign'] > 0 else '−'})")
