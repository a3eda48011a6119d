"""The hash-chained audit log: known hashes, and every kind of tampering is named."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime
from itertools import pairwise

from sqlalchemy import text
from sqlalchemy.orm import Session

from nengtan.services import audit

TS = datetime(2025, 3, 1, 8, 30, 0, 123456, tzinfo=UTC)


def _record(engine, n: int, **kw) -> list[dict]:
    out = []
    with engine.begin() as conn:
        for i in range(n):
            out.append(audit.record(conn, user=kw.get("user", "wangfang"), action="entry.create",
                                    object_type="manual_entry", object_id=i + 1, tenant_id=2,
                                    source="10.0.0.7", detail={"version": 1, "值": i}, ts=TS))
    return out


def test_first_row_hash_is_known(engine):
    row = _record(engine, 1)[0]
    # The canonical JSON of the row, written out by hand: sorted keys, no spaces, UTF-8 text,
    # the time in UTC with microseconds, the object id as text.
    canonical = ('{"action":"entry.create","detail":{"version":1,"值":0},"id":1,'
                 '"object_id":"1","object_type":"manual_entry","source":"10.0.0.7",'
                 '"tenant_id":2,"ts":"2025-03-01T08:30:00.123456Z","user":"wangfang"}')
    expected = hashlib.sha256(("0" * 64 + canonical).encode("utf-8")).hexdigest()
    assert row["prev_hash"] == "0" * 64 and row["hash"] == expected
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT prev_hash, hash FROM audit_log WHERE id = 1")).one()
    assert tuple(stored) == ("0" * 64, expected)


def test_rows_chain_and_verify(engine):
    rows = _record(engine, 5)
    assert [r["id"] for r in rows] == [1, 2, 3, 4, 5]
    assert all(b["prev_hash"] == a["hash"] for a, b in pairwise(rows))
    with engine.connect() as conn:
        report = audit.verify_chain(conn, batch=2)  # pages of 2 rows: crosses page edges
    assert report.ok and report.checked == 5 and report.last_hash == rows[-1]["hash"]


def test_changed_field_is_named(engine):
    _record(engine, 4)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET user_name = 'mallory' WHERE id = 3"))
        report = audit.verify_chain(conn)
    assert (report.ok, report.first_bad_id, report.problem, report.checked) == (
        False, 3, "hash_mismatch", 2)


def test_rehashed_row_breaks_the_next_link(engine):
    rows = _record(engine, 4)
    with engine.begin() as conn:
        forged = {**rows[1], "detail": {"version": 9}}
        conn.execute(text("UPDATE audit_log SET detail = :d, hash = :h WHERE id = 2"),
                     {"d": '{"version": 9}', "h": audit.row_hash(forged["prev_hash"], forged)})
        report = audit.verify_chain(conn)
    assert (report.first_bad_id, report.problem) == (3, "prev_mismatch")


def test_deleted_row_is_named(engine):
    _record(engine, 4)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = 2"))
        report = audit.verify_chain(conn)
    assert (report.first_bad_id, report.problem, report.expected) == (3, "missing_row", "2")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = 1"))
        report = audit.verify_chain(conn)
    assert (report.first_bad_id, report.problem) == (3, "missing_row")


def test_empty_log_verifies(engine):
    with engine.connect() as conn:
        report = audit.verify_chain(conn)
    assert report.ok and report.checked == 0 and report.last_hash == audit.GENESIS


def test_rolled_back_record_leaves_no_gap(engine):
    _record(engine, 1)
    with Session(engine) as s, s.begin():
        audit.record(s, user="a", action="x.y", object_type="t")
        s.rollback()
    _record(engine, 1)
    with engine.connect() as conn:
        ids = [r for (r,) in conn.execute(text("SELECT id FROM audit_log ORDER BY id"))]
        assert ids == [1, 2] and audit.verify_chain(conn).ok


def test_concurrent_writers_keep_one_chain(engine):
    """Two threads appending in their own transactions never fork the chain."""
    errors = []

    def writer(name: str) -> None:
        try:
            for i in range(15):
                with engine.begin() as conn:
                    audit.record(conn, user=name, action="entry.update",
                                 object_type="manual_entry", object_id=i)
        except Exception as exc:  # noqa: BLE001 - any failure is reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        report = audit.verify_chain(conn)
    assert report.ok and report.checked == 30


def test_query_filters(engine):
    _record(engine, 2, user="wangfang")
    with engine.begin() as conn:
        audit.record(conn, user="liqiang", action="entry.approve", object_type="manual_entry",
                     object_id=1, ts=TS)
    with Session(engine) as s:
        family = [r.action for r in s.scalars(audit.query(action="entry.*"))]
        mine = [r.id for r in s.scalars(audit.query(user="liqiang"))]
        first = [r.id for r in s.scalars(audit.query(object_type="manual_entry", object_id=1))]
    assert family == ["entry.create", "entry.create", "entry.approve"]
    assert mine == [3] and first == [1, 3]
