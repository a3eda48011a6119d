"""``nengtan user ...``: accounts, roles, API tokens and second factors from the command line.

    nengtan user create admin --role system_admin          # the first administrator
    nengtan user totp admin                                 # enrol the second factor (TOTP)
    nengtan user create zhang --role energy_manager --node CEM --role carbon_manager --node CEM
    nengtan user passwd zhang --must-change
    nengtan user grant lin verifier --inventory 12 --until 2026-06-30
    nengtan user revoke 7
    nengtan user list [--json]
    nengtan user token etl-gateway "ERP pull" --days 365

The command line is the way in on a fresh installation (no administrator exists yet) and the
way back when every administrator is locked out, so it needs no login: whoever can run it can
already read the database.  Every change is recorded in the audit log as done by
``cli:<operating-system user>`` from the source ``cli``.  Passwords are read from a hidden
prompt (twice) or, with ``--password-stdin``, from the first line of standard input, never from
the command line (it would stay in the shell history and in ``ps``).
"""

from __future__ import annotations

import getpass
import json
import sys
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import typer

from nengtan.commands.common import DbOption
from nengtan.i18n import t

app = typer.Typer(help="Users, roles, API tokens and TOTP (用户与角色).", no_args_is_help=True)

PasswordStdin = typer.Option(False, "--password-stdin",
                             help="Read the password from the first line of standard input.")


def _both(msg: str, **params) -> str:
    return f"{t(msg, 'zh-CN', **params)} | {t(msg, 'en', **params)}"


def actor():
    """Who acts in the audit log: ``cli:<OS user>``, from the source ``cli``."""
    from nengtan.services.audit import Actor

    try:
        who = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        who = "unknown"
    return Actor(f"cli:{who}", "cli")


def _run(db: str | None, work):
    """``work(session)`` in one transaction: all of it is applied or none."""
    from sqlalchemy.orm import Session

    from nengtan.commands.common import engine, fail
    from nengtan.errors import InputError, NotFound

    eng = engine(db)
    try:
        with Session(eng, expire_on_commit=False) as session, session.begin():
            return work(session)
    except InputError as exc:
        fail(exc)
    except NotFound as exc:
        typer.echo(_both("usercli.not_found", kind_zh=t(f"ref.{exc.kind}", "zh-CN"),
                         kind_en=t(f"ref.{exc.kind}", "en"), name=exc.key), err=True)
        raise typer.Exit(code=2) from None
    finally:
        eng.dispose()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            typer.echo(_both("usercli.password_empty"), err=True)
            raise typer.Exit(code=2)
        return password
    return typer.prompt(_both("usercli.password_prompt"), hide_input=True,
                        confirmation_prompt=_both("usercli.password_repeat"))


def parse_until(value: str | None, tz: str | None = None) -> datetime | None:
    """``--until``: a date means through the end of that day in the installation's timezone
    (``NENGTAN_TIMEZONE``, default Asia/Shanghai); an ISO 8601 time with an offset is taken
    as it is.  Returned in UTC."""
    if not value:
        return None
    from nengtan.config import get_settings
    from nengtan.errors import fail

    zone = ZoneInfo(tz or get_settings().timezone)
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        else:
            end = datetime.fromisoformat(value)
            if end.tzinfo is None:
                end = end.replace(tzinfo=zone)
    except ValueError:
        raise fail("rule.type_date", field="until", value=value) from None
    return end.astimezone(ZoneInfo("UTC"))


def _pair_scopes(roles: list[str], nodes: list[str]) -> list[tuple[str, str | None]]:
    """Pair each role that needs a node with the ``--node`` options in order (one ``--node``
    serves every such role)."""
    from nengtan.errors import fail
    from nengtan.security import roles as rolemod

    scoped = [r for r in roles if r in rolemod.NODE_ROLES]
    if len(nodes) == 1 and scoped:
        nodes = nodes * len(scoped)
    if len(nodes) != len(scoped):
        raise fail("rule.cli_role_nodes", field="node", value=", ".join(nodes),
                   params={"roles": len(scoped), "nodes": len(nodes)})
    out, given = [], iter(nodes)
    for role in roles:
        if role in rolemod.INVENTORY_ROLES:
            raise fail("rule.cli_verifier_via_grant", field="role", value=role)
        out.append((role, next(given) if role in rolemod.NODE_ROLES else None))
    return out


def _second_factor_hint(username: str, roles) -> None:
    from nengtan.security import roles as rolemod

    if rolemod.needs_second_factor(set(roles)):
        typer.echo(_both("usercli.needs_totp", username=username))


