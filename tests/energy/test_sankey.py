"""Sankey data from metered flow edges: links, explicit loss/unmetered, conservation.

The small plant of test_balance (see its docstring): a substation feeding two workshops with
3 % unmetered (3 000 of 100 000 kWh), a gas boiler (10 000 m3 → 100 t steam).
"""

import pytest

from nengtan.energy import sankey as snk

from .test_balance import CARRIERS, E, G, flow, node, plant


def build(depth=2, unit="tce", nodes=None, flows=None, root=1, **kw):
    n, f = plant(**kw)
    return snk.build_sankey(root, nodes or n, flows or f, CARRIERS, depth, unit).as_dict()


def links(s, **match):
    return [lk for lk in s["links"] if all(lk[k] == v for k, v in match.items())]


def one(s, **match):
    found = links(s, **match)
    assert len(found) == 1, (match, found)
    return found[0]


def test_links_and_explicit_loss():
    s = build()
    ids = {n["id"] for n in s["nodes"]}
    assert ids == {"SUB", "W1", "W2", "BH", "purchased:electricity",
                   "purchased:natural_gas", "loss"}
    grid = one(s, source="purchased:electricity")
    assert grid["target"] == "SUB" and grid["quantity"] == 100_000 and grid["unit"] == "kWh"
    assert grid["value_tce"] == pytest.approx(12.29) and grid["meters"] == ["M-IN"]
    # 100 000 − 60 000 − 37 000 = 3 000 kWh = 0.3687 tce, from SUB to the loss node
    loss = one(s, source="SUB", target="loss")
    assert loss["kind"] == "loss" and loss["carrier"] == "electricity"
    assert loss["quantity"] == pytest.approx(3_000)
    assert loss["value_tce"] == pytest.approx(0.3687)
    # boiler: 12.143 tce gas in, 10 tce steam out → 2.143 tce conversion loss (tce only)
    conv = one(s, source="BH", target="loss")
    assert conv["kind"] == "conversion_loss" and conv["carrier"] == "conversion"
    assert conv["value_tce"] == pytest.approx(10_000 * G / 1000 - 10.0)
    assert conv["quantity"] is None
    steam = one(s, source="BH", target="W2")
    assert steam["quantity"] == 100 and steam["value_tce"] == pytest.approx(10.0)
    w2 = next(n for n in s["nodes"] if n["id"] == "W2")
    assert w2["consumed_tce"] == pytest.approx(37_000 * E / 1000 + 10.0)


def test_conservation_at_every_node():
    s = build()
    assert s["checks"] and all(c["ok"] for c in s["checks"]), s["checks"]
    checked = {c["scope"] for c in s["checks"]}
    assert {"SUB", "W1", "W2", "BH"} <= checked
    # by hand at SUB: in 100 000 = out 60 000 + 37 000 + loss 3 000 (kWh)
    sub = next(c for c in s["checks"] if c["scope"] == "SUB" and "electricity" in c["identity"])
    assert sub["lhs"] == pytest.approx(100_000) and sub["rhs"] == pytest.approx(100_000)
    # and in tce for the boiler: 12.143 = 10 + 2.143
    bh = next(c for c in s["checks"] if c["scope"] == "BH")
    assert bh["lhs"] == pytest.approx(12.143) and bh["rhs"] == pytest.approx(12.143)
    for n in s["nodes"]:
        if n.get("in_tce") is None or n["kind"] in ("purchased", "loss"):
            continue
        consumed = n["consumed_tce"] or 0.0
        assert n["in_tce"] == pytest.approx(n["out_tce"] + consumed)


def test_depth_zero_draws_the_root_with_inner_losses():
    s = build(depth=0)
    assert {n["id"] for n in s["nodes"]} == {"E", "purchased:electricity",
                                              "purchased:natural_gas", "loss"}
    assert one(s, source="E", target="loss", carrier="electricity")["quantity"] == \
        pytest.approx(3_000)
    assert one(s, source="E", target="loss", carrier="conversion")["value_tce"] == \
        pytest.approx(2.143)
    e = s["nodes"][0]
    assert e["id"] == "E" and e["contains"] == 5
    assert e["consumed_tce"] == pytest.approx(97_000 * E / 1000 + 10.0)
    assert all(c["ok"] for c in s["checks"])


def test_negative_remainder_enters_from_the_imbalance_node():
    nodes, flows = plant()
    flows[2] = flow("M-W2", "electricity", 45_000, 3, 5)
    s = build(nodes=nodes, flows=flows)
    imb = one(s, source="imbalance", target="SUB")
    assert imb["quantity"] == pytest.approx(5_000) and imb["kind"] == "imbalance"
    assert not links(s, source="SUB", target="loss")
    assert s["imbalances"] == [{"node": "SUB", "carrier": "electricity", "quantity": 5000.0,
                                "unit": "kWh", "tce": pytest.approx(0.6145),
                                "meters_in": ["M-IN"], "meters_out": ["M-W1", "M-W2"]}]
    assert all(c["ok"] for c in s["checks"])


def test_physical_unit():
    s = build(unit="physical")
    assert s["unit"] == "physical"
    assert one(s, source="purchased:natural_gas")["value"] == 10_000
    assert one(s, source="BH", target="W2")["value"] == 100
    assert one(s, source="BH", target="loss")["value"] is None  # mixed carriers: tce only


def test_primary_inputs_of_pv_and_waste_heat_power():
    nodes = [node(1, "S", "site", None), node(2, "PV", "facility", 1, "屋顶光伏", "PV"),
             node(3, "WHR", "workshop", 1, "余热电站", "WHR"), node(4, "W", "workshop", 1)]
    flows = [flow("IN", "electricity", 1_000, None, 1),
             flow("PV", "electricity_pv", 300, 2, 1),
             flow("AUX", "electricity", 50, 1, 3),
             flow("WHR", "electricity_whr", 700, 3, 1),
             flow("W", "electricity", 1_900, 1, 4)]
    s = snk.build_sankey(1, nodes, flows, CARRIERS, 1, "tce").as_dict()
    assert one(s, source="renewable", target="PV")["quantity"] == 300
    assert one(s, source="recovered", target="WHR")["quantity"] == 700
    # WHR: 50 kWh aux + 700 primary − 700 out = 50 kWh × 0.1229 kgce
    assert one(s, source="WHR", target="loss")["value_tce"] == pytest.approx(50 * E / 1000)
    # site: 1 000 + 300 + 700 in; 50 + 1 900 out → 50 kWh loss/unmetered
    assert one(s, source="S", target="loss")["quantity"] == pytest.approx(50)
    assert all(c["ok"] for c in s["checks"])
