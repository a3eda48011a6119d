"""SQL pulls from a source database of its own (a MES/ERP/logger on SQLite or PostgreSQL),
through a real collector writing into SQLite and PostgreSQL.

Each PostgreSQL source is a database created for the test (``nt_src_<uuid>``) and dropped after.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    create_engine,
    insert,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from nengtan.collect import config as collect_config
from nengtan.collect import cursors
from nengtan.services import collect_admin, production, query
from nengtan.store.types import to_us
from tests.conftest import PG_ADMIN_URL, _admin, _pg_reachable

T0 = datetime(2026, 1, 1, tzinfo=UTC)
Q = timedelta(minutes=15)

meta = MetaData()
mes_output = Table(
    "mes_output", meta,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("line_code", String(20)), Column("product_code", String(20)),
    Column("shift_date", Date), Column("qty", Numeric(12, 3)), Column("uom", String(10)))
meter_log = Table(
    "meter_log", meta,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("meter", String(40)), Column("read_at", DateTime),  # local time, no offset
    Column("kwh", Float))


@dataclass
class Source:
    url: str
    engine: Engine

    def add(self, table: Table, *rows: dict) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(table), list(rows))


def _pg_database() -> tuple[str, str]:
    reason = _pg_reachable()
    if reason:
        pytest.skip(reason)
    name = f"nt_src_{uuid.uuid4().hex[:12]}"
    return name, make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _create(name: str) -> None:
    with _admin().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))


def _drop(name: str) -> None:
    with _admin().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def source(request, tmp_path):
    """The other system's database, with tables ``mes_output`` and ``meter_log``."""
    name = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'mes.db'}"
    else:
        name, url = _pg_database()
        _create(name)
    eng = create_engine(url)
    meta.create_all(eng)
    yield Source(url, eng)
    eng.dispose()
    if name:
        _drop(name)


def output(i: int, day: int, qty: float, product: str = "CLK", uom: str | None = "t") -> dict:
    return {"id": i, "line_code": "S", "product_code": product,
            "shift_date": date(2026, 1, day), "qty": qty, "uom": uom}


def log_row(i: int, meter: str, k: int, kwh: float | None) -> dict:
    """Reading ``i``: ``meter`` at T0 + k quarter hours, written in Shanghai time (UTC+8)."""
    return {"id": i, "meter": meter, "read_at": (T0 + k * Q + timedelta(hours=8)).replace(
        tzinfo=None), "kwh": kwh}


MES = {"type": "sql", "name": "mes", "interval_s": 0.05, "cursor": {"field": "id"},
       "query": "SELECT id, line_code, product_code, shift_date, qty, uom FROM mes_output "
                "WHERE id > :cursor ORDER BY id",
       "target": "production",
       "production": {"node": "line_code", "product": "product_code",
                      "period_start": "shift_date", "quantity": "qty", "unit": "uom"}}

LOGGER = {"type": "sql", "name": "logger", "cursor": {"field": "id"}, "page_size": 2,
          "query": "SELECT id, meter, read_at, kwh FROM meter_log WHERE id > :cursor "
                   "ORDER BY id LIMIT :limit",
          "timezone": "Asia/Shanghai", "readings": {"tag": "meter", "ts": "read_at",
                                                    "value": "kwh"},
          "tags": {"M1": "E1", "M2": {"meter": "E2", "unit": "Wh"}}}


def start(start_collector, *adapters: dict, **collector):
    return start_collector({"collector": {"name": "plant-a", "flush": {"max_delay_s": 0.05},
                                          **collector},
                            "adapters": list(adapters)})


def run_to_end(start_collector, *adapters: dict) -> dict:
    c = start(start_collector, *[{**a, "once": True} for a in adapters])
    c.thread.join(60)
    return c.stop()


def stored_cursor(engine, adapter: str) -> str | None:
    with engine.connect() as conn:
        return cursors.load(conn, "plant-a", adapter)


