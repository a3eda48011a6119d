"""Excel and PDF renderers on a hand-made report document (no database)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
from openpyxl import load_workbook
from openpyxl.chart import BarChart, LineChart, PieChart

from nengtan.reports import charts, fonts
from nengtan.reports.model import (
    Chart,
    Column,
    Highlight,
    Paragraph,
    Report,
    Section,
    Series,
    Table,
    format_number,
)
from nengtan.reports.pdf import render_pdf
from nengtan.reports.render import MEDIA_TYPES, render
from nengtan.reports.xlsx import render_xlsx

TITLE_ZH = "齐鲁能碳示范产业园 能源月报"


def _report(lang: str = "zh-CN", rows: int = 4) -> Report:
    zh = lang == "zh-CN"
    units = [[f"企业{i}" if zh else f"Unit {i}", 1000.0 * i + 0.25, i / 10]
             for i in range(1, rows + 1)]
    figures = Table(
        "units", "分单位综合能耗" if zh else "Energy by unit",
        [Column("单位" if zh else "Unit"),
         Column("综合能耗" if zh else "Energy", "tce", "number", 2),
         Column("占比" if zh else "Share", kind="percent", decimals=1)],
        units, total=["合计" if zh else "Total", 14060.8, 1.0],
        marks=["warn"] + [None] * (rows - 1), note="注：标黄行数据不完整" if zh else "Note")
    structure = Table("structure", "结构" if zh else "Structure",
                      [Column("品种" if zh else "Carrier"), Column("综合能耗", "tce", "number", 1)],
                      [["原煤" if zh else "coal", 12841.2],
                       ["电力" if zh else "electricity", 532.2],
                       ["天然气" if zh else "natural gas", 665.2]])
    days = [f"10-{d:02d}" for d in range(1, 32)]
    return Report(
        title=TITLE_ZH if zh else "Qilu park — monthly energy report",
        subtitle="2026年10月" if zh else "October 2026", lang=lang,
        cover=[("统计对象" if zh else "Node", "QLP"), ("报告期" if zh else "Period", "2026-10")],
        highlights=[Highlight("综合能耗（当量值）" if zh else "Energy", 14060.8, "tce", 1,
                              "同比 -1.8 %" if zh else "YoY -1.8 %")],
        sections=[
            Section("figures", "一、主要指标" if zh else "1. Key figures", [
                Paragraph("本月综合能耗 14,060.8 tce。" if zh else "Energy 14,060.8 tce."),
                Paragraph("输入 − 外供 = 1.5" if zh else "in − out = 1.5", "note"),
                figures,
                Chart("units", "bar", "分单位" if zh else "By unit", [r[0] for r in units],
                      [Series("tce", [r[1] for r in units])], "tce", source=("units", 0, [1])),
            ], sheet="主要指标" if zh else "Key figures"),
            Section("structure", "二、能源结构" if zh else "2. Structure", [
                structure,
                Chart("pie", "pie", "能源结构" if zh else "Structure",
                      [r[0] for r in structure.rows],
                      [Series("tce", [r[1] for r in structure.rows])],
                      "tce", source=("structure", 0, [1])),
                Chart("daily", "stacked_bar", "逐日" if zh else "Daily", days,
                      [Series("电力" if zh else "electricity", [17.0] * 31),
                       Series("原煤" if zh else "coal", [400.0 + d for d in range(31)])], "tce"),
                Chart("line", "line", "趋势" if zh else "Trend", days,
                      [Series("tce", [float(d) for d in range(31)])], "tce"),
            ]),
        ],
        footer="nengtan test", filename="test-report", page_label="第 {page} 页 / 共 {pages} 页"
        if zh else "page {page} of {pages}", cover_sheet="封面" if zh else "Cover")


def _pdftotext(pdf: bytes, tmp_path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


# -- Excel -----------------------------------------------------------------------------------
def test_xlsx_sheets_numbers_units_and_charts():
    wb = load_workbook(io.BytesIO(render_xlsx(_report())))
    assert wb.sheetnames == ["封面", "主要指标", "二、能源结构"]
    cover = wb["封面"]
    assert cover["A1"].value == TITLE_ZH
    assert [cover["A4"].value, cover["B4"].value] == ["统计对象", "QLP"]
    ws = wb["主要指标"]
    values = {c.value: c for row in ws.iter_rows() for c in row if c.value is not None}
    # the unit is in the header, the number is a number with a number format
    assert "综合能耗 (tce)" in values and "占比" in values
    head = values["综合能耗 (tce)"]
    first = ws.cell(row=head.row + 1, column=head.column)
    assert first.value == pytest.approx(1000.25) and first.number_format == "#,##0.00"
    share = ws.cell(row=head.row + 1, column=head.column + 1)
    assert share.value == pytest.approx(0.1) and share.number_format == "0.0%"
    assert ws.cell(row=head.row + 1, column=1).fill.fgColor.rgb.endswith("FFF2CC")  # marked row
    total = ws.cell(row=head.row + 5, column=1)
    assert total.value == "合计" and total.font.b
    assert [type(c) for c in ws._charts] == [BarChart]
    kinds = sorted(type(c).__name__ for c in wb["二、能源结构"]._charts)
    assert kinds == sorted([PieChart.__name__, BarChart.__name__, LineChart.__name__])


def test_xlsx_chart_on_the_source_table_cells():
    wb = load_workbook(io.BytesIO(render_xlsx(_report())))
    ws = wb["主要指标"]
    chart = ws._charts[0]
    ref = chart.series[0].val.numRef.f
    # the values of the bar chart are the energy column (B) of the table, 4 rows
    assert re.fullmatch(r"'主要指标'!\$B\$\d+:\$B\$\d+", ref)
    lo, hi = (int(x) for x in re.findall(r"\$(\d+)", ref))
    assert hi - lo + 1 == 4  # the 4 rows, not the total row
    assert ws.cell(row=lo, column=2).value == pytest.approx(1000.25)
    assert chart.series[0].tx.strRef.f.replace("$", "") == f"'主要指标'!B{lo - 1}"  # header = name


def test_xlsx_english_and_long_sheet_names():
    report = _report("en")
    report.sections[1].title = "2. A very long section title that Excel would refuse: [x]"
    wb = load_workbook(io.BytesIO(render_xlsx(report)))
    assert wb.sheetnames[0] == "Cover"
    assert all(len(n) <= 31 and "[" not in n for n in wb.sheetnames)


def test_text_that_looks_like_a_formula_stays_text():
    report = _report()
    report.sections[0].tables()[0].rows[0][0] = "=SUM(A1:A9)"
    wb = load_workbook(io.BytesIO(render_xlsx(report)))
    cells = [c for row in wb["主要指标"].iter_rows() for c in row if c.value == "=SUM(A1:A9)"]
    assert cells and cells[0].data_type == "s"


# -- PDF -------------------------------------------------------------------------------------
def test_pdf_embeds_the_cjk_font_and_text_is_extractable(tmp_path):
    pdf = render_pdf(_report())
    assert pdf.startswith(b"%PDF")
    font = fonts.cjk_font()
    if not font.embedded:
        pytest.skip(font.warning)
    # a TrueType font program embedded (FontFile2), subset of the CJK font
    assert b"/FontFile2" in pdf
    assert re.search(rb"/BaseFont /[A-Z]{6}\+", pdf)
    text = _pdftotext(pdf, tmp_path)
    assert TITLE_ZH in text
    assert "14,060.8" in text  # a key figure
    assert "1,000.25" in text and "10.0 %" in text  # table cells, formatted
    assert re.search(r"第\s*1\s*页\s*/\s*共\s*\d+\s*页", text)  # page numbers
    # a character the font lacks (U+2212 in WenQuanYi) is replaced, not dropped
    assert re.search(r"输入 [−-] 外供 = 1\.5", text)


def test_pdf_long_tables_split_over_pages_with_their_header(tmp_path):
    pdf = render_pdf(_report(rows=150))
    text = _pdftotext(pdf, tmp_path)
    pages = text.split("\f")
    with_header = [p for p in pages if "综合能耗 (tce)" in p]
    assert len(with_header) >= 3  # the header row repeats on every page the table runs over
    assert "企业150" in text and "合计" in text


def test_pdf_english(tmp_path):
    text = _pdftotext(render_pdf(_report("en")), tmp_path)
    assert "Qilu park — monthly energy report" in text
    assert "page 1 of" in text


# -- charts, fonts, model --------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["pie", "bar", "line", "stacked_bar"])
def test_chart_png(kind):
    chart = Chart("c", kind, "能源结构", ["电力", "原煤", "天然气"],
                  [Series("当量值", [1.0, 2.0, None]), Series("等价值", [2.0, -1.0, 3.0])], "tce")
    png = charts.render_png(chart, 4, 3, dpi=50)
    assert png.startswith(b"\x89PNG")


def test_empty_pie_still_renders():
    assert charts.render_png(Chart("c", "pie", "空", [], []), 3, 2, dpi=40).startswith(b"\x89PNG")


def test_cjk_font_is_truetype():
    font = fonts.cjk_font()
    if not font.embedded:
        pytest.skip(font.warning)
    assert fonts._is_truetype(font.path)


def test_model_round_trip_and_formatting():
    report = _report()
    again = Report.from_dict(report.as_dict())
    assert again == report
    assert format_number(None, Column("x", kind="number")) == "—"
    assert format_number(1234.5, Column("x", kind="number", decimals=1)) == "1,234.5"
    assert format_number(-0.0275, Column("x", kind="percent", decimals=1)) == "-2.8 %"
    assert format_number(7, Column("x", kind="integer")) == "7"


def test_render_dispatch():
    report = _report()
    assert render(report, "xlsx")[:2] == b"PK"
    assert set(MEDIA_TYPES) == {"xlsx", "pdf"}
    with pytest.raises(ValueError):
        render(report, "docx")
