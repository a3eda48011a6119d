"""Engines, sessions and schema upgrades for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from nengtan.config import get_settings


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets the web server read while an import writes; NORMAL is durable across
    # application crashes (only an OS crash can lose the last commits).
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA cache_size=-65536")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def make_engine(url: str | None = None, echo: bool | None = None) -> Engine:
    settings = get_settings()
    url = url or settings.resolved_database_url()
    parsed = make_url(url)
    echo = settings.echo_sql if echo is None else echo
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        # JIT compilation costs tens of milliseconds per statement and never pays off for
        # nengtan's short, index-driven statements.
        return create_engine(url, echo=echo, pool_pre_ping=True,
                             connect_args={"options": "-c jit=off"})
    raise ValueError(f"unsupported database {parsed.get_backend_name()!r}; use sqlite or postgresql")


def is_postgres(bind) -> bool:
    return bind.dialect.name == "postgresql"


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with Alembic (idempotent)."""
    from alembic import command

    with engine.begin() as conn:
        cfg = alembic_config(conn)
        command.upgrade(cfg, revision)


def alembic_config(connection=None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "nengtan.store:migrations")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def reset(engine: Engine) -> None:
    """Drop every nengtan table (all data!) and recreate the schema."""
    from alembic import command

    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # SQLite checks RESTRICT references row by row while it drops a table, so the
            # organisation tree (nodes referring to their parents) could never be dropped.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            with conn.begin():
                command.downgrade(alembic_config(conn), "base")
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()
    upgrade(engine)


#: Readings and distinct timestamps per meter.
_PER_METER = ("SELECT meter_id, count(*) AS n, count(DISTINCT ts) AS n_distinct FROM readings "
              "GROUP BY meter_id")


def reading_counts(engine: Engine) -> tuple[int, int]:
    """(readings stored, distinct (meter, ts) among them): equal unless something stored a
    reading twice."""
    from sqlalchemy import text

    with engine.connect() as conn:
        n, distinct = conn.execute(text(
            "SELECT coalesce(sum(n), 0), coalesce(sum(n_distinct), 0) "
            f"FROM ({_PER_METER}) d")).one()
    return int(n), int(distinct)


def check(engine: Engine) -> list[str]:
    """Storage invariants that the ingestion service maintains (and indexes do not enforce on
    PostgreSQL): (meter, ts) unique; ``rollup_hour.raw_count`` equals the readings per day."""
    from sqlalchemy import bindparam, text

    problems: list[str] = []
    with engine.connect() as conn:
        # Meters first, then their pairs: grouping all (meter, ts) pairs at once gets a hash
        # plan sized for a small table on PostgreSQL and runs for minutes on millions of rows.
        meters = [m for (m,) in conn.execute(text(
            f"SELECT meter_id FROM ({_PER_METER}) d WHERE n > n_distinct LIMIT 20"))]
        if meters:
            dups = conn.execute(text(
                "SELECT meter_id, ts, count(*) FROM readings WHERE meter_id IN :m "
                "GROUP BY meter_id, ts HAVING count(*) > 1 LIMIT 20").bindparams(
                    bindparam("m", expanding=True)), {"m": meters}).all()
            problems += [f"duplicate reading: meter {m} at {ts} stored {n} times"
                         for m, ts, n in dups]
        counts = dict(conn.execute(text(
            "SELECT meter_id, count(*) FROM readings GROUP BY meter_id")).all())
        rolled = dict(conn.execute(text(
            "SELECT meter_id, sum(raw_count) FROM rollup_hour GROUP BY meter_id")).all())
        for meter in sorted(set(counts) | set(rolled)):
            a, b = int(counts.get(meter, 0)), int(rolled.get(meter) or 0)
            if a != b:
                problems.append(f"meter {meter}: {a} readings but rollup_hour counts {b}")
    return problems
