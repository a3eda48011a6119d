"""The monthly / annual energy report as a document, in zh-CN or en.

Pure: takes the JSON of :func:`nengtan.services.energy_report.assemble` (``as_dict()``) and a
language, returns a :class:`~nengtan.reports.model.Report`.  Texts come from the
``report.energy.*`` keys of the catalogues (``locales/<lang>/reports.json``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from nengtan.i18n import normalise_language, t
from nengtan.reports.model import (
    Chart,
    Column,
    Highlight,
    Paragraph,
    Report,
    Section,
    Series,
    Table,
)

_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")


class _T:
    """Catalogue texts of the energy report in one language."""

    def __init__(self, lang: str):
        self.lang = lang

    def __call__(self, key: str, **params) -> str:
        return t(f"report.energy.{key}", self.lang, **params)

    def name(self, obj: dict, zh: str = "name_zh", en: str = "name_en") -> str:
        if self.lang == "en":
            return obj.get(en) or obj.get(zh) or ""
        return obj.get(zh) or obj.get(en) or ""


def _frac(pct: float | None) -> float | None:
    return None if pct is None else pct / 100.0


def period_text(period: dict, lang: str) -> str:
    start = date.fromisoformat(period["start"])
    if period["grain"] == "month":
        return (f"{_EN_MONTHS[start.month - 1]} {start.year}" if lang == "en"
                else f"{start.year}年{start.month}月")
    if period["grain"] == "year":
        return f"Year {start.year}" if lang == "en" else f"{start.year}年度"
    return period["label"]


def filename(data: dict, lang: str) -> str:
    """``nengtan-energy-report-QLP-2026-10-zh-CN`` (ASCII: codes and labels only)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in data["node"]["code"])
    return f"nengtan-energy-report-{safe}-{data['period']['label']}-{lang}"


def compose(data: dict, lang: str | None = None) -> Report:
    """The report document of ``data`` (``EnergyReportData.as_dict()``) in ``lang``."""
    lang = normalise_language(lang)
    tr = _T(lang)
    node, period = data["node"], data["period"]
    monthly = data["kind"] == "month"
    node_name = tr.name(node)
    title = tr("title_month" if monthly else "title_year", node=node_name)
    subtitle = period_text(period, lang)
    generated = datetime.fromisoformat(data["generated_at"]).astimezone(ZoneInfo(data["timezone"]))
    cov = data["coverage"]
    end = date.fromisoformat(period["end"]) - timedelta(days=1)
    cover = [
        (tr("cover.node"), f"{node['code']}  {node_name}"),
        (tr("cover.kind"), tr(f"kind.{node['kind']}")),
        (tr("cover.period"), f"{period['start']} – {end.isoformat()}"),
        (tr("cover.generated"), f"{generated:%Y-%m-%d %H:%M} ({data['timezone']})"),
        (tr("cover.version"), f"nengtan {data['version']}"),
        (tr("cover.coverage"), tr("cover.coverage_value", pct=f"{cov['coverage'] * 100:.1f}",
                                  meters=cov["meters"])),
        (tr("cover.method"), tr("cover.method_value")),
    ]
    if not cov["complete"]:
        cover.append((tr("cover.incomplete"), ", ".join(
            f"{m['meter']} {m['coverage'] * 100:.1f} %" for m in cov["incomplete_meters"][:12])))
    report = Report(title=title, subtitle=subtitle, lang=lang, cover=cover,
                    footer=tr("footer", node=node["code"], period=period["label"],
                              version=data["version"]),
                    filename=filename(data, lang), page_label=tr("page"),
                    cover_sheet=tr("cover_sheet"))
    report.highlights = _highlights(data, tr, monthly)
    report.sections = [
        _key_figures(data, tr, monthly),
        _children(data, tr),
        _structure(data, tr),
        _trend(data, tr, monthly),
        _intensity(data, tr),
    ]
    for key, builder in OPTIONAL_SECTIONS.items():
        if builder is not None and key in data.get("sections", {}):
            report.sections.append(builder(data["sections"][key], tr, data))
    report.sections.append(_appendix(data, tr))
    report.sections = [s for s in report.sections if s is not None and s.blocks]
    for k, section in enumerate(report.sections, start=1):
        if section.key != "lineage":  # the appendix is not numbered
            section.title = _numbered(k, section.title, lang)
    return report


