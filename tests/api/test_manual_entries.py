"""Manual entry through the API: acting user, review workflow, evidence upload and download,
audit log — on both databases, with evidence files in a temporary directory."""

from __future__ import annotations

import hashlib
import os
from urllib.parse import quote

import pytest

from nengtan.api import create_app
from nengtan.config import Settings

from .helpers import created, make_meter, ok, post_readings, problems
from .auth_client import AuthedClient

CLERK = {"X-Nengtan-User": "wangfang"}
BOSS = {"X-Nengtan-User": "liqiang"}
LAB = b"%PDF-1.4 coal lab report HY-MZ-2025-0001"


@pytest.fixture
def settings(tmp_path):
    return Settings(home=tmp_path, evidence_max_bytes=1000)


@pytest.fixture
def client(engine, settings):
    """Overrides the package fixture: the app stores evidence under the test's directory."""
    with AuthedClient(create_app(engine, settings)) as c:
        yield c


def coal(**extra):
    return {"node": "S1", "carrier": "bituminous_coal", "delivered_on": "2025-01-05",
            "quantity": 2860.4, "unit": "t", "ncv": 22480, "ncv_unit": "kJ/kg",
            "carbon_content_pct": 56.8, **extra}


def upload(client, data=LAB, name="化验报告.pdf", headers=CLERK, **form):
    return client.post("/api/evidence", files={"file": (name, data, "application/pdf")},
                       data=form, headers=headers)


def test_writes_act_as_the_logged_in_user(client, site):
    r = created(client.post("/api/manual-entries", json={"kind": "fuel_delivery",
                                                          "payload": coal()}))
    assert r["created_by"] == "tester"
    # a UTF-8 user name (the test client logs in as the user of X-Nengtan-User)
    r = created(client.post("/api/manual-entries", headers={"X-Nengtan-User": quote("王芳")},
                            json={"kind": "fuel_delivery", "payload": coal()}))
    assert r["created_by"] == "王芳" and r["status"] == "draft"
    anonymous = client.post("/api/manual-entries", json={"kind": "fuel_delivery",
                                                         "payload": coal()},
                            headers={"Authorization": ""})
    assert anonymous.status_code == 401


def test_review_workflow_end_to_end(client, site, settings):
    ev = created(upload(client, tenant="S1", description="煤质化验报告"))
    assert ev["sha256"] == hashlib.sha256(LAB).hexdigest() and ev["tenant"] == "E1"
    entry = created(client.post("/api/manual-entries", headers=CLERK, json={
        "kind": "fuel_delivery", "payload": coal(carbon_content_pct=5.68), "note": "到货煤",
        "submit": True, "evidence_ids": [ev["id"]]}))
    eid = entry["id"]
    assert (entry["status"], entry["latest_version"], entry["tenant"]) == ("submitted", 1, "E1")
    assert entry["versions"][0]["evidence"][0]["url"] == f"/api/evidence/{ev['id']}/content"
    assert ok(client.get("/api/fuel-deliveries"))["total"] == 0  # not approved: not counted

    r = client.post(f"/api/manual-entries/{eid}/approve", headers=CLERK)
    assert problems(r) == [(None, "user", "manual_four_eyes")]
    assert problems(client.post(f"/api/manual-entries/{eid}/reject", headers=BOSS, json={})) \
        == [(None, "comment", "required")]
    rejected = ok(client.post(f"/api/manual-entries/{eid}/reject", headers=BOSS,
                              json={"comment": "碳含量应为 56.80%", "version": 1}))
    assert rejected["status"] == "rejected"

    revised = created(client.post(f"/api/manual-entries/{eid}/revise", headers=CLERK, json={
        "payload": coal(), "note": "按报告更正", "version": 1}))
    assert (revised["status"], revised["latest_version"]) == ("draft", 2)
    stale = client.post(f"/api/manual-entries/{eid}/submit", headers=CLERK, json={"version": 1})
    assert problems(stale) == [(None, "version", "manual_version_stale")]
    ok(client.post(f"/api/manual-entries/{eid}/submit", headers=CLERK))
    approved = ok(client.post(f"/api/manual-entries/{eid}/approve", headers=BOSS,
                              json={"comment": "已核对化验报告", "version": 2}))
    assert (approved["status"], approved["approved_version"]) == ("approved", 2)
    v1, v2 = approved["versions"]
    assert (v1["status"], v1["payload"]["carbon_content_pct"], v1["review_comment"]) == (
        "rejected", 5.68, "碳含量应为 56.80%")
    assert (v2["reviewed_by"], v2["applied"]["table"]) == ("liqiang", "fuel_deliveries")
    assert [f["id"] for f in v2["evidence"]] == [ev["id"]]  # carried over by the revision
    lots = ok(client.get("/api/fuel-deliveries"))["items"]
    assert [(x["id"], x["carbon_content_pct"]) for x in lots] == [(v2["applied"]["id"], 56.8)]

    trail = ok(client.get(f"/api/manual-entries/{eid}/audit"))
    assert [(a["action"], a["user"]) for a in trail] == [
        ("entry.create", "wangfang"), ("entry.attach", "wangfang"), ("entry.submit", "wangfang"),
        ("entry.reject", "liqiang"), ("entry.revise", "wangfang"), ("entry.submit", "wangfang"),
        ("entry.approve", "liqiang")]
    assert all(a["source"] == "testclient" for a in trail)
    chain = ok(client.get("/api/audit-log/verify"))
    steps = ok(client.get("/api/audit-log", params={"limit": 1000}))
    # the upload and the seven steps, each API write, and the test users' creation
    assert chain["ok"] and chain["checked"] == steps["total"]
    assert sum(a["action"].startswith(("entry.", "evidence.")) for a in steps["items"]) == 8


