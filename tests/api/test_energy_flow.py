"""Energy balance table, its workbook and Sankey data over HTTP (SQLite and PostgreSQL).

The plant is built through the API: park P → enterprise E1 → site S1 with a substation SUB
feeding workshops W1 and W2 (3 % unmetered) and a gas boiler house BH sending steam to W2;
daily interval meters over October 2026 (31 days).
"""

from io import BytesIO

import pytest
from openpyxl import load_workbook

from .helpers import created, make_meter, ok, post_readings, problems

E = 0.1229 / 1000  # tce per kWh
G = 1.2143 / 1000  # tce per m3 natural gas (GB/T 2589 Annex A)
S = 2.93076 * 1000 / 29.3076 / 1000  # tce per t steam at 2.93076 GJ/t = 0.1
Q = {"node": "E1", "period": "2026-10"}


@pytest.fixture
def plant(client, site):
    for code, kind, zh in (("SUB", "facility", "10kV变电站"), ("W2", "workshop", "二车间"),
                           ("BH", "workshop", "锅炉房")):
        created(client.post("/api/nodes", json={"code": code, "name_zh": zh, "kind": kind,
                                                "parent": "S1"}))
    daily = {"interval_s": 86400, "register": "interval"}
    make_meter(client, "IN", node="SUB", flow_to="SUB", level=1, **daily)
    make_meter(client, "M-W1", node="W1", flow_from="SUB", flow_to="W1", level=2, **daily)
    make_meter(client, "M-W2", node="W2", flow_from="SUB", flow_to="W2", level=2, **daily)
    make_meter(client, "GAS", node="BH", carrier="natural_gas", unit="m3", flow_to="BH",
               level=1, **daily)
    make_meter(client, "STEAM", node="BH", carrier="steam", unit="t", flow_from="BH",
               flow_to="W2", level=2, **daily)
    values = {"IN": 1000.0, "M-W1": 600.0, "M-W2": 370.0, "GAS": 100.0, "STEAM": 1.0}
    post_readings(client, [{"meter": m, "ts": f"2026-10-{d:02d}T00:00:00+08:00", "value": v}
                           for d in range(1, 32) for m, v in values.items()])
    created(client.post("/api/energy/parameters", json={
        "kind": "ncv", "carrier": "steam", "tenant": "E1", "value": 2.93076, "unit": "GJ/t",
        "valid_from": "2026-01-01", "source": "steam tables, 1.0 MPa saturated"}))
    return site


def test_balance_json(client, plant):
    t = ok(client.get("/api/energy/balance", params=Q))
    assert t["node"] == "E1" and t["unit"] == "tce" and t["period"]["label"] == "2026-10"
    st = t["stages"]
    assert st["purchase"]["supplied_tce"] == pytest.approx(31_000 * E + 3_100 * G)
    sub = next(p for p in st["distribution"]["points"] if p["node"] == "SUB")
    # 31 000 − 18 600 − 11 470 = 930 kWh loss/unmetered (3 %)
    assert sub["losses"]["quantity"] == pytest.approx(930)
    assert sub["losses"]["unit"] == "kWh"
    bh = next(u for u in st["conversion"]["units"] if u["node"] == "BH")
    assert bh["losses_tce"] == pytest.approx(3_100 * G - 31 * S)
    assert all(c["ok"] for c in t["checks"])
    assert t["reconciliation"]["difference_tce"] == pytest.approx(0, abs=1e-9)
    note = next(n for n in t["notes"] if n["key"] == "eflow.note.end_use_not_measured")
    assert note["message_zh"] and note["message_en"]
    assert t["lineage"]["method"].startswith("GB/T 3484")
    assert {m["meter"] for m in t["lineage"]["meters"]} == {"IN", "M-W1", "M-W2", "GAS",
                                                            "STEAM"}


def test_balance_workbook_both_languages(client, plant):
    for lang, sheet, title, loss in (("zh-CN", "能量平衡表", "企业能量平衡表", "损失及未计量"),
                                     ("en", "Energy balance", "Energy balance table",
                                      "Loss / unmetered")):
        r = client.get("/api/energy/balance.xlsx", params={**Q, "lang": lang})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        assert f"energy-balance-E1-2026-10-{lang}.xlsx" in r.headers["content-disposition"]
        wb = load_workbook(BytesIO(r.content))
        assert wb.sheetnames[0] == sheet and len(wb.sheetnames) == 3
        ws = wb[sheet]
        assert ws["A1"].value.startswith(title)
        headers = [c.value for c in ws[6]]
        assert loss in headers
        electricity = next(r for r in range(8, 20) if ws.cell(r, 2).value == "kWh")
        assert ws.cell(electricity, headers.index(loss) + 1).value == pytest.approx(930)


def test_sankey(client, plant):
    s = ok(client.get("/api/energy/sankey", params={**Q, "depth": 3}))
    assert s["unit"] == "tce" and s["depth"] == 3
    loss = next(lk for lk in s["links"] if lk["source"] == "SUB" and lk["target"] == "loss")
    assert loss["value"] == pytest.approx(930 * E) and loss["quantity"] == pytest.approx(930)
    assert {"purchased:electricity", "purchased:natural_gas", "loss"} <= {
        n["id"] for n in s["nodes"]}
    assert all(c["ok"] for c in s["checks"])
    phys = ok(client.get("/api/energy/sankey", params={**Q, "unit": "physical"}))
    steam = next(lk for lk in phys["links"] if lk["carrier"] == "steam")
    assert steam["value"] == pytest.approx(31) and steam["unit"] == "t"


def test_bad_queries(client, plant):
    assert set(problems(client.get("/api/energy/sankey", params={
        **Q, "depth": 40, "unit": "GJ"}))) == {(None, "depth", "eflow_depth"),
                                               (None, "unit", "eflow_unit")}
    assert set(problems(client.get("/api/energy/balance", params={
        "node": "NOPE", "period": "2026-13"}))) == {(None, "node", "ref_unknown"),
                                                    (None, "period", "energy_period")}
    assert problems(client.get("/api/energy/balance.xlsx", params={
        "node": "E1", "period": "x"})) == [(None, "period", "energy_period")]


def test_routes_are_documented(client):
    spec = client.get("/openapi.json").json()
    for path in ("/api/energy/balance", "/api/energy/balance.xlsx", "/api/energy/sankey"):
        op = spec["paths"][path]["get"]
        assert " / " in op["summary"] and op["description"]
        assert op["tags"] == ["Energy flow / 能流分析"]