_ZH_NUMERALS = "一二三四五六七八九十"


def _numbered(k: int, title: str, lang: str) -> str:
    """"三、能源消费结构" / "3. Energy structure": sections are numbered as they appear."""
    if lang == "en":
        return f"{k}. {title}"
    return f"{_ZH_NUMERALS[k - 1] if k <= 10 else k}、{title}"


# -- cover and key figures -----------------------------------------------------------------
def _change_text(tr: _T, fig: dict, monthly: bool) -> str | None:
    parts = []
    if fig.get("yoy_pct") is not None:
        parts.append(tr("change.yoy", pct=f"{fig['yoy_pct']:+.1f}"))
    if monthly and fig.get("mom_pct") is not None:
        parts.append(tr("change.mom", pct=f"{fig['mom_pct']:+.1f}"))
    return tr("change.sep").join(parts) if parts else None


def _figure_label(tr: _T, fig: dict) -> str:
    if fig["key"] == "kgce_per_unit":
        return tr("figure.kgce_per_unit", product=tr.name(fig))
    return tr(f"figure.{fig['key']}")


def _highlights(data: dict, tr: _T, monthly: bool) -> list[Highlight]:
    wanted = ("total_tce", "total_tce_equal_value", "renewable_tce", "tce_per_10k_cny_output",
              "kgce_per_unit")
    out = []
    for fig in data["figures"]:
        if fig["key"] not in wanted or (fig["key"] == "renewable_tce" and not fig["value"]):
            continue
        decimals = 1 if fig["unit"] == "tce" else 3 if abs(fig["value"] or 0) < 10 else 2
        out.append(Highlight(_figure_label(tr, fig), fig["value"], _unit(tr, fig["unit"]),
                             decimals, _change_text(tr, fig, monthly)))
    return out[:6]


def _key_figures(data: dict, tr: _T, monthly: bool) -> Section:
    s = Section("figures", tr("section.figures"), sheet=tr("sheet.figures"))
    total = next(f for f in data["figures"] if f["key"] == "total_tce")
    s.add(Paragraph(tr("summary_month" if monthly else "summary_year",
                       value=f"{total['value']:,.1f}",
                       yoy=_pct_text(total.get("yoy_pct")), mom=_pct_text(total.get("mom_pct")))))
    cols = [Column(tr("col.indicator")), Column(tr("col.value"), kind="number", decimals=3),
            Column(tr("col.unit"))]
    if monthly:
        cols += [Column(tr("col.previous"), kind="number", decimals=3),
                 Column(tr("col.mom"), kind="percent", decimals=1)]
    cols += [Column(tr("col.year_before"), kind="number", decimals=3),
             Column(tr("col.yoy"), kind="percent", decimals=1)]
    rows = []
    for fig in data["figures"]:
        row = [_figure_label(tr, fig), fig["value"], _unit(tr, fig["unit"])]
        if monthly:
            row += [fig.get("previous"), _frac(fig.get("mom_pct"))]
        row += [fig.get("year_before"), _frac(fig.get("yoy_pct"))]
        rows.append(row)
    s.add(Table("figures", tr("table.figures"), cols, rows, note=tr("note.changes")))
    if not data["coverage"]["complete"]:
        s.add(Paragraph(tr("warn.incomplete", pct=f"{data['coverage']['coverage'] * 100:.1f}"),
                        "warn"))
    return s


def _pct_text(pct: float | None) -> str:
    return "—" if pct is None else f"{pct:+.1f} %"


