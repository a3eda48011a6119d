"""The evidence ledger on SQLite and PostgreSQL: appending record digests, signed checkpoints,
proofs checked offline, and tamper detection — a changed reading, energy parameter, fuel
delivery or manual entry version, an overwritten evidence file, an altered or removed ledger
row — each named by ``verify``."""

from __future__ import annotations

import base64
import json
import os
from datetime import date

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from nengtan.errors import InputError, NotFound
from nengtan.ledger import MerkleTree, verify_consistency, verify_proof
from nengtan.ledger.hashing import Hasher
from nengtan.services import energy_params, evidence, ledger, production
from nengtan.services import manual_entries as me
from nengtan.services.audit import Actor

from .conftest import T0, Q

CLERK = Actor("wangfang", "10.0.0.7")
BOSS = Actor("liqiang", "10.0.0.8")
DAY = 96  # quarter hours per day


@pytest.fixture(autouse=True)
def ledger_key(tmp_path, monkeypatch):
    """Each test signs with its own key, outside the working tree."""
    path = tmp_path / "keys" / "ledger.pem"
    monkeypatch.setenv(ledger.KEY_ENV, str(path))
    monkeypatch.delenv(ledger.HASH_ENV, raising=False)
    return path


@pytest.fixture
def data(plant, tmp_path):
    """Two days of readings on INT (interval) and MAIN (cumulative) from 2025-01-01 00:00
    local, an energy parameter, a fuel delivery and an evidence file."""
    ts = T0 + np.arange(2 * DAY, dtype=np.int64) * Q
    plant.ingest("INT", ts, np.full(len(ts), 2.5))
    plant.ingest("MAIN", ts, 1000 + np.arange(len(ts)) * 0.5)
    root = tmp_path / "evidence"
    with Session(plant.engine) as s, s.begin():
        param = energy_params.record(s, {
            "kind": "coefficient", "carrier": "bituminous_coal", "value": 714.3,
            "valid_from": "2025-01-01", "source": "GB/T 2589-2020 附录A"})
        fuel = production.add_fuel_delivery(s, {
            "node": "S1", "carrier": "bituminous_coal", "delivered_on": "2025-01-05",
            "quantity": 2860.4, "unit": "t", "ncv": 22480, "ncv_unit": "kJ/kg",
            "carbon_content_pct": 56.8, "report_no": "HY-MZ-2025-0001"})
        lab = evidence.store(s, root, b"%PDF-1.4 lab report HY-MZ-2025-0001", filename="lab.pdf",
                             actor=CLERK)
        ids = {"param": param.id, "fuel": fuel.id, "evidence": lab.id}
    plant.ids.update({f"_{k}": v for k, v in ids.items()})
    plant.root = root
    return plant


def _append_all(plant) -> list[dict]:
    with plant.engine.begin() as conn:
        entries = ledger.append_readings(conn, [plant.ids["INT"], plant.ids["MAIN"]],
                                         date(2025, 1, 1), date(2025, 1, 4))
        entries.append(ledger.append_energy_parameter(conn, plant.ids["_param"]))
        entries.append(ledger.append_fuel_delivery(conn, plant.ids["_fuel"]))
        entries.append(ledger.append_evidence(conn, plant.ids["_evidence"],
                                              evidence_root=plant.root))
    return entries


def _verify(plant, **kw) -> dict:
    with plant.engine.connect() as conn:
        return ledger.verify(conn, evidence_root=plant.root, **kw)


def _checkpoint(plant) -> dict:
    with plant.engine.begin() as conn:
        return ledger.checkpoint(conn, created_by="test")


def _exec(plant, sql: str, **params) -> None:
    with plant.engine.begin() as conn:
        conn.execute(text(sql), params)


def _allow_changes(plant) -> None:
    """What an attacker with database rights does first: drop the append-only triggers."""
    if plant.engine.dialect.name == "postgresql":
        _exec(plant, "DROP TRIGGER ledger_entries_append_only ON ledger_entries")
    else:
        _exec(plant, "DROP TRIGGER ledger_entries_no_update")
        _exec(plant, "DROP TRIGGER ledger_entries_no_delete")


