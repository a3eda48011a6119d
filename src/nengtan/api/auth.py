"""Authentication and authorization of every API request.

:func:`authorize` is a dependency of the whole application (``FastAPI(dependencies=...)``), so
no endpoint can be reached without passing it:

1. the caller is identified by ``Authorization: Bearer <token>`` (OAuth2 password flow,
   ``POST /api/auth/token``, or an API token) or by the console's session cookie; anonymous
   callers get **401** except on the :data:`~nengtan.api.policy.PUBLIC` endpoints;
2. a cookie-authenticated change must carry the ``X-CSRF-Token`` header equal to the
   ``nengtan_csrf`` cookie (double submit; the session cookie is also ``SameSite=Strict``);
3. the route's permission (:mod:`nengtan.api.policy`) must be held somewhere, else **403**;
4. the request's database session is filtered to the caller's tenants
   (:mod:`nengtan.api.tenancy`), so objects of other tenants answer **404**.

:func:`install` adds the audit middleware: every change and every export (with user, time,
client address, route, object ids and status) goes to the hash-chained audit log, and every
answer carries ``Server-Timing: app;dur=<ms>``.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime
from typing import Annotated

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from nengtan.api import policy, tenancy
from nengtan.api.errors import language
from nengtan.config import get_settings
from nengtan.errors import NotFound
from nengtan.i18n import t
from nengtan.security.principal import Principal
from nengtan.services import audit, identity
from nengtan.services.audit import Actor
from nengtan.store.models import (
    EconomicRecord,
    FuelDelivery,
    Meter,
    MeterEvent,
    Node,
    ProductionRecord,
    QualityEvent,
)
from nengtan.store.models.benchmark import BenchmarkLink
from nengtan.store.models.cems import CemsMonitor
from nengtan.store.models.efficiency import EfficiencyIndicator
from nengtan.store.models.energy import EnergyParameter
from nengtan.store.models.inventory import EmissionSource, Inventory
from nengtan.store.models.manual import EvidenceFile, ManualEntry
from nengtan.store.models.quality_rules import QualityRule

COOKIE = "nengtan_session"
CSRF_COOKIE = "nengtan_csrf"
CSRF_HEADER = "X-CSRF-Token"
_SAFE = ("GET", "HEAD", "OPTIONS")


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def presented_token(request: Request) -> tuple[str | None, bool]:
    """The presented token and whether it came from the cookie."""
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip(), False
    cookie = request.cookies.get(COOKIE)
    return (cookie, True) if cookie else (None, False)


def principal_from_request(request: Request) -> Principal | None:
    """Who is calling (bearer token or session cookie), or None; cached on the request."""
    if hasattr(request.state, "principal"):
        return request.state.principal
    token, from_cookie = presented_token(request)
    principal = None
    if token:
        with Session(request.app.state.engine, expire_on_commit=False) as session, \
                session.begin():
            principal = identity.resolve(session, token, source=client_address(request),
                                         settings=request.app.state.settings)
    request.state.principal = principal
    request.state.cookie_auth = from_cookie and principal is not None
    return principal


class AccessDenied(Exception):
    """401 (who are you?) or 403 (not with your role); ``key`` is the ``auth.*`` message."""

    def __init__(self, status: int, key: str):
        self.status = status
        self.key = key
        super().__init__(key)

    def response(self, request: Request) -> JSONResponse:
        code = self.key.removeprefix("auth.")
        detail = [{"row": None, "field": None, "rule": code, "value": None,
                   "message": t(self.key, "en"), "message_zh": t(self.key, "zh-CN")}]
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        return JSONResponse({"message": t(self.key, language(request)), "code": code,
                             "detail": detail}, status_code=self.status, headers=headers)


#: Query parameters that name an object by code: (model, code column).  An object of another
#: tenant answers 404 before the endpoint runs, whatever else the request holds.
_CODE_PARAMS = {"node": Node, "park": Node, "enterprise": Node, "tenant": Node, "parent": Node,
                "root": Node, "meter": Meter, "inventory": Inventory}
#: Query parameters that are comma-separated lists of codes.
_CODE_LIST_PARAMS = {"meters": Meter}


#: Path parameters that are ids of tenant-owned objects: (route prefix, parameter) → model.
#: Checked through the tenant-filtered session before the endpoint runs, so that no endpoint
#: (also one that reads with Core statements) can reach another tenant's object by its id.
_PATH_OBJECTS = {
    ("/api/meters/", "meter_id"): Meter, ("/api/nodes/", "node_id"): Node,
    ("/api/cems/monitors/", "monitor_id"): CemsMonitor,
    ("/api/inventories/", "inventory_id"): Inventory,
    ("/api/manual-entries/", "entry_id"): ManualEntry,
    ("/api/manual-entries/", "evidence_id"): EvidenceFile,
    ("/api/evidence/", "evidence_id"): EvidenceFile,
    ("/api/benchmarks/links/", "link_id"): BenchmarkLink,
    ("/api/efficiency-indicators/", "indicator_id"): EfficiencyIndicator,
    ("/api/quality/rules/", "rule_id"): QualityRule,
    ("/api/inventory-sources/", "source_id"): EmissionSource,
    ("/api/fuel-deliveries/", "delivery_id"): FuelDelivery,
    ("/api/energy/parameters/", "param_id"): EnergyParameter,
    ("/api/meter-events/", "event_id"): MeterEvent,
    ("/api/quality-events/", "event_id"): QualityEvent,
    ("/api/production/", "record_id"): ProductionRecord,
    ("/api/economics/", "record_id"): EconomicRecord,
}


_OBJECT_KINDS = {
    Meter: "meter", Node: "node", CemsMonitor: "cems monitor", Inventory: "inventory",
    ManualEntry: "manual entry", EvidenceFile: "evidence file", BenchmarkLink: "benchmark link",
    EfficiencyIndicator: "efficiency indicator", QualityRule: "quality rule",
    EmissionSource: "emission source", FuelDelivery: "fuel delivery",
    EnergyParameter: "energy parameter", MeterEvent: "meter event",
    QualityEvent: "quality event", ProductionRecord: "production record",
    EconomicRecord: "economic record",
}


def _check_objects(request: Request, principal: Principal, perm: str, route: str) -> None:
    """404 for an object the caller may not reach, named by an id in the path or by a code in
    the query (one session, opened only when the request names objects).  Query codes that
    name nothing are left to the endpoint (its usual 422 naming the field)."""
    refs = [(model, value) for name, model in _CODE_PARAMS.items()
            for value in request.query_params.getlist(name) if value]
    refs += [(model, code.strip()) for name, model in _CODE_LIST_PARAMS.items()
             for value in request.query_params.getlist(name) for code in value.split(",")
             if code.strip()]
    ids = [(model, value) for (prefix, name), model in _PATH_OBJECTS.items()
           if route.startswith(prefix) and (value := request.path_params.get(name)) is not None]
    if not refs and not ids:
        return
    with Session(request.app.state.engine) as session:
        tenancy.bind(session, principal, perm)
        # codes: looked up unfiltered, so that a code naming nothing stays the endpoint's 422
        conn = session.connection()
        for model, value in refs:
            row = conn.execute(select(model.id).where(model.code == value)).first()
            if row is not None and session.get(model, row.id) is None:
                raise NotFound(_OBJECT_KINDS[model], value)
        for model, value in ids:
            try:
                key = int(value)
            except ValueError:
                continue  # the endpoint's validation names it
            if session.get(model, key) is None:
                raise NotFound(_OBJECT_KINDS[model], key)


def _route_path(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", request.url.path)


#: Declares the OAuth2 password flow in the OpenAPI document (the /docs page's "Authorize"
#: button); the token itself is read by :func:`principal_from_request`.
OAUTH2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False,
                              description="OAuth2 password flow / 用户名密码换取令牌")


def authorize(request: Request,
              _bearer: Annotated[str | None, Depends(OAUTH2)] = None) -> Principal | None:
    """The application-wide check (see the module docstring)."""
    path = request.url.path
    if not path.startswith("/api/"):
        return None
    method, route = request.method.upper(), _route_path(request)
    perm = policy.permission(method, route)
    request.state.permission = perm
    if perm == policy.PUBLIC:
        return principal_from_request(request)
    principal = principal_from_request(request)
    if principal is None:
        raise AccessDenied(401, "auth.unauthenticated")
    if request.state.cookie_auth and method not in _SAFE:
        sent, expected = request.headers.get(CSRF_HEADER), request.cookies.get(CSRF_COOKIE)
        if not sent or not expected or not secrets.compare_digest(sent, expected):
            raise AccessDenied(403, "auth.csrf")
    if principal.must_change_password and not route.startswith("/api/auth/"):
        raise AccessDenied(403, "auth.password_change_required")
    if perm == policy.ANY:
        return principal
    held = next((p for p in (perm or "").split("|") if p and principal.can(p)), None)
    if held is None:
        raise AccessDenied(403, "auth.forbidden")
    perm = request.state.permission = held
    if policy.needs_root(method, route) and not principal.root_scope:
        raise AccessDenied(403, "auth.forbidden_shared")
    _check_objects(request, principal, perm, route)
    return principal


def current_principal(request: Request) -> Principal:
    """For endpoints that need the caller (after :func:`authorize` has run)."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise AccessDenied(401, "auth.unauthenticated")
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def acting(request: Request) -> Actor:
    """The audit actor of a request: the logged-in user and the client address."""
    return Actor(current_principal(request).username, client_address(request))


