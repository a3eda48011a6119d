"""``nengtan carbon ...``: carbon inventories (碳盘查): list, compute, lock, diff, lineage."""

from __future__ import annotations

import json

import typer

from nengtan.commands.common import DbOption, engine, fail

app = typer.Typer(no_args_is_help=True, help="Carbon inventories (碳盘查): create, compute, lock, diff.")

CodeArgument = typer.Argument(..., help="Inventory code.")
JsonOption = typer.Option(False, "--json", help="Print JSON.")
UserOption = typer.Option(..., "--user", "-u", help="Who locks (recorded with the lock and in "
                                                    "the ledger).")


def _inventory(s, code: str):
    from nengtan.services import inventories

    return inventories.by_code(s, code)


def _dump(data) -> str:
    return json.dumps(data, ensure_ascii=False, default=str, indent=2)


@app.command("list")
def list_(enterprise: str = typer.Option(None, "--enterprise", "-e", help="Enterprise code."),
          year: int = typer.Option(None, "--year", help="Periods starting in this year."),
          db: str = DbOption, as_json: bool = JsonOption) -> None:
    """List the inventories with their latest version."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from nengtan.services import inventories
    from nengtan.store.models import Node

    with Session(engine(db)) as s:
        node_id = None
        if enterprise:
            node_id = s.scalar(select(Node.id).where(Node.code == enterprise))
            if node_id is None:
                typer.echo(f"no enterprise {enterprise}", err=True)
                raise typer.Exit(code=2)
        rows = [inventories.as_dict(s, i) for i in s.scalars(inventories.list_query(node_id,
                                                                                   year))]
    if as_json:
        typer.echo(_dump(rows))
        return
    for r in rows:
        v = r["latest_version"]
        figure = (f"v{v['version']} {v['status']:<6} {v['total_tco2e']:>14,.3f} tCO2e"
                  if v else "not computed")
        typer.echo(f"{r['code']:<20} {r['enterprise']:<8} {r['period']:<24} "
                   f"{r['methodology']:<9} {figure}")


@app.command("compute")
def compute(code: str = CodeArgument, user: str = typer.Option(None, "--user", "-u"),
            db: str = DbOption, as_json: bool = JsonOption) -> None:
    """Compute an inventory from the data stored now (kept as its draft version)."""
    from sqlalchemy.orm import Session

    from nengtan.errors import InputError, NotFound
    from nengtan.i18n import t
    from nengtan.services import inventories

    try:
        with Session(engine(db)) as s, s.begin():
            inv = _inventory(s, code)
            v = inventories.compute(s, inv.id, user)
            out = inventories.version_dict(v)
    except (InputError, NotFound) as exc:
        fail(exc)
    if as_json:
        typer.echo(_dump(out))
        return
    typer.echo(t("inventory.cli.computed", "en", code=code, version=out["version"],
                 total=out["total_tco2e"]))
    _summary(out["result"])


def _summary(result: dict) -> None:
    t = result["totals"]
    typer.echo(f"  scope 1 {t['scope1_tco2e']:,.3f}  scope 2 {t['scope2_tco2e']:,.3f} "
               f"(market {t['scope2_market_tco2e']:,.3f})  tCO2e")
    for e in result["sources"]:
        typer.echo(f"  {e['source']:<20} {e['kind']:<18} {e['quantity']:>16,.3f} "
                   f"{e['quantity_unit']:<6} {e['tco2e']:>14,.3f} tCO2e")
    for e in result.get("alongside") or []:
        typer.echo(f"  ({e['source']}, alongside, not counted: {e['tco2e']:,.3f} tCO2e)")
    for w in result.get("warnings") or []:
        typer.echo(f"  ! {w['message']}")


@app.command("lock")
def lock(code: str = CodeArgument, user: str = UserOption,
         note: str = typer.Option(None, "--note"), db: str = DbOption,
         as_json: bool = JsonOption) -> None:
    """Compute and lock an inventory: the figures are frozen and ledgered (readings, manual
    entries, fuel deliveries, evidence, factors, sources, the result) with a checkpoint."""
    from sqlalchemy.orm import Session

    from nengtan.errors import InputError, NotFound
    from nengtan.i18n import t
    from nengtan.services import inventories

    try:
        with Session(engine(db)) as s, s.begin():
            inv = _inventory(s, code)
            out = inventories.version_dict(inventories.lock(s, inv.id, user, note))
    except (InputError, NotFound) as exc:
        fail(exc)
    if as_json:
        typer.echo(_dump({k: v for k, v in out.items() if k != "result"}))
        return
    typer.echo(t("inventory.cli.locked", "en", code=code, version=out["version"],
                 total=out["total_tco2e"], digest=out["digest"][:16]))
    _summary(out["result"])
    typer.echo(f"  ledger: {out['ledger']['entries']}, checkpoint "
               f"{out['ledger']['checkpoint']['id']} (tree size "
               f"{out['ledger']['checkpoint']['tree_size']})")


@app.command("diff")
def diff(code: str = CodeArgument,
         old: int = typer.Option(None, "--from", help="Version (default: the one before --to)."),
         new: int = typer.Option(None, "--to", help="Version (default: the latest)."),
         db: str = DbOption, as_json: bool = JsonOption) -> None:
    """Compare two versions: per source old, new, delta and why."""
    from sqlalchemy.orm import Session

    from nengtan.errors import InputError, NotFound
    from nengtan.services import inventories

    try:
        with Session(engine(db)) as s:
            inv = _inventory(s, code)
            out = inventories.diff(s, inv.id, old, new)
    except (InputError, NotFound) as exc:
        fail(exc)
    if as_json:
        typer.echo(_dump(out))
        return
    tot = out["totals"]["total_tco2e"]
    typer.echo(f"{code} v{out['from']['version']} ({out['from']['status']}) → "
               f"v{out['to']['version']} ({out['to']['status']}): {tot['old']:,.3f} → "
               f"{tot['new']:,.3f} tCO2e (Δ {tot['delta']:+,.3f})")
    for item in out["sources"]:
        if item["status"] == "unchanged":
            continue
        typer.echo(f"  {item['source']:<20} {item['status']:<14} "
                   f"Δ {item['delta_tco2e']:+,.3f} tCO2e")
        for why in item["why"]:
            typer.echo(f"      {_why(why)}")


def _why(w: dict) -> str:
    what = w["what"]
    if what == "parameter" and "old" in w:
        o, n = w["old"], w["new"]
        return (f"parameter {w['parameter']}: {o['value']:g} {o['unit']} ({o['source']}) → "
                f"{n['value']:g} {n['unit']} ({n['source']})")
    if what in ("activity", "activity_link") and "old" in w:
        link = f" {w['link']}" if "link" in w else ""
        return f"activity{link}: {w['old']:,.3f} → {w['new']:,.3f} {w.get('unit') or ''}"
    return json.dumps(w, ensure_ascii=False, default=str)


@app.command("lineage")
def lineage(code: str = CodeArgument,
            figure: str = typer.Option("total", "--figure", help="total, source:CODE, "
                                                                 "facility:CODE, month:YYYY-MM"),
            version: int = typer.Option(None, "--version"), db: str = DbOption) -> None:
    """Print the lineage of one figure (JSON)."""
    from sqlalchemy.orm import Session

    from nengtan.errors import InputError, NotFound
    from nengtan.services import inventories

    try:
        with Session(engine(db)) as s:
            out = inventories.lineage(s, _inventory(s, code).id, figure, version)
    except (InputError, NotFound) as exc:
        fail(exc)
    typer.echo(_dump(out))
