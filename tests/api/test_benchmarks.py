"""/api/benchmarks: library, versions, links, comparisons, ranking, equipment grades."""

from __future__ import annotations

import pytest

from nengtan.services import benchmarking as bm

from .helpers import created, ok, problems

CLINKER = "ndrc.cement-clinker"


@pytest.fixture
def clinker(client, site, monkeypatch):
    """Product CLK made at E1 (2025), linked to the NDRC clinker levels; the intensity service
    answers 108 kgce/t for 120 000 t."""
    created(client.post("/api/products", json={"code": "CLK", "name_zh": "熟料", "unit": "t"}))
    created(client.post("/api/production", json={
        "node": "E1", "product": "CLK", "period_start": "2025-01-01",
        "period_end": "2025-12-31", "quantity": 120000}))
    monkeypatch.setattr(bm, "_product_intensity", lambda conn, node_id, product, period: {
        "kgce_per_unit": 108.0, "unit": "kgce/t", "output": 120000.0, "output_unit": "t",
        "energy_tce": 12960.0, "lineage": {"method": "test"}})
    return created(client.post("/api/benchmarks/links",
                               json={"benchmark": CLINKER, "product": "CLK"}))


def test_library_and_versions(client):
    page = ok(client.get("/api/benchmarks", params={"kind": "limit"}))
    assert page["total"] == 1 and page["items"][0]["code"] == "gb16780-2021.cement-clinker"
    motors = ok(client.get("/api/benchmarks", params={"q": "motor.4p", "limit": 5}))
    assert motors["total"] == 27 and len(motors["items"]) == 5
    one = ok(client.get(f"/api/benchmarks/{CLINKER}"))
    assert (one["status"], one["versions"], one["levels"][0]["name_zh"]) == (
        "verified", [1], "标杆水平")
    body = {"code": CLINKER, "product": "cement clinker", "unit": "kgce/t",
            "levels": {"benchmark": 98, "baseline": 117}, "source": "test", "status": "unverified",
            "document": "工业重点领域能效标杆水平和基准水平", "sector": "building_materials",
            "indicator": "unit product comprehensive energy consumption"}
    v2 = created(client.post("/api/benchmarks", json=body))
    assert (v2["version"], v2["origin"], v2["current"]) == (2, "user", True)
    same = client.post("/api/benchmarks", json=body)
    assert same.status_code == 200 and same.json()["version"] == 2
    old = ok(client.get(f"/api/benchmarks/{CLINKER}", params={"version": 1}))
    assert (old["current"], old["levels"][0]["value"]) == (False, 100.0)
    every = ok(client.get("/api/benchmarks", params={"q": "ndrc.cement", "all_versions": True}))
    assert [(x["version"], x["current"]) for x in every["items"]] == [(1, False), (2, True)]
    assert problems(client.get("/api/benchmarks/astrology"), 404) == [(None, "id", "not_found")]
    assert problems(client.post("/api/benchmarks", json={**body, "levels": [1, 2]})) == [
        (None, "levels", "bm_levels_format")]


def test_links(client, clinker):
    assert ok(client.get("/api/benchmarks/links"))[0]["benchmark"] == CLINKER
    scoped = created(client.post("/api/benchmarks/links", json={
        "benchmark": "gb16780-2021.cement-clinker", "product": "CLK", "node": "E1"}))
    assert ok(client.get(f"/api/benchmarks/links/{scoped['id']}"))["node"] == "E1"
    patched = ok(client.patch(f"/api/benchmarks/links/{scoped['id']}", json={"version": 1}))
    assert patched["version"] == 1
    assert problems(client.post("/api/benchmarks/links", json={
        "benchmark": CLINKER, "product": "CLK"})) == [(None, "benchmark", "duplicate")]
    assert problems(client.patch(f"/api/benchmarks/links/{scoped['id']}",
                                 json={"version": 5})) == [(None, "version",
                                                            "bm_version_unknown")]
    assert client.delete(f"/api/benchmarks/links/{scoped['id']}").status_code == 204
    assert problems(client.get(f"/api/benchmarks/links/{scoped['id']}"), 404) == [
        (None, "id", "not_found")]


