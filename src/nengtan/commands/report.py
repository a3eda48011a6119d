"""Energy reports: `nengtan report energy ...` (Excel, PDF).

    nengtan report energy --node QLP --period 2026-10 --format pdf --lang zh-CN -o QLP-2026-10.pdf
    nengtan report energy --node CEM --period 2025 --format xlsx --lang en
    nengtan report energy --node QLP --period 2026-10 --json        (the figures, as the API)
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from nengtan.commands.common import DbOption, engine, fail

app = typer.Typer(no_args_is_help=True,
                  help="Energy reports: `nengtan report energy ...` (Excel, PDF).")


@app.command("energy")
def energy(node: str = typer.Option(..., "--node", help="Node code (park, enterprise, site ...)."),
           period: str = typer.Option(..., "--period",
                                      help="A month (2026-10: monthly report) or a year "
                                           "(2026: annual report)."),
           fmt: str = typer.Option("pdf", "--format", help="xlsx or pdf."),
           lang: str = typer.Option("zh-CN", "--lang", help="zh-CN or en."),
           output: Path = typer.Option(None, "--output", "-o",
                                       help="File to write (default: the report's own name "
                                            "in the current directory)."),
           as_json: bool = typer.Option(False, "--json",
                                        help="Print the report's figures as JSON instead."),
           db: str = DbOption) -> None:
    """The monthly or annual energy report of a node (GB/T 2589-2020 totals), Excel or PDF."""
    from nengtan.errors import InputError, NotFound
    from nengtan.i18n import LANGUAGES
    from nengtan.services import energy_report

    if lang not in LANGUAGES:
        fail(InputError([_issue("lang", lang, LANGUAGES)]))
    eng = engine(db)
    try:
        with eng.connect() as conn:
            node_id = energy_report.node_id_of(conn, node)
            per = energy_report.report_period(period)
            if as_json:
                data = energy_report.assemble(conn, node_id, per)
                typer.echo(json.dumps(data.as_dict(), ensure_ascii=False, default=str, indent=1))
                return
            out = energy_report.render(conn, node_id, per, fmt, lang)
    except (InputError, NotFound) as exc:
        fail(exc)
    path = output or Path(out.filename)
    path.write_bytes(out.content)
    typer.echo(f"{path}  ({len(out.content):,} bytes; data {out.assemble_s:.2f} s, "
               f"rendering {out.render_s:.2f} s)")


def _issue(field: str, value, choices):
    from nengtan.errors import Issue

    return Issue("rule.choice", field=field, value=value, params={"choices": ", ".join(choices)})
