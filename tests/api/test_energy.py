"""Energy totals, intensity, coefficients, parameters and the batch calculator over HTTP."""

import pytest

from .helpers import created, make_meter, ok, post_readings, problems

E = 0.1229 / 1000


@pytest.fixture
def metered(client, site):
    make_meter(client, "IN", register="interval", interval_s=86400, flow_to="S1", level=1)
    make_meter(client, "W1", node="W1", register="interval", interval_s=86400, flow_from="S1",
               flow_to="W1", level=2)
    rows = [{"meter": m, "ts": f"2026-10-{d:02d}T00:00:00+08:00", "value": v}
            for d in range(1, 32) for m, v in (("IN", 1000.0), ("W1", 400.0))]
    post_readings(client, rows)
    created(client.post("/api/products", json={"code": "X", "name_zh": "产品", "unit": "t"}))
    created(client.post("/api/production", json={
        "node": "E1", "product": "X", "period_start": "2026-10-01", "period_end": "2026-10-31",
        "quantity": 62.0}))
    return site


def test_totals_and_intensity(client, metered):
    t = ok(client.get("/api/energy/totals", params={"node": "E1", "period": "2026-10"}))
    assert t["total_tce"] == pytest.approx(31_000 * E)
    assert t["unit"] == "tce" and t["complete"] is True
    assert t["carriers"][0]["meters"][0]["meter"] == "IN"
    assert t["carriers"][0]["coefficient"]["source"].startswith("GB/T 2589")
    assert t["previous"]["period"]["label"] == "2026-09"
    w = ok(client.get("/api/energy/totals", params={"node": "W1", "period": "2026-10",
                                                    "compare": "false"}))
    assert w["total_tce"] == pytest.approx(12_400 * E) and "previous" not in w
    i = ok(client.get("/api/energy/product-intensity",
                      params={"node": "E1", "product": "X", "period": "2026-10"}))
    # 31 000 kWh × 0.1229 = 3809.9 kgce over 62 t = 61.45 kgce/t
    assert i["kgce_per_unit"] == pytest.approx(31_000 * 0.1229 / 62)
    assert ok(client.get("/api/energy/intensity", params={"node": "E1", "period": "2026-10"}))[
        "products"][0]["kgce_per_unit"] == pytest.approx(31_000 * 0.1229 / 62)


def test_bad_node_and_period_reported_together(client, site):
    got = problems(client.get("/api/energy/totals", params={"node": "NOPE", "period": "2026-13"}))
    assert set(got) == {(None, "node", "ref_unknown"), (None, "period", "energy_period")}


def test_parameters_and_coefficients(client, site):
    p = created(client.post("/api/energy/parameters", json={
        "kind": "ncv", "carrier": "steam", "tenant": "E1", "value": 2.693, "unit": "GJ/t",
        "valid_from": "2026-01-01", "source": "steam tables"}))
    assert p["tenant"] == "E1" and p["unit"] == "GJ/t"
    assert ok(client.get(f"/api/energy/parameters/{p['id']}"))["value"] == 2.693
    assert problems(client.post("/api/energy/parameters", json={
        "kind": "coefficient", "value": 1, "valid_from": "2026-01-01", "source": "x"})) == [
        (None, "carrier", "energy_parameter_carrier")]
    lib = ok(client.get("/api/energy/coefficients", params={"node": "S1", "period": "2026-10"}))
    steam = next(c for c in lib["coefficients"] if c["carrier"] == "steam")
    assert steam["kgce_per_unit"] == pytest.approx(2693 / 29.3076)
    assert steam["evidence"] == [f"energy_parameter:{p['id']}"]
    shipped = ok(client.get("/api/energy/coefficients"))
    assert next(c for c in shipped["coefficients"] if c["carrier"] == "steam")[
        "kgce_per_unit"] is None
    assert ok(client.get("/api/energy/parameters"))[0]["id"] == p["id"]


def test_batch_calculator(client):
    csv = "carrier,quantity,unit,use\nelectricity,1000,kWh,\nelectricity,100,kWh,export\n"
    r = ok(client.post("/api/calc/energy", content=csv.encode(),
                       headers={"content-type": "text/csv"}))
    assert r["total_tce"] == pytest.approx(900 * E)
    j = ok(client.post("/api/calc/energy", json={
        "rows": [{"carrier": "raw_coal", "quantity": 1, "unit": "t"}],
        "equal_value_kgce_per_kwh": 0.3}))
    assert j["total_tce"] == pytest.approx(0.7143)
    bad = problems(client.post("/api/calc/energy", content=b"carrier,quantity,unit\nx,1,t\n",
                               headers={"content-type": "text/csv"}))
    assert bad == [(2, "carrier", "energy_carrier")]


def test_recommendations_say_what_cannot_be_assessed(client, metered):
    r = ok(client.get("/api/energy/recommendations", params={"node": "E1",
                                                             "period": "2026-10"}))
    ent = r["enterprises"][0]
    reasons = {m["code"]: m["reason"] for m in ent["not_assessed"]}
    # no tariff on the meters: nothing to price, no demand charge, no power factor, no roof
    assert reasons["valley_shift"] == "no_price" and reasons["power_factor"] == "no_power_factor"
    assert all(m["message_zh"] for m in ent["not_assessed"])
    assert problems(client.get("/api/energy/recommendations", params={"node": "NOPE"})) == [
        (None, "node", "ref_unknown")]
