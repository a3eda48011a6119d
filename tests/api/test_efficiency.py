"""Efficiency indicators over HTTP: CRUD, values, errors, OpenAPI documentation."""

from __future__ import annotations

import pytest

from nengtan.api import create_app
from nengtan.api.routers import efficiency

from .helpers import created, make_meter, ok, post_readings, problems
from .auth_client import AuthedClient

BASE = "/api/efficiency-indicators"
ROUTES = {("GET", BASE), ("POST", BASE), ("GET", BASE + "/{indicator_id}"),
          ("PATCH", BASE + "/{indicator_id}"), ("DELETE", BASE + "/{indicator_id}"),
          ("GET", BASE + "/{indicator_id}/values")}


@pytest.fixture
def eff_client(sqlite_engine):
    with AuthedClient(create_app(sqlite_engine)) as c:
        yield c


@pytest.fixture
def plant(eff_client):
    """P → E1 → S1 → BH with daily interval meters: steam 20 t/day, gas 1 650 m³/day,
    chiller electricity 3 000 kWh/day and cooling 54 GJ/day (15 000 kWh), 2026-10-01..31."""
    c = eff_client
    for code, kind, parent in (("P", "park", None), ("E1", "enterprise", "P"),
                               ("S1", "site", "E1"), ("BH", "workshop", "S1")):
        created(c.post("/api/nodes", json={"code": code, "name_zh": f"节点{code}",
                                           "kind": kind, "parent": parent}))
    daily = {"ST": ("steam", "t", 20.0), "NG": ("natural_gas", "m3", 1650.0),
             "CE": ("electricity", "kWh", 3000.0), "CQ": ("cooling", "GJ", 54.0)}
    for code, (carrier, unit, _) in daily.items():
        make_meter(c, code, node="BH", carrier=carrier, unit=unit, register="interval",
                   interval_s=86400, level=3)
    post_readings(c, [{"meter": m, "ts": f"2026-10-{d:02d}T00:00:00+08:00", "value": v[2]}
                      for d in range(1, 32) for m, v in daily.items()])
    return c


BOILER = {"code": "BH-EFF", "name_zh": "锅炉热效率", "name_en": "Boiler efficiency",
          "node": "BH", "kind": "boiler_efficiency", "numerator": ["ST"],
          "denominator": ["NG"],
          "params": {"steam_pressure_mpa": 1.0, "feedwater_temperature_c": 20,
                     "ncv_mj_per_unit": 35.0, "ncv_source": "supplier statement"},
          "target_value": 90, "target_source": "plan"}


def test_crud_and_values(plant):
    c = plant
    body = created(c.post(BASE, json=BOILER))
    assert body["unit"] == "%" and body["node"] == "BH" and body["better"] == "higher"
    assert body["numerator"] == [{"meter": "ST", "meter_id": body["numerator"][0]["meter_id"],
                                  "sign": 1}]
    assert body["resolved_parameters"]["enthalpy_rise_mj_per_t"] == pytest.approx(2696.77,
                                                                                  abs=0.02)
    assert body["kind_label"] == {"zh-CN": "锅炉热效率", "en": "boiler thermal efficiency"}
    iid = body["id"]
    # 1.0 MPa(g) saturated steam from 20 °C water: Δh = 2780.69 − 83.92 = 2696.77 MJ/t.
    # Daily: 20 t × 2696.77 = 53 935.4 MJ over 1 650 m³ × 35.0 = 57 750 MJ → 93.3946 %.
    v = ok(c.get(f"{BASE}/{iid}/values", params={"period": "2026-10", "grain": "day"}))
    assert v["value"] == pytest.approx(93.3946, abs=2e-4) and v["status"] == "ok"
    assert len(v["series"]) == 31 and v["series"][0]["label"] == "2026-10-01"
    assert v["series"][0]["value"] == pytest.approx(93.3946, abs=2e-4)
    assert v["target"]["met"] is True and v["series"][0]["target_met"] is True
    assert v["lineage"]["parameters"]["fuel_ncv"][0]["ncv_mj_per_unit"] == 35.0
    assert v["summary"]["en"].startswith("Boiler efficiency, 2026-10: 93.39 %")
    monthly = ok(c.get(f"{BASE}/{iid}/values", params={"period": "2026-Q4", "grain": "month"}))
    assert [(m["label"], m["status"]) for m in monthly["series"]] == [
        ("2026-10", "ok"), ("2026-11", "no_data"), ("2026-12", "no_data")]

    cop = created(c.post(BASE, json={"code": "COP", "name_zh": "冷机COP", "node": "BH",
                                     "kind": "cop", "numerator": ["CQ"],
                                     "denominator": ["CE"]}))
    # 54 GJ = 15 000 kWh of cooling per 3 000 kWh: COP 5.0
    assert ok(c.get(f"{BASE}/{cop['id']}/values", params={"period": "2026-10-05"}))[
        "value"] == 5.0
    page = ok(c.get(BASE, params={"kind": "cop"}))
    assert page["total"] == 1 and page["items"][0]["code"] == "COP"
    assert ok(c.get(BASE, params={"node": "S1", "subtree": True}))["total"] == 2
    assert ok(c.get(BASE, params={"node": "S1"}))["total"] == 0

    patched = ok(c.patch(f"{BASE}/{iid}", json={"target_value": 95, "name_en": None}))
    assert patched["target_value"] == 95 and patched["name_en"] is None
    assert ok(c.get(f"{BASE}/{iid}/values", params={"period": "2026-10"}))["target"]["met"] \
        is False
    assert ok(c.get(f"{BASE}/{iid}"))["params"]["ncv_source"] == "supplier statement"
    assert c.delete(f"{BASE}/{iid}").status_code == 204
    assert problems(c.get(f"{BASE}/{iid}"), 404) == [(None, "id", "not_found")]
    assert "设备能效指标" in c.get(f"{BASE}/{iid}").json()["detail"][0]["message_zh"]


