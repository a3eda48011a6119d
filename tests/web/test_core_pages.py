"""Browser tests of the core console pages: login, dashboard, wall display, administration,
account, the phone layout and access control as the browser sees it."""

from __future__ import annotations

import http.client
import re

import pytest

from .conftest import (
    DESKTOP,
    PASSWORD,
    PHONE,
    READY_TIMEOUT_MS,
    WALL,
    login,
    new_page,
    shot,
    visit,
)

LANGS = (("zh-CN", "zh"), ("en", "en"))


def test_anonymous_visitor_goes_to_login(page):
    response = page.goto("/energy/query?node=CEM")
    assert response.status == 200
    assert page.url.endswith("/login?next=%2Fenergy%2Fquery%3Fnode%3DCEM")
    page.wait_for_selector('body[data-ready="1"]')
    assert page.locator("nav.nt-nav").count() == 0  # no navigation before login


@pytest.mark.parametrize("lang,short", LANGS)
def test_login_failure_says_why(page, lang, short):
    visit(page, f"/login?lang={lang}")
    if lang == "zh-CN":
        shot(page, "login-zh.png")
    page.fill("#login-username", "park_admin")
    page.fill("#login-password", "wrong-password")
    page.click("#login-submit")
    message = page.wait_for_selector('[data-error="invalid_credentials"]')
    expected = "用户名或密码错误" if lang == "zh-CN" else "Wrong user name or password"
    assert expected in message.inner_text()
    assert "/login" in page.url
    page.nt_problems.clear()  # the refused login answers 401 on purpose


def test_login_goes_to_next_and_logout_ends_the_session(page):
    login(page, "cement_manager", next_path="/wall%3Fnode%3DCEM%26refresh%3D600")
    assert re.search(r"/wall\?node=CEM&refresh=600$", page.url), page.url
    page.wait_for_selector('body[data-ready="1"]')
    visit(page, "/account")
    page.click("#nt-user summary")
    with page.expect_navigation():
        page.click("#nt-logout")
    assert page.url.endswith("/login")
    page.goto("/")
    assert "/login?next=" in page.url


def test_login_never_redirects_off_site(page, live_server):
    from urllib.parse import urlsplit

    login(page, "park_admin", next_path="%2F%2Fexample.org%2Fx")
    here, server = urlsplit(page.url), urlsplit(live_server.url)
    assert (here.netloc, here.path) == (server.netloc, "/")


@pytest.mark.parametrize("lang,short", LANGS)
def test_dashboard(page, lang, short):
    login(page, "park_admin", lang=lang)
    visit(page, "/?node=QLP")
    kpis = page.locator("#dash-kpis .nt-card")
    assert kpis.count() >= 5
    assert page.locator("#dash-trend .main-svg").count() > 0
    assert page.locator("#dash-top .main-svg").count() > 0
    heading = "能碳总览" if lang == "zh-CN" else "Energy & carbon overview"
    assert page.locator("h1.nt-title").inner_text() == heading
    # the nav shows the park manager's groups but no administration
    assert page.locator('.nt-nav-link[data-slug="dashboard"]').count() == 1
    assert page.locator('.nt-nav-link[data-slug="users"]').count() == 0
    shot(page, f"dashboard-{short}.png", full_page=True)
    # another node from the selector: the URL keeps it
    page.select_option("#dash-node", "CEM")
    page.wait_for_url(re.compile(r"node=CEM"))
    assert page.get_attribute("#dash-wall", "href") == "/wall?node=CEM"
    page.wait_for_load_state("networkidle")
    assert not page.nt_problems, page.nt_problems


def test_enterprise_user_sees_only_their_enterprise(page):
    login(page, "cement_manager")
    visit(page, "/")
    options = page.locator("#dash-node option").all_inner_texts()
    assert options and all("CEM" in o for o in options), options
    # administration pages are neither linked nor served
    response = visit(page, "/admin/users", status=403)
    assert response.status == 403
    assert page.locator(".nt-error-page").count() == 1


@pytest.mark.parametrize("lang,short", LANGS)
def test_wall_display(context, lang, short):
    page = new_page(context)
    login(page, "park_admin", lang=lang)
    page.set_viewport_size(WALL)
    visit(page, "/wall?node=QLP&refresh=2")
    assert page.locator("nav.nt-nav").count() == 0  # full screen, no navigation
    page.wait_for_selector("#wall-sankey .sankey", timeout=15000)
    assert page.locator("#wall-kpis .wall-kpi").count() == 5
    # a second picture without reloading the page (wait_for_function would need eval, which
    # the console's Content-Security-Policy forbids: wait for an attribute instead)
    page.wait_for_selector('body[data-refreshes]:not([data-refreshes="1"])', timeout=20000)
    box = page.locator("#wall").bounding_box()
    assert box["height"] <= WALL["height"] + 1 and box["width"] <= WALL["width"] + 1
    scroll = page.evaluate("[document.documentElement.scrollWidth, "
                           "document.documentElement.scrollHeight]")
    assert scroll[0] <= WALL["width"] and scroll[1] <= WALL["height"]  # fits the screen
    for kpi in page.locator("#wall-kpis .wall-kpi").all():  # every KPI in view
        b = kpi.bounding_box()
        assert b["x"] >= 0 and b["x"] + b["width"] <= WALL["width"]
    shot(page, f"wall-{short}.png")
    assert not page.nt_problems, page.nt_problems


