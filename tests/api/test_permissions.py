"""The permission matrix: every API route × every demo role (and an anonymous caller) × an
object inside and outside the caller's scope (issue 6, "How we will know").

Each role works on its own copy of the full demo park (SQLite), logged in through
``POST /api/auth/token`` (the administrators with a one-time code), so that one role's
changes never show in another's answers.  The status expected for (route, role, scope) is
derived from the policy, not written per cell:

* anonymous → 401, except the public routes (login, password change);
* a role without the route's permission (:mod:`nengtan.api.policy`, :mod:`nengtan.security.roles`)
  → 403, and so is a change of a shared catalogue or a read of the installation-wide ledger
  without a park-wide grant;
* with the permission but the object outside the caller's tenants (or, for the verifier,
  outside the granted inventory) → 404, whether it is named by id in the path or by code in
  the query (a create naming it in the body: 404 or 422, "unknown reference");
* otherwise the case's ``ok`` statuses (200, or 422 for a write that deliberately fails the
  service's own checks — ``permission_cases.py`` says what each request sends).

The user's scope (:class:`Access`) is computed from ``users_demo`` and the role table, not by
the code under test.  More checks, as ``cement_manager`` unless said otherwise:

* ``test_no_other_tenant_in_any_answer`` — no read (lists, searches, exports, CEM's own
  objects) shows anything of TEX, ELE or the park's own objects: codes, names, or their
  tenant/node/meter/inventory ids;
* ``test_guessing_ids_finds_nothing`` — for every GET route with an id in the path, a spread
  of the ids of its table: 404 unless the row is CEM's (or a shared catalogue's);
* ``test_references_to_another_tenant_are_refused`` — CEM objects created or changed to
  point at a TEX object (parent meter, formula, emission source link ...) are refused;
* ``test_verifier_sees_only_its_inventory`` — the verifier's own inventory whole (with the
  verification package), nothing else.

Findings in the product (a leak, or a status that differs from the policy) are marked
``xfail(strict=True)`` with a reason naming them — :data:`FINDINGS` (matrix and id guessing),
:data:`LEAKS_KNOWN`, :data:`CROSS_KNOWN` — so that a fix shows up as XPASS and the mark must
go.

``NENGTAN_PERM_TEST_DB=/path/demo.db`` uses an already built demo database (copied, never
changed) instead of the session's ``full_demo`` build, to iterate quickly; its evidence files
must then be in ``NENGTAN_EVIDENCE_DIR``.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import sqlite3
import time
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from nengtan.api import create_app, policy
from nengtan.api.routers import ROUTERS
from nengtan.demo import users_demo
from nengtan.security import roles, totp
from nengtan.services import identity
from nengtan.store import db
from nengtan.store.models.security import User

from . import permission_cases as pc

ANONYMOUS = "anonymous"
#: every demo user (users_demo.USERS and the verifier it adds)
DEMO_USERS = (*users_demo.USERS, "verifier")
ROLES_UNDER_TEST = (ANONYMOUS, *DEMO_USERS)


# -- the routes --------------------------------------------------------------------------------
def _api_routes() -> list[tuple[str, str]]:
    """(method, path) of every API route of the application as built today: the routers'
    routes, routes added to the application itself, and the OpenAPI document's operations."""
    app = create_app(create_engine("sqlite://"))
    candidates = [*(r for router in ROUTERS for r in router.routes), *app.routes]
    out = {(m, r.path) for r in candidates if getattr(r, "path", "").startswith("/api/")
           for m in (getattr(r, "methods", None) or ()) if m not in ("HEAD", "OPTIONS")}
    out |= {(m.upper(), path) for path, ops in app.openapi()["paths"].items()
            if path.startswith("/api/") for m in ops}
    return sorted(out)


ROUTES = _api_routes()


def test_every_route_has_a_rule_and_a_case():
    """A new endpoint cannot ship without a permission rule and a row in the case table."""
    without_rule = [r for r in ROUTES if policy.permission(*r) is None]
    without_case = [r for r in ROUTES if r not in pc.CASES]
    stale = [r for r in pc.CASES if r not in ROUTES]
    assert not without_rule, f"routes without a rule in nengtan.api.policy: {without_rule}"
    assert not without_case, f"routes without a case in permission_cases.py: {without_case}"
    assert not stale, f"cases of routes that do not exist: {stale}"