# -- children ------------------------------------------------------------------------------
def _children(data: dict, tr: _T) -> Section | None:
    ch = data["children"]
    items = sorted(ch["items"], key=lambda c: -c["total_tce"])
    if not items:
        return None
    s = Section("children", tr("section.children"), sheet=tr("sheet.children"))
    cols = [Column(tr("col.code")), Column(tr("col.name")), Column(tr("col.kind")),
            Column(tr("col.total_tce"), "tce", "number", 3),
            Column(tr("col.total_tce_equal_value"), "tce", "number", 3),
            Column(tr("col.share"), kind="percent", decimals=1),
            Column(tr("col.year_before_tce"), "tce", "number", 3),
            Column(tr("col.yoy"), kind="percent", decimals=1),
            Column(tr("col.coverage"), kind="percent", decimals=1)]
    rows, marks = [], []
    for c in items:
        rows.append([c["node"], tr.name(c), tr(f"kind.{c['kind']}"), c["total_tce"],
                     c["total_tce_equal_value"], c["share"], c["year_before_tce"],
                     _frac(c["yoy_pct"]), c["coverage"]])
        marks.append(None if c["complete"] else "warn")
    total = data["totals"]["total_tce"]
    yb = data["comparison"]["year_before"]
    fig = next(f for f in data["figures"] if f["key"] == "total_tce")
    if abs(ch["remainder_tce"]) > 0.0005:
        rows.append(["", tr("remainder"), "", ch["remainder_tce"], None,
                     ch["remainder_tce"] / total if total else None, None, None, None])
        marks.append(None)
    table = Table("children", tr("table.children", parent=ch["parent"]), cols, rows,
                  total=[tr("total"), "", "", total, data["totals"]["total_tce_equal_value"],
                         1.0 if total else None, yb["total_tce"], _frac(fig.get("yoy_pct")),
                         data["totals"]["coverage"]],
                  marks=marks, note=tr("note.children"))
    s.add(table)
    s.add(Chart("children", "bar", tr("chart.children"), [r[0] or r[1] for r in rows],
                [Series(tr("col.total_tce"), [r[3] for r in rows])], "tce",
                source=("children", 0, [3])))
    products = [(c, p) for c in items for p in c["products"]]
    if products:
        pcols = [Column(tr("col.code")), Column(tr("col.product")),
                 Column(tr("col.output"), kind="number", decimals=1), Column(tr("col.unit")),
                 Column(tr("col.total_tce"), "tce", "number", 3),
                 Column(tr("col.unit_consumption"), kind="number", decimals=3),
                 Column(tr("col.unit_consumption_unit"))]
        prow = [[c["node"], tr.name(p), p["output"], p["unit"], c["total_tce"],
                 p.get("kgce_per_unit"), p.get("intensity_unit") or f"kgce/{p['unit']}"]
                for c, p in products]
        s.add(Table("children_products", tr("table.children_products"), pcols, prow,
                    note=tr("note.unit_consumption")))
    return s


# -- structure -----------------------------------------------------------------------------
def _structure(data: dict, tr: _T) -> Section | None:
    carriers = data["carriers"]
    if not carriers:
        return None
    s = Section("structure", tr("section.structure"), sheet=tr("sheet.structure"))
    cols = [Column(tr("col.carrier")), Column(tr("col.use")),
            Column(tr("col.quantity"), kind="number", decimals=2), Column(tr("col.unit")),
            Column(tr("col.coefficient"), kind="number", decimals=4),
            Column(tr("col.coefficient_unit")),
            Column(tr("col.total_tce"), "tce", "number", 3),
            Column(tr("col.total_tce_equal_value"), "tce", "number", 3),
            Column(tr("col.share"), kind="percent", decimals=1)]
    rows = []
    for c in carriers:
        rows.append([tr.name(c), tr(f"use.{c['use']}"), c["quantity"], c["unit"],
                     c.get("kgce_per_unit"), f"kgce/{c['unit']}",
                     c["sign"] * c["tce"] if c["sign"] else c["tce"],
                     c["sign"] * c["tce_equal_value"] if c["sign"] else c["tce_equal_value"],
                     c["share"]])
    s.add(Table("carriers", tr("table.carriers"), cols, rows,
                total=[tr("total"), "", None, "", None, "", data["totals"]["total_tce"],
                       data["totals"]["total_tce_equal_value"], 1.0],
                note=tr("note.carriers")))
    st = data["structure"]
    if st:
        s.add(Table("structure", tr("table.structure"),
                    [Column(tr("col.carrier")), Column(tr("col.total_tce"), "tce", "number", 3),
                     Column(tr("col.share"), kind="percent", decimals=1)],
                    [[tr.name(x), x["tce"], x["share"]] for x in st]))
        s.add(Chart("structure", "pie", tr("chart.structure"), [tr.name(x) for x in st],
                    [Series(tr("col.total_tce"), [x["tce"] for x in st])], "tce",
                    source=("structure", 0, [1])))
    return s


