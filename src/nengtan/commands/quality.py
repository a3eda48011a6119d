"""``nengtan quality ...``: data-quality rules, completeness and balance checks.

    nengtan quality run --from 2025-03-01 --to 2025-04-01 [--meter E-101 ...]
    nengtan quality completeness --meter E-101 --from 2025-03-01 --to 2025-04-01 [--period day]
    nengtan quality completeness --node S1 --carrier electricity --from ... --to ...
    nengtan quality balance --meter E-201 --from 2025-03-01 --to 2025-03-08 [--period hour]
    nengtan quality rules list

Dates are local midnight, times without an offset are local (the site's timezone; the default
timezone for ``run``).  ``--json`` prints the answer of the corresponding API endpoint.
"""

from __future__ import annotations

import json

import typer

from nengtan.commands.common import DbOption, engine, fail

app = typer.Typer(help="Data-quality rules, completeness and balance checks.", no_args_is_help=True)
rules_app = typer.Typer(help="Configured data-quality rules.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

FromOption = typer.Option(..., "--from", help="Start, inclusive (YYYY-MM-DD or ISO 8601).")
ToOption = typer.Option(..., "--to", help="End, exclusive (YYYY-MM-DD or ISO 8601).")
PeriodOption = typer.Option("day", "--period", help="hour, day or month.")
JsonOption = typer.Option(False, "--json", help="Print JSON (as the API answers).")
MetersOption = typer.Option(None, "--meter", help="Only this meter (repeatable).")


def _emit(data, as_json: bool, lines) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, default=str, indent=1))
    else:
        for line in lines(data):
            typer.echo(line)


def _meter_id(conn, code: str, field: str = "meter") -> int:
    from sqlalchemy import select

    from nengtan.errors import fail as input_error
    from nengtan.store.models import Meter

    mid = conn.execute(select(Meter.id).where(Meter.code == code)).scalar()
    if mid is None:
        raise input_error("rule.ref_unknown", field=field, value=code, ref="meter")
    return mid


def _pct(x) -> str:
    return "-" if x is None else f"{x:.2f} %"


@app.command("run")
def run(start: str = FromOption, end: str = ToOption,
        meter: list[str] = MetersOption,
        db: str = DbOption, as_json: bool = JsonOption) -> None:
    """Evaluate the enabled rules over a window of stored data and store their findings."""
    from nengtan.api.params import period
    from nengtan.errors import InputError
    from nengtan.services import quality_rules as qr
    from nengtan.services import query

    eng = engine(db)
    try:
        with eng.begin() as conn:
            lo, hi = period(start, end)
            w = query.window(lo, hi, qr.default_timezone())
            ids = [_meter_id(conn, c, "--meter") for c in meter] if meter else None
            result = qr.evaluate(conn, w.start_us, w.end_us, meters=ids).as_dict()
    except InputError as exc:
        fail(exc)

    def lines(r):
        yield (f"window {r['window']['start']} .. {r['window']['end']}: {r['rules']} rule(s), "
               f"{r['checks']} check(s)")
        yield (f"findings: {r['inserted']} new, {r['unchanged']} unchanged, {r['removed']} "
               f"removed, {r['kept_acknowledged']} already acknowledged/closed; "
               f"{r['not_assessable_periods']} balance period(s) not assessable")
        for kind, n in r["open_by_kind"].items():
            yield f"  {kind}: {n}"

    _emit(result, as_json, lines)


