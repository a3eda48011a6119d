"""/api/metering: GB 17167 compliance and designations."""

from __future__ import annotations

from .helpers import make_meter, ok, problems


def test_compliance_and_designation(client, site):
    make_meter(client, "IN", node="S1", level=1, flow_to="S1")
    make_meter(client, "G-W1", node="W1", carrier="natural_gas", unit="m3", level=2,
               flow_from="S1", flow_to="W1")
    r = ok(client.get("/api/metering/compliance", params={"node": "E1"}))
    (unit,) = r["units"]
    # level 1: electricity in (IN) metered, natural gas used in W1 but not metered in → 1 of 2
    assert [(g["level"], g["node"], g["carrier"]) for g in unit["gaps"]] == [
        (1, "E1", "natural_gas")]
    level1 = unit["levels"][0]
    assert (level1["required"], level1["metered"], level1["pass"]) == (2, 1, False)
    assert r["pass"] is False and unit["gaps"][0]["message_zh"].startswith("进入 E1 的天然气")
    # declaring what W1 uses adds its electricity point (unmetered)
    out = ok(client.put("/api/metering/nodes/W1", json={"carriers": ["natural_gas",
                                                                     "electricity"]}))
    assert out["gb17167"] == {"carriers": ["natural_gas", "electricity"]}
    unit = ok(client.get("/api/metering/compliance", params={"node": "E1"}))["units"][0]
    assert (2, "W1", "electricity") in [(g["level"], g["node"], g["carrier"])
                                         for g in unit["gaps"]]
    assert problems(client.put("/api/metering/nodes/W1", json={"carriers": ["plasma"]})) == [
        (0, "carriers", "ref_unknown")]
    assert problems(client.put("/api/metering/nodes/NOPE", json={"main": False}), 404) == [
        (None, "id", "not_found")]
    assert problems(client.get("/api/metering/compliance", params={"node": "NOPE"})) == [
        (None, "node", "ref_unknown")]
