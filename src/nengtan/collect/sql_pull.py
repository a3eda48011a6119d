"""SQL pull: records from another system's database every ``interval_s`` (any SQLAlchemy URL).

A MES or ERP on PostgreSQL, SQLite, or any database SQLAlchemy has a driver for: the adapter
runs ``query`` with the bind parameter ``:cursor`` (and ``:limit`` = ``page_size`` when the
query uses it), each row becoming one record (column name → value), and stores the records as
readings or production records (see :mod:`nengtan.collect.cursors` for cursors, record mapping
and the order of commits)::

    SELECT line_code, product_code, shift_date, qty, uom, id
    FROM mes_output WHERE id > :cursor ORDER BY id LIMIT :limit

The query runs on a worker thread, never on the collector's event loop.  The source is only
read: the adapter opens no transaction of its own beyond the one the driver needs for the
SELECT, and sets nothing on the connection (a SQLite file can be opened read-only with
``sqlite:///file:/path/mes.db?mode=ro&uri=true``).  An unreachable database or a failing
query makes ``run()`` raise; the collector records it and tries again with back-off, from the
same cursor.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import Field, field_validator, model_validator
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from nengtan.collect.cursors import Page, PullAdapter, PullSettings


class SqlPullSettings(PullSettings):
    url: str = Field(description="SQLAlchemy URL of the source database.")
    query: str = Field(min_length=1, description="SELECT with :cursor (and optionally :limit).")

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        try:
            make_url(v)
        except ArgumentError:
            raise ValueError("not a SQLAlchemy database URL (e.g. postgresql+psycopg://user@"
                             "host/db, sqlite:////path/mes.db)") from None
        return v

    @model_validator(mode="after")
    def _binds(self) -> SqlPullSettings:
        names = set(text(self.query).compile().params)
        unknown = names - {"cursor", "limit"}
        if unknown:
            raise ValueError(f"query: unknown bind parameter(s) {sorted(unknown)}; "
                             "only :cursor and :limit are bound")
        if self.cursor is not None and "cursor" not in names:
            raise ValueError("query: with a cursor the query must use :cursor")
        if self.cursor is None and "cursor" in names:
            raise ValueError("query uses :cursor but no cursor is configured")
        if "limit" in names and not self.page_size:
            raise ValueError("query uses :limit: set page_size")
        return self


def source_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True, pool_size=1, max_overflow=0) \
        if parsed.get_backend_name() != "sqlite" else create_engine(parsed)


class SqlPullAdapter(PullAdapter):
    kind = "sql"
    Settings = SqlPullSettings

    def __init__(self, settings, ctx):
        super().__init__(settings, ctx)
        self.engine: Engine | None = None
        self.where = make_url(settings.url).render_as_string(hide_password=True)[:400]
        self.statement = text(settings.query)
        self.binds = set(self.statement.compile().params)

    async def open(self) -> None:
        self.engine = source_engine(self.settings.url)

    async def close(self) -> None:
        if self.engine is not None:
            engine, self.engine = self.engine, None
            await asyncio.to_thread(engine.dispose)

    async def fetch(self, cursor: Any, token: str | None) -> Page | None:
        params = {}
        if "cursor" in self.binds:
            params["cursor"] = cursor
        if "limit" in self.binds:
            params["limit"] = self.settings.page_size

        def query() -> list[dict]:
            with self.engine.connect() as conn:
                return [dict(row) for row in conn.execute(self.statement, params).mappings()]

        return Page(await asyncio.to_thread(query), self.where)
