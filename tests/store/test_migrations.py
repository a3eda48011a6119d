"""The Alembic migration creates exactly the schema the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from nengtan.store import db
from nengtan.store.models import Base


def _diff(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, Base.metadata)


def test_schema_matches_models(engine):
    diff = _diff(engine)
    if engine.dialect.name == "sqlite":
        # The BRIN index exists on PostgreSQL only (ddl_if); SQLite clusters on the key instead.
        diff = [d for d in diff if not (d[0] == "add_index" and d[1].name.endswith("_brin"))]
    assert diff == []


def test_readings_layout_per_database(engine):
    insp = inspect(engine)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            strategy = conn.execute(text(
                "SELECT partstrat FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
                "WHERE c.relname = 'readings'")).scalar()
            index = conn.execute(text(
                "SELECT indexdef FROM pg_indexes WHERE tablename = 'readings'")).scalar()
        assert strategy == "r" and "brin" in index
    else:
        assert insp.get_pk_constraint("readings")["constrained_columns"] == ["meter_id", "ts"]


def test_downgrade_and_upgrade_again(engine):
    from alembic.script import ScriptDirectory

    db.reset(engine)
    head = ScriptDirectory.from_config(db.alembic_config()).get_current_head()
    assert db.current_revision(engine) == head
    assert inspect(engine).has_table("meter_tails")


def test_reset_wipes_a_database_that_holds_a_tree(engine):
    from sqlalchemy.orm import Session

    from nengtan.services import org

    with Session(engine) as s, s.begin():
        org.create(s, {"code": "P", "name_zh": "园区", "kind": "park"})
        org.create(s, {"code": "E", "name_zh": "企业", "kind": "enterprise", "parent": "P"})
    db.reset(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM nodes").scalar() == 0
