"""Browser tests of the data pages: organisation, meters, manual entry with review, data quality.

Every page is opened in zh-CN and in en with demo data on it and no console error (``visit``
fails on any).  The manual-entry flow runs across two browser sessions, as in a plant: the data
clerk enters a meter reading with an evidence file and submits it, the energy manager rejects it
with a comment, the clerk revises it, the manager approves it — and the page shows the file's
SHA-256, both versions and the audit trail.  The approved value re-states a stored reading and
every other write here is undone, withdrawn before review or only validated (dry run), so the
other pages' tests, which share the server, see the demo park's figures as built.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, login, new_page, shot, visit

LANGS = [("zh-CN", "zh"), ("en", "en")]
TIMEOUT_MS = 20_000


def expected_failures(page, status: int) -> None:
    """Drop the problems an API refusal the test provokes leaves (the answer and Chromium's
    console line about it), so that anything else still fails the test."""
    page.nt_problems[:] = [p for p in page.nt_problems if not (
        p.startswith(f"HTTP {status} ") or f"status of {status}" in p)]


def api(page, path: str, **params):
    """GET an API answer with the page's session cookie (the page is logged in)."""
    response = page.request.get(path, params=params or None)
    assert response.ok, f"{path}: HTTP {response.status}"
    return response.json()


def meter_id(page, code: str) -> int:
    items = api(page, "/api/meters", limit=1000)["items"]
    return next(m["id"] for m in items if m["code"] == code)


def rows(page, selector: str) -> int:
    return page.locator(f"{selector} tbody tr").count()


# -- every page, both languages -------------------------------------------------------------
@pytest.mark.parametrize(("lang", "suffix"), LANGS)
def test_data_pages_show_the_demo_park(page, lang, suffix):
    login(page, "park_admin", lang=lang, next_path="/data/org")

    visit(page, "/data/org")
    for code in ("QLP", "CEM", "TEX", "ELE"):
        assert page.locator(f'#org-tree [data-code="{code}"]').is_visible()
    assert "QLP" in page.inner_text("#org-node-title")
    assert page.is_visible("#org-edit-open") and page.is_visible("#org-import-open")
    assert re.search(r"94", page.inner_text("#org-meter-count"))  # the park's whole subtree
    shot(page, f"org-{suffix}.png")

    visit(page, "/data/org?node=CEM-KL")
    assert page.locator('#org-tree [data-code="CEM-KL"]').get_attribute("aria-current") == "true"
    assert page.locator('#org-tree [data-code="CEM-KL-DRV"]').is_visible()  # its children open

    visit(page, "/data/meters")
    assert rows(page, "#meters-table") == 50  # first page of 94
    assert "94" in page.inner_text("#meters-total")
    shot(page, f"meters-{suffix}.png")
    visit(page, "/data/meters?carrier=water")
    assert rows(page, "#meters-table") == 6
    assert "6" in page.inner_text("#meters-total")

    # a meter with the demo's 6-hour gateway outage, in a window around it
    gap = api(page, "/api/quality/findings", origin="pipeline", meter="TEX-E-312")
    gap = next(f for f in gap if f["rule"] == "gap")
    day = datetime.fromisoformat(gap["start"]).date()
    mid = meter_id(page, "TEX-E-312")
    visit(page, f"/data/meters/{mid}?start={day - timedelta(days=1)}&end={day + timedelta(days=2)}")
    assert "TEX-E-312" in page.inner_text("#meter-title")
    assert page.locator("#meter-chart .main-svg").count() > 0
    assert rows(page, "#meter-gaps") == 1
    assert rows(page, "#meter-findings") >= 1
    assert rows(page, "#meter-readings") > 100
    shot(page, f"meter-{suffix}.png")

    visit(page, "/data/entries")
    assert rows(page, "#entries-table") >= 7  # the demo's entries
    assert page.is_visible("#entries-queue") and page.is_visible("#entries-new")
    shot(page, f"entries-{suffix}.png")
    approved = api(page, "/api/manual-entries", status="approved", kind="reading")["items"]
    entry = next(e for e in approved if e["created_by"] != "cement_clerk")  # one the demo made
    visit(page, f"/data/entry?id={entry['id']}")
    assert page.locator("#entry-versions .dt-version").count() == entry["latest_version"]
    assert page.locator("#entry-versions .dt-sha").count() >= 1
    assert rows(page, "#entry-audit") >= 3

    visit(page, "/data/quality")
    assert "%" in page.inner_text("#q-completeness-cards")
    assert rows(page, "#q-completeness-meters") == 90  # virtual meters left out
    shot(page, f"quality-{suffix}.png")
    visit(page, "/data/quality?tab=findings&meter=ELE-E-311")
    assert rows(page, "#q-findings-table") >= 1  # the 20× spike
    week = date.today() - timedelta(days=14)
    visit(page, f"/data/quality?tab=balance&balance=QLP-W-101&start={week}"
                f"&end={week + timedelta(days=7)}")
    assert page.locator("#q-balance-table .nt-badge").count() > 0
    visit(page, "/data/quality?tab=rules")
    assert rows(page, "#q-rules-table") >= 6


