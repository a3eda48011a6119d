"""Browser tests of the web console: a live server on a copy of the demo park, driven by
Playwright in Debian's Chromium (``/usr/bin/chromium``; the tests skip, saying so, only when
it is absent — no browser is ever downloaded).

Fixtures: ``live_server`` (session: uvicorn in a thread serving ``create_app(engine)`` on a
copy of the demo database, so writes never disturb other tests), ``browser`` (session),
``context`` and ``page`` (per test: a fresh browser context at 1440×900, zh-CN, whose console
errors and page errors are collected).

Helpers, imported by the test modules (``from .conftest import login, visit, shot``):

* ``login(page, username, password=PASSWORD)`` — through the login form, with the one-time
  code for the administrators (read from the demo database; each code is used once);
* ``visit(page, path)`` — open a page, wait until its script says ``NT.ready()``
  (``body[data-ready="1"]``) and fail on any console error, page error or HTTP error;
* ``shot(page, name)`` — a screenshot into ``$NENGTAN_SCREENSHOT_DIR`` (default: a directory
  of the test session), so that ``NENGTAN_SCREENSHOT_DIR=docs/images/console pytest tests/web``
  refreshes the documentation's images.

Console pages are served with ``Content-Security-Policy: script-src 'self'``: a page's own
inline script or ``eval`` fails there (and in the tests, as a console error), and so does
Playwright's ``wait_for_function`` with a string — wait for selectors (``body[data-x="1"]``)
instead; ``page.evaluate`` is not affected.

``NENGTAN_WEB_TEST_DB=/path/demo.db`` uses an already built demo database (copied, never
changed) instead of building the demo park, to iterate quickly on pages.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from nengtan.api import create_app
from nengtan.security import roles, totp
from nengtan.services import identity
from nengtan.store import db
from nengtan.store.models.security import User

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "Nengtan@Demo2026"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 375, "height": 812}
WALL = {"width": 1920, "height": 1080}
READY_TIMEOUT_MS = 45_000  # generous: CI machines run several browsers at once


@dataclass
class LiveServer:
    url: str
    engine: Engine
    app: object


_state: dict = {"server": None, "totp_steps": {}, "shots": None}


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (the online backup API, not a file copy, so a
    database another connection is writing is copied whole)."""
    src = sqlite3.connect(str(source))
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


@pytest.fixture(scope="session")
def web_db(tmp_path_factory, request) -> Path:
    """A private copy of the demo park's SQLite file."""
    target = tmp_path_factory.mktemp("web") / "console.db"
    prepared = os.environ.get("NENGTAN_WEB_TEST_DB")
    if prepared:
        _copy_sqlite(Path(prepared), target)
    else:
        engine, _report = request.getfixturevalue("full_demo")
        _copy_sqlite(Path(engine.url.database), target)
    return target


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(web_db):
    """The application (API and console) on a free local port, in a background thread."""
    import uvicorn

    engine = db.make_engine(f"sqlite:///{web_db}")
    app = create_app(engine)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name="nengtan-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    live = LiveServer(f"http://127.0.0.1:{port}", engine, app)
    _state["server"] = live
    yield live
    server.should_exit = True
    thread.join(timeout=10)
    _state["server"] = None
    engine.dispose()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser, live_server):
    ctx = browser.new_context(base_url=live_server.url, viewport=DESKTOP, locale="zh-CN",
                              timezone_id="Asia/Shanghai")
    yield ctx
    ctx.close()


