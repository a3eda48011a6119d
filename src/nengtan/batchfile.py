"""CSV files of the batch calculators (`nengtan calc energy`, `nengtan calc carbon`), pure.

Row numbers are as a user sees them in a spreadsheet: the header is row 1.  Header problems
(missing, unknown, repeated columns) are reported together; blank rows are skipped but keep
their number; a row with more cells than the header is reported, not guessed.
"""

from __future__ import annotations

import csv
import io
import math

from nengtan.errors import InputError, Issue


def records(text: str, required: tuple[str, ...], optional: tuple[str, ...]
            ) -> tuple[list[tuple[int, dict[str, str]]], list[Issue]]:
    """``(row number, {column: trimmed text})`` of every non-blank row of ``text`` (UTF-8,
    a BOM is ignored), and the problems of the header and of rows that could not be read."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None or not any(h.strip() for h in header):
        raise InputError([Issue("rule.file_empty", row=1)])
    header = [h.strip().lower() for h in header]
    issues = [Issue("rule.header_missing", row=1, field=name) for name in required
              if name not in header]
    issues += [Issue("rule.header_unknown", row=1, field=name) for name in header
               if name not in required + optional]
    issues += [Issue("rule.header_duplicate", row=1, field=name)
               for k, name in enumerate(header) if name in header[:k]]
    if issues:
        return [], issues
    rows = []
    for k, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            issues.append(Issue("rule.no_header", row=k, value=len(cells)))
            continue
        rows.append((k, {name: (cells[i].strip() if i < len(cells) else "")
                         for i, name in enumerate(header)}))
    return rows, issues


def number(text: str, row: int, name: str, issues: list[Issue]) -> float | None:
    """``text`` as a finite number (thousands separators allowed), else an issue."""
    try:
        value = float(text.replace(",", "").strip())
    except ValueError:
        issues.append(Issue("rule.type_float", row=row, field=name, value=text))
        return None
    if not math.isfinite(value):
        issues.append(Issue("rule.not_finite", row=row, field=name, value=text))
        return None
    return value
