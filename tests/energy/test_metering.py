"""GB 17167-2006 equipping rates on a small tree with deliberate gaps (pure engine).

Tree (ids):  E(1) enterprise → S1(2) site → W1(3), W2(4), W3(5, marked not main), BH(6, boiler
house) workshops; equipment EQ1(7, 250 kW) and EQ2(8, 55 kW) under W1, EQ3(9, no nameplate)
and EQ4(10, marked not main) under W2.  Node 100 is outside the unit (a neighbour).
"""

from __future__ import annotations

from nengtan import reference
from nengtan.energy.metering import MeterPoint, UnitNode, assess, requirements_from_rows

REQ = requirements_from_rows(list(reference.rows("gb17167_requirements")))

NODES = [
    UnitNode(1, "E", "enterprise", None),
    UnitNode(2, "S1", "site", 1),
    UnitNode(3, "W1", "workshop", 2),
    UnitNode(4, "W2", "workshop", 2),
    UnitNode(5, "W3", "workshop", 2, attributes={"gb17167": {"main": False}}),
    UnitNode(6, "BH", "workshop", 2),
    UnitNode(7, "EQ1", "equipment", 3, attributes={"motor": {"rated_kw": 250}}),
    UnitNode(8, "EQ2", "equipment", 3, attributes={"rated_kw": 55}),
    UnitNode(9, "EQ3", "equipment", 4),
    UnitNode(10, "EQ4", "equipment", 4, attributes={"gb17167": {"main": False}}),
]
CATEGORY = {"electricity": "electricity", "natural_gas": "gaseous_fossil", "steam": "heat",
            "raw_meal": "material", "water": "working_medium"}


def meter(mid, code, node, carrier, frm=None, to=None, kind="physical", level=2):
    return MeterPoint(mid, code, node, carrier, CATEGORY[carrier], kind, level, frm, to)


METERS = [
    meter(1, "M1", 2, "electricity", None, 2, level=1),         # purchase into S1
    meter(2, "M2", 2, "electricity", kind="virtual", level=1),  # a formula, no edge
    meter(3, "M3", 3, "electricity", 2, 3),                     # W1 feeder
    meter(4, "M4", 4, "natural_gas", 2, 4),                     # W2 gas: no gas purchase meter
    meter(5, "M5", 6, "natural_gas", 2, 6),                     # boiler gas
    meter(6, "M6", 6, "steam", 6, 2),                           # boiler house makes steam
    meter(7, "M7", 3, "steam", 2, 3, level=3),                  # W1 steam
    meter(8, "M8", 7, "electricity", 3, 7, level=3),            # EQ1
    meter(9, "M9", 8, "electricity", level=3),                  # on EQ2, no flow edge
    meter(10, "M10", 2, "electricity", 2, 100, level=1),        # supply to the neighbour
    meter(11, "M11", 3, "raw_meal", 2, 3),                      # material: not GB 17167
    meter(12, "M12", 4, "electricity", 2, 4, kind="virtual"),   # W2 electricity: virtual only
]


def groups(result, level):
    lv = next(x for x in result["levels"] if x["level"] == level)
    return {g["group"]: (g["metered"], g["required"], g["rate_pct"], g["requirement_pct"],
                         g["pass"]) for g in lv["groups"]}


def test_equipping_rates_and_gaps():
    r = assess(NODES[0], NODES, METERS, REQ).as_dict()
    # level 1: electricity in (M1) and out (M10) metered: 2 / 2 × 100 = 100 % ≥ 100 %;
    # natural gas is used (W2, BH) but never metered entering E: 0 / 1 = 0 % < 100 %;
    # steam is made in BH and needs no level-1 point.
    assert groups(r, 1) == {"electricity": (2, 2, 100.0, 100.0, True),
                            "natural_gas": (0, 1, 0.0, 100.0, False)}
    # level 2: W1 (electricity M3, steam M7), W2 (gas M4; electricity only virtual), BH (gas M5);
    # W3 marked not main.  electricity 1 / 2 = 50 % < 100 %; gas 2 / 2; steam 1 / 1 ≥ 80 %
    assert groups(r, 2) == {"electricity": (1, 2, 50.0, 100.0, False),
                            "natural_gas": (2, 2, 100.0, 100.0, True),
                            "steam": (1, 1, 100.0, 80.0, True)}
    # level 3: EQ1 (250 kW ≥ 100 kW) metered by M8; EQ3 (no nameplate, assumed main, taken to
    # use electricity) unmetered: 1 / 2 = 50 % < 95 %.  EQ2 (55 kW) and EQ4 are not main.
    assert groups(r, 3) == {"electricity": (1, 2, 50.0, 95.0, False)}
    assert r["pass"] is False
    assert [(g["level"], g["node"], g["carrier"], g["direction"], g["rule"]) for g in r["gaps"]] == [
        (1, "E", "natural_gas", "in", "mc.rule.level1_in"),
        (2, "W2", "electricity", "in", "mc.rule.level2"),
        (3, "EQ3", "electricity", "in", "mc.rule.level3")]
    eq3 = next(p for p in r["points"] if p["node"] == "EQ3")
    assert eq3["basis"] == "assumed"
    assert r["virtual_only"] == [{"level": 2, "node": "W2", "carrier": "electricity",
                                  "meters": ["M12"]}]
    assert [m["meter"] for m in r["meters_without_flow_edge"]] == ["M9"]
    assert {(n["node"], n["basis"]) for n in r["not_main"]} == {
        ("W3", "attribute"), ("EQ2", "nameplate 55 kW vs 100 kW"), ("EQ4", "attribute")}
    formula = next(g for g in r["levels"][1]["groups"] if g["group"] == "electricity")["formula"]
    assert formula == "1 / 2 × 100 = 50.00 %"
    assert r["lineage"]["document"].startswith("GB 17167-2006")


def test_closing_the_gaps_passes():
    more = METERS + [meter(20, "G0", 2, "natural_gas", None, 2, level=1),
                     meter(21, "M21", 4, "electricity", 2, 4),
                     meter(22, "M22", 9, "electricity", 4, 9, level=3)]
    r = assess(NODES[0], NODES, more, REQ).as_dict()
    assert r["pass"] is True and r["gaps"] == []
    assert groups(r, 3) == {"electricity": (2, 2, 100.0, 95.0, True)}


def test_declared_carriers_and_steam_from_outside():
    nodes = [n if n.code != "W3" else UnitNode(5, "W3", "workshop", 2, attributes={
        "gb17167": {"main": True, "carriers": ["water"]}}) for n in NODES]
    # without the boiler house's output meter, steam used in W1 must have come from outside
    meters = [m for m in METERS if m.code != "M6"]
    r = assess(nodes[0], nodes, meters, REQ).as_dict()
    gaps = {(g["level"], g["node"], g["carrier"]) for g in r["gaps"]}
    assert (2, "W3", "water") in gaps and (1, "E", "steam") in gaps
    assert (1, "E", "water") in gaps  # water is always bought: it entered E somewhere


def test_meters_of_other_units_do_not_count():
    # assessing W1 alone: M3 and M7 enter it (level 1 of the unit W1)
    sub = [n for n in NODES if n.id in (3, 7, 8)]
    r = assess(sub[0], sub, [m for m in METERS if 3 in (m.node_id, m.flow_from, m.flow_to)
                             or m.node_id in (7, 8) or m.flow_to in (7, 8)], REQ).as_dict()
    assert groups(r, 1) == {"electricity": (1, 1, 100.0, 100.0, True),
                            "steam": (1, 1, 100.0, 100.0, True)}
