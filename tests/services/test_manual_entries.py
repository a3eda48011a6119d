"""Manual entry with review, on SQLite and PostgreSQL: only approved values reach the target
tables, versions are kept, the four-eyes rule holds, every step is audited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from nengtan.errors import InputError, NotFound
from nengtan.services import audit, evidence, production
from nengtan.services import manual_entries as me
from nengtan.services.audit import Actor
from nengtan.store.models import EconomicRecord, FuelDelivery
from nengtan.store.models.manual import ManualEntry

from .conftest import T0, Q

CLERK = Actor("wangfang", "10.0.0.7")
BOSS = Actor("liqiang", "10.0.0.8")
CARBON = Actor("zhaomin", "10.0.0.9")


def run(engine, fn, *args, **kwargs):
    with Session(engine, expire_on_commit=False) as s, s.begin():
        out = fn(s, *args, **kwargs)
        return (out.id, out.status, out.latest_version, out.approved_version) \
            if isinstance(out, ManualEntry) else out


def entry(engine, entry_id) -> dict:
    with Session(engine) as s:
        return me.as_dict(s, me.get(s, entry_id))


def rules(exc) -> list[tuple]:
    return [(i.field, i.rule.removeprefix("rule.")) for i in exc.value.issues]


def hour16(plant) -> tuple[float, int]:
    """MAIN's value and flags in the hour 00:00-01:00 local of 2025-01-01 (16:00 UTC)."""
    rows = [r for r in plant.hours("MAIN") if r[1] == "2024-12-31"]
    return (rows[0][2][16], int(rows[0][4][16])) if rows else (None, 0)


@pytest.fixture
def clinker(plant):
    with Session(plant.engine) as s, s.begin():
        production.upsert_product(s, {"code": "CLK", "name_zh": "熟料", "unit": "t"})
    return plant


def reading(value, ts="2025-01-01 00:15", **extra):
    return {"meter": "MAIN", "ts": ts, "value": value, **extra}


# -- readings ------------------------------------------------------------------------------
def test_reading_counts_only_once_approved(plant):
    engine = plant.engine
    plant.ingest("MAIN", [T0], [1000.0])  # a measured reading at local midnight
    eid, status, *_ = run(engine, me.create, "reading", reading(1010, reason="读表"), CLERK,
                          note="月初抄表")
    assert status == "draft" and hour16(plant)[0] in (None, -1)
    run(engine, me.submit, eid, CLERK)
    assert plant.scalar("SELECT count(*) FROM readings") == 1  # submitted is not applied
    with pytest.raises(InputError) as exc:
        run(engine, me.approve, eid, CLERK)
    assert rules(exc) == [("user", "manual_four_eyes")]
    assert run(engine, me.approve, eid, BOSS, comment="核对无误")[1:] == ("approved", 1, 1)
    # Known answer: (1010 - 1000) register units × CT/PT 80 = 800 kWh in that quarter hour,
    # flagged as manual (Flag.MANUAL = 2).
    value, flags = hour16(plant)
    assert value == 800.0 and flags & 2
    rows = plant.rows("SELECT r.value, r.quality, r.reason, b.source_detail "
                      "FROM readings r JOIN ingest_batches b ON b.id = r.batch_id "
                      "WHERE b.source = 'manual'")
    assert len(rows) == 1
    value, q, reason, detail = rows[0]
    assert (value, q) == (1010.0, 2)
    assert reason == f"manual entry {eid} v1; 读表"
    assert detail == f"manual entry {eid} v1, approved by liqiang"
    applied = entry(engine, eid)["versions"][0]["applied"]
    assert applied["table"] == "readings" and applied["id"] == plant.ids["MAIN"]
    assert applied["ts"] == "2024-12-31T16:15:00Z"


def test_approved_revision_replaces_the_value_and_keeps_the_old(plant):
    engine = plant.engine
    plant.ingest("MAIN", [T0], [1000.0])
    eid = run(engine, me.create, "reading", reading(1010), CLERK, submit=True)[0]
    run(engine, me.approve, eid, BOSS)
    run(engine, me.revise, eid, CLERK, payload=reading(1012), note="看错一位", submit=True)
    assert hour16(plant)[0] == 800.0  # the revision is not approved yet
    assert run(engine, me.approve, eid, BOSS)[1:] == ("approved", 2, 2)
    assert hour16(plant)[0] == 960.0  # (1012 - 1000) × 80
    revisions = plant.rows("SELECT old_value, old_quality, new_value FROM reading_revisions")
    assert [tuple(r) for r in revisions] == [(1010.0, 2, 1012.0)]
    versions = entry(engine, eid)["versions"]
    assert [(v["version"], v["status"], v["payload"]["value"]) for v in versions] == [
        (1, "superseded", 1010), (2, "approved", 1012)]


