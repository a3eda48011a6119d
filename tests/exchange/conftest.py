"""Fixtures of the import/export tests: real files in ``tmp_path``, a second empty database
of the same kind as ``engine`` (for round trips), and table row counts."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from nengtan.services import meters
from nengtan.store import db
from nengtan.store.models import (
    EconomicRecord,
    FuelDelivery,
    IngestBatch,
    Meter,
    MeterEvent,
    Node,
    Product,
    ProductionRecord,
    Reading,
    RollupHour,
)

PG_ADMIN_URL = os.environ.get(
    "NENGTAN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

COUNTED = {"nodes": Node, "meters": Meter, "meter_events": MeterEvent, "products": Product,
           "production": ProductionRecord, "economics": EconomicRecord,
           "fuel_deliveries": FuelDelivery, "readings": Reading, "batches": IngestBatch,
           "rollup_hour": RollupHour}


def table_counts(engine) -> dict[str, int]:
    """Rows in every table an import writes to."""
    with engine.connect() as conn:
        return {name: conn.scalar(select(func.count()).select_from(model))
                for name, model in COUNTED.items()}


@pytest.fixture
def counts():
    return table_counts


@pytest.fixture
def write(tmp_path):
    """write(name, text, encoding="utf-8") -> Path of a text file in tmp_path."""

    def _write(name: str, content: str, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(content.encode(encoding))
        return path

    return _write


@pytest.fixture
def workbook(tmp_path):
    """workbook(name, {sheet: [rows]}) -> Path of an .xlsx file written with openpyxl."""

    def _workbook(name: str, sheets: dict[str, list[list]]) -> Path:
        book = openpyxl.Workbook()
        book.remove(book.active)
        for title, rows in sheets.items():
            ws = book.create_sheet(title)
            for row in rows:
                ws.append(row)
        path = tmp_path / name
        book.save(path)
        return path

    return _workbook


@pytest.fixture
def empty_engine(engine, tmp_path, request):
    """A second migrated, carrier-seeded, empty database of the same kind as ``engine``."""
    if engine.dialect.name == "sqlite":
        eng = db.make_engine(f"sqlite:///{tmp_path / 'second.db'}")
        db.upgrade(eng)
        with Session(eng) as s, s.begin():
            meters.seed_carriers(s)
        yield eng
        eng.dispose()
        return
    template = request.getfixturevalue("pg_template")
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"nt_x_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = make_url(PG_ADMIN_URL).set(database=name)
    eng = db.make_engine(url.render_as_string(hide_password=False))
    yield eng
    eng.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
