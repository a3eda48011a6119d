"""Rendering console pages: the Jinja environment, the page context and the language choice.

Pages are thin shells: the template lays out the page and its page script fetches the data
from the JSON API with the user's session cookie, so authorization lives in one place (the
API).  The context every template gets is ``lang``, ``t`` (key → text in ``lang``),
``principal``, ``nav``, ``page``, ``query``, plus ``static`` (a URL with a cache-busting
version) and ``i18n`` (every ``web.*`` text of the language, embedded as JSON for ``NT.t``).

Language: ``?lang=en`` or ``?lang=zh-CN`` switches and is remembered in the ``nengtan_lang``
cookie; without either the console speaks zh-CN (most users read Chinese first).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from nengtan import __version__
from nengtan.api.auth import CSRF_COOKIE
from nengtan.i18n import DEFAULT_LANGUAGE, LANGUAGES, catalogue, normalise_language
from nengtan.i18n import t as translate
from nengtan.store.models import Node

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
LANG_COOKIE = "nengtan_lang"

LANG_COOKIE_AGE = 365 * 24 * 3600  # s: a language choice is kept for a year

#: Content-Security-Policy of console pages: scripts only from this server (no inline script;
#: JSON data blocks are not scripts), nothing from the internet.  Styles allow inline because
#: Plotly sets element styles and adds its own stylesheet at run time.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals["static"] = static_url
    env.globals["version"] = __version__
    return env


def requested_language(request: Request) -> tuple[str, bool]:
    """The page language and whether it was chosen by this request's ``?lang=`` (so the
    cookie must be set)."""
    asked = request.query_params.get("lang")
    if asked:
        return normalise_language(asked), True
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LANGUAGES:
        return cookie, False
    return DEFAULT_LANGUAGE, False


def remember_language(response, lang: str) -> None:
    response.set_cookie(LANG_COOKIE, lang, max_age=LANG_COOKIE_AGE, path="/", samesite="lax")


@lru_cache(maxsize=len(LANGUAGES))
def web_texts(lang: str) -> dict[str, str]:
    """Every ``web.*`` text of ``lang`` (falling back to the other language per key), which
    base.html embeds for the page scripts' ``NT.t``."""
    keys = {k for code in LANGUAGES for k in catalogue(code) if k.startswith("web.")}
    return {k: translate(k, lang) for k in sorted(keys)}


def static_url(path: str) -> str:
    """``/static/<path>?v=<mtime>`` so that browsers drop a cached file after an upgrade."""
    file = STATIC / path
    stamp = int(file.stat().st_mtime) if file.exists() else __version__
    return f"/static/{path}?v={stamp}"


def lang_switch_url(request: Request, lang: str) -> str:
    """The current URL with ``lang`` set (for the header's language switch)."""
    params = dict(request.query_params)
    params["lang"] = lang
    return f"{request.url.path}?{urlencode(params)}"


def scope_nodes(request: Request, principal, lang: str) -> list[dict]:
    """The nodes at the top of the user's granted scopes (a park, enterprises), for the
    header's scope indicator: ``[{id, code, name, kind}]``."""
    if principal is None or not principal.scope_node_ids:
        return []
    with Session(request.app.state.engine) as session:
        nodes = session.scalars(select(Node).where(Node.id.in_(principal.scope_node_ids))
                                .order_by(Node.depth, Node.sort_order, Node.code))
        return [{"id": n.id, "code": n.code, "kind": n.kind,
                 "name": (n.name_en or n.name_zh) if lang == "en" else n.name_zh}
                for n in nodes]


def render(request: Request, template: str, *, principal=None, page=None, nav=(),
           status_code: int = 200, **extra) -> HTMLResponse:
    """The HTML response of ``template`` in the request's language."""
    lang, chosen = requested_language(request)
    context = {
        "csrf": request.cookies.get(CSRF_COOKIE, ""),
        "scope": scope_nodes(request, principal, lang),
        "request": request, "lang": lang, "t": lambda key, **p: translate(key, lang, **p),
        "principal": principal, "nav": list(nav), "page": page,
        "query": dict(request.query_params), "i18n": web_texts(lang),
        "switch_url": lambda code: lang_switch_url(request, code)}
    context.update(extra)
    html = environment().get_template(template).render(context)
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Content-Security-Policy"] = CSP
    # X-Content-Type-Options, X-Frame-Options, Referrer-Policy: added to every answer by
    # nengtan.api.auth's middleware
    response.headers["Cache-Control"] = "no-store"
    if chosen:
        remember_language(response, lang)
    return response