def test_manual_reading_through_the_api(client, site):
    make_meter(client, "D-1", carrier="diesel", unit="kg", kind="manual", interval_s=2678400)
    post_readings(client, [{"meter": "D-1", "ts": "2025-01-01T00:00:00+08:00", "value": 1000}])
    r = client.post("/api/manual-entries", headers=CLERK, json={
        "kind": "reading", "payload": {"meter": "D-1", "ts": "2025-02-01 00:00", "value": "x",
                                       "quality": "manual"}})
    assert sorted(problems(r)) == [(None, "payload.quality", "unknown_field"),
                                   (None, "payload.value", "type_float")]
    eid = created(client.post("/api/manual-entries", headers=CLERK, json={
        "kind": "reading", "submit": True,
        "payload": {"meter": "D-1", "ts": "2025-02-01 00:00", "value": 3.2, "unit": "t"}}))["id"]
    ok(client.post(f"/api/manual-entries/{eid}/approve", headers=BOSS))
    meter_id = ok(client.get("/api/meters", params={"q": "D-1"}))["items"][0]["id"]
    raw = ok(client.get(f"/api/meters/{meter_id}/readings",
                        params={"start": "2025-01-01", "end": "2025-03-01"}))
    readings = raw["readings"] if "readings" in raw else raw["items"]
    # 3.2 t entered for a kg meter is stored as 3200 kg, quality manual, source manual.
    last = readings[-1]
    assert (last["value"], last["quality"], last["source"]) == (3200.0, "manual", "manual")


def test_lists_and_filters(client, site):
    a = created(client.post("/api/manual-entries", headers=CLERK, json={
        "kind": "fuel_delivery", "payload": coal(), "submit": True}))["id"]
    b = created(client.post("/api/manual-entries", headers=BOSS, json={
        "kind": "fuel_delivery", "payload": coal()}))["id"]

    def ids(**params):
        return [e["id"] for e in ok(client.get("/api/manual-entries", params=params))["items"]]

    assert ids() == [b, a] and ids(status="submitted") == [a]
    assert ids(submitter="wangfang") == [a] and ids(created_by="liqiang") == [b]
    assert ids(tenant="S1") == [b, a] and ids(kind="reading") == []
    assert problems(client.get("/api/manual-entries", params={"tenant": "NOPE"})) == [
        (None, "tenant", "ref_unknown")]
    assert problems(client.get("/api/manual-entries", params={"status": "done"}))[0][2] == "choice"
    fields = ok(client.get("/api/manual-entries/fields"))
    assert [f["name"] for f in fields["reading"]] == ["meter", "ts", "value", "unit", "reason"]
    assert problems(client.get("/api/manual-entries/999"), 404) == [(None, "id", "not_found")]


