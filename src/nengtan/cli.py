"""The ``nengtan`` command line.

Every command takes ``--db URL`` (default: ``NENGTAN_DATABASE_URL``, else the embedded SQLite
file ``var/nengtan.db``) and brings the schema up to date before it starts.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path

import typer

from nengtan import __version__
from nengtan.commands import backup as backup_cmd
from nengtan.commands import benchmark as benchmark_cmd
from nengtan.commands import calc as calc_cmd
from nengtan.commands import carbon as carbon_cmd
from nengtan.commands import cems as cems_cmd
from nengtan.commands import collect as collect_cmd
from nengtan.commands import energy as energy_cmd
from nengtan.commands import entries as entries_cmd
from nengtan.commands import ghg as ghg_cmd
from nengtan.commands import ledger as ledger_cmd
from nengtan.commands import quality as quality_cmd
from nengtan.commands import report as report_cmd
from nengtan.commands import users as users_cmd
from nengtan.commands.common import DbOption
from nengtan.commands.common import engine as _engine
from nengtan.commands.common import fail as _fail

app = typer.Typer(help="能碳 nengtan — digital energy-carbon management center", no_args_is_help=True,
                  add_completion=False)
db_app = typer.Typer(help="Database schema and maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.command("collect")(collect_cmd.collect)
app.add_typer(quality_cmd.app, name="quality")
app.add_typer(cems_cmd.app, name="cems")
app.add_typer(entries_cmd.app, name="entries")
app.add_typer(calc_cmd.app, name="calc")
app.add_typer(energy_cmd.app, name="energy")
app.add_typer(benchmark_cmd.app, name="benchmark")
app.add_typer(report_cmd.app, name="report")
app.add_typer(carbon_cmd.app, name="carbon")
app.add_typer(ledger_cmd.app, name="ledger")
app.add_typer(ghg_cmd.app, name="ghg")
app.add_typer(users_cmd.app, name="user")
app.command("backup")(backup_cmd.backup)
app.command("restore")(backup_cmd.restore)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
def serve(db: str = DbOption, host: str = typer.Option(None, help="Bind address (default 127.0.0.1)."),
          port: int = typer.Option(None, help="Port (default 8000)."),
          workers: int = typer.Option(1, min=1, help="Worker processes (one per CPU core "
                                                     "serves more users at once).")) -> None:
    """Serve the console and the API (OpenAPI page at /docs)."""
    import os

    import uvicorn

    from nengtan.api.app import create_app
    from nengtan.config import get_settings

    settings = get_settings()
    engine = _engine(db)  # also upgrades the schema, once, before the workers start
    if workers == 1:
        uvicorn.run(create_app(engine), host=host or settings.host, port=port or settings.port,
                    log_level="info")
        return
    # each worker process builds its own app (and engine) from the same settings
    os.environ["NENGTAN_DATABASE_URL"] = str(engine.url.render_as_string(hide_password=False))
    uvicorn.run("nengtan.api.app:create_app", factory=True, workers=workers,
                host=host or settings.host, port=port or settings.port, log_level="info")


@app.command()
def demo(db: str = DbOption,
         no_serve: bool = typer.Option(False, "--no-serve", help="Build only; do not serve."),
         rebuild: bool = typer.Option(False, "--rebuild",
                                      help="Wipe the database first (all its data!) and rebuild."),
         today: str = typer.Option(None, help="Build as if today were this date (YYYY-MM-DD)."),
         start: str = typer.Option(None, help="First day of data (default: 1 January of last "
                                              "year); a later start builds a smaller park."),
         host: str = typer.Option(None), port: int = typer.Option(None)) -> None:
    """Build the demo park (deterministic) into the database, then serve it."""
    from nengtan.demo import build_demo
    from nengtan.store import db as dbmod
    from nengtan.store import meta

    engine = _engine(db)
    as_of = date.fromisoformat(today) if today else None
    if rebuild:
        dbmod.reset(engine)
        engine = _engine(db)
    with engine.connect() as conn:
        marker = meta.get(conn, "demo")
        nodes = conn.exec_driver_sql("SELECT count(*) FROM nodes").scalar()
    if nodes and marker is None:
        typer.echo("The database already holds data that is not the demo park; "
                   "use another --db, or --rebuild to wipe it.", err=True)
        raise typer.Exit(code=2)
    if marker is None:
        typer.echo("Building the demo park ...")
        report = build_demo(engine, today=as_of,
                            start=date.fromisoformat(start) if start else None)
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, default=str))
        _demo_users_notice()
    else:
        built = json.loads(marker)
        typer.echo(f"Demo park already built (as of {built.get('today')}); use --rebuild to rebuild.")
    if not no_serve:
        serve(db=db, host=host, port=port, workers=1)


def _demo_users_notice() -> None:
    from nengtan.demo import users_demo

    typer.echo(f"演示账户（仅供演示）/ demo accounts (demo only), password {users_demo.PASSWORD}: "
               + ", ".join(users_demo.USERS) + ", verifier")
    typer.echo("管理员动态口令密钥 / administrators' TOTP secrets: " + ", ".join(
        f"{user}={secret}" for user, secret in users_demo.TOTP_SECRETS.items()))


@app.command("import")
def import_(path: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV or xlsx file."),
            kind: str = typer.Option(None, help="What the file holds (default: detected)."),
            dry_run: bool = typer.Option(False, "--dry-run", help="Validate only."),
            db: str = DbOption) -> None:
    """Import a CSV or Excel file, validated whole and applied all-or-nothing."""
    from nengtan import exchange
    from nengtan.errors import InputError

    engine = _engine(db)
    try:
        report = exchange.import_file(engine, path, kind=kind, dry_run=dry_run)
    except InputError as exc:
        _fail(exc)
    typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, default=str))


@app.command()
def export(kind: str = typer.Argument(..., help="nodes, meters, meter_events, products, production, "
                                                 "economics, fuel_deliveries, readings"),
           fmt: str = typer.Option("csv", "--format", help="csv or xlsx"),
           output: Path = typer.Option(None, "--output", "-o", help="File (default: standard output)."),
           lang: str = typer.Option("en", help="Header language: en (field names) or zh-CN."),
           template: bool = typer.Option(False, "--template", help="Header only (an import template)."),
           meter: list[str] = typer.Option(None, "--meter", help="Readings: meter code (repeatable)."),
           start: str = typer.Option(None, help="Readings: from (ISO 8601)."),
           end: str = typer.Option(None, help="Readings: until, exclusive (ISO 8601)."),
           db: str = DbOption) -> None:
    """Export data (or an empty template) as CSV or Excel."""
    from nengtan import exchange
    from nengtan.errors import InputError

    engine = _engine(db)
    try:
        data = exchange.export(engine, kind, fmt, lang, template=template, meters=meter or None,
                               start=datetime.fromisoformat(start) if start else None,
                               end=datetime.fromisoformat(end) if end else None)
    except (InputError, ValueError) as exc:
        _fail(exc)
    if output is None:
        if fmt == "xlsx" and sys.stdout.isatty():
            typer.echo("refusing to write xlsx to a terminal; use --output", err=True)
            raise typer.Exit(code=2)
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)
        typer.echo(f"wrote {output} ({len(data)} bytes)", err=True)


@app.command()
def status(db: str = DbOption, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Counts of nodes, meters, readings and the time span of the data."""
    from nengtan.services import query

    engine = _engine(db)
    with engine.connect() as conn:
        info = query.status(conn)
    if as_json:
        typer.echo(json.dumps(info))
    else:
        for key, value in info.items():
            typer.echo(f"{key:>14}: {value}")


