"""/api/products, /api/production, /api/economics, /api/fuel-deliveries."""

from __future__ import annotations

import pytest

from .helpers import created, ok, problems

CLINKER = {"code": "clinker", "name_zh": "熟料", "name_en": "clinker", "unit": "t",
           "standard_coefficient": 1.0, "sector": "cement"}


def _production(client, **extra):
    return client.post("/api/production", json={
        "node": "S1", "product": "clinker", "period_start": "2025-01-01",
        "period_end": "2025-01-31", "quantity": 12500, **extra})


def test_products(client, site):
    p = created(client.post("/api/products", json=CLINKER))
    assert (p["code"], p["unit"], p["standard_coefficient"]) == ("clinker", "t", 1.0)
    assert ok(client.get(f"/api/products/{p['id']}"))["sector"] == "cement"
    assert ok(client.get("/api/products", params={"sector": "cement"}))["total"] == 1
    assert ok(client.patch(f"/api/products/{p['id']}", json={"unit": "kg"}))["unit"] == "kg"
    assert ok(client.patch(f"/api/products/{p['id']}", json={"unit": "t"}))["unit"] == "t"

    assert problems(client.post("/api/products", json=CLINKER)) == [(None, "code", "duplicate")]
    r = client.post("/api/products", json={"code": "x", "name_zh": "x", "unit": "furlong",
                                           "standard_coefficient": 0})
    assert set(problems(r)) == {(None, "unit", "unit_unknown"),
                                (None, "standard_coefficient", "exclusive_minimum")}
    created(client.post("/api/products", json={**CLINKER, "code": "cement"}))
    assert problems(client.patch(f"/api/products/{p['id']}", json={"code": "cement"})) == [
        (None, "code", "duplicate")]

    created(_production(client))
    assert problems(client.patch(f"/api/products/{p['id']}", json={"unit": "m3"})) == [
        (None, "unit", "unit_mismatch")]  # its production is in t
    assert problems(client.delete(f"/api/products/{p['id']}")) == [(None, "id", "has_records")]
    for r in (client.get("/api/products/999"), client.delete("/api/products/999"),
              client.patch("/api/products/999", json={"name_zh": "x"})):
        assert problems(r, 404) == [(None, "id", "not_found")]


def test_production_upsert_list_delete(client, site):
    created(client.post("/api/products", json=CLINKER))
    first = created(_production(client, source="DCS"))
    assert (first["node"], first["product"], first["quantity"], first["unit"]) == (
        "S1", "clinker", 12500, "t")
    again = _production(client, quantity=12600, unit="kg")
    assert again.status_code == 200  # same node, product and period: replaced, not duplicated
    assert (again.json()["id"], again.json()["quantity"], again.json()["unit"]) == (
        first["id"], 12600, "kg")
    created(client.post("/api/production", json={
        "node": "W1", "product": "clinker", "period_start": "2025-02-01",
        "period_end": "2025-02-28", "quantity": 11000}))

    def codes(**params):
        return [(r["node"], r["period_start"])
                for r in ok(client.get("/api/production", params=params))["items"]]

    assert codes() == [("S1", "2025-01-01"), ("W1", "2025-02-01")]
    assert codes(node="W1") == [("W1", "2025-02-01")]
    assert codes(**{"from": "2025-02-01"}) == [("W1", "2025-02-01")]
    assert codes(**{"to": "2025-01-31"}) == [("S1", "2025-01-01")]
    assert codes(product="clinker", **{"from": "2025-01-15", "to": "2025-02-01"}) == [
        ("S1", "2025-01-01"), ("W1", "2025-02-01")]
    assert ok(client.get(f"/api/production/{first['id']}"))["quantity"] == 12600
    assert client.delete(f"/api/production/{first['id']}").status_code == 204
    assert problems(client.get(f"/api/production/{first['id']}"), 404) == [
        (None, "id", "not_found")]
    assert problems(client.get("/api/production", params={"from": "Jan"})) == [
        (None, "from", "type_date")]


def test_invalid_production(client, site):
    created(client.post("/api/products", json=CLINKER))
    assert set(problems(_production(client, node="NOPE", product="nope"))) == {
        (None, "node", "ref_unknown"), (None, "product", "ref_unknown")}
    assert problems(_production(client, unit="kWh")) == [(None, "unit", "unit_mismatch")]
    assert problems(_production(client, period_end="2024-12-31")) == [
        (None, "period_end", "period")]
    assert problems(_production(client, quantity=-1)) == [(None, "quantity", "minimum")]
    assert problems(_production(client, quantity="lots")) == [(None, "quantity", "type_float")]
    assert ok(client.get("/api/production"))["total"] == 0
    assert client.delete("/api/production/999").status_code == 404


