"""/api/carriers: the shipped catalogue with provenance, and user carriers."""

from __future__ import annotations

from .helpers import created, ok, problems


def test_catalogue_with_provenance(client):
    page = ok(client.get("/api/carriers", params={"limit": 1000}))
    codes = {c["code"] for c in page["items"]}
    assert {"electricity", "natural_gas", "raw_coal"} <= codes and page["total"] == len(codes)
    e = ok(client.get("/api/carriers/electricity"))
    assert (e["unit"], e["category"], e["builtin"], e["status"]) == ("kWh", "electricity", True,
                                                                     "verified")
    assert "GB/T 2589" in e["source"]
    gas = ok(client.get("/api/carriers", params={"category": "gaseous_fossil", "limit": 1000}))
    assert gas["items"] and all(c["category"] == "gaseous_fossil" for c in gas["items"])
    materials = ok(client.get("/api/carriers", params={"is_energy": False, "limit": 1000}))
    assert all(not c["is_energy"] for c in materials["items"])


def test_user_carrier(client):
    c = created(client.post("/api/carriers", json={
        "code": "biogas", "name_zh": "沼气", "name_en": "biogas", "unit": "立方米",
        "category": "other_fuel", "source": "site survey 2025"}))
    assert (c["unit"], c["builtin"], c["dataset_version"], c["status"]) == ("m3", False, "user",
                                                                            "unverified")
    assert ok(client.get("/api/carriers/biogas"))["name_zh"] == "沼气"


def test_invalid_carriers(client):
    r = client.post("/api/carriers", json={"code": "electricity", "name_zh": "电", "name_en": "e",
                                           "unit": "kWh", "category": "electricity",
                                           "source": "x"})
    assert problems(r) == [(None, "code", "duplicate")]
    r = client.post("/api/carriers", json={"code": "x", "name_zh": "x", "name_en": "x",
                                           "unit": "furlong", "category": "plasma"})
    assert set(problems(r)) == {(None, "unit", "unit_unknown"), (None, "category", "choice"),
                                (None, "source", "required")}
    assert problems(client.get("/api/carriers/unobtainium"), 404) == [(None, "id", "not_found")]
    assert problems(client.get("/api/carriers", params={"category": "plasma"})) == [
        (None, "category", "choice")]
