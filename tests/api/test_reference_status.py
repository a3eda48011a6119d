"""/api/reference (read-only shipped datasets) and /api/status."""

from __future__ import annotations

from nengtan import reference

from .helpers import ok, problems


def test_datasets_with_source_and_status(client):
    datasets = {d["name"]: d for d in ok(client.get("/api/reference"))}
    assert set(datasets) == set(reference.DATASETS)
    gwp = ok(client.get("/api/reference/gwp"))
    assert gwp["version"] == reference.DATASET_VERSION and gwp["rows"] == len(gwp["data"])
    assert {"source", "status"} <= set(gwp["columns"])
    ch4 = next(r for r in gwp["data"] if r["gas"] == "CH4")
    assert (ch4["ar5"], ch4["status"]) == ("28", "verified")
    assert gwp["sha256"] == datasets["gwp"]["sha256"] == reference.sha256("gwp")
    assert problems(client.get("/api/reference/astrology"), 404) == [(None, "id", "not_found")]


def test_status_of_an_empty_database(client, engine):
    status = ok(client.get("/api/status"))
    assert (status["nodes"], status["meters"], status["readings"]) == (0, 0, 0)
    assert status["first_reading"] is None and status["database"] == engine.dialect.name
