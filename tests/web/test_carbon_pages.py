"""Browser tests of the carbon pages: inventories and their drill-down to the evidence files,
the park inventory, the factor library and the evidence ledger — in zh-CN and en, as the
enterprise carbon manager, the park manager and the third-party verifier.

Figures are checked against the API's own answers (fetched with the same user's session), so
a page that shows the wrong number, or nothing, fails.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from nengtan.ledger import verify_proof
from nengtan.store.models.inventory import Inventory
from nengtan.store.models.manual import EvidenceFile

from .conftest import PHONE, assert_clean, login, new_page, shot, visit

LANGS = [("zh-CN", "zh"), ("en", "en")]


def inventory_id(live_server, enterprise: str) -> int:
    """The demo inventory of an enterprise (``CEM``): the last one, which the verifier is
    granted (its code names the demo's last whole year, e.g. INV-CEM-2025)."""
    with Session(live_server.engine) as s:
        return s.scalar(select(Inventory.id).where(Inventory.code.like(f"INV-{enterprise}-%"))
                        .order_by(Inventory.id.desc()))


def api(page, path: str):
    """GET an API path with the page's session (the same rights as the page's user)."""
    response = page.request.get(path)
    assert response.ok, f"{path}: HTTP {response.status}"
    return response.json()


def number(text: str) -> float:
    """The first number as a page shows it (1,234.5 / −1,234.5 tCO2e) → float."""
    found = re.search(r"-?\d[\d,]*(?:\.\d+)?", text.replace("−", "-"))
    assert found, f"no number in {text!r}"
    return float(found.group(0).replace(",", ""))


# -- inventories ---------------------------------------------------------------------------------
@pytest.mark.parametrize("lang,tag", LANGS)
def test_inventory_list_shows_every_visible_inventory(page, lang, tag):
    login(page, "park_admin", lang=lang)
    visit(page, "/carbon/inventories")
    assert page.locator("html").get_attribute("lang") == lang
    items = api(page, "/api/inventories")["items"]
    assert {i["code"].rsplit("-", 1)[0] for i in items} == {"INV-CEM", "INV-TEX", "INV-ELE"}
    rows = page.locator("#inv-table tbody tr")
    assert rows.count() == len(items)
    for item in items:
        row = page.locator("#inv-table tbody tr", has=page.locator(f"a:text-is('{item['code']}')"))
        total = item["latest_version"]["total_tco2e"]
        assert number(row.locator(".nc-total").inner_text()) == pytest.approx(total, abs=0.051)
    assert page.locator("#inv-chart .main-svg").count() > 0
    title = {"zh-CN": "碳盘查", "en": "Carbon inventories"}[lang]
    assert page.locator("h1.nt-title").inner_text() == title
    shot(page, f"inventories-{tag}.png")


def test_enterprise_manager_sees_only_own_inventories(page):
    login(page, "cement_manager")
    visit(page, "/carbon/inventories")
    codes = page.locator("#inv-table tbody tr a.nc-inv-link").all_inner_texts()
    assert codes and all(c.startswith("INV-CEM") for c in codes)


@pytest.mark.parametrize("lang,tag", LANGS)
def test_inventory_detail_shows_results_by_every_breakdown(page, live_server, lang, tag):
    login(page, "cement_manager", lang=lang)
    inv = inventory_id(live_server, "CEM")
    visit(page, f"/carbon/inventory?id={inv}")
    result = api(page, f"/api/inventories/{inv}/results")
    totals = result["result"]["totals"]
    kpi = page.locator('#inv-kpis button[data-figure="total"]')
    assert number(kpi.inner_text()) == pytest.approx(totals["total_tco2e"], abs=0.051)
    assert number(page.locator('#inv-kpis button[data-figure="scope2_market"]').inner_text()) \
        == pytest.approx(totals["scope2_market_tco2e"], abs=0.051)
    for source in result["result"]["sources"]:
        button = page.locator(f'#inv-sources button[data-figure="source:{source["source"]}"]')
        assert number(button.inner_text()) == pytest.approx(source["tco2e"], abs=0.051)
    for kind in result["result"]["by_kind"]:
        assert page.locator(f'#inv-kinds button[data-figure="kind:{kind["kind"]}"]').count() == 1
    months = page.locator("#inv-trend-chart").get_attribute("data-months").split(",")
    assert len(months) == len(result["result"]["trend"]) == 12
    for chart in ("#inv-kind-chart", "#inv-facility-chart", "#inv-trend-chart"):
        assert page.locator(f"{chart} .main-svg").count() > 0, chart
    # reports and the verification package are offered for the shown version
    pdf = page.locator("#inv-downloads a.nc-report").first.get_attribute("href")
    assert f"version={result['version']}" in pdf and "format=pdf" in pdf
    assert page.locator("#inv-downloads a.nc-package").count() == 1
    # the carbon manager may compute and lock
    assert page.locator("#inv-write").is_visible()
    label = {"zh-CN": "排放源", "en": "Emission sources"}[lang]
    assert label in page.locator("#inv-sources-panel h2").inner_text()
    shot(page, f"inventory-{tag}.png")


def _download_evidence(page, evidence_id: int, live_server) -> bytes:
    link = page.locator(f'#lin-body a.nc-evidence-download[data-evidence="{evidence_id}"]').first
    with page.expect_download() as info:
        link.click()
    path = info.value.path()
    data = open(path, "rb").read()
    with Session(live_server.engine) as s:
        row = s.get(EvidenceFile, evidence_id)
    assert hashlib.sha256(data).hexdigest() == row.sha256 == link.get_attribute("data-sha256")
    assert info.value.suggested_filename == row.filename
    return data


def _diesel_evidence(page, inv: int) -> dict:
    """The evidence file under the diesel source's manual meter reading (from the API)."""
    lineage = api(page, f"/api/inventories/{inv}/lineage?figure=source:CEM-DIESEL")
    link = next(k for k in lineage["lineage"]["activity_data"]["links"] if k.get("manual_entries"))
    return link["manual_entries"][0]["evidence"][0] | {"meter_id": link["meter_id"],
                                                       "meter": link["meter"]}


def test_drill_down_from_the_total_to_an_evidence_file(page, live_server):
    """Total → the sources it adds up → the diesel source → its meter → the approved manual
    reading → the oil depot ledger, downloaded with its SHA-256 checked."""
    login(page, "cement_manager")
    inv = inventory_id(live_server, "CEM")
    visit(page, f"/carbon/inventory?id={inv}")
    page.click('#inv-kpis button[data-figure="total"]')
    page.wait_for_selector('#inv-lineage[data-loaded="total"]')
    page.click('#lin-body .nc-sum button[data-figure="source:CEM-DIESEL"]')
    page.wait_for_selector('#inv-lineage[data-loaded="source:CEM-DIESEL"]')
    assert "figure=source%3ACEM-DIESEL" in page.url or "figure=source:CEM-DIESEL" in page.url
    card = page.locator('#lin-body article.nc-source[data-source="CEM-DIESEL"]')
    assert "E = AD × EF" in card.locator("pre.nc-formula").inner_text()
    params = card.locator(".nc-params tbody tr")
    assert params.count() == 3  # NCV, carbon content, oxidation rate of the library
    assert "42.652" in params.nth(0).inner_text()
    assert card.locator("a.nc-factor-link").count() >= 3
    ev = _diesel_evidence(page, inv)
    meter = card.locator("a.nc-meter-link")
    assert meter.inner_text() == ev["meter"]
    assert meter.get_attribute("href") == f"/data/meters/{ev['meter_id']}"
    assert card.locator(".nc-entry").count() >= 1
    row = card.locator(".nc-evidence tbody tr").first
    assert ev["filename"] in row.inner_text() and ev["sha256"] in row.inner_text()
    card.locator(".nc-links").evaluate("e => e.scrollIntoView({block: 'center'})")
    shot(page, "lineage-zh.png")
    _download_evidence(page, ev["evidence_id"], live_server)
    assert_clean(page)
    # the meter's readings of the period open on the meter's own page
    readings = card.locator("a.nc-readings-link").get_attribute("href")
    period_start = api(page, f"/api/inventories/{inv}")["period_start"]
    assert readings.startswith(f"/data/meters/{ev['meter_id']}?") and f"start={period_start}" in readings
    visit(page, readings)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_verifier_drills_down_and_downloads_the_evidence(page, live_server, lang):
    login(page, "verifier", lang=lang)
    inv = inventory_id(live_server, "CEM")
    visit(page, "/carbon/inventories")
    codes = page.locator("#inv-table tbody tr a.nc-inv-link").all_inner_texts()
    assert codes == [api(page, f"/api/inventories/{inv}")["code"]]
    visit(page, f"/carbon/inventory?id={inv}&figure=source:CEM-DIESEL")
    page.wait_for_selector('#inv-lineage[data-loaded="source:CEM-DIESEL"]')
    assert not page.locator("#inv-write").is_visible()  # no carbon.write: no compute / lock
    ev = _diesel_evidence(page, inv)
    _download_evidence(page, ev["evidence_id"], live_server)
    # the verification package of the shown version
    with page.expect_download() as info:
        page.click("#inv-downloads a.nc-package")
    with zipfile.ZipFile(info.value.path()) as z:
        names = z.namelist()
        manifest = json.loads(z.read("manifest.json"))
    assert "README.md" in names and manifest
    # a month of the trend drills down as well
    month = api(page, f"/api/inventories/{inv}/results")["result"]["trend"][2]["month"]
    page.click("#inv-trend-chart + details summary")
    page.click(f'#inv-trend button[data-figure="month:{month}"]')
    page.wait_for_selector(f'#inv-lineage[data-loaded="month:{month}"]')
    assert page.locator("#lin-body article.nc-source").count() >= 1
    assert_clean(page)


def test_verifier_gets_a_note_for_an_inventory_outside_the_grant(page, live_server):
    login(page, "verifier")
    other = inventory_id(live_server, "TEX")
    page.nt_problems.clear()
    page.goto(f"/carbon/inventory?id={other}")
    page.wait_for_selector('body[data-ready="1"]')
    assert page.locator("#inv-unavailable").is_visible()
    assert not page.locator("#inv-body").is_visible()
    # the only problems are the refused API calls themselves (404), no script error
    assert page.nt_problems and all(
        p.startswith("HTTP 404 GET") or "404" in p for p in page.nt_problems), page.nt_problems


def test_compute_diff_and_lock_a_new_version(page, live_server):
    login(page, "textile_manager")
    inv = inventory_id(live_server, "TEX")
    visit(page, f"/carbon/inventory?id={inv}")
    before = api(page, f"/api/inventories/{inv}/versions")
    page.click("#inv-compute")
    page.wait_for_function(f"() => new URLSearchParams(location.search).get('version') == '{len(before) + 1}'")
    page.wait_for_selector("#inv-diff-form:not([hidden])")
    page.wait_for_function("() => document.querySelectorAll('#inv-versions tbody tr').length >= 2")
    page.click("#diff-run")
    page.wait_for_selector("#inv-diff-sources tbody tr")
    diff = api(page, f"/api/inventories/{inv}/diff")
    assert page.locator("#inv-diff-sources tbody tr").count() == len(diff["sources"])
    assert f"{diff['from']['version']}" in page.locator("#inv-diff h3").inner_text()
    # lock the draft (with a note)
    page.click("#inv-lock")
    page.fill("#lock-note", "browser test")
    page.click("#lock-confirm")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#inv-status .nt-badge')].some(b => b.textContent === '已锁定')")
    after = api(page, f"/api/inventories/{inv}/versions")
    assert after[-1]["status"] == "locked" and after[-1]["note"] == "browser test"
    assert len(after) == len(before) + 1
    assert_clean(page)


# -- park ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang,tag", LANGS)
def test_park_inventory(page, lang, tag):
    login(page, "park_admin", lang=lang)
    visit(page, "/carbon/park")
    period = page.input_value("#park-period")
    park = api(page, f"/api/carbon/park-inventory?park=QLP&period={period}")
    assert number(page.locator("#park-total").inner_text()) == pytest.approx(park["total_tco2e"], abs=0.051)
    assert page.locator("details.nc-term").count() == len(park["terms"]) == 8
    assert page.locator("#park-tenants tbody tr").count() == len(park["tenants"])
    assert page.locator("#park-tenants a.nc-inv-link").count() == len(
        [t for t in park["tenants"] if t["inventory_id"]])
    assert page.locator("#park-transfers tbody tr").count() == len(park["transfers"])
    assert page.locator("#park-sectors tbody tr").count() == len(park["sectors"]) + 1
    assert page.locator("#park-items tbody tr").count() == len(park["items"])
    for chart in ("#park-terms-chart", "#park-sector-chart"):
        assert page.locator(f"{chart} .main-svg").count() > 0
    shot(page, f"park-carbon-{tag}.png")
    page.click('details.nc-term[data-term="enterprises"] summary')
    assert page.locator('details.nc-term[data-term="enterprises"] tbody tr').count() == len(
        next(t for t in park["terms"] if t["term"] == "enterprises")["parts"])


@pytest.mark.parametrize("user", ["cement_manager", "verifier"])
def test_park_page_without_a_park_in_scope(page, user):
    login(page, user)
    visit(page, "/carbon/park")  # no request is refused: the page does not ask
    assert page.locator("#park-unavailable").is_visible()


# -- factors -------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang,tag", LANGS)
def test_factor_library(page, lang, tag):
    login(page, "verifier", lang=lang)
    visit(page, "/carbon/factors")
    values = api(page, "/api/factors?limit=50")
    assert page.locator("#fac-values tbody tr").count() == len(values["items"])
    assert page.locator("#fac-values .nc-status").count() == len(values["items"])
    datasets = api(page, "/api/factor-datasets")
    assert page.locator("#fac-datasets tbody tr").count() == len(datasets)
    # the selection tool: default question (grid factor, electricity, Shandong, last year)
    year = page.input_value("#s-year")
    sel = api(page, f"/api/factors/select?parameter=grid_factor&subject=electricity&year={year}&region=shandong")
    rule = page.locator("#fac-rule").inner_text()
    assert (sel["why_zh"] if lang == "zh-CN" else sel["why"]) in rule
    assert f"#{sel['value']['factor_id']}" in page.locator("#fac-selected").inner_text()
    chosen = page.locator("#fac-candidates .nt-badge-ok")
    assert chosen.count() == 1
    gwp = api(page, "/api/gwp?set=AR5")
    assert page.locator("#fac-gwp tbody tr").count() == len(gwp["values"])
    shot(page, f"factors-{tag}.png")
    # a value in detail, as inventory lineage links it
    visit(page, f"/carbon/factors?id={sel['value']['factor_id']}")
    detail = api(page, f"/api/factors/{sel['value']['factor_id']}")
    assert detail["sha256"] in page.locator("#fac-detail").inner_text()
    # filter by parameter: only GWPs
    page.select_option("#f-parameter", "gwp")
    page.click("#fac-filter button[type=submit]")
    page.wait_for_selector('#fac-values[data-loaded*="parameter=gwp"] tbody tr')
    texts = page.locator("#fac-values tbody tr td:nth-child(3)").all_inner_texts()
    assert texts and set(texts) == {"全球增温潜势" if lang == "zh-CN" else "Global warming potential"}
    assert_clean(page)


# -- ledger --------------------------------------------------------------------------------------
def _verify_all_match(page, lang: str) -> None:
    page.click("#led-verify")
    verdict = page.wait_for_selector("#led-verdict")
    assert verdict.get_attribute("data-ok") == "1"
    assert ("全部一致" if lang == "zh-CN" else "All match") in verdict.inner_text()
    assert page.locator(".nc-mismatch").count() == 0


def test_verifier_verifies_the_whole_ledger(page):
    """Verifying and the checkpoints are open to every carbon reader; the entries (whose labels
    name every tenant's records) are not asked for without a park-wide grant."""
    login(page, "verifier")
    visit(page, "/carbon/ledger")
    assert page.locator("#led-entries-note").is_visible()
    assert not page.locator("#led-entries-panel").is_visible()
    assert not page.locator("#led-sign").is_visible()
    assert page.locator("#led-checkpoints tbody tr").count() >= 1
    _verify_all_match(page, "zh-CN")
    assert_clean(page)


@pytest.mark.parametrize("lang,tag", LANGS)
def test_ledger_verification_and_proof(page, live_server, lang, tag):
    login(page, "park_admin", lang=lang)
    visit(page, "/carbon/ledger")
    assert page.locator("#led-sign").is_visible()
    status = api(page, "/api/ledger/status")
    assert page.locator("#led-checkpoints tbody tr").count() == status["latest_checkpoint"]["id"]
    _verify_all_match(page, lang)
    shot(page, f"ledger-{tag}.png")
    # the proof of the evidence file the drill-down reaches, checked offline with its bytes
    inv = inventory_id(live_server, "CEM")
    ev = _diesel_evidence(page, inv)
    page.select_option("#led-kind", "evidence_file")
    page.fill("#led-key-filter", str(ev["evidence_id"]))
    page.click("#led-filter button[type=submit]")
    page.wait_for_function("() => document.querySelectorAll('#led-entries tbody tr').length === 1")
    page.click("#led-entries button.nc-proof-open")
    page.wait_for_selector("#led-proof-download")
    assert page.locator("#led-proof ol.nc-path li").count() > 0
    with page.expect_download() as info:
        page.click("#led-proof-download")
    doc = json.loads(open(info.value.path(), encoding="utf-8").read())
    with Session(live_server.engine) as s:
        row = s.get(EvidenceFile, ev["evidence_id"])
    content = page.request.get(f"/api/evidence/{row.id}/content").body()
    checked = verify_proof(doc, data=content)
    assert checked["ok"], checked
    assert checked["entry"]["digest"] == row.sha256
    assert_clean(page)


# -- phone ---------------------------------------------------------------------------------------
def test_carbon_pages_fit_a_phone(context, live_server):
    page = new_page(context)
    page.set_viewport_size(PHONE)
    login(page, "park_admin")
    inv = inventory_id(live_server, "CEM")
    for path in ("/carbon/inventories", f"/carbon/inventory?id={inv}&figure=source:CEM-DIESEL",
                 "/carbon/park", "/carbon/factors", "/carbon/ledger"):
        visit(page, path)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path}: {overflow} px wider than the phone"