def _watch(page) -> None:
    """Collect the page's console errors, uncaught exceptions and failed HTTP answers."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status} {r.request.method} {r.url}")
            if r.status >= 400 else None)
    page.nt_problems = problems


@pytest.fixture
def page(context):
    """A fresh page whose problems (console errors, page errors, HTTP ≥ 400) are collected in
    ``page.nt_problems``; ``visit`` fails on them."""
    pg = context.new_page()
    _watch(pg)
    yield pg
    pg.close()


def new_page(context):
    """Another watched page in ``context`` (e.g. a second viewport)."""
    pg = context.new_page()
    _watch(pg)
    return pg


# -- helpers -----------------------------------------------------------------------------------
def totp_code(username: str) -> str | None:
    """A one-time code for ``username`` not used before (the server accepts each time step
    once, and the previous and next step for clock drift), or None when the login asks for
    none: only holders of an administrator role need the second factor."""
    server = _state["server"]
    with Session(server.engine) as session:
        row = session.execute(select(User.id, User.totp_secret, User.totp_last_step)
                              .where(User.username == username)).first()
        held = set() if row is None else {g.role for g in identity.active_grants(session, row.id)}
    if row is None or not row.totp_secret or not roles.needs_second_factor(held):
        return None
    secret = row.totp_secret
    while True:
        now_step = int(time.time() // totp.STEP_SECONDS)
        used = max(_state["totp_steps"].get(username, -1), row.totp_last_step or -1)
        step = max(used + 1, now_step - totp.DRIFT_STEPS)
        if step <= now_step + totp.DRIFT_STEPS:
            _state["totp_steps"][username] = step
            return totp.code_at(secret, step * totp.STEP_SECONDS)
        time.sleep(1)  # all codes of the window used: wait for the next step


def login(page, username: str, password: str = PASSWORD, *, lang: str = "zh-CN",
          next_path: str = "/") -> None:
    """Log in through the form (with a one-time code when the user has a second factor) and
    wait for the page after login."""
    page.goto(f"/login?lang={lang}&next={next_path}")
    page.wait_for_selector('body[data-ready="1"]', timeout=READY_TIMEOUT_MS)
    page.fill("#login-username", username)
    page.fill("#login-password", password)
    code = totp_code(username)
    if code:
        page.click("#login-submit")
        page.wait_for_selector("#login-totp:not([disabled])", timeout=READY_TIMEOUT_MS)
        page.fill("#login-totp", code)
    with page.expect_navigation(wait_until="commit", timeout=READY_TIMEOUT_MS):
        page.click("#login-submit")
    assert "/login" not in page.url, f"login of {username} failed: {page.url}"
    page.wait_for_selector('body[data-ready="1"]', timeout=READY_TIMEOUT_MS)
    # the unauthenticated answers before login are not problems of the page under test
    page.nt_problems.clear()


def visit(page, path: str, *, status: int = 200, ready: bool = True):
    """Open ``path``, wait for ``NT.ready()`` and fail on any problem of the page."""
    page.nt_problems.clear()
    response = page.goto(path)
    assert response is not None and response.status == status, \
        f"{path}: HTTP {response.status if response else None}"
    if ready:
        page.wait_for_selector('body[data-ready="1"]', timeout=READY_TIMEOUT_MS)
    if status >= 400:  # the page's own error status is what was asked for
        failed = "console: Failed to load resource: the server responded with a status of"
        own = (f"HTTP {status} GET {response.url}", f"{failed} {status}")
        page.nt_problems[:] = [p for p in page.nt_problems if not p.startswith(own)]
    assert not page.nt_problems, f"{path}: " + "; ".join(page.nt_problems)
    return response


def assert_clean(page) -> None:
    """No console error, page error or failed request since the last ``visit``."""
    assert not page.nt_problems, "; ".join(page.nt_problems)


def screenshot_dir() -> Path:
    if _state["shots"] is None:
        configured = os.environ.get("NENGTAN_SCREENSHOT_DIR")
        path = Path(configured) if configured else Path(
            __import__("tempfile").mkdtemp(prefix="nengtan-shots-"))
        path.mkdir(parents=True, exist_ok=True)
        _state["shots"] = path
    return _state["shots"]


def shot(page, name: str, *, full_page: bool = False) -> Path:
    """Save a PNG screenshot named ``name`` (``dashboard-zh.png``)."""
    path = screenshot_dir() / name
    page.screenshot(path=str(path), full_page=full_page)
    return path
