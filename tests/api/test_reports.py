"""GET /api/reports/energy (Excel, PDF) and /api/reports/energy/data, both databases."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from nengtan.reports.render import MEDIA_TYPES
from nengtan.services import ingest, meters, org

E = 0.1229 / 1000  # tce per kWh, equivalent value


@pytest.fixture
def plant(client, engine):
    """Enterprise E (site S) buying 24 000 kWh a day over October 2026."""
    with Session(engine) as s, s.begin():
        org.create(s, {"code": "E", "name_zh": "示例企业", "name_en": "Example Co.",
                       "kind": "enterprise"})
        org.create(s, {"code": "S", "name_zh": "厂区", "kind": "site", "parent": "E"})
        mid = meters.create(s, {"code": "E-IN", "name_zh": "进线", "node": "S",
                                "carrier": "electricity", "unit": "kWh", "register": "interval",
                                "interval_s": 86400, "flow_to": "S", "level": 1}).id
    start = int(datetime(2026, 10, 1, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()) * 1_000_000
    ts = start + np.arange(31, dtype=np.int64) * 86400 * 1_000_000
    with engine.begin() as conn:
        ingest.ingest(conn, ingest.ReadingBatch(np.full(31, mid), ts, np.full(31, 24_000.0)),
                      "test")
    return client


def test_pdf_download(plant):
    r = plant.get("/api/reports/energy", params={"node": "E", "period": "2026-10",
                                                  "format": "pdf"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == MEDIA_TYPES["pdf"]
    assert r.headers["content-disposition"] == \
        'attachment; filename="nengtan-energy-report-E-2026-10-zh-CN.pdf"'
    assert r.content.startswith(b"%PDF")
    assert float(r.headers["x-report-assemble-seconds"]) >= 0


def test_xlsx_download_in_english(plant):
    r = plant.get("/api/reports/energy", params={"node": "E", "period": "2026-10",
                                                  "format": "xlsx", "lang": "en"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == MEDIA_TYPES["xlsx"]
    assert 'filename="nengtan-energy-report-E-2026-10-en.xlsx"' in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames[0] == "Cover"
    assert wb["Cover"]["A1"].value == "Example Co. — monthly energy report"
    ws = wb["Key figures"]
    cells = {c.value: c for row in ws.iter_rows() for c in row if c.value is not None}
    head = cells["This period"]
    # 24 000 kWh × 31 days × 0.1229 kgce/kWh = 91.4376 tce
    assert ws.cell(row=head.row + 1, column=head.column).value == pytest.approx(24_000 * 31 * E)


def test_language_from_accept_language(plant):
    r = plant.get("/api/reports/energy", params={"node": "E", "period": "2026",
                                                  "format": "xlsx"},
                  headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert r.status_code == 200
    assert "-2026-en.xlsx" in r.headers["content-disposition"]


@pytest.mark.parametrize("params, field", [
    ({"node": "E", "period": "2026-13"}, "period"),
    ({"node": "E", "period": "2026-Q3"}, "period"),
    ({"node": "E", "period": "2026-10-05"}, "period"),
    ({"node": "E", "period": "2026-10", "format": "docx"}, "format"),
    ({"node": "E", "period": "2026-10", "lang": "fr"}, "lang"),
    ({"node": "NOPE", "period": "2026-10"}, "node"),
    ({"period": "2026-10"}, "node"),
])
def test_bad_input_is_422(plant, params, field):
    r = plant.get("/api/reports/energy", params=params)
    assert r.status_code == 422, r.text
    assert field in {d["field"] for d in r.json()["detail"]}


def test_unknown_node_and_bad_period_together(plant):
    r = plant.get("/api/reports/energy/data", params={"node": "NOPE", "period": "2026-99"})
    assert r.status_code == 422
    assert {d["field"] for d in r.json()["detail"]} == {"node", "period"}


def test_data_json(plant):
    r = plant.get("/api/reports/energy/data", params={"node": "E", "period": "2026-10",
                                                       "lang": "en"})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["totals"]["unit"] == "tce"
    assert data["totals"]["total_tce"] == pytest.approx(24_000 * 31 * E)
    assert data["node"]["code"] == "E" and data["period"]["label"] == "2026-10"
    assert data["lineage"]["coefficients"][0]["source"]
    doc = data["document"]
    assert doc["lang"] == "en" and doc["title"] == "Example Co. — monthly energy report"
    assert doc["sections"][0]["key"] == "figures"
    r = plant.get("/api/reports/energy/data", params={"node": "E", "period": "2026-10",
                                                       "document": "false"})
    assert "document" not in r.json()