@db_app.command("upgrade")
def db_upgrade(db: str = DbOption, revision: str = typer.Option("head")) -> None:
    """Apply schema migrations (and load the shipped carriers catalogue)."""
    from nengtan.store import db as dbmod

    engine = _engine(db, upgrade=False)
    dbmod.upgrade(engine, revision)
    _engine(db)
    typer.echo(f"schema at {dbmod.current_revision(engine)}")


@db_app.command("current")
def db_current(db: str = DbOption) -> None:
    """Print the schema revision."""
    from nengtan.store import db as dbmod

    typer.echo(dbmod.current_revision(_engine(db, upgrade=False)) or "none")


@db_app.command("rebuild-rollups")
def db_rebuild(db: str = DbOption,
               meter: list[str] = typer.Option(None, "--meter", help="Meter code (repeatable).")) -> None:
    """Recompute rollups from raw readings (all physical meters, or the given ones)."""
    from sqlalchemy import select

    from nengtan.services import rollups
    from nengtan.store.models import Meter
    from nengtan.store.readings_store import store_for

    engine = _engine(db)
    with engine.begin() as conn:
        ids = None
        if meter:
            ids = [r[0] for r in conn.execute(select(Meter.id).where(Meter.code.in_(meter))).all()]
        written = rollups.rebuild(conn, store_for(conn), ids)
    typer.echo(f"recomputed {len(written)} meters")


@db_app.command("check")
def db_check(db: str = DbOption) -> None:
    """Verify storage invariants: unique (meter, ts) readings; rollup counts match readings."""
    from nengtan.store import db as dbmod

    engine = _engine(db)
    problems = dbmod.check(engine)
    for p in problems:
        typer.echo(p, err=True)
    typer.echo("ok" if not problems else f"{len(problems)} problem(s)")
    if problems:
        raise typer.Exit(code=1)


if __name__ == "__main__":  # pragma: no cover
    app()
