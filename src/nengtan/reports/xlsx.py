"""A report as an Excel workbook (openpyxl): a cover sheet, then one sheet per section.

Numbers are written as numbers with a number format (units in the column headers, never in the
cells), so the workbook can be recalculated and charted further.  Charts are native Excel
charts drawn on the cells of the section's tables (or on a small data block written for them).
"""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import UTC, datetime

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, PieChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from nengtan.reports.model import Chart, Column, Paragraph, Report, Section, Table

TITLE = Font(size=14, bold=True)
HEAD = Font(bold=True)
HEAD_FILL = PatternFill("solid", fgColor="DDE6F0")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
WARN_FILL = PatternFill("solid", fgColor="FFF2CC")
NOTE = Font(italic=True, color="666666", size=9)
WARN = Font(color="9C5700", size=9)
THIN = Side(style="thin", color="BFBFBF")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CHART_ROWS = 18  # rows a chart of 9 cm takes


def _number_format(column: Column) -> str:
    if column.kind == "percent":
        return "0." + "0" * max(column.decimals, 0) + "%" if column.decimals else "0%"
    if column.kind == "integer":
        return "#,##0"
    if column.kind == "number":
        return "#,##0" + ("." + "0" * column.decimals if column.decimals else "")
    return "@"


def _width(text) -> int:
    s = "" if text is None else str(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _sheet_title(name: str, taken: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", " ", name).strip()[:31] or "Sheet"
    title, k = base, 2
    while title.lower() in taken:
        suffix = f" ({k})"
        title, k = base[:31 - len(suffix)] + suffix, k + 1
    taken.add(title.lower())
    return title


def _put(ws, row: int, col: int, value, **style):
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # a name beginning with '=' is text, not a formula
    for k, v in style.items():
        setattr(cell, k, v)
    return cell


class _Layout:
    """Where each table of a sheet was written, for charts drawn on its cells."""

    def __init__(self):
        self.tables: dict[str, tuple[int, int, int]] = {}  # key → (header row, first col, rows)
        self.widths: dict[int, int] = {}

    def fit(self, col: int, text) -> None:
        self.widths[col] = max(self.widths.get(col, 0), min(_width(text) + 2, 60))


def _write_table(ws, row: int, table: Table, layout: _Layout) -> int:
    _put(ws, row, 1, table.title, font=HEAD)
    row += 1
    for j, col in enumerate(table.columns, start=1):
        _put(ws, row, j, col.header, font=HEAD, fill=HEAD_FILL, border=BOX,
             alignment=Alignment(wrap_text=True, vertical="center"))
        layout.fit(j, col.header if _width(col.header) < 24 else col.header[:12])
    header = row
    body = list(table.rows) + ([table.total] if table.total else [])
    for i, values in enumerate(body):
        row += 1
        is_total = table.total is not None and i == len(body) - 1
        mark = None if is_total else table.mark(i)
        for j, col in enumerate(table.columns, start=1):
            value = values[j - 1] if j - 1 < len(values) else None
            cell = _put(ws, row, j, value, border=BOX)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                cell.number_format = _number_format(col)
            if is_total:
                cell.font, cell.fill = HEAD, TOTAL_FILL
            elif mark == "warn":
                cell.fill = WARN_FILL
            layout.fit(j, _display(value, col))
    layout.tables[table.key] = (header, 1, len(table.rows))
    if table.note:
        row += 1
        _put(ws, row, 1, table.note, font=NOTE)
    return row + 2


def _display(value, col: Column) -> str:
    if isinstance(value, float):
        return f"{value:,.{col.decimals}f}" if col.kind != "percent" else "100.0%"
    return "" if value is None else str(value)


def _write_chart_data(ws, row: int, chart: Chart, layout: _Layout) -> tuple[int, tuple]:
    """A small data block for a chart that has no source table; returns the next row."""
    _put(ws, row, 1, chart.title, font=NOTE)
    row += 1
    _put(ws, row, 1, "", font=HEAD, fill=HEAD_FILL, border=BOX)
    for k, s in enumerate(chart.series, start=2):
        name = f"{s.name} ({chart.unit})" if chart.unit and len(chart.series) == 1 else s.name
        _put(ws, row, k, name, font=HEAD, fill=HEAD_FILL, border=BOX)
        layout.fit(k, name)
    header = row
    for i, cat in enumerate(chart.categories):
        row += 1
        _put(ws, row, 1, cat, border=BOX)
        layout.fit(1, cat)
        for k, s in enumerate(chart.series, start=2):
            v = s.values[i] if i < len(s.values) else None
            cell = _put(ws, row, k, v, border=BOX)
            if isinstance(v, (int, float)):
                cell.number_format = "#,##0.00"
    source = (header, 1, len(chart.categories), list(range(2, 2 + len(chart.series))))
    return row + 2, source


def _excel_chart(ws, chart: Chart, header: int, cat_col: int, n: int, value_cols: list[int]):
    if n == 0 or not value_cols:
        return None
    cats = Reference(ws, min_col=cat_col, min_row=header + 1, max_row=header + n)
    if chart.kind == "pie":
        c = PieChart()
        c.add_data(Reference(ws, min_col=value_cols[0], min_row=header, max_row=header + n),
                   titles_from_data=True)
        c.set_categories(cats)
        c.dataLabels = DataLabelList()
        c.dataLabels.showPercent = True
    else:
        if chart.kind == "line":
            c = LineChart()
        else:
            c = BarChart()
            c.type = "col"
            if chart.kind == "stacked_bar":
                c.grouping, c.overlap = "stacked", 100
        for col in value_cols:
            c.add_data(Reference(ws, min_col=col, min_row=header, max_row=header + n),
                       titles_from_data=True)
        c.set_categories(cats)
        c.y_axis.title = chart.unit
        # openpyxl ≥ 3.1 hides axes unless told otherwise
        c.x_axis.delete = False
        c.y_axis.delete = False
        c.legend.position = "b"
        if len(value_cols) == 1:
            c.legend = None
    c.title = chart.title
    c.width, c.height = 18, 9
    return c


def _write_section(ws, section: Section) -> None:
    layout = _Layout()
    _put(ws, 1, 1, section.title, font=TITLE)
    row = 3
    pending: list[Chart] = []
    for block in section.blocks:
        if isinstance(block, Paragraph):
            font = NOTE if block.style == "note" else WARN if block.style == "warn" else None
            cell = _put(ws, row, 1, block.text)
            if font:
                cell.font = font
            row += 1
        elif isinstance(block, Table):
            row = _write_table(ws, row, block, layout)
        else:
            pending.append(block)
    for chart in pending:
        if chart.source and chart.source[0] in layout.tables:
            header, first, n = layout.tables[chart.source[0]]
            xl = _excel_chart(ws, chart, header, first + chart.source[1], n,
                              [first + c for c in chart.source[2]])
        else:
            row, (header, cat_col, n, cols) = _write_chart_data(ws, row, chart, layout)
            xl = _excel_chart(ws, chart, header, cat_col, n, cols)
        if xl is not None:
            ws.add_chart(xl, f"A{row}")
            row += CHART_ROWS
        if chart.note:
            _put(ws, row, 1, chart.note, font=NOTE)
            row += 2
    for col, width in layout.widths.items():
        ws.column_dimensions[get_column_letter(col)].width = max(width, 10)


def render_xlsx(report: Report) -> bytes:
    """The report as .xlsx bytes."""
    wb = Workbook()
    taken: set[str] = set()
    ws = wb.active
    ws.title = _sheet_title(report.cover_sheet, taken)
    _put(ws, 1, 1, report.title, font=Font(size=16, bold=True))
    _put(ws, 2, 1, report.subtitle, font=Font(size=12))
    row = 4
    for label, value in report.cover:
        _put(ws, row, 1, label, font=HEAD)
        _put(ws, row, 2, value)
        row += 1
    if report.highlights:
        row += 1
        for h in report.highlights:
            _put(ws, row, 1, f"{h.label} ({h.unit})", font=HEAD)
            cell = _put(ws, row, 2, h.value)
            if isinstance(h.value, (int, float)):
                cell.number_format = "#,##0" + ("." + "0" * h.decimals if h.decimals else "")
            if h.comment:
                _put(ws, row, 3, h.comment, font=NOTE)
            row += 1
    if report.footer:
        _put(ws, row + 1, 1, report.footer, font=NOTE)
    ws.column_dimensions["A"].width = max([_width(a) + 4 for a, _ in report.cover]
                                          + [_width(f"{h.label} ({h.unit})") + 4
                                             for h in report.highlights] + [16])
    ws.column_dimensions["B"].width = max([_width(b) + 4 for _, b in report.cover] + [18])
    for section in report.sections:
        _write_section(wb.create_sheet(_sheet_title(section.sheet or section.title, taken)),
                       section)
    wb.properties.title = report.title
    wb.properties.subject = report.subtitle
    wb.properties.creator = "nengtan"
    wb.properties.created = datetime.now(UTC).replace(tzinfo=None)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
