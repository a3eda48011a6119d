"""Browser tests of the energy pages: query (drill-down, trace), totals and intensity, cost and
structure, energy flow (Sankey), benchmarking, recommendations and report downloads — each in
zh-CN and en, as the park manager (and with a narrower or a different role where it matters).

Figures shown are checked against the API's own answers, fetched with the same session, so a
page that shows a wrong number, or nothing, fails.  Screenshots (``energy-query-zh.png``,
``sankey-zh.png`` ...) go to ``$NENGTAN_SCREENSHOT_DIR``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest

from nengtan import i18n
from nengtan.web import pages as registry
from nengtan.web.pages_energy import PAGES

from .conftest import PHONE, assert_clean, login, new_page, screenshot_dir, shot, visit

LANGS = [("zh-CN", "zh"), ("en", "en")]
WEB = Path(registry.__file__).parent
TZ = ZoneInfo("Asia/Shanghai")  # the browser context's time zone and the demo park's
SLUGS = ("energy_query", "energy_totals", "energy_analysis", "energy_flow", "benchmarking",
         "recommendations", "reports")


def last_month() -> str:
    """The last whole month ("YYYY-MM"), the pages' default period: the demo park has data up
    to yesterday, so this month is complete whenever the tests run."""
    today = datetime.now(TZ).date()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


MONTH = last_month()
YEAR = MONTH[:4]  # the year of the last whole month: in the demo (running or last year)


def api(page, path: str, **query):
    """GET an API path with the page's session (the same rights as the page's user)."""
    response = page.request.get(path, params=query or None)
    assert response.ok, f"{path} {query}: HTTP {response.status}"
    return response.json()


def number(text: str) -> float:
    """A number as a page shows it ("14,061 tce", "+2.83 %", "−1.78 %") → float."""
    cleaned = re.sub(r"[^0-9.\-]", "", text.replace("−", "-").split("\n")[0])
    return float(cleaned)


def param(page, name: str) -> str:
    """A query parameter of the page's current URL (the page keeps its state there)."""
    match = re.search(rf"[?&]{name}=([^&#]*)", page.url)
    assert match, f"no {name} in {page.url}"
    return unquote(match.group(1))


def full_shot(page, name: str) -> None:
    """A whole-page screenshot taken from the top (the sticky header stays where it belongs)."""
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, name, full_page=True)


def kpi(page, key: str) -> str:
    return page.locator(f'#ne-kpis [data-key="{key}"] .nt-kpi-value').inner_text()


# -- without a browser ----------------------------------------------------------------------------
def test_pages_are_registered_with_the_energy_permission():
    mine = {p.slug: p for p in registry.registry() if p.slug in SLUGS}
    assert set(mine) == set(SLUGS)
    assert all(p.perm == "energy.read" and p.group == "energy" for p in PAGES)
    assert mine["reports"].path == "/reports"
    assert all(p.path.startswith("/energy/") for p in PAGES if p.slug != "reports")
    for p in PAGES:
        assert (WEB / "templates" / p.template).exists()
        assert (WEB / "static" / "js" / "pages" / f"{p.slug}.js").exists()


def test_every_text_key_used_exists_in_both_languages():
    """Each web.energy.* key named in the templates and scripts has a zh-CN and an en text
    (keys built at run time are checked by their fixed families below)."""
    files = [WEB / "static" / "js" / "energy.js", WEB / "pages_energy.py"]
    files += [WEB / "templates" / "pages" / f"{s}.html" for s in SLUGS]
    files += [WEB / "static" / "js" / "pages" / f"{s}.js" for s in SLUGS]
    used = set()
    for f in files:
        used |= {k for k in re.findall(r"web\.energy\.[A-Za-z0-9_.]+", f.read_text("utf-8"))
                 if not k.endswith(".")}
    families = {"web.energy.role.": ("in", "out", "generated", "internal"),
                "web.energy.kind.": ("park", "enterprise", "site", "facility", "workshop",
                                     "process", "line", "equipment"),
                "web.energy.band.": ("sharp", "peak", "flat", "valley", "deep_valley"),
                "web.energy.reason.": ("no_data", "base_no_data", "current_incomplete",
                                       "base_incomplete", "base_zero"),
                "web.energy.query.grain.": ("hour", "day", "month", "year", "custom"),
                "web.energy.flow.kind.": ("purchase", "flow", "export", "primary", "loss",
                                          "conversion_loss", "imbalance")}
    for prefix, names in families.items():
        used |= {prefix + n for n in names}
    for lang in ("zh-CN", "en"):
        catalogue = i18n.catalogue(lang)
        missing = sorted(k for k in used if k not in catalogue)
        assert not missing, f"{lang}: {missing}"
    zh = json.loads((WEB.parent / "locales" / "zh-CN" / "web_energy.json").read_text("utf-8"))
    en = json.loads((WEB.parent / "locales" / "en" / "web_energy.json").read_text("utf-8"))
    assert set(zh) == set(en)
    assert all(k.startswith("web.energy.") for k in zh)
    assert i18n.t("web.energy.query.title", "zh-CN") == "能耗查询"


