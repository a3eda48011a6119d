"""API test fixtures: a client on each database of the ``engine`` fixture, and a small tree."""

from __future__ import annotations

import pytest

from nengtan.api import create_app

from .helpers import created
from .auth_client import AuthedClient


@pytest.fixture
def client(engine):
    with AuthedClient(create_app(engine)) as c:
        yield c


@pytest.fixture
def site(client):
    """park P → enterprise E1 → site S1 (default timezone Asia/Shanghai) → workshop W1."""
    ids = {}
    for code, kind, parent in (("P", "park", None), ("E1", "enterprise", "P"),
                               ("S1", "site", "E1"), ("W1", "workshop", "S1")):
        ids[code] = created(client.post("/api/nodes", json={
            "code": code, "name_zh": f"节点{code}", "kind": kind, "parent": parent}))["id"]
    return ids