def test_changes_need_a_change_permission():
    """The policy itself: a route that changes something does not pass with a read
    permission, except the batch calculators (a POST that only reads) and the caller's own
    identity (login, password, TOTP, tokens)."""
    reads_by_design = {("POST", "/api/calc/energy"), ("POST", "/api/calc/carbon")}
    loose = [(m, r, policy.permission(m, r)) for m, r in ROUTES
             if m != "GET" and (m, r) not in reads_by_design and not r.startswith("/api/auth/")
             and str(policy.permission(m, r)).endswith(".read")]
    assert not loose, f"changes allowed by a read permission: {loose}"


# -- findings in the product: xfail(strict=True) until fixed -----------------------------------
#: Roles whose business scope is one enterprise (the others see the whole park or hold no
#: business role): they are the ones that can reach another tenant's object.
ONE_ENTERPRISE = ("cement_manager", "textile_manager", "cement_clerk", "verifier")

def _finding(*routes: tuple[str, str], reason: str) -> tuple[tuple[tuple[str, str], ...], str]:
    return routes, reason


#: (routes, reason).  Each reason names what leaks or which status is wrong, and the code
#: suspected of it.
FINDINGS: list[tuple[tuple[tuple[str, str], ...], str]] = [
    # none open: the findings of the first run (meter, node and CEMS sub-routes reading by a
    # path id, benchmark links, export/import, readings, CEMS samples and manual entries
    # naming another tenant's meter, nodes/tree?root=) are fixed by the path-id check in
    # api/auth.py, the body checks of api/tenancy.refuse_hidden and park-wide import/export
]


def _demo_perms(name: str) -> frozenset[str]:
    """Every permission a demo user holds somewhere (from users_demo and the role table)."""
    if name == "verifier":
        return roles.ROLES["verifier"]
    out: set[str] = set()
    for role, _node in users_demo.USERS.get(name, (None, []))[1]:
        out |= roles.ROLES[role]
    return frozenset(out)


KNOWN: dict[tuple[str, str, str], str] = {
    (name, method, route): reason
    for routes, reason in FINDINGS for method, route in routes for name in ONE_ENTERPRISE
    if set(str(policy.permission(method, route)).split("|")) & _demo_perms(name)}