def production_rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [(str(a), q, u, s) for a, q, u, s in conn.execute(text(
            "SELECT period_start, quantity, unit, source FROM production_records "
            "ORDER BY period_start"))]


def test_mes_output_becomes_production_records_once_and_a_restart_resumes(
        engine, site, start_collector, source):
    with Session(engine) as s, s.begin():
        production.upsert_product(s, {"code": "CLK", "name_zh": "熟料", "unit": "t"})
    source.add(mes_output, output(1, 1, 100.5), output(2, 2, 98_000, uom="kg"),
               output(3, 2, 5.0, product="XXX"))
    mes = {**MES, "url": source.url}
    c = start(start_collector, mes)
    c.wait_until(lambda s: stored_cursor(engine, "mes") == "3")
    source.add(mes_output, output(4, 3, 99.0, uom=None), output(5, 4, 101.25))
    # The counters follow the commit that moves the cursor: wait for both, not the cursor alone.
    snap = c.wait_until(lambda s: stored_cursor(engine, "mes") == "5" and sum(
        s["adapters"]["mes"][k] for k in ("stored", "dead_lettered")) >= 5)
    c.stop()
    got = snap["adapters"]["mes"]
    # Every row read once: WHERE id > cursor never returns a row twice.
    assert (got["received"], got["stored"], got["dead_lettered"]) == (5, 4, 1)
    source.add(mes_output, output(6, 1, 100.0))  # a corrected 1 January
    again = run_to_end(start_collector, mes)
    assert again["adapters"]["mes"]["received"] == 1 and stored_cursor(engine, "mes") == "6"
    assert production_rows(engine) == [
        ("2026-01-01", 100.0, "t", "plant-a/mes"), ("2026-01-02", 98000.0, "kg", "plant-a/mes"),
        ("2026-01-03", 99.0, "t", "plant-a/mes"),  # no unit: the product's
        ("2026-01-04", 101.25, "t", "plant-a/mes")]
    with Session(engine) as s:
        (letter,) = collect_admin.dead_letters(s)
    assert letter["reason"] == "dead.pull_production_refused"
    assert letter["source"] == source.engine.url.render_as_string(hide_password=True)
    assert letter["detail"]["rule"] == "rule.ref_unknown" and '"product_code":"XXX"' in \
        letter["preview"]
    assert letter["message"]["zh-CN"].startswith("产量记录被拒绝（规则 rule.ref_unknown，字段 product")


def test_logger_readings_in_pages_with_limit_and_local_times(
        engine, site, start_collector, source):
    source.add(meter_log, log_row(1, "M1", 0, 10.0), log_row(2, "M2", 0, 5000.0),
               log_row(3, "M1", 1, 11.5), log_row(4, "M2", 1, None),   # no value
               log_row(5, "M9", 1, 1.0))                               # meter not mapped
    logger = {**LOGGER, "url": source.url}
    snap = run_to_end(start_collector, logger)
    got = snap["adapters"]["logger"]
    assert (got["received"], got["stored"], got["dead_lettered"]) == (5, 3, 2)
    assert stored_cursor(engine, "logger") == "5"
    w = query.Window(to_us(T0), to_us(T0 + 4 * Q))
    with engine.connect() as conn:
        e1 = query.raw_readings(conn, site["E1"], w)["readings"]
        e2 = query.raw_readings(conn, site["E2"], w)["readings"]
        reasons = sorted(conn.execute(text("SELECT reason FROM dead_letters")).scalars())
    # 08:00 in Shanghai is 00:00 UTC; 5000 Wh is 5 kWh.
    assert [(r["ts"], r["value"]) for r in e1] == [("2026-01-01T00:00:00Z", 10.0),
                                                   ("2026-01-01T00:15:00Z", 11.5)]
    assert [(r["ts"], r["value"]) for r in e2] == [("2026-01-01T00:00:00Z", 5.0)]
    assert reasons == ["dead.pull_missing_field", "dead.unknown_tag"]

    source.add(meter_log, log_row(6, "M1", 2, 13.0))
    again = run_to_end(start_collector, logger)["adapters"]["logger"]
    assert (again["received"], again["stored"], again["duplicates"]) == (1, 1, 0)


