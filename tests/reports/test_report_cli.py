"""`nengtan report energy` on a small SQLite database."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from nengtan.cli import app
from nengtan.services import ingest, meters, org


@pytest.fixture
def db_url(sqlite_engine):
    """Enterprise E buying 24 000 kWh a day in October 2026."""
    with Session(sqlite_engine) as s, s.begin():
        org.create(s, {"code": "E", "name_zh": "示例企业", "kind": "enterprise"})
        mid = meters.create(s, {"code": "E-IN", "name_zh": "进线", "node": "E",
                                "carrier": "electricity", "unit": "kWh", "register": "interval",
                                "interval_s": 86400, "flow_to": "E", "level": 1}).id
    start = int(datetime(2026, 10, 1, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()) * 10**6
    ts = start + np.arange(31, dtype=np.int64) * 86400 * 10**6
    with sqlite_engine.begin() as conn:
        ingest.ingest(conn, ingest.ReadingBatch(np.full(31, mid), ts, np.full(31, 24_000.0)),
                      "test")
    return sqlite_engine.url.render_as_string(hide_password=False)


def test_xlsx_file(db_url, tmp_path):
    out = tmp_path / "r.xlsx"
    r = CliRunner().invoke(app, ["report", "energy", "--db", db_url, "--node", "E", "--period",
                                 "2026-10", "--format", "xlsx", "--lang", "en", "-o", str(out)])
    assert r.exit_code == 0, r.output
    wb = load_workbook(out)
    assert wb.sheetnames[0] == "Cover" and "Key figures" in wb.sheetnames


def test_json(db_url):
    r = CliRunner().invoke(app, ["report", "energy", "--db", db_url, "--node", "E", "--period",
                                 "2026-10", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    # 24 000 kWh × 31 days × 0.1229 kgce/kWh ÷ 1000 = 91.4376 tce
    assert data["totals"]["total_tce"] == pytest.approx(91.4376)


@pytest.mark.parametrize("args", [["--period", "2026-13"], ["--node", "NOPE"],
                                  ["--format", "docx"], ["--lang", "fr"]])
def test_bad_input_exits_non_zero(db_url, args, tmp_path):
    base = {"--node": "E", "--period": "2026-10", "--format": "pdf", "--lang": "zh-CN"}
    base[args[0]] = args[1]
    r = CliRunner().invoke(app, ["report", "energy", "--db", db_url,
                                 *[x for kv in base.items() for x in kv],
                                 "-o", str(tmp_path / "x.pdf")])
    assert r.exit_code == 2
    assert not (tmp_path / "x.pdf").exists()
