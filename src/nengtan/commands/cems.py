"""``nengtan cems ...``: Continuous emission monitoring (CEMS): monitors, samples, hourly CO2."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer

from nengtan.commands.common import DbOption, engine, fail

app = typer.Typer(help="Continuous emission monitoring (CEMS): monitors, samples, hourly CO2.",
                  no_args_is_help=True)

MonitorOption = typer.Option(..., "--monitor", "-m", help="Monitor code.")
FromOption = typer.Option(..., "--from", help="Start (inclusive): a date (local midnight) or "
                                              "an ISO 8601 time; without offset: site time.")
ToOption = typer.Option(..., "--to", help="End (exclusive), same forms as --from.")
JsonOption = typer.Option(False, "--json", help="Print JSON.")
FileArgument = typer.Argument(..., exists=True, dir_okay=False,
                              help="CSV: monitor,ts,co2,flow,temp,pressure,moisture,status "
                                   "(English or Chinese headers).")


@app.command("monitors")
def monitors(db: str = DbOption, as_json: bool = JsonOption) -> None:
    """List the CEMS monitors."""
    from sqlalchemy.orm import Session

    from nengtan.services import cems

    with Session(engine(db)) as s:
        rows = [cems.monitor_dict(s, m) for m in cems.list_monitors(s)]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, default=str))
        return
    for m in rows:
        typer.echo(f"{m['code']:<20} {m['name_zh']}  node {m['node']}  CO2 {m['co2_basis']} "
                   f"{m['co2_unit']}, flow {m['flow_basis']}, every {m['interval_s']} s"
                   f"{'' if m['active'] else '  (inactive)'}")


@app.command("create")
def create(code: str = typer.Argument(..., help="Monitor code (used in collector tag maps)."),
           name_zh: str = typer.Option(..., "--name-zh", help="Chinese name."),
           node: str = typer.Option(..., "--node", help="Code of the emission-source node."),
           name_en: str = typer.Option(None, "--name-en"),
           co2_basis: str = typer.Option("dry", help="dry or wet."),
           co2_unit: str = typer.Option("pct", help="pct (vol-%) or mg/m3."),
           flow_basis: str = typer.Option("actual", help="actual (stack conditions) or std_dry."),
           pressure_basis: str = typer.Option("absolute", help="absolute or gauge."),
           barometric_kpa: float = typer.Option(101.325, help="Ambient pressure for gauge "
                                                               "readings (kPa)."),
           interval_s: int = typer.Option(60, help="Seconds per sample (a divisor of 3600)."),
           db: str = DbOption) -> None:
    """Create a CEMS monitor on an emission-source node."""
    from sqlalchemy.orm import Session

    from nengtan.errors import InputError
    from nengtan.services import cems

    body = {"code": code, "name_zh": name_zh, "name_en": name_en, "node": node,
            "co2_basis": co2_basis, "co2_unit": co2_unit, "flow_basis": flow_basis,
            "pressure_basis": pressure_basis, "barometric_kpa": barometric_kpa,
            "interval_s": interval_s}
    try:
        with Session(engine(db)) as s, s.begin():
            out = cems.monitor_dict(s, cems.create_monitor(s, body))
    except InputError as exc:
        fail(exc)
    typer.echo(json.dumps(out, ensure_ascii=False, default=str))


@app.command("import")
def import_(path: Path = FileArgument,
            monitor: str = typer.Option(None, "--monitor", "-m",
                                        help="Monitor of rows without a monitor column."),
            dry_run: bool = typer.Option(False, "--dry-run", help="Validate and compute, "
                                                                  "store nothing."),
            db: str = DbOption) -> None:
    """Import CEMS samples from a CSV file, all-or-nothing, and recompute the hours."""
    from nengtan.errors import InputError
    from nengtan.services import cems

    eng = engine(db)
    try:
        rows = cems.parse_csv(path.read_bytes())
        with eng.connect() as conn:
            tx = conn.begin()
            out = cems.ingest_rows(conn, rows, "import", path.name[:400], monitor_code=monitor)
            tx.rollback() if dry_run else tx.commit()
    except InputError as exc:
        fail(exc)
    out["dry_run"] = dry_run
    typer.echo(json.dumps(out, ensure_ascii=False))


def _period(conn, monitor_code: str, start: str, end: str):
    """(monitor id, start µs, end µs) for the CLI's --monitor/--from/--to."""
    from sqlalchemy import select

    from nengtan.errors import InputError, Issue
    from nengtan.services import cems, query
    from nengtan.services.fields import parse_datetime
    from nengtan.store.models.cems import CemsMonitor

    mid = conn.execute(select(CemsMonitor.id).where(CemsMonitor.code == monitor_code)).scalar()
    if mid is None:
        raise InputError([Issue("rule.ref_unknown", field="monitor", value=monitor_code,
                                params={"ref": "cems_monitor"})])
    bounds, issues = [], []
    for name, raw in (("from", start), ("to", end)):
        try:
            bounds.append(date.fromisoformat(raw) if len(raw.strip()) == 10
                          else parse_datetime(raw))
        except ValueError:
            issues.append(Issue("rule.type_datetime", field=name, value=raw))
    if issues:
        raise InputError(issues)
    w = query.window(bounds[0], bounds[1], cems.monitor_tz(conn, mid))
    return mid, w.start_us, w.end_us