def test_revision_to_another_time_rejects_the_old_reading(plant):
    engine = plant.engine
    plant.ingest("MAIN", [T0], [1000.0])
    eid = run(engine, me.create, "reading", reading(1010), CLERK, submit=True)[0]
    run(engine, me.approve, eid, BOSS)
    run(engine, me.revise, eid, CLERK, payload=reading(1010, ts="2025-01-01 00:30"), submit=True)
    run(engine, me.approve, eid, BOSS)
    rows = plant.rows("SELECT value, quality FROM readings ORDER BY ts")
    assert [tuple(r) for r in rows] == [(1000.0, 0), (1010.0, 3), (1010.0, 2)]


def test_retraction_takes_the_reading_out(plant):
    engine = plant.engine
    plant.ingest("MAIN", [T0], [1000.0])
    eid = run(engine, me.create, "reading", reading(1010), CLERK, submit=True)[0]
    run(engine, me.approve, eid, BOSS)
    with pytest.raises(InputError) as exc:
        run(engine, me.revise, eid, CLERK, payload=reading(1), retract=True)
    assert rules(exc) == [("payload", "manual_retract_payload")]
    run(engine, me.revise, eid, CLERK, retract=True, note="表计当月未抄", submit=True)
    assert run(engine, me.approve, eid, BOSS)[1:] == ("retracted", 2, None)
    quality, reason = plant.rows("SELECT quality, reason FROM readings WHERE value = 1010")[0]
    assert quality == 3 and reason.startswith(f"retracted: manual entry {eid} v2")
    assert hour16(plant)[0] in (None, -1)  # the rejected reading no longer counts
    with pytest.raises(InputError) as exc:
        run(engine, me.revise, eid, CLERK, retract=True)
    assert rules(exc) == [("retract", "manual_nothing_approved")]


def test_retraction_leaves_a_reading_replaced_since_alone(plant):
    engine = plant.engine
    eid = run(engine, me.create, "reading", reading(1010), CLERK, submit=True)[0]
    run(engine, me.approve, eid, BOSS)
    plant.ingest("MAIN", [T0 + Q], [1011.0])  # the meter's own value arrives later
    run(engine, me.revise, eid, CLERK, retract=True, submit=True)
    run(engine, me.approve, eid, BOSS)
    assert [tuple(r) for r in plant.rows("SELECT value, quality FROM readings")] == [(1011.0, 0)]
    assert entry(engine, eid)["versions"][1]["applied"]["batch_id"] is None


def test_bad_reading_payload_names_each_field_and_stores_nothing(plant):
    with pytest.raises(InputError) as exc:
        run(plant.engine, me.create, "reading",
            {"meter": "MAIN", "ts": "soon", "value": "x", "quality": "measured"}, CLERK)
    assert sorted(rules(exc)) == [("payload.quality", "unknown_field"),
                                  ("payload.ts", "type_datetime"),
                                  ("payload.value", "type_float")]
    with pytest.raises(InputError) as exc:
        run(plant.engine, me.create, "reading", reading(5, ts="2099-01-01 00:00"), CLERK)
    assert rules(exc) == [("payload.ts", "ts_range")]
    with pytest.raises(InputError) as exc:
        run(plant.engine, me.create, "reading", {**reading(5), "meter": "NOPE"}, CLERK)
    assert rules(exc) == [("payload.meter", "ref_unknown")]
    with pytest.raises(InputError) as exc:
        run(plant.engine, me.create, "meter", {}, CLERK)
    assert rules(exc) == [("kind", "choice")]
    assert plant.scalar("SELECT count(*) FROM manual_entries") == 0
    assert plant.scalar("SELECT count(*) FROM audit_log") == 0


# -- records -------------------------------------------------------------------------------
def prod(quantity, start="2025-01-01", end="2025-01-31", **extra):
    return {"node": "S1", "product": "CLK", "period_start": start, "period_end": end,
            "quantity": quantity, **extra}