# -- trend ---------------------------------------------------------------------------------
def _trend(data: dict, tr: _T, monthly: bool) -> Section | None:
    trend = data["trend"]
    points = trend["points"]
    if not points:
        return None
    names = {c["carrier"]: tr.name(c) for c in data["carriers"]}
    s = Section("trend", tr("section.trend_day" if monthly else "section.trend_month"),
                sheet=tr("sheet.trend"))
    if monthly:
        carriers = [c for c in dict.fromkeys(k for p in points for k in p["by_carrier"])]
        cols = [Column(tr("col.date")), Column(tr("col.total_tce"), "tce", "number", 3),
                Column(tr("col.total_tce_equal_value"), "tce", "number", 3)]
        cols += [Column(names.get(c, c), "tce", "number", 3) for c in carriers]
        cols.append(Column(tr("col.coverage"), kind="percent", decimals=1))
        rows = [[p["start"], p["total_tce"], p["total_tce_equal_value"]]
                + [p["by_carrier"].get(c) for c in carriers] + [p["coverage"]] for p in points]
        s.add(Table("trend", tr("table.trend_day"), cols, rows, note=tr("note.trend")))
        s.add(Chart("trend", "stacked_bar", tr("chart.trend_day"), [p["label"] for p in points],
                    [Series(names.get(c, c), [p["by_carrier"].get(c) for p in points])
                     for c in carriers], "tce",
                    source=("trend", 0, list(range(3, 3 + len(carriers))))))
    else:
        before = {date.fromisoformat(p["start"]).month: p for p in trend.get("year_before", [])}
        cols = [Column(tr("col.month")), Column(tr("col.total_tce"), "tce", "number", 3),
                Column(tr("col.year_before_tce"), "tce", "number", 3),
                Column(tr("col.yoy"), kind="percent", decimals=1),
                Column(tr("col.coverage"), kind="percent", decimals=1)]
        rows = []
        for p in points:
            b = before.get(date.fromisoformat(p["start"]).month, {})
            cur, base = p["total_tce"], b.get("total_tce")
            yoy = ((cur - base) / base if cur is not None and base and
                   b.get("coverage", 0) >= 0.999 else None)
            rows.append([p["label"], cur, base, yoy, p["coverage"]])
        s.add(Table("trend", tr("table.trend_month"), cols, rows, note=tr("note.trend")))
        s.add(Chart("trend", "bar", tr("chart.trend_month"), [r[0] for r in rows],
                    [Series(tr("series.this_year"), [r[1] for r in rows]),
                     Series(tr("series.year_before"), [r[2] for r in rows])], "tce",
                    source=("trend", 0, [1, 2])))
    return s


# -- intensity -----------------------------------------------------------------------------
def _intensity(data: dict, tr: _T) -> Section | None:
    it = data.get("intensity")
    if not it:
        return None
    s = Section("intensity", tr("section.intensity"), sheet=tr("sheet.intensity"))
    if it["products"]:
        cols = [Column(tr("col.product")), Column(tr("col.output"), kind="number", decimals=2),
                Column(tr("col.unit")), Column(tr("col.standard_coefficient"), kind="number",
                                               decimals=3),
                Column(tr("col.unit_consumption"), kind="number", decimals=3),
                Column(tr("col.unit_consumption_equal"), kind="number", decimals=3),
                Column(tr("col.unit_consumption_unit"))]
        rows = [[tr.name(p), p["output"], p["unit"], p["standard_coefficient"],
                 p.get("kgce_per_unit"), p.get("kgce_per_unit_equal_value"),
                 p["intensity_unit"]] for p in it["products"]]
        s.add(Table("products", tr("table.products"), cols, rows,
                    note=tr("note.unit_consumption")))
        std = it.get("standard_product")
        if std and std.get("kgce_per_standard_unit") is not None:
            s.add(Paragraph(tr("standard_product", value=f"{std['kgce_per_standard_unit']:,.3f}",
                               unit=std["unit"], output=f"{std['standard_output']:,.1f}")))
    econ = it["economics"]
    cols = [Column(tr("col.indicator")), Column(tr("col.value"), kind="number", decimals=4),
            Column(tr("col.unit"))]
    rows = []
    wan, per_wan = tr("unit.10k_cny"), tr("unit.tce_per_10k_cny")
    for key, value, unit in (
        ("output_value", _wan(econ.get("output_value_cny")), wan),
        ("added_value", _wan(econ.get("added_value_cny")), wan),
        ("tce_per_10k_cny_output", it.get("tce_per_10k_cny_output"), per_wan),
        ("tce_per_10k_cny_output_equal_value", it.get("tce_per_10k_cny_output_equal_value"),
         per_wan),
        ("tce_per_10k_cny_added", it.get("tce_per_10k_cny_added"), per_wan),
        ("tce_per_10k_cny_added_equal_value", it.get("tce_per_10k_cny_added_equal_value"),
         per_wan),
    ):
        rows.append([tr(f"figure.{key}"), value, unit])
    s.add(Table("economics", tr("table.economics"), cols, rows,
                note=tr("note.economics", basis=econ.get("price_basis", "current"))))
    return s


