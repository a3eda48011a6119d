"""Energy accounting commands: totals, intensity and recommendations of a node."""

from __future__ import annotations

import json

import typer

from nengtan.commands.common import DbOption

app = typer.Typer(no_args_is_help=True,
                  help="Energy accounting (GB/T 2589): totals, intensity, recommendations.")

NodeOption = typer.Option(..., "--node", help="Node code (park, enterprise, site, workshop ...).")
PeriodOption = typer.Option(..., "--period",
                            help="2026, 2026-Q3, 2026-10, 2026-10-05 or 2026-10-01/2026-11-01.")


def _run(db: str | None, node: str, period: str | None, fn):
    """``fn(connection, node, Period | None)``; no period when ``period`` is None."""
    from sqlalchemy.orm import Session

    from nengtan.api.params import node_only, node_period
    from nengtan.commands.common import engine, fail
    from nengtan.errors import InputError

    eng = engine(db)
    try:
        with Session(eng) as s:
            n, per = node_period(s, node, period) if period else (node_only(s, node), None)
            return fn(s.connection(), n, per)
    except InputError as exc:
        fail(exc)


def _echo(data: dict) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@app.command("totals")
def totals(node: str = NodeOption, period: str = PeriodOption, db: str = DbOption,
           as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Comprehensive energy consumption of a node (tce, both electricity methods)."""
    from nengtan.services import energy_totals

    data = _run(db, node, period, lambda c, n, p: energy_totals.node_totals(c, n.id, p))
    if as_json:
        _echo(data)
        return
    typer.echo(f"{data['node']}  {data['period']['label']}  coverage {data['coverage']:.1%}")
    for c in data["carriers"]:
        typer.echo(f"  {c['carrier']:<20} {c['role']:<10} {c['quantity']:>16,.1f} {c['unit']:<6}"
                   f" {c['sign'] * c['tce']:>12,.2f} tce  ({c['coefficient']['method']}, "
                   f"{c['coefficient']['status']})")
    typer.echo(f"  total_tce             {data['total_tce']:>14,.2f}")
    typer.echo(f"  total_tce_equal_value {data['total_tce_equal_value']:>14,.2f}")
    for key, label in (("previous", "MoM"), ("year_before", "YoY")):
        cmp = data.get(key)
        if cmp and cmp["change_pct"] is not None:
            typer.echo(f"  {label} vs {cmp['period']['label']}: {cmp['change_pct']:+.1f} %")


@app.command("intensity")
def intensity(node: str = NodeOption, period: str = PeriodOption, db: str = DbOption) -> None:
    """Unit-product energy consumption and energy per 10^4 CNY (JSON)."""
    from nengtan.services import energy_totals

    _echo(_run(db, node, period, lambda c, n, p: energy_totals.intensity(c, n.id, p)))


@app.command("recommend")
def recommend(node: str = NodeOption, db: str = DbOption,
              period: str = typer.Option(None, "--period",
                                         help="Analysis period (default: last 12 whole months)."),
              as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Quantified energy strategy recommendations (CNY, tce, tCO2 per year)."""
    from nengtan.services import recommendations

    data = _run(db, node, period, lambda c, n, p: recommendations.recommend(c, n.id, p))
    if as_json:
        _echo(data)
        return
    typer.echo(f"{data['node']}  {data['period']['label']}")
    for r in data["ranked"]:
        typer.echo(f"  {r['node']:<6} {r['title_zh']:<28} {r['cny_per_year']:>12,.0f} CNY/a "
                   f"{r['tce_per_year']:>9,.1f} tce/a {r['tco2_per_year']:>9,.1f} tCO2/a")
