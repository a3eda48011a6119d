"""Charts of a report as PNG images (matplotlib, Agg backend, in memory), in the CJK font.

Used by the PDF renderer; the Excel renderer draws native Excel charts instead.
"""

from __future__ import annotations

import io
import threading

import matplotlib

matplotlib.use("Agg")  # before pyplot is ever imported: no display, no GUI toolkit

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from nengtan.reports.fonts import chart_font_properties
from nengtan.reports.model import Chart

#: Colour-blind-safe palette (Okabe-Ito), then matplotlib's tab10 for longer series.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442",
           "#000000", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")

# matplotlib's font cache and text layout are not thread-safe (the API renders in a pool)
_LOCK = threading.Lock()


def _style(fp, size: float):
    if fp is None:
        return {"fontsize": size}
    return {"fontproperties": _sized(fp, size)}


def _sized(fp, size: float):
    f = fp.copy()
    f.set_size(size)
    return f


def render_png(chart: Chart, width_in: float = 6.6, height_in: float = 3.2,
               dpi: int = 150) -> bytes:
    """The chart as a PNG image."""
    with _LOCK, matplotlib.rc_context({"axes.unicode_minus": False}):
        # a hyphen for negative numbers: CJK fonts may lack U+2212
        fp = chart_font_properties()
        fig = Figure(figsize=(width_in, height_in), dpi=dpi)
        ax = fig.add_subplot(111)
        if chart.kind == "pie":
            _pie(fig, ax, chart, fp)
        else:
            _xy(ax, chart, fp)
        ax.set_title(chart.title, **_style(fp, 10))
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
        return buf.getvalue()


def _pie(fig, ax, chart: Chart, fp) -> None:
    values = chart.series[0].values if chart.series else []
    pairs = [(c, v) for c, v in zip(chart.categories, values) if v and v > 0]
    if not pairs:
        ax.text(0.5, 0.5, "—", ha="center", va="center", **_style(fp, 12))
        ax.axis("off")
        return
    total = sum(v for _, v in pairs)
    labels = [f"{c}  {v / total:.1%}" for c, v in pairs]
    wedges, _ = ax.pie([v for _, v in pairs], colors=PALETTE[:len(pairs)], startangle=90,
                       counterclock=False, wedgeprops={"linewidth": 0.8, "edgecolor": "white"})
    ax.axis("equal")
    ax.legend(wedges, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False,
              prop=_sized(fp, 8) if fp else {"size": 8})


def _xy(ax, chart: Chart, fp) -> None:
    n = len(chart.categories)
    x = list(range(n))
    series = chart.series
    if chart.kind == "line":
        for k, s in enumerate(series):
            ax.plot(x, [v if v is not None else float("nan") for v in s.values],
                    color=PALETTE[k % len(PALETTE)], marker="o", markersize=2.5, linewidth=1.2,
                    label=s.name)
    elif chart.kind == "stacked_bar":
        bottom_pos = [0.0] * n
        bottom_neg = [0.0] * n
        for k, s in enumerate(series):
            vals = [v or 0.0 for v in s.values]
            bottoms = [bottom_pos[i] if v >= 0 else bottom_neg[i] for i, v in enumerate(vals)]
            ax.bar(x, vals, bottom=bottoms, color=PALETTE[k % len(PALETTE)], width=0.75,
                   label=s.name)
            for i, v in enumerate(vals):
                if v >= 0:
                    bottom_pos[i] += v
                else:
                    bottom_neg[i] += v
    else:
        width = 0.8 / max(len(series), 1)
        for k, s in enumerate(series):
            offset = (k - (len(series) - 1) / 2) * width
            ax.bar([i + offset for i in x], [v or 0.0 for v in s.values], width=width,
                   color=PALETTE[k % len(PALETTE)], label=s.name)
    step = max(1, n // 16)
    ax.set_xticks(x[::step])
    ax.set_xticklabels(chart.categories[::step], rotation=45 if n > 8 else 0,
                       ha="right" if n > 8 else "center", **_style(fp, 7))
    ax.tick_params(axis="y", labelsize=7)
    # plain numbers with separators, never an offset or "1e6" above the axis
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}" if abs(v) >= 10
                                               else f"{v:,.2g}"))
    if chart.unit:
        ax.set_ylabel(chart.unit, **_style(fp, 8))
    ax.grid(axis="y", linewidth=0.4, alpha=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    ax.axhline(0, color="#444444", linewidth=0.6)
    if len(series) > 1:
        ax.legend(frameon=False, prop=_sized(fp, 7) if fp else {"size": 7},
                  loc="upper left", bbox_to_anchor=(1.0, 1.0))
