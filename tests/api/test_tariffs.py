"""/api/tariffs: time-of-use tariffs with bands and periods, replaced whole or in part."""

from __future__ import annotations

from .helpers import created, make_meter, ok, problems

BANDS = [{"band": "peak", "price": 1.0127}, {"band": "flat", "price": 0.6316},
         {"band": "valley", "price": 0.2505}]
PERIODS = [{"start": "00:00", "end": "08:00", "band": "valley"},
           {"start": "08:00", "end": "12:00", "band": "peak"},
           {"start": "12:00", "end": "17:00", "band": "flat"},
           {"start": "17:00", "end": "21:00", "band": "peak"},
           {"start": "21:00", "end": "24:00", "band": "flat"}]
TARIFF = {"code": "JS-2025", "name_zh": "江苏一般工商业", "valid_from": "2025-01-01",
          "region": "jiangsu", "demand_charge": 40.8, "bands": BANDS, "periods": PERIODS}


def test_crud(client, site):
    t = created(client.post("/api/tariffs", json=TARIFF))
    assert (t["carrier"], t["unit"], t["currency"], t["demand_charge"]) == ("electricity", "kWh",
                                                                            "CNY", 40.8)
    assert {b["band"]: b["price"] for b in t["bands"]} == {b["band"]: b["price"] for b in BANDS}
    assert [(p["start"], p["end"], p["band"]) for p in t["periods"]][1] == ("08:00", "12:00",
                                                                            "peak")
    assert ok(client.get(f"/api/tariffs/{t['id']}"))["code"] == "JS-2025"
    assert ok(client.get("/api/tariffs", params={"region": "jiangsu"}))["total"] == 1
    assert ok(client.get("/api/tariffs", params={"carrier": "natural_gas"}))["total"] == 0

    patched = ok(client.patch(f"/api/tariffs/{t['id']}", json={"name_en": "Jiangsu general",
                                                               "valid_to": "2025-12-31"}))
    assert patched["name_en"] == "Jiangsu general" and patched["valid_to"] == "2025-12-31"
    assert len(patched["periods"]) == 5 and patched["demand_charge"] == 40.8  # kept

    summer = [{"months": "7,8", **p} for p in PERIODS] + [
        {"months": "1,2,3,4,5,6,9,10,11,12", "start": "00:00", "end": "24:00", "band": "flat"}]
    patched = ok(client.patch(f"/api/tariffs/{t['id']}", json={"periods": summer}))
    assert len(patched["periods"]) == 6 and len(patched["bands"]) == 3

    replaced = ok(client.put(f"/api/tariffs/{t['id']}", json={
        "code": "JS-2025", "name_zh": "单一电价", "valid_from": "2025-01-01",
        "bands": [{"band": "flat", "price": 0.6}],
        "periods": [{"start": "00:00", "end": "24:00", "band": "flat"}]}))
    assert (replaced["demand_charge"], replaced["region"], len(replaced["bands"])) == (None,
                                                                                      None, 1)
    assert client.delete(f"/api/tariffs/{t['id']}").status_code == 204
    assert problems(client.get(f"/api/tariffs/{t['id']}"), 404) == [(None, "id", "not_found")]


def test_invalid_tariffs(client, site):
    hole = [p for p in PERIODS if p["start"] != "12:00"]
    overlap = PERIODS + [{"start": "07:00", "end": "09:00", "band": "peak"}]
    for change, expected in (
            ({"periods": hole}, [(None, "periods", "tariff_cover")] * 12),
            ({"periods": overlap}, [(None, "periods", "tariff_overlap")] * 12),
            ({"bands": BANDS[:2]}, [(0, "periods.band", "band_unknown")]),
            ({"periods": [{**PERIODS[0], "end": "25:00"}] + PERIODS[1:]},
             [(0, "periods.start", "time_of_day")]),
            ({"periods": [{**PERIODS[0], "months": "13"}] + PERIODS[1:]},
             [(0, "periods.months", "months")]),
            ({"bands": [{"band": "peak", "price": -1}, {"band": "noon"}]},
             [(0, "price", "minimum"), (1, "band", "choice"), (1, "price", "required")]),
            ({"carrier": "plasma"}, [(None, "carrier", "ref_unknown")]),
            ({"unit": "m3"}, [(None, "unit", "unit_mismatch")]),
            ({"valid_to": "2024-01-01"}, [(None, "valid_to", "date_order")]),
            ({"valid_from": None}, [(None, "valid_from", "required")]),
            ({"bands": "cheap"}, [(None, "bands", "type_list")]),
            ({"bands": [3]}, [(0, "bands", "type_object")])):
        assert problems(client.post("/api/tariffs", json={**TARIFF, **change})) == expected, change
    created(client.post("/api/tariffs", json=TARIFF))
    r = client.post("/api/tariffs", json=TARIFF)
    assert problems(r) == [(None, "code", "duplicate")]
    assert ok(client.get("/api/tariffs"))["total"] == 1


def test_tariff_in_use_and_unknown_ids(client, site):
    t = created(client.post("/api/tariffs", json=TARIFF))
    make_meter(client, "M1", tariff="JS-2025")
    assert problems(client.delete(f"/api/tariffs/{t['id']}")) == [(None, "id", "has_records")]
    assert client.put("/api/tariffs/999", json=TARIFF).status_code == 404
    assert client.patch("/api/tariffs/999", json={"name_zh": "x"}).status_code == 404
    assert client.delete("/api/tariffs/999").status_code == 404
