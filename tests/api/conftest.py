"""API test fixtures: a client on each database of the ``engine`` fixture, and a small tree."""

from __future__ import annotations

import sqlite3

import pytest

from nengtan.api import create_app
from nengtan.store import db

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


@pytest.fixture(scope="module")
def demo_app(full_demo, tmp_path_factory):
    """The API on a private copy of the demo park with its users (tokens written here stay
    here)."""
    engine, _ = full_demo
    path = tmp_path_factory.mktemp("demo-app") / "demo.db"
    src, dst = sqlite3.connect(engine.url.database), sqlite3.connect(str(path))
    src.backup(dst)
    src.close()
    dst.close()
    copy = db.make_engine(f"sqlite:///{path}")
    yield create_app(copy)
    copy.dispose()
