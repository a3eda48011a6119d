"""The greenhouse gas emission report (温室气体排放报告) as a document, in zh-CN or en.

Pure: takes the report data of :mod:`nengtan.services.ghg_report` (an enterprise inventory
version, or a park inventory) and a language, returns a :class:`~nengtan.reports.model.Report`
that the Excel and PDF renderers draw.  The sections follow the MEE enterprise report
(《企业温室气体排放核算方法与报告指南》 report template / 排放报告):

一、基本信息 (reporting entity, period, methodology, GWP set, inventory version and lock);
二、核算边界 (organisational and operational boundary, facilities; the park: tenants, public
facilities, the intra-park transfer rule); 三、排放源 (sources with kind, scope, gas, method);
四、活动数据 (activity data per source with where it comes from: meters, approved manual
entries, lab analyses, entered values); 五、排放因子 (every parameter with value, unit, document
and status; unverified values marked); 六、排放量 (totals by scope, location- and market-based,
by kind, gas and facility; the park: the seed 001 terms and the provincial sector view);
七、数据质量管理 (coverage, manual entries and evidence, unverified values, ledger lock).

Texts come from the ``report.ghg.*`` keys (``locales/<lang>/ghg.json``).
"""

from __future__ import annotations

from datetime import datetime
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

_ZH_NUMERALS = "一二三四五六七八九十"


class _T:
    def __init__(self, lang: str):
        self.lang = lang

    def __call__(self, key: str, **params) -> str:
        return t(f"report.ghg.{key}", self.lang, **params)

    def name(self, obj: dict | None, zh: str = "name_zh", en: str = "name_en") -> str:
        if not obj:
            return ""
        if self.lang == "en":
            return obj.get(en) or obj.get(zh) or obj.get("code") or ""
        return obj.get(zh) or obj.get(en) or obj.get("code") or ""

    def opt(self, prefix: str, value) -> str:
        """A catalogue text for a code, the code itself when the catalogue has none."""
        if value is None or value == "":
            return ""
        key = f"report.ghg.{prefix}.{value}"
        text = t(key, self.lang)
        return str(value) if text == key else text


def filename(data: dict, lang: str) -> str:
    """``nengtan-ghg-report-CEM-2025-v2-zh-CN`` (ASCII: codes and labels only)."""
    code = data["subject"]["code"]
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in code)
    label = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in data["period"]["label"])
    ver = f"-v{data['inventory']['version']}" if data.get("inventory") and \
        data["inventory"].get("version") else ""
    return f"nengtan-ghg-report-{safe}-{label}{ver}-{lang}"


def _numbered(k: int, title: str, lang: str) -> str:
    if lang == "en":
        return f"{k}. {title}"
    return f"{_ZH_NUMERALS[k - 1] if k <= 10 else k}、{title}"


def compose(data: dict, lang: str | None = None) -> Report:
    """The report document of ``data`` (enterprise or park) in ``lang``."""
    lang = normalise_language(lang)
    tr = _T(lang)
    park = data["kind"] == "park"
    subject = data["subject"]
    name = tr.name(subject)
    period = data["period"]
    generated = datetime.fromisoformat(data["generated_at"]).astimezone(
        ZoneInfo(data.get("timezone") or "Asia/Shanghai"))
    inv = data.get("inventory") or {}
    cover = [
        (tr("cover.entity"), f"{subject['code']}  {name}"),
        (tr("cover.period"), f"{period['start']} – {period['end_inclusive']}"),
        (tr("cover.methodology"), _methodology_text(data, tr)),
        (tr("cover.gwp"), data["gwp_set"]),
    ]
    if inv.get("version"):
        cover.append((tr("cover.version"), tr(
            "cover.version_value", code=inv.get("code") or inv.get("id"), version=inv["version"],
            status=tr.opt("version_status", inv.get("status")))))
    if inv.get("digest"):
        cover.append((tr("cover.digest"), inv["digest"]))
    cover += [(tr("cover.generated"), f"{generated:%Y-%m-%d %H:%M} ({data.get('timezone')})"),
              (tr("cover.software"), f"nengtan {data['software_version']}")]
    title = tr("title_park" if park else "title", entity=name)
    report = Report(title=title, subtitle=tr("subtitle", period=period["label"]), lang=lang,
                    cover=cover, footer=tr("footer", entity=subject["code"],
                                           period=period["label"],
                                           version=data["software_version"]),
                    filename=filename(data, lang), page_label=tr("page"),
                    cover_sheet=tr("cover_sheet"))
    tot = data["totals"]
    report.highlights = [Highlight(tr("figure.total"), tot["total_tco2e"], "tCO2e", 1)]
    if not park:
        report.highlights += [
            Highlight(tr("figure.scope1"), tot["scope1_tco2e"], "tCO2e", 1),
            Highlight(tr("figure.scope2"), tot["scope2_tco2e"], "tCO2e", 1),
            Highlight(tr("figure.total_market"), tot.get("total_market_tco2e"), "tCO2e", 1)]
    else:
        for term in data["terms"]:
            if term["term"] in ("enterprises", "energy", "public"):
                report.highlights.append(Highlight(term["symbol"], term["tco2e"], "tCO2e", 1))
    sections = [_basic(data, tr), _boundary(data, tr), _sources(data, tr),
                _activity(data, tr), _factors(data, tr), _emissions(data, tr),
                _quality(data, tr)]
    report.sections = [s for s in sections if s is not None and s.blocks]
    for k, s in enumerate(report.sections, start=1):
        s.title = _numbered(k, s.title, lang)
    lineage = _lineage(data, tr)
    if lineage.blocks:
        report.sections.append(lineage)
    return report


