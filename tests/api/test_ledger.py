"""The evidence ledger over HTTP: entries, checkpoints, verification naming a changed
reading, proofs checked offline, consistency proofs, errors."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import text

from nengtan.ledger import verify_consistency, verify_proof
from nengtan.ledger.hashing import Hasher
from nengtan.services import ledger

from .helpers import created, make_meter, ok, post_readings, problems


@pytest.fixture(autouse=True)
def ledger_key(tmp_path, monkeypatch):
    monkeypatch.setenv(ledger.KEY_ENV, str(tmp_path / "ledger.pem"))
    monkeypatch.delenv(ledger.HASH_ENV, raising=False)


@pytest.fixture
def ledgered(client, site, engine):
    """Meter M1 read every 15 min over two local days, ledgered per meter-day."""
    meter = make_meter(client, "M1")
    start = datetime(2025, 1, 1)
    post_readings(client, [{"meter": "M1", "ts": (start + timedelta(minutes=15 * k)).isoformat(),
                            "value": 100 + k} for k in range(2 * 96)])
    with engine.begin() as conn:
        ledger.append_readings(conn, [meter["id"]], date(2025, 1, 1), date(2025, 1, 3))
    return meter


def test_entries_checkpoints_verify(client, ledgered, engine):
    page = ok(client.get("/api/ledger/entries"))
    assert page["total"] == 2
    assert [e["key"] for e in page["items"]] == [f"{ledgered['id']}/2025-01-01",
                                                 f"{ledgered['id']}/2025-01-02"]
    assert page["items"][0]["meta"]["label"] == "readings of meter M1 (表M1) on 2025-01-01"
    assert ok(client.get("/api/ledger/entries", params={"kind": "fuel_delivery"}))["total"] == 0
    assert ok(client.get("/api/ledger/status"))["unsigned_entries"] == 2

    cp = created(client.post("/api/ledger/checkpoints", headers={"X-Nengtan-User": "zhaomin"}))
    assert (cp["tree_size"], cp["created_by"]) == (2, "zhaomin")
    assert ok(client.get("/api/ledger/checkpoints"))["items"][0]["root_hash"] == cp["root_hash"]
    report = ok(client.get("/api/ledger/verify"))
    assert report["ok"] and report["checked"] == 2

    # a reading of the second day changed directly in the database
    with engine.begin() as conn:
        conn.execute(text("UPDATE readings SET value = value + 0.5 WHERE ts = "
                          "(SELECT max(ts) FROM readings)"))
    report = ok(client.get("/api/ledger/verify"))
    assert not report["ok"]
    (m,) = report["mismatches"]
    assert (m["kind"], m["key"], m["problem"]) == ("readings", f"{ledgered['id']}/2025-01-02",
                                                   "changed")
    assert m["label_zh"] == "计量器具 M1（表M1）2025-01-02 的读数"


def test_proof_and_consistency(client, ledgered, engine):
    assert problems(client.get("/api/ledger/entries/1/proof")) == [
        (None, "checkpoint", "ledger_no_checkpoint")]
    first = created(client.post("/api/ledger/checkpoints"))
    with engine.begin() as conn:
        ledger.append_readings(conn, [ledgered["id"]], date(2025, 1, 1), date(2025, 1, 2))
    second = created(client.post("/api/ledger/checkpoints"))

    doc = ok(client.get("/api/ledger/entries/1/proof"))
    assert doc["checkpoint"]["id"] == second["id"] and len(doc["audit_path"]) == 2
    assert verify_proof(doc)["ok"]
    doc = ok(client.get("/api/ledger/entries/2/proof", params={"checkpoint": first["id"]}))
    assert doc["checkpoint"]["tree_size"] == 2 and verify_proof(doc)["ok"]
    assert client.get("/api/ledger/entries/9/proof").status_code == 404

    c = ok(client.get("/api/ledger/consistency", params={"first": 2, "second": 3}))
    assert [cp["id"] for cp in c["checkpoints"]] == [first["id"], second["id"]]
    assert verify_consistency(Hasher(), 2, 3, bytes.fromhex(first["root_hash"]),
                              bytes.fromhex(second["root_hash"]),
                              [bytes.fromhex(h) for h in c["proof"]])
    assert ok(client.get("/api/ledger/consistency", params={"first": 1}))["second"] == 3
    assert problems(client.get("/api/ledger/consistency", params={"first": 2, "second": 9})) == [
        (None, "first", "ledger_sizes")]


def test_checkpoint_refused_over_a_damaged_log(client, ledgered, engine):
    created(client.post("/api/ledger/checkpoints"))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER ledger_entries_append_only ON ledger_entries"))
        else:
            conn.execute(text("DROP TRIGGER ledger_entries_no_delete"))
        conn.execute(text("DELETE FROM ledger_entries WHERE id = 1"))
    report = ok(client.get("/api/ledger/verify"))
    assert [p["problem"] for p in report["checkpoint_problems"]] == ["beyond_log"]
    assert [p["problem"] for p in report["entry_problems"]] == ["missing_entries"]
    r = client.post("/api/ledger/checkpoints")
    assert r.status_code == 422 and r.json()["detail"][0]["rule"] == "ledger_inconsistent"