def test_compare_and_ranking(client, clinker):
    r = ok(client.get("/api/benchmarks/compare",
                      params={"node": "E1", "product": "CLK", "period": "2025"}))
    (c,) = r["comparisons"]
    assert (c["position"], c["position_en"]) == ("baseline",
                                                 "between the benchmark and the baseline level")
    # (108 − 100) / 100 × 100 = 8 %;  (108 − 100) kgce/t × 120 000 t/a ÷ 1000 = 960 tce/a
    assert c["levels"][0]["gap_pct"] == pytest.approx(8.0)
    assert c["levels"][0]["energy_gap"]["tce_per_year"] == pytest.approx(960.0)
    assert r["lineage"]["benchmarks"][0]["status"] == "verified"
    assert problems(client.get("/api/benchmarks/compare", params={
        "node": "NOPE", "product": "CLK", "period": "2025"})) == [(None, "node", "ref_unknown")]
    assert problems(client.get("/api/benchmarks/compare", params={
        "node": "E1", "product": "CLK", "period": "last year"})) == [
        (None, "period", "energy_period")]
    created(client.post("/api/products", json={"code": "X", "name_zh": "其他", "unit": "t"}))
    assert problems(client.get("/api/benchmarks/compare", params={
        "node": "E1", "product": "X", "period": "2025"})) == [(None, "product", "bm_no_link")]
    ranking = ok(client.get("/api/benchmarks/ranking", params={"park": "P", "period": "2025"}))
    assert [(x["enterprise"], x["product"], x["rank"]) for x in ranking["by_gap"]] == [
        ("E1", "CLK", 1)]


def test_equipment_grades(client, site):
    created(client.post("/api/nodes", json={"code": "FAN1", "name_zh": "风机", "kind": "equipment",
                                            "parent": "W1"}))
    plate = {"motor": {"rated_kw": 315, "poles": 4, "efficiency_pct": 96.8}}
    assert ok(client.put("/api/benchmarks/equipment/FAN1/nameplate", json=plate))[
        "attributes"] == plate
    r = ok(client.get("/api/benchmarks/equipment", params={"node": "E1"}))
    (item,) = r["items"]
    assert (item["node"], item["grades"][0]["grade"]) == ("FAN1", 2)
    assert problems(client.put("/api/benchmarks/equipment/W1/nameplate", json={
        "compressor": {"rated_kw": 55}})) == [
        (None, "node", "bm_nameplate_kind"), (None, "compressor.pressure_mpa",
                                              "bm_nameplate_missing"),
        (None, "compressor.specific_power", "bm_nameplate_missing")]
    assert problems(client.put("/api/benchmarks/equipment/NOPE/nameplate", json=plate),
                    404) == [(None, "id", "not_found")]


def test_routes_are_documented_in_both_languages(client):
    paths = ok(client.get("/openapi.json"))["paths"]
    mine = {p: ops for p, ops in paths.items()
            if p.startswith(("/api/benchmarks", "/api/metering"))}
    assert {(m.upper(), p) for p, ops in mine.items() for m in ops} == {
        ("GET", "/api/benchmarks"), ("POST", "/api/benchmarks"),
        ("GET", "/api/benchmarks/{code}"),
        ("GET", "/api/benchmarks/links"), ("POST", "/api/benchmarks/links"),
        ("GET", "/api/benchmarks/links/{link_id}"), ("PATCH", "/api/benchmarks/links/{link_id}"),
        ("DELETE", "/api/benchmarks/links/{link_id}"),
        ("GET", "/api/benchmarks/compare"), ("GET", "/api/benchmarks/ranking"),
        ("GET", "/api/benchmarks/equipment"),
        ("PUT", "/api/benchmarks/equipment/{node}/nameplate"),
        ("GET", "/api/metering/compliance"), ("PUT", "/api/metering/nodes/{node}")}
    for ops in mine.values():
        for op in ops.values():
            assert " / " in op["summary"] and op["description"]
