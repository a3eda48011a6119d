"""A TestClient that is logged in, for API tests that are not about access control.

Requests carry the bearer token of ``tester``, a user holding every role on the whole
installation (granted directly, past the 三员分立 check, which ``tests/api/test_security.py``
tests).  A request with ``X-Nengtan-User: NAME`` acts as user NAME instead (created on first
use with the same roles), so tests can show who submitted and who approved.
"""

from __future__ import annotations

from urllib.parse import unquote

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from nengtan.security.roles import ROLES
from nengtan.services import identity
from nengtan.services.audit import Actor
from nengtan.store.models.security import RoleGrant, User

ACT_AS = "X-Nengtan-User"
PASSWORD = "Test@Passw0rd!"


def token_for(engine, username: str, roles=tuple(ROLES)) -> str:
    """A session token of ``username`` (created with ``roles`` on the whole installation)."""
    with Session(engine, expire_on_commit=False) as s, s.begin():
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            user = identity.create_user(s, username, PASSWORD, actor=Actor("test-setup"))
            s.add_all(RoleGrant(user_id=user.id, role=role, granted_by="test-setup")
                      for role in roles)
            s.flush()
        return identity.open_session(s, user).token


class AuthedClient(TestClient):
    def __init__(self, app, user: str = "tester", **kwargs):
        super().__init__(app, **kwargs)
        self._tokens: dict[str, str] = {}
        self.headers["Authorization"] = "Bearer " + self.token(user)

    def token(self, username: str) -> str:
        if username not in self._tokens:
            self._tokens[username] = token_for(self.app.state.engine, username)
        return self._tokens[username]

    def request(self, method, url, **kwargs):
        headers = kwargs.get("headers")
        if headers and ACT_AS in headers:
            headers = dict(headers)
            name = unquote(headers.pop(ACT_AS)).strip()
            if name:
                headers["Authorization"] = "Bearer " + self.token(name)
            kwargs["headers"] = headers
        return super().request(method, url, **kwargs)


def client_as(app, username: str | None) -> TestClient:
    """A client of ``app`` logged in as an existing user (a demo user), or anonymous."""
    client = TestClient(app)
    if username:
        with Session(app.state.engine, expire_on_commit=False) as s, s.begin():
            user = s.scalar(select(User).where(User.username == username))
            token = identity.open_session(s, user).token
        client.headers["Authorization"] = f"Bearer {token}"
    return client