def _methodology_text(data: dict, tr: _T) -> str:
    m = data.get("methodology") or {}
    title = m.get("title_en") if tr.lang == "en" else m.get("title_zh")
    parts = [p for p in (m.get("document"), title) if p]
    text = " ".join(parts) if parts else (m.get("id") or "")
    if m.get("version"):
        text += f" ({m.get('id')} {m['version']})"
    return text


# -- 一、基本信息 ------------------------------------------------------------------------------
def _basic(data: dict, tr: _T) -> Section:
    s = Section("basic", tr("section.basic"), sheet=tr("sheet.basic"))
    subj, inv = data["subject"], data.get("inventory") or {}
    rows = [[tr("basic.name"), tr.name(subj)], [tr("basic.code"), subj["code"]],
            [tr("basic.kind"), tr.opt("node_kind", subj.get("kind"))]]
    if subj.get("credit_code"):
        rows.append([tr("basic.credit_code"), subj["credit_code"]])
    if subj.get("industry_code"):
        rows.append([tr("basic.industry"), f"{subj['industry_code']}"
                     + (f" ({tr('basic.section')} {subj['industry_section']})"
                        if subj.get("industry_section") else "")])
    for key in ("address", "region", "description"):
        if subj.get(key):
            rows.append([tr(f"basic.{key}"), subj[key]])
    p = data["period"]
    rows.append([tr("basic.period"), f"{p['start']} – {p['end_inclusive']} ({p['label']})"])
    if inv.get("base_year"):
        rows.append([tr("basic.base_year"), str(inv["base_year"])])
    rows.append([tr("basic.methodology"), _methodology_text(data, tr)])
    rows.append([tr("basic.gwp"), tr("basic.gwp_value", set=data["gwp_set"])])
    if inv.get("version"):
        rows.append([tr("basic.inventory"), tr("cover.version_value",
                                               code=inv.get("code") or inv.get("id"),
                                               version=inv["version"],
                                               status=tr.opt("version_status",
                                                             inv.get("status")))])
        if inv.get("locked_at"):
            rows.append([tr("basic.locked"), f"{inv['locked_at']} ({inv.get('locked_by') or ''})"])
        if inv.get("digest"):
            rows.append([tr("basic.digest"), inv["digest"]])
    s.add(Table("basic", tr("table.basic"), [Column(tr("col.item")), Column(tr("col.content"))],
                rows))
    return s