# -- 能耗查询 energy query -------------------------------------------------------------------------
@pytest.mark.parametrize("lang,tag", LANGS)
def test_energy_query_shows_the_figures_of_the_api(page, lang, tag):
    login(page, "park_admin", lang=lang)
    visit(page, "/energy/query?node=QLP")
    assert page.locator("html").get_attribute("lang") == lang
    period = param(page, "period")
    assert period == MONTH
    data = api(page, "/api/energy/query", node="QLP", period=period, grain="day",
               compare="yoy,mom")
    total = data["total"]
    assert number(kpi(page, "tce")) == pytest.approx(total["tce"], abs=0.6)
    assert number(kpi(page, "tce_equal_value")) == pytest.approx(total["tce_equal_value"], abs=0.6)
    summary = data["summary"][lang]
    assert page.locator("#ne-summary").inner_text() == summary
    # one bar group per day of the period, and a row per carrier with its quantity
    assert page.locator("#ne-chart .main-svg").count() > 0
    page.locator("#ne-series-details summary").click()
    assert page.locator("#ne-series tbody tr").count() == len(data["series"])
    carriers = page.locator("#ne-carriers tbody tr")
    assert carriers.count() == len(total["carriers"])
    # a comparison that cannot be computed shows the API's reason, never a number
    yoy = total["yoy"]
    if yoy["change_pct"] is None:
        assert yoy["reason_text"][lang] in kpi(page, "yoy")
    else:
        assert number(kpi(page, "yoy")) == pytest.approx(yoy["change_pct"], abs=0.006)
    # drill-down: every child of the park plus the explicit remainder
    drill = api(page, "/api/energy/drilldown", node="QLP", period=period, compare="yoy,mom")
    assert page.locator("#ne-children a.ne-drill").count() == len(drill["children"])
    remainder = page.locator("#ne-children tr.ne-row-remainder")
    assert remainder.count() == 1
    assert drill["unattributed"]["label"][lang] in remainder.inner_text()
    # real-time panel: one row per boundary meter
    realtime = api(page, "/api/energy/realtime", node="QLP")
    assert page.locator("#ne-realtime tbody tr").count() == len(realtime["meters"])
    full_shot(page, f"energy-query-{tag}.png")


def test_energy_query_drill_down_and_trace(page):
    login(page, "park_admin")
    visit(page, f"/energy/query?node=QLP&period={MONTH}&grain=month")
    cem = page.locator('#ne-children a.ne-drill[data-node="CEM"]')
    with page.expect_navigation():
        cem.click()
    page.wait_for_selector('body[data-ready="1"]')
    assert_clean(page)
    assert param(page, "node") == "CEM" and param(page, "period") == MONTH
    assert param(page, "grain") == "month"
    # the path back up, and CEM's own figure (equal to its energy totals for a month)
    assert page.locator('#ne-crumbs a[href*="node=QLP"]').count() == 1
    totals = api(page, "/api/energy/totals", node="CEM", period=MONTH)
    assert number(kpi(page, "tce")) == pytest.approx(totals["total_tce"], abs=0.6)
    assert page.locator("#ne-node").input_value() == "CEM"
    # trace the figure: the meters counted and the arithmetic per carrier
    page.locator("#ne-kpis .ne-kpi-action button").click()
    page.wait_for_selector('#ne-trace[data-ready="1"]')
    trace = api(page, "/api/energy/trace", node="CEM", period=MONTH)
    rows = page.locator("#ne-trace-body table").first.locator("tbody tr")
    assert rows.count() == len(trace["meters"])
    formulas = page.locator("#ne-trace-body .ne-formula").all_inner_texts()
    assert any("CEM-C-201" in f and "=" in f for f in formulas)
    assert_clean(page)
    shot(page, "energy-trace-zh.png")
    page.locator("#ne-trace-close").click()
    assert page.locator("#ne-trace").is_hidden()


