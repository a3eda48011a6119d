"""``nengtan backup`` / ``nengtan restore`` as an operator runs them: exit statuses (0 done and
verified, 1 restored but a check failed, 2 refused), bilingual summaries, JSON output."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from datetime import date

import numpy as np
import pytest
import typer
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from nengtan.commands import backup as backup_cmd
from nengtan.services import evidence, ledger, meters, org
from nengtan.services.audit import Actor
from nengtan.services.ingest import ReadingBatch, ingest
from nengtan.store import db as dbmod

T0 = 1_735_660_800 * 1_000_000  # 2025-01-01 00:00 Asia/Shanghai
Q = 900 * 1_000_000
root = typer.Typer()
root.command("backup")(backup_cmd.backup)
root.command("restore")(backup_cmd.restore)
runner = CliRunner()


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A small installation: one meter with a day of readings, an evidence file, both
    ledgered and signed; the signing key found through NENGTAN_LEDGER_KEY."""
    key = tmp_path / "src" / "ledger.pem"
    monkeypatch.setenv(ledger.KEY_ENV, str(key))
    url = f"sqlite:///{tmp_path / 'src' / 'nengtan.db'}"
    ev_dir = tmp_path / "src" / "evidence"
    eng = dbmod.make_engine(url)
    dbmod.upgrade(eng)
    with Session(eng, expire_on_commit=False) as s, s.begin():
        meters.seed_carriers(s)
        org.create(s, {"code": "E1", "name_zh": "一号企业", "kind": "enterprise"})
        m = meters.create(s, {"node": "E1", "code": "M1", "name_zh": "总表",
                              "carrier": "electricity", "unit": "kWh", "register": "interval"})
        ev = evidence.store(s, ev_dir, b"calibration certificate 2025-07", actor=Actor("clerk"),
                            filename="检定证书.pdf")
    with eng.begin() as conn:
        ts = T0 + np.arange(96, dtype=np.int64) * Q
        ingest(conn, ReadingBatch(np.full(96, m.id), ts, np.full(96, 2.5)), "test")
    with eng.begin() as conn:
        ledger.append_readings(conn, [m.id], date(2025, 1, 1), date(2025, 1, 2))
        ledger.append_evidence(conn, ev.id, evidence_root=ev_dir)
        ledger.checkpoint(conn, created_by="test")
    eng.dispose()
    return {"url": url, "evidence": ev_dir, "key": key, "sha256": ev.sha256, "tmp": tmp_path}


def run(*args):
    return runner.invoke(root, [str(a) for a in args])


def make(site, *extra):
    out = site["tmp"] / "backup.tar.gz"
    r = run("backup", "--db", site["url"], "--out", out, "--evidence-dir", site["evidence"],
            *extra)
    assert r.exit_code == 0, r.output
    return out, r.output


def restore(site, archive, *extra, name="restored"):
    where = site["tmp"] / name
    return run("restore", archive, "--db", f"sqlite:///{where / 'nengtan.db'}",
               "--evidence-dir", where / "evidence", "--key", where / "ledger.pem", *extra)


def test_backup_then_restore(site):
    archive, out = make(site)
    assert "备份已写入" in out and "backup written to" in out
    assert "SECRET" in out and "秘密材料" in out  # the key is in the archive
    r = restore(site, archive)
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert sum(line.startswith("[ok]") for line in lines) == 5
    assert not any(line.startswith("[FAIL]") for line in lines)
    assert "恢复结果校验通过 | the restored installation verifies" in r.output
    restored_key = site["tmp"] / "restored" / "ledger.pem"
    assert restored_key.read_bytes() == site["key"].read_bytes()


def test_json_outputs(site):
    archive = site["tmp"] / "b.tar.gz"
    r = run("backup", "--db", site["url"], "-o", archive, "--evidence-dir", site["evidence"],
            "--json")
    assert r.exit_code == 0, r.output
    manifest = json.loads(r.output[r.output.index("{"): r.output.rindex("}") + 1])
    assert manifest["database"]["tables"]["readings"] == 96
    r = restore(site, archive, "--json")
    report = json.loads(r.output)
    assert report["ok"] is True and [c["check"] for c in report["checks"]] == [
        "tables", "revision", "audit", "ledger", "evidence"]
    assert report["checks"][0]["summary"]["zh-CN"].startswith("各表行数与清单一致")


def test_no_keys(site):
    archive, out = make(site, "--no-keys")
    assert "不含存证签名私钥" in out
    with tarfile.open(archive) as tar:
        assert "keys/ledger.pem" not in tar.getnames()
        assert "keys/ledger.pem.pub" in tar.getnames()


def test_damaged_archive_is_refused_with_exit_2(site):
    archive, _ = make(site)
    damaged = site["tmp"] / "damaged.tar.gz"
    member = f"evidence/{site['sha256'][:2]}/{site['sha256']}"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w:gz") as dst:
        for info in src:
            data = src.extractfile(info).read()
            if info.name == member:
                data = data.replace(b"2025", b"2024")
            dst.addfile(info, io.BytesIO(data))
    r = restore(site, damaged)
    assert r.exit_code == 2
    assert "拒绝恢复，目标未作任何改动" in r.output and member in r.output
    assert not (site["tmp"] / "restored").exists()
    r = restore(site, site["tmp"] / "nothing.tar.gz")
    assert r.exit_code == 2 and "does not exist" in r.output


def test_target_with_data_needs_force(site):
    archive, _ = make(site)
    assert restore(site, archive).exit_code == 0
    r = restore(site, archive)
    assert r.exit_code == 2 and "--force" in r.output and "已有数据" in r.output
    r = restore(site, archive, "--force")
    assert r.exit_code == 0, r.output


def test_missing_evidence_fails_verification_with_exit_1(site):
    path = evidence.path_of(site["evidence"], site["sha256"])
    path.unlink()
    archive, out = make(site)
    assert "警告" in out and site["sha256"] in out
    r = restore(site, archive)
    assert r.exit_code == 1, r.output
    assert "[FAIL] 证明材料文件与数据库登记的 SHA-256 一致" in r.output
    assert f"证明材料文件缺失：{site['sha256']}（检定证书.pdf）" in r.output
    assert "the restored installation does NOT verify" in r.output
    assert os.path.exists(site["tmp"] / "restored" / "nengtan.db")


def test_the_nengtan_command_runs_them(site):
    """As an operator types it: `nengtan backup` and `nengtan restore` of the real program."""
    archive = site["tmp"] / "real.tar.gz"
    env = {**os.environ, "NENGTAN_EVIDENCE_DIR": str(site["evidence"])}
    cmd = [sys.executable, "-m", "nengtan.cli"]
    done = subprocess.run([*cmd, "backup", "--db", site["url"], "--out", str(archive)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    where = site["tmp"] / "real"
    done = subprocess.run([*cmd, "restore", str(archive), "--db",
                           f"sqlite:///{where / 'nengtan.db'}", "--evidence-dir",
                           str(where / "evidence"), "--key", str(where / "k.pem"), "--json"],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["ok"] is True