@app.command("create")
def create(username: str = typer.Argument(..., help="Login name (1-64 characters, no spaces)."),
           role: list[str] = typer.Option(None, "--role", help="Role (repeatable): "
                                          "system_admin, security_admin, auditor, park_manager, "
                                          "energy_manager, carbon_manager, data_clerk, viewer."),
           node: list[str] = typer.Option(None, "--node", help="Park or enterprise code of the "
                                          "business roles, in order ('*': the whole "
                                          "installation)."),
           display_name: str = typer.Option(None, "--name", help="Display name (e.g. 张伟)."),
           must_change: bool = typer.Option(False, "--must-change",
                                            help="The user must change the password at the "
                                                 "first login."),
           password_stdin: bool = PasswordStdin,
           db: str = DbOption) -> None:
    """Create a user with roles (all or nothing)."""
    from nengtan.services import identity

    roles, nodes = list(role or []), list(node or [])
    pairs = _run_db_free(lambda: _pair_scopes(roles, nodes))
    password = _read_password(password_stdin)
    who = actor()

    def work(s):
        identity.create_user(s, username, password, display_name=display_name, actor=who,
                             must_change=must_change)
        return [identity.grant(s, username, r, node_code=n, actor=who).id for r, n in pairs]

    grant_ids = _run(db, work)
    shown = ", ".join(f"{r}@{n}" if n else r for r, n in pairs) or "-"
    typer.echo(_both("usercli.created", username=username, roles=shown,
                     grants=", ".join(map(str, grant_ids)) or "-"))
    _second_factor_hint(username, roles)


def _run_db_free(work):
    from nengtan.commands.common import fail
    from nengtan.errors import InputError

    try:
        return work()
    except InputError as exc:
        fail(exc)


@app.command("passwd")
def passwd(username: str = typer.Argument(...),
           must_change: bool = typer.Option(False, "--must-change",
                                            help="The user must change it at the next login."),
           password_stdin: bool = PasswordStdin,
           db: str = DbOption) -> None:
    """Reset a user's password (also clears a lock)."""
    from nengtan.services import identity

    password = _read_password(password_stdin)
    who = actor()
    _run(db, lambda s: identity.set_password(s, username, password, actor=who,
                                             must_change=must_change))
    typer.echo(_both("usercli.password_set", username=username))


@app.command("disable")
def disable(username: str = typer.Argument(...), db: str = DbOption) -> None:
    """Disable an account; its sessions and API tokens end at once."""
    from nengtan.services import identity

    who = actor()
    _run(db, lambda s: identity.disable_user(s, username, actor=who))
    typer.echo(_both("usercli.disabled", username=username))


@app.command("enable")
def enable(username: str = typer.Argument(...), db: str = DbOption) -> None:
    """Enable a disabled account."""
    from nengtan.services import identity

    who = actor()
    _run(db, lambda s: identity.enable_user(s, username, actor=who))
    typer.echo(_both("usercli.enabled", username=username))


@app.command("unlock")
def unlock(username: str = typer.Argument(...), db: str = DbOption) -> None:
    """Unlock an account locked after failed logins."""
    from nengtan.services import identity

    who = actor()
    _run(db, lambda s: identity.unlock(s, username, actor=who))
    typer.echo(_both("usercli.unlocked", username=username))


@app.command("grant")
def grant(username: str = typer.Argument(...),
          role: str = typer.Argument(..., help="Role code (see `nengtan user create --help`)."),
          node: str = typer.Option(None, "--node", help="Park or enterprise code ('*': the "
                                                        "whole installation)."),
          inventory: int = typer.Option(None, "--inventory", help="Inventory id (verifier)."),
          until: str = typer.Option(None, "--until", help="Valid through this date "
                                    "(YYYY-MM-DD, local) or until an ISO 8601 time; required "
                                    "for the verifier."),
          db: str = DbOption) -> None:
    """Grant a role (三员分立 is enforced)."""
    from nengtan.services import identity

    who = actor()
    valid_until = _run_db_free(lambda: parse_until(until))
    row = _run(db, lambda s: identity.grant(s, username, role, node_code=node,
                                            inventory_id=inventory, valid_until=valid_until,
                                            actor=who))
    scope = node or (f"inventory {inventory}" if inventory is not None else "-")
    typer.echo(_both("usercli.granted", id=row.id, username=username, role=role, scope=scope,
                     until=_iso(valid_until) or "-"))
    _second_factor_hint(username, [role])


@app.command("revoke")
def revoke(grant_id: int = typer.Argument(..., help="Grant id (see `nengtan user list`)."),
           db: str = DbOption) -> None:
    """Revoke a role grant."""
    from nengtan.services import identity

    who = actor()
    row = _run(db, lambda s: identity.revoke(s, grant_id, actor=who))
    typer.echo(_both("usercli.revoked", id=grant_id, role=row.role))


def _iso(ts: datetime | None) -> str | None:
    from nengtan.services.audit import iso

    return iso(ts)