def test_withdraw_update_and_detach(client, site):
    ev = created(upload(client))
    eid = created(client.post("/api/manual-entries", headers=CLERK,
                              json={"kind": "fuel_delivery", "payload": coal()}))["id"]
    r = client.put(f"/api/manual-entries/{eid}", headers=BOSS, json={"payload": coal()})
    assert problems(r) == [(None, "user", "manual_not_creator")]
    upd = ok(client.put(f"/api/manual-entries/{eid}", headers=CLERK,
                        json={"payload": coal(quantity=100), "note": "改数量"}))
    assert upd["payload"]["quantity"] == 100 and upd["latest_version"] == 1
    ok(client.put(f"/api/manual-entries/{eid}/evidence/{ev['id']}", headers=CLERK))
    out = ok(client.delete(f"/api/manual-entries/{eid}/evidence/{ev['id']}", headers=CLERK))
    assert out["versions"][0]["evidence"] == []
    gone = ok(client.post(f"/api/manual-entries/{eid}/withdraw", headers=CLERK,
                          json={"comment": "重复录入"}))
    assert (gone["status"], gone["versions"][0]["review_comment"]) == ("withdrawn", "重复录入")


def test_upload_to_entry_download_and_integrity(client, site, settings):
    eid = created(client.post("/api/manual-entries", headers=CLERK,
                              json={"kind": "fuel_delivery", "payload": coal()}))["id"]
    out = created(client.post(f"/api/manual-entries/{eid}/evidence", headers=CLERK,
                              files={"file": ("台账.csv", "日期,数量\n2025-01-05,2860.4\n".encode(),
                                              "text/csv")},
                              data={"description": "过磅单"}))
    f = out["versions"][0]["evidence"][0]
    assert (f["filename"], f["tenant"], f["description"]) == ("台账.csv", "E1", "过磅单")
    r = client.get(f["url"])
    assert r.status_code == 200 and r.content == "日期,数量\n2025-01-05,2860.4\n".encode()
    assert r.headers["etag"] == f'"{f["sha256"]}"'
    assert "filename*=utf-8''%E5%8F%B0%E8%B4%A6.csv" in r.headers["content-disposition"]
    assert ok(client.get("/api/evidence", params={"tenant": "E1"}))["total"] == 1

    path = settings.resolved_evidence_dir() / f["sha256"][:2] / f["sha256"]
    os.chmod(path, 0o644)
    path.write_bytes(b"altered")
    assert problems(client.get(f["url"]), 409) == [(None, "sha256", "manual_evidence_changed")]
    report = ok(client.get("/api/evidence/verify"))
    assert not report["ok"] and [c["sha256"] for c in report["changed"]] == [f["sha256"]]
    path.unlink()
    assert problems(client.get(f["url"]), 409) == [(None, "sha256", "manual_evidence_missing")]


def test_upload_limits(client, site):
    assert problems(upload(client, data=b"x" * 1001)) == [(None, "file", "manual_evidence_too_large")]
    assert problems(upload(client, data=b"")) == [(None, "file", "manual_evidence_empty")]
    assert problems(upload(client, tenant="NOPE")) == [(None, "tenant", "ref_unknown")]
    assert ok(client.get("/api/evidence"))["total"] == 0


def test_audit_log_filters(client, site):
    created(upload(client))
    eid = created(client.post("/api/manual-entries", headers=CLERK, json={
        "kind": "fuel_delivery", "payload": coal(), "submit": True}))["id"]
    ok(client.post(f"/api/manual-entries/{eid}/approve", headers=BOSS))

    def log(**params):
        return ok(client.get("/api/audit-log", params=params))

    assert [a["action"] for a in log(action="entry.*")["items"]] == [
        "entry.create", "entry.submit", "entry.approve"]
    assert [a["action"] for a in log(user="liqiang")["items"]] == ["entry.approve",
                                                                    "api.write"]
    assert log(object_type="evidence_file")["total"] == 1 and log(tenant="S1")["total"] == 3
    assert log(**{"from": "2000-01-01", "to": "2000-01-02"})["total"] == 0
    everything = log(**{"from": "2000-01-01"})["total"]
    assert everything == log()["total"] and everything > 4
    assert problems(client.get("/api/audit-log", params={"from": "soon"})) == [
        (None, "start", "type_datetime")]


def test_openapi_documents_the_endpoints(client):
    spec = ok(client.get("/openapi.json"))
    paths = spec["paths"]
    for path in ("/api/manual-entries", "/api/manual-entries/{entry_id}/approve",
                 "/api/evidence", "/api/evidence/{evidence_id}/content", "/api/audit-log",
                 "/api/audit-log/verify"):
        assert path in paths
    approve = paths["/api/manual-entries/{entry_id}/approve"]["post"]
    assert approve["tags"] == ["manual entry / 手工填报"]
    assert approve["security"] == [{"OAuth2PasswordBearer": []}]  # acts as the logged-in user