# -- appending ----------------------------------------------------------------------------------
def test_one_entry_per_meter_day_with_readings(data):
    entries = _append_all(data)
    readings = [e for e in entries if e["kind"] == "readings"]
    # 2025-01-03 has no readings: two meters x two days
    assert [e["key"] for e in readings] == [
        f"{data.ids['INT']}/2025-01-01", f"{data.ids['INT']}/2025-01-02",
        f"{data.ids['MAIN']}/2025-01-01", f"{data.ids['MAIN']}/2025-01-02"]
    assert [e["meta"]["readings"] for e in readings] == [DAY] * 4  # local days of 96 readings
    assert readings[0]["meta"]["label"] == "readings of meter INT (区间表) on 2025-01-01"
    assert readings[0]["meta"]["label_zh"] == "计量器具 INT（区间表）2025-01-01 的读数"
    assert [e["seq"] for e in entries] == list(range(1, 8))
    # the digest is the SHA-256 of the day's (ts, value, quality), recomputable by hand
    ts = T0 + np.arange(DAY, dtype=np.int64) * Q
    expected = ledger.readings_digest(ts, np.full(DAY, 2.5), np.zeros(DAY, np.int16))
    assert readings[0]["digest"] == expected.hex()
    ev = entries[-1]
    assert ev["kind"] == "evidence_file" and ev["meta"]["filename"] == "lab.pdf"
    assert ev["digest"] == evidence.hash_file(evidence.path_of(data.root, ev["meta"]["sha256"]))[0]


def test_leaf_data_and_hashes_are_stored(data):
    _append_all(data)
    with data.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, leaf_data, leaf_hash, hash_alg FROM ledger_entries "
                                 "ORDER BY id")).all()
    hasher = Hasher("sha256")
    for row in rows:
        doc = json.loads(row.leaf_data)
        assert doc["seq"] == row.id and doc["v"] == 1
        assert hasher.leaf(row.leaf_data.encode()).hex() == row.leaf_hash
        assert row.hash_alg == "sha256"


def test_append_validates_and_names_unknown_records(data):
    with data.engine.begin() as conn:
        with pytest.raises(InputError) as exc:
            ledger.append(conn, "", "k", b"short", {})
        assert [i.rule for i in exc.value.issues] == ["rule.ledger_kind", "rule.ledger_digest"]
        with pytest.raises(NotFound):
            ledger.append_fuel_delivery(conn, 999)
        with pytest.raises(NotFound):
            ledger.append_readings(conn, [999], date(2025, 1, 1), date(2025, 1, 2))
        with pytest.raises(InputError):
            ledger.append_readings(conn, [data.ids["INT"]], date(2025, 1, 2), date(2025, 1, 1))
    assert data.scalar("SELECT count(*) FROM ledger_entries") == 0


def test_the_database_refuses_updates_and_deletes(data):
    _append_all(data)
    _checkpoint(data)
    for sql in ("UPDATE ledger_entries SET digest = 'ff' WHERE id = 1",
                "DELETE FROM ledger_entries WHERE id = 7",
                "UPDATE ledger_checkpoints SET tree_size = 1",
                "DELETE FROM ledger_checkpoints"):
        with pytest.raises(DBAPIError, match="append-only"):
            _exec(data, sql)
    assert data.scalar("SELECT count(*) FROM ledger_entries") == 7


