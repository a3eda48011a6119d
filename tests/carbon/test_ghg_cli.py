"""`nengtan ghg park|report|package` on the small park of test_park_support (SQLite).

No tenant inventory is registered there, so the tenants are screened from their boundary
meters; the factors are the shipped library's (Shandong grid 0.641 tCO2/MWh, heat 0.11
tCO2/GJ, natural gas defaults)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from nengtan.cli import app
from nengtan.services import inventories, inventory_sources

from .test_park_support import build_park


@pytest.fixture
def db_url(sqlite_engine, tmp_path, monkeypatch):
    monkeypatch.setenv("NENGTAN_LEDGER_KEY", str(tmp_path / "ledger.pem"))
    build_park(sqlite_engine)
    return sqlite_engine.url.render_as_string(hide_password=False)


def test_park(db_url):
    r = CliRunner().invoke(app, ["ghg", "park", "--db", db_url, "--park", "P",
                                 "--period", "2026-10", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    # screening tenants from meters: no double counting, the total is the grid (310 MWh at
    # 0.641) and the park boiler's gas (31 000 m3 at the library's natural gas defaults)
    gas = next(p for t in d["terms"] for p in t["parts"] if p["key"] == "fuel:BH:natural_gas")
    assert d["total_tco2e"] == pytest.approx(310 * 0.641 + gas["tco2e"])
    r = CliRunner().invoke(app, ["ghg", "park", "--db", db_url, "--park", "P",
                                 "--period", "2026-10"])
    assert r.exit_code == 0 and "E_电和热" in r.output and "= E" in r.output


def test_report_and_package(db_url, sqlite_engine, tmp_path):
    out = tmp_path / "park.xlsx"
    r = CliRunner().invoke(app, ["ghg", "report", "--db", db_url, "--park", "P", "--period",
                                 "2026-10", "--format", "xlsx", "--lang", "en", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert load_workbook(out)["Cover"]["A1"].value == "node P — park greenhouse gas emission report"
    with Session(sqlite_engine) as s, s.begin():
        inv_id = inventories.create(s, {"code": "INV-A", "name_zh": "A 盘查", "enterprise": "A",
                                        "period": "2026-10"}).id
        inventory_sources.create(s, {"code": "GRID", "name_zh": "外购电力",
                                     "kind": "electricity", "inventory": "INV-A",
                                     "links": ["A-E"]})
    with Session(sqlite_engine) as s, s.begin():
        inventories.lock(s, inv_id, "tester")
    zpath = tmp_path / "pkg.zip"
    r = CliRunner().invoke(app, ["ghg", "package", "--db", db_url, "--inventory", "INV-A",
                                 "-o", str(zpath)])
    assert r.exit_code == 0, r.output
    z = zipfile.ZipFile(io.BytesIO(zpath.read_bytes()))
    assert json.loads(z.read("manifest.json"))["inventory"]["total_tco2e"] == pytest.approx(
        155 * 0.641)
    r = CliRunner().invoke(app, ["ghg", "report", "--db", db_url, "--inventory", "INV-A",
                                 "-o", str(tmp_path / "a.pdf")])
    assert r.exit_code == 0 and (tmp_path / "a.pdf").read_bytes().startswith(b"%PDF")


def test_errors(db_url):
    r = CliRunner().invoke(app, ["ghg", "report", "--db", db_url])
    assert r.exit_code == 2 and "--inventory" in r.output
    r = CliRunner().invoke(app, ["ghg", "report", "--db", db_url, "--inventory", "NOPE"])
    assert r.exit_code == 2
    r = CliRunner().invoke(app, ["ghg", "park", "--db", db_url, "--park", "A",
                                 "--period", "2026"])
    assert r.exit_code == 2 and "not a park" in r.output