def test_energy_query_of_one_carrier_and_changing_the_grain(page):
    login(page, "park_admin", lang="en")
    visit(page, f"/energy/query?node=ELE&carrier=electricity&period={MONTH}&grain=day&compare=mom")
    data = api(page, "/api/energy/query", node="ELE", carrier="electricity", period=MONTH,
               grain="day", compare="mom")
    quantity = data["total"]["carriers"][0]["quantity"]
    assert number(kpi(page, "quantity")) == pytest.approx(quantity, abs=0.6)
    assert page.locator('#ne-kpis [data-key="yoy"]').count() == 0
    # changing the grain reloads the data and keeps the state in the URL
    page.select_option("#ne-grain", "month")
    page.wait_for_selector('body[data-ready="1"]')
    assert param(page, "grain") == "month"
    page.locator("#ne-series-details summary").click()
    assert page.locator("#ne-series tbody tr").count() == 1
    assert_clean(page)


def test_a_narrower_scope_sees_only_its_nodes(page):
    login(page, "cement_manager")
    # a node outside the user's tenants is not offered; the page falls back to the scope
    visit(page, f"/energy/query?node=QLP&period={MONTH}")
    assert page.locator("#ne-node").input_value() == "CEM"
    options = page.locator("#ne-node option").all_inner_texts()
    assert not any("(QLP)" in o or "(TEX)" in o for o in options)
    assert page.locator("#ne-children a.ne-drill").count() >= 1


@pytest.mark.parametrize("path,name", [
    ("/energy/query?node=CEM&lang=en", "energy-query-phone-en.png"),
    ("/energy/flow?node=QLP&lang=en", "energy-flow-phone-en.png"),
    ("/reports?lang=en", "reports-phone-en.png"),
])
def test_energy_pages_fit_a_phone(context, path, name):
    """At 375 px nothing widens the page (long English names included): tables scroll inside
    their box, pickers and download links wrap."""
    page = new_page(context)
    login(page, "park_admin", lang="en")
    page.set_viewport_size(PHONE)
    visit(page, path)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    full_shot(page, name)


# -- 能耗总量与强度 totals and intensity -------------------------------------------------------------
@pytest.mark.parametrize("lang,tag", LANGS)
def test_energy_totals(page, lang, tag):
    login(page, "park_admin", lang=lang)
    visit(page, f"/energy/totals?node=CEM&period={MONTH}")
    totals = api(page, "/api/energy/totals", node="CEM", period=MONTH)
    assert number(kpi(page, "total_tce")) == pytest.approx(totals["total_tce"], abs=0.6)
    assert number(kpi(page, "total_tce_equal_value")) == pytest.approx(
        totals["total_tce_equal_value"], abs=0.6)
    assert number(kpi(page, "mom")) == pytest.approx(totals["previous"]["change_pct"], abs=0.06)
    assert number(kpi(page, "yoy")) == pytest.approx(totals["year_before"]["change_pct"], abs=0.06)
    rows = page.locator("#ne-carriers tbody tr")
    assert rows.count() == len(totals["carriers"])
    coal = next(c for c in totals["carriers"] if c["carrier"] == "bituminous_coal")
    text = page.locator("#ne-carriers").inner_text()
    co = coal["coefficient"]  # the lab-measured NCV of the cement plant's coal deliveries
    assert co["status"] == "measured"
    assert f"{co['kgce_per_unit']:,.4f} kgce/{co['unit']}" in text
    assert {"zh-CN": "实测", "en": "measured"}[lang] in text
    intensity = api(page, "/api/energy/intensity", node="CEM", period=MONTH)
    clinker = intensity["products"][0]
    assert f"{clinker['kgce_per_unit']:,.2f}" in page.locator("#ne-products").inner_text()
    assert page.locator("#ne-compare-chart .main-svg").count() > 0
    full_shot(page, f"energy-totals-{tag}.png")


