"""GB 17167 compliance through the service: tree and meters in the database (SQLite and
PostgreSQL), park units, designations."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from nengtan.errors import InputError
from nengtan.services import metering_compliance as mc
from nengtan.services import meters, org

UNITS = {"electricity": "kWh", "natural_gas": "m3", "steam": "t", "water": "t"}


@pytest.fixture
def park(engine):
    """P park → facility PF; enterprises E1 (S1 → W1 → EQ1, W2, W3 without meters) and
    E2 (S2 → W9)."""
    ids = {}
    with Session(engine) as s, s.begin():
        for code, kind, parent in (("P", "park", None), ("PF", "facility", "P"),
                                   ("E1", "enterprise", "P"), ("S1", "site", "E1"),
                                   ("W1", "workshop", "S1"), ("W2", "workshop", "S1"),
                                   ("W3", "workshop", "S1"),
                                   ("EQ1", "equipment", "W1"), ("E2", "enterprise", "P"),
                                   ("S2", "site", "E2"), ("W9", "workshop", "S2")):
            ids[code] = org.create(s, {"code": code, "name_zh": code, "kind": kind,
                                       "parent": parent}).id
        for code, node, carrier, frm, to, level, extra in (
            ("P-IN", "PF", "electricity", None, "PF", 1, {}),
            ("P-E1", "PF", "electricity", "PF", "S1", 1, {}),       # park supplies E1
            ("E1-W1", "W1", "electricity", "S1", "W1", 2, {}),
            ("E1-G2", "W2", "natural_gas", "S1", "W2", 2, {}),      # no gas purchase meter
            ("E1-EQ1", "EQ1", "electricity", "W1", "EQ1", 3, {}),
            ("E1-V", "S1", "electricity", None, None, 1, {"kind": "virtual",
                                                            "formula": "{P-E1}"}),
            ("E2-IN", "S2", "electricity", None, "S2", 1, {}),
            ("E2-W9", "W9", "electricity", "S2", "W9", 2, {}),
        ):
            meters.create(s, {"code": code, "name_zh": code, "node": node, "carrier": carrier,
                              "unit": UNITS[carrier], "level": level, "flow_from": frm,
                              "flow_to": to, **extra})
    return ids


def test_enterprise_rates_and_gaps(engine, park):
    with engine.connect() as conn:
        r = mc.compliance(conn, park["E1"])
    assert (r["node"], r["kind"], r["pass"]) == ("E1", "enterprise", False)
    (unit,) = r["units"]
    by_level = {lv["level"]: {g["group"]: (g["metered"], g["required"], g["pass"])
                              for g in lv["groups"]} for lv in unit["levels"]}
    # level 1: electricity enters via P-E1 (1/1); gas is used in W2 but never metered in: 0/1
    assert by_level[1] == {"electricity": (1, 1, True), "natural_gas": (0, 1, False)}
    # level 2: W1 electricity (E1-W1), W2 gas (E1-G2), W3 (no meter: taken to use
    # electricity) → electricity 1 / 2 = 50 % < 100 %
    assert by_level[2] == {"electricity": (1, 2, False), "natural_gas": (1, 1, True)}
    assert by_level[3] == {"electricity": (1, 1, True)}
    gaps = [(g["level"], g["node"], g["carrier"]) for g in unit["gaps"]]
    assert gaps == [(1, "E1", "natural_gas"), (2, "W3", "electricity")]
    gas = unit["gaps"][0]
    assert gas["message_zh"].startswith("进入 E1 的天然气须计量")
    assert "natural gas entering E1" in gas["message"]
    assert r["summary"] == [{"unit": "E1", "pass": False, "gaps": 2, "levels": {
        "1": {"required": 2, "metered": 1, "pass": False},
        "2": {"required": 3, "metered": 2, "pass": False},
        "3": {"required": 1, "metered": 1, "pass": True}}}]


def test_a_park_is_its_enterprises_and_its_own_facilities(engine, park):
    with engine.connect() as conn:
        r = mc.compliance(conn, park["P"])
    assert [u["unit"]["node"] for u in r["units"]] == ["P", "E1", "E2"]
    p, _e1, e2 = r["units"]
    # the park: electricity in (P-IN) and out to E1 (P-E1); PF is its level-2 unit (P-IN)
    assert [(x["level"], x["node"], x["direction"], x["meters"]) for x in p["points"]] == [
        (1, "P", "in", ["P-IN"]), (1, "P", "out", ["P-E1"]), (2, "PF", "in", ["P-IN"])]
    assert p["pass"] is True and e2["pass"] is True and r["pass"] is False


def test_designations(engine, park):
    with Session(engine) as s, s.begin():
        out = mc.set_designation(s, park["W3"], {"main": False})
        assert out["gb17167"] == {"main": False}
        with pytest.raises(InputError) as exc:
            mc.set_designation(s, park["W1"], {"main": "yes", "carriers": ["plasma"],
                                                "colour": 1})
        assert sorted((i.rule, i.field) for i in exc.value.issues) == [
            ("rule.ref_unknown", "carriers"), ("rule.type_bool", "main"),
            ("rule.unknown_field", "colour")]
    with engine.connect() as conn:
        unit = mc.compliance(conn, park["E1"])["units"][0]
    assert [(g["level"], g["node"]) for g in unit["gaps"]] == [(1, "E1")]
    assert unit["not_main"] == [{"level": 2, "node": "W3", "node_id": park["W3"],
                                 "basis": "attribute"}]
    with Session(engine) as s, s.begin():
        assert mc.set_designation(s, park["W3"], {"main": None}) == {
            "node": "W3", "node_id": park["W3"], "gb17167": {}}
