"""One error shape for every origin, the caller's language, and one transaction per request."""

from __future__ import annotations

from sqlalchemy import select

from nengtan.api import create_app
from nengtan.api.deps import SessionDep
from nengtan.errors import fail
from nengtan.store.models import Node

from .helpers import ok, problems
from .auth_client import AuthedClient


def test_language_of_the_summary(client):
    def message(lang: str | None) -> str:
        headers = {"accept-language": lang} if lang else {}
        return client.get("/api/nodes/42", headers=headers).json()["message"]

    assert message(None) == "未找到节点 42"
    assert message("en-GB,en;q=0.9") == "node 42 not found"
    assert message("fr-FR, en;q=0.5, zh-CN;q=0.8") == "未找到节点 42"
    assert message("de, en;q=0.3") == "node 42 not found"
    r = client.post("/api/nodes", json={}, headers={"accept-language": "en"})
    assert r.json()["message"] == "3 invalid value(s); nothing was changed"
    detail = r.json()["detail"][0]
    assert set(detail) == {"row", "field", "rule", "value", "message", "message_zh"}
    assert (detail["message"], detail["message_zh"]) == ("a value is required", "必填项为空")


def test_framework_validation_errors_take_the_same_shape(client):
    assert problems(client.post("/api/nodes", content="{", headers={
        "content-type": "application/json"})) == [(None, None, "type_json")]
    assert problems(client.post("/api/nodes", json=[1])) == [(None, None, "type_object")]
    assert problems(client.get("/api/meters", params={"limit": "many", "offset": -1})) == [
        (None, "limit", "type_int"), (None, "offset", "minimum")]
    r = client.post("/api/tariffs", json={"code": "T", "bands": [{"band": "flat"}, 7]})
    assert problems(r) == [(1, "bands", "type_object")]


def _app_with_probe(engine):
    """The API plus a route that writes a node and then fails as told."""
    app = create_app(engine)

    @app.post("/probe/{how}")
    def probe(how: str, session: SessionDep):
        session.add(Node(code=f"N-{how}", name_zh="探针", kind="park", path="/", depth=0))
        session.flush()
        if how == "invalid":
            raise fail("rule.required", field="x")
        if how == "conflict":
            session.add(Node(code=f"N-{how}", name_zh="重复", kind="park", path="/", depth=0))
            session.flush()
        return {"ok": True}

    return app


def test_one_transaction_per_request(engine):
    with AuthedClient(_app_with_probe(engine)) as c:
        assert problems(c.post("/probe/invalid")) == [(None, "x", "required")]
        r = c.post("/probe/conflict")
        assert problems(r, 409) == [(None, None, "conflict")]
        assert r.json()["message"] == "更改与已有数据冲突，未做任何更改"
        assert ok(c.post("/probe/fine")) == {"ok": True}
        codes = [n["code"] for n in ok(c.get("/api/nodes"))["items"]]
    assert codes == ["N-fine"]  # the failed requests left nothing behind
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        assert s.scalars(select(Node.code)).all() == ["N-fine"]