# -- 能源成本与结构 cost and structure ---------------------------------------------------------------
@pytest.mark.parametrize("lang,tag", LANGS)
def test_energy_analysis(page, lang, tag):
    login(page, "park_admin", lang=lang)
    visit(page, f"/energy/analysis?node=CEM&period={MONTH}")
    cost = api(page, "/api/energy/cost", node="CEM", period=MONTH)
    total = page.locator('#ne-cost-kpis [data-key="total_cny"] .nt-kpi-value').inner_text()
    assert number(total) == pytest.approx(cost["totals"]["total_cny"] / 1e4, abs=0.006)
    bands = page.locator("#ne-bands tbody tr")
    assert bands.count() == len(cost["electricity"]["bands"]) > 0
    assert page.locator("#ne-no-price li").count() == len(cost["no_price"])
    structure = api(page, "/api/energy/structure", node="CEM", period=MONTH)
    assert page.locator("#ne-structure tbody tr").count() == len(structure["carriers"])
    profile = api(page, "/api/energy/load-profile", node="CEM", period=MONTH)
    base = page.locator('#ne-load-kpis [data-key="base_load"] .nt-kpi-value').inner_text()
    assert number(base) == pytest.approx(profile["base_load_kw"], abs=0.06)
    for chart in ("#ne-carrier-chart", "#ne-band-chart", "#ne-load-chart"):
        assert page.locator(f"{chart} .main-svg").count() > 0, chart
    full_shot(page, f"energy-analysis-{tag}.png")


# -- 能流分析 energy flow ----------------------------------------------------------------------------
@pytest.mark.parametrize("lang,tag", LANGS)
def test_energy_flow_sankey_and_balance(page, lang, tag):
    login(page, "park_admin", lang=lang)
    visit(page, f"/energy/flow?node=QLP&period={MONTH}&depth=2")
    sankey = api(page, "/api/energy/sankey", node="QLP", period=MONTH, depth=2, unit="tce")
    drawn = [link for link in sankey["links"] if link["value"] and link["value"] > 0]
    page.wait_for_selector("#ne-sankey path.sankey-link")
    assert page.locator("#ne-sankey path.sankey-link").count() == len(drawn)
    labels = page.locator("#ne-sankey .sankey-node text").all_text_contents()
    assert {"zh-CN": "损失及未计量", "en": "loss / unmetered"}[lang] in " ".join(labels)
    balance = api(page, "/api/energy/balance", node="QLP", period=MONTH)
    # every identity of both views, with its residual, holds for the demo park
    checks = page.locator("#ne-checks tbody tr")
    assert checks.count() == len(balance["checks"]) + len(sankey["checks"])
    assert page.locator("#ne-checks .nt-badge-bad").count() == 0
    statement = balance["reconciliation"]["statement"][lang]
    assert statement in page.locator("#ne-reconciliation").inner_text()
    points = balance["stages"]["distribution"]["points"]
    assert page.locator("#ne-distribution tbody tr").count() == len(points)
    # the workbook downloads through the session
    href = page.locator(f'#ne-downloads a[data-lang="{lang}"]').get_attribute("href")
    response = page.request.get(href)
    assert response.ok and response.body()[:2] == b"PK"
    assert "spreadsheetml" in response.headers["content-type"]
    panel = page.locator("section.nt-panel", has=page.locator("#ne-sankey"))
    panel.screenshot(path=str(screenshot_dir() / f"sankey-{tag}.png"))
    full_shot(page, f"energy-flow-{tag}.png")


# -- 能效对标 benchmarking ---------------------------------------------------------------------------
@pytest.mark.parametrize("lang,tag", LANGS)
def test_benchmarking(page, lang, tag):
    login(page, "park_admin", lang=lang)
    visit(page, "/energy/benchmarking?node=QLP")
    assert param(page, "period") == YEAR
    compare = api(page, "/api/benchmarks/compare", node="CEM", product="CLINKER", period=YEAR)
    line = page.locator('.ne-compare-line[data-node="CEM"][data-product="CLINKER"]')
    assert line.count() == 1
    text = line.inner_text()
    assert f"{compare['actual']['value']:,.2f} kgce/t" in text
    ndrc = next(c for c in compare["comparisons"] if c["benchmark"] == "ndrc.cement-clinker")
    gap = ndrc["levels"][0]["energy_gap"]
    assert gap["formula"] in text
    assert f"{gap['tce_per_year']:,.1f} tce/a" in text
    assert ndrc["position_zh" if lang == "zh-CN" else "position_en"] in text
    # only the enterprises that made the product are compared (no 422 for the others)
    assert page.locator(".ne-compare-line").count() == 1
    ranking = api(page, "/api/benchmarks/ranking", park="QLP", period=YEAR)
    tables = page.locator("#ne-ranking table")
    assert tables.nth(0).locator("tbody tr").count() == len(ranking["by_gap"])
    assert tables.nth(1).locator("tbody tr").count() == len(ranking["by_intensity"])
    equipment = api(page, "/api/benchmarks/equipment", node="QLP")
    assert page.locator("#ne-equipment tbody tr").count() == sum(
        len(i["grades"]) for i in equipment["items"])
    metering = api(page, "/api/metering/compliance", node="QLP")
    assert page.locator("#ne-metering table").count() == len(metering["units"])
    full_shot(page, f"benchmarking-{tag}.png")


