"""Integrated tamper test: a short demo build locks the enterprises' inventories (readings,
manual entries, fuel deliveries, evidence, factor values, source definitions and results in
the ledger, with a checkpoint).  Then one stored reading, one factor value, one evidence file
on disk and one locked result are changed behind the application's back, and
``nengtan ledger verify`` names each of them and exits non-zero."""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from nengtan.cli import app
from nengtan.config import get_settings
from nengtan.demo import build_demo
from nengtan.services import inventories
from nengtan.services.evidence import path_of
from nengtan.store import db
from nengtan.store.models import Meter
from nengtan.store.models.manual import EvidenceFile
from nengtan.store.types import to_us

TODAY = date(2026, 11, 21)
START = date(2026, 11, 1)
TAG = "20261101"


@pytest.fixture
def locked_demo(tmp_path, monkeypatch):
    """A 20-day demo build with its own evidence directory and ledger key."""
    monkeypatch.setenv("NENGTAN_EVIDENCE_DIR", str(tmp_path / "evidence"))
    monkeypatch.setenv("NENGTAN_LEDGER_KEY", str(tmp_path / "key" / "ledger.pem"))
    get_settings.cache_clear()
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    build_demo(engine, today=TODAY, seed=2025, start=START)
    yield engine, url, tmp_path / "evidence"
    engine.dispose()
    monkeypatch.undo()
    get_settings.cache_clear()


def verify(url: str):
    return CliRunner().invoke(app, ["ledger", "verify", "--db", url])


def test_verify_names_each_tampered_record(locked_demo):
    engine, url, root = locked_demo
    with Session(engine) as s:
        locked = {i.code: inventories.version(s, i.id) for i in
                  (inventories.by_code(s, f"INV-{e}-{TAG}") for e in ("CEM", "TEX", "ELE"))}
        assert {v.status for v in locked.values()} == {"locked"}
        cem = locked[f"INV-CEM-{TAG}"]
        # the locked CEM inventory rests on an approved manual reading with its evidence file
        assert cem.ledger["entries"]["evidence_file"] >= 1
        assert cem.ledger["entries"]["manual_entry"] >= 1
        grid = next(f for f in cem.result["factor_values"] if f["parameter"] == "grid_factor")
        diesel = next(e for e in cem.result["sources"] if e["source"] == "CEM-DIESEL")
        entry = diesel["lineage"]["activity_data"]["links"][0]["manual_entries"][0]
        ev = s.get(EvidenceFile, entry["evidence"][0]["evidence_id"])
        coal = s.scalar(select(Meter).where(Meter.code == "CEM-C-201"))
    first = verify(url)
    assert first.exit_code == 0, first.output

    # 1. a stored reading of the coal meter on 10 November (local)
    ts = to_us(datetime(2026, 11, 10, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    with engine.begin() as conn:
        changed = conn.execute(text(
            "UPDATE readings SET value = value + 5 WHERE meter_id = :m AND ts = ("
            "SELECT MIN(ts) FROM readings WHERE meter_id = :m AND ts >= :t)"),
            {"m": coal.id, "t": ts}).rowcount
        assert changed == 1
        # 2. the grid factor value the CEM inventory used
        assert conn.execute(text("UPDATE factor_values SET value = value + 0.01 WHERE id = :i"),
                            {"i": int(grid["factor_id"])}).rowcount == 1
        # 4. the locked result of the TEX inventory
        tex = locked[f"INV-TEX-{TAG}"]
        result = dict(tex.result)
        result["totals"] = {**result["totals"], "total_tco2e": 1.0}
        assert conn.execute(text("UPDATE inventory_versions SET result = :r WHERE id = :i"),
                            {"r": json.dumps(result), "i": tex.id}).rowcount == 1
    # 3. the evidence file of the diesel ledger, on disk
    path = path_of(root, ev.sha256)
    path.write_bytes(path.read_bytes() + b"edited\r\n")

    out = verify(url)
    assert out.exit_code != 0
    text_out = out.output
    assert "CEM-C-201" in text_out and "2026-11-10" in text_out          # the reading
    assert f"factor value {grid['factor_id']}" in text_out                # the factor value
    assert ev.filename in text_out                                       # the evidence file
    assert f"INV-TEX-{TAG} version 1" in text_out                        # the locked result
    # nothing else is named
    with engine.begin() as conn:
        from nengtan.services import ledger

        report = ledger.verify(conn, evidence_root=root)
    kinds = sorted(m["kind"] for m in report["mismatches"])
    assert kinds == ["evidence_file", "factor_value", "inventory_result", "readings"]