def _listing(session) -> list[dict]:
    from sqlalchemy import select

    from nengtan.services import identity
    from nengtan.store.base import utcnow
    from nengtan.store.models import Node
    from nengtan.store.models.security import AuthSession

    now = utcnow()
    codes = dict(session.execute(select(Node.id, Node.code)).all())
    out = []
    for user in identity.list_users(session):
        grants = []
        for g in identity.grants_of(session, user.username):
            if g.revoked_at is not None:
                continue
            scope = (f"inventory:{g.inventory_id}" if g.inventory_id is not None
                     else codes.get(g.node_id, "*") if g.role in _node_roles() else None)
            grants.append({"id": g.id, "role": g.role, "scope": scope,
                           "valid_until": _iso(g.valid_until),
                           "expired": g.valid_until is not None and g.valid_until <= now})
        tokens = session.scalars(select(AuthSession).where(
            AuthSession.user_id == user.id, AuthSession.kind == "api",
            AuthSession.revoked_at.is_(None))).all()
        out.append({
            "username": user.username, "display_name": user.display_name,
            "disabled": user.disabled,
            "locked": user.locked_until is not None and user.locked_until > now,
            "must_change_password": user.must_change_password,
            "totp": "confirmed" if user.totp_confirmed else (
                "pending" if user.totp_secret else None),
            "last_login_at": _iso(user.last_login_at), "grants": grants,
            "api_tokens": sum(1 for x in tokens if x.expires_at is None or x.expires_at > now)})
    return out


def _node_roles():
    from nengtan.security import roles

    return roles.NODE_ROLES


@app.command("list")
def list_users(as_json: bool = typer.Option(False, "--json", help="Print JSON."),
               db: str = DbOption) -> None:
    """Users with their state and valid role grants (grant ids for `user revoke`)."""
    from nengtan.security import roles

    users = _run(db, _listing)
    if as_json:
        typer.echo(json.dumps(users, ensure_ascii=False, indent=2))
        return
    if not users:
        typer.echo(_both("usercli.none"))
        return
    for u in users:
        flags = [t(f"usercli.flag.{k}", "zh-CN") + "/" + t(f"usercli.flag.{k}", "en")
                 for k in ("disabled", "locked", "must_change_password") if u[k]]
        if u["totp"]:
            flags.append(f"TOTP:{u['totp']}")
        name = f" ({u['display_name']})" if u["display_name"] else ""
        typer.echo(f"{u['username']}{name}  {' '.join(flags)}".rstrip())
        for g in u["grants"]:
            zh, en = roles.NAMES.get(g["role"], (g["role"], g["role"]))
            extra = f" until {g['valid_until']}" if g["valid_until"] else ""
            extra += " [expired/已过期]" if g["expired"] else ""
            typer.echo(f"  #{g['id']:<5} {g['role']:<15} {zh}/{en}"
                       f"{'  @' + g['scope'] if g['scope'] else ''}{extra}")


@app.command("token")
def token(username: str = typer.Argument(...),
          name: str = typer.Argument(..., help="What the token is for (e.g. \"ERP pull\")."),
          days: int = typer.Option(None, "--days", help="Valid for N days (default: until "
                                                        "revoked)."),
          db: str = DbOption) -> None:
    """Issue an API token for an integration; it is printed ONCE (only its hash is kept)."""
    from nengtan.services import identity

    who = actor()
    secret, row = _run(db, lambda s: identity.issue_api_token(s, username, name,
                                                              valid_days=days, actor=who))
    typer.echo(_both("usercli.token_issued", username=username, name=name, id=row.id,
                     expires=_iso(row.expires_at) or "-"), err=True)
    typer.echo(secret)


@app.command("totp")
def totp(username: str = typer.Argument(...),
         confirm: str = typer.Option(None, "--confirm", help="Confirm a pending enrolment "
                                                             "with a 6-digit code."),
         no_prompt: bool = typer.Option(False, "--no-prompt", help="Enrol and print only; "
                                        "confirm later with --confirm CODE."),
         db: str = DbOption) -> None:
    """Enrol a second factor (TOTP): prints the secret and the otpauth:// URI for an
    authenticator app, then asks for a code from the app to confirm it."""
    from nengtan.services import identity

    who = actor()
    if confirm is not None:
        _run(db, lambda s: identity.confirm_totp(s, username, confirm, actor=who))
        typer.echo(_both("usercli.totp_confirmed", username=username))
        return
    secret, uri = _run(db, lambda s: identity.enrol_totp(s, username, actor=who))
    typer.echo(_both("usercli.totp_secret", username=username))
    typer.echo(f"secret: {secret}")
    typer.echo(f"uri:    {uri}")
    if no_prompt:
        typer.echo(_both("usercli.totp_confirm_later", username=username))
        return
    try:
        code = typer.prompt(_both("usercli.totp_prompt"), default="", show_default=False)
    except (typer.Abort, EOFError):  # no terminal: the enrolment stays pending
        code = ""
    if not code.strip():
        typer.echo(_both("usercli.totp_confirm_later", username=username))
        return
    _run(db, lambda s: identity.confirm_totp(s, username, code.strip(), actor=who))
    typer.echo(_both("usercli.totp_confirmed", username=username))
