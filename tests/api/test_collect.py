"""Dead letters, collector events and cursors through the API."""

from __future__ import annotations

from sqlalchemy import insert

from nengtan.store.models import CollectorEvent, DeadLetter


def _letters(engine):
    with engine.begin() as conn:
        conn.execute(insert(DeadLetter), [
            {"collector": "c1", "adapter": "gw", "source": "nengtan/p/gw01/batch",
             "reason": "dead.not_json", "detail": {"error": "unexpected character"},
             "payload": b"{not json", "status": "open"},
            {"collector": "c1", "adapter": "gw", "source": "nengtan/p/gw01/batch",
             "reason": "dead.unknown_tag", "detail": {"count": 2, "tags": ["X", "Y"]},
             "payload": b'[{"tag":"X"}]', "status": "open"},
        ])
        conn.execute(insert(CollectorEvent).values(collector="c1", adapter="gw", kind="offline",
                                                   severity="warning", device="meter-7"))


def test_dead_letters_are_listed_explained_and_downloadable(client, engine):
    _letters(engine)
    items = client.get("/api/dead-letters").json()
    assert [i["reason"] for i in items] == ["dead.unknown_tag", "dead.not_json"]
    assert items[0]["message"]["zh-CN"] == "位号未映射到任何表计（共 2 个数据点）"
    assert items[0]["message"]["en"] == "The tag is not mapped to any meter (2 point(s))"
    raw = client.get(f"/api/dead-letters/{items[1]['id']}/payload")
    assert raw.status_code == 200 and raw.content == b"{not json"
    assert client.get("/api/dead-letters", params={"reason": "dead.not_json"}).json()[0]["preview"] == "{not json"
    assert client.get("/api/dead-letters/99999").status_code == 404


def test_discarding_needs_a_note_and_keeps_the_payload(client, engine):
    _letters(engine)
    letter = client.get("/api/dead-letters").json()[0]
    bad = client.post(f"/api/dead-letters/{letter['id']}/discard", json={"user": "li", "note": " "})
    assert bad.status_code == 422
    ok = client.post(f"/api/dead-letters/{letter['id']}/discard",
                     json={"user": "li", "note": "test gateway, not in service"})
    assert ok.status_code == 200 and ok.json()["status"] == "discarded"
    assert ok.json()["resolved_by"] == "li" and ok.json()["size"] == len(b'[{"tag":"X"}]')
    again = client.post(f"/api/dead-letters/{letter['id']}/discard", json={"user": "li", "note": "x"})
    assert again.status_code == 422
    assert [i["status"] for i in client.get("/api/dead-letters", params={"status": "open"}).json()] == ["open"]


def test_collector_events_filter(client, engine):
    _letters(engine)
    events = client.get("/api/collector-events", params={"kind": "offline"}).json()
    assert len(events) == 1 and events[0]["device"] == "meter-7"
    assert client.get("/api/collector-events", params={"kind": "online"}).json() == []
    assert client.get("/api/collect-cursors").json() == []
