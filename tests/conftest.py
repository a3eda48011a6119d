"""Shared fixtures.

``engine`` is parametrised over the embedded SQLite default and the running PostgreSQL
(``NENGTAN_TEST_PG_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``):
every test that uses it runs against both.  Each PostgreSQL test gets a fresh database cloned
from a migrated template, so tests never see each other's data.  PostgreSQL tests skip, saying
why, only when the server cannot be reached.
"""

from __future__ import annotations

import os
import tempfile
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from nengtan.demo import build_demo
from nengtan.services import meters
from nengtan.store import db

# Evidence files written by tests (manual entries, demo builds) go to a directory of the test
# run, never into the working tree's var/.
os.environ.setdefault("NENGTAN_EVIDENCE_DIR", tempfile.mkdtemp(prefix="nengtan-evidence-"))
# Ledger checkpoints signed in tests use a key of the test run, never one in var/.
os.environ.setdefault("NENGTAN_LEDGER_KEY",
                      os.path.join(tempfile.mkdtemp(prefix="nengtan-ledger-"), "ledger.pem"))

PG_ADMIN_URL = os.environ.get(
    "NENGTAN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _admin():
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def _pg_reachable() -> str | None:
    try:
        with _admin().connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # pragma: no cover - depends on the machine
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}"


@pytest.fixture(scope="session")
def pg_template():
    reason = _pg_reachable()
    if reason:
        pytest.skip(reason)
    name = f"nt_tpl_{os.getpid()}"
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    eng = db.make_engine(url)
    db.upgrade(eng)
    with Session(eng) as s, s.begin():
        meters.seed_carriers(s)
    eng.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _pg_database(template: str):
    name = f"nt_t_{uuid.uuid4().hex[:12]}"
    with _admin().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    return name, url


def _drop(name: str, url: str) -> None:
    with _admin().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_engine(tmp_path):
    eng = db.make_engine(f"sqlite:///{tmp_path / 'nengtan.db'}")
    db.upgrade(eng)
    with Session(eng) as s, s.begin():
        meters.seed_carriers(s)
    yield eng
    eng.dispose()


@pytest.fixture
def pg_engine(request):
    template = request.getfixturevalue("pg_template")
    name, url = _pg_database(template)
    eng = db.make_engine(url)
    yield eng
    eng.dispose()
    _drop(name, url)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request):
    """A migrated, carrier-seeded database: SQLite and PostgreSQL in turn."""
    name = "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    return request.getfixturevalue(name)


@pytest.fixture
def session(engine):
    with Session(engine, expire_on_commit=False) as s:
        yield s


# -- the demo park (built once per test session, on first use) -------------------------------
def _say(request, text: str) -> None:
    """Show ``text`` in the test run's output even while output is captured."""
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is None or capture is None:  # pragma: no cover - plugins switched off
        print(text)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(text)


@pytest.fixture(scope="session")
def full_demo(tmp_path_factory, request):
    """The full default demo park on SQLite: (engine, report).  Built into a migrated
    database without carriers, so the build seeds them itself."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    report = build_demo(engine)
    _say(request, f"\n[demo] full default build on SQLite: {report.seconds:.1f} s, "
                  f"{report.readings} readings, {report.meters} meters "
                  f"({report.start} .. {report.end})")
    yield engine, report
    engine.dispose()