# -- checkpoints and a clean verification --------------------------------------------------------
def test_checkpoint_signs_the_tree_head(data, ledger_key):
    entries = _append_all(data)
    cp = _checkpoint(data)
    assert ledger_key.is_file() and (ledger_key.parent / "ledger.pem.pub").is_file()
    assert oct(os.stat(ledger_key).st_mode & 0o777) == "0o600"
    pub = ledger.public_key()
    assert cp["key_id"] == pub["key_id"] and cp["public_key"] == pub["ed25519_hex"]
    leaves = [bytes.fromhex(e["leaf_hash"]) for e in entries]
    assert cp["tree_size"] == 7 and cp["root_hash"] == MerkleTree(leaves, Hasher()).root().hex()
    assert cp["note"].splitlines()[:5] == [
        "nengtan-ledger checkpoint v1", "origin: nengtan", "hash: sha256", "size: 7",
        f"root: {cp['root_hash']}"]
    from nengtan.ledger import signing
    assert signing.verify_signature(pub["pem"], cp["note"].encode(),
                                    base64.b64decode(cp["signature"]))
    report = _verify(data)
    assert report["ok"], report
    assert (report["entries"], report["checked"], report["checkpoints"]) == (7, 7, 1)
    assert report["warnings"] == []


def test_verify_warns_about_unsigned_entries_and_unknown_kinds(data):
    with data.engine.begin() as conn:
        ledger.append(conn, "nobody_knows", "1", b"\x01" * 32, {"label": "x"})
    report = _verify(data)
    assert report["ok"]
    assert [w["warning"] for w in report["warnings"]] == ["unsigned_entries", "unchecked_kind"]
    assert report["warnings"][0]["count"] == 1
    assert "1 entries of kind nobody_knows" in report["warnings"][1]["message"]


# -- tampering with the records ------------------------------------------------------------------
def test_verify_names_each_tampered_record(data):
    entries = _append_all(data)
    _checkpoint(data)
    int_id, param_id = data.ids["INT"], data.ids["_param"]
    # one reading of INT on 2025-01-02 changed directly in the database
    _exec(data, "UPDATE readings SET value = 3.5 WHERE meter_id = :m AND ts = (SELECT max(ts) "
                "FROM readings WHERE meter_id = :m)", m=int_id)
    # one energy parameter changed directly
    _exec(data, "UPDATE energy_parameters SET value = 700.0 WHERE id = :p", p=param_id)
    # the evidence file overwritten on disk
    ev = entries[-1]
    path = evidence.path_of(data.root, ev["meta"]["sha256"])
    os.chmod(path, 0o644)
    path.write_bytes(b"%PDF-1.4 forged lab report")
    report = _verify(data)
    assert not report["ok"]
    assert [(m["kind"], m["key"], m["problem"]) for m in report["mismatches"]] == [
        ("readings", f"{int_id}/2025-01-02", "changed"),
        ("energy_parameter", str(param_id), "changed"),
        ("evidence_file", str(data.ids["_evidence"]), "changed")]
    labels = [m["label"] for m in report["mismatches"]]
    assert labels[0] == "readings of meter INT (区间表) on 2025-01-02"
    assert labels[1].startswith(f"energy parameter {param_id}: coefficient bituminous_coal")
    assert labels[2] == f"evidence file {data.ids['_evidence']} lab.pdf"
    assert "file on disk" in report["mismatches"][2]["message"]
    assert "磁盘上的文件" in report["mismatches"][2]["message_zh"]
    # the log itself is intact: its rows and the checkpoint still agree
    assert report["entry_problems"] == [] and report["checkpoint_problems"] == []


def test_removed_records_are_named_missing(data):
    _append_all(data)
    _exec(data, "DELETE FROM readings WHERE meter_id = :m", m=data.ids["MAIN"])
    _exec(data, "DELETE FROM fuel_deliveries")
    os.unlink(evidence.path_of(data.root, _evidence_sha(data)))
    report = _verify(data)
    assert sorted((m["kind"], m["problem"]) for m in report["mismatches"]) == [
        ("evidence_file", "missing"), ("fuel_delivery", "missing"),
        ("readings", "missing"), ("readings", "missing")]


def _evidence_sha(plant) -> str:
    return plant.scalar("SELECT sha256 FROM evidence_files")


