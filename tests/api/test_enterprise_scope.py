"""What an enterprise user gets from installation-wide endpoints on the demo park: the status
counts and the file exports hold their own enterprise only; park-wide users get everything."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nengtan.store.models import Meter, Node

from .auth_client import client_as


def _ok(r):
    assert r.status_code == 200, r.text
    return r


def _tenant(app, code: str) -> int:
    with Session(app.state.engine) as s:
        return s.scalar(select(Node.tenant_id).where(Node.code == code))


def _count(app, model, tenant: int | None = None) -> int:
    q = select(func.count()).select_from(model)
    if tenant is not None:
        q = q.where(model.tenant_id == tenant)
    with Session(app.state.engine) as s:
        return s.scalar(q)


def _rows(r) -> list[dict]:
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))


def test_status_counts_the_callers_enterprise_only(demo_app):
    park = _ok(client_as(demo_app, "park_admin").get("/api/status")).json()
    cement = _ok(client_as(demo_app, "cement_manager").get("/api/status")).json()
    cem = _tenant(demo_app, "CEM")
    assert park["meters"] == _count(demo_app, Meter)
    assert park["nodes"] == _count(demo_app, Node)
    assert (cement["nodes"], cement["meters"]) == (_count(demo_app, Node, cem),
                                                    _count(demo_app, Meter, cem))
    assert 0 < cement["readings"] < park["readings"]


def test_exports_hold_the_callers_enterprise_only(demo_app):
    cement = client_as(demo_app, "cement_manager")
    cem = _tenant(demo_app, "CEM")
    meters = _rows(_ok(cement.get("/api/export/meters", params={"lang": "en"})))
    with Session(demo_app.state.engine) as s:
        mine = set(s.scalars(select(Meter.code).where(Meter.tenant_id == cem)))
    assert {m["code"] for m in meters} == mine
    nodes = _rows(_ok(cement.get("/api/export/nodes", params={"lang": "en"})))
    assert nodes[0]["code"] == "CEM" and nodes[0]["parent"] == ""  # the park is not theirs
    assert len(nodes) == _count(demo_app, Node, cem)
    one = next(iter(sorted(mine)))
    readings = _rows(_ok(cement.get("/api/export/readings", params={
        "lang": "en", "meters": one, "start": "2026-10-05", "end": "2026-10-06"})))
    assert readings and {r["meter"] for r in readings} == {one}
    # another enterprise's meter is not found, exactly like a code never used
    r = cement.get("/api/export/readings", params={"meters": f"{one},TEX-E-101"})
    assert r.status_code == 404
    park = client_as(demo_app, "park_admin")
    every = _rows(_ok(park.get("/api/export/meters", params={"lang": "en"})))
    assert len(every) == _count(demo_app, Meter)
