"""User administration: the system administrator manages accounts, the security administrator
roles and locks (三员分立, GB/T 22239-2019 8.1.4.2)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from nengtan.api.auth import ActorDep
from nengtan.api.deps import SessionDep
from nengtan.api.schemas import ERRORS
from nengtan.services import identity
from nengtan.services.audit import iso
from nengtan.services.fields import to_utc
from nengtan.store.models import Node

router = APIRouter(tags=["users / 用户与角色"], responses=ERRORS)


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str
    display_name: str | None = None
    password: str = Field(description="initial password (policy applies) / 初始密码")
    must_change: bool = Field(True, description="change at first login / 首次登录须修改")


class PasswordReset(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str
    must_change: bool = True


class GrantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str
    node: str | None = Field(None, description="park or enterprise code (node roles) / "
                                               "园区或企业编码")
    inventory_id: int | None = Field(None, description="inventory (verifier) / 盘查")
    valid_until: datetime | None = Field(None, description="end of validity / 有效期至")


def _user(session, user) -> dict:
    grants = identity.active_grants(session, user.id)
    return {"id": user.id, "username": user.username, "display_name": user.display_name,
            "disabled": user.disabled, "locked_until": iso(user.locked_until),
            "must_change_password": user.must_change_password,
            "password_changed_at": iso(user.password_changed_at),
            "totp_enrolled": bool(user.totp_secret and user.totp_confirmed),
            "last_login_at": iso(user.last_login_at), "created_at": iso(user.created_at),
            "roles": sorted({g.role for g in grants})}


def _grant(session, g) -> dict:
    node = session.get(Node, g.node_id) if g.node_id else None
    return {"id": g.id, "role": g.role, "node": node.code if node else None,
            "inventory_id": g.inventory_id, "valid_from": iso(g.valid_from),
            "valid_until": iso(g.valid_until), "revoked_at": iso(g.revoked_at),
            "granted_by": g.granted_by, "granted_at": iso(g.granted_at)}


@router.get("/api/users", summary="Users / 用户列表")
def list_users(session: SessionDep):
    """Every account with its state (disabled, locked, TOTP) and current roles."""
    return [_user(session, u) for u in identity.list_users(session)]


@router.post("/api/users", status_code=201, summary="Create user / 新建用户")
def create_user(body: UserIn, session: SessionDep, actor: ActorDep):
    """A new account without roles (the security administrator grants them)."""
    user = identity.create_user(session, body.username, body.password,
                                display_name=body.display_name, actor=actor,
                                must_change=body.must_change)
    return _user(session, user)


@router.post("/api/users/{username}/disable", summary="Disable user / 停用用户")
def disable_user(username: str, session: SessionDep, actor: ActorDep):
    """Disable the account and end its sessions and API tokens."""
    return _user(session, identity.disable_user(session, username, actor=actor))


@router.post("/api/users/{username}/enable", summary="Enable user / 启用用户")
def enable_user(username: str, session: SessionDep, actor: ActorDep):
    """Enable a disabled account."""
    return _user(session, identity.enable_user(session, username, actor=actor))


@router.post("/api/users/{username}/unlock", summary="Unlock user / 解除锁定")
def unlock_user(username: str, session: SessionDep, actor: ActorDep):
    """Clear the failed-login counter and the lock (security administrator)."""
    return _user(session, identity.unlock(session, username, actor=actor))


@router.post("/api/users/{username}/password", summary="Reset password / 重置密码")
def reset_password(username: str, body: PasswordReset, session: SessionDep, actor: ActorDep):
    """Set a new password (by default the user must change it at the next login)."""
    identity.set_password(session, username, body.password, actor=actor,
                          must_change=body.must_change)
    return _user(session, identity.get_user(session, username))


@router.get("/api/users/{username}/grants", summary="Grants of a user / 用户授权")
def list_grants(username: str, session: SessionDep):
    """All grants of the user, current and past (revoked or expired ones stay listed)."""
    return [_grant(session, g) for g in identity.grants_of(session, username)]


@router.post("/api/users/{username}/grants", status_code=201, summary="Grant role / 授予角色")
def add_grant(username: str, body: GrantIn, request: Request, session: SessionDep,
              actor: ActorDep):
    """Grant a role: node roles on a park or enterprise, the verifier on an inventory with an
    end date, administrator roles without scope.  三员分立 is enforced."""
    row = identity.grant(session, username, body.role, node_code=body.node,
                         inventory_id=body.inventory_id,
                         valid_until=None if body.valid_until is None else to_utc(
                             body.valid_until, ZoneInfo(request.app.state.settings.timezone)),
                         actor=actor)
    return _grant(session, row)


@router.delete("/api/grants/{grant_id}", status_code=204, summary="Revoke grant / 撤销授权")
def revoke_grant(grant_id: int, session: SessionDep, actor: ActorDep):
    """Revoke a grant (it stays in the history)."""
    identity.revoke(session, grant_id, actor=actor)