# -- 二、核算边界 ------------------------------------------------------------------------------
def _boundary(data: dict, tr: _T) -> Section:
    s = Section("boundary", tr("section.boundary"), sheet=tr("sheet.boundary"))
    b = data["boundary"]
    if data["kind"] == "park":
        s.add(Paragraph(tr("boundary.park", park=tr.name(data["subject"]),
                           tenants=len(b.get("tenants", [])),
                           facilities=len(b.get("facilities", [])))))
        s.add(Paragraph(tr("boundary.transfer_rule"), "note"))
        if b.get("tenants"):
            cols = [Column(tr("col.code")), Column(tr("col.name")), Column(tr("col.industry")),
                    Column(tr("col.inventory_origin")),
                    Column(tr("col.tco2e"), "tCO2e", "number", 2)]
            s.add(Table("tenants", tr("table.tenants"), cols, [
                [x["node"], tr.name(x), x.get("industry_code") or "",
                 tr.opt("origin", x["origin"]) + (f" #{x['inventory_id']} v{x['version']}"
                                                  if x.get("inventory_id") else ""),
                 x["total_tco2e"]] for x in b["tenants"]],
                marks=[None if x["origin"] == "locked" else "warn" for x in b["tenants"]],
                note=tr("note.tenants")))
        if b.get("facilities"):
            cols = [Column(tr("col.code")), Column(tr("col.name")), Column(tr("col.role")),
                    Column(tr("col.supplies")), Column(tr("col.meters"))]
            s.add(Table("facilities", tr("table.public_facilities"), cols, [
                [f["node"], tr.name(f), tr("facility.end_use" if f["end_use"] else
                                           "facility.supply"),
                 ", ".join(f.get("supplies", [])), ", ".join(f.get("meters", [])[:12])]
                for f in b["facilities"]], note=tr("note.facilities")))
        return s
    s.add(Paragraph(tr("boundary.organisational", entity=tr.name(data["subject"]),
                       code=data["subject"]["code"])))
    if b.get("operational"):
        s.add(Paragraph(tr("boundary.operational", text=b["operational"])))
    if b.get("facilities"):
        cols = [Column(tr("col.code")), Column(tr("col.name")), Column(tr("col.kind")),
                Column(tr("col.sources"), kind="integer"),
                Column(tr("col.tco2e"), "tCO2e", "number", 2)]
        s.add(Table("facilities", tr("table.facilities"), cols, [
            [f["code"], tr.name(f), tr.opt("node_kind", f.get("kind")), f.get("sources"),
             f.get("tco2e")] for f in b["facilities"]]))
    return s


# -- 三、排放源 --------------------------------------------------------------------------------
def _sources(data: dict, tr: _T) -> Section:
    s = Section("sources", tr("section.sources"), sheet=tr("sheet.sources"))
    if data["kind"] == "park":
        s.add(Paragraph(tr("sources.park_formula")))
        cols = [Column(tr("col.symbol")), Column(tr("col.term")), Column(tr("col.sign")),
                Column(tr("col.parts"), kind="integer"),
                Column(tr("col.tco2e"), "tCO2e", "number", 2)]
        s.add(Table("terms", tr("table.terms"), cols, [
            [x["symbol"], tr.opt("term", x["term"]), "+" if x["sign"] > 0 else "−",
             len(x["parts"]), x["tco2e"]] for x in data["terms"]],
            total=[tr("total"), "", "", None, data["totals"]["total_tco2e"]],
            note=tr("note.terms")))
    rows = [[x["code"], tr.name(x), tr.opt("kind", x["kind"]), x.get("facility") or "",
             x.get("gas") or "", tr.opt("method", x.get("method")),
             tr.opt("scope", x.get("scope"))] for x in data["sources"]]
    if rows:
        cols = [Column(tr("col.source")), Column(tr("col.name")), Column(tr("col.kind")),
                Column(tr("col.facility")), Column(tr("col.gas")), Column(tr("col.method")),
                Column(tr("col.scope"))]
        s.add(Table("sources", tr("table.sources"), cols, rows))
    return s