# -- databases ---------------------------------------------------------------------------------
def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy (the online backup API, not a file copy)."""
    src, dst = sqlite3.connect(str(source)), sqlite3.connect(str(target))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _source_db(request) -> Path:
    prepared = os.environ.get("NENGTAN_PERM_TEST_DB")
    if prepared:
        return Path(prepared)
    engine, _report = request.getfixturevalue("full_demo")
    return Path(engine.url.database)


@dataclasses.dataclass
class Master:
    path: Path
    samples: pc.Samples
    access: dict[str, Access | None]
    api_tokens: dict[str, int]
    logout_tokens: dict[str, str]


@dataclasses.dataclass(frozen=True)
class Access:
    """What a demo user may do where, derived from the grants of ``users_demo`` and the role
    table (independently of :func:`nengtan.services.identity.principal_for`)."""

    by_tenant: dict[int, frozenset[str]]
    admin: frozenset[str]
    root: bool
    inventories: frozenset[int] | None

    def can(self, perm: str) -> bool:
        return perm in self.admin or any(perm in p for p in self.by_tenant.values())

    def sees(self, perm: str, tenant: int) -> bool:
        return perm in self.by_tenant.get(tenant, frozenset())


def _access(engine, username: str) -> Access:
    by_tenant: dict[int, set[str]] = {}
    admin: set[str] = set()
    root = False
    inventories = None
    with engine.connect() as conn:
        if username == "verifier":
            inv = conn.execute(text(
                "select i.id, i.tenant_id from role_grants g join users u on u.id = g.user_id "
                "join inventories i on i.id = g.inventory_id where u.username = 'verifier'")).one()
            inventories = frozenset({inv.id})
            by_tenant[inv.tenant_id] = set(roles.ROLES["verifier"])
        for role, node in users_demo.USERS.get(username, (None, []))[1]:
            if role in roles.ADMIN_ROLES:
                admin |= roles.ROLES[role]
                continue
            path, parent = conn.execute(text("select path, parent_id from nodes where code = :c"),
                                        {"c": node}).one()
            root = root or parent is None
            for (tenant,) in conn.execute(text(
                    "select distinct tenant_id from nodes where path like :p"), {"p": path + "%"}):
                by_tenant.setdefault(tenant, set()).update(roles.ROLES[role])
    return Access({t: frozenset(p) for t, p in by_tenant.items()}, frozenset(admin), root,
                  inventories)


@pytest.fixture(scope="module")
def master(request, tmp_path_factory):
    """A copy of the demo park with the objects the cases need (see ``permission_cases``)."""
    path = tmp_path_factory.mktemp("permissions") / "master.db"
    _copy_sqlite(_source_db(request), path)
    engine = db.make_engine(f"sqlite:///{path}")
    with Session(engine, expire_on_commit=False) as s, s.begin():
        admin = identity.get_user(s, "park_admin")
        setup_token = identity.open_session(s, admin).token
    with TestClient(create_app(engine)) as c:
        c.headers["Authorization"] = "Bearer " + setup_token
        pc.prepare(engine, c)
    api_tokens, logout_tokens = {}, {}
    with Session(engine, expire_on_commit=False) as s, s.begin():
        for name in DEMO_USERS:
            _value, row = identity.issue_api_token(s, name, "permission test",
                                                   actor=pc.SETUP)
            api_tokens[name] = row.id
            logout_tokens[name] = identity.open_session(s, identity.get_user(s, name)).token
    samples = pc.collect_samples(engine)
    access = {name: _access(engine, name) for name in DEMO_USERS}
    access[ANONYMOUS] = None
    engine.dispose()
    yield Master(path, samples, access, api_tokens, logout_tokens)
    _remove(path)


def _remove(path: Path) -> None:
    """Delete a database copy (and its WAL files): each is as large as the demo park."""
    for p in path.parent.glob(path.name + "*"):
        p.unlink()


def _totp_code(engine, username: str) -> str | None:
    """A one-time code the server accepts now: a step after the last one used and within the
    drift window (the demo build used the step it ran in)."""
    with Session(engine) as s:
        user = s.scalar(select(User).where(User.username == username))
        if not user.totp_secret:
            return None
        secret, last = user.totp_secret, user.totp_last_step
    while True:
        now_step = int(time.time() // totp.STEP_SECONDS)
        step = max(now_step, (last if last is not None else -1) + 1)
        if step <= now_step + totp.DRIFT_STEPS:
            return totp.code_at(secret, step * totp.STEP_SECONDS)
        time.sleep(1)


@dataclasses.dataclass
class Caller:
    name: str
    client: TestClient
    engine: object
    samples: pc.Samples


def _login(client: TestClient, engine, username: str) -> None:
    form = {"username": username, "password": users_demo.PASSWORD}
    code = _totp_code(engine, username)
    if code:
        form["totp"] = code
    r = client.post("/api/auth/token", data=form)
    assert r.status_code == 200, f"login of {username}: {r.status_code} {r.text}"
    client.headers["Authorization"] = "Bearer " + r.json()["access_token"]


def _caller_samples(master: Master, name: str) -> pc.Samples:
    """The samples with the caller's own objects: an API token of its own and of another user
    (SELF/OTHER) and a second session to log out."""
    other = "cement_manager" if name == "park_admin" else "park_admin"
    extra = {"api_token": {"SELF": master.api_tokens.get(name, 0),
                           "OTHER": master.api_tokens[other]},
             "logout_token": master.logout_tokens.get(name)}
    return dataclasses.replace(master.samples, by_scope={**master.samples.by_scope, **extra})


class Callers:
    """The role under test on its own copy of the prepared demo database, logged in.  The
    matrix is ordered by role, so one role's copy is open at a time (a 190 MB file each)."""

    def __init__(self, master: Master, root: Path):
        self.master, self.root = master, root
        self.current: Caller | None = None

    def get(self, name: str) -> Caller:
        if self.current is None or self.current.name != name:
            self.close()
            path = self.root / f"{name}.db"
            _copy_sqlite(self.master.path, path)
            engine = db.make_engine(f"sqlite:///{path}")
            client = TestClient(create_app(engine), raise_server_exceptions=False)
            client.__enter__()
            self.current = Caller(name, client, engine, _caller_samples(self.master, name))
            if name != ANONYMOUS:
                _login(client, engine, name)
        return self.current

    def close(self) -> None:
        if self.current is not None:
            self.current.client.__exit__(None, None, None)
            self.current.engine.dispose()
            _remove(self.root / f"{self.current.name}.db")
            self.current = None


