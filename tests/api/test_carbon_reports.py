"""Park inventory, park items, GHG reports and verification packages through the API.

A park P (region shandong) with a facility F (street lighting, 100 kWh/day from the grid) and
an enterprise E (site S, 1 000 kWh/day from the grid through the park substation SUB) whose
inventory INV-E for January 2025 is locked: 31 MWh × 0.641 = 19.871 tCO2 (Shandong 2022
factor, the latest ≤ 2025).  The park grid meter G takes 1 100 kWh/day.
"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from nengtan.services import ingest, inventories, meters, org
from nengtan.services import inventory_sources as sources

from .helpers import problems

US = 1_000_000
DAY = 86400 * US
T0 = 1_735_660_800 * US  # 2025-01-01 00:00 Asia/Shanghai
USER = {"X-Nengtan-User": "carbon-manager"}


@pytest.fixture(autouse=True)
def _ledger_key(tmp_path, monkeypatch):
    monkeypatch.setenv("NENGTAN_LEDGER_KEY", str(tmp_path / "ledger.pem"))


@pytest.fixture
def park(client, engine):
    with Session(engine) as s, s.begin():
        for code, kind, parent, extra in (
                ("P", "park", None, {"region": "shandong"}), ("SUB", "facility", "P", {}),
                ("F", "facility", "P", {}), ("E", "enterprise", "P", {"industry_code": "3399"}),
                ("S", "site", "E", {})):
            org.create(s, {"code": code, "name_zh": f"节点{code}", "kind": kind,
                           "parent": parent, **extra})
        ids = {}
        for code, node, frm, to in (("G", "SUB", None, "SUB"), ("F-E", "F", "SUB", "F"),
                                    ("E-E", "S", "SUB", "S")):
            ids[code] = meters.create(s, {"code": code, "name_zh": code, "node": node,
                                          "carrier": "electricity", "unit": "kWh",
                                          "interval_s": 86400, "level": 1, "flow_from": frm,
                                          "flow_to": to}).id
        inv_id = inventories.create(s, {"code": "INV-E", "name_zh": "企业盘查",
                                        "enterprise": "E", "period": "2025-01"}).id
        sources.create(s, {"code": "GRID", "name_zh": "外购电力", "kind": "electricity",
                           "inventory": "INV-E", "links": ["E-E"]})
    ts = T0 + np.arange(32, dtype=np.int64) * DAY
    daily = {"G": 1100.0, "F-E": 100.0, "E-E": 1000.0}
    with engine.begin() as conn:
        ingest.ingest(conn, ingest.ReadingBatch(
            np.concatenate([np.full(32, ids[c]) for c in daily]), np.tile(ts, 3),
            np.concatenate([np.arange(32) * v for v in daily.values()])), "test")
    with Session(engine) as s, s.begin():
        inventories.lock(s, inv_id, "carbon-manager")
    return client


def test_park_inventory(park):
    r = park.get("/api/carbon/park-inventory", params={"park": "P", "period": "2025-01"})
    assert r.status_code == 200, r.text
    d = r.json()
    terms = {t["term"]: t for t in d["terms"]}
    # E_企业: the locked inventory, 31 MWh × 0.641
    assert terms["enterprises"]["tco2e"] == pytest.approx(31 * 0.641)
    # E_公共设施与环境: street lighting 3.1 MWh; E_电和热: 34.1 − 31 − 3.1 = 0 (no losses)
    assert terms["public"]["tco2e"] == pytest.approx(3.1 * 0.641)
    assert terms["energy"]["tco2e"] == pytest.approx(0.0, abs=1e-9)
    assert d["total_tco2e"] == pytest.approx(34.1 * 0.641)
    (tenant,) = d["tenants"]
    assert (tenant["node"], tenant["origin"], tenant["version"]) == ("E", "locked", 1)
    assert [t["meter"] for t in d["transfers"]] == ["E-E"]
    assert sum(s["tco2e"] for s in d["sectors"]) == pytest.approx(d["total_tco2e"])


def test_park_items(park):
    item = {"code": "BUS", "term": "transport", "name_zh": "通勤班车", "period_start": "2025-01-01",
            "period_end": "2026-01-01", "kind": "combustion", "carrier": "diesel",
            "quantity": 36.5, "unit": "t", "source": "fuel cards", "status": "verified"}
    r = park.post("/api/carbon/park-items", params={"park": "P"}, json=item, headers=USER)
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 1 and r.json()["created_by"] == "carbon-manager"
    r = park.post("/api/carbon/park-items", params={"park": "P"}, json=item | {"quantity": 40},
                  headers=USER)
    assert r.json()["version"] == 2
    items = park.get("/api/carbon/park-items", params={"park": "P", "period": "2025-01"}).json()
    assert [(i["code"], i["version"], round(i["share"], 6)) for i in items] == [
        ("BUS", 2, round(31 / 365, 6))]
    assert len(park.get("/api/carbon/park-items",
                        params={"park": "P", "history": True}).json()) == 2
    d = park.get("/api/carbon/park-inventory", params={"park": "P", "period": "2025-01"}).json()
    transport = next(t for t in d["terms"] if t["term"] == "transport")
    # 40 t × 31/365 of diesel at the library's defaults
    assert transport["tco2e"] == pytest.approx(
        40 * 31 / 365 * 42.652 * 20.2 * 0.98 * 44 / 12 / 1000)
    assert problems(park.post("/api/carbon/park-items", params={"park": "P"},
                              json=item | {"tco2e": 3, "colour": "red"}, headers=USER)) == [
        (None, "colour", "ghg_item_field"), (None, "tco2e", "ghg_item_amount")]
    r = park.post("/api/carbon/park-items", params={"park": "P"}, json=item,
                  headers={"Authorization": ""})
    assert r.status_code == 401  # no logged-in user


def test_reports(park):
    r = park.get("/api/carbon/reports/ghg", params={"inventory": "INV-E", "format": "xlsx",
                                                     "lang": "en"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="nengtan-ghg-report-E-2025-01-v1-en.xlsx"' in r.headers[
        "content-disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    assert wb["Cover"]["A1"].value == "节点E — greenhouse gas emission report"
    r = park.get("/api/carbon/reports/ghg", params={"inventory": "INV-E", "version": 1},
                 headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert "zh-CN.pdf" in r.headers["content-disposition"]
    r = park.get("/api/carbon/reports/ghg/park", params={"park": "P", "period": "2025-01",
                                                          "format": "xlsx"})
    assert r.status_code == 200, r.text
    assert load_workbook(io.BytesIO(r.content))["封面"]["A1"].value == "节点P温室气体排放报告（园区）"


def test_verification_package(park):
    r = park.get("/api/carbon/verification-package", params={"inventory": "INV-E"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    z = zipfile.ZipFile(io.BytesIO(r.content))
    manifest = json.loads(z.read("manifest.json"))
    assert manifest["inventory"]["code"] == "INV-E" and manifest["ledger"]["entries"] > 31
    assert "README.md" in z.namelist()


def test_errors(park):
    assert park.get("/api/carbon/reports/ghg", params={"inventory": "NOPE"}).status_code == 404
    assert park.get("/api/carbon/reports/ghg", params={"inventory": "INV-E",
                                                       "version": 9}).status_code == 404
    assert park.get("/api/carbon/verification-package",
                    params={"inventory": "NOPE"}).status_code == 404
    assert park.get("/api/carbon/park-inventory",
                    params={"park": "NOPE", "period": "2025"}).status_code == 404
    assert problems(park.get("/api/carbon/park-inventory",
                             params={"park": "E", "period": "2025"})) == [
        (None, "park", "ghg_not_park")]
    assert problems(park.get("/api/carbon/park-inventory",
                             params={"park": "P", "period": "last year"})) == [
        (None, "period", "energy_period")]
    r = park.get("/api/carbon/reports/ghg", params={"inventory": "INV-E", "format": "docx"})
    assert r.status_code == 422