def test_economics(client, site):
    body = {"node": "E1", "period_start": "2025-01-01", "period_end": "2025-12-31",
            "output_value": 1.25, "added_value": 0.4, "unit": "万元"}
    e = created(client.post("/api/economics", json=body))
    # amounts in 10^4 CNY are stored in CNY
    assert (e["output_value"], e["added_value"], e["unit"], e["price_basis"]) == (
        pytest.approx(12_500), pytest.approx(4_000), "CNY", "current")
    again = client.post("/api/economics", json={**body, "output_value": 2})
    assert again.status_code == 200 and again.json()["output_value"] == pytest.approx(20_000)
    created(client.post("/api/economics", json={**body, "price_basis": "constant_2020"}))
    assert ok(client.get("/api/economics"))["total"] == 2
    assert ok(client.get("/api/economics", params={"price_basis": "current"}))["total"] == 1
    assert ok(client.get("/api/economics", params={"node": "S1"}))["total"] == 0
    assert ok(client.get(f"/api/economics/{e['id']}"))["node"] == "E1"

    r = client.post("/api/economics", json={"node": "NOPE", "period_start": "2025-01-01",
                                            "period_end": "2024-01-01", "unit": "kWh"})
    assert set(problems(r)) == {(None, "node", "ref_unknown"), (None, "period_end", "period"),
                                (None, "unit", "unit_mismatch"),
                                (None, "output_value", "required")}
    assert client.delete(f"/api/economics/{e['id']}").status_code == 204
    assert client.get(f"/api/economics/{e['id']}").status_code == 404


def test_fuel_deliveries(client, site):
    body = {"node": "S1", "carrier": "raw_coal", "delivered_on": "2025-03-02", "quantity": 850.5,
            "unit": "t", "supplier": "晋北煤业", "lot_no": "L-0302", "ncv": 20908,
            "ncv_unit": "kJ/kg", "carbon_content_pct": 58.2, "lab": "市质检院",
            "method": "GB/T 213-2008"}
    d = created(client.post("/api/fuel-deliveries", json=body))
    assert (d["carrier"], d["quantity"], d["unit"], d["ncv"]) == ("raw_coal", 850.5, "t", 20908)
    assert d["ncv_mj_per_unit"] == pytest.approx(20_908)  # 20908 kJ/kg = 20908 MJ/t
    created(client.post("/api/fuel-deliveries", json={**body, "delivered_on": "2025-04-01",
                                                      "ncv": 5000, "ncv_unit": "kcal/kg"}))
    assert ok(client.get("/api/fuel-deliveries"))["total"] == 2
    assert ok(client.get("/api/fuel-deliveries", params={"from": "2025-04-01"}))["total"] == 1
    assert ok(client.get("/api/fuel-deliveries", params={"carrier": "raw_coal",
                                                         "to": "2025-03-31"}))["total"] == 1
    assert ok(client.get(f"/api/fuel-deliveries/{d['id']}"))["lot_no"] == "L-0302"

    for change, expected in (
            ({"ncv_unit": None}, [(None, "ncv_unit", "required")]),
            ({"ncv_unit": "kWh"}, [(None, "ncv_unit", "unit_mismatch")]),
            ({"unit": "m3"}, [(None, "unit", "unit_mismatch"),  # coal is weighed, and
                              (None, "ncv_unit", "unit_mismatch")]),  # kJ/kg is not per m3
            ({"carrier": "plasma"}, [(None, "carrier", "ref_unknown")]),
            ({"quantity": 0, "carbon_content_pct": 120},
             [(None, "quantity", "exclusive_minimum"), (None, "carbon_content_pct", "maximum")])):
        assert problems(client.post("/api/fuel-deliveries", json={**body, **change})) == \
            expected, change
    assert client.delete(f"/api/fuel-deliveries/{d['id']}").status_code == 204
    assert ok(client.get("/api/fuel-deliveries"))["total"] == 1
    assert problems(client.delete(f"/api/fuel-deliveries/{d['id']}"), 404) == [
        (None, "id", "not_found")]