@pytest.fixture(scope="module")
def callers(master, tmp_path_factory):
    pool = Callers(master, tmp_path_factory.mktemp("perm-roles"))
    yield pool
    pool.close()


# -- expected statuses -------------------------------------------------------------------------
def expected(access: Access | None, method: str, route: str, case: pc.Case, scope: str | None,
             samples: pc.Samples) -> frozenset[int]:
    """The statuses the policy allows for this call (see the module docstring)."""
    perm = policy.permission(method, route)
    if perm == policy.PUBLIC:
        return case.ok
    if access is None:
        return frozenset({401})
    if perm == policy.ANY:
        return case.out if scope == "OTHER" else case.ok
    # "a|b": either will do; the first one held decides the tenants (as in api/auth.py)
    perm = next((p for p in (perm or "").split("|") if p and access.can(p)), None)
    if perm is None:
        return frozenset({403})
    if policy.needs_root(method, route) and not access.root:
        return frozenset({403})
    if scope in (None, "SELF"):
        return case.ok
    visible = access.sees(perm, samples.tenants[scope])
    if case.inventory and access.inventories is not None:
        visible = visible and samples.inventories[scope] in access.inventories
    return case.ok if visible else case.out


def call(client: TestClient, method: str, req: pc.Req):
    kwargs = {"params": req.params, "headers": req.headers}
    if req.json is not None:
        kwargs["json"] = req.json
    if req.data is not None:
        kwargs["data"] = req.data
    if req.files is not None:
        kwargs["files"] = req.files
    if req.content is not None:
        kwargs["content"] = req.content
    return client.request(method, req.path, **kwargs)


def _matrix_params():
    """(role, method, route), ordered by role, then reads before writes before deletions."""
    def order(r):
        c = pc.CASES.get(r)
        return (c.phase if c else 0, r[1], r[0])

    out = []
    for name in ROLES_UNDER_TEST:
        for method, route in sorted(ROUTES, key=order):
            reason = KNOWN.get((name, method, route))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            out.append(pytest.param(name, method, route, marks=marks,
                                    id=f"{name}-{method}-{route}"))
    return out


@pytest.mark.parametrize(("name", "method", "route"), _matrix_params())
def test_permission_matrix(callers, master, name, method, route):
    case = pc.CASES.get((method, route))
    assert case is not None, f"no case for {method} {route} in permission_cases.py"
    caller = callers.get(name)
    access = master.access[name]
    samples = caller.samples
    wrong = []
    for scope in case.scopes or (None,):
        req = case.build(samples, scope)
        want = expected(access, method, route, case, scope, samples)
        r = call(caller.client, method, req)
        if r.status_code not in want:
            wrong.append(f"[{scope}] {req.path} {req.params or ''}: expected {sorted(want)}, "
                         f"got {r.status_code} {r.text[:300]}")
        elif want == pc.NOT_VISIBLE_REF and r.status_code == 422 and not any(
                scope.split("-")[0] in str(d.get("value")) for d in r.json()["detail"]):
            wrong.append(f"[{scope}] {req.path}: 422 without naming the {scope} object "
                         f"(refused for another reason, so scope is not tested): {r.text[:300]}")
    assert not wrong, f"{caller.name} {method} {route}:\n" + "\n".join(wrong)


# -- cement_manager: no other tenant in any answer, and no id to guess --------------------------
#: A code of another enterprise (TEX, ELE) at the start of a code: ``TEX``, ``TEX-E-101``,
#: ``INV-TEX-2025`` — not ``CEM-KL-TEX`` (a CEM fan) nor ``ELECTRICITY``.
OTHER_CODE = re.compile(r"(?<![A-Za-z0-9-])(?:INV-)?(?:TEX|ELE)(?:-[A-Z0-9]|(?![A-Za-z0-9]))")
OTHER_NAMES = ("鲁丰印染", "Lufeng", "智联电子", "Zhilian")
LEAK_USER = "cement_manager"
#: Reads that name another tenant without a code (ids in filters), or list without a filter;
#: /api/export/readings without meters is left out (it is the whole readings table).
EXTRA_PROBES: list[tuple[str, dict | None]] = [
    ("/api/nodes", {"tenant_id": "{TEX}", "limit": 1000}),
    ("/api/nodes/tree", None), ("/api/meters", {"limit": 1000}),
    ("/api/quality-events", None), ("/api/quality-events", {"tenant_id": "{TEX}"}),
    ("/api/quality/findings", {"origin": "all"}), ("/api/quality/rules", None),
    ("/api/manual-entries", None), ("/api/evidence", None), ("/api/cems/monitors", None),
    ("/api/production", {"limit": 1000}), ("/api/economics", {"limit": 1000}),
    ("/api/fuel-deliveries", {"limit": 1000}), ("/api/efficiency-indicators", None),
    ("/api/benchmarks/links", None), ("/api/inventories", None),
    ("/api/inventory-sources", None), ("/api/energy/coefficients", None),
    ("/api/dashboard", None), ("/api/meter-events", None),
    *((f"/api/export/{kind}", None) for kind in ("nodes", "meters", "meter_events",
                                                 "production", "economics", "fuel_deliveries")),
]
#: probe id -> reason (xfail strict)
LEAKS_KNOWN: dict[str, str] = {}


