"""Users, role grants and sessions (GB/T 22239-2019 身份鉴别 and 访问控制).

* ``users`` — login name, argon2id hash (never the password), password age, failed-login
  counter and lock, TOTP secret (second factor), disabled flag.
* ``role_grants`` — one role for one user, on a node of the tree (its scope) or on one
  inventory (a verifier), valid from/until: expired grants simply stop counting.
* ``auth_sessions`` — browser sessions and API tokens: only the SHA-256 of the token is stored,
  so a database dump cannot be replayed; idle and absolute expiry are checked on every use.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from nengtan.store.base import Base, utcnow
from nengtan.store.types import UTCDateTime


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    #: previous hashes (newest first) so a reset cannot reuse the last few passwords
    password_history: Mapped[str | None] = mapped_column(String(1000))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the last accepted TOTP time step: a code is accepted once (no replay)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(100))


class RoleGrant(Base):
    __tablename__ = "role_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    node_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"))
    inventory_id: Mapped[int | None] = mapped_column(
        ForeignKey("inventories.id", ondelete="RESTRICT"))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    granted_by: Mapped[str | None] = mapped_column(String(100))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuthSession(Base):
    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    #: "session" (interactive login, idle timeout) or "api" (integration token, no idle timeout)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str | None] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str | None] = mapped_column(String(100))