# -- 四、活动数据 ------------------------------------------------------------------------------
def _activity(data: dict, tr: _T) -> Section:
    s = Section("activity", tr("section.activity"), sheet=tr("sheet.activity"))
    cols = [Column(tr("col.source")), Column(tr("col.quantity"), kind="number", decimals=3),
            Column(tr("col.unit")), Column(tr("col.data_source")),
            Column(tr("col.coverage"), kind="percent", decimals=1)]
    rows, marks = [], []
    for x in data["sources"]:
        rows.append([f"{x['code']} {tr.name(x)}".strip(), x.get("quantity"), x.get("unit") or "",
                     x.get("data_source") or "", x.get("coverage")])
        cov = x.get("coverage")
        marks.append("warn" if cov is not None and cov < 0.999 else None)
    if rows:
        s.add(Table("activity", tr("table.activity"), cols, rows, marks=marks,
                    note=tr("note.activity")))
    links = data.get("activity_links") or []
    if links:
        lcols = [Column(tr("col.source")), Column(tr("col.link_kind")),
                 Column(tr("col.reference")), Column(tr("col.quantity"), kind="number",
                                                     decimals=3),
                 Column(tr("col.unit")), Column(tr("col.coverage"), kind="percent", decimals=1),
                 Column(tr("col.evidence"))]
        s.add(Table("links", tr("table.links"), lcols, [
            [x["source"], tr.opt("link", x["kind"]), x.get("reference") or "", x.get("quantity"),
             x.get("unit") or "", x.get("coverage"), x.get("evidence") or ""] for x in links],
            note=tr("note.links")))
    if data["kind"] == "park" and data.get("items"):
        icols = [Column(tr("col.code")), Column(tr("col.name")), Column(tr("col.term")),
                 Column(tr("col.period")), Column(tr("col.quantity"), kind="number", decimals=3),
                 Column(tr("col.unit")), Column(tr("col.share"), kind="percent", decimals=1),
                 Column(tr("col.data_source")), Column(tr("col.status"))]
        s.add(Table("items", tr("table.items"), icols, [
            [i["code"], tr.name(i), tr.opt("term", i["term"]),
             f"{i['period_start']} – {i['period_end']}",
             i["quantity"] if i.get("quantity") is not None else i.get("tco2e"),
             i.get("unit") if i.get("quantity") is not None else "tCO2e", i["share"],
             i["source"], tr.opt("status", i["status"])] for i in data["items"]],
            marks=[None if i["status"] in ("verified", "measured") else "warn"
                   for i in data["items"]], note=tr("note.items")))
    return s


# -- 五、排放因子 ------------------------------------------------------------------------------
def _factors(data: dict, tr: _T) -> Section:
    s = Section("factors", tr("section.factors"), sheet=tr("sheet.factors"))
    params = data.get("parameters") or []
    if params:
        cols = [Column(tr("col.source")), Column(tr("col.parameter")),
                Column(tr("col.value"), kind="number", decimals=6), Column(tr("col.unit")),
                Column(tr("col.origin")), Column(tr("col.document")), Column(tr("col.status"))]
        s.add(Table("parameters", tr("table.parameters"), cols, [
            [p["source"], tr.opt("parameter", p["parameter"]), p.get("value"), p.get("unit") or "",
             tr.opt("origin_param", p.get("origin")), p.get("document") or "",
             tr.opt("status", p.get("status"))] for p in params],
            marks=[_warn_status(p.get("status")) for p in params], note=tr("note.parameters")))
    factors = data.get("factors") or []
    if factors:
        cols = [Column(tr("col.factor_id")), Column(tr("col.parameter")), Column(tr("col.subject")),
                Column(tr("col.value"), kind="number", decimals=6), Column(tr("col.unit")),
                Column(tr("col.document")), Column(tr("col.year")), Column(tr("col.region")),
                Column(tr("col.status"))]
        s.add(Table("factors", tr("table.factors"), cols, [
            [f["factor_id"], tr.opt("parameter", f.get("parameter")), f.get("subject") or "",
             f.get("value"), f.get("unit") or "",
             " ".join(str(x) for x in (f.get("document"), f.get("clause")) if x),
             str(f["year"]) if f.get("year") else "", f.get("region") or "",
             tr.opt("status", f.get("status"))] for f in factors],
            marks=[_warn_status(f.get("status")) for f in factors],
            note=tr("note.unverified") if any(f.get("status") == "unverified"
                                              for f in factors) else None))
    return s


def _warn_status(status: str | None) -> str | None:
    return "warn" if status in ("unverified", "estimated", "demo") else None


