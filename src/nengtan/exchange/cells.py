"""Cell values as spreadsheets give them: text, Excel numbers, empty cells, unlabelled columns."""

from __future__ import annotations

from collections.abc import Iterable

from nengtan.errors import Issue
from nengtan.services.fields import is_empty


def text(cell) -> str:
    """A cell as stripped text ("" if empty); Excel's 101.0 for a code typed as 101 is "101"."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def pad(rows: list[list], width: int) -> list[list]:
    """Rows at least ``width`` cells long (CSV and Excel drop trailing empty cells)."""
    if min(map(len, rows)) >= width:
        return rows
    return [r if len(r) >= width else list(r) + [None] * (width - len(r)) for r in rows]


class Unlabelled:
    """Reports a value in a column without a header once per column: such data cannot be
    interpreted, and dropping it silently would lose it."""

    def __init__(self, header: list[str], sheet: str | None):
        self.header = header
        self.sheet = sheet
        self.blank = [i for i, h in enumerate(header) if not h]
        self.reported: set[int] = set()

    def check(self, numbers: list[int], rows: list[list]) -> list[Issue]:
        width = len(self.header)
        longest = max(map(len, rows))
        if longest <= width and not self.blank:
            return []
        columns = [i for i in self.blank + list(range(width, longest)) if i not in self.reported]
        return self._scan(numbers, rows, columns)

    def _scan(self, numbers: Iterable[int], rows: list[list], columns: list[int]) -> list[Issue]:
        issues = []
        for i in columns:
            for number, row in zip(numbers, rows):
                if i < len(row) and not is_empty(row[i]):
                    issues.append(Issue("rule.no_header", row=number, field=_letter(i),
                                        value=row[i], sheet=self.sheet))
                    self.reported.add(i)
                    break
        return issues


def _letter(index: int) -> str:
    """Spreadsheet column letter of a 0-based index (0 → A, 26 → AA)."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out
