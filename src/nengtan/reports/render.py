"""One entry point for every renderer: a report document → file bytes of a format."""

from __future__ import annotations

from nengtan.reports.model import Report

MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
FORMATS = tuple(MEDIA_TYPES)


def render(report: Report, fmt: str) -> bytes:
    """``fmt``: xlsx or pdf (renderers are imported on use: matplotlib and reportlab are
    heavy, and a JSON answer needs neither)."""
    if fmt == "xlsx":
        from nengtan.reports.xlsx import render_xlsx

        return render_xlsx(report)
    if fmt == "pdf":
        from nengtan.reports.pdf import render_pdf

        return render_pdf(report)
    raise ValueError(f"unknown report format {fmt!r}")
