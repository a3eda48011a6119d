"""Backup and restore of a whole installation, on SQLite and PostgreSQL: the round trip
restores every row, evidence file and the signing key and verifies; a damaged archive is
refused naming the member; a target with data is not overwritten without ``force``; a missing
evidence file is found by the verification after restoring."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import tarfile
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from nengtan.services import audit, backup, evidence, ledger
from nengtan.services import manual_entries as me
from nengtan.services.audit import Actor
from nengtan.store import db

from .conftest import T0, Q

CLERK = Actor("wangfang", "10.0.0.7")
BOSS = Actor("liqiang", "10.0.0.8")
INVOICE = "发票 2025-001 电费 12,345.60 元".encode()


@dataclass
class Install:
    url: str
    evidence: Path
    key: Path
    sha256: str
    entry_id: int


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def install(plant, tmp_path):
    """The service plant with 2 days of readings, an approved manual entry with an evidence
    file, ledger entries for all three and a signed checkpoint."""
    engine = plant.engine
    root, key = tmp_path / "src" / "evidence", tmp_path / "src" / "keys" / "ledger.pem"
    n = 192
    plant.ingest("INT", T0 + np.arange(n, dtype=np.int64) * Q, np.linspace(1.0, 2.0, n))
    with Session(engine, expire_on_commit=False) as s, s.begin():
        ev = evidence.store(s, root, INVOICE, filename="发票.pdf", actor=CLERK, tenant="E1")
        entry = me.create(s, "reading", {"meter": "MAIN", "ts": "2025-01-01 00:15",
                                         "value": 1010, "reason": "抄表"}, CLERK,
                          evidence_ids=[ev.id], submit=True)
    with Session(engine) as s, s.begin():
        me.approve(s, entry.id, BOSS, comment="核对无误")
    with engine.begin() as conn:
        ledger.append_readings(conn, [plant.ids["INT"]], date(2025, 1, 1), date(2025, 1, 3))
        ledger.append_manual_entry(conn, entry.id)
        ledger.append_evidence(conn, ev.id, evidence_root=root)
        ledger.checkpoint(conn, key=key, created_by="test")
    return Install(_url(engine), root, key, ev.sha256, entry.id)


@pytest.fixture
def target(engine, tmp_path):
    """An empty place to restore into: a database URL on the same backend (PostgreSQL: a
    database name that does not exist yet, dropped afterwards), an evidence dir, a key path."""
    where = tmp_path / "restored"
    if engine.dialect.name == "sqlite":
        yield f"sqlite:///{where / 'nengtan.db'}", where / "evidence", where / "k" / "key.pem"
        return
    name = f"nt_r_{uuid.uuid4().hex[:12]}"
    url = make_url(_url(engine)).set(database=name).render_as_string(hide_password=False)
    yield url, where / "evidence", where / "k" / "key.pem"
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def counts(url: str) -> dict[str, int]:
    eng = db.make_engine(url)
    try:
        with eng.connect() as conn:
            return backup.table_counts(conn)
    finally:
        eng.dispose()


def make_backup(install: Install, out: Path, **kw) -> backup.BackupReport:
    return backup.create(install.url, out, evidence_dir=install.evidence, key_path=install.key,
                         **kw)


def do_restore(archive: Path, target, **kw) -> backup.RestoreReport:
    url, root, key = target
    return backup.restore(archive, url, evidence_dir=root, key_path=key, **kw)


def codes(exc) -> list[tuple[str, str | None]]:
    return [(p.code, p.params.get("member")) for p in exc.value.problems]


# -- round trip --------------------------------------------------------------------------------
def test_round_trip_restores_everything_and_verifies(install, target, tmp_path):
    before = counts(install.url)
    archive = tmp_path / "out" / "nengtan-backup.tar.gz"
    rep = make_backup(install, archive)
    assert rep.warnings == []
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # it holds the signing key
    assert not archive.with_name(archive.name + ".partial").exists()
    m = rep.manifest
    backend = make_url(install.url).get_backend_name()
    assert m["backend"] == backend and m["format"] == backup.FORMAT
    assert m["database"]["tables"] == before
    assert before["readings"] == 193 and before["ledger_entries"] == 4
    assert m["database"]["alembic_revision"] == db.current_revision(db.make_engine(install.url))
    member = f"evidence/{install.sha256[:2]}/{install.sha256}"
    assert m["files"][member]["sha256"] == install.sha256
    assert m["files"][member]["size"] == len(INVOICE)
    assert m["keys"]["included"] and m["files"]["keys/ledger.pem"]["secret"] is True
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        assert names[-1] == backup.MANIFEST
        assert json.loads(tar.extractfile(backup.MANIFEST).read()) == m

    report = do_restore(archive, target)
    assert report.ok, report.as_dict()
    assert [c.name for c in report.checks] == ["tables", "revision", "audit", "ledger",
                                               "evidence"]
    url, root, key = target
    assert counts(url) == before
    assert (root / install.sha256[:2] / install.sha256).read_bytes() == INVOICE
    assert key.read_bytes() == install.key.read_bytes()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    eng = db.make_engine(url)
    with eng.connect() as conn:
        total = conn.execute(text("SELECT sum(value) FROM readings")).scalar()
        entry = conn.execute(text("SELECT status FROM manual_entries WHERE id = :i"),
                             {"i": install.entry_id}).scalar()
        assert audit.verify_chain(conn).ok
    src = db.make_engine(install.url)
    with src.connect() as conn:
        assert conn.execute(text("SELECT sum(value) FROM readings")).scalar() == total
    assert entry == "approved"
    # the restored installation keeps working: new ledger entries chain on, signed by the
    # restored key with the same key id as before
    with eng.begin() as conn:
        cp = ledger.checkpoint(conn, key=key, created_by="after-restore")
    with src.connect() as conn:
        first = conn.execute(text("SELECT key_id FROM ledger_checkpoints")).scalar()
    assert cp["key_id"] == first
    eng.dispose()
    src.dispose()


def test_without_keys_only_the_public_key_is_kept(install, target, tmp_path):
    archive = tmp_path / "b.tar.gz"
    m = make_backup(install, archive, include_keys=False).manifest
    assert m["keys"] == {"included": False, "private": None, "public": "keys/ledger.pem.pub"}
    assert "keys/ledger.pem" not in m["files"]
    report = do_restore(archive, target)
    assert not target[2].exists()  # no key placed: the operator brings it back
    assert report.ok, report.as_dict()  # checkpoints still verify by their recorded key


# -- refusals ----------------------------------------------------------------------------------
def _rewrite(archive: Path, out: Path, change) -> None:
    """Copy ``archive`` member by member, letting ``change(name, data)`` alter or drop one."""
    with tarfile.open(archive) as src, tarfile.open(out, "w:gz") as dst:
        for info in src:
            data = src.extractfile(info).read()
            data = change(info.name, data)
            if data is None:
                continue
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_damaged_archive_is_refused_naming_the_member(install, target, tmp_path):
    archive = tmp_path / "b.tar.gz"
    make_backup(install, archive)
    member = f"evidence/{install.sha256[:2]}/{install.sha256}"

    bad = tmp_path / "changed.tar.gz"
    _rewrite(archive, bad, lambda n, d: d.replace(b"12,345", b"92,345")
             if n == member else d)
    with pytest.raises(backup.BackupError) as exc:
        do_restore(bad, target)
    assert codes(exc) == [("member_changed", member)]
    assert member in str(exc.value)
    assert not Path(make_url(target[0]).database).exists()  # nothing touched
    assert not target[1].exists()

    dropped = tmp_path / "dropped.tar.gz"
    _rewrite(archive, dropped, lambda n, d: None if n == "keys/ledger.pem" else d)
    with pytest.raises(backup.BackupError) as exc:
        backup.read_manifest(dropped)
    assert codes(exc) == [("member_missing", "keys/ledger.pem")]

    extra = tmp_path / "extra.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(extra, "w:gz") as dst:
        for info in src:
            dst.addfile(info, src.extractfile(info))
        sneaky = tarfile.TarInfo("evidence/zz/planted")
        sneaky.size = 3
        dst.addfile(sneaky, io.BytesIO(b"bad"))
    with pytest.raises(backup.BackupError) as exc:
        backup.read_manifest(extra)
    assert codes(exc) == [("member_extra", "evidence/zz/planted")]

    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(backup.BackupError) as exc:
        do_restore(truncated, target)
    assert [p.code for p in exc.value.problems] == ["archive_unreadable"]
    assert str(truncated) in str(exc.value)

    escape = tmp_path / "escape.tar.gz"
    with tarfile.open(escape, "w:gz") as dst:
        info = tarfile.TarInfo("../outside")
        info.size = 1
        dst.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(backup.BackupError) as exc:
        backup.read_manifest(escape)
    assert codes(exc) == [("member_unsafe", "../outside")]
    assert not (tmp_path / "outside").exists()


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_an_archive_unpacked_and_packed_again_with_tar_still_restores(install, target,
                                                                     tmp_path):
    archive = tmp_path / "b.tar.gz"
    make_backup(install, archive)
    unpacked = tmp_path / "look"
    unpacked.mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="data")
    repacked = tmp_path / "again.tar.gz"
    with tarfile.open(repacked, "w:gz") as tar:
        tar.add(unpacked, arcname=".")  # as `tar czf again.tar.gz -C look .` does: ./x, dirs
    with tarfile.open(repacked) as tar:
        assert "./manifest.json" in tar.getnames() and "./evidence" in tar.getnames()
    assert do_restore(repacked, target).ok


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_sqlite_archive_is_not_restored_into_postgresql(install, tmp_path):
    archive = tmp_path / "b.tar.gz"
    make_backup(install, archive)
    with pytest.raises(backup.BackupError) as exc:
        backup.restore(archive, "postgresql+psycopg://postgres@127.0.0.1:5432/nt_never",
                       evidence_dir=tmp_path / "e", key_path=tmp_path / "k.pem")
    assert [p.code for p in exc.value.problems] == ["backend_mismatch"]


def test_a_target_with_data_needs_force(install, target, tmp_path):
    archive = tmp_path / "b.tar.gz"
    make_backup(install, archive)
    key = target[2]
    assert do_restore(archive, target).ok
    other_key = ledger.signing_key(tmp_path / "other.pem")  # a different installation's key
    key.unlink()
    shutil.copy(tmp_path / "other.pem", key)
    with pytest.raises(backup.BackupError) as exc:
        do_restore(archive, target)
    assert sorted(p.code for p in exc.value.problems) == [
        "target_db_not_empty", "target_evidence_not_empty", "target_key_differs"]
    assert exc.value.problems[0].params["tables"].startswith("audit_log, evidence_files")
    assert key.read_bytes() == (tmp_path / "other.pem").read_bytes()  # untouched

    report = do_restore(archive, target, force=True)
    assert report.ok, report.as_dict()
    assert key.read_bytes() == install.key.read_bytes()
    kept = Path(report.replaced_key)
    assert kept.name.startswith("key.pem.replaced-") and kept.read_bytes() == (
        tmp_path / "other.pem").read_bytes()
    assert other_key is not None


def test_a_fresh_install_is_empty(target):
    """A database that only went through `nengtan db upgrade` (schema, shipped carriers) holds
    no data of its own and may be restored into without --force."""
    url = target[0]
    assert backup.target_data(url) == []  # not there at all
    if url.startswith("postgresql"):
        admin = create_engine(make_url(url).set(database="postgres"),
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{make_url(url).database}"'))
        admin.dispose()
    eng = db.make_engine(url)
    db.upgrade(eng)
    from nengtan.services import meters

    with Session(eng) as s, s.begin():
        meters.seed_carriers(s)
    eng.dispose()
    assert backup.target_data(url) == []


# -- verification after restoring --------------------------------------------------------------
def test_restore_finds_an_evidence_file_missing_at_the_source(install, target, tmp_path):
    path = evidence.path_of(install.evidence, install.sha256)
    os.chmod(path.parent, 0o755)
    path.unlink()  # lost from the source installation before the backup was made
    archive = tmp_path / "b.tar.gz"
    rep = make_backup(install, archive)
    assert [(w.code, w.params["sha256"]) for w in rep.warnings] == [
        ("evidence_missing_at_source", install.sha256)]
    report = do_restore(archive, target)
    assert not report.ok
    failed = {c.name: c for c in report.checks if not c.ok}
    assert sorted(failed) == ["evidence", "ledger"]
    ev = failed["evidence"].problems
    assert [p.code for p in ev] == ["evidence_missing"]
    assert install.sha256 in ev[0].text("en") and "发票.pdf" in ev[0].text("zh-CN")
    assert any("evidence" in p.text("en") for p in failed["ledger"].problems)


def test_verification_names_a_table_whose_count_differs(install, target, tmp_path):
    archive = tmp_path / "b.tar.gz"
    manifest = make_backup(install, archive).manifest
    do_restore(archive, target)
    url, root, key = target
    altered = json.loads(json.dumps(manifest))
    altered["database"]["tables"]["readings"] += 1
    checks = {c.name: c for c in backup.verify_installation(url, altered, evidence_dir=root,
                                                            key_path=key)}
    assert not checks["tables"].ok and checks["revision"].ok
    [problem] = checks["tables"].problems
    assert problem.params == {"table": "readings", "expected": 194, "actual": 193}
    # and a broken audit chain is found as well
    eng = db.make_engine(url)
    with eng.begin() as conn:
        conn.execute(text("UPDATE audit_log SET user_name = 'mallory' WHERE id = 1"))
    eng.dispose()
    checks = {c.name: c for c in backup.verify_installation(url, manifest, evidence_dir=root,
                                                            key_path=key)}
    assert not checks["audit"].ok
    assert checks["audit"].problems[0].params["id"] == 1