def test_production_reaches_the_table_only_when_approved(clinker):
    engine = clinker.engine
    with pytest.raises(InputError) as exc:
        run(engine, me.create, "production", prod(-5, end="2024-12-01"), CLERK)
    assert rules(exc) == [("payload.quantity", "minimum")]
    with pytest.raises(InputError) as exc:
        run(engine, me.create, "production", prod(5, end="2024-12-01", unit="kWh"), CLERK)
    assert sorted(rules(exc)) == [("payload.period_end", "period"),
                                  ("payload.unit", "unit_mismatch")]
    eid = run(engine, me.create, "production", prod(1200), CLERK, submit=True)[0]
    # the savepoint that validated it left nothing behind
    assert clinker.scalar("SELECT count(*) FROM production_records") == 0
    run(engine, me.approve, eid, BOSS)
    assert clinker.rows("SELECT quantity, unit FROM production_records")[0] == (1200.0, "t")
    # A revision that moves the period replaces the record the entry made.
    run(engine, me.revise, eid, CLERK, payload=prod(1180, start="2025-02-01", end="2025-02-28"),
        submit=True)
    run(engine, me.approve, eid, BOSS)
    rows = clinker.rows("SELECT period_start, quantity FROM production_records")
    assert [(str(d), q) for d, q in rows] == [("2025-02-01", 1180.0)]


def test_economic_values_are_converted_to_cny(clinker):
    engine = clinker.engine
    eid = run(engine, me.create, "economic", {
        "node": "E1", "period_start": "2025-01-01", "period_end": "2025-01-31",
        "output_value": 1268.5, "added_value": 241.0, "unit": "10^4 CNY"}, CLERK, submit=True)[0]
    run(engine, me.approve, eid, BOSS)
    with Session(engine) as s:
        rec = s.scalar(select(EconomicRecord))
    # 1268.5 万元 × 10 000 = 12 685 000 CNY; 241.0 万元 = 2 410 000 CNY
    assert (rec.output_value, rec.added_value) == (12_685_000.0, 2_410_000.0)


def coal(**extra):
    return {"node": "S1", "carrier": "bituminous_coal", "delivered_on": "2025-01-05",
            "quantity": 2860.4, "unit": "t", "ncv": 22480, "ncv_unit": "kJ/kg",
            "carbon_content_pct": 5.68, "report_no": "HY-MZ-2025-0001", **extra}


def test_fuel_delivery_rejected_revised_and_approved_in_place(clinker):
    engine = clinker.engine
    eid = run(engine, me.create, "fuel_delivery", coal(), CLERK, submit=True)[0]
    with pytest.raises(InputError) as exc:
        run(engine, me.reject, eid, CARBON, "  ")
    assert rules(exc) == [("comment", "manual_reject_comment")]
    run(engine, me.reject, eid, CARBON, "元素碳含量应为 56.80%")
    with pytest.raises(InputError) as exc:
        run(engine, me.approve, eid, CARBON)
    assert rules(exc) == [("status", "manual_status")]
    run(engine, me.revise, eid, CLERK, payload=coal(carbon_content_pct=56.8), submit=True)
    run(engine, me.approve, eid, CARBON)
    with Session(engine) as s:
        first = s.scalar(select(FuelDelivery))
    # 22 480 kJ/kg = 22 480 MJ/t (kJ/kg × 1000 kg/t ÷ 1000 kJ/MJ)
    assert (first.carbon_content_pct, first.ncv_mj_per_unit) == (56.8, 22480.0)
    run(engine, me.revise, eid, CLERK, payload=coal(carbon_content_pct=56.8, quantity=2861.0),
        submit=True)
    run(engine, me.approve, eid, CARBON)
    with Session(engine) as s:
        rows = s.scalars(select(FuelDelivery)).all()
    assert [(r.id, r.quantity) for r in rows] == [(first.id, 2861.0)]
    versions = entry(engine, eid)["versions"]
    assert [(v["status"], v["review_comment"]) for v in versions] == [
        ("rejected", "元素碳含量应为 56.80%"), ("superseded", None), ("approved", None)]
    assert versions[0]["payload"]["carbon_content_pct"] == 5.68  # old versions stay as they were


def test_retracting_a_record_spares_one_another_entry_stands_behind(clinker):
    engine = clinker.engine
    a = run(engine, me.create, "production", prod(10), CLERK, submit=True)[0]
    run(engine, me.approve, a, BOSS)
    b = run(engine, me.create, "production", prod(12), CLERK, submit=True)[0]
    run(engine, me.approve, b, BOSS)  # same key: the last approved value wins
    run(engine, me.revise, a, CLERK, retract=True, submit=True)
    run(engine, me.approve, a, BOSS)
    assert clinker.rows("SELECT quantity FROM production_records") == [(12.0,)]
    run(engine, me.revise, b, CLERK, retract=True, submit=True)
    run(engine, me.approve, b, BOSS)
    assert clinker.scalar("SELECT count(*) FROM production_records") == 0


