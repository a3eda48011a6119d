"""What every command group shares: the ``--db`` option, opening the database, failing well."""

from __future__ import annotations

import typer

DbOption = typer.Option(None, "--db", help="Database URL (sqlite:///path or postgresql+psycopg://...).")


def engine(url: str | None, upgrade: bool = True):
    from sqlalchemy.orm import Session

    from nengtan.services import meters
    from nengtan.store import db

    engine = db.make_engine(url)
    if upgrade:
        db.upgrade(engine)
        with Session(engine) as s, s.begin():
            meters.seed_carriers(s)
    return engine


def fail(exc: Exception) -> None:
    from nengtan.errors import InputError

    if isinstance(exc, InputError):
        typer.echo(f"{len(exc.issues)} problem(s); nothing was applied:", err=True)
        for issue in exc.issues:
            typer.echo(f"  {issue}  |  {issue.message('zh-CN')}", err=True)
    else:
        typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code=2)