def test_phone_layout(context):
    page = new_page(context)
    page.set_viewport_size(PHONE)
    login(page, "park_admin")
    visit(page, "/")
    nav = page.locator("#nt-nav")
    assert nav.bounding_box()["x"] + nav.bounding_box()["width"] <= 1  # off screen
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways ({width} px)"
    shot(page, "dashboard-phone-zh.png")
    page.click("#nt-menu-button")
    page.wait_for_timeout(400)  # the slide-in transition
    assert nav.bounding_box()["x"] >= 0
    assert page.get_attribute("#nt-menu-button", "aria-expanded") == "true"
    shot(page, "dashboard-phone-nav-zh.png")
    page.click("#nt-menu-button")
    page.wait_for_timeout(400)
    assert nav.bounding_box()["x"] < 0


@pytest.mark.parametrize("lang,short", LANGS)
def test_account_page(page, lang, short):
    login(page, "textile_manager", lang=lang)
    visit(page, "/account")
    assert "textile_manager" in page.locator("#account-me").inner_text()
    # an API token: shown once, then listed
    page.fill("#token-name", f"scada-{short}")
    page.fill("#token-days", "30")
    page.click("#token-form button[type=submit]")
    value = page.wait_for_selector("#token-value").inner_text()
    assert len(value) > 20
    page.wait_for_selector(f"#token-table td:has-text('scada-{short}')")
    # TOTP enrolment shows the QR code to scan, the key and the otpauth URI as text
    page.click("#totp-start")
    page.wait_for_selector("#totp-enrol:not([hidden])")
    assert page.locator("#totp-uri").inner_text().startswith("otpauth://totp/")
    page.wait_for_function("document.getElementById('totp-qr').naturalWidth > 100")
    page.evaluate("window.scrollTo(0, 0)")  # the code field took the focus; the header stays up
    shot(page, f"account-{short}.png", full_page=True)
    assert not page.nt_problems, page.nt_problems


def test_users_page_for_the_three_administrators(browser, live_server):
    def fresh():
        ctx = browser.new_context(base_url=live_server.url, viewport=DESKTOP, locale="zh-CN")
        return ctx, new_page(ctx)

    # the system administrator creates an account (must change its password)
    ctx, page = fresh()
    login(page, "sysadmin")
    assert page.url.endswith("/admin/users")  # no dashboard for an administrator
    visit(page, "/admin/users")
    assert not page.locator("#users-panel").is_hidden()
    assert page.locator("#grants-panel").is_hidden()  # roles are the security admin's
    page.click("#users-new")
    page.fill("#user-username", "web_newcomer")
    page.fill("#user-display", "新同事")
    page.fill("#user-password", "Start#Passw0rd1")
    page.click("#user-form button[type=submit]")
    page.wait_for_selector("#users-table td:has-text('web_newcomer')")
    shot(page, "users-zh.png", full_page=True)
    visit(page, "/admin/users?lang=en")
    assert page.locator("#users-panel h2").inner_text() == "Users"
    assert not page.nt_problems, page.nt_problems
    ctx.close()

    # the security administrator grants a role on the dyeing plant
    ctx, page = fresh()
    login(page, "secadmin")
    visit(page, "/admin/users?user=web_newcomer")
    assert page.locator("#users-panel").is_hidden()
    page.wait_for_selector("#grant-form:not([hidden])")
    page.select_option("#grant-role", "viewer")
    page.fill("#grant-node", "TEX")
    page.click("#grant-form button[type=submit]")
    page.wait_for_selector("#grants-table td:has-text('viewer'), #grants-table td:has-text('只读用户')")
    assert not page.nt_problems, page.nt_problems
    ctx.close()

    # the newcomer must replace the initial password at the first login
    ctx, page = fresh()
    visit(page, "/login")
    page.fill("#login-username", "web_newcomer")
    page.fill("#login-password", "Start#Passw0rd1")
    page.click("#login-submit")
    page.wait_for_selector("#login-expired:not([hidden])")
    page.fill("#login-new-password", "Own#Passw0rd22")
    page.fill("#login-new-password2", "Own#Passw0rd22")
    with page.expect_navigation(wait_until="commit", timeout=READY_TIMEOUT_MS):
        page.click("#login-submit")
    page.wait_for_selector('body[data-ready="1"]', timeout=READY_TIMEOUT_MS)
    assert page.locator("#dash-node option").all_inner_texts() == [
        t for t in page.locator("#dash-node option").all_inner_texts() if "TEX" in t]
    ctx.close()