# -- workflow rules ------------------------------------------------------------------------
def test_workflow_guards(clinker):
    engine = clinker.engine
    eid = run(engine, me.create, "production", prod(10), CLERK)[0]
    with pytest.raises(InputError) as exc:
        run(engine, me.update_draft, eid, prod(11), BOSS)
    assert rules(exc) == [("user", "manual_not_creator")]
    run(engine, me.update_draft, eid, prod(11), CLERK)
    with pytest.raises(InputError) as exc:
        run(engine, me.revise, eid, CLERK, payload=prod(12))
    assert rules(exc) == [("status", "manual_status")]
    with pytest.raises(InputError) as exc:
        run(engine, me.submit, eid, CLERK, version_no=2)
    assert rules(exc) == [("version", "manual_version_stale")]
    run(engine, me.submit, eid, BOSS)  # someone else submits the clerk's draft ...
    for reviewer in (CLERK, BOSS):  # ... so neither may review it
        with pytest.raises(InputError) as exc:
            run(engine, me.approve, eid, reviewer)
        assert rules(exc) == [("user", "manual_four_eyes")]
    with pytest.raises(InputError) as exc:
        run(engine, me.withdraw, eid, CARBON)
    assert rules(exc) == [("user", "manual_not_owner")]
    assert run(engine, me.withdraw, eid, CLERK, comment="重复")[1] == "withdrawn"
    with pytest.raises(InputError) as exc:
        run(engine, me.create, "production", prod(10), Actor(" "))
    assert rules(exc) == [("user", "manual_user_required")]
    with pytest.raises(NotFound):
        run(engine, me.submit, 999, CLERK)
    assert clinker.scalar("SELECT count(*) FROM production_records") == 0


def test_revision_cannot_move_to_another_tenant(clinker):
    engine = clinker.engine
    from nengtan.services import org

    with Session(engine) as s, s.begin():
        org.create(s, {"code": "E2", "name_zh": "二号企业", "kind": "enterprise", "parent": "P"})
    eid = run(engine, me.create, "production", prod(10), CLERK, submit=True)[0]
    run(engine, me.reject, eid, BOSS, "期间有误")
    with pytest.raises(InputError) as exc:
        run(engine, me.revise, eid, CLERK, payload={**prod(10), "node": "E2"})
    assert rules(exc) == [("payload", "manual_tenant_change")]


def test_evidence_follows_versions(clinker, tmp_path):
    engine = clinker.engine
    with Session(engine, expire_on_commit=False) as s, s.begin():
        lab = evidence.store(s, tmp_path, b"%PDF lab", filename="lab.pdf", actor=CLERK,
                             tenant="S1")
        foreign = evidence.store(s, tmp_path, b"other", filename="x.csv", actor=CLERK,
                                 tenant="P")
    eid = run(engine, me.create, "fuel_delivery", coal(), CLERK, evidence_ids=[lab.id])[0]
    with pytest.raises(InputError) as exc:
        run(engine, me.attach, eid, lab.id, CLERK)
    assert rules(exc) == [("evidence_id", "manual_evidence_attached")]
    with pytest.raises(InputError) as exc:
        run(engine, me.attach, eid, foreign.id, CLERK)
    assert rules(exc) == [("evidence_id", "manual_evidence_tenant")]
    run(engine, me.submit, eid, CLERK)
    run(engine, me.reject, eid, CARBON, "碳含量有误")
    with pytest.raises(InputError) as exc:
        run(engine, me.detach, eid, lab.id, CLERK)  # a reviewed version is read-only
    assert rules(exc) == [("status", "manual_status")]
    run(engine, me.revise, eid, CLERK, payload=coal(carbon_content_pct=56.8))
    versions = entry(engine, eid)["versions"]
    assert [[f["sha256"] for f in v["evidence"]] for v in versions] == [[lab.sha256]] * 2
    run(engine, me.detach, eid, lab.id, CLERK)
    versions = entry(engine, eid)["versions"]
    assert [len(v["evidence"]) for v in versions] == [1, 0]