def _other_tenants(engine, own: int) -> dict[str, set]:
    """Ids of objects of every tenant but ``own`` (the park's own objects included)."""
    with engine.connect() as conn:
        def ids(sql):
            return {r[0] for r in conn.execute(text(sql), {"t": own})}
        return {"tenant_id": ids("select distinct tenant_id from nodes where tenant_id != :t"),
                "node_id": ids("select id from nodes where tenant_id != :t"),
                "meter_id": ids("select id from meters where tenant_id != :t"),
                "inventory_id": ids("select id from inventories where tenant_id != :t")}


def leaks(body: bytes, content_type: str, others: dict[str, set]) -> list[str]:
    """What in an answer belongs to another tenant: codes and names in the text (also inside
    an Excel file), and ids under the keys tenant_id, node_id, meter_id, inventory_id."""
    texts = []
    if body[:2] == b"PK":  # xlsx (or any zip): its XML parts
        with zipfile.ZipFile(io.BytesIO(body)) as z:
            texts = [z.read(n).decode("utf-8", "replace") for n in z.namelist()
                     if n.endswith(".xml")]
    else:
        texts = [body.decode("utf-8", "replace")]
    found = []
    for t in texts:
        found += sorted(set(OTHER_CODE.findall(t)))[:5]
        found += [n for n in OTHER_NAMES if n in t]
    if "json" in content_type:
        def walk(node):
            if isinstance(node, dict):
                for k, v in node.items():
                    if k in others and isinstance(v, int) and v in others[k]:
                        found.append(f"{k}={v}")
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        walk(json.loads(body))
    return found[:12]


@pytest.fixture(scope="module")
def reader(master, tmp_path_factory):
    """A read-only copy for the leak and id checks, with clients logged in on demand."""
    path = tmp_path_factory.mktemp("perm-read") / "demo.db"
    _copy_sqlite(master.path, path)
    engine = db.make_engine(f"sqlite:///{path}")
    clients: dict[str, TestClient] = {}

    def client(name: str) -> TestClient:
        if name not in clients:
            c = TestClient(create_app(engine), raise_server_exceptions=False)
            c.__enter__()
            _login(c, engine, name)
            clients[name] = c
        return clients[name]

    client.engine = engine
    yield client
    for c in clients.values():
        c.__exit__(None, None, None)
    engine.dispose()
    _remove(path)


def _leak_probes():
    """Every GET of the case table (with CEM's object where it names one; the park's own
    reports are left to the matrix) and the extra probes (``params`` not None)."""
    probes = []
    for method, route in ROUTES:
        case = pc.CASES.get((method, route))
        if method == "GET" and case and (not case.scopes or "CEM" in case.scopes):
            probes.append(pytest.param(route, None, id=route, marks=_leak_marks(route)))
    for route, params in EXTRA_PROBES:
        label = (route + "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params
                 else route + " (no filter)")
        probes.append(pytest.param(route, params or {}, id=label, marks=_leak_marks(label)))
    return probes


def _leak_marks(probe_id: str) -> list:
    reason = LEAKS_KNOWN.get(probe_id)
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


