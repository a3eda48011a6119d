"""The ``nengtan`` command as a user runs it: real subprocesses, a real server."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

NENGTAN = [sys.executable, "-m", "nengtan.cli"]


def run(*args, db, check=True, env=None):
    proc = subprocess.run([*NENGTAN, *args, "--db", db], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(proc.stdout + proc.stderr)
    return proc


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_status_of_an_empty_database(db):
    out = json.loads(run("status", "--json", db=db).stdout)
    assert out["nodes"] == 0 and out["readings"] == 0
    assert out["first_reading"] is None and out["last_reading"] is None
    from alembic.script import ScriptDirectory

    from nengtan.store import db as store_db

    head = ScriptDirectory.from_config(store_db.alembic_config()).get_current_head()
    assert run("db", "current", db=db).stdout.strip() == head
    assert run("db", "check", db=db).stdout.strip() == "ok"


def test_demo_status_export_and_import(db, tmp_path):
    build = run("demo", "--no-serve", "--today", "2025-03-01", "--start", "2025-02-24", db=db)
    assert "readings" in build.stdout
    status = json.loads(run("status", "--json", db=db).stdout)
    assert status["nodes"] >= 60 and status["meters"] >= 80 and status["readings"] > 0
    assert status["first_reading"].startswith("2025-02-23T16:00")  # local midnight, UTC+8
    assert status["last_reading"] < "2025-03-01"
    again = run("demo", "--no-serve", db=db)
    assert "already built" in again.stdout

    template = tmp_path / "nodes.csv"
    run("export", "nodes", "--template", "--lang", "zh-CN", "-o", str(template), db=db)
    assert template.read_text("utf-8-sig").startswith("编码")
    nodes = tmp_path / "all-nodes.xlsx"
    run("export", "nodes", "--format", "xlsx", "-o", str(nodes), db=db)
    report = json.loads(run("import", str(nodes), "--dry-run", db=db).stdout)
    assert report["dry_run"] and report["unchanged"] == status["nodes"]

    bad = tmp_path / "bad.csv"
    bad.write_text("code,name_zh,kind,parent\nX1,车间,workshop,NOPE\n", "utf-8")
    failed = run("import", str(bad), db=db, check=False)
    assert failed.returncode == 2
    assert "row 2" in failed.stderr and "parent" in failed.stderr and "不存在" in failed.stderr


def test_demo_refuses_a_database_with_other_data(db, tmp_path):
    nodes = tmp_path / "n.csv"
    nodes.write_text("code,name_zh,kind\nP,园区,park\n", "utf-8")
    run("import", str(nodes), db=db)
    refused = run("demo", "--no-serve", db=db, check=False)
    assert refused.returncode == 2 and "not the demo park" in refused.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_over_http(db):
    run("db", "upgrade", db=db)
    port = free_port()
    proc = subprocess.Popen([*NENGTAN, "serve", "--db", db, "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/docs") as r:
                    page = r.read().decode()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("server did not start")
        assert "/static/swagger/" in page and "cdn" not in page.lower()
        # the API answers only with a login
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status")
        assert refused.value.code == 401
        assert json.loads(refused.value.read())["code"] == "unauthenticated"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
