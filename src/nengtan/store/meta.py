"""Key/value facts about a database (``meta`` table): demo build marker, dataset versions."""

from __future__ import annotations

from sqlalchemy import Connection, delete, select

from nengtan.store.models import Meta


def get(conn: Connection, key: str) -> str | None:
    return conn.execute(select(Meta.value).where(Meta.key == key)).scalar()


def put(conn: Connection, key: str, value: str) -> None:
    conn.execute(delete(Meta).where(Meta.key == key))
    conn.execute(Meta.__table__.insert().values(key=key, value=value))
