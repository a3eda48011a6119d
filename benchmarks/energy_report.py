"""Energy report benchmark: the monthly report of the whole demo park, SQLite and PostgreSQL.

For each database (the demo park built fresh, or reused with ``--db URL``):

1. assembles the report data (``nengtan.services.energy_report.assemble``: park totals for the
   month, the month before and the same month a year before; every child node; intensity;
   daily trend; structure; lineage; the optional sections whose services are installed),
   ``--repeat`` times, and prints the first (cold) and the best time;
2. as the reference, reads the month's day rollups of every meter of the database
   (``rollup_day`` rows, what a report must at least look at) and the hourly rollups of the
   month (``query.hourly_matrix``), in the same run, and prints the ratios;
3. renders the document (zh-CN) to Excel and to PDF and prints those times.

The target of issue 4 is a monthly park report that computes (step 1) in under 2 s on each
database; rendering is printed separately (charts and font embedding, not database work).

Usage:  python benchmarks/energy_report.py [--db URL ...] [--pg ADMIN_URL] [--period 2026-10]
        [--node QLP] [--repeat 5] [--rebuild] [--annual]
The last line is ``summary: <db>_assemble_s=... ... target_s=2.0 ok|SLOW``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from nengtan.demo import build_demo
from nengtan.services import energy_report, query
from nengtan.store import db, meta
from nengtan.store.models import Meter, RollupDay
from nengtan.timeseries.calendar import DAY_US, local_midnight_us

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import fresh_database

TARGET_S = 2.0
SQLITE_DEFAULT = "sqlite:////tmp/nengtan-bench-report.db"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", action="append", default=[],
                   help="reuse the demo park in this database (repeatable); default: build "
                        f"it in {SQLITE_DEFAULT} and in PostgreSQL")
    p.add_argument("--pg", default=os.environ.get(
        "NENGTAN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
        help="admin URL; the database nengtan_bench_report is created next to it")
    p.add_argument("--no-pg", action="store_true", help="SQLite only")
    p.add_argument("--rebuild", action="store_true",
                   help="rebuild the demo even when the database already holds it")
    p.add_argument("--node", default="QLP")
    p.add_argument("--period", default=None,
                   help="month (default: the last whole month of the demo data)")
    p.add_argument("--annual", action="store_true", help="also time the annual report")
    p.add_argument("--repeat", type=int, default=5)
    return p.parse_args()


def demo_engine(url: str, rebuild: bool, fresh=None):
    """An engine on a database holding the demo park: reused when built before."""
    engine = db.make_engine(url)
    db.upgrade(engine)
    with engine.connect() as conn:
        marker = meta.get(conn, "demo")
    if marker is not None and not rebuild:
        print(f"  reusing the demo park in {make_url(url).render_as_string(hide_password=True)}")
        return engine, None
    if fresh is not None:
        engine.dispose()
        url = fresh()
        engine = db.make_engine(url)
        db.upgrade(engine)
    elif url.startswith("sqlite:///"):
        engine.dispose()
        path = url.removeprefix("sqlite:///")
        if os.path.exists(path):
            os.remove(path)
        engine = db.make_engine(url)
        db.upgrade(engine)
    t0 = time.perf_counter()
    report = build_demo(engine)
    build_s = time.perf_counter() - t0
    print(f"  built the demo park: {report.readings:,} readings, {report.meters} meters, "
          f"{build_s:.1f} s")
    return engine, build_s


def last_whole_month(engine) -> str:
    """The last month whose every day has day rollups."""
    with engine.connect() as conn:
        last_day = conn.execute(select(func.max(RollupDay.day))).scalar()
    after = last_day + timedelta(days=1)
    month = after.replace(day=1) - timedelta(days=1) if after.day != 1 else last_day
    return f"{month:%Y-%m}"


def timed(fn, repeat: int) -> tuple[float, float, object]:
    runs, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        runs.append(time.perf_counter() - t0)
    return runs[0], min(runs), out


def run(name: str, engine, a: argparse.Namespace) -> dict:
    period_text = a.period or last_whole_month(engine)
    per = energy_report.report_period(period_text)
    with engine.connect() as conn:
        node_id = energy_report.node_id_of(conn, a.node)

    def assemble(p=per):
        with engine.connect() as conn:
            return energy_report.assemble(conn, node_id, p)

    cold, best, data = timed(assemble, a.repeat)
    d = data.as_dict()

    # references: the month's rollups of all meters, read in the same run
    def day_rows():
        with engine.connect() as conn:
            return conn.execute(select(RollupDay.meter_id, RollupDay.day, RollupDay.value,
                                       RollupDay.coverage_s).where(
                RollupDay.day >= per.start, RollupDay.day < per.end)).all()

    _, ref_day, rows = timed(day_rows, a.repeat)
    with engine.connect() as conn:
        ids = list(conn.execute(select(Meter.id).order_by(Meter.id)).scalars())
    # UTC days touching the local month (Asia/Shanghai is UTC+8: the first local day starts
    # on the UTC day before)
    first_day = local_midnight_us(per.start, ZoneInfo("Asia/Shanghai")) // DAY_US
    last_day = (local_midnight_us(per.end, ZoneInfo("Asia/Shanghai")) - 1) // DAY_US

    def hourly():
        with engine.connect() as conn:
            return query.hourly_matrix(conn, ids, first_day, last_day)

    _, ref_hour, _ = timed(hourly, a.repeat)

    from nengtan.reports.energy import compose
    from nengtan.reports.render import render

    doc = compose(d, "zh-CN")
    t0 = time.perf_counter()
    xlsx = render(doc, "xlsx")
    xlsx_s = time.perf_counter() - t0
    _, pdf_s, pdf = timed(lambda: render(doc, "pdf"), 2)
    print(f"{name}: node={a.node} period={period_text} total_tce={d['totals']['total_tce']:.1f} "
          f"children={len(d['children']['items'])} sections={sorted(d['sections'])} "
          f"skipped={[s['section'] for s in d['skipped']]}")
    print(f"{name}: assemble_s first={cold:.3f} best={best:.3f} (target {TARGET_S:.1f} s); "
          f"last run by part: {d['timings_s']}")
    print(f"{name}: reference read_month_day_rollups_s={ref_day:.4f} ({len(rows):,} rows, "
          f"{len(ids)} meters) ratio={best / ref_day:.1f}x; "
          f"hourly_matrix_month_s={ref_hour:.4f} ratio={best / ref_hour:.1f}x")
    print(f"{name}: render_xlsx_s={xlsx_s:.3f} ({len(xlsx):,} bytes) "
          f"render_pdf_s={pdf_s:.3f} ({len(pdf):,} bytes)")
    out = {"assemble": best}
    if a.annual:
        year = energy_report.report_period(period_text[:4])
        cold_y, best_y, annual = timed(lambda: assemble(year), max(2, a.repeat // 2))
        print(f"{name}: annual {year.label} assemble_s first={cold_y:.3f} best={best_y:.3f}; "
              f"by part: {annual.as_dict()['timings_s']}")
    return out


def main() -> None:
    a = parse_args()
    targets: list[tuple[str, object]] = []
    if a.db:
        for url in a.db:
            name = make_url(url).get_backend_name()
            print(f"{name}:")
            targets.append((name, demo_engine(url, a.rebuild)[0]))
    else:
        print("sqlite:")
        targets.append(("sqlite", demo_engine(SQLITE_DEFAULT, a.rebuild)[0]))
        if not a.no_pg:
            print("postgresql:")
            url = make_url(a.pg).set(database="nengtan_bench_report").render_as_string(
                hide_password=False)
            try:
                engine, _ = demo_engine(url, a.rebuild,
                                        fresh=lambda: fresh_database(a.pg, "nengtan_bench_report"))
            except Exception as exc:
                if "does not exist" not in str(exc):
                    raise
                engine, _ = demo_engine(fresh_database(a.pg, "nengtan_bench_report"), True)
            targets.append(("postgresql", engine))
    results = {name: run(name, engine, a) for name, engine in targets}
    worst = max(r["assemble"] for r in results.values())
    print("summary: " + " ".join(f"{n}_assemble_s={r['assemble']:.3f}" for n, r in results.items())
          + f" target_s={TARGET_S} " + ("ok" if worst < TARGET_S else "SLOW"))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