@pytest.mark.parametrize(("route", "params"), _leak_probes())
def test_no_other_tenant_in_any_answer(reader, master, route, params):
    """cement_manager's reads show nothing of another enterprise (TEX, ELE) or of the park's
    own objects: no codes or names, no ids of their tenants, nodes, meters or inventories.
    ``params`` None: the case table's request (CEM's object); a dict: that query as is."""
    client = reader(LEAK_USER)
    samples = master.samples
    if params is None:
        case = pc.CASES[("GET", route)]
        req = case.build(samples, "CEM" if case.scopes else None)
    else:
        req = pc.Req(route, params={k: str(samples.tenants["TEX"]) if v == "{TEX}" else v
                                    for k, v in params.items()})
    r = call(client, "GET", req)
    assert r.status_code < 500, f"{req.path}: {r.status_code} {r.text[:300]}"
    if r.status_code != 200:
        return
    found = leaks(r.content, r.headers.get("content-type", ""),
                  _other_tenants(reader.engine, samples.tenants["CEM"]))
    assert not found, f"{LEAK_USER} GET {req.path} {req.params or ''} shows {found}"


#: route prefix -> (table, which rows cement_manager may see: SQL over the table with :t = CEM's
#: tenant), for the routes with an integer id in the path.  Longest prefix wins.
ID_TABLES: dict[str, tuple[str, str]] = {
    "/api/nodes/": ("nodes", "tenant_id = :t"),
    "/api/meters/": ("meters", "tenant_id = :t"),
    "/api/meter-events/": ("meter_events", "tenant_id = :t"),
    "/api/quality/rules/": ("quality_rules", "tenant_id = :t"),
    "/api/manual-entries/": ("manual_entries", "tenant_id = :t"),
    "/api/evidence/": ("evidence_files", "tenant_id = :t"),
    "/api/cems/monitors/": ("cems_monitors", "tenant_id = :t"),
    "/api/tariffs/": ("tariffs", "1 = 1"),
    "/api/products/": ("products", "1 = 1"),
    "/api/production/": ("production_records", "tenant_id = :t"),
    "/api/economics/": ("economic_records", "tenant_id = :t"),
    "/api/fuel-deliveries/": ("fuel_deliveries", "tenant_id = :t"),
    "/api/energy/parameters/": ("energy_parameters", "tenant_id = :t or tenant_id is null"),
    "/api/efficiency-indicators/": ("efficiency_indicators", "tenant_id = :t"),
    "/api/benchmarks/links/": ("benchmark_links", ("node_id is null or node_id in "
                                                  "(select id from nodes where tenant_id = :t)")),
    "/api/inventories/": ("inventories", "tenant_id = :t"),
    "/api/inventory-sources/": ("emission_sources", "tenant_id = :t"),
    "/api/ledger/entries/": ("ledger_entries", "1 = 1"),
    "/api/dead-letters/": ("dead_letters", "1 = 1"),
    "/api/factors/": ("factor_values", "1 = 1"),
}
#: at most this many ids per table (each tenant's first and last, the rest spread evenly)
MAX_IDS = 60


def _id_routes() -> list:
    out = []
    for method, route in ROUTES:
        m = re.match(r"^(/api/.+?/)\{(\w+_id)\}", route)
        if method != "GET" or not m:
            continue
        prefix = max((p for p in ID_TABLES if route.startswith(p)), key=len, default=None)
        reason = KNOWN.get((LEAK_USER, method, route))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(route, prefix, m.group(2), marks=marks, id=route))
    return out


def _ids(engine, table: str, visible: str, tenant: int) -> list[tuple[int, bool]]:
    """(id, visible to cement_manager) for a spread of the table's ids and one past the end."""
    with engine.connect() as conn:
        rows = conn.execute(text(f"select id, case when {visible} then 1 else 0 end from "
                                 f"{table} order by id"), {"t": tenant}).all()
    if len(rows) > MAX_IDS:
        step = len(rows) / MAX_IDS
        keep = {int(i * step) for i in range(MAX_IDS)} | {0, len(rows) - 1}
        # the first and last id of each kind (visible / not) as well
        for flag in (0, 1):
            idx = [i for i, r in enumerate(rows) if r[1] == flag]
            keep |= set(idx[:1] + idx[-1:])
        rows = [rows[i] for i in sorted(keep)]
    out = [(int(i), bool(v)) for i, v in rows]
    return out + [(max((i for i, _ in out), default=0) + 1000, False)]