# -- manual entry: clerk enters and submits, manager rejects, clerk revises, manager approves --
def _fill_reading(page, meter: str, ts: str, value: float) -> None:
    page.fill("#entries-form-p-meter", meter)
    page.fill("#entries-form-p-ts", ts)
    page.fill("#entries-form-p-value", str(value))


def _entry_status(page) -> str:
    return page.locator("#entry-status [data-status]").get_attribute("data-status")


def test_manual_entry_review_flow(browser, live_server, tmp_path):
    # two people, two browsers
    clerk_ctx = browser.new_context(base_url=live_server.url, viewport=DESKTOP, locale="zh-CN",
                                    timezone_id="Asia/Shanghai")
    boss_ctx = browser.new_context(base_url=live_server.url, viewport=DESKTOP, locale="zh-CN",
                                   timezone_id="Asia/Shanghai")
    try:
        clerk, boss = new_page(clerk_ctx), new_page(boss_ctx)
        login(clerk, "cement_clerk", next_path="/data/entries")
        login(boss, "cement_manager", next_path="/data/entries")

        # the value to enter: the manual diesel meter's latest reading, re-stated
        mid = meter_id(clerk, "CEM-D-101")
        now = datetime.now()
        raw = api(clerk, f"/api/meters/{mid}/readings",
                  start=(now - timedelta(days=120)).date().isoformat(),
                  end=(now + timedelta(days=1)).date().isoformat())["readings"]
        last = raw[-1]
        ts_local = datetime.fromisoformat(last["ts"]).astimezone(
            ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")

        # the clerk: a data clerk may submit, not approve
        visit(clerk, "/data/entries")
        assert clerk.is_visible("#entries-new") and not clerk.is_visible("#entries-queue")
        clerk.click("#entries-new")
        clerk.select_option("#entries-form-kind", "reading")
        clerk.wait_for_selector("#entries-form-p-meter")
        _fill_reading(clerk, "CEM-D-101", ts_local, last["value"] + 1000)
        clerk.fill("#entries-form-p-reason", "月末抄表 / month-end reading")
        clerk.fill("#entries-form-note", "浏览器测试")
        evidence = "日期,累计发油量(kg)\n" + ts_local + f",{last['value']}\n"
        content = evidence.encode("utf-8")
        clerk.set_input_files("#entries-form-file", files=[{
            "name": "油库台账.csv", "mimeType": "text/csv", "buffer": content}])
        clerk.fill("#entries-form-file-description", "油库发油台账")
        with clerk.expect_navigation(url=re.compile(r"/data/entry\?id=\d+"), timeout=TIMEOUT_MS):
            clerk.click("#entries-submit")
        clerk.wait_for_selector('body[data-ready="1"]', timeout=TIMEOUT_MS)
        assert not clerk.nt_problems, clerk.nt_problems
        entry_id = int(re.search(r"id=(\d+)", clerk.url).group(1))
        assert _entry_status(clerk) == "submitted"
        sha = hashlib.sha256(content).hexdigest()
        assert clerk.locator(".dt-sha", has_text=sha).count() == 1
        assert not clerk.is_visible("#entry-approve") and clerk.is_visible("#entry-withdraw")
        shot(clerk, "entry-submitted-zh.png")

        # the manager finds it in the review queue and rejects it with a comment
        visit(boss, "/data/entries")
        boss.click("#entries-queue")
        boss.wait_for_selector(f'#entries-table a[href="/data/entry?id={entry_id}"]',
                               timeout=TIMEOUT_MS)
        visit(boss, f"/data/entry?id={entry_id}")
        assert boss.is_visible("#entry-approve") and boss.is_visible("#entry-reject")
        assert boss.locator(".dt-sha", has_text=sha).count() == 1
        shot(boss, "entry-review-zh.png")
        boss.click("#entry-reject")
        boss.fill("#entry-comment", "读数与油库台账不一致，请核对")
        boss.click("#entry-review-confirm")
        boss.wait_for_selector('#entry-status [data-status="rejected"]', timeout=TIMEOUT_MS)
        assert "读数与油库台账不一致" in boss.inner_text("#entry-versions")

        # the clerk revises: version 2 with the ledger's value, the file carried over
        visit(clerk, f"/data/entry?id={entry_id}")
        assert _entry_status(clerk) == "rejected"
        clerk.click("#entry-revise")
        clerk.wait_for_selector("#entry-p-value")
        assert float(clerk.input_value("#entry-p-value")) == last["value"] + 1000
        clerk.fill("#entry-p-value", str(last["value"]))
        assert clerk.is_checked("#entry-payload-submit")
        clerk.click("#entry-payload-save")
        clerk.wait_for_selector('#entry-status [data-status="submitted"]', timeout=TIMEOUT_MS)
        assert clerk.locator('.dt-version[data-version="2"] .dt-sha', has_text=sha).count() == 1
        assert clerk.locator('.dt-version[data-version="2"] .dt-changed').count() == 1  # the value

        # the manager approves it, in English this time
        visit(boss, f"/data/entry?id={entry_id}&lang=en")
        assert "Submitted" in boss.inner_text("#entry-status")
        shot(boss, "entry-review-en.png")
        boss.click("#entry-approve")
        boss.fill("#entry-comment", "checked against the ledger")
        boss.click("#entry-review-confirm")
        boss.wait_for_selector('#entry-status [data-status="approved"]', timeout=TIMEOUT_MS)
        assert boss.locator('.dt-version[data-version="2"] .dt-in-force').count() == 1
        assert "readings #" in boss.inner_text('.dt-version[data-version="2"]')
        audit = boss.inner_text("#entry-audit")
        for action in ("Created", "Evidence attached", "Submitted", "Rejected", "Revised",
                       "Approved"):
            assert action in audit, action
        assert not boss.nt_problems, boss.nt_problems
        shot(boss, "entry-approved-en.png")

        # the evidence downloads as uploaded, its hash checked by the server
        stored = api(boss, f"/api/manual-entries/{entry_id}")["versions"][1]["evidence"][0]
        download = boss.request.get(stored["url"])
        assert download.ok and hashlib.sha256(download.body()).hexdigest() == sha
    finally:
        clerk_ctx.close()
        boss_ctx.close()


def test_four_eyes_hint_and_withdraw(page):
    """Whoever submitted a version is not offered its review; they may withdraw it."""
    login(page, "cement_manager", next_path="/data/entries")
    visit(page, "/data/entries?new=1")
    page.select_option("#entries-form-kind", "economic")
    page.wait_for_selector("#entries-form-p-period_start")
    page.fill("#entries-form-p-node", "CEM")
    page.fill("#entries-form-p-period_start", "2026-01-01")
    page.fill("#entries-form-p-period_end", "2026-01-31")
    page.fill("#entries-form-p-output_value", "1234.5")
    page.fill("#entries-form-p-unit", "10^4 CNY")
    with page.expect_navigation(url=re.compile(r"/data/entry\?id=\d+"), timeout=TIMEOUT_MS):
        page.click("#entries-submit")
    page.wait_for_selector('body[data-ready="1"]', timeout=TIMEOUT_MS)
    assert _entry_status(page) == "submitted"
    assert page.is_visible("#entry-four-eyes")
    assert not page.is_visible("#entry-approve") and not page.is_visible("#entry-reject")
    page.click("#entry-withdraw")
    page.click("#entry-review-confirm")
    page.wait_for_selector('#entry-status [data-status="withdrawn"]', timeout=TIMEOUT_MS)
    assert not page.nt_problems, page.nt_problems


def test_entry_form_shows_the_api_field_errors(page):
    login(page, "cement_clerk", lang="en", next_path="/data/entries")
    visit(page, "/data/entries?new=1")
    page.select_option("#entries-form-kind", "production")
    page.wait_for_selector("#entries-form-p-quantity")
    page.fill("#entries-form-p-node", "CEM")
    page.fill("#entries-form-p-product", "NO-SUCH-PRODUCT")
    page.fill("#entries-form-p-period_start", "2026-02-28")
    page.fill("#entries-form-p-period_end", "2026-02-01")
    page.fill("#entries-form-p-quantity", "5")
    page.click("#entries-save")
    page.wait_for_selector("#entries-form-error .nt-error", timeout=TIMEOUT_MS)
    text = page.inner_text("#entries-form-error")
    assert "payload.product" in text and "payload.period_end" in text, text
    assert page.url.endswith("/data/entries?new=1")  # nothing created, still on the form
    expected_failures(page, 422)
    assert not page.nt_problems, page.nt_problems


# -- organisation: edit, errors named by the API, import check, read-only users --------------
def test_org_edit_child_errors_and_import_check(page, tmp_path):
    login(page, "park_admin", next_path="/data/org")
    visit(page, "/data/org?node=CEM-CM")
    page.click("#org-edit-open")
    old = page.input_value("#org-edit-description")
    page.fill("#org-edit-description", "浏览器测试说明")
    page.click("#org-edit-save")
    page.wait_for_selector("#org-node-detail dd:has-text('浏览器测试说明')", timeout=TIMEOUT_MS)
    page.click("#org-edit-open")
    page.fill("#org-edit-description", old)
    page.click("#org-edit-save")
    page.wait_for_selector("#org-edit-form", state="hidden", timeout=TIMEOUT_MS)
    expect(page.locator("#org-node-detail")).not_to_contain_text("浏览器测试说明", timeout=TIMEOUT_MS)
    node = next(n for n in api(page, "/api/nodes", limit=1000)["items"] if n["code"] == "CEM-CM")
    assert node["description"] == (old or None)  # as it was

    # a workshop under a workshop: the API's rule is shown, nothing is created
    page.click("#org-child-open")
    page.fill("#org-child-code", "CEM-CM-X")
    page.fill("#org-child-name_zh", "测试车间")
    page.select_option("#org-child-kind", "workshop")
    page.click("#org-child-save")
    page.wait_for_selector("#org-child-error .nt-error", timeout=TIMEOUT_MS)
    assert "parent_kind" in page.inner_text("#org-child-error")
    assert page.locator('#org-tree [data-code="CEM-CM-X"]').count() == 0

    # import: a bad file names its rows and fields; a good one is checked, not stored (dry run)
    page.click("#org-import-open")
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name_zh,kind,parent\nCEM-T1,,equipment,CEM-CM\n", encoding="utf-8")
    page.set_input_files("#org-import-file", str(bad))
    page.click("#org-import-submit")
    page.wait_for_selector("#org-import-result .nt-error", timeout=TIMEOUT_MS)
    result = page.inner_text("#org-import-result")
    assert "name_zh" in result and "2" in result
    good = tmp_path / "good.csv"
    good.write_text("code,name_zh,kind,parent\nCEM-T1,测试设备,equipment,CEM-CM\n", encoding="utf-8")
    page.set_input_files("#org-import-file", str(good))
    assert page.is_checked("#org-import-dry")
    page.click("#org-import-submit")
    page.wait_for_selector("#org-import-result .nt-info", timeout=TIMEOUT_MS)
    assert "good.csv" in page.inner_text("#org-import-result")
    codes = {n["code"] for n in api(page, "/api/nodes", limit=1000)["items"]}
    assert "CEM-CM" in codes and "CEM-T1" not in codes  # nothing stored
    expected_failures(page, 422)
    assert not page.nt_problems, page.nt_problems


def test_read_only_and_tenant_scoped_views(browser, live_server):
    ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai")
    try:
        viewer = new_page(ctx)
        login(viewer, "park_viewer", next_path="/data/org")
        visit(viewer, "/data/org?node=CEM")
        assert viewer.is_hidden("#org-edit-open") and viewer.is_hidden("#org-import-open")
        visit(viewer, "/data/entries")
        assert viewer.is_hidden("#entries-new") and viewer.is_hidden("#entries-queue")
        visit(viewer, "/data/quality?tab=findings")
        assert viewer.locator("#q-findings-table [data-action]").count() == 0
    finally:
        ctx.close()
    ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai")
    try:
        clerk = new_page(ctx)
        login(clerk, "cement_clerk", next_path="/data/org")
        visit(clerk, "/data/org")
        assert clerk.locator('#org-tree [data-code="CEM"]').is_visible()
        assert clerk.locator('#org-tree [data-code="TEX"]').count() == 0  # another tenant
        visit(clerk, "/data/meters")
        codes = clerk.locator("#meters-table tbody tr td:first-child").all_inner_texts()
        assert codes and all(c.startswith("CEM-") for c in codes)
    finally:
        ctx.close()


# -- quality: acknowledge a finding (then reopen it, leaving the demo as built) ----------------
def test_acknowledge_and_reopen_a_finding(page):
    login(page, "park_admin", next_path="/data/quality")
    visit(page, "/data/quality?tab=findings&meter=ELE-E-311&status=open")
    row = page.locator("#q-findings-table tbody tr").first
    row.locator('[data-action="acknowledged"]').click()
    page.fill("#q-dialog-comment", "现场核实：装配线短时冲击")
    page.click("#q-dialog-confirm")
    page.wait_for_selector("#q-dialog", state="hidden", timeout=TIMEOUT_MS)
    page.select_option("#q-f-status", "acknowledged")
    page.wait_for_selector('#q-findings-table [data-action="open"]', timeout=TIMEOUT_MS)
    findings = api(page, "/api/quality/findings", meter="ELE-E-311", status="acknowledged")
    assert findings and findings[0]["detail"]["history"][-1]["comment"] == "现场核实：装配线短时冲击"
    page.locator('#q-findings-table [data-action="open"]').first.click()
    page.click("#q-dialog-confirm")
    page.wait_for_selector("#q-dialog", state="hidden", timeout=TIMEOUT_MS)
    assert api(page, "/api/quality/findings", meter="ELE-E-311", status="acknowledged") == []
    assert not page.nt_problems, page.nt_problems


# -- phone width ------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/data/org", "/data/meters", "/data/entries", "/data/quality"])
def test_data_pages_fit_a_phone(browser, live_server, path):
    ctx = browser.new_context(base_url=live_server.url, viewport=PHONE, locale="zh-CN",
                              timezone_id="Asia/Shanghai", is_mobile=True, has_touch=True)
    try:
        pg = new_page(ctx)
        login(pg, "park_admin", next_path=path)
        visit(pg, path)
        overflow = pg.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} is {overflow} px wider than the phone"
        if path == "/data/entries":
            shot(pg, "entries-phone-zh.png")
    finally:
        ctx.close()