def test_an_unreachable_source_backs_off_then_recovers(engine, site, start_collector):
    name, url = _pg_database()  # not created yet: connecting fails
    try:
        c = start(start_collector, {**LOGGER, "url": url, "interval_s": 0.05},
                  backoff={"initial_s": 0.05, "max_s": 0.2})
        c.wait_until(lambda s: s["adapters"]["logger"]["reconnects"] >= 2)
        _create(name)
        src = Source(url, create_engine(url))
        meta.create_all(src.engine)
        src.add(meter_log, log_row(1, "M1", 0, 1.0), log_row(2, "M1", 1, 2.0))
        snap = c.wait_until(lambda s: s["adapters"]["logger"]["stored"] == 2)
        c.stop()
        src.engine.dispose()
    finally:
        _drop(name)
    assert snap["adapters"]["logger"]["state"] == "connected"
    with Session(engine) as s:
        events = list(reversed(collect_admin.events(s, adapter="logger")))
    assert events[0].kind == "disconnected" and events[-1].kind == "connected"
    assert events[0].detail["error"].startswith("OperationalError")
    assert f'database "{name}" does not exist' in events[0].detail["error"]


def test_a_datetime_cursor_on_a_postgresql_timestamp_column(engine, site, start_collector):
    name, url = _pg_database()
    _create(name)
    try:
        src = Source(url, create_engine(url))
        meta.create_all(src.engine)
        src.add(meter_log, *[log_row(i + 1, "M1", i, 20.0 + i) for i in range(3)])
        adapter = {**LOGGER, "url": url, "page_size": None,
                   "cursor": {"field": "read_at", "type": "datetime"},
                   # >= reads the last row again on the next pull: stored once all the same.
                   "query": "SELECT meter, read_at, kwh FROM meter_log WHERE read_at >= :cursor "
                            "ORDER BY read_at"}
        first = run_to_end(start_collector, adapter)["adapters"]["logger"]
        src.add(meter_log, log_row(4, "M1", 3, 23.0))
        again = run_to_end(start_collector, adapter)["adapters"]["logger"]
        src.engine.dispose()
    finally:
        _drop(name)
    assert (first["received"], first["stored"]) == (3, 3)
    assert (again["received"], again["stored"], again["duplicates"]) == (2, 2, 1)
    # T0 + 3 quarter hours = 00:45 UTC = 08:45 in Shanghai, as the column holds it.
    assert stored_cursor(engine, "logger") == "2026-01-01T08:45:00"


def test_configuration_errors_are_named():
    base = {"type": "sql", "url": "sqlite:///mes.db"}
    with pytest.raises(collect_config.ConfigError) as err:
        collect_config.parse({"adapters": [
            {**base, "name": "a", "query": "SELECT * FROM t WHERE id > :cursor"},
            {**base, "name": "b", "query": "SELECT * FROM t", "cursor": {"field": "id"}},
            {**base, "name": "c", "query": "SELECT * FROM t WHERE id > :cursor AND x = :line",
             "cursor": {"field": "id"}},
            {**base, "name": "d", "query": "SELECT * FROM t LIMIT :limit"},
            {**base, "name": "e", "url": "not a url", "query": "SELECT 1"},
        ]})
    lines = str(err.value).splitlines()[1:]
    expected = [("(a)", "no cursor is configured"), ("(b)", "must use :cursor"),
                ("(c)", "unknown bind parameter(s) ['line']"), ("(d)", "set page_size"),
                ("(e).url", "not a SQLAlchemy database URL")]
    assert len(lines) == len(expected)
    for i, (line, (where, what)) in enumerate(zip(lines, expected)):
        assert line.strip().startswith(f"adapters[{i}] {where}") and what in line
