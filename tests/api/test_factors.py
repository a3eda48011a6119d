"""/api/factors, /api/factor-datasets, /api/factors/select and /api/gwp."""

from __future__ import annotations

from .helpers import created, ok, problems

LAB = {"code": "lab-2025", "title": "煤质化验 / coal lab", "document": "lab report 2025-03",
       "values": [{"parameter": "ncv", "subject": "bituminous_coal", "value": 21.5,
                   "unit": "GJ/t", "year": 2025, "status": "measured"}]}


def test_list_and_get_factor_values(client):
    page = ok(client.get("/api/factors", params={"parameter": "grid_factor",
                                                 "region": "山东"}))
    assert page["total"] == 1
    value = page["items"][0]
    assert (value["value"], value["year"], value["unit"], value["status"]) == \
        (0.641, 2022, "tCO2/MWh", "unverified")
    assert value["document"] and value["current"] is True
    detail = ok(client.get(f"/api/factors/{value['id']}"))
    assert detail["lineage"]["factor_id"] == str(value["id"])
    assert [h["version"] for h in detail["history"]] == [1] and len(detail["sha256"]) == 64
    by_shipped_id = ok(client.get("/api/factors/shipped:gwp:gwp:CH4:AR6"))
    assert (by_shipped_id["value"], by_shipped_id["gwp_set"]) == (27.9, "AR6")
    national = ok(client.get("/api/factors", params={"parameter": "grid_factor",
                                                     "region": "national", "year": 2022}))
    assert {i["subject"] for i in national["items"]} == {"electricity", "electricity_ets"}
    assert ok(client.get("/api/factors", params={"dataset": "gwp", "limit": 5}))["total"] == 47
    assert problems(client.get("/api/factors/999999"), 404) == [(None, "id", "not_found")]
    assert problems(client.get("/api/factors/whatever"), 404) == [(None, "id", "not_found")]


def test_datasets_versions_and_history(client):
    datasets = ok(client.get("/api/factor-datasets"))
    assert {d["code"] for d in datasets} == {"fuel_defaults", "grid_factors", "ets_grid_factors",
                                             "process_factors", "gwp", "combustion_non_co2"}
    assert all(d["origin"] == "shipped" and d["values_count"] > 0 for d in datasets)
    v1 = created(client.post("/api/factor-datasets", json=LAB))
    assert (v1["version"], v1["origin"], v1["changes"]) == (1, "user", None)
    same = client.post("/api/factor-datasets", json=LAB)
    assert same.status_code == 200 and same.json()["version"] == 1
    changed = {**LAB, "values": [{**LAB["values"][0], "value": 22.0}]}
    v2 = created(client.post("/api/factor-datasets", json=changed))
    assert v2["version"] == 2 and v2["versions"] == [1, 2]
    assert v2["changes"]["changed"] == ["ncv:bituminous_coal:2025"]
    old = ok(client.get("/api/factor-datasets/lab-2025", params={"version": 1}))
    assert old["current"] is False and old["values"][0]["value"] == 21.5
    first_id = old["values"][0]["id"]
    assert ok(client.get(f"/api/factors/{first_id}"))["value"] == 21.5
    history = ok(client.get("/api/factor-datasets", params={"all_versions": True,
                                                            "origin": "user"}))
    assert [(d["code"], d["version"], d["current"]) for d in history] == \
        [("lab-2025", 1, False), ("lab-2025", 2, True)]
    current = ok(client.get("/api/factors", params={"dataset": "lab-2025"}))
    assert [i["value"] for i in current["items"]] == [22.0]
    both = ok(client.get("/api/factors", params={"dataset": "lab-2025", "all_versions": True}))
    assert [i["value"] for i in both["items"]] == [21.5, 22.0]
    assert problems(client.get("/api/factor-datasets/nope"), 404) == [(None, "id", "not_found")]


def test_bad_dataset_is_422_naming_rows(client):
    body = {"code": "gwp", "title": "x", "values": [
        {"parameter": "gwp", "subject": "CH4", "value": 30, "unit": "tCO2e/t",
         "document": "x"}]}
    assert sorted(problems(client.post("/api/factor-datasets", json=body)), key=str) == sorted([
        (None, "code", "factor_dataset_shipped"), (0, "gwp_set", "factor_gwp_set")], key=str)
    resp = client.post("/api/factor-datasets", json={"code": "x", "title": "x", "values": []})
    detail = resp.json()["detail"]
    assert resp.status_code == 422 and detail[0]["rule"] == "factor_values_required"
    assert detail[0]["message_zh"] and detail[0]["message"]


def test_select_says_which_value_and_why(client, site):
    chosen = ok(client.get("/api/factors/select", params={
        "parameter": "grid_factor", "subject": "electricity", "year": 2025,
        "region": "shandong"}))
    assert chosen["value"]["value"] == 0.641 and chosen["rule"] == "region_latest_year"
    assert chosen["tier"] == "shipped" and "2025" in chosen["why"] and chosen["why_zh"]
    ets = ok(client.get("/api/factors/select", params={
        "parameter": "grid_factor", "subject": "electricity", "year": 2025,
        "region": "shandong", "grid_basis": "ets"}))
    assert ets["value"]["value"] == 0.5703 and ets["value"]["subject"] == "electricity_ets"
    created(client.post("/api/factor-datasets", json={
        "code": "e1-ppa", "title": "E1 green power contract", "document": "PPA 2025",
        "tenant": "E1", "values": [{"parameter": "grid_factor", "subject": "electricity",
                                    "value": 0.2, "unit": "tCO2/MWh", "year": 2025}]}))
    own = ok(client.get("/api/factors/select", params={
        "parameter": "grid_factor", "subject": "electricity", "year": 2025,
        "region": "shandong", "tenant": "E1"}))
    assert (own["value"]["value"], own["tier"]) == (0.2, "tenant")
    gwp = ok(client.get("/api/factors/select", params={
        "parameter": "gwp", "subject": "CH4", "gwp_set": "SAR"}))
    assert gwp["value"]["value"] == 21.0
    assert problems(client.get("/api/factors/select", params={
        "parameter": "ncv", "subject": "diesel", "tenant": "NOPE"})) == \
        [(None, "tenant", "ref_unknown")]
    nothing = ok(client.get("/api/factors/select", params={"parameter": "ncv",
                                                           "subject": "unobtainium"}))
    assert nothing["value"] is None and nothing["rule"] is None


def test_gwp_sets(client):
    for gwp_set, ch4 in (("SAR", 21), ("AR4", 25), ("AR5", 28), ("AR6", 27.9)):
        table = ok(client.get("/api/gwp", params={"set": gwp_set}))
        values = {r["gas"]: r for r in table["values"]}
        assert table["gwp_set"] == gwp_set and values["CH4"]["value"] == ch4
        assert values["CH4"]["status"] == "verified" and values["CH4"]["document"]
    assert "NF3" not in {r["gas"] for r in ok(client.get("/api/gwp?set=SAR"))["values"]}
    assert ok(client.get("/api/gwp"))["gwp_set"] == "AR5"
    assert client.get("/api/gwp", params={"set": "AR7"}).status_code == 422


def test_routes_are_documented(client):
    spec = ok(client.get("/openapi.json"))
    for path in ("/api/factors", "/api/factors/select", "/api/factors/{factor_id}",
                 "/api/factor-datasets", "/api/factor-datasets/{code}", "/api/gwp"):
        for op in spec["paths"][path].values():
            assert " / " in op["summary"] and op["description"]
