"""``nengtan user ...`` against a real SQLite database through nengtan.services.identity: the
first administrator on a fresh install with its second factor, roles with scopes (三员分立
enforced, all or nothing), password resets, disable/enable/unlock, grants and revocation,
API tokens — and every change audited as ``cli:<OS user>``."""

from __future__ import annotations

import getpass
import json
import time

import pyotp
import pytest
import typer
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from nengtan.commands import users
from nengtan.security import totp
from nengtan.services import audit, identity, org
from nengtan.services.identity import AuthError
from nengtan.store import db as dbmod
from nengtan.store.models.manual import AuditRecord

PASSWORD = "Qingdao#Energy2026"
root = typer.Typer()
root.add_typer(users.app, name="user")
runner = CliRunner()


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'users.db'}"
    from nengtan.commands.common import engine

    eng = engine(url)
    with Session(eng) as s, s.begin():
        org.create(s, {"code": "P", "name_zh": "示范园区", "kind": "park"})
        org.create(s, {"code": "E1", "name_zh": "一号企业", "kind": "enterprise", "parent": "P"})
        org.create(s, {"code": "S1", "name_zh": "一号厂区", "kind": "site", "parent": "E1"})
    eng.dispose()
    return url


def cli(db, *args, input=None):
    return runner.invoke(root, ["user", *map(str, args), "--db", db], input=input)


def ok(result):
    assert result.exit_code == 0, result.output
    return result.output


def login(db, username, password=PASSWORD, code=None):
    eng = dbmod.make_engine(db)
    try:
        return identity.login_committed(eng, username, password, code, source="test")
    finally:
        eng.dispose()


def listing(db) -> dict[str, dict]:
    return {u["username"]: u for u in json.loads(ok(cli(db, "list", "--json")))}


def audit_rows(db):
    eng = dbmod.make_engine(db)
    with Session(eng) as s:
        rows = [(r.user_name, r.action, r.object_id, r.source)
                for r in s.scalars(select(AuditRecord).order_by(AuditRecord.id))]
        assert audit.verify_chain(s).ok
    eng.dispose()
    return rows


def test_first_administrator_with_second_factor(db):
    out = ok(cli(db, "create", "admin", "--role", "system_admin", "--name", "系统管理员",
                 "--password-stdin", input=PASSWORD + "\n"))
    assert "已创建用户 admin" in out and "created user admin" in out
    assert "nengtan user totp admin" in out  # administrators need the second factor
    with pytest.raises(AuthError) as exc:
        login(db, "admin")
    assert exc.value.code == "totp_not_enrolled"

    out = ok(cli(db, "totp", "admin", "--no-prompt"))
    secret = next(line.split()[1] for line in out.splitlines() if line.startswith("secret:"))
    assert "otpauth://totp/" in out and secret in out
    assert listing(db)["admin"]["totp"] == "pending"
    wrong = cli(db, "totp", "admin", "--confirm", "000000" if pyotp.TOTP(secret).now() != "000000"
                else "111111")
    assert wrong.exit_code == 2 and "动态口令错误" in wrong.output
    ok(cli(db, "totp", "admin", "--confirm", pyotp.TOTP(secret).now()))
    assert listing(db)["admin"]["totp"] == "confirmed"
    with pytest.raises(AuthError) as exc:
        login(db, "admin")
    assert exc.value.code == "totp_required"
    # the code just used to confirm is spent (no replay); the next step's is accepted (drift)
    issued = login(db, "admin", code=totp.code_at(secret, time.time() + totp.STEP_SECONDS))
    assert issued.principal.can("users.admin") and issued.principal.roles == {"system_admin"}
    me = f"cli:{getpass.getuser()}"
    assert [r for r in audit_rows(db) if r[3] == "cli"] == [
        (me, "user.create", "admin", "cli"), (me, "grant.create", "admin", "cli"),
        (me, "totp.enrol", "admin", "cli"), (me, "totp.confirm", "admin", "cli")]


def test_totp_enrolment_confirmed_at_the_prompt(db, monkeypatch):
    ok(cli(db, "create", "secadmin", "--role", "security_admin", "--password-stdin",
           input=PASSWORD + "\n"))
    secret = pyotp.random_base32()
    monkeypatch.setattr(totp, "new_secret", lambda: secret)
    out = ok(cli(db, "totp", "secadmin", input=pyotp.TOTP(secret).now() + "\n"))
    assert "已确认绑定" in out and listing(db)["secadmin"]["totp"] == "confirmed"
    # no terminal answer: the enrolment stays pending and says how to finish it
    out = ok(cli(db, "totp", "secadmin", input=""))
    assert "--confirm" in out and listing(db)["secadmin"]["totp"] == "pending"