def _unit(tr: _T, unit: str) -> str:
    """A unit as written in the report's language (万元 for 10^4 CNY in Chinese)."""
    return {"10^4 CNY": tr("unit.10k_cny"), "tce/10^4 CNY": tr("unit.tce_per_10k_cny")}.get(
        unit, unit)


def _wan(cny: float | None) -> float | None:
    return None if cny is None else cny / 1e4


# -- appendix ------------------------------------------------------------------------------
def _appendix(data: dict, tr: _T) -> Section:
    lin = data["lineage"]
    s = Section("lineage", tr("section.lineage"), sheet=tr("sheet.lineage"))
    s.add(Paragraph(tr("lineage.method", method=lin["standard"],
                       kwh=lin["electricity_equivalent_kgce_per_kwh"])))
    ev = lin.get("equal_value")
    if ev:
        s.add(Paragraph(tr("lineage.equal_value", value=ev["kgce_per_kwh"], year=ev["year"],
                           source=ev["source"], status=tr(f"status.{ev['status']}")),
                        "warn" if ev["status"] == "unverified" else "body"))
        if ev.get("note"):
            s.add(Paragraph(ev["note"], "note"))
    cols = [Column(tr("col.carrier")), Column(tr("col.coefficient"), kind="number", decimals=4),
            Column(tr("col.coefficient_unit")), Column(tr("col.method")),
            Column(tr("col.source")), Column(tr("col.status")), Column(tr("col.meters")),
            Column(tr("col.evidence"))]
    names = {c["carrier"]: tr.name(c) for c in data["carriers"]}
    rows, marks = [], []
    for c in lin["coefficients"]:
        rows.append([names.get(c["carrier"], c["carrier"]), c["kgce_per_unit"],
                     f"kgce/{c['unit']}", tr(f"method.{c['method']}"), c["source"],
                     tr(f"status.{c['status']}"), c.get("meters") or "",
                     "; ".join(c.get("evidence", [])[:6])
                     + (" …" if len(c.get("evidence", [])) > 6 else "")])
        marks.append("warn" if c["status"] == "unverified" else None)
    s.add(Table("coefficients", tr("table.coefficients"), cols, rows, marks=marks,
                note=tr("note.unverified") if lin["unverified"] else None))
    bm = lin.get("boundary_meters", [])
    if bm:
        names = {c["carrier"]: tr.name(c) for c in data["carriers"]}
        s.add(Table("boundary", tr("table.boundary"),
                    [Column(tr("col.meter")), Column(tr("col.carrier")), Column(tr("col.role")),
                     Column(tr("col.level"), kind="integer")],
                    [[m["meter"], names.get(m["carrier"], m["carrier"]), tr(f"role.{m['role']}"),
                      m["level"]] for m in bm], note=tr("note.boundary")))
    for sk in data.get("skipped", []):
        s.add(Paragraph(tr("skipped", section=tr(f"section.{sk['section']}"),
                           reason=sk["reason"]), "warn"))
    return s