# -- 用能策略推荐 recommendations --------------------------------------------------------------------
@pytest.mark.parametrize("lang,tag", LANGS)
def test_recommendations(page, lang, tag):
    login(page, "park_admin", lang=lang)
    visit(page, f"/energy/recommendations?node=QLP&period={MONTH}")
    data = api(page, "/api/energy/recommendations", node="QLP", period=MONTH)
    items = page.locator("details.ne-reco")
    assert items.count() == len(data["ranked"]) > 0
    first = data["ranked"][0]
    summary = items.first.locator("summary").inner_text()
    assert first["title_zh" if lang == "zh-CN" else "title_en"] in summary
    assert f"{first['cny_per_year']:,.0f}" in summary
    # the calculation and its assumptions open on demand
    items.first.locator("summary").click()
    body = items.first.locator(".ne-reco-body")
    assert body.locator("table").first.locator("tbody tr").count() == len(first["steps"])
    assert first["steps"][0]["formula"] in body.inner_text()
    assert first["assumptions"][0]["source"] in body.inner_text()
    not_assessed = sum(len(e["not_assessed"]) for e in data["enterprises"])
    assert page.locator("#ne-not-assessed tbody tr").count() == not_assessed
    total = page.locator('#ne-totals [data-key="cny"] .nt-kpi-value').inner_text()
    assert number(total) == pytest.approx(data["totals"]["cny_per_year"], abs=0.6)
    full_shot(page, f"recommendations-{tag}.png")


# -- 报表下载 reports ------------------------------------------------------------------------------
@pytest.mark.parametrize("lang,tag", LANGS)
def test_reports_download(page, lang, tag):
    login(page, "park_admin", lang=lang)
    visit(page, f"/reports?node=CEM&period={MONTH}")
    links = page.locator("#ne-energy-links a")
    assert links.count() == 4
    pdf = page.locator(f'#ne-energy-links a[data-format="pdf"][data-lang="{lang}"]')
    with page.expect_download() as info:
        pdf.click()
    download = info.value
    assert download.suggested_filename == f"nengtan-energy-report-CEM-{MONTH}-{lang}.pdf"
    assert Path(download.path()).read_bytes()[:4] == b"%PDF"
    # the park manager may read carbon data: GHG report, package and park report are offered
    assert page.locator("#ne-ghg-links a").count() == 4
    assert page.locator("#ne-package-links a").count() == 1
    assert page.locator("#ne-park-links a").count() == 4
    first = api(page, "/api/inventories")["items"][0]
    ghg = page.locator(f'#ne-ghg-links a[data-format="xlsx"][data-lang="{lang}"]')
    xlsx = ghg.get_attribute("href")
    assert f"inventory={first['code']}" in xlsx
    assert f"version={first['locked_version']['version']}" in xlsx
    response = page.request.get(xlsx)
    assert response.ok and response.body()[:2] == b"PK"
    assert_clean(page)
    full_shot(page, f"reports-{tag}.png")


def test_energy_pages_need_the_energy_permission(page):
    """The verifier reads one inventory's carbon data, not energy data: no energy page is
    linked or served."""
    login(page, "verifier")
    for path in ("/energy/query", "/energy/flow", "/reports"):
        response = page.goto(path)  # (visit() would count the browser's log of the 403)
        assert response is not None and response.status == 403, path
    assert page.locator(".nt-nav a").count() > 0
    for slug in SLUGS:
        assert page.locator(f'.nt-nav a[data-slug="{slug}"]').count() == 0
