"""Carbon inventory API: CRUD of inventories and sources, compute, results and views, lock,
versions, diff, lineage — and a walk over a whole result asserting that every figure has
complete lineage (activity data → meters with coverage and readings links, manual entries →
evidence files, parameters with source and status)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy.orm import Session

from nengtan.config import get_settings
from nengtan.services import evidence, ingest, meters, org, production
from nengtan.services import manual_entries as entries
from nengtan.services.audit import Actor

from .helpers import created, ok, problems

US = 1_000_000
DAY = 86400 * US
T0 = 1_735_660_800 * US  # 2025-01-01 00:00 Asia/Shanghai
DAYS = 59
USER = {"X-Nengtan-User": "zhaomin"}


@pytest.fixture(autouse=True)
def _ledger_key(tmp_path, monkeypatch):
    monkeypatch.setenv("NENGTAN_LEDGER_KEY", str(tmp_path / "ledger.pem"))


@pytest.fixture
def plant(client):
    """Park P (shandong) → E1 → S1, daily coal (10 t) and grid electricity (5 000 kWh)
    meters for January and February 2025, two lab-analysed coal lots, clinker output, an
    approved limestone entry with its evidence file, and a green-certificate list."""
    engine = client.app.state.engine
    root = get_settings().resolved_evidence_dir()
    clerk = Actor("clerk", "test")
    with Session(engine) as s, s.begin():
        org.create(s, {"code": "P", "name_zh": "园区", "kind": "park", "region": "shandong"})
        for code, kind, parent in (("E1", "enterprise", "P"), ("S1", "site", "E1")):
            org.create(s, {"code": code, "name_zh": code, "kind": kind, "parent": parent})
        ids = {code: meters.create(s, {"code": code, "name_zh": code, "node": "S1",
                                       "carrier": carrier, "unit": unit, "interval_s": 86400,
                                       "flow_to": "S1"}).id
               for code, carrier, unit in (("COAL", "bituminous_coal", "t"),
                                           ("ELEC", "electricity", "kWh"))}
        production.upsert_product(s, {"code": "CLK", "name_zh": "熟料", "unit": "t"})
        production.upsert_product(s, {"code": "LIME", "name_zh": "石灰石", "unit": "t"})
        for k in range(DAYS):
            day = date(2025, 1, 1) + timedelta(days=k)
            production.upsert_production(s, {"node": "E1", "product": "CLK",
                                             "period_start": day, "period_end": day,
                                             "quantity": 100.0})
        for day, qty, ncv, carbon in ((date(2025, 1, 5), 1000.0, 20000.0, 50.0),
                                      (date(2025, 2, 10), 3000.0, 24000.0, 60.0)):
            production.add_fuel_delivery(s, {
                "node": "E1", "carrier": "bituminous_coal", "delivered_on": day,
                "quantity": qty, "unit": "t", "ncv": ncv, "ncv_unit": "kJ/kg",
                "carbon_content_pct": carbon, "report_no": f"LAB-{day:%m%d}"})
        lime_file = evidence.store(s, root, b"limestone 1000 t\n", filename="lime.csv",
                                   actor=clerk, tenant="E1").id
        entry = entries.create(s, "production", {
            "node": "E1", "product": "LIME", "period_start": "2025-01-01",
            "period_end": "2025-02-28", "quantity": 1000.0, "source": "ledger"}, clerk,
            submit=True, evidence_ids=[lime_file])
        entries.approve(s, entry.id, Actor("reviewer", "test"))
        ids["entry"] = entry.id
        ids["certificates"] = evidence.store(s, root, b"GEC-1 100 MWh\n", filename="gec.csv",
                                             actor=clerk, tenant="E1").id
    ts = T0 + np.arange(DAYS + 1, dtype=np.int64) * DAY
    batch = ingest.ReadingBatch(
        np.concatenate([np.full(DAYS + 1, ids[c]) for c in ("COAL", "ELEC")]),
        np.tile(ts, 2), np.concatenate([1000.0 + np.arange(DAYS + 1) * v
                                        for v in (10.0, 5000.0)]))
    with engine.begin() as conn:
        ingest.ingest(conn, batch, "test")
    return ids


def make(client, ids) -> int:
    inv = created(client.post("/api/inventories", json={
        "code": "INV-E1", "name_zh": "一号企业碳盘查", "enterprise": "E1",
        "period": "2025-01-01/2025-03-01", "methodology": "cement",
        "operational_boundary": "厂区", "target_tco2e": 2000, "target_period": "month"}))
    assert inv["region"] == "shandong" and inv["status"] == "new"
    for body in (
        {"code": "COAL", "name_zh": "燃煤", "inventory": "INV-E1", "kind": "combustion",
         "carrier": "bituminous_coal", "links": [
             {"kind": "meter", "meter": "COAL"}, {"kind": "fuel_deliveries", "use": "params"}]},
        {"code": "CLINKER", "name_zh": "熟料", "inventory": "INV-E1", "kind": "process",
         "carrier": "clinker",
         "params": {"cao_content": {"value": 0.65, "unit": "fraction", "source": "lab"},
                    "mgo_content": {"value": 0.02, "unit": "fraction", "source": "lab"}},
         "links": [{"kind": "production", "product": "CLK"}]},
        {"code": "LIME", "name_zh": "石灰石", "enterprise": "E1", "kind": "process",
         "carrier": "calcium_carbonate",
         "links": [{"kind": "manual_entry", "manual_entry": ids["entry"]}]},
        {"code": "GRID", "name_zh": "外购电", "inventory": "INV-E1", "kind": "electricity",
         "links": ["ELEC", {"kind": "green_certificate", "value": 100, "unit": "MWh",
                            "source": "GEC list", "evidence_id": ids["certificates"]}]},
    ):
        created(client.post("/api/inventory-sources", json=body))
    return inv["id"]


def test_sources_crud_and_validation(client, plant):
    inv_id = make(client, plant)
    listed = ok(client.get(f"/api/inventories/{inv_id}/sources"))
    assert [s["code"] for s in listed] == ["CLINKER", "COAL", "GRID", "LIME"]
    lime = next(s for s in listed if s["code"] == "LIME")
    assert lime["inventory"] is None and lime["scope"] == 1 and lime["revision"] == 1
    page = ok(client.get("/api/inventory-sources", params={"inventory": "INV-E1"}))
    assert page["total"] == 4
    changed = ok(client.patch(f"/api/inventory-sources/{lime['id']}",
                              json={"name_en": "Limestone"}))
    assert changed["revision"] == 2 and changed["links"][0]["manual_entry"] == plant["entry"]
    assert problems(client.post("/api/inventory-sources", json={
        "code": "BAD", "name_zh": "坏", "enterprise": "E1", "kind": "electricity",
        "links": [{"kind": "meter", "meter": "COAL"}, {"kind": "meter", "meter": "NOPE"}]})) == [
        (None, "links[0].meter", "inv_meter_category"),
        (None, "links[1].meter", "ref_unknown")]
    assert client.get("/api/inventory-sources/999").status_code == 404
    gone = created(client.post("/api/inventory-sources", json={
        "code": "TMP", "name_zh": "临时", "enterprise": "E1", "kind": "electricity",
        "links": ["ELEC"]}))
    assert client.delete(f"/api/inventory-sources/{gone['id']}").status_code == 204


def test_inventory_crud(client, plant):
    inv_id = make(client, plant)
    assert problems(client.post("/api/inventories", json={
        "code": "INV-E1", "name_zh": "x", "enterprise": "S1", "period": "2025-13"})) == [
        (None, "code", "duplicate"), (None, "enterprise", "inv_node_kind"),
        (None, "period", "energy_period")]
    page = ok(client.get("/api/inventories", params={"enterprise": "E1", "year": 2025}))
    assert page["total"] == 1 and page["items"][0]["code"] == "INV-E1"
    inv = ok(client.patch(f"/api/inventories/{inv_id}", json={"gwp_set": "AR6"}))
    assert inv["gwp_set"] == "AR6" and inv["period"] == "2025-01-01/2025-03-01"
    assert client.get("/api/inventories/999").status_code == 404
    other = created(client.post("/api/inventories", json={
        "code": "INV-X", "name_zh": "x", "enterprise": "E1", "period": "2025"}))
    assert client.delete(f"/api/inventories/{other['id']}").status_code == 204


def test_compute_views_lock_versions_diff(client, plant):
    inv_id = make(client, plant)
    assert client.get(f"/api/inventories/{inv_id}/results").status_code == 404
    v1 = ok(client.post(f"/api/inventories/{inv_id}/compute", headers=USER))
    assert v1["version"] == 1 and v1["status"] == "draft" and v1["computed_by"] == "zhaomin"
    t = v1["result"]["totals"]
    assert t["total_tco2e"] == pytest.approx(v1["total_tco2e"])
    for view in ("sources", "facilities", "gases", "scopes", "kinds", "trend", "alerts",
                 "intensity", "factors"):
        out = ok(client.get(f"/api/inventories/{inv_id}/results/{view}"))
        assert out["view"] == view and out["items"] is not None
    trend = ok(client.get(f"/api/inventories/{inv_id}/results/trend"))["items"]
    assert sum(m["total_tco2e"] for m in trend) == pytest.approx(t["total_tco2e"])
    assert ok(client.get(f"/api/inventories/{inv_id}/results/alerts"))["items"]["status"] \
        == "above"
    assert client.get(f"/api/inventories/{inv_id}/results/nothing").status_code == 422
    locked = ok(client.post(f"/api/inventories/{inv_id}/lock", headers=USER,
                            json={"note": "final"}))
    assert locked["version"] == 1 and locked["status"] == "locked"
    assert locked["locked_by"] == "zhaomin" and locked["note"] == "final"
    assert locked["ledger"]["entries"]["evidence_file"] == 2
    assert locked["ledger"]["checkpoint"]["tree_size"] > 0
    # recalculation after a change → version 2, diff names the parameter
    src = next(s for s in ok(client.get(f"/api/inventories/{inv_id}/sources"))
               if s["code"] == "CLINKER")
    ok(client.patch(f"/api/inventory-sources/{src['id']}", json={"params": {
        "cao_content": {"value": 0.66, "unit": "fraction", "source": "lab, re-test"},
        "mgo_content": {"value": 0.02, "unit": "fraction", "source": "lab"}}}))
    v2 = ok(client.post(f"/api/inventories/{inv_id}/compute"))
    assert v2["version"] == 2 and v2["status"] == "draft"
    versions = ok(client.get(f"/api/inventories/{inv_id}/versions"))
    assert [(v["version"], v["status"]) for v in versions] == [(1, "locked"), (2, "draft")]
    assert versions[0]["digest"] == locked["digest"]
    again = ok(client.get(f"/api/inventories/{inv_id}/results", params={"version": 1}))
    assert again["result"] == locked["result"]
    d = ok(client.get(f"/api/inventories/{inv_id}/diff", params={"from": 1, "to": 2}))
    assert d["changed_sources"] == ["CLINKER"]
    clinker = d["sources"][[s["source"] for s in d["sources"]].index("CLINKER")]
    # 5 900 t × 0.01 × 0.7848 = 46.3032 tCO2 more
    assert clinker["delta_tco2e"] == pytest.approx(46.3032)
    assert clinker["why"] == [{"what": "parameter", "parameter": "cao_content",
                               "old": {"value": 0.65, "unit": "fraction", "source": "lab",
                                       "status": "measured", "factor_id": "given"},
                               "new": {"value": 0.66, "unit": "fraction",
                                       "source": "lab, re-test", "status": "measured",
                                       "factor_id": "given"}}]
    assert client.get(f"/api/inventories/{inv_id}/diff", params={"from": 1, "to": 7}) \
        .status_code == 404
    assert client.delete(f"/api/inventories/{inv_id}").status_code == 422
    inv = ok(client.get(f"/api/inventories/{inv_id}"))
    assert inv["locked_version"]["version"] == 1 and inv["latest_version"]["version"] == 2


def test_lineage_of_one_figure(client, plant):
    inv_id = make(client, plant)
    ok(client.post(f"/api/inventories/{inv_id}/compute"))
    out = ok(client.get(f"/api/inventories/{inv_id}/lineage", params={"figure": "source:LIME"}))
    assert out["figure"] == "source:LIME"
    link = out["lineage"]["activity_data"]["links"][0]
    assert link["manual_entry"] == plant["entry"] and link["evidence"][0]["filename"] == "lime.csv"
    scope2 = ok(client.get(f"/api/inventories/{inv_id}/lineage", params={"figure": "scope2"}))
    assert [s["source"] for s in scope2["sources"]] == ["GRID"]
    assert problems(client.get(f"/api/inventories/{inv_id}/lineage",
                               params={"figure": "source:NOPE"})) == [
        (None, "figure", "inv_figure_unknown")]


# -- every figure has complete lineage -----------------------------------------------------
def _figures(node, path="$"):
    """(path, object) of every object holding a number in a field named like *tco2e*
    (lineage objects explain figures and are not walked as figures themselves)."""
    if isinstance(node, dict):
        if any("tco2e" in k and isinstance(v, (int, float)) and not isinstance(v, bool)
               for k, v in node.items()):
            yield path, node
        for k, v in node.items():
            if k != "lineage":
                yield from _figures(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _figures(v, f"{path}[{i}]")


def _check_source(e: dict) -> None:
    lin = e["lineage"]
    assert lin["formula"] and lin["methodology"]["id"] and lin["methodology"]["version"]
    assert lin["parameters"], e["source"]
    for p in lin["parameters"]:
        for key in ("parameter", "value", "unit", "source", "status", "factor_id"):
            assert p.get(key) is not None, (e["source"], p)
    links = lin["activity_data"]["links"]
    assert links, e["source"]
    for link in links:
        assert link["quantity"] is not None and link["quantity_unit"]
        if link["kind"] == "meter":
            assert link["readings"].startswith(f"/api/meters/{link['meter_id']}/readings?")
            assert link["rollups"] and 0.0 <= link["coverage"] <= 1.0
        elif link["kind"] == "manual_entry":
            assert link["reviewed_by"] and link["evidence"]
        elif link["kind"] == "production":
            assert link["records"] > 0 and link["url"]
        elif link["kind"] == "green_certificate":
            assert link["source"]
        if "evidence" in link:
            for ev in link["evidence"]:
                assert len(ev["sha256"]) == 64 and ev["uploaded_by"] and ev["uploaded_at"]
    for given in lin.get("given_parameters", []):
        assert given["source"] and given["status"]
        for lab in given.get("lab_records", []):
            assert lab["fuel_delivery"] and lab["report_no"]


def test_every_figure_in_a_result_has_complete_lineage(client, plant):
    inv_id = make(client, plant)
    result = ok(client.post(f"/api/inventories/{inv_id}/compute"))["result"]
    codes = {e["source"] for e in result["sources"]}
    seen = 0
    for path, fig in _figures(result):
        seen += 1
        assert fig.get("lineage"), f"{path} has no lineage"
        lin = fig["lineage"]
        if "sum_of" in lin:
            assert set(lin["sum_of"]) <= codes, path
        if "activity_data" in lin:
            _check_source(fig)
    assert seen > 25
    for e in result["sources"]:
        _check_source(e)
    # the green certificates of the market-based figure lead to their evidence file
    grid = next(e for e in result["sources"] if e["source"] == "GRID")
    cert = next(lk for lk in grid["lineage"]["activity_data"]["links"]
                if lk["kind"] == "green_certificate")
    assert cert["evidence"][0]["evidence_id"] == plant["certificates"]
    assert grid["tco2e_market"] < grid["tco2e"]