# -- optional sections ---------------------------------------------------------------------
def _cost(c: dict, tr: _T, data: dict) -> Section | None:
    s = Section("cost", tr("section.cost"), sheet=tr("sheet.cost"))
    tot, el = c["totals"], c["electricity"]
    s.add(Paragraph(tr("cost.summary", total=f"{tot['total_cny']:,.0f}",
                       kwh=f"{el['quantity_kwh'] or 0:,.0f}",
                       price=_num(el.get("all_in_price_cny_per_kwh"), 4),
                       peak=_num(el.get("peak_sharp_share_pct"), 1))))
    rows = [[tr(f"cost.{k}"), v, u] for k, v, u in (
        ("energy_cny", tot["energy_cny"], "CNY"),
        ("demand_charge_cny", tot.get("demand_charge_cny"), "CNY"),
        ("capacity_charge_cny", tot.get("capacity_charge_cny"), "CNY"),
        ("basic_charge_cny", tot.get("basic_charge_cny"), "CNY"),
        ("export_credit_cny", tot.get("export_credit_cny"), "CNY"),
        ("total_cny", tot["total_cny"], "CNY"),
        ("quantity_kwh", el.get("quantity_kwh"), "kWh"),
        ("average_price", el.get("average_price_cny_per_kwh"), "CNY/kWh"),
        ("all_in_price", el.get("all_in_price_cny_per_kwh"), "CNY/kWh"),
        ("peak_sharp_share", el.get("peak_sharp_share_pct"), "%"),
        ("demand_kw", el.get("demand_kw"), "kW"),
    )]
    s.add(Table("cost", tr("table.cost"), [Column(tr("col.indicator")),
                                          Column(tr("col.value"), kind="number", decimals=2),
                                          Column(tr("col.unit"))], rows,
                note=tr("cost.basis", basis=tr(f"cost.basis.{tot.get('basic_charge_basis')}"))))
    bands = el.get("bands") or []
    if bands:
        brows = [[tr(f"band.{b['band']}"), b["quantity"], _frac(b.get("share_pct")), b["cny"],
                  b.get("average_price_cny_per_kwh")] for b in bands]
        s.add(Table("bands", tr("table.bands"),
                    [Column(tr("col.band")), Column(tr("col.electricity"), "kWh", "number", 0),
                     Column(tr("col.share"), kind="percent", decimals=1),
                     Column(tr("col.cost"), "CNY", "number", 0),
                     Column(tr("col.price"), "CNY/kWh", "number", 4)], brows))
        s.add(Chart("bands", "pie", tr("chart.bands"), [r[0] for r in brows],
                    [Series(tr("col.electricity"), [r[1] for r in brows])], "kWh",
                    source=("bands", 0, [1])))
    carriers = c.get("carriers") or []
    names = {x["carrier"]: tr.name(x) for x in data["carriers"]}
    if carriers:
        s.add(Table("cost_carriers", tr("table.cost_carriers"),
                    [Column(tr("col.carrier")), Column(tr("col.status")),
                     Column(tr("col.quantity"), kind="number", decimals=2),
                     Column(tr("col.unit")), Column(tr("col.cost"), "CNY", "number", 0),
                     Column(tr("col.price"), kind="number", decimals=4),
                     Column(tr("col.no_price_meters"))],
                    [[names.get(x["carrier"], x["carrier"]), tr(f"cost.status.{x['status']}"),
                      x["priced_quantity"],
                      x["unit"], x["energy_cny"], x.get("average_price_cny_per_unit"),
                      ", ".join(x.get("no_price_meters") or [])] for x in carriers],
                    marks=["warn" if x["status"] != "priced" else None for x in carriers],
                    note=tr("cost.no_price_note") if c.get("no_price") else None))
    if c.get("capacity_note") and c["capacity_note"].get("en"):
        s.add(Paragraph(c["capacity_note"]["en" if tr.lang == "en" else "zh"], "note"))
    months = c.get("months") or []
    if months:
        mrows = [[m["month"], m["electricity_kwh"], m["energy_cny"], m["basic_charge_cny"],
                  m["total_cny"], _frac(m.get("peak_sharp_share_pct"))] for m in months]
        s.add(Table("cost_months", tr("table.cost_months"),
                    [Column(tr("col.month")), Column(tr("col.electricity"), "kWh", "number", 0),
                     Column(tr("cost.energy_cny"), "CNY", "number", 0),
                     Column(tr("cost.basic_charge_cny"), "CNY", "number", 0),
                     Column(tr("cost.total_cny"), "CNY", "number", 0),
                     Column(tr("cost.peak_sharp_share"), kind="percent", decimals=1)], mrows))
        s.add(Chart("cost_months", "bar", tr("chart.cost_months"), [r[0] for r in mrows],
                    [Series(tr("cost.total_cny"), [r[4] for r in mrows])], "CNY",
                    source=("cost_months", 0, [4])))
    return s


