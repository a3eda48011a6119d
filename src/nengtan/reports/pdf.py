"""A report as a PDF (reportlab): A4, the CJK TrueType font embedded, charts as images.

Layout: a cover page (title, the cover facts, key figures), then the sections; tables repeat
their header row on every page they run over; every page has the footer and "page n of m".
"""

from __future__ import annotations

import io
from functools import lru_cache
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import (
    CondPageBreak,
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as RLTable

from nengtan.reports import charts as chart_png
from nengtan.reports.fonts import register_pdf_font
from nengtan.reports.model import Chart, Report, Table, format_number
from nengtan.reports.model import Paragraph as TextBlock

MARGIN = 18 * mm
FRAME_W = A4[0] - 2 * MARGIN
HEAD_BG = colors.HexColor("#DDE6F0")
TOTAL_BG = colors.HexColor("#F2F2F2")
WARN_BG = colors.HexColor("#FFF2CC")
GRID = colors.HexColor("#BFBFBF")
ACCENT = colors.HexColor("#1F4E79")


class _Styles:
    def __init__(self, font: str, cjk: bool):
        wrap = "CJK" if cjk else None

        def style(name, size, leading=None, **kw):
            return ParagraphStyle(name, fontName=font, fontSize=size,
                                  leading=leading or size * 1.35, wordWrap=wrap, **kw)

        self.title = style("title", 22, 30, textColor=ACCENT, spaceAfter=6)
        self.subtitle = style("subtitle", 13, 18, spaceAfter=14)
        self.h1 = style("h1", 14, 20, textColor=ACCENT, spaceBefore=6, spaceAfter=6)
        self.h2 = style("h2", 10.5, 14, spaceBefore=6, spaceAfter=3)
        self.body = style("body", 9, 13)
        self.note = style("note", 7.5, 10.5, textColor=colors.HexColor("#555555"))
        self.warn = style("warn", 8, 11, textColor=colors.HexColor("#9C5700"))
        self.cell = style("cell", 7.5, 9.5)
        self.cell_num = style("cell_num", 7.5, 9.5, alignment=TA_RIGHT)
        self.big = style("big", 16, 20, textColor=ACCENT)
        self.small = style("small", 7.5, 10)


#: Stand-ins for characters a CJK font may lack (WenQuanYi Zen Hei has no U+2212 minus).
FALLBACK = {"\u2212": "-", "\u2022": "·", "\u2009": " ", "\u202f": " ", "\u2011": "-"}


@lru_cache(maxsize=4)
def _glyphs(font: str) -> frozenset[int] | None:
    """Code points the registered font has (None: unknown, e.g. a CID font)."""
    face = getattr(pdfmetrics.getFont(font), "face", None)
    cmap = getattr(face, "charToGlyph", None)
    return frozenset(cmap) if cmap else None


def _safe(text: str, font: str) -> str:
    glyphs = _glyphs(font)
    if glyphs is None:
        return text
    return "".join(FALLBACK.get(ch, ch) if ord(ch) not in glyphs else ch for ch in text)


def _p(text, style) -> Paragraph:
    return Paragraph(escape(_safe("" if text is None else str(text), style.fontName)), style)


def _widths(table: Table, data_text: list[list[str]], font: str) -> list[float]:
    """Column widths (pt): numbers on one line, headers wrapped only where room is short,
    long text columns narrowed (they wrap) when the table is wider than the frame."""
    pad = 8
    n = len(table.columns)
    content = [max([stringWidth(r[j], font, 7.5) for r in data_text] + [0]) for j in range(n)]
    head = [stringWidth(c.header, font, 7.5) for c in table.columns]
    widths = [max(min(content[j], 220), min(head[j], 42)) + pad for j in range(n)]
    room = FRAME_W - sum(widths)
    if room > 0:
        want = [max(head[j] + pad - widths[j], 0) for j in range(n)]
        if sum(want):
            k = min(room, sum(want)) / sum(want)
            widths = [w + k * x for w, x in zip(widths, want)]
    excess = sum(widths) - FRAME_W
    if excess > 0:
        text = [j for j, c in enumerate(table.columns) if c.kind == "text" and widths[j] > 50]
        slack = sum(widths[j] - 50 for j in text)
        if slack > 0:
            k = min(excess, slack) / slack
            for j in text:
                widths[j] -= k * (widths[j] - 50)
    if sum(widths) > FRAME_W:
        scale = FRAME_W / sum(widths)
        widths = [w * scale for w in widths]
    return widths


def _table(table: Table, st: _Styles, font: str) -> list:
    cols = table.columns
    header = [_p(c.header, st.cell) for c in cols]
    body_rows = list(table.rows) + ([table.total] if table.total else [])
    data, texts = [header], []
    for values in body_rows:
        row, text_row = [], []
        for j, c in enumerate(cols):
            v = values[j] if j < len(values) else None
            text = format_number(v, c)
            numeric = c.kind != "text" and not isinstance(v, str)
            row.append(_p(text, st.cell_num if numeric else st.cell))
            text_row.append(text)
        data.append(row)
        texts.append(text_row)
    widths = _widths(table, texts, font)
    t = RLTable(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    style = [
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    for i in range(len(table.rows)):
        if table.mark(i) == "warn":
            style.append(("BACKGROUND", (0, i + 1), (-1, i + 1), WARN_BG))
    if table.total:
        style.append(("BACKGROUND", (0, len(data) - 1), (-1, len(data) - 1), TOTAL_BG))
    t.setStyle(TableStyle(style))
    out = [CondPageBreak(30 * mm), _p(table.title, st.h2), t]
    if table.note:
        out += [Spacer(1, 2), _p(table.note, st.note)]
    out.append(Spacer(1, 8))
    return out


def _chart(chart: Chart, st: _Styles) -> list:
    height_in = 3.4 if chart.kind != "pie" else 3.0
    png = chart_png.render_png(chart, width_in=FRAME_W / 72, height_in=height_in)
    img = Image(io.BytesIO(png), width=FRAME_W, height=height_in * 72)
    parts = [img]
    if chart.note:
        parts.append(_p(chart.note, st.note))
    return [KeepTogether(parts), Spacer(1, 8)]


def _cover(report: Report, st: _Styles) -> list:
    story = [Spacer(1, 40 * mm), _p(report.title, st.title), _p(report.subtitle, st.subtitle)]
    facts = RLTable([[_p(a, st.body), _p(b, st.body)] for a, b in report.cover],
                    colWidths=[45 * mm, FRAME_W - 45 * mm], hAlign="LEFT")
    facts.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.3, GRID),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [facts, Spacer(1, 12 * mm)]
    if report.highlights:
        cards = []
        for h in report.highlights:
            value = "—" if h.value is None else f"{h.value:,.{h.decimals}f}"
            cell = [_p(h.label, st.small), _p(f"{value} {h.unit}", st.big)]
            if h.comment:
                cell.append(_p(h.comment, st.small))
            cards.append(cell)
        per_row = 3
        rows = [cards[i:i + per_row] for i in range(0, len(cards), per_row)]
        rows[-1] += [""] * (per_row - len(rows[-1]))
        grid = RLTable(rows, colWidths=[FRAME_W / per_row] * per_row, hAlign="LEFT")
        grid.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.4, GRID),
                                  ("INNERGRID", (0, 0), (-1, -1), 0.4, GRID),
                                  ("VALIGN", (0, 0), (-1, -1), "TOP"),
                                  ("TOPPADDING", (0, 0), (-1, -1), 6),
                                  ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
        story.append(grid)
    return story


def _numbered_canvas(font: str, footer: str, page_label: str):
    class NumberedCanvas(rl_canvas.Canvas):
        """Holds every page until the end, to print "page n of m" on each."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(font, 7.5)
                self.setFillColor(colors.HexColor("#666666"))
                self.drawString(MARGIN, 10 * mm, _safe(footer, font))
                self.drawRightString(A4[0] - MARGIN, 10 * mm, _safe(
                    page_label.format(page=self._pageNumber, pages=total), font))
                super().showPage()
            super().save()

    return NumberedCanvas


def render_pdf(report: Report) -> bytes:
    """The report as PDF bytes (A4)."""
    font = register_pdf_font()
    st = _Styles(font, cjk=report.lang.startswith("zh"))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=MARGIN, bottomMargin=MARGIN + 4 * mm,
                            title=report.title, subject=report.subtitle, author="nengtan",
                            creator="nengtan", lang=report.lang)
    story = _cover(report, st)
    for section in report.sections:
        story += [PageBreak() if section is report.sections[0] else CondPageBreak(60 * mm),
                  _p(section.title, st.h1)]
        for block in section.blocks:
            if isinstance(block, TextBlock):
                story.append(_p(block.text, {"note": st.note, "warn": st.warn}.get(block.style,
                                                                                   st.body)))
                story.append(Spacer(1, 3))
            elif isinstance(block, Table):
                story += _table(block, st, font)
            else:
                story += _chart(block, st)
    doc.build(story, canvasmaker=_numbered_canvas(font, report.footer, report.page_label))
    return buf.getvalue()