@pytest.mark.parametrize(("route", "prefix", "param"), _id_routes())
def test_guessing_ids_finds_nothing(reader, master, route, prefix, param):
    """cement_manager tries the ids of the route's table: each answers 404, unless its row is
    CEM's (or a shared catalogue's), which answers without 401/403/404 (200 for the object
    itself) and shows nothing of another tenant."""
    assert prefix is not None, f"{route}: add its table to ID_TABLES"
    client = reader(LEAK_USER)
    samples = master.samples
    case = pc.CASES[("GET", route)]
    template = case.build(samples, "CEM" if case.scopes else None)
    table, visible_sql = ID_TABLES[prefix]
    tenant = samples.tenants["CEM"]
    others = _other_tenants(reader.engine, tenant)
    want_denied = expected(master.access[LEAK_USER], "GET", route, case, None, samples)
    wrong = []
    for obj_id, visible in _ids(reader.engine, table, visible_sql, tenant):
        path = route.replace("{" + param + "}", str(obj_id)).replace("{view}", "scopes")
        r = call(client, "GET", dataclasses.replace(template, path=path))
        if want_denied == frozenset({403}):
            ok = r.status_code == 403
        elif not visible:
            ok = r.status_code == 404
        else:
            ok = r.status_code not in (401, 403, 404) and r.status_code < 500 and (
                r.status_code == 200 or route.count("/") > prefix.count("/"))
            if ok and r.status_code == 200:
                found = leaks(r.content, r.headers.get("content-type", ""), others)
                ok = not found
        if not ok:
            wrong.append(f"{path}: row {'visible' if visible else 'of another tenant'}, "
                         f"got {r.status_code} {r.text[:160]}")
    assert not wrong, f"{LEAK_USER} guessing ids of {route}:\n" + "\n".join(wrong[:15])


def test_verifier_sees_only_its_inventory(reader, master):
    """The verifier of CEM's inventory reads it whole (results, lineage, versions, sources,
    the verification package) and nothing else: another inventory of the same enterprise and
    other tenants' inventories answer 404, energy figures 403."""
    client = reader("verifier")
    s = master.samples
    own, other_cem, other = (s[k]["inventory_id"] for k in ("CEM", "CEM-X", "TEX"))
    own_code = s["CEM"]["inventory_code"]
    r = client.get("/api/inventories")
    assert r.status_code == 200 and [i["code"] for i in r.json()["items"]] == [own_code]
    sources = client.get("/api/inventory-sources", params={"limit": 1000}).json()["items"]
    assert sources and {x["inventory_id"] for x in sources} == {own}
    for sub in ("", "/results", "/results/sources", "/lineage", "/versions", "/sources"):
        assert client.get(f"/api/inventories/{own}{sub}").status_code == 200, sub
        for hidden in (other_cem, other):
            r = client.get(f"/api/inventories/{hidden}{sub}")
            assert r.status_code == 404, (sub, hidden, r.status_code, r.text[:200])
    r = client.get("/api/carbon/verification-package", params={"inventory": own_code})
    assert r.status_code == 200, r.text[:300]
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        names = z.namelist()
        assert names and any(own_code in z.read(n).decode("utf-8", "replace")
                             for n in names if n.endswith((".json", ".csv", ".txt", ".md")))
    assert not leaks(r.content, "", _other_tenants(reader.engine, s.tenants["CEM"]))
    for code in (s["CEM-X"]["inventory_code"], s["TEX"]["inventory_code"]):
        r = client.get("/api/carbon/verification-package", params={"inventory": code})
        assert r.status_code == 404, (code, r.status_code)
    r = client.get("/api/energy/totals", params={"node": "CEM", "period": pc.MONTH})
    assert r.status_code == 403