def _efficiency(e: dict, tr: _T, data: dict) -> Section | None:
    items = e.get("items") or []
    if not items:
        return None
    s = Section("efficiency", tr("section.efficiency"), sheet=tr("sheet.efficiency"))
    rows, marks = [], []
    for x in items:
        g = x.get("grade") or {}
        target = x.get("target") or {}
        rows.append([x["code"], tr.name(x), x["node"], x["kind_label"].get(tr.lang) or x["kind"],
                     x["value"], x["unit"], g.get("grade"), g.get("standard"),
                     target.get("value"), x["coverage"]])
        marks.append(None if x["complete"] else "warn")
    s.add(Table("efficiency", tr("table.efficiency"),
                [Column(tr("col.code")), Column(tr("col.name")), Column(tr("col.node")),
                 Column(tr("col.kind")), Column(tr("col.value"), kind="number", decimals=3),
                 Column(tr("col.unit")), Column(tr("col.grade")), Column(tr("col.standard")),
                 Column(tr("col.target"), kind="number", decimals=3),
                 Column(tr("col.coverage"), kind="percent", decimals=1)],
                rows, marks=marks, note=tr("note.efficiency")))
    for x in items:
        text = (x.get("summary") or {}).get(tr.lang)
        if text:
            s.add(Paragraph(text))
    return s


def _balance(b: dict, tr: _T, data: dict) -> Section | None:
    stages = b.get("stages") or []
    if not stages:
        return None
    s = Section("balance", tr("section.balance"), sheet=tr("sheet.balance"))
    statement = ((b.get("reconciliation") or {}).get("statement") or {})
    if statement:
        s.add(Paragraph(statement.get(tr.lang) or statement.get("zh-CN") or ""))
    cols = [Column(tr("col.stage")), Column(tr("col.supplied"), "tce", "number", 3),
            Column(tr("col.effective"), "tce", "number", 3),
            Column(tr("col.losses"), "tce", "number", 3),
            Column(tr("col.utilisation"), kind="percent", decimals=1)]
    rows = [[tr.name(x), x["supplied_tce"], x["effective_tce"], x["losses_tce"],
             x["utilisation"]] for x in stages]
    ov = b.get("overall") or {}
    s.add(Table("balance", tr("table.balance"), cols, rows,
                total=[tr("overall"), ov.get("supplied_tce"), ov.get("effective_tce"),
                       ov.get("losses_tce"), ov.get("utilisation")],
                note=tr("note.balance")))
    losses = [(tr.name(x), x["losses_tce"]) for x in stages if x.get("losses_tce")]
    units = b.get("conversion_units") or []
    if units:
        s.add(Table("conversion", tr("table.conversion"),
                    [Column(tr("col.code")), Column(tr("col.name"))] + cols[1:],
                    [[u["node"], tr.name(u), u["supplied_tce"], u["effective_tce"],
                      u["losses_tce"], u["utilisation"]] for u in units]))
    if losses:
        s.add(Chart("losses", "bar", tr("chart.losses"), [x[0] for x in losses],
                    [Series(tr("col.losses"), [x[1] for x in losses])], "tce"))
    failed = (b.get("checks") or {}).get("failed") or []
    s.add(Paragraph(tr("balance.checks", count=(b.get("checks") or {}).get("count", 0),
                       failed=len(failed)), "warn" if failed else "note"))
    for n in b.get("notes") or []:
        text = n.get("en") if tr.lang == "en" else n.get("zh")
        if text:
            s.add(Paragraph(text, "note"))
    return s


