"""Identity, sessions and the audit log through the API (GB/T 22239-2019 8.1.4.1/8.1.4.3):
lockout, session expiry, TOTP for administrators, 三员分立, password policy and expiry, CSRF,
API tokens, disabled users, and an audit chain that detects a deleted row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from nengtan.api import create_app
from nengtan.api.auth import COOKIE, CSRF_COOKIE
from nengtan.config import Settings
from nengtan.security import totp
from nengtan.services import identity
from nengtan.services.audit import Actor
from nengtan.store.base import utcnow
from nengtan.store.models.security import AuthSession, User

PASSWORD = "Correct@Horse42"
SETUP = Actor("setup", "test")


def make_user(engine, username, *grants, password=PASSWORD, enrol=False):
    """A user with (role, node) grants; ``enrol``: a confirmed TOTP secret (returned)."""
    with Session(engine) as s, s.begin():
        identity.create_user(s, username, password, actor=SETUP)
        for role, node in grants:
            identity.grant(s, username, role, node_code=node, actor=SETUP)
        if enrol:
            secret, _ = identity.enrol_totp(s, username, actor=SETUP)
            user = identity.get_user(s, username)
            user.totp_confirmed = True
            return secret
    return None


@pytest.fixture
def app(engine):
    return create_app(engine, Settings(lockout_threshold=3, lockout_minutes=15,
                                       session_idle_minutes=30, session_max_hours=12))


@pytest.fixture
def anon(app):
    with TestClient(app) as c:
        yield c


@pytest.fixture
def tree(engine):
    """Park P with enterprises E1 and E2 (created without the API: no one may log in yet)."""
    from nengtan.services import org
    with Session(engine) as s, s.begin():
        for code, kind, parent in (("P", "park", None), ("E1", "enterprise", "P"),
                                   ("E2", "enterprise", "P")):
            org.create(s, {"code": code, "name_zh": code, "kind": kind, "parent": parent})
    make_user(engine, "mgr1", ("energy_manager", "E1"))
    make_user(engine, "pm", ("park_manager", "P"))


def login(client, username, password=PASSWORD, **form):
    return client.post("/api/auth/token", data={"username": username, "password": password,
                                                **form})


def bearer(client, username, **form):
    r = login(client, username, **form)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["access_token"]
    return {"Authorization": f"Bearer {body['access_token']}"}


def test_every_endpoint_but_login_needs_a_token(app, anon, tree):
    opened = []
    paths = anon.get("/openapi.json").json()["paths"]
    assert len(paths) > 140
    for path, operations in paths.items():
        url = path.replace("{", "").replace("}", "")  # any value: refused before it matters
        for method in map(str.upper, operations):
            status = anon.request(method, url).status_code
            if status != 401:
                opened.append((method, path, status))
    assert sorted(opened) == [("POST", "/api/auth/password", 422),
                              ("POST", "/api/auth/token", 422)]
    r = anon.get("/api/nodes")
    assert r.headers["www-authenticate"] == "Bearer" and r.json()["code"] == "unauthenticated"
    assert anon.get("/api/nodes", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_lockout_after_repeated_failures(engine, anon, tree):
    for _ in range(2):
        assert login(anon, "mgr1", "wrong").json()["code"] == "invalid_credentials"
    third = login(anon, "mgr1", "wrong")
    assert third.status_code == 401 and third.json()["code"] == "locked"
    # locked: even the right password is refused, with the same answer
    assert login(anon, "mgr1").json()["code"] == "locked"
    with Session(engine) as s:
        user = s.scalar(select(User).where(User.username == "mgr1"))
        assert user.locked_until > utcnow() + timedelta(minutes=14)
    # unknown users are refused like wrong passwords (no user enumeration)
    assert login(anon, "nobody").json()["code"] == "invalid_credentials"
    # the security administrator unlocks
    secret = make_user(engine, "sec", ("security_admin", None), enrol=True)
    h = bearer(anon, "sec", totp=totp.code_at(secret))
    assert anon.post("/api/users/mgr1/unlock", headers=h).status_code == 200
    assert login(anon, "mgr1").status_code == 200


def test_session_idle_timeout_and_expiry(engine, anon, tree):
    h = bearer(anon, "mgr1")
    assert anon.get("/api/nodes", headers=h).status_code == 200
    with Session(engine) as s, s.begin():
        s.execute(update(AuthSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    assert anon.get("/api/nodes", headers=h).status_code == 401
    h = bearer(anon, "mgr1")
    with Session(engine) as s, s.begin():
        s.execute(update(AuthSession).where(AuthSession.revoked_at.is_(None))
                  .values(expires_at=utcnow() - timedelta(seconds=1)))
    assert anon.get("/api/nodes", headers=h).status_code == 401
    h = bearer(anon, "mgr1")
    assert anon.post("/api/auth/logout", headers=h).status_code == 204
    assert anon.get("/api/nodes", headers=h).status_code == 401


def test_administrators_need_totp(engine, anon, tree):
    secret = make_user(engine, "root", ("system_admin", None), enrol=True)
    assert login(anon, "root").json()["code"] == "totp_required"
    assert login(anon, "root", totp="000000").json()["code"] == "totp_invalid"
    code = totp.code_at(secret)
    h = bearer(anon, "root", totp=code)
    assert login(anon, "root", totp=code).json()["code"] == "totp_invalid"  # no replay
    assert anon.get("/api/users", headers=h).status_code == 200
    # the system administrator sees no business data (三员分立)
    assert anon.get("/api/nodes", headers=h).status_code == 403
    # an administrator without an enrolled authenticator cannot log in at all
    make_user(engine, "aud", ("auditor", None))
    assert login(anon, "aud").json()["code"] == "totp_not_enrolled"
    # business users need no second factor
    assert login(anon, "mgr1").status_code == 200


def test_separation_of_duties_and_grants(engine, anon, tree):
    secret = make_user(engine, "sec", ("security_admin", None), enrol=True)
    h = bearer(anon, "sec", totp=totp.code_at(secret))
    make_user(engine, "ops", ("system_admin", None))
    r = anon.post("/api/users/ops/grants", headers=h, json={"role": "auditor"})
    assert r.status_code == 422 and r.json()["detail"][0]["rule"] == "separation.admins"
    r = anon.post("/api/users/mgr1/grants", headers=h, json={"role": "auditor"})
    assert r.json()["detail"][0]["rule"] == "separation.admin_business"
    r = anon.post("/api/users/mgr1/grants", headers=h, json={"role": "viewer", "node": "E2"})
    assert r.status_code == 201
    # the security administrator grants, but cannot create users (the system administrator)
    assert anon.post("/api/users", headers=h, json={
        "username": "x", "password": PASSWORD}).status_code == 403
    # a verifier grant must end
    r = anon.post("/api/users/mgr1/grants", headers=h, json={"role": "verifier",
                                                             "inventory_id": 1})
    assert r.status_code == 422


def test_password_policy_and_expiry(engine, anon, tree):
    secret = make_user(engine, "root", ("system_admin", None), enrol=True)
    h = bearer(anon, "root", totp=totp.code_at(secret))
    weak = anon.post("/api/users", headers=h, json={"username": "zhang", "password": "zhang123"})
    assert weak.status_code == 422
    assert {d["rule"] for d in weak.json()["detail"]} == {
        "password.too_short", "password.too_simple", "password.contains_username"}
    assert anon.post("/api/users", headers=h, json={
        "username": "zhang", "password": PASSWORD, "must_change": True}).status_code == 201
    # must change at first login: refused until changed, without a session
    assert login(anon, "zhang").json()["code"] == "password_expired"
    r = anon.post("/api/auth/password", json={"username": "zhang", "current_password": "bad",
                                              "new_password": "Another@Pass77"})
    assert r.status_code == 401
    r = anon.post("/api/auth/password", json={"username": "zhang",
                                              "current_password": PASSWORD,
                                              "new_password": PASSWORD})
    assert r.status_code == 422 and r.json()["detail"][0]["rule"] == "password.reused"
    assert anon.post("/api/auth/password", json={
        "username": "zhang", "current_password": PASSWORD,
        "new_password": "Another@Pass77"}).status_code == 204
    assert login(anon, "zhang", "Another@Pass77").status_code == 200
    # a password older than the maximum age expires
    with Session(engine) as s, s.begin():
        s.execute(update(User).where(User.username == "mgr1")
                  .values(password_changed_at=utcnow() - timedelta(days=91)))
    assert login(anon, "mgr1").json()["code"] == "password_expired"


def test_browser_session_needs_the_csrf_header(app, tree):
    with TestClient(app) as browser:
        r = login(browser, "pm")
        token = r.json()["access_token"]
        browser.cookies.set(COOKIE, token)
        browser.cookies.set(CSRF_COOKIE, "csrf-value")
        assert browser.get("/api/nodes").status_code == 200
        body = {"code": "S9", "name_zh": "厂区", "kind": "site", "parent": "E1"}
        r = browser.post("/api/nodes", json=body)
        assert r.status_code == 403 and r.json()["code"] == "csrf"
        r = browser.post("/api/nodes", json=body, headers={"X-CSRF-Token": "csrf-value"})
        assert r.status_code == 201


def test_api_tokens_and_disabled_users(engine, anon, tree):
    h = bearer(anon, "mgr1")
    r = anon.post("/api/auth/api-tokens", headers=h, json={"name": "MES", "valid_days": 30})
    assert r.status_code == 201
    token = {"Authorization": f"Bearer {r.json()['token']}"}
    assert anon.get("/api/auth/me", headers=token).json()["session_kind"] == "api"
    # an integration token cannot mint more tokens
    assert anon.post("/api/auth/api-tokens", headers=token, json={"name": "x"}).status_code == 403
    listed = anon.get("/api/auth/api-tokens", headers=h).json()
    assert [t["name"] for t in listed] == ["MES"] and "token" not in listed[0]
    assert anon.delete(f"/api/auth/api-tokens/{listed[0]['id']}", headers=h).status_code == 204
    assert anon.get("/api/nodes", headers=token).status_code == 401
    # disabling a user ends their sessions
    secret = make_user(engine, "root", ("system_admin", None), enrol=True)
    admin = bearer(anon, "root", totp=totp.code_at(secret))
    assert anon.post("/api/users/mgr1/disable", headers=admin).json()["disabled"] is True
    assert anon.get("/api/nodes", headers=h).status_code == 401
    assert login(anon, "mgr1").json()["code"] == "disabled"


def test_scope_of_an_enterprise_user(anon, tree):
    h = bearer(anon, "mgr1")
    codes = {n["code"] for n in anon.get("/api/nodes", headers=h).json()["items"]}
    assert codes == {"E1"}
    assert anon.get("/api/energy/query", headers=h,
                    params={"node": "E2", "period": "2026-01"}).status_code == 404
    everything = bearer(anon, "pm")
    assert {n["code"] for n in anon.get("/api/nodes", headers=everything).json()["items"]} == {
        "P", "E1", "E2"}
    me = anon.get("/api/auth/me", headers=h).json()
    assert me["roles"] == ["energy_manager"] and [n["code"] for n in me["scope_nodes"]] == ["E1"]


def test_audit_log_records_logins_writes_and_exports_and_detects_a_deleted_row(
        engine, anon, tree):
    h = bearer(anon, "pm")
    login(anon, "pm", "wrong")
    assert anon.post("/api/nodes", headers=h, json={
        "code": "S1", "name_zh": "厂区", "kind": "site", "parent": "E1"}).status_code == 201
    assert anon.get("/api/export/nodes", headers=h).status_code == 200
    secret = make_user(engine, "aud", ("auditor", None), enrol=True)
    auditor = bearer(anon, "aud", totp=totp.code_at(secret))
    # only the auditor reads the log
    assert anon.get("/api/audit-log", headers=h).status_code == 403
    rows = anon.get("/api/audit-log", headers=auditor, params={"limit": 1000}).json()["items"]
    actions = [(r["user"], r["action"]) for r in rows]
    assert ("pm", "login.success") in actions and ("pm", "login.failure") in actions
    write = next(r for r in rows if r["action"] == "api.write")
    assert write["user"] == "pm" and write["source"] == "testclient"
    assert write["detail"]["route"] == "/api/nodes" and write["detail"]["status"] == 201
    export = next(r for r in rows if r["action"] == "api.export")
    assert export["detail"]["path"] == "/api/export/nodes"
    assert anon.get("/api/audit-log/verify", headers=auditor).json()["ok"] is True
    victim = write["id"]
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = :i"), {"i": victim})
    report = anon.get("/api/audit-log/verify", headers=auditor).json()
    assert report["ok"] is False and report["problem"] == "missing_row"
    assert report["first_bad_id"] == victim + 1


def test_verifier_grant_expires(engine, anon, tree):
    from nengtan.store.models.security import RoleGrant
    make_user(engine, "ver")
    with Session(engine) as s, s.begin():
        # a grant on an enterprise as viewer stands in for the inventory (none here); what is
        # tested is the end of validity
        user = identity.get_user(s, "ver")
        s.add(RoleGrant(user_id=user.id, role="viewer", node_id=None,
                        valid_until=utcnow() + timedelta(days=1), granted_by="t"))
    h = bearer(anon, "ver")
    assert anon.get("/api/nodes", headers=h).status_code == 200
    with Session(engine) as s, s.begin():
        s.execute(update(RoleGrant).values(valid_until=utcnow() - timedelta(seconds=1)))
    assert anon.get("/api/nodes", headers=h).status_code == 403