def test_every_step_is_audited_in_one_chain(clinker):
    engine = clinker.engine
    eid = run(engine, me.create, "production", prod(10), CLERK, submit=True)[0]
    run(engine, me.reject, eid, BOSS, "数量有误")
    run(engine, me.revise, eid, CLERK, payload=prod(11), submit=True)
    run(engine, me.approve, eid, BOSS, comment="ok")
    with Session(engine) as s:
        trail = [(r.action, r.user_name, r.source, (r.detail or {}).get("version"))
                 for r in s.scalars(audit.query(object_type="manual_entry", object_id=eid))]
        chain = audit.verify_chain(s)
    assert trail == [
        ("entry.create", "wangfang", "10.0.0.7", 1), ("entry.submit", "wangfang", "10.0.0.7", 1),
        ("entry.reject", "liqiang", "10.0.0.8", 1), ("entry.revise", "wangfang", "10.0.0.7", 2),
        ("entry.submit", "wangfang", "10.0.0.7", 2), ("entry.approve", "liqiang", "10.0.0.8", 2)]
    assert chain.ok and chain.checked == 6
    with engine.connect() as conn:
        approve = conn.execute(text("SELECT detail FROM audit_log WHERE id = 6")).scalar()
    detail = approve if isinstance(approve, dict) else json.loads(approve)
    assert detail["target"]["table"] == "production_records" and detail["comment"] == "ok"


def test_query_filters(clinker):
    engine = clinker.engine
    a = run(engine, me.create, "production", prod(10), CLERK, submit=True)[0]
    b = run(engine, me.create, "production", prod(10, start="2025-02-01", end="2025-02-28"),
            BOSS)[0]
    with Session(engine) as s:

        def ids(**filters):
            return [e.id for e in s.scalars(me.query(**filters))]

        assert ids() == [b, a]
        assert ids(status="submitted") == [a] and ids(submitter="wangfang") == [a]
        assert ids(created_by="liqiang") == [b] and ids(kind="reading") == []
        tenant = s.scalar(select(ManualEntry.tenant_id).where(ManualEntry.id == a))
        assert ids(tenant_id=tenant) == [b, a] and ids(tenant_id=tenant + 100) == []
        summary = me.summaries(s, list(s.scalars(me.query())))
    assert [(x["id"], x["status"], x["tenant"]) for x in summary] == [
        (b, "draft", "E1"), (a, "submitted", "E1")]


# -- command line --------------------------------------------------------------------------
def test_cli_lists_shows_and_reviews(clinker, engine, tmp_path):
    from nengtan.cli import app

    url = engine.url.render_as_string(hide_password=False)
    a = run(engine, me.create, "production", prod(10), CLERK, submit=True)[0]
    b = run(engine, me.create, "production", prod(20, start="2025-02-01", end="2025-02-28"),
            CLERK, submit=True)[0]
    cli = CliRunner()
    listed = cli.invoke(app, ["entries", "list", "--status", "submitted", "--db", url])
    assert listed.exit_code == 0 and f"{a:>6}  v1" in listed.output
    same = cli.invoke(app, ["entries", "approve", str(a), "--user", "wangfang", "--db", url])
    assert same.exit_code == 2 and "manual_four_eyes" not in same.output  # message, not key
    ok = cli.invoke(app, ["entries", "approve", str(a), "--user", "liqiang", "--db", url])
    assert ok.exit_code == 0 and f"entry {a} v1: approved" in ok.output
    rej = cli.invoke(app, ["entries", "reject", str(b), "-u", "liqiang", "--comment", "重报",
                           "--db", url])
    assert rej.exit_code == 0 and "rejected" in rej.output
    shown = cli.invoke(app, ["entries", "show", str(b), "--db", url])
    assert "reviewed by liqiang" in shown.output and "重报" in shown.output
    assert clinker.rows("SELECT quantity FROM production_records") == [(10.0,)]
    with Session(engine) as s:
        assert s.scalar(select(func.count()).where(text("source = 'cli'"))
                        .select_from(text("audit_log"))) == 2
    chain = cli.invoke(app, ["entries", "audit", "verify", "--db", url])
    assert chain.exit_code == 0 and chain.output.startswith("ok: 6 row(s)")
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET user_name = 'x' WHERE id = 2"))
    broken = cli.invoke(app, ["entries", "audit", "verify", "--db", url])
    assert broken.exit_code == 1 and "broken at row 2: hash_mismatch" in broken.output
    ev = cli.invoke(app, ["entries", "evidence", "verify", "--dir", str(tmp_path / "ev"),
                          "--db", url])
    assert ev.exit_code == 0 and "0 file(s) of 0 upload(s)" in ev.output
