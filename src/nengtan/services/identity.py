"""Users, role grants, logins and sessions (GB/T 22239-2019 8.1.4.1 身份鉴别, 8.1.4.2 访问控制).

* Logins check the argon2id hash, count consecutive failures and lock the account for
  ``lockout_minutes`` after ``lockout_threshold`` of them (登录失败处理); a disabled or locked
  account answers the same way whatever the password, so guessing learns nothing more.
* Administrators (:data:`~nengtan.security.roles.ADMIN_ROLES`) need a confirmed TOTP second
  factor; an administrator without one cannot log in until it is enrolled (``nengtan user
  totp``) — the first administrator enrols on the command line.
* A password older than ``password_max_age_days`` (or reset by an administrator with
  ``must_change``) lets the user log in only to change it (``password_expired``).
* Sessions and API tokens are random 256-bit tokens; only their SHA-256 is stored.  Interactive
  sessions end after ``session_idle_minutes`` without use and ``session_max_hours`` after login;
  API tokens last until they expire or are revoked.
* Every login (success and failure), logout, password change, grant and revocation is recorded
  in the hash-chained audit log (:mod:`nengtan.services.audit`).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from nengtan.config import Settings, get_settings
from nengtan.errors import InputError, Issue, NotFound, fail
from nengtan.security import passwords, roles, totp
from nengtan.security.principal import Principal
from nengtan.services import audit
from nengtan.services.audit import Actor
from nengtan.store.base import utcnow
from nengtan.store.models import Node
from nengtan.store.models.inventory import Inventory
from nengtan.store.models.security import AuthSession, RoleGrant, User

#: Reasons a login is refused (``AuthError.code``).
AUTH_CODES = ("invalid_credentials", "locked", "disabled", "password_expired", "totp_required",
              "totp_invalid", "totp_not_enrolled")


#: The ``node`` of a grant on the whole installation (all parks and enterprises, also those
#: created later) — e.g. the operator who sets up a fresh installation's first park.
INSTALLATION = "*"


class AuthError(Exception):
    """A refused login; ``code`` is one of :data:`AUTH_CODES`, ``message(lang)`` says why."""

    def __init__(self, code: str, user: User | None = None):
        self.code = code
        self.user = user
        super().__init__(code)

    def message(self, lang: str | None = None) -> str:
        from nengtan.i18n import t
        return t(f"auth.{self.code}", lang)


@dataclass(frozen=True)
class Issued:
    token: str
    expires_at: datetime | None
    principal: Principal


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _settings(settings: Settings | None) -> Settings:
    return settings or get_settings()


# -- users --------------------------------------------------------------------------------------
def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("user", username)
    return user


def _check_password(password: str, username: str, settings: Settings,
                    field: str = "password") -> None:
    broken = passwords.problems(password, username, settings.password_min_length)
    if broken:
        raise InputError([Issue(f"rule.{key}", field=field,
                                params={"min": settings.password_min_length}) for key in broken])


def create_user(session: Session, username: str, password: str, *, display_name: str | None = None,
                actor: Actor, must_change: bool = False,
                settings: Settings | None = None) -> User:
    """A new user with no roles (grant them with :func:`grant`)."""
    settings = _settings(settings)
    username = (username or "").strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise fail("rule.username_format", field="username", value=username)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise fail("rule.duplicate", field="username", value=username)
    _check_password(password, username, settings)
    user = User(username=username, display_name=display_name,
                password_hash=passwords.hash_password(password), password_changed_at=utcnow(),
                must_change_password=must_change, failed_logins=0, disabled=False,
                totp_confirmed=False, created_by=actor.user)
    session.add(user)
    session.flush()
    audit.record(session, user=actor.user, action="user.create", object_type="user",
                 object_id=username, source=actor.source,
                 detail={"display_name": display_name, "must_change": must_change})
    return user


def set_password(session: Session, username: str, password: str, *, actor: Actor,
                 must_change: bool = False, settings: Settings | None = None) -> None:
    """Reset (administrator) or change (the user, via :func:`change_password`) a password."""
    settings = _settings(settings)
    user = get_user(session, username)
    _check_password(password, username, settings)
    history = [h for h in (user.password_history or "").split("\n") if h]
    if any(passwords.verify(h, password) for h in [user.password_hash, *history]):
        raise fail("rule.password.reused", field="password", n=passwords.HISTORY)
    user.password_history = "\n".join([user.password_hash, *history][:passwords.HISTORY - 1])
    user.password_hash = passwords.hash_password(password)
    user.password_changed_at = utcnow()
    user.must_change_password = must_change
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    audit.record(session, user=actor.user, action="user.password", object_type="user",
                 object_id=username, source=actor.source, detail={"must_change": must_change})


def _set_flag(session: Session, username: str, actor: Actor, action: str, **values) -> User:
    user = get_user(session, username)
    for key, value in values.items():
        setattr(user, key, value)
    session.flush()
    audit.record(session, user=actor.user, action=action, object_type="user",
                 object_id=username, source=actor.source)
    return user


def disable_user(session: Session, username: str, *, actor: Actor) -> User:
    """Disable the account and end its sessions and tokens."""
    user = _set_flag(session, username, actor, "user.disable", disabled=True)
    for row in session.scalars(select(AuthSession).where(AuthSession.user_id == user.id,
                                                         AuthSession.revoked_at.is_(None))):
        row.revoked_at = utcnow()
    return user


def enable_user(session: Session, username: str, *, actor: Actor) -> User:
    return _set_flag(session, username, actor, "user.enable", disabled=False)


def unlock(session: Session, username: str, *, actor: Actor) -> User:
    return _set_flag(session, username, actor, "user.unlock", failed_logins=0, locked_until=None)


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


# -- grants -------------------------------------------------------------------------------------
def _valid(grant: RoleGrant, now: datetime) -> bool:
    return (grant.revoked_at is None and grant.valid_from <= now
            and (grant.valid_until is None or grant.valid_until > now))


def active_grants(session: Session, user_id: int, now: datetime | None = None) -> list[RoleGrant]:
    now = now or utcnow()
    rows = session.scalars(select(RoleGrant).where(RoleGrant.user_id == user_id,
                                                   RoleGrant.revoked_at.is_(None)))
    return [g for g in rows if _valid(g, now)]


def grant(session: Session, username: str, role: str, *, node_code: str | None = None,
          inventory_id: int | None = None, valid_until: datetime | None = None,
          actor: Actor) -> RoleGrant:
    """Give ``role`` to a user: node roles on a park or enterprise node (or ``"*"``, the
    whole installation), the verifier on an inventory, administrator roles without scope.  三员分立 is enforced (:func:`roles.conflicts`)."""
    user = get_user(session, username)
    if role not in roles.ROLES:
        raise fail("rule.choice", field="role", value=role,
                   choices=", ".join(roles.ROLES))
    node_id = None
    if role in roles.NODE_ROLES and node_code == INSTALLATION:
        pass  # the whole installation: every park and enterprise, present and future
    elif role in roles.NODE_ROLES:
        if not node_code:
            raise fail("rule.required", field="node")
        node = session.scalar(select(Node).where(Node.code == node_code))
        if node is None:
            raise fail("rule.ref_unknown", field="node", value=node_code, ref="node")
        if node.kind not in ("park", "enterprise"):
            raise fail("rule.grant_scope_kind", field="node", value=node_code)
        node_id = node.id
    elif role in roles.INVENTORY_ROLES:
        if inventory_id is None:
            raise fail("rule.required", field="inventory_id")
        if session.get(Inventory, inventory_id) is None:
            raise fail("rule.ref_unknown", field="inventory_id", value=inventory_id,
                       ref="inventory")
        if valid_until is None:
            raise fail("rule.verifier_needs_expiry", field="valid_until")
    elif node_code or inventory_id is not None:
        raise fail("rule.admin_role_unscoped", field="node", value=node_code)
    held = {g.role for g in active_grants(session, user.id)} | {role}
    why = roles.conflicts(held)
    if why:
        raise fail(f"rule.{why}", field="role", value=role)
    row = RoleGrant(user_id=user.id, role=role, node_id=node_id, inventory_id=inventory_id,
                    valid_from=utcnow(), valid_until=valid_until, granted_by=actor.user)
    session.add(row)
    session.flush()
    audit.record(session, user=actor.user, action="grant.create", object_type="user",
                 object_id=username, source=actor.source,
                 detail={"grant_id": row.id, "role": role, "node": node_code,
                         "inventory_id": inventory_id, "valid_until": valid_until})
    return row


def revoke(session: Session, grant_id: int, *, actor: Actor) -> RoleGrant:
    row = session.get(RoleGrant, grant_id)
    if row is None or row.revoked_at is not None:
        raise NotFound("grant", grant_id)
    row.revoked_at = utcnow()
    user = session.get(User, row.user_id)
    audit.record(session, user=actor.user, action="grant.revoke", object_type="user",
                 object_id=user.username if user else row.user_id, source=actor.source,
                 detail={"grant_id": grant_id, "role": row.role})
    return row


def grants_of(session: Session, username: str) -> list[RoleGrant]:
    user = get_user(session, username)
    return list(session.scalars(select(RoleGrant).where(RoleGrant.user_id == user.id)
                                .order_by(RoleGrant.id)))


# -- the principal ------------------------------------------------------------------------------
def _subtree_tenants(session: Session, node: Node) -> set[int]:
    rows = session.scalars(select(Node.tenant_id).where(Node.path.startswith(node.path))
                           .distinct())
    return {t for t in rows if t is not None} | ({node.tenant_id} if node.tenant_id else set())


def principal_for(session: Session, user: User, *, kind: str = "session",
                  now: datetime | None = None) -> Principal:
    """What ``user`` may do where, from the grants valid ``now``."""
    by_tenant: dict[int, set[str]] = {}
    global_perms: set[str] = set()
    everywhere: set[str] = set()
    inventories: set[int] = set()
    scope_nodes: list[int] = []
    root = False
    grants = active_grants(session, user.id, now)
    for g in grants:
        perms = roles.ROLES.get(g.role, frozenset())
        if g.role in roles.ADMIN_ROLES:
            global_perms |= perms
            continue
        if g.inventory_id is not None:
            inv = session.get(Inventory, g.inventory_id)
            if inv is None:
                continue
            inventories.add(inv.id)
            tenants = {inv.tenant_id}
            scope_nodes.append(inv.node_id)
        elif g.node_id is None:
            everywhere |= perms
            root = True
            continue
        else:
            node = session.get(Node, g.node_id)
            if node is None:
                continue
            tenants = _subtree_tenants(session, node)
            scope_nodes.append(node.id)
            root = root or node.parent_id is None
        for tenant in tenants:
            by_tenant.setdefault(tenant, set()).update(perms)
    # a verifier's access is limited to named inventories only when that is all they hold
    only_verifier = bool(inventories) and all(g.role in roles.INVENTORY_ROLES
                                              for g in grants if g.role not in roles.ADMIN_ROLES)
    return Principal(
        user_id=user.id, username=user.username, display_name=user.display_name or user.username,
        roles=frozenset(g.role for g in grants), global_perms=frozenset(global_perms),
        everywhere=frozenset(everywhere),
        permissions_by_tenant={k: frozenset(v) for k, v in by_tenant.items()},
        inventory_ids=frozenset(inventories) if only_verifier else None,
        scope_node_ids=tuple(dict.fromkeys(scope_nodes)), root_scope=root, session_kind=kind,
        must_change_password=user.must_change_password)


# -- login, sessions, tokens --------------------------------------------------------------------
def _password_expired(user: User, settings: Settings, now: datetime) -> bool:
    return user.must_change_password or (
        now - user.password_changed_at > timedelta(days=settings.password_max_age_days))


def _authenticate(session: Session, username: str, password: str, now: datetime) -> User:
    """The user whose password this is, or :class:`AuthError` (nothing changed)."""
    user = session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None:
        passwords.verify(_DUMMY_HASH, password or "")  # same work as for a real user
        raise AuthError("invalid_credentials")
    if user.disabled:
        raise AuthError("disabled", user)
    if user.locked_until is not None and user.locked_until > now:
        raise AuthError("locked", user)
    if not passwords.verify(user.password_hash, password or ""):
        raise AuthError("invalid_credentials", user)
    return user


def _second_factor(session: Session, user: User, code: str | None, now: datetime) -> None:
    """Administrators prove a current TOTP code, each code once."""
    held = {g.role for g in active_grants(session, user.id, now)}
    if not roles.needs_second_factor(held):
        return
    if not (user.totp_secret and user.totp_confirmed):
        raise AuthError("totp_not_enrolled", user)
    if not code:
        raise AuthError("totp_required", user)
    step = totp.matching_step(user.totp_secret, code)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        raise AuthError("totp_invalid", user)
    user.totp_last_step = step


def login(session: Session, username: str, password: str, totp_code: str | None = None, *,
          source: str | None = None, settings: Settings | None = None) -> Issued:
    """Check the credentials and open a session.  A refusal raises :class:`AuthError` and
    changes nothing: :func:`record_refusal` counts it (lockout) and audits it in a transaction
    that commits — :func:`login_committed` does both."""
    settings = _settings(settings)
    now = utcnow()
    user = _authenticate(session, username, password, now)
    _second_factor(session, user, totp_code, now)
    if _password_expired(user, settings, now):
        raise AuthError("password_expired", user)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    issued = open_session(session, user, source=source, settings=settings)
    audit.record(session, user=username, action="login.success", object_type="user",
                 object_id=username, source=source)
    return issued


def open_session(session: Session, user: User, *, source: str | None = None,
                 settings: Settings | None = None) -> Issued:
    """A new interactive session for ``user`` (after the credentials were checked)."""
    settings = _settings(settings)
    now = utcnow()
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=settings.session_max_hours)
    session.add(AuthSession(user_id=user.id, kind="session", token_sha256=token_digest(token),
                            created_at=now, last_seen_at=now, expires_at=expires, source=source))
    session.flush()
    return Issued(token, expires, principal_for(session, user, now=now))


def login_committed(engine, username: str, password: str, totp_code: str | None = None, *,
                    source: str | None = None, settings: Settings | None = None) -> Issued:
    """:func:`login` in its own transaction, committed whether it succeeds or not."""
    return _committed(engine, username, source, settings, lambda session: login(
        session, username, password, totp_code, source=source, settings=settings))


def change_password_committed(engine, username: str, current: str, new: str, *,
                              totp_code: str | None = None, source: str | None = None,
                              settings: Settings | None = None,
                              open_session_after: bool = False) -> Issued | None:
    """The user changes their own password, proving the current one (also the way out of an
    expired password, so it needs no session).  A wrong current password counts towards the
    lockout exactly like a failed login; a new password against the policy answers
    :class:`~nengtan.errors.InputError`.  Administrators also give their TOTP code (used
    once: ``open_session_after`` logs in within the same transaction)."""
    def change(session: Session) -> Issued | None:
        now = utcnow()
        user = _authenticate(session, username, current, now)
        _second_factor(session, user, totp_code, now)
        set_password(session, username, new, actor=Actor(username, source), settings=settings)
        if not open_session_after:
            return None
        user.last_login_at = now
        issued = open_session(session, user, source=source, settings=settings)
        audit.record(session, user=username, action="login.success", object_type="user",
                     object_id=username, source=source)
        return issued
    return _committed(engine, username, source, settings, change)


def _committed(engine, username, source, settings, work):
    with Session(engine, expire_on_commit=False) as session:
        try:
            with session.begin():
                return work(session)
        except AuthError as exc:
            with session.begin():
                code = record_refusal(session, exc, username, source, settings)
            if code != exc.code:
                raise AuthError(code, exc.user) from exc
            raise


def record_refusal(session: Session, exc: AuthError, username: str, source: str | None,
                   settings: Settings | None = None) -> str:
    """Count a refused login against the account (a wrong password or second factor) and
    audit it; returns the code to answer (``locked`` when this failure locked the account)."""
    settings = _settings(settings)
    code = exc.code
    now = utcnow()
    user = session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is not None and exc.code in ("invalid_credentials", "totp_invalid"):
        already_locked = user.locked_until is not None and user.locked_until > now
        if not already_locked:
            user.failed_logins = (user.failed_logins or 0) + 1
            if user.failed_logins >= settings.lockout_threshold:
                user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
                user.failed_logins = 0
                code = "locked"
    audit.record(session, user=username or "-", action="login.failure", object_type="user",
                 object_id=username or None, source=source, detail={"reason": exc.code})
    if code != exc.code:
        audit.record(session, user=username, action="user.locked", object_type="user",
                     object_id=username, source=source, detail={"until": user.locked_until})
    return code


def resolve(session: Session, token: str | None, *, source: str | None = None,
            settings: Settings | None = None, touch: bool = True) -> Principal | None:
    """The principal of a session or API token, or None when it is unknown, revoked, expired,
    idle too long, or its user is disabled."""
    if not token:
        return None
    settings = _settings(settings)
    now = utcnow()
    row = session.scalar(select(AuthSession).where(
        AuthSession.token_sha256 == token_digest(token)))
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    if row.kind == "session" and now - row.last_seen_at > timedelta(
            minutes=settings.session_idle_minutes):
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    # one write a minute at most: the idle clock does not need second precision
    if touch and now - row.last_seen_at > timedelta(seconds=60):
        row.last_seen_at = now
    return principal_for(session, user, kind=row.kind, now=now)


def logout(session: Session, token: str, *, source: str | None = None) -> bool:
    row = session.scalar(select(AuthSession).where(
        AuthSession.token_sha256 == token_digest(token)))
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    user = session.get(User, row.user_id)
    audit.record(session, user=user.username if user else "-", action="logout",
                 object_type="user", object_id=user.username if user else None, source=source)
    return True


def issue_api_token(session: Session, username: str, name: str, *, valid_days: int | None = None,
                    actor: Actor) -> tuple[str, AuthSession]:
    """A token for an integration (shown once).  It carries the user's roles, has no idle
    timeout and lasts ``valid_days`` (None: until revoked)."""
    user = get_user(session, username)
    if not (name or "").strip():
        raise fail("rule.required", field="name")
    if valid_days is not None and valid_days <= 0:
        raise fail("rule.exclusive_minimum", field="valid_days", value=valid_days, min=0)
    token = "nt_" + secrets.token_urlsafe(32)
    now = utcnow()
    row = AuthSession(user_id=user.id, kind="api", name=name.strip(),
                      token_sha256=token_digest(token), created_at=now, last_seen_at=now,
                      expires_at=None if valid_days is None else now + timedelta(days=valid_days),
                      source=actor.source)
    session.add(row)
    session.flush()
    audit.record(session, user=actor.user, action="token.create", object_type="user",
                 object_id=username, source=actor.source,
                 detail={"token_id": row.id, "name": row.name, "expires_at": row.expires_at})
    return token, row


def api_tokens(session: Session, username: str) -> list[AuthSession]:
    user = get_user(session, username)
    return list(session.scalars(select(AuthSession).where(
        AuthSession.user_id == user.id, AuthSession.kind == "api").order_by(AuthSession.id)))


def revoke_api_token(session: Session, username: str, token_id: int, *, actor: Actor) -> None:
    user = get_user(session, username)
    row = session.get(AuthSession, token_id)
    if row is None or row.user_id != user.id or row.kind != "api":
        raise NotFound("api_token", token_id)
    row.revoked_at = row.revoked_at or utcnow()
    audit.record(session, user=actor.user, action="token.revoke", object_type="user",
                 object_id=username, source=actor.source, detail={"token_id": token_id})


# -- second factor ------------------------------------------------------------------------------
def enrol_totp(session: Session, username: str, *, actor: Actor | None = None,
               secret: str | None = None) -> tuple[str, str]:
    """Start (or restart) TOTP enrolment: a new secret, confirmed by :func:`confirm_totp`."""
    user = get_user(session, username)
    user.totp_secret = secret or totp.new_secret()
    user.totp_confirmed = False
    user.totp_last_step = None
    session.flush()
    actor = actor or Actor(username)
    audit.record(session, user=actor.user, action="totp.enrol", object_type="user",
                 object_id=username, source=actor.source)
    return user.totp_secret, totp.provisioning_uri(user.totp_secret, username)


def confirm_totp(session: Session, username: str, code: str, *,
                 actor: Actor | None = None) -> None:
    user = get_user(session, username)
    step = totp.matching_step(user.totp_secret, code) if user.totp_secret else None
    if step is None:
        raise fail("rule.totp_invalid", field="code")
    user.totp_confirmed = True
    user.totp_last_step = step
    actor = actor or Actor(username)
    audit.record(session, user=actor.user, action="totp.confirm", object_type="user",
                 object_id=username, source=actor.source)


_DUMMY_HASH = passwords.hash_password("nengtan-timing-equaliser")