@app.command("completeness")
def completeness(meter: str = typer.Option(None, "--meter", help="Meter code."),
                 node: str = typer.Option(None, "--node", help="Node code (its meters)."),
                 carrier: str = typer.Option(None, "--carrier", help="With --node: one carrier."),
                 start: str = FromOption, end: str = ToOption, period_: str = PeriodOption,
                 db: str = DbOption, as_json: bool = JsonOption) -> None:
    """Expected intervals, intervals present and % per period (virtual meters not counted)."""
    from sqlalchemy import select

    from nengtan.api.params import period
    from nengtan.errors import InputError
    from nengtan.errors import fail as input_error
    from nengtan.services import quality_rules as qr
    from nengtan.store.models import Node

    eng = engine(db)
    try:
        with eng.connect() as conn:
            lo, hi = period(start, end)
            node_id = None
            if node:
                node_id = conn.execute(select(Node.id).where(Node.code == node)).scalar()
                if node_id is None:
                    raise input_error("rule.ref_unknown", field="--node", value=node, ref="node")
            result = qr.completeness(conn, meter_id=_meter_id(conn, meter) if meter else None,
                                     node_id=node_id, start=lo, end=hi, period=period_,
                                     carrier=carrier)
    except InputError as exc:
        fail(exc)

    def lines(r):
        yield (f"{r.get('meter') or r.get('node')}: {_pct(r['total']['pct'])} "
               f"({r['total']['present']:g} of {r['total']['expected']:g} intervals)")
        for p in r["points"]:
            yield f"  {p['period']}  {p['present']:>10g} / {p['expected']:<10g} {_pct(p['pct'])}"
        if node:
            for m in r["meters"]:
                yield f"  meter {m['meter']}: {_pct(m['pct'])}"
            if r["excluded_virtual"]:
                yield "  not counted (virtual): " + ", ".join(r["excluded_virtual"])

    _emit(result, as_json, lines)


@app.command("balance")
def balance(meter: str = typer.Option(..., "--meter", help="Code of the parent meter."),
            start: str = FromOption, end: str = ToOption, period_: str = PeriodOption,
            tolerance: float = typer.Option(None, "--tolerance",
                                            help="Tolerance in % (default: the meter's "
                                                 "balance rule, else 5)."),
            db: str = DbOption, as_json: bool = JsonOption) -> None:
    """A parent meter against the sum of its sub-meters per period."""
    from nengtan.api.params import period
    from nengtan.errors import InputError
    from nengtan.i18n import t
    from nengtan.services import quality_rules as qr

    eng = engine(db)
    try:
        with eng.connect() as conn:
            lo, hi = period(start, end)
            result = qr.balance(conn, _meter_id(conn, meter), lo, hi, period_, tolerance)
    except InputError as exc:
        fail(exc)

    def lines(r):
        yield (f"{r['meter']} vs {', '.join(c['meter'] for c in r['children'])} "
               f"({r['unit']}, tolerance {r['tolerance_pct']:g} %)")
        for p in r["points"]:
            values = ("" if p["parent"] is None else f"parent {p['parent']:.3f}") + (
                "" if p["children_sum"] is None else
                f"  sum {p['children_sum']:.3f}  diff {p['difference']:.3f} ({_pct(p['pct'])})")
            note = f" [{', '.join(p['incomplete'])}]" if p["incomplete"] else ""
            yield (f"  {p['period']}  {p['status']:<15} {values}{note}  "
                   f"{t('qr.balance.' + p['status'], 'zh-CN')}")
        yield "  " + ", ".join(f"{k}: {v}" for k, v in r["summary"].items())

    _emit(result, as_json, lines)


@rules_app.command("list")
def list_rules(db: str = DbOption, as_json: bool = JsonOption) -> None:
    """The configured rules with their scope and parameters."""
    from sqlalchemy.orm import Session

    from nengtan.i18n import t
    from nengtan.services import quality_rules as qr

    eng = engine(db)
    with Session(eng) as s:
        rules = [qr.as_dict(s, r) for r in s.scalars(qr.list_query())]

    def lines(items):
        if not items:
            yield "no rules"
        for r in items:
            scope = f"meter {r['meter']}" if r["meter"] else (
                f"node {r['node']}" + (f" ({r['carrier']})" if r["carrier"] else "")
                + ("" if r["subtree"] else " only"))
            state = "" if r["enabled"] else " [disabled]"
            params = ", ".join(f"{k}={v}" for k, v in r["params"].items())
            yield (f"{r['id']:>4}  {r['kind']:<17} {r['severity']:<7} {scope}: {params}{state}"
                   f"  {r['name'] or ''} / {t('qr.kind.' + r['kind'], 'zh-CN')}")

    _emit(rules, as_json, lines)