# -- writes about CEM's own objects that reference another tenant's ------------------------------
#: (id, method, path, body): cement_manager changes or creates a CEM object whose body names
#: a TEX object.  The TEX object does not exist for the caller: 404 or 422, nothing stored.
CROSS_REFERENCES: list[tuple[str, str, str, dict]] = [
    ("meter parent_meter", "POST", "/api/meters", {
        "code": "CEM-XREF-1", "name_zh": "交叉引用", "node": "CEM-S1", "carrier": "electricity",
        "unit": "kWh", "parent_meter": "TEX-E-101"}),
    ("meter flow_from", "POST", "/api/meters", {
        "code": "CEM-XREF-2", "name_zh": "交叉引用", "node": "CEM-S1", "carrier": "electricity",
        "unit": "kWh", "flow_from": "TEX-S1"}),
    ("virtual meter formula", "POST", "/api/meters", {
        "code": "CEM-XREF-3", "name_zh": "交叉引用", "node": "CEM-S1", "carrier": "electricity",
        "unit": "kWh", "kind": "virtual", "formula": "{TEX-E-101} + {CEM-E-101}"}),
    ("meter moved to a TEX node", "PATCH", "/api/meters/{CEM.meter_id}", {"node": "TEX-S1"}),
    ("node moved under TEX", "PATCH", "/api/nodes/{CEM.site_id}", {"parent": "TEX"}),
    ("emission source linked to a TEX meter", "POST", "/api/inventory-sources", {
        "code": "CEM-XREF-SRC", "name_zh": "交叉引用", "inventory": "INV-CEM-PERM",
        "kind": "electricity", "links": ["TEX-E-101"]}),
    ("emission source in a TEX inventory", "PATCH", "/api/inventory-sources/{CEM.source_id}",
     {"inventory": "INV-TEX-2025"}),
    ("efficiency indicator over TEX meters", "POST", "/api/efficiency-indicators", {
        "code": "CEM-XREF-EI", "name_zh": "交叉引用", "node": "CEM-S1",
        "kind": "boiler_efficiency", "numerator": ["TEX-S-201"], "denominator": ["TEX-G-201"],
        "params": {"steam_pressure_mpa": 1.0, "pressure_basis": "gauge",
                   "feedwater_temperature_c": 20.0}}),
    ("quality rule on a TEX meter", "POST", "/api/quality/rules", {
        "kind": "range", "meter": "TEX-E-101", "params": {"min": 0, "max": 10}}),
    ("quality run over a TEX meter", "POST", "/api/quality/run", {
        "start": "2026-10-05", "end": "2026-10-06", "meters": ["TEX-E-101"]}),
    ("TEX evidence attached to a CEM entry", "PUT",
     "/api/manual-entries/{CEM.draft_entry}/evidence/{TEX.evidence_id}", None),
    ("manual production entry for TEX", "POST", "/api/manual-entries", {
        "kind": "production", "payload": {"node": "TEX", "product": "DYED-FABRIC",
                                          "period_start": "2026-10-05",
                                          "period_end": "2026-10-06", "quantity": 1}}),
]
CROSS_KNOWN: dict[str, str] = {}


@pytest.fixture(scope="module")
def cross_writer(master, tmp_path_factory):
    """cement_manager on a copy of its own, with a draft manual entry of CEM."""
    path = tmp_path_factory.mktemp("perm-xref") / "demo.db"
    _copy_sqlite(master.path, path)
    engine = db.make_engine(f"sqlite:///{path}")
    with TestClient(create_app(engine), raise_server_exceptions=False) as client:
        _login(client, engine, LEAK_USER)
        r = client.post("/api/manual-entries", json={"kind": "production", "payload": {
            "node": "CEM", "product": "CLINKER", "period_start": "2026-10-05",
            "period_end": "2026-10-06", "quantity": 1}})
        assert r.status_code == 201, r.text
        yield client, engine, r.json()["id"]
    engine.dispose()
    _remove(path)


def _cross_params():
    return [pytest.param(*c[1:], id=c[0], marks=[pytest.mark.xfail(
        strict=True, reason=CROSS_KNOWN[c[0]])] if c[0] in CROSS_KNOWN else [])
        for c in CROSS_REFERENCES]


@pytest.mark.parametrize(("method", "path", "body"), _cross_params())
def test_references_to_another_tenant_are_refused(cross_writer, master, method, path, body):
    client, _engine, draft = cross_writer
    s = master.samples
    values = {f"{e}.{k}": v for e in pc.ENTERPRISES for k, v in s[e].items()}
    values["CEM.draft_entry"] = draft
    url = re.sub(r"\{([\w.]+)\}", lambda m: str(values[m.group(1)]), path)
    r = client.request(method, url, json=body)
    assert r.status_code in (404, 422), f"{method} {url}: {r.status_code} {r.text[:300]}"
    # refused for naming the TEX object, not for some other mistake of the request
    named = {str(d.get("value")) for d in r.json()["detail"]}
    tex = {str(values["TEX.evidence_id"])} if "evidence" in path else set(
        OTHER_CODE.findall(json.dumps(body, ensure_ascii=False)))
    assert any(v.startswith(tuple(tex)) for v in named), (named, tex, r.text[:300])