# -- 六、排放量 --------------------------------------------------------------------------------
def _emissions(data: dict, tr: _T) -> Section:
    s = Section("emissions", tr("section.emissions"), sheet=tr("sheet.emissions"))
    tot = data["totals"]
    if data["kind"] == "park":
        s.add(Paragraph(tr("emissions.park_summary", total=f"{tot['total_tco2e']:,.2f}")))
        parts_cols = [Column(tr("col.term")), Column(tr("col.part")), Column(tr("col.node")),
                      Column(tr("col.sector")), Column(tr("col.tco2e"), "tCO2e", "number", 3)]
        rows = []
        for term in data["terms"]:
            for p in term["parts"]:
                rows.append([term["symbol"], p["label_en"] if tr.lang == "en" else p["label_zh"],
                             p.get("node") or "", tr.opt("sector", p["sector"]), p["tco2e"]])
        s.add(Table("parts", tr("table.parts"), parts_cols, rows, note=tr("note.parts")))
        sec = data["sectors"]
        cols = [Column(tr("col.group")), Column(tr("col.sector")),
                Column(tr("col.tco2e"), "tCO2e", "number", 2)]
        srows = [[tr.opt("group", x["group"]), tr.opt("sector", x["sector"]), x["tco2e"]]
                 for x in sec if x["parts"]]
        s.add(Table("sectors", tr("table.sectors"), cols, srows,
                    total=[tr("total"), "", tot["total_tco2e"]], note=tr("note.sectors")))
        pos = [x for x in data["terms"] if x["tco2e"] * x["sign"] > 0]
        if pos:
            s.add(Chart("terms", "bar", tr("chart.terms"), [x["symbol"] for x in data["terms"]],
                        [Series(tr("col.tco2e"), [x["sign"] * x["tco2e"] for x in data["terms"]])],
                        "tCO2e"))
        if data.get("transfers"):
            tcols = [Column(tr("col.meter")), Column(tr("col.energy")), Column(tr("col.supplier")),
                     Column(tr("col.receiver")), Column(tr("col.quantity"), kind="number",
                                                        decimals=1),
                     Column(tr("col.unit")), Column(tr("col.receiver_counts")),
                     Column(tr("col.supplier_deducts")), Column(tr("col.correction"))]
            s.add(Table("transfers", tr("table.transfers"), tcols, [
                [x["meter"], tr.opt("energy", x["energy"]), x["supplier"], x["receiver"],
                 x["quantity"], x["unit"], tr("yes" if x["receiver_counts"] else "no"),
                 tr("yes" if x["supplier_deducts"] else "no"),
                 {-1: "−", 1: "+", 0: ""}[x["correction_sign"]]] for x in data["transfers"]],
                marks=[None if x["correction_sign"] == 0 else "warn" for x in data["transfers"]],
                note=tr("note.transfers")))
        return s
    s.add(Paragraph(tr("emissions.summary", total=f"{tot['total_tco2e']:,.2f}",
                       s1=f"{tot['scope1_tco2e']:,.2f}", s2=f"{tot['scope2_tco2e']:,.2f}",
                       market=f"{tot.get('total_market_tco2e') or 0:,.2f}")))
    cols = [Column(tr("col.indicator")), Column(tr("col.tco2e"), "tCO2e", "number", 3)]
    s.add(Table("totals", tr("table.totals"), cols, [
        [tr("figure.scope1"), tot["scope1_tco2e"]],
        [tr("figure.scope2"), tot["scope2_tco2e"]],
        [tr("figure.total"), tot["total_tco2e"]],
        [tr("figure.scope2_market"), tot.get("scope2_market_tco2e")],
        [tr("figure.total_market"), tot.get("total_market_tco2e")]], note=tr("note.totals")))
    cols = [Column(tr("col.source")), Column(tr("col.name")), Column(tr("col.kind")),
            Column(tr("col.gas")), Column(tr("col.emission_t"), "t", "number", 3),
            Column(tr("col.gwp"), kind="number", decimals=0),
            Column(tr("col.tco2e"), "tCO2e", "number", 3),
            Column(tr("col.tco2e_market"), "tCO2e", "number", 3)]
    s.add(Table("by_source", tr("table.by_source"), cols, [
        [x["code"], tr.name(x), tr.opt("kind", x["kind"]), x.get("gas") or "",
         x.get("emission_t"), x.get("gwp"), x["tco2e"], x.get("tco2e_market")]
        for x in data["sources"]], total=[tr("total"), "", "", "", None, None,
                                          tot["total_tco2e"], tot.get("total_market_tco2e")]))
    by_kind = data.get("by_kind") or []
    if by_kind:
        s.add(Table("by_kind", tr("table.by_kind"),
                    [Column(tr("col.kind")), Column(tr("col.tco2e"), "tCO2e", "number", 3)],
                    [[tr.opt("kind", x["kind"]), x["tco2e"]] for x in by_kind]))
        positive = [x for x in by_kind if x["tco2e"] > 0]
        if positive:
            s.add(Chart("by_kind", "pie", tr("chart.by_kind"),
                        [tr.opt("kind", x["kind"]) for x in positive],
                        [Series(tr("col.tco2e"), [x["tco2e"] for x in positive])], "tCO2e"))
    by_gas = data.get("by_gas") or []
    if by_gas:
        s.add(Table("by_gas", tr("table.by_gas"),
                    [Column(tr("col.gas")), Column(tr("col.emission_t"), "t", "number", 3),
                     Column(tr("col.tco2e"), "tCO2e", "number", 3)],
                    [[x["gas"], x.get("emission_t"), x["tco2e"]] for x in by_gas]))
    by_fac = data.get("by_facility") or []
    if by_fac:
        s.add(Table("by_facility", tr("table.by_facility"),
                    [Column(tr("col.facility")), Column(tr("col.tco2e"), "tCO2e", "number", 3)],
                    [[x.get("facility") or tr("none"), x["tco2e"]] for x in by_fac]))
    return s


