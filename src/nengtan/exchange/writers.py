"""Writing CSV and Excel files: the formats the importer reads back.

CSV is UTF-8, comma separated; with Chinese headers it starts with a byte-order mark so that
Excel on Chinese Windows shows the text instead of mojibake (the importer accepts either).
Excel files are written in openpyxl's write-only (streaming) mode: a bold, frozen header row,
column widths from the header and the field type, dates as date cells, and a second sheet
"说明 README" documenting every column from the field specs.
"""

from __future__ import annotations

import csv
import json
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from nengtan.errors import InputError, Issue
from nengtan.exchange.kinds import README_SHEET, Kind
from nengtan.services.fields import FieldSpec

#: Rows an Excel worksheet holds (1,048,576), less the header.
XLSX_MAX_ROWS = 1_048_575

TYPE_NAMES = {
    "str": ("文本", "text"), "int": ("整数", "whole number"), "float": ("数值", "number"),
    "bool": ("是/否", "true/false"), "date": ("日期 YYYY-MM-DD", "date YYYY-MM-DD"),
    "datetime": ("时间 ISO 8601", "time ISO 8601"), "choice": ("枚举", "one of a list"),
    "unit": ("计量单位", "unit"), "json": ("JSON", "JSON"),
}
_WIDTH = {"date": 12, "datetime": 27, "float": 14, "int": 10, "bool": 8, "unit": 10}


def cell_text(value: Any) -> str:
    """A value as CSV text that the importer reads back to the same value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back to the same double
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]], bom: bool) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell_text(v) for v in row])
    return (("\ufeff" if bom else "") + buf.getvalue()).encode("utf-8")


def write_xlsx(kind: Kind, title: str, header: Sequence[str], fields: Sequence[FieldSpec],
               rows: Iterable[Sequence[Any]]) -> bytes:
    """One data sheet (bold frozen header, widths, date cells) and the README sheet."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    ws = book.create_sheet(title)
    ws.freeze_panes = "A2"
    for i, (text, spec) in enumerate(zip(header, fields), start=1):
        ws.column_dimensions[get_column_letter(i)].width = _width(text, spec)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    head = []
    for text in header:
        c = WriteOnlyCell(ws, value=text)
        c.font, c.fill = bold, fill
        c.alignment = Alignment(vertical="center")
        head.append(c)
    ws.append(head)
    date_columns = [i for i, s in enumerate(fields) if s.kind == "date"]
    count = 0
    for row in rows:
        count += 1
        if count > XLSX_MAX_ROWS:
            raise InputError([Issue("rule.xlsx_rows", field="format", value="xlsx",
                                    params={"max": XLSX_MAX_ROWS})])
        values = [_xlsx_value(v) for v in row]
        for i in date_columns:
            if isinstance(values[i], date):
                c = WriteOnlyCell(ws, value=values[i])
                c.number_format = "yyyy-mm-dd"
                values[i] = c
        ws.append(values)
    _readme(book, kind, fields)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()  # Excel has no time zones: keep the offset as text
    if isinstance(value, (dict, list)):
        return cell_text(value)  # JSON text, read back by the importer
    return value


def _width(header: str, spec: FieldSpec) -> float:
    # East Asian characters are about twice as wide as Latin ones in Excel's default font.
    shown = sum(2 if ord(ch) > 0x2E80 else 1 for ch in header)
    return float(min(max(shown + 2, _WIDTH.get(spec.kind, 16)), 60))


README_COLUMNS = ("列 column", "中文表头", "English header", "类型 type", "必填 required",
                  "单位 unit", "取值 allowed values", "说明 notes")


def readme_rows(kind: Kind, fields: Sequence[FieldSpec]) -> list[list[str]]:
    """One row per column of ``kind``: both headers, type, required, unit, values, help."""
    rows = []
    for spec in fields:
        zh, en = TYPE_NAMES.get(spec.kind, (spec.kind, spec.kind))
        notes = [spec.help_en] if spec.help_en else []
        if spec.ref:
            notes.append(f"code of a {spec.ref} / {_REF_ZH.get(spec.ref, spec.ref)}编码")
        if spec.max_length:
            notes.append(f"max {spec.max_length} characters / 最多 {spec.max_length} 字符")
        bounds = _bounds(spec)
        if bounds:
            notes.append(bounds)
        if spec.default not in (None, ""):
            notes.append(f"default / 默认: {cell_text(spec.default)}")
        rows.append([spec.name, spec.label_zh, spec.label_en, f"{zh} / {en}",
                     "是 yes" if spec.required else "否 no", spec.unit or "",
                     ", ".join(str(c) for c in spec.choices), "; ".join(notes)])
    return rows


_REF_ZH = {"node": "节点", "meter": "表计", "carrier": "能源品种", "product": "产品",
           "tariff": "电价"}


def _bounds(spec: FieldSpec) -> str:
    parts = []
    if spec.minimum is not None:
        parts.append(f"≥ {spec.minimum:g}")
    if spec.exclusive_minimum is not None:
        parts.append(f"> {spec.exclusive_minimum:g}")
    if spec.maximum is not None:
        parts.append(f"≤ {spec.maximum:g}")
    return " and ".join(parts)


def _readme(book, kind: Kind, fields: Sequence[FieldSpec]) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    ws = book.create_sheet(README_SHEET)
    for letter, width in zip("ABCDEFGH", (18, 18, 26, 22, 10, 10, 30, 80)):
        ws.column_dimensions[letter].width = width
    title = WriteOnlyCell(ws, value=f"{kind.label_zh} {kind.label_en} ({kind.name})")
    title.font = Font(bold=True, size=13)
    ws.append([title])
    for line in _KIND_NOTES.get(kind.apply, ()):
        ws.append([line.format(key=", ".join(kind.key) if kind.apply == "upsert" else "")])
    ws.append([])
    head = []
    for text in README_COLUMNS:
        c = WriteOnlyCell(ws, value=text)
        c.font = Font(bold=True)
        head.append(c)
    ws.append(head)
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in readme_rows(kind, fields):
        cells = []
        for value in row:
            c = WriteOnlyCell(ws, value=value)
            c.alignment = wrap
            cells.append(c)
        ws.append(cells)


_KIND_NOTES = {
    "upsert": ("按 {key} 新增或更新；文件中未出现的列保持不变。",
               "Rows are matched by {key}: new ones are created, existing ones updated; columns "
               "absent from the file are left unchanged."),
    "add": ("逐行新增；与已有记录完全相同的行跳过。",
            "Rows are added; a row identical to a stored record is skipped."),
    "readings": ("长表：每行一条读数；宽表：第一列为时间，其余每列一个表计编码。"
                 "不带时区的时间按站点时区理解。",
                 "Long layout: one reading per row.  Wide layout: a time column, then one column "
                 "per meter code.  Times without an offset are read in the site's timezone."),
}
_COMMON_NOTES = ("整个文件先全部校验，任何一行有误则全部不导入，错误注明行号、列和规则。",
                 "The whole file is validated first; if any row is wrong nothing is imported, "
                 "and every error names its row, column and rule.")
_KIND_NOTES = {k: v + _COMMON_NOTES for k, v in _KIND_NOTES.items()}
