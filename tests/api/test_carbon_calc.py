"""The carbon batch calculator over HTTP: CSV and JSON, lineage, errors naming the row."""

from __future__ import annotations

import pytest

from .helpers import ok, problems

CSV = """source,kind,carrier,quantity,unit,ncv,emission_factor,gas,green_mwh
kiln coal,combustion,bituminous_coal,1000,t,,,,
genset,combustion,diesel,10,t,43,,,
grid,electricity,electricity,1000,MWh,,,,250
chiller,fugitive,,10,kg,,,HFC-134a,
"""
# by hand (shipped library, national; 2023 grid factor 0.5306 tCO2/MWh):
#   1000 t × 19.570 GJ/t × 26.18 tC/TJ × 0.93 × 44/12 ÷ 1000 = 1747.088266
#   10 t × 43 GJ/t × 20.20 × 0.98 × 44/12 ÷ 1000             =   31.21169333
#   1000 MWh × 0.5306 = 530.6 (market 750 × 0.5306 = 397.95); 0.01 t × 1300 (AR5) = 13
SCOPE1 = 1747.088266 + 31.21169333 + 13


def test_csv(client):
    r = ok(client.post("/api/calc/carbon?gwp=AR5&year=2023", content=CSV.encode(),
                       headers={"content-type": "text/csv"}))
    assert r["scope1_tco2e"] == pytest.approx(SCOPE1, rel=1e-9)
    assert r["scope2_tco2e"] == pytest.approx(530.6, rel=1e-9)
    assert r["scope2_market_tco2e"] == pytest.approx(397.95, rel=1e-9)
    assert r["total_tco2e"] == pytest.approx(SCOPE1 + 530.6, rel=1e-9)
    assert r["unit"] == "tCO2e" and r["methodology"]["id"] == "gbt32150"
    assert [s["row"] for s in r["sources"]] == [2, 3, 4, 5]
    for s in r["sources"]:
        for p in s["lineage"]["parameters"]:
            assert all(p.get(k) not in (None, "") for k in
                       ("value", "unit", "source", "status", "factor_id", "origin"))
    # AR6: HFC-134a 1530 → 15.3
    r6 = ok(client.post("/api/calc/carbon?gwp=AR6&year=2023", content=CSV.encode(),
                        headers={"content-type": "text/csv"}))
    assert r6["total_tco2e"] - r["total_tco2e"] == pytest.approx(2.3, rel=1e-6)


def test_json(client):
    body = {"gwp_set": "AR5", "year": 2023, "methodology": "cement", "sources": [
        {"source": "kiln 1", "kind": "process", "carrier": "clinker", "quantity": 1000,
         "unit": "t", "params": {"cao_content": {"value": 65, "unit": "%",
                                                 "source": "XRF 2025 annual mean",
                                                 "status": "measured"},
                                 "cao_non_carbonate": 0.01}},
        {"source": "coal", "kind": "combustion", "carrier": "bituminous_coal",
         "quantity": 1000, "unit": "t", "params": {"ncv": 21.0}},
    ]}
    r = ok(client.post("/api/calc/carbon", json=body))
    # clinker: 1000 t × (0.65 − 0.01) × 0.7848 = 502.272 tCO2 (MgO not given: left out)
    # coal: 1000 t × 21 GJ/t × 26.18 × 0.93 × 44/12 ÷ 1000 = 21 000 × 0.0892738 = 1874.7498
    assert r["sources"][0]["tco2e"] == pytest.approx(502.272, rel=1e-9)
    assert r["sources"][1]["tco2e"] == pytest.approx(21000 * 26.18 * 0.93 * 44 / 12 / 1000,
                                                     rel=1e-9)
    params = {p["parameter"]: p for p in r["sources"][0]["lineage"]["parameters"]}
    assert params["cao_content"]["source"] == "XRF 2025 annual mean"
    assert params["cao_non_carbonate"]["factor_id"] == "given"
    assert params["clinker_cao"]["origin"] == "library"
    assert r["methodology"] == {"id": "cement", "version": "2015.1",
                                "document": r["methodology"]["document"]}


def test_errors_name_the_row(client):
    bad = b"source,kind,carrier,quantity,unit\na,combustion,diesel,1,t\nb,combustion,diesel,-1,t\n"
    assert problems(client.post("/api/calc/carbon", content=bad,
                                headers={"content-type": "text/csv"})) == [
        (3, "quantity", "minimum")]
    assert problems(client.post("/api/calc/carbon?gwp=AR9", content=bad,
                                headers={"content-type": "text/csv"})) == [
        (None, "gwp_set", "choice")]
    assert problems(client.post("/api/calc/carbon", json={"sources": [
        {"source": "x", "kind": "heat", "quantity": 1, "unit": "GJ"},
        {"source": "y", "kind": "electricity", "quantity": 1, "unit": "MWh", "green_mwh": 5},
    ]})) == [(1, "green_mwh", "carbon_green_exceeds")]
    assert problems(client.post("/api/calc/carbon", json={"sources": [],
                                                          "methodology": "nope"})) == [
        (None, "methodology", "choice")]
    assert problems(client.post("/api/calc/carbon", content=b"{not json",
                                headers={"content-type": "application/json"})) == [
        (None, "body", "invalid")]


def test_methodologies(client):
    ms = ok(client.get("/api/calc/carbon/methodologies"))
    assert [m["id"] for m in ms] == ["gbt32150", "mee_power", "cement"]
    assert all(m["version"] and m["document"] for m in ms)


def test_routes_are_documented(client):
    paths = ok(client.get("/openapi.json"))["paths"]
    for path, method in (("/api/calc/carbon", "post"),
                         ("/api/calc/carbon/methodologies", "get")):
        op = paths[path][method]
        assert " / " in op["summary"] and op["description"]
