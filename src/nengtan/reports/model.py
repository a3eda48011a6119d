"""A plain report document: cover, sections of paragraphs, tables and charts.

Texts are already in the report's language; numbers stay numbers (renderers format them), each
table column names its unit.  The renderers (:mod:`nengtan.reports.xlsx`,
:mod:`nengtan.reports.pdf`) know nothing about energy: any report that can be said with this
model can be rendered both ways.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("text", "number", "percent", "integer")
CHART_KINDS = ("pie", "bar", "line", "stacked_bar")


@dataclass
class Column:
    """``kind``: text | number | percent (value is a fraction: 0.125 shows as 12.5 %) | integer."""

    label: str
    unit: str | None = None
    kind: str = "text"
    decimals: int = 2

    @property
    def header(self) -> str:
        """The header with its unit: ``综合能耗 (tce)``."""
        if self.unit and self.kind != "percent":
            return f"{self.label} ({self.unit})"
        return self.label


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list[Any]]
    #: A total row (shown bold, after the rows).
    total: list[Any] | None = None
    note: str | None = None
    #: Per row, a mark the renderers highlight ("warn": e.g. an unverified coefficient).
    marks: list[str | None] | None = None

    def mark(self, i: int) -> str | None:
        return self.marks[i] if self.marks and i < len(self.marks) else None


@dataclass
class Series:
    name: str
    values: list[float | None]


@dataclass
class Chart:
    """A chart of ``series`` over ``categories``; ``unit`` labels the value axis.

    ``source`` names a table of the same section holding the same data (its key, the category
    column, the value columns): the Excel renderer then draws a native chart on those cells
    instead of writing the data again.
    """

    key: str
    kind: str
    title: str
    categories: list[str]
    series: list[Series]
    unit: str | None = None
    note: str | None = None
    source: tuple[str, int, list[int]] | None = None


@dataclass
class Paragraph:
    text: str
    style: str = "body"  # body | note | warn


Block = Table | Chart | Paragraph


@dataclass
class Section:
    key: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    #: Short name of the Excel sheet (≤ 31 characters); the title when None.
    sheet: str | None = None

    def add(self, block: Block) -> Block:
        self.blocks.append(block)
        return block

    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    def charts(self) -> list[Chart]:
        return [b for b in self.blocks if isinstance(b, Chart)]


@dataclass
class Highlight:
    """A key figure shown large on the cover: label, value, unit, an optional comparison."""

    label: str
    value: float | None
    unit: str
    decimals: int = 1
    comment: str | None = None


@dataclass
class Report:
    title: str
    subtitle: str
    lang: str
    #: Label/value pairs of the cover (node, period, generated at, version, coverage ...).
    cover: list[tuple[str, str]]
    sections: list[Section] = field(default_factory=list)
    highlights: list[Highlight] = field(default_factory=list)
    #: Shown at the foot of every PDF page and in the Excel document properties.
    footer: str = ""
    #: File name without extension.
    filename: str = "report"
    #: Page label template, e.g. "第 {page} 页 / 共 {pages} 页".
    page_label: str = "{page} / {pages}"
    #: Name of the first Excel sheet (the cover).
    cover_sheet: str = "Cover"

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def as_dict(self) -> dict:
        def block(b: Block) -> dict:
            kind = {Table: "table", Chart: "chart", Paragraph: "paragraph"}[type(b)]
            return {"type": kind, **asdict(b)}

        return {
            "title": self.title, "subtitle": self.subtitle, "lang": self.lang,
            "cover": [{"label": a, "value": b} for a, b in self.cover],
            "highlights": [asdict(h) for h in self.highlights],
            "sections": [{"key": s.key, "title": s.title, "sheet": s.sheet,
                          "blocks": [block(b) for b in s.blocks]} for s in self.sections],
            "footer": self.footer, "filename": self.filename, "page_label": self.page_label,
            "cover_sheet": self.cover_sheet,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Report:
        def block(d: dict) -> Block:
            d = dict(d)
            kind = d.pop("type")
            if kind == "table":
                d["columns"] = [Column(**c) for c in d["columns"]]
                return Table(**d)
            if kind == "chart":
                d["series"] = [Series(**s) for s in d["series"]]
                if d.get("source"):
                    key, cat, vals = d["source"]
                    d["source"] = (key, cat, list(vals))
                return Chart(**d)
            return Paragraph(**d)

        return cls(
            title=data["title"], subtitle=data["subtitle"], lang=data["lang"],
            cover=[(c["label"], c["value"]) for c in data["cover"]],
            highlights=[Highlight(**h) for h in data.get("highlights", [])],
            sections=[Section(s["key"], s["title"], [block(b) for b in s["blocks"]], s.get("sheet"))
                      for s in data["sections"]],
            footer=data.get("footer", ""), filename=data.get("filename", "report"),
            page_label=data.get("page_label", "{page} / {pages}"),
            cover_sheet=data.get("cover_sheet", "Cover"))


def format_number(value: Any, column: Column) -> str:
    """A cell as text (PDF): thousands separators, the column's decimals, '—' for None."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if column.kind == "percent":
        return f"{value * 100:,.{column.decimals}f} %"
    if column.kind == "integer":
        return f"{value:,.0f}"
    if column.kind == "number":
        return f"{value:,.{column.decimals}f}"
    return str(value)
