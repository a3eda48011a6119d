"""Console routes: login and logout, and one GET route per registered page.

The pages are shells; their data comes from the JSON API with the browser session cookie, so
the permission of a page here only decides whether it is linked and served — the API checks
every request again.  Anonymous visitors are sent to ``/login?next=<path>``; a user without
the page's permission gets the 403 page; a user who must change their password is sent to the
account page first.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from nengtan.api import auth
from nengtan.errors import InputError
from nengtan.i18n import t
from nengtan.services import identity
from nengtan.web import pages as registry
from nengtan.web.render import render, requested_language

router = APIRouter(include_in_schema=False)

#: Login errors the form explains with their own message (others: invalid credentials).
LOGIN_ERRORS = ("invalid_credentials", "locked", "disabled", "password_expired",
                "totp_required", "totp_invalid", "totp_not_enrolled")


def safe_next(target: str | None) -> str:
    """A redirect target after login: a local path only (``/energy?x=1``), never another
    site (``//evil.example``, ``/\\evil.example``, ``https://...``, a path with control
    characters or spaces), else ``/``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(c) < 33 or ord(c) == 127 for c in target):
        return "/"  # browsers drop tabs and line breaks: "/\t/evil.example" is "//evil..."
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def login_redirect(request: Request) -> RedirectResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(here, safe='')}", status_code=303)


def _login_csrf(request: Request) -> str:
    """The double-submit token of the login form: the CSRF cookie's value (set here if the
    browser has none yet), echoed in a hidden field, so another site cannot log a victim's
    browser into an account of its choosing."""
    return request.cookies.get(auth.CSRF_COOKIE) or secrets.token_urlsafe(24)


def _login_page(request: Request, *, error: str | None = None, message: str = "",
                username: str = "", step: str = "password", status_code: int = 200) -> Response:
    token = _login_csrf(request)
    response = render(request, "login.html", error=error, message=message, username=username,
                      step=step, password_min_length=request.app.state.settings.password_min_length,
                      csrf=token, next=safe_next(request.query_params.get("next")),
                      status_code=status_code)
    if request.cookies.get(auth.CSRF_COOKIE) != token:
        response.set_cookie(auth.CSRF_COOKIE, token, path="/", samesite="strict")
    return response


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _login_failed(request: Request, code: str, username: str, step: str,
                  detail: str = "") -> Response:
    lang, _ = requested_language(request)
    status = {"locked": 429, "csrf": 403, "mismatch": 422, "password_policy": 422}.get(code, 401)
    message = t(f"web.core.login.error.{code}", lang) + (f" {detail}" if detail else "")
    if _wants_json(request):
        return JSONResponse({"error": code, "message": message, "step": step},
                            status_code=status)
    return _login_page(request, error=code, message=message, username=username, step=step,
                       status_code=status)


@router.get("/login")
def login_form(request: Request) -> Response:
    principal = auth.principal_from_request(request)
    if principal is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return _login_page(request)


@router.post("/login")
def login_submit(request: Request, username: str = Form(""), password: str = Form(""),
                 totp: str = Form(""), csrf: str = Form(""),
                 next_path: str = Form("/", alias="next"),
                 new_password: str = Form(""), new_password2: str = Form("")) -> Response:
    """Check the credentials with :func:`nengtan.services.identity.login_committed` (a refusal
    counts towards the lock); on success start the browser session (cookies) and go to
    ``next``.  ``new_password`` answers an expired password: it is set only after the login has
    passed every other check (password, second factor), so the form cannot be used to guess
    passwords past the lockout."""
    cookie = request.cookies.get(auth.CSRF_COOKIE)
    if not cookie or not secrets.compare_digest(cookie, csrf):
        return _login_failed(request, "csrf", username, "password")
    username = username.strip()
    source = auth.client_address(request)
    engine, settings = request.app.state.engine, request.app.state.settings
    try:
        try:
            issued = identity.login_committed(engine, username, password, totp or None,
                                              source=source, settings=settings)
        except identity.AuthError as exc:
            if exc.code != "password_expired" or not new_password:
                raise
            if new_password != new_password2:
                return _login_failed(request, "mismatch", username, "expired")
            issued = identity.change_password_committed(
                engine, username, password, new_password, totp_code=totp or None,
                source=source, settings=settings, open_session_after=True)
    except identity.AuthError as exc:
        code = exc.code if exc.code in LOGIN_ERRORS else "invalid_credentials"
        step = {"totp_required": "totp", "totp_invalid": "totp",
                "password_expired": "expired"}.get(code, "password")
        return _login_failed(request, code, username, step)
    except InputError as exc:  # the new password breaks the policy
        lang, _ = requested_language(request)
        detail = " ".join(issue.message(lang) for issue in exc.issues)
        return _login_failed(request, "password_policy", username, "expired", detail)
    target = safe_next(next_path)
    if _wants_json(request):
        response: Response = JSONResponse({"redirect": target})
    else:
        response = RedirectResponse(target, status_code=303)
    auth.start_browser_session(response, issued, secure=request.url.scheme == "https")
    return response


@router.post("/logout")
def logout(request: Request, csrf: str = Form("")) -> Response:
    """End the browser session: the token is revoked server-side and both cookies cleared.
    Needs the CSRF token (header ``X-CSRF-Token`` or form field ``csrf``)."""
    cookie = request.cookies.get(auth.CSRF_COOKIE)
    sent = request.headers.get("x-csrf-token") or csrf
    if not cookie or not sent or not secrets.compare_digest(cookie, sent):
        return render(request, "error.html", status_code=403, code=403,
                      message_key="web.core.error.csrf")
    token = request.cookies.get(auth.COOKIE)
    if token:
        with Session(request.app.state.engine) as session, session.begin():
            identity.logout(session, token, source=auth.client_address(request))
    response = RedirectResponse("/login", status_code=303)
    auth.end_browser_session(response)
    return response


def _first_page(principal) -> str:
    for group in registry.navigation(principal):
        return group["pages"][0].path
    return "/account"


def _page_route(page: registry.Page):
    def show(request: Request) -> Response:
        principal = auth.principal_from_request(request)
        if principal is None:
            return login_redirect(request)
        if principal.must_change_password and page.slug != "account":
            return RedirectResponse("/account?must_change=1", status_code=303)
        if not page.allowed(principal):
            if page.path == "/":  # the home of a user who sees no dashboard
                return RedirectResponse(_first_page(principal), status_code=303)
            return render(request, "error.html", principal=principal, status_code=403,
                          nav=registry.navigation(principal), code=403,
                          message_key="web.core.error.forbidden")
        return render(request, page.template, principal=principal, page=page,
                      nav=registry.navigation(principal))

    show.__name__ = f"page_{page.slug}"
    return show


def add_pages(target: APIRouter) -> None:
    """One GET route per registered page."""
    for page in registry.registry():
        target.add_api_route(page.path, _page_route(page), methods=["GET"],
                             include_in_schema=False, name=f"page:{page.slug}")
