"""``nengtan benchmark ...``: benchmark library, comparisons, equipment grades, GB 17167.

    nengtan benchmark list [--kind indicator|limit|equipment] [--q clinker] [--json]
    nengtan benchmark compare --node CEM --product CLINKER --period 2026 [--json]
    nengtan benchmark ranking --park QLP --period 2026 [--json]
    nengtan benchmark equipment --node CEM [--json]
    nengtan benchmark metering --node QLP [--json]

Periods: 2026, 2026-Q3, 2026-10, 2026-10-05 or 2026-10-01/2026-11-01 (local dates).  ``--json``
prints the answer of the corresponding API endpoint.
"""

from __future__ import annotations

import json

import typer

from nengtan.commands.common import DbOption, engine, fail

app = typer.Typer(no_args_is_help=True, help="Benchmark library and comparisons.")
JsonOption = typer.Option(False, "--json", help="Print JSON (as the API answers).")
PeriodOption = typer.Option(..., "--period", help="2026, 2026-Q3, 2026-10 or a date range.")


def _emit(data, as_json: bool, lines) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, default=str, indent=1))
    else:
        for line in lines(data):
            typer.echo(line)


def _node_id(conn, code: str, option: str) -> int:
    from sqlalchemy import select

    from nengtan.errors import fail as input_error
    from nengtan.store.models import Node

    nid = conn.execute(select(Node.id).where(Node.code == code)).scalar()
    if nid is None:
        raise input_error("rule.ref_unknown", field=option, value=code, ref="node")
    return nid


def _num(x, fmt: str = ".2f") -> str:
    return "-" if x is None else format(x, fmt)


def _run(db, fn):
    from nengtan.errors import InputError, NotFound

    eng = engine(db)
    try:
        with eng.begin() as conn:
            return fn(conn)
    except (InputError, NotFound) as exc:
        fail(exc)


@app.command("list")
def list_(kind: str = typer.Option(None, "--kind", help="indicator, limit or equipment."),
          q: str = typer.Option(None, "--q", help="Text in code, product or indicator."),
          all_versions: bool = typer.Option(False, "--all-versions", help="Every version."),
          db: str = DbOption, as_json: bool = JsonOption) -> None:
    """Benchmark entries with their levels, source and status."""
    from nengtan.services import benchmarking as bm

    items, total = _run(db, lambda c: bm.list_entries(c, kind, None, q, None, all_versions,
                                                       limit=1000))

    def lines(items):
        for e in items:
            levels = ", ".join(f"{lv['key']}={_num(lv['value'], 'g')}" for lv in e["levels"])
            yield (f"{e['code']} v{e['version']} [{e['kind']}, {e['status']}] "
                   f"{e['product'] or ''} / {e['indicator'] or ''}: {levels} {e['unit']} "
                   f"({e['direction']} is better)")
        yield f"{total} entr{'y' if total == 1 else 'ies'}"

    _emit(items, as_json, lines)


@app.command("compare")
def compare(node: str = typer.Option(..., "--node", help="Node code, e.g. CEM."),
            product: str = typer.Option(..., "--product", help="Product code, e.g. CLINKER."),
            period: str = PeriodOption, db: str = DbOption, as_json: bool = JsonOption) -> None:
    """A product line's unit consumption against its linked benchmark levels."""
    from nengtan.services import benchmarking as bm
    from nengtan.services.energy_data import parse_period

    data = _run(db, lambda c: bm.compare_product(c, _node_id(c, node, "--node"), product,
                                                 parse_period(period, "--period")))

    def lines(r):
        a = r["actual"]
        yield (f"{r['node']} {r['product']} {r['period']['label']}: {_num(a['value'])} "
               f"{a['unit'] or ''} (output {_num(a['output'], '.6g')} {a['output_unit'] or ''}, "
               f"energy {_num(a['energy_tce'], '.6g')} tce)")
        if a.get("reason"):
            yield f"  no value: {a['reason']}"
        for c in r["comparisons"]:
            yield (f"  {c['benchmark']} v{c['version']} [{c['status']}]: {c['position']} — "
                   f"{c['position_zh'] or ''} / {c['position_en'] or ''}")
            for lv in c["levels"]:
                gap = lv.get("energy_gap") or {}
                yield (f"    {lv['key']:<10} {_num(lv['value'], 'g'):>8} {c['unit']}  "
                       f"gap {_num(lv['gap_pct'])} %  "
                       f"{_num(gap.get('tce_per_year'), '.1f')} tce/a")

    _emit(data, as_json, lines)


@app.command("ranking")
def ranking(park: str = typer.Option(..., "--park", help="Park node code, e.g. QLP."),
            period: str = PeriodOption, db: str = DbOption, as_json: bool = JsonOption) -> None:
    """Product lines of a park ranked by gap to their best benchmark level."""
    from nengtan.services import benchmarking as bm
    from nengtan.services.energy_data import parse_period

    data = _run(db, lambda c: bm.ranking(c, _node_id(c, park, "--park"),
                                         parse_period(period, "--period")))

    def lines(r):
        yield f"{r['park']} {r['period']['label']}: by gap to the best level"
        for x in r["by_gap"]:
            yield (f"  {x['rank'] or '-':>3} {x['enterprise']:<8} {x['product']:<12} "
                   f"{_num(x['actual'])} {x['unit'] or ''}  gap {_num(x['gap_to_best_pct'])} % "
                   f"({x['position']})")
        if r["by_intensity"]:
            yield "by energy per 10^4 CNY of output value"
            for x in r["by_intensity"]:
                yield (f"  {x['rank'] or '-':>3} {x['enterprise']:<8} "
                       f"{_num(x['tce_per_10k_cny_output'], '.4f')} tce/10^4 CNY")
        for note in r["notes"]:
            yield f"note: {note}"

    _emit(data, as_json, lines)


@app.command("equipment")
def equipment(node: str = typer.Option(..., "--node", help="Node code: its subtree is graded."),
              db: str = DbOption, as_json: bool = JsonOption) -> None:
    """Motor (GB 18613) and compressor (GB 19153) nameplates graded."""
    from nengtan.services import benchmarking as bm

    data = _run(db, lambda c: bm.equipment_grades(c, _node_id(c, node, "--node")))

    def lines(r):
        for item in r["items"]:
            for g in item["grades"]:
                yield (f"{item['node']:<12} {g['equipment']:<10} {_num(g.get('actual'), 'g'):>6} "
                       f"{g.get('unit', '')}: {g['position']} ({g.get('position_en') or ''})")
        yield f"summary: {r['summary']}"

    _emit(data, as_json, lines)


@app.command("metering")
def metering(node: str = typer.Option(..., "--node", help="Enterprise or park code."),
             db: str = DbOption, as_json: bool = JsonOption) -> None:
    """GB 17167 equipping rates per level and carrier, and the gaps."""
    from nengtan.services import metering_compliance as mc

    data = _run(db, lambda c: mc.compliance(c, _node_id(c, node, "--node")))

    def lines(r):
        for u in r["units"]:
            yield f"{u['unit']['node']}: {'pass' if u['pass'] else 'FAIL' if u['pass'] is False else '-'}"
            for lv in u["levels"]:
                for g in lv["groups"]:
                    yield (f"  level {lv['level']} {g['group']:<12} {g['metered']}/{g['required']}"
                           f" = {_num(g['rate_pct'], '.1f')} % (required "
                           f"{_num(g['requirement_pct'], '.0f')} %)")
            for gap in u["gaps"]:
                yield f"  gap: {gap['message']}"

    _emit(data, as_json, lines)