def test_an_added_reading_changes_its_day(data):
    _append_all(data)
    # a reading slipped into 2025-01-03 (no entry: nothing was ledgered that day) and one
    # into 2025-01-01 between two stored ones
    data.ingest("INT", [T0 + 2 * DAY * Q + Q, T0 + Q // 2], [9.0, 1.0])
    report = _verify(data)
    assert [m["key"] for m in report["mismatches"]] == [f"{data.ids['INT']}/2025-01-01"]


def test_reappending_a_legitimate_change_supersedes(data):
    _append_all(data)
    _exec(data, "UPDATE energy_parameters SET note = 'checked by lab' WHERE id = :p",
          p=data.ids["_param"])
    assert [m["kind"] for m in _verify(data)["mismatches"]] == ["energy_parameter"]
    with data.engine.begin() as conn:
        ledger.append_energy_parameter(conn, data.ids["_param"])
    report = _verify(data)
    assert report["ok"] and report["superseded"] == 1 and report["records"] == 7


def test_manual_entry_versions(data):
    coal = {"node": "S1", "carrier": "bituminous_coal", "delivered_on": "2025-02-05",
            "quantity": 100.0, "unit": "t", "report_no": "R-1"}
    with Session(data.engine, expire_on_commit=False) as s, s.begin():
        eid = me.create(s, "fuel_delivery", coal, CLERK, submit=True).id
    with Session(data.engine, expire_on_commit=False) as s, s.begin():
        me.approve(s, eid, BOSS)
        entry = me.get(s, eid)
        first = ledger.append_manual_entry(s, eid)
        fuel = ledger.append_fuel_delivery(s, me.version(s, entry, 1).target_id)
    assert first["key"] == f"{eid}/v1" and first["meta"]["label"] == (
        f"manual entry {eid} version 1 (fuel_delivery)")
    # an approved revision updates the delivery in place: the delivery entry no longer
    # matches until it is ledgered again; version 1 (now superseded) still matches
    with Session(data.engine, expire_on_commit=False) as s, s.begin():
        me.revise(s, eid, CLERK, payload={**coal, "quantity": 101.0}, submit=True)
        me.approve(s, eid, BOSS)
        ledger.append_manual_entry(s, eid)
    report = _verify(data)
    assert [(m["kind"], m["key"]) for m in report["mismatches"]] == [
        ("fuel_delivery", fuel["key"])]
    # a reviewed version's payload changed in the database is named
    _exec(data, "UPDATE manual_entry_versions SET payload = :p WHERE entry_id = :e "
                "AND version = 1", p=json.dumps({**coal, "quantity": 10.0}), e=eid)
    report = _verify(data)
    assert [(m["kind"], m["key"]) for m in report["mismatches"]] == [
        ("manual_entry", f"{eid}/v1"), ("fuel_delivery", fuel["key"])]
    with data.engine.begin() as conn:
        with pytest.raises(InputError) as exc:
            eid2 = me.create(Session(bind=conn), "fuel_delivery", coal, CLERK).id
            ledger.append_manual_entry(conn, eid2)
        assert exc.value.issues[0].rule == "rule.ledger_not_approved"


def test_evidence_already_changed_is_refused(data):
    path = evidence.path_of(data.root, _evidence_sha(data))
    os.chmod(path, 0o644)
    path.write_bytes(b"changed before ledgering")
    with data.engine.begin() as conn, pytest.raises(InputError) as exc:
        ledger.append_evidence(conn, data.ids["_evidence"], evidence_root=data.root)
    assert exc.value.issues[0].rule == "rule.manual_evidence_changed"


def test_registered_kind(data):
    store = {"a": b"\x02" * 32}
    ledger.register("test_snapshot", lambda conn, key: store.get(key))
    try:
        with data.engine.begin() as conn:
            ledger.append(conn, "test_snapshot", "a", store["a"],
                          {"label": "snapshot a", "label_zh": "快照 a"})
        assert _verify(data)["ok"]
        store["a"] = b"\x03" * 32
        (m,) = _verify(data)["mismatches"]
        assert (m["kind"], m["label"], m["current_digest"]) == ("test_snapshot", "snapshot a",
                                                                "03" * 32)
        assert m["message_zh"].startswith("快照 a：")
        del store["a"]
        assert _verify(data)["mismatches"][0]["problem"] == "missing"
    finally:
        ledger._REGISTRY.pop("test_snapshot")


# -- tampering with the log itself ---------------------------------------------------------------
def test_an_altered_entry_row_breaks_the_root(data):
    _append_all(data)
    _checkpoint(data)
    _allow_changes(data)
    _exec(data, "UPDATE ledger_entries SET digest = :d WHERE id = 2", d="00" * 32)
    report = _verify(data)
    assert [(p["entry_id"], p["problem"]) for p in report["entry_problems"]] == [
        (2, "row_changed")]
    assert [p["problem"] for p in report["checkpoint_problems"]] == ["root_mismatch"]
    assert not report["ok"]
    # a checkpoint over the damaged log is refused
    with pytest.raises(InputError) as exc:
        _checkpoint(data)
    assert {i.params["problem"] for i in exc.value.issues} == {"row_changed", "root_mismatch"}


def test_a_consistently_rewritten_entry_still_breaks_the_root(data):
    """The attacker rewrites digest, leaf data and leaf hash together: every row holds
    together, but the tree no longer hashes to the signed root."""
    _append_all(data)
    _checkpoint(data)
    _allow_changes(data)
    with data.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM ledger_entries WHERE id = 3")).mappings().one()
    doc = json.loads(row["leaf_data"])
    doc["digest"] = "11" * 32
    from nengtan.ledger.proofs import canonical_json
    raw = canonical_json(doc)
    _exec(data, "UPDATE ledger_entries SET digest = :d, leaf_data = :l, leaf_hash = :h "
                "WHERE id = 3", d="11" * 32, l=raw.decode(), h=Hasher().leaf(raw).hex())
    report = _verify(data)
    assert report["entry_problems"] == []
    assert [p["problem"] for p in report["checkpoint_problems"]] == ["root_mismatch"]
    # and the record itself no longer matches its (forged) digest
    assert [m["entry_id"] for m in report["mismatches"]] == [3]


def test_a_removed_entry_breaks_the_root(data):
    _append_all(data)
    _checkpoint(data)
    _allow_changes(data)
    _exec(data, "DELETE FROM ledger_entries WHERE id = 4")
    report = _verify(data)
    assert [(p["entry_id"], p["problem"]) for p in report["entry_problems"]] == [
        (5, "missing_entries")]
    assert [p["problem"] for p in report["checkpoint_problems"]] == ["beyond_log"]
    # removing the tail instead: the last checkpoint still covers it
    _exec(data, "DELETE FROM ledger_entries WHERE id > 4")
    report = _verify(data)
    assert [p["problem"] for p in report["checkpoint_problems"]] == ["beyond_log"]


def test_a_forged_checkpoint_is_named(data, ledger_key, tmp_path, monkeypatch):
    _append_all(data)
    _checkpoint(data)
    if data.engine.dialect.name == "postgresql":
        _exec(data, "DROP TRIGGER ledger_checkpoints_append_only ON ledger_checkpoints")
    else:
        _exec(data, "DROP TRIGGER ledger_checkpoints_no_update")
    _exec(data, "UPDATE ledger_checkpoints SET root_hash = :r", r="22" * 32)
    assert [p["problem"] for p in _verify(data)["checkpoint_problems"]] == ["note"]
    _exec(data, "UPDATE ledger_checkpoints SET note = replace(note, 'size: 7', 'size: 6')")
    problems = [p["problem"] for p in _verify(data)["checkpoint_problems"]]
    assert problems == ["note", "signature", "root_mismatch"]
    # a checkpoint signed by another key than this installation's
    monkeypatch.setenv(ledger.KEY_ENV, str(tmp_path / "other.pem"))
    ledger.signing_key()
    assert "key" in [p["problem"] for p in _verify(data)["checkpoint_problems"]]


# -- proofs ----------------------------------------------------------------------------------------
def test_proofs_verify_offline(data):
    entries = _append_all(data)
    with data.engine.connect() as conn:
        with pytest.raises(InputError) as exc:
            ledger.proof(conn, entries[0]["id"])
        assert exc.value.issues[0].rule == "rule.ledger_no_checkpoint"
    _checkpoint(data)
    with data.engine.begin() as conn:
        later = ledger.append(conn, "nobody_knows", "x", b"\x05" * 32)
    with data.engine.connect() as conn:
        docs = [json.loads(ledger.dumps(ledger.proof(conn, e["id"]))) for e in entries]
        # many at once (one tree): the same documents
        assert ledger.proofs(conn, [e["id"] for e in entries]) == docs
        with pytest.raises(InputError):
            ledger.proof(conn, later["id"])  # not yet covered by a checkpoint
        with pytest.raises(NotFound):
            ledger.proof(conn, 99)
    pub = ledger.public_key()["pem"]
    for doc in docs:
        result = verify_proof(doc, public_key=pub)
        assert result["ok"], result
        assert result["tree_size"] == 7
    # the evidence file itself checks against its entry
    ev_doc = docs[-1]
    content = evidence.path_of(data.root, _evidence_sha(data)).read_bytes()
    assert verify_proof(ev_doc, data=content)["ok"]
    bad = verify_proof(ev_doc, data=b"another file")
    assert not bad["ok"] and [c["check"] for c in bad["checks"] if not c["ok"]] == [
        "data_digest"]
    # a doctored document fails the right check
    forged = json.loads(json.dumps(docs[0]))
    forged["entry"]["digest"] = "00" * 32
    assert [c["check"] for c in verify_proof(forged)["checks"] if not c["ok"]] == ["leaf_data"]
    other = ledger.signing.generate()
    assert not verify_proof(docs[0], public_key=ledger.signing.public_pem(
        other.public_key()))["ok"]


def test_consistency_between_checkpoints(data):
    _append_all(data)
    first = _checkpoint(data)
    with data.engine.begin() as conn:
        ledger.append_fuel_delivery(conn, data.ids["_fuel"])
        ledger.append_energy_parameter(conn, data.ids["_param"])
        ledger.append_readings(conn, [data.ids["INT"]], date(2025, 1, 1), date(2025, 1, 2))
    second = _checkpoint(data)
    with data.engine.connect() as conn:
        c = ledger.consistency(conn, first["tree_size"], second["tree_size"])
        with pytest.raises(InputError):
            ledger.consistency(conn, 5, 11)
    assert (c["first"], c["second"]) == (7, 10)
    assert c["first_root"] == first["root_hash"] and c["second_root"] == second["root_hash"]
    assert [cp["id"] for cp in c["checkpoints"]] == [first["id"], second["id"]]
    assert verify_consistency(Hasher(), 7, 10, bytes.fromhex(c["first_root"]),
                              bytes.fromhex(c["second_root"]),
                              [bytes.fromhex(h) for h in c["proof"]])


def test_sm3_ledger(data, monkeypatch):
    monkeypatch.setenv(ledger.HASH_ENV, "sm3")
    entries = _append_all(data)
    assert {e["hash_alg"] for e in entries} == {"sm3"}
    cp = _checkpoint(data)
    assert cp["hash_alg"] == "sm3" and "hash: sm3" in cp["note"]
    # the algorithm is fixed by the first entry even if the setting changes later
    monkeypatch.setenv(ledger.HASH_ENV, "sha256")
    with data.engine.begin() as conn:
        assert ledger.append_fuel_delivery(conn, data.ids["_fuel"])["hash_alg"] == "sm3"
    assert _verify(data)["ok"]
    with data.engine.connect() as conn:
        doc = ledger.proof(conn, 2)
    assert doc["hash_alg"] == "sm3" and verify_proof(doc)["ok"]


def test_status(data):
    _append_all(data)
    with data.engine.connect() as conn:
        st = ledger.status(conn)
    assert st["entries"] == 7 and st["by_kind"]["readings"] == 4
    assert st["latest_checkpoint"] is None and st["unsigned_entries"] == 7
    assert st["public_key"] is None  # no key is made just by asking
    _checkpoint(data)
    with data.engine.connect() as conn:
        st = ledger.status(conn)
    assert st["unsigned_entries"] == 0 and st["public_key"]["key_id"] == st[
        "latest_checkpoint"]["key_id"]