def test_password_from_the_hidden_prompt_must_match(db):
    bad = cli(db, "create", "li", "--role", "viewer", "--node", "P",
              input=f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n")
    assert bad.exit_code == 0, bad.output  # asked again after the mismatch
    assert "li" in listing(db)
    assert login(db, "li").principal.roles == {"viewer"}


def test_business_roles_pair_with_their_nodes(db):
    ok(cli(db, "create", "zhang", "--role", "energy_manager", "--node", "E1",
           "--role", "carbon_manager", "--name", "张伟", "--password-stdin",
           input=PASSWORD + "\n"))
    grants = listing(db)["zhang"]["grants"]
    assert [(g["role"], g["scope"]) for g in grants] == [("energy_manager", "E1"),
                                                        ("carbon_manager", "E1")]
    principal = login(db, "zhang").principal
    assert principal.can("carbon.write") and not principal.can("users.admin")

    r = cli(db, "create", "wang", "--role", "viewer", "--role", "data_clerk",
            "--node", "P", "--node", "E1", "--node", "E1", "--password-stdin",
            input=PASSWORD + "\n")
    assert r.exit_code == 2 and "--node" in r.output
    r = cli(db, "create", "wang", "--role", "viewer", "--node", "S1", "--password-stdin",
            input=PASSWORD + "\n")
    assert r.exit_code == 2 and "园区或企业" in r.output
    assert "wang" not in listing(db)  # the user was not created without its role


def test_separation_of_the_three_administrators(db):
    r = cli(db, "create", "boss", "--role", "system_admin", "--role", "auditor",
            "--password-stdin", input=PASSWORD + "\n")
    assert r.exit_code == 2 and "三员分立" in r.output
    assert "boss" not in listing(db)
    ok(cli(db, "create", "audit1", "--role", "auditor", "--password-stdin",
           input=PASSWORD + "\n"))
    r = cli(db, "grant", "audit1", "park_manager", "--node", "P")
    assert r.exit_code == 2 and "三员分立" in r.output


def test_password_policy_reset_and_must_change(db):
    r = cli(db, "create", "zhao", "--password-stdin", input="short\n")
    assert r.exit_code == 2 and "密码至少 10 个字符" in r.output
    r = cli(db, "create", "zhao", "--password-stdin", input="\n")
    assert r.exit_code == 2
    ok(cli(db, "create", "zhao", "--role", "viewer", "--node", "E1", "--password-stdin",
           input=PASSWORD + "\n"))
    r = cli(db, "passwd", "zhao", "--password-stdin", input=PASSWORD + "\n")
    assert r.exit_code == 2 and "最近" in r.output  # not one of the last passwords
    ok(cli(db, "passwd", "zhao", "--must-change", "--password-stdin",
           input="Another#Pass2027\n"))
    with pytest.raises(AuthError) as exc:
        login(db, "zhao", "Another#Pass2027")
    assert exc.value.code == "password_expired"
    assert listing(db)["zhao"]["must_change_password"] is True
    r = cli(db, "passwd", "nobody", "--password-stdin", input=PASSWORD + "\n")
    assert r.exit_code == 2 and "用户 nobody 不存在" in r.output and "does not exist" in r.output


def test_disable_enable_and_unlock(db):
    ok(cli(db, "create", "sun", "--role", "data_clerk", "--node", "E1", "--password-stdin",
           input=PASSWORD + "\n"))
    token = ok(cli(db, "token", "sun", "MES 接口", "--days", "30")).strip().splitlines()[-1]
    eng = dbmod.make_engine(db)
    with Session(eng) as s:
        principal = identity.resolve(s, token)
    assert principal.session_kind == "api" and principal.username == "sun"
    assert listing(db)["sun"]["api_tokens"] == 1

    ok(cli(db, "disable", "sun"))
    with pytest.raises(AuthError) as exc:
        login(db, "sun")
    assert exc.value.code == "disabled"
    with Session(eng) as s:
        assert identity.resolve(s, token) is None  # its token ended with it
    ok(cli(db, "enable", "sun"))
    assert login(db, "sun").principal.username == "sun"

    for _ in range(5):
        with pytest.raises(AuthError):
            login(db, "sun", "Wrong#Password1")
    assert listing(db)["sun"]["locked"] is True
    with pytest.raises(AuthError) as exc:
        login(db, "sun")
    assert exc.value.code == "locked"
    ok(cli(db, "unlock", "sun"))
    assert login(db, "sun").principal.username == "sun"
    eng.dispose()


def test_grant_until_a_local_date_and_revoke(db):
    ok(cli(db, "create", "qian", "--password-stdin", input=PASSWORD + "\n"))
    out = ok(cli(db, "grant", "qian", "viewer", "--node", "P", "--until", "2099-06-30"))
    grant_id = int(out.split("#")[1].split("：")[0])
    [g] = listing(db)["qian"]["grants"]
    # through 30 June in Asia/Shanghai: until 1 July 00:00 local = 30 June 16:00 UTC
    assert g == {"id": grant_id, "role": "viewer", "scope": "P",
                 "valid_until": "2099-06-30T16:00:00Z", "expired": False}
    r = cli(db, "grant", "qian", "verifier", "--inventory", "1")
    assert r.exit_code == 2
    r = cli(db, "grant", "qian", "viewer", "--node", "P", "--until", "next june")
    assert r.exit_code == 2 and "YYYY-MM-DD" in r.output
    out = ok(cli(db, "revoke", grant_id))
    assert f"#{grant_id}" in out and listing(db)["qian"]["grants"] == []
    r = cli(db, "revoke", grant_id)
    assert r.exit_code == 2 and "does not exist" in r.output
    assert login(db, "qian").principal.roles == frozenset()


def test_verifier_only_through_grant(db):
    r = cli(db, "create", "v", "--role", "verifier", "--password-stdin", input=PASSWORD + "\n")
    assert r.exit_code == 2 and "nengtan user grant" in r.output


def test_list_on_an_empty_installation(db):
    out = ok(cli(db, "list"))
    assert "nengtan user create admin --role system_admin" in out
    ok(cli(db, "create", "zhou", "--role", "park_manager", "--node", "*", "--name", "周",
           "--password-stdin", input=PASSWORD + "\n"))
    ok(cli(db, "disable", "zhou"))
    out = ok(cli(db, "list"))
    assert "zhou (周)" in out and "已停用/disabled" in out
    assert "园区管理员/Park manager  @*" in out


def test_parse_until():
    assert users.parse_until(None) is None
    assert users.parse_until("2026-01-31", "Asia/Shanghai").isoformat() == \
        "2026-01-31T16:00:00+00:00"
    assert users.parse_until("2026-01-31T08:00:00+08:00").isoformat() == \
        "2026-01-31T00:00:00+00:00"
