"""Login (OAuth2 password flow), the caller's identity, password change, TOTP enrolment and
API tokens.  See :mod:`nengtan.services.identity` for the rules."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from nengtan.api.auth import (
    COOKIE,
    AccessDenied,
    PrincipalDep,
    client_address,
    presented_token,
    principal_from_request,
)
from nengtan.api.deps import SessionDep
from nengtan.api.schemas import ERRORS
from nengtan.security import roles, totp
from nengtan.services import identity
from nengtan.services.audit import Actor, iso
from nengtan.store.models import Node

router = APIRouter(tags=["auth / 身份鉴别"], responses=ERRORS)


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: str | None = None


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str | None = Field(None, description="needed when not logged in (expired "
                                                   "password) / 未登录时必填")
    current_password: str
    new_password: str
    totp: str | None = Field(None, description="6-digit code, administrators / 管理员动态口令")


class TotpConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str


class ApiTokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="what the integration is / 集成名称")
    valid_days: int | None = Field(None, gt=0, description="days until it expires (empty: "
                                                          "until revoked) / 有效天数")


def auth_refusal(request: Request, exc: identity.AuthError) -> AccessDenied:
    return AccessDenied(401, f"auth.{exc.code}")


@router.post("/api/auth/token", response_model=Token, summary="Log in (token) / 登录获取令牌")
def token(request: Request, username: Annotated[str, Form()], password: Annotated[str, Form()],
          totp: Annotated[str | None, Form(description="6-digit code, administrators / "
                                                       "管理员动态口令")] = None):
    """OAuth2 password flow: form fields ``username`` and ``password`` (and ``totp`` for
    administrator roles).  A refusal answers 401 with ``code`` (invalid_credentials, locked,
    disabled, password_expired, totp_required, totp_invalid, totp_not_enrolled); repeated
    failures lock the account."""
    try:
        issued = identity.login_committed(request.app.state.engine, username, password, totp,
                                          source=client_address(request),
                                          settings=request.app.state.settings)
    except identity.AuthError as exc:
        raise auth_refusal(request, exc) from exc
    return Token(access_token=issued.token, expires_at=iso(issued.expires_at))


@router.get("/api/auth/me", summary="Who am I / 当前用户")
def me(principal: PrincipalDep, session: SessionDep):
    """The caller's user name, roles, permissions and the nodes at the top of their scope."""
    nodes = session.scalars(select(Node).where(Node.id.in_(principal.scope_node_ids))).all()
    return {"username": principal.username, "display_name": principal.display_name,
            "roles": sorted(principal.roles), "permissions": sorted(principal.permissions),
            "scope_nodes": [{"id": n.id, "code": n.code, "name_zh": n.name_zh,
                             "name_en": n.name_en, "kind": n.kind} for n in nodes],
            "inventory_ids": None if principal.inventory_ids is None
            else sorted(principal.inventory_ids),
            "root_scope": principal.root_scope, "session_kind": principal.session_kind,
            "must_change_password": principal.must_change_password}


@router.post("/api/auth/logout", status_code=204, summary="Log out / 退出登录")
def logout(request: Request, session: SessionDep):
    """End the session (or revoke the bearer token) of this request."""
    token, _ = presented_token(request)
    if token:
        identity.logout(session, token, source=client_address(request))


@router.post("/api/auth/password", status_code=204, summary="Change password / 修改密码")
def change_password(body: PasswordChange, request: Request):
    """Change one's own password with the current one.  Open without login too, naming the
    user, so that an expired password can be replaced; wrong current passwords count towards
    the lockout like failed logins (401 with ``code``); a weak new password answers 422."""
    principal = principal_from_request(request)
    username = principal.username if principal else (body.username or "")
    try:
        identity.change_password_committed(request.app.state.engine, username,
                                           body.current_password, body.new_password,
                                           totp_code=body.totp, source=client_address(request),
                                           settings=request.app.state.settings)
    except identity.AuthError as exc:
        raise auth_refusal(request, exc) from exc


@router.post("/api/auth/totp", summary="Enrol TOTP / 绑定动态口令")
def enrol_totp(principal: PrincipalDep, request: Request, session: SessionDep):
    """Start enrolling a TOTP authenticator: the secret, an ``otpauth://`` URI and its QR code
    (an SVG ``data:`` URI to scan with the authenticator app); confirm with a code before it
    counts."""
    secret, uri = identity.enrol_totp(session, principal.username,
                                      actor=Actor(principal.username, client_address(request)))
    return {"secret": secret, "otpauth_uri": uri, "qr_svg": totp.qr_svg_data_uri(uri)}


@router.post("/api/auth/totp/confirm", status_code=204, summary="Confirm TOTP / 确认动态口令")
def confirm_totp(body: TotpConfirm, principal: PrincipalDep, request: Request,
                 session: SessionDep):
    """Confirm the enrolment with a current 6-digit code."""
    identity.confirm_totp(session, principal.username, body.code,
                          actor=Actor(principal.username, client_address(request)))


def _token_row(row) -> dict:
    return {"id": row.id, "name": row.name, "created_at": iso(row.created_at),
            "expires_at": iso(row.expires_at), "revoked_at": iso(row.revoked_at),
            "last_seen_at": iso(row.last_seen_at)}


@router.get("/api/auth/api-tokens", summary="My API tokens / 我的接口令牌")
def list_tokens(principal: PrincipalDep, session: SessionDep):
    """The caller's integration tokens (never the token values)."""
    return [_token_row(r) for r in identity.api_tokens(session, principal.username)]


@router.post("/api/auth/api-tokens", status_code=201, summary="New API token / 新建接口令牌")
def create_token(body: ApiTokenIn, principal: PrincipalDep, request: Request,
                 session: SessionDep):
    """A token for an integration with the caller's roles; the value is shown only here."""
    if principal.session_kind != "session":
        raise AccessDenied(403, "auth.token_from_token")
    value, row = identity.issue_api_token(session, principal.username, body.name,
                                          valid_days=body.valid_days,
                                          actor=Actor(principal.username,
                                                      client_address(request)))
    return {**_token_row(row), "token": value}


@router.delete("/api/auth/api-tokens/{token_id}", status_code=204,
               summary="Revoke API token / 吊销接口令牌")
def revoke_token(token_id: int, principal: PrincipalDep, request: Request, session: SessionDep):
    """Revoke one of the caller's integration tokens."""
    identity.revoke_api_token(session, principal.username, token_id,
                              actor=Actor(principal.username, client_address(request)))


@router.get("/api/roles", summary="Roles / 角色")
def list_roles():
    """The roles, their permissions and how they are scoped (node, inventory or global)."""
    return [{"code": code, "name_zh": roles.NAMES[code][0], "name_en": roles.NAMES[code][1],
             "permissions": sorted(perms),
             "scope": ("node" if code in roles.NODE_ROLES else
                       "inventory" if code in roles.INVENTORY_ROLES else "global"),
             "second_factor": code in roles.ADMIN_ROLES} for code, perms in roles.ROLES.items()]


__all__ = ["COOKIE", "router"]
