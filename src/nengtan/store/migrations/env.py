"""Alembic environment: nengtan passes the connection in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from nengtan.store.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from nengtan.store.db import make_engine

        engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
        with engine.begin() as conn:
            _migrate(conn)
        return
    _migrate(connection)


def _migrate(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
