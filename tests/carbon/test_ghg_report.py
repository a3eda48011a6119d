"""GHG emission report of the park (Excel and PDF, zh-CN and en) on the small park of
test_park_support; the enterprise report is tested with an inventory in
test_ghg_enterprise.py."""

import io
import re
import shutil
import subprocess

import pytest
from openpyxl import load_workbook

from nengtan.reports import ghg as ghg_doc
from nengtan.services import ghg_report, park_inventory

from .test_park_support import DIESEL, OCT, SINK, Lookup, _items, build_park, provider


@pytest.fixture
def park(engine):
    return build_park(engine)


def pdftotext(pdf: bytes, tmp_path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


@pytest.fixture
def data(park):
    _items(park)
    with park.connect() as conn:
        inv = park_inventory.park_inventory(conn, "P", OCT, lookup=Lookup(),
                                            tenant_provider=provider())
        return ghg_report.park_data(conn, "P", OCT, inventory=inv)


def _sheet_rows(ws):
    return [[c for c in row] for row in ws.iter_rows(values_only=True)]


def test_report_structure_follows_the_mee_template(data):
    doc = ghg_doc.compose(data, "zh-CN")
    assert doc.title == "节点P温室气体排放报告（园区）"
    assert [s.title for s in doc.sections] == [
        "一、基本信息", "二、核算边界", "三、排放源", "四、活动数据", "五、排放因子", "六、排放量",
        "七、数据质量管理", "附录：计算过程"]
    en = ghg_doc.compose(data, "en")
    assert [s.title for s in en.sections][:7] == [
        "1. Basic information", "2. Accounting boundary", "3. Emission sources",
        "4. Activity data", "5. Emission factors", "6. Emissions", "7. Data quality management"]
    assert en.filename == "nengtan-ghg-report-P-2026-10-en"


def test_xlsx_cells(data):
    out = ghg_report.render_data(data, "xlsx", "zh-CN")
    assert out.filename.endswith(".xlsx")
    wb = load_workbook(io.BytesIO(out.content))
    assert wb.sheetnames[0] == "封面"
    assert wb["封面"]["A1"].value == "节点P温室气体排放报告（园区）"
    terms = _sheet_rows(wb["排放源"])
    head = next(i for i, r in enumerate(terms) if r[0] == "符号")
    rows = {r[0]: r for r in terms[head + 1:head + 10] if r[0]}
    # E_电和热 −77.5, E_企业 217, E_公共设施与环境 83.7 (see test_park_support)
    assert rows["E_电和热"][4] == pytest.approx(-77.5)
    assert rows["E_企业"][4] == pytest.approx(217.0)
    assert rows["E_公共设施与环境"][4] == pytest.approx(83.7)
    assert rows["E_碳汇"][2] == "−" and rows["E_碳汇"][4] == pytest.approx(SINK)
    assert rows["合计"][4] == pytest.approx(155 + 68.2 + DIESEL - SINK)
    sectors = _sheet_rows(wb["排放量"])
    lulucf = next(r for r in sectors if r[1] == "土地利用变化和林业")
    assert lulucf[2] == pytest.approx(-SINK)
    factors = _sheet_rows(wb["排放因子"])
    assert any(r[0] == "test:grid_factor:electricity" and r[3] == 0.5 for r in factors)


def test_pdf_in_chinese_and_english(data, tmp_path):
    zh = ghg_report.render_data(data, "pdf", "zh-CN")
    text = pdftotext(zh.content, tmp_path)
    assert "节点P温室气体排放报告（园区）" in text
    assert "数据质量管理" in text and "E_电和热" in text
    assert re.search(r"第\s*1\s*页\s*/\s*共\s*\d+\s*页", text)
    en = ghg_report.render_data(data, "pdf", "en")
    text = pdftotext(en.content, tmp_path)
    assert "park greenhouse gas emission report" in text
    assert "Data quality management" in text


def test_bad_format(data):
    from nengtan.errors import InputError

    with pytest.raises(InputError):
        ghg_report.render_data(data, "docx", "zh-CN")