def test_errors_name_the_fields(plant):
    c = plant
    bad = {**BOILER, "numerator": ["NOPE", {"meter": "CE", "sign": 1}],
           "params": {"steam_pressure_mpa": 1.0}}
    assert problems(c.post(BASE, json=bad)) == [(0, "numerator", "ref_unknown")]
    bad = {**BOILER, "numerator": ["CE"], "params": {"steam_pressure_mpa": 1.0,
                                                     "steam_temperature_c": 300}}
    assert problems(c.post(BASE, json=bad)) == [
        (None, "params.steam_temperature_c", "eff_superheated")]
    bad = {**BOILER, "params": {"steam_pressure_mpa": 1.0}}
    r = c.post(BASE, json=bad)
    assert problems(r) == [(None, "params.feedwater_temperature_c", "eff_feedwater_missing")]
    assert "feedwater_temperature_c" in r.json()["detail"][0]["message"]
    bad = {**BOILER, "numerator": ["CE"]}
    r = c.post(BASE, json=bad)
    assert problems(r) == [(0, "numerator", "eff_need_steam")]
    assert "CE" in r.json()["detail"][0]["message"] and "电力" not in r.json()["message"]
    assert problems(c.post(BASE, json={"code": "A"}), 422)[:1] == [(None, "name_zh", "required")]
    iid = created(c.post(BASE, json=BOILER))["id"]
    assert problems(c.get(f"{BASE}/{iid}/values", params={"period": "2026-13"})) == [
        (None, "period", "energy_period")]
    assert problems(c.get(f"{BASE}/{iid}/values", params={"period": "2026", "grain": "hour"})
                    )[0][2] == "choice"
    assert problems(c.get(f"{BASE}/{iid}/values",
                          params={"period": "2000-01-01/2026-01-01", "grain": "day"})) == [
        (None, "period", "eff_series_too_long")]
    # a PATCH is checked whole: the boiler's parameters do not fit a COP
    assert sorted(problems(c.patch(f"{BASE}/{iid}", json={"kind": "cop"}))) == [
        (None, "params.feedwater_temperature_c", "unknown_field"),
        (None, "params.ncv_mj_per_unit", "unknown_field"),
        (None, "params.ncv_source", "unknown_field"),
        (None, "params.steam_pressure_mpa", "unknown_field")]
    assert problems(c.patch(f"{BASE}/{iid}", json={"kind": "cop", "params": {}})) == [
        (0, "numerator", "eff_need_cooling"), (0, "denominator", "eff_need_electricity")]
    assert problems(c.get(f"{BASE}/999/values", params={"period": "2026"}), 404)


def test_routes_are_documented(eff_client):
    doc = ok(eff_client.get("/openapi.json"))
    ops = {(m.upper(), p): op for p, item in doc["paths"].items() for m, op in item.items()
           if p.startswith(BASE)}
    assert set(ops) == ROUTES
    assert {(m, r.path) for r in efficiency.router.routes for m in r.methods} == ROUTES
    for key, op in ops.items():
        assert " / " in op["summary"] and op.get("description"), key
    schema = doc["components"]["schemas"]["EfficiencyIndicatorIn"]
    assert schema["required"] == ["code", "name_zh", "node", "kind", "numerator", "denominator"]
    assert schema["properties"]["kind"]["enum"][:4] == ["boiler_efficiency", "cop",
                                                        "compressed_air_specific_power",
                                                        "specific_energy"]