# -- 七、数据质量管理 ----------------------------------------------------------------------------
def _quality(data: dict, tr: _T) -> Section:
    s = Section("quality", tr("section.quality"), sheet=tr("sheet.quality"))
    q = data.get("quality") or {}
    if q.get("coverage") is not None:
        s.add(Paragraph(tr("quality.coverage", pct=f"{q['coverage'] * 100:.1f}")))
    for text_key in ("quality.metering", "quality.review", "quality.factors", "quality.ledger_rule"):
        s.add(Paragraph(tr(text_key)))
    unverified = q.get("unverified") or []
    if unverified:
        s.add(Paragraph(tr("quality.unverified", n=len(unverified),
                           items=", ".join(unverified[:12])), "warn"))
    incomplete = q.get("incomplete") or []
    if incomplete:
        s.add(Table("incomplete", tr("table.incomplete"),
                    [Column(tr("col.reference")), Column(tr("col.coverage"), kind="percent",
                                                         decimals=1)],
                    [[x["reference"], x["coverage"]] for x in incomplete],
                    marks=["warn"] * len(incomplete)))
    entries = q.get("manual_entries") or []
    if entries:
        s.add(Table("entries", tr("table.manual_entries"),
                    [Column(tr("col.entry")), Column(tr("col.source")), Column(tr("col.entered_by")),
                     Column(tr("col.reviewed_by")), Column(tr("col.reviewed_at")),
                     Column(tr("col.evidence"), kind="integer")],
                    [[f"#{e['manual_entry']} v{e.get('version')}", e.get("source") or "",
                      e.get("entered_by") or "", e.get("reviewed_by") or "",
                      e.get("reviewed_at") or "", len(e.get("evidence") or [])]
                     for e in entries]))
    evidence = q.get("evidence") or []
    if evidence:
        s.add(Table("evidence", tr("table.evidence"),
                    [Column(tr("col.filename")), Column(tr("col.sha256")),
                     Column(tr("col.uploaded_by")), Column(tr("col.uploaded_at"))],
                    [[e.get("filename") or "", e["sha256"], e.get("uploaded_by") or "",
                      e.get("uploaded_at") or ""] for e in evidence], note=tr("note.evidence")))
    ledger = q.get("ledger")
    if ledger and ledger.get("tree_size"):
        s.add(Paragraph(tr("quality.ledger", entries=ledger.get("entries", "—"),
                           size=ledger.get("tree_size", "—"),
                           root=ledger.get("root_hash", "—"))))
    for w in q.get("warnings") or []:
        s.add(Paragraph(w if isinstance(w, str) else _warning_text(w, tr), "warn"))
    return s


def _warning_text(w: dict, tr: _T) -> str:
    own = w.get("message_zh") if tr.lang != "en" else w.get("message")
    if own:
        return own
    rule = w.get("rule", "")
    params = {k: v for k, v in w.items() if k != "rule"}
    text = t(rule if "." in rule else f"report.ghg.warn.{rule}", tr.lang, **params)
    if text in (rule, f"report.ghg.warn.{rule}"):
        return f"{rule}: " + ", ".join(f"{k}={v}" for k, v in params.items())
    return text


# -- appendix: formulas ----------------------------------------------------------------------
def _lineage(data: dict, tr: _T) -> Section:
    s = Section("lineage", tr("section.lineage"), sheet=tr("sheet.lineage"))
    rows = [[x["code"], x.get("formula") or ""] for x in data["sources"] if x.get("formula")]
    if rows:
        s.add(Paragraph(tr("lineage.intro"), "note"))
        s.add(Table("formulas", tr("table.formulas"),
                    [Column(tr("col.source")), Column(tr("col.formula"))], rows))
    return s