@app.command("hours")
def hours(monitor: str = MonitorOption, start: str = FromOption, end: str = ToOption,
          as_json: bool = JsonOption, db: str = DbOption) -> None:
    """Hourly CO2 (t) with the status of every hour: valid, invalid or missing."""
    from nengtan.errors import InputError
    from nengtan.services import cems

    try:
        with engine(db).connect() as conn:
            out = cems.hours(conn, *_period(conn, monitor, start, end))
    except InputError as exc:
        fail(exc)
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    typer.echo(f"{'hour (' + out['timezone'] + ')':<26} {'status':<8} {'CO2 t':>10} "
               f"{'valid min':>9}  reasons")
    for h in out["hours"]:
        co2 = "" if h["co2_t"] is None else f"{h['co2_t']:.3f}"
        if h["co2_t"] is None and h["measured_co2_t"] is not None:
            co2 = f"({h['measured_co2_t']:.3f})"
        reasons = "; ".join(cems.messages(r)["message"] for r in h["reasons"])
        typer.echo(f"{h['start_local'][:16]:<26} {h['status']:<8} {co2:>10} "
                   f"{h['valid_minutes']:>9g}  {reasons}")
    _print_summary(out["summary"])


@app.command("summary")
def summary(monitor: str = MonitorOption, start: str = FromOption, end: str = ToOption,
            as_json: bool = JsonOption, db: str = DbOption) -> None:
    """Totals of a period and the runs of invalid and missing hours with their causes."""
    from nengtan.errors import InputError
    from nengtan.services import cems

    try:
        with engine(db).connect() as conn:
            out = cems.gaps(conn, *_period(conn, monitor, start, end))
    except InputError as exc:
        fail(exc)
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    typer.echo(f"{out['monitor']}  {out['start']} .. {out['end']}  ({out['timezone']})")
    _print_summary(out["summary"])
    for g in out["gaps"]:
        partial = "" if g["partial_co2_t"] is None else f", partial {g['partial_co2_t']:.3f} t"
        typer.echo(f"  {g['start_local'][:16]} .. {g['end_local'][11:16]}  {g['status']:<8} "
                   f"{g['hours']} h{partial}")
        for r in g["reasons"]:
            typer.echo(f"      {r['message']}  |  {r['message_zh']}")


def _print_summary(s: dict) -> None:
    capture = "n/a" if s["data_capture_pct"] is None else f"{s['data_capture_pct']:.1f} %"
    typer.echo(f"hours {s['hours']}: valid {s['valid_hours']}, invalid {s['invalid_hours']}, "
               f"missing {s['missing_hours']}; data capture {capture}")
    typer.echo(f"CO2 of valid hours {s['co2_t']:.3f} t; partial CO2 of invalid hours "
               f"{s['partial_co2_t']:.3f} t (not included)")
