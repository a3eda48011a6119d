"""``nengtan ledger``: append, checkpoint, verify (exit status), proof export and offline
verification of the proof (no database), status."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from nengtan.cli import app
from nengtan.services import evidence, ledger, meters, org
from nengtan.services.audit import Actor
from nengtan.services.ingest import ReadingBatch, ingest
from nengtan.store import db

T0 = 1_735_660_800 * 1_000_000  # 2025-01-01 00:00 Asia/Shanghai
Q = 900 * 1_000_000
runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv(ledger.KEY_ENV, str(tmp_path / "key" / "ledger.pem"))
    monkeypatch.delenv(ledger.HASH_ENV, raising=False)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    root = tmp_path / "evidence"
    with Session(engine) as s, s.begin():
        meters.seed_carriers(s)
        org.create(s, {"code": "E1", "name_zh": "企业", "kind": "enterprise"})
        m = meters.create(s, {"node": "E1", "code": "M1", "name_zh": "总表",
                              "carrier": "electricity", "unit": "kWh", "register": "interval"})
        ev = evidence.store(s, root, b"invoice 2025-001", filename="invoice.pdf",
                            actor=Actor("clerk"))
        ids = {"meter": m.id, "evidence": ev.id}
    ts = T0 + np.arange(96, dtype=np.int64) * Q
    with engine.begin() as conn:
        ingest(conn, ReadingBatch(np.full(96, ids["meter"]), ts, np.full(96, 1.5)), "test")
    engine.dispose()
    return url, root, ids, tmp_path


def cli(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_cli_round_trip(env):
    url, root, ids, tmp = env
    r = cli("ledger", "append-readings", "--meters", "M1", "--start", "2025-01-01",
            "--end", "2025-01-03", "--db", url)
    assert r.exit_code == 0, r.output
    assert "1 meter-day entries appended (#1..#1)" in r.output
    engine = db.make_engine(url)
    with engine.begin() as conn:
        ledger.append_evidence(conn, ids["evidence"], evidence_root=root)
    r = cli("ledger", "checkpoint", "--db", url)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["tree_size"] == 2
    r = cli("ledger", "verify", "--db", url, "--evidence-dir", root)
    assert r.exit_code == 0, r.output
    assert "OK: every record matches" in r.output

    proof_file = tmp / "proof.json"
    r = cli("ledger", "proof", 2, "-o", proof_file, "--db", url)
    assert r.exit_code == 0, r.output
    pub = tmp / "key" / "ledger.pem.pub"
    sha = json.loads(proof_file.read_text())["entry"]["digest"]
    original = evidence.path_of(root, sha)
    r = cli("ledger", "verify-proof", proof_file, "--public-key", pub, "--data", original)
    assert r.exit_code == 0, r.output
    assert "VALID" in r.output and "[ok] inclusion" in r.output

    # a forged copy of the file fails offline, and so does a proof checked with another key
    forged = tmp / "forged.pdf"
    forged.write_bytes(b"invoice 2025-001 (amended)")
    r = cli("ledger", "verify-proof", proof_file, "--data", forged, "--json")
    assert r.exit_code == 1
    assert [c["check"] for c in json.loads(r.output)["checks"] if not c["ok"]] == ["data_digest"]
    other = tmp / "other.pub"
    other.write_text(ledger.signing.public_pem(ledger.signing.generate().public_key()))
    r = cli("ledger", "verify-proof", proof_file, "--public-key", other)
    assert r.exit_code == 1 and "[FAIL] signature" in r.output

    # a changed reading: verify names the meter-day and exits 1
    with engine.begin() as conn:
        conn.execute(text("UPDATE readings SET value = 2.5 WHERE ts = :t"), {"t": T0 + 5 * Q})
    engine.dispose()
    r = cli("ledger", "verify", "--db", url, "--evidence-dir", root)
    assert r.exit_code == 1
    assert f"MISMATCH #1 readings {ids['meter']}/2025-01-01" in r.output
    assert "readings of meter M1 (总表) on 2025-01-01" in r.output
    r = cli("ledger", "verify", "--db", url, "--evidence-dir", root, "--json")
    assert r.exit_code == 1 and json.loads(r.output)["mismatches"][0]["entry_id"] == 1

    r = cli("ledger", "status", "--db", url)
    assert r.exit_code == 0 and "readings" in r.output and "unsigned 0" in r.output


def test_cli_errors(env):
    url, _root, _ids, tmp = env
    r = cli("ledger", "proof", 1, "-o", tmp / "p.json", "--db", url)
    assert r.exit_code == 2 and "ledger entry" in r.output
    r = cli("ledger", "append", "fuel_delivery", 7, "--db", url)
    assert r.exit_code == 2
    r = cli("ledger", "append", "colour", 7, "--db", url)
    assert r.exit_code == 2 and "must be one of" in r.output
    r = cli("ledger", "append-readings", "--meters", "NOPE", "--start", "2025-01-01",
            "--end", "2025-01-02", "--db", url)
    assert r.exit_code == 2 and "no meter with this code" in r.output
    bad = tmp / "bad.json"
    bad.write_text("{}")
    r = cli("ledger", "verify-proof", bad)
    assert r.exit_code == 1 and "[FAIL] format" in r.output