ActorDep = Annotated[Actor, Depends(acting)]


def start_browser_session(response: Response, issued: identity.Issued,
                          secure: bool | None = None) -> str:
    """Set the session cookie (HttpOnly, SameSite=Strict; Secure when ``cookie_secure`` is
    set) and the CSRF cookie (readable by the console's script); returns the CSRF token."""
    secure = bool(secure) or get_settings().cookie_secure
    csrf = secrets.token_urlsafe(24)
    max_age = None
    if isinstance(issued.expires_at, datetime):
        max_age = max(0, int(issued.expires_at.timestamp() - time.time()))
    response.set_cookie(COOKIE, issued.token, max_age=max_age, httponly=True, samesite="strict",
                        secure=secure, path="/")
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, httponly=False, samesite="strict",
                        secure=secure, path="/")
    return csrf


def end_browser_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


#: sent with every answer: no MIME sniffing, no framing by other sites, no referrer to others
_SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "SAMEORIGIN",
                     "Referrer-Policy": "same-origin"}


def install(app: FastAPI) -> None:
    """Answer refusals in the API's error shape; audit every change and export; time every
    answer and add the security headers."""

    @app.exception_handler(AccessDenied)
    async def denied(request: Request, exc: AccessDenied) -> JSONResponse:
        return exc.response(request)

    @app.middleware("http")
    async def audit_and_time(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        elapsed = (time.perf_counter() - started) * 1000
        response.headers["Server-Timing"] = f"app;dur={elapsed:.1f}"
        for header, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        path = request.url.path
        if path.startswith("/api/"):
            method, route = request.method.upper(), _route_path(request)
            if method not in _SAFE:  # whatever it changed shows on the next screen
                request.app.state.kept_answers.clear()
            audited = (method not in _SAFE or policy.is_export(method, route))
            if audited and policy.permission(method, route) != policy.PUBLIC:
                await run_in_threadpool(_record, request, method, route, response.status_code)
        return response


def _record(request: Request, method: str, route: str, status: int) -> None:
    principal = getattr(request.state, "principal", None)
    params = request.scope.get("path_params") or {}
    object_id = next(iter(params.values()), None) if params else None
    kind = "export" if method in _SAFE else "write"
    with Session(request.app.state.engine) as session, session.begin():
        audit.record(session, user=principal.username if principal else "-",
                     action=f"api.{kind}", object_type=route[:40],
                     object_id=None if object_id is None else str(object_id)[:64],
                     source=client_address(request),
                     detail={"method": method, "route": route, "path": request.url.path,
                             "query": str(request.url.query)[:500] or None,
                             "status": status})