@pytest.mark.parametrize("lang,short", LANGS)
def test_audit_page(page, lang, short):
    login(page, "auditor", lang=lang)
    visit(page, "/admin/audit")
    page.wait_for_selector("#audit-table tbody tr")
    first = page.locator("#audit-table tbody tr").first.inner_text()
    assert "login" in first  # newest first: the auditor's own login is at the top
    page.click("#audit-verify")
    result = page.wait_for_selector('#audit-verify-result [data-ok="1"]')
    assert ("完整" if lang == "zh-CN" else "intact") in result.inner_text()
    page.fill("#audit-action", "login.*")
    page.click("#audit-filters button[type=submit]")
    page.wait_for_url(re.compile(r"action=login"))
    page.wait_for_load_state("networkidle")
    assert all(a.startswith("login.") for a in page.locator(
        "#audit-table tbody tr td:nth-child(4)").all_inner_texts())
    shot(page, f"audit-{short}.png", full_page=True)
    assert not page.nt_problems, page.nt_problems


def test_login_form_needs_the_csrf_token(live_server):
    """A login posted from another site (no matching CSRF cookie and field) starts nothing."""
    from urllib.parse import urlencode, urlsplit

    host = urlsplit(live_server.url)
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
    conn.request("POST", "/login", urlencode({"username": "park_admin", "password": PASSWORD,
                                              "csrf": "x"}),
                 {"Content-Type": "application/x-www-form-urlencoded",
                  "Cookie": "nengtan_csrf=y"})
    r = conn.getresponse()
    cookies = r.getheader("set-cookie") or ""
    assert r.status == 403 and "nengtan_session" not in cookies


# -- without a browser: the console's server side ------------------------------------------------
def _client(live_server):
    from fastapi.testclient import TestClient

    return TestClient(live_server.app, follow_redirects=False)


def _login(client, username="park_admin"):
    client.get("/login")
    r = client.post("/login", data={"username": username, "password": PASSWORD, "next": "/",
                                    "csrf": client.cookies.get("nengtan_csrf")})
    assert r.status_code == 303, r.text
    return client


def test_safe_next_keeps_redirects_local():
    from nengtan.web.routes import safe_next

    assert safe_next("/energy/query?node=CEM") == "/energy/query?node=CEM"
    for bad in ("//evil.example", "/\\evil.example", "/\t/evil.example", "https://evil.example",
                "evil.example", "", None, "/a b"):
        assert safe_next(bad) == "/", bad


def test_every_page_has_its_template_and_title_in_both_languages():
    from nengtan.i18n import catalogue
    from nengtan.web import pages
    from nengtan.web.render import TEMPLATES

    found = pages.registry()
    assert {p.slug for p in found} >= {"dashboard", "wall", "users", "audit", "account"}
    for p in found:
        assert (TEMPLATES / p.template).is_file(), p.template
        for lang in ("zh-CN", "en"):
            assert p.title_key in catalogue(lang), (lang, p.title_key)
    keys = {lang: {k for k in catalogue(lang) if k.startswith("web.core.")}
            for lang in ("zh-CN", "en")}
    assert keys["zh-CN"] == keys["en"]  # every core text in both languages


def test_pages_are_self_contained_and_locked_down(live_server):
    client = _login(_client(live_server))
    for path in ("/", "/wall", "/account", "/login"):
        r = client.get(path)
        assert r.status_code in (200, 303), path
        if r.status_code != 200:
            continue
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["cache-control"] == "no-store"
        html = r.text
        assert "http://" not in html and "https://" not in html, path  # nothing from outside
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.DOTALL)
        for attrs, _body in scripts:  # code only from files; inline blocks are JSON data
            assert "src=" in attrs or 'type="application/json"' in attrs, (path, attrs)
    vendor = client.get("/static/vendor/plotly.min.js", headers={"accept-encoding": "gzip"})
    assert vendor.status_code == 200 and vendor.headers["content-encoding"] == "gzip"
    assert len(vendor.content) > 1_000_000  # decoded by the client: the whole library
    again = client.get("/static/vendor/plotly.min.js",
                       headers={"if-none-match": vendor.headers["etag"]})
    assert again.status_code == 304
    assert client.get("/static/js/console.js").status_code == 200


def test_language_switch_is_remembered(live_server):
    client = _client(live_server)
    r = client.get("/login?lang=en")
    assert r.cookies.get("nengtan_lang") == "en" and "Log in to nengtan" in r.text
    assert '<html lang="en">' in client.get("/login").text  # the cookie keeps it
    assert "登录能碳管理中心" in client.get("/login?lang=zh-CN").text


def test_logout_needs_the_csrf_token(live_server):
    client = _login(_client(live_server))
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 403
    assert client.get("/").status_code == 200  # still logged in
    r = client.post("/logout", headers={"X-CSRF-Token": client.cookies.get("nengtan_csrf")})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    client.cookies.clear()
    assert client.get("/").headers["location"].startswith("/login?next=")


def test_home_of_a_user_without_the_dashboard(live_server):
    client = _login(_client(live_server), "verifier")
    r = client.get("/")
    assert r.status_code == 303 and r.headers["location"] not in ("/", "/login")
    assert client.get(r.headers["location"]).status_code == 200
    assert client.get("/wall").status_code == 403