def _benchmarking(bm: dict, tr: _T, data: dict) -> Section | None:
    lines = bm.get("lines") or []
    if not lines and not bm.get("unlinked"):
        return None
    s = Section("benchmarking", tr("section.benchmarking"), sheet=tr("sheet.benchmarking"))
    rows, marks = [], []
    for x in lines:
        levels = [lv for lv in x.get("levels") or [] if lv.get("value") is not None]
        best = levels[0] if levels else {}
        gap = best.get("energy_gap") or {}
        reached = next((lv for lv in levels if lv["key"] == x.get("reached")), None)
        rows.append([
            x["node"], tr.name(x, "product_name_zh", "product_name_en"), x.get("document"),
            x["actual"], x["unit"],
            " / ".join(f"{tr.name(lv)} {lv['value']:g}" for lv in levels),
            tr.name(reached) if reached else (x.get(f"position_{'en' if tr.lang == 'en' else 'zh'}")
                                              or "—"),
            _frac(best.get("gap_pct")), gap.get("tce_per_year"),
            tr(f"status.{x.get('status')}")])
        marks.append("warn" if x.get("status") == "unverified" else None)
    if rows:
        s.add(Table("benchmarking", tr("table.benchmarking"),
                    [Column(tr("col.code")), Column(tr("col.product")),
                     Column(tr("col.document")),
                     Column(tr("col.actual"), kind="number", decimals=2), Column(tr("col.unit")),
                     Column(tr("col.levels")), Column(tr("col.reached")),
                     Column(tr("col.gap_to_best"), kind="percent", decimals=1),
                     Column(tr("col.energy_gap"), "tce/a", "number", 0),
                     Column(tr("col.status"))],
                    rows, marks=marks, note=tr("note.benchmarking")))
    for x in lines:
        action = x.get("action_en") if tr.lang == "en" else x.get("action_zh")
        position = x.get("position_en") if tr.lang == "en" else x.get("position_zh")
        if position or action:
            sep = "; " if tr.lang == "en" else "；"
            product = tr.name(x, "product_name_zh", "product_name_en")
            s.add(Paragraph(f"{x['node']} · {product} · {x.get('document') or x['benchmark']}: "
                            + sep.join(p for p in (position, action) if p)))
    if bm.get("unlinked"):
        s.add(Paragraph(tr("benchmarking.unlinked", items=", ".join(
            f"{u['node']}/{u['product']}" for u in bm["unlinked"])), "note"))
    return s


def _recommendations(rc: dict, tr: _T, data: dict) -> Section | None:
    ranked = rc.get("ranked") or []
    if not ranked and not rc.get("not_assessed"):
        return None
    s = Section("recommendations", tr("section.recommendations"),
                sheet=tr("sheet.recommendations"))
    en = tr.lang == "en"
    s.add(Paragraph(tr("recommendations.intro", days=data["period"].get("label"))))
    if ranked:
        tot = rc.get("totals") or {}
        s.add(Table("recommendations", tr("table.recommendations"),
                    [Column(tr("col.code")), Column(tr("col.measure")),
                     Column(tr("col.cny_per_year"), "CNY/a", "number", 0),
                     Column(tr("col.tce_per_year"), "tce/a", "number", 1),
                     Column(tr("col.tco2_per_year"), "tCO2/a", "number", 1),
                     Column(tr("col.investment"), "CNY", "number", 0),
                     Column(tr("col.payback"), "a", "number", 1)],
                    [[x["node"], x["title_en"] if en else x["title_zh"], x["cny_per_year"],
                      x["tce_per_year"], x["tco2_per_year"], x.get("investment_cny"),
                      x.get("payback_years")] for x in ranked],
                    total=[tr("total"), "", tot.get("cny_per_year"), tot.get("tce_per_year"),
                           tot.get("tco2_per_year"), None, None],
                    note=tr("note.recommendations")))
    for x in ranked:
        title = x["title_en"] if en else x["title_zh"]
        action = x["action_en"] if en else x["action_zh"]
        s.add(Paragraph(f"{x['node']} · {title}: {action}"))
        for step in x.get("steps") or []:
            label = step.get("label_en") if en else step.get("label_zh")
            value = step.get("value")
            shown = "—" if value is None else f"{value:,.4g}" if abs(value) < 100 \
                else f"{value:,.0f}"
            s.add(Paragraph(f"    {label}: {step.get('formula')} = {shown} {step.get('unit')}",
                            "note"))
        for a in x.get("assumptions") or []:
            s.add(Paragraph(tr("recommendations.assumption", name=a.get("name"),
                               value=f"{a.get('value'):g}" if isinstance(a.get("value"), float)
                               else a.get("value"), unit=a.get("unit"),
                               source=a.get("source"), status=a.get("status")), "note"))
    missing = rc.get("not_assessed") or []
    if missing:
        s.add(Paragraph(tr("recommendations.not_assessed"), "body"))
        for m in missing:
            s.add(Paragraph(f"{m['node']} · {m['code']}: "
                            f"{m.get('message') if en else m.get('message_zh')}", "note"))
    return s


def _num(value: float | None, decimals: int) -> str:
    return "—" if value is None else f"{value:,.{decimals}f}"


#: Builders of the optional sections: key → fn(section data, texts, report data) → Section.
OPTIONAL_SECTIONS: dict = {"cost": _cost, "balance": _balance, "benchmarking": _benchmarking,
                           "efficiency": _efficiency, "recommendations": _recommendations}
