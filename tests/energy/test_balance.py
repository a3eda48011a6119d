"""Energy balance table (GB/T 3484-2009, GB/T 28751-2012) from metered flows, by hand.

The small plant used throughout (one period's sums)::

    grid ──M-IN 100 000 kWh──▶ SUB (110 kV substation)
    SUB ──M-W1 60 000 kWh──▶ W1 (workshop 1)
    SUB ──M-W2 37 000 kWh──▶ W2 (workshop 2)          SUB keeps 3 000 kWh = 3 % unmetered
    gas ──M-GAS 10 000 m3──▶ BH (gas boiler house)
    BH ──M-STEAM 100 t steam──▶ W2

Coefficients: electricity 0.1229 kgce/kWh (GB/T 2589 equivalent value), natural gas
1.2143 kgce/m3 (Annex A, gas field), steam 100 kgce/t (enthalpy 2 930.76 MJ/t ÷ 29.3076).
"""

import pytest

from nengtan.energy import balance as bal
from nengtan.energy.balance import MeteredFlow, TreeNode

E, G, S = 0.1229, 1.2143, 100.0  # kgce per kWh, m3, t

CARRIERS = {c.code: c for c in (
    bal.Carrier("electricity", "电力", "electricity", "kWh", "electricity"),
    bal.Carrier("electricity_pv", "光伏电力", "PV electricity", "kWh", "renewable_electricity"),
    bal.Carrier("electricity_whr", "余热发电", "waste-heat electricity", "kWh",
                "recovered_electricity"),
    bal.Carrier("natural_gas", "天然气", "natural gas", "m3", "gaseous_fossil"),
    bal.Carrier("bituminous_coal", "烟煤", "bituminous coal", "t", "solid_fossil"),
    bal.Carrier("steam", "蒸汽", "steam", "t", "heat"),
)}
COEF = {"electricity": E, "electricity_pv": E, "electricity_whr": E, "natural_gas": G,
        "steam": S, "bituminous_coal": 26.0}


def node(i, code, kind, parent, zh=None, en=None, **attrs):
    return TreeNode.from_attributes(i, code, zh or code, en or code, kind, parent, attrs)


def flow(meter, carrier, qty, src, dst, coef=True, **kw):
    c = CARRIERS[carrier]
    k = COEF[carrier] if coef else None
    return MeteredFlow(meter, carrier, c.category, c.unit, float(qty), src, dst,
                       kgce_per_unit=k, coefficient={"kgce_per_unit": k} if k else None, **kw)


def plant(w1_efficiency=None, steam_coef=True, extra_nodes=(), extra_flows=()):
    attrs = {} if w1_efficiency is None else {"end_use_efficiency": w1_efficiency,
                                              "end_use_efficiency_source": "test report 7"}
    nodes = [node(1, "E", "enterprise", None), node(2, "S", "site", 1),
             node(3, "SUB", "facility", 2, "10kV变电站", "substation"),
             node(4, "W1", "workshop", 2, "一车间", "workshop 1", **attrs),
             node(5, "W2", "workshop", 2, "二车间", "workshop 2"),
             node(6, "BH", "workshop", 2, "锅炉房", "boiler house"), *extra_nodes]
    flows = [flow("M-IN", "electricity", 100_000, None, 3),
             flow("M-W1", "electricity", 60_000, 3, 4),
             flow("M-W2", "electricity", 37_000, 3, 5),
             flow("M-GAS", "natural_gas", 10_000, None, 6),
             flow("M-STEAM", "steam", 100, 6, 5, coef=steam_coef), *extra_flows]
    return nodes, flows


def table(root=1, **kw):
    nodes, flows = plant(**kw)
    return bal.build_balance(root, nodes, flows, CARRIERS).as_dict()


def by(rows, key, value):
    return next(r for r in rows if r[key] == value)


def test_hand_computed_small_plant():
    t = table(w1_efficiency=0.8)
    st = t["stages"]
    # purchase: 100 000 kWh × 0.1229 = 12.29 tce; 10 000 m3 × 1.2143 = 12.143 tce
    p = st["purchase"]
    assert by(p["rows"], "carrier", "electricity")["purchased"]["tce"] == pytest.approx(12.29)
    assert by(p["rows"], "carrier", "natural_gas")["purchased"]["tce"] == pytest.approx(12.143)
    assert p["supplied_tce"] == pytest.approx(24.433)
    assert p["losses_tce"] == 0
    # conversion (boiler house): in 12.143 tce gas, out 100 t × 100 kgce/t = 10 tce,
    # losses 2.143 tce, utilisation 10 / 12.143 = 0.82352
    bh = by(st["conversion"]["units"], "node", "BH")
    assert bh["supplied_tce"] == pytest.approx(12.143)
    assert bh["effective_tce"] == pytest.approx(10.0)
    assert bh["losses_tce"] == pytest.approx(2.143)
    assert bh["utilisation"] == pytest.approx(10 / 12.143)
    # distribution (substation): 100 000 in, 97 000 out, 3 000 kWh = 0.3687 tce loss/unmetered
    sub = by(st["distribution"]["points"], "node", "SUB")
    assert sub["supplied"]["quantity"] == 100_000
    assert sub["effective"]["quantity"] == 97_000
    assert sub["losses"]["quantity"] == pytest.approx(3_000)
    assert sub["losses"]["tce"] == pytest.approx(0.3687)
    assert sub["utilisation"] == pytest.approx(0.97)
    assert sub["supplied"]["meters"] == ["M-IN"]
    assert sub["effective"]["meters"] == ["M-W1", "M-W2"]
    # end use: W1 60 000 kWh = 7.374 tce at 80 % → effective 5.8992, losses 1.4748;
    # W2 37 000 kWh = 4.5473 tce + 100 t steam = 10 tce, not measured
    mp = st["end_use"]["categories"]["main_production"]
    assert mp["supplied_tce"] == pytest.approx(7.374 + 4.5473 + 10.0)
    assert mp["effective_tce"] is None and mp["losses_tce"] is None
    assert mp["assessed"] == pytest.approx({"supplied_tce": 7.374, "effective_tce": 5.8992,
                                            "losses_tce": 1.4748, "utilisation": 0.8})
    w1 = by(st["end_use"]["units"], "node", "W1")
    assert w1["efficiency"] == {"value": 0.8, "source": "test report 7"}
    assert w1["effective_tce"] == pytest.approx(5.8992)
    w2 = by(st["end_use"]["units"], "node", "W2")
    assert w2["effective_status"] == "not_measured" and w2["effective_tce"] is None
    assert {r["carrier"]: r["supplied"]["quantity"] for r in w2["rows"]} == {
        "electricity": 37_000, "steam": 100}
    # overall: 24.433 = 2.143 (conversion) + 0.3687 (distribution) + 21.9213 (end use)
    o = t["overall"]
    assert o["supplied_tce"] == pytest.approx(24.433)
    assert o["end_use_supplied_tce"] == pytest.approx(21.9213)
    assert o["conversion_losses_tce"] + o["distribution_losses_tce"] + \
        o["end_use_supplied_tce"] == pytest.approx(24.433)
    assert o["effective_tce"] is None  # W2 not measured: not invented
    assert t["figures"]["balance_total_tce"] == pytest.approx(24.433)


def test_supplied_equals_effective_plus_losses_at_every_stage():
    t = table(w1_efficiency=0.8)
    st = t["stages"]
    items = [st["purchase"], *st["conversion"]["units"], st["conversion"]]
    items += [{"supplied_tce": p["supplied"]["tce"], "effective_tce": p["effective"]["tce"],
               "losses_tce": p["losses"]["tce"]} for p in st["distribution"]["points"]]
    items += [st["distribution"], *[u for u in st["end_use"]["units"] if u["effective_tce"]]]
    for item in items:
        assert item["supplied_tce"] == pytest.approx(item["effective_tce"] + item["losses_tce"])
    for cat in st["end_use"]["categories"].values():
        a = cat.get("assessed", cat)
        assert a["supplied_tce"] == pytest.approx(a["effective_tce"] + a["losses_tce"])
    # the answer states its identities and they hold
    scopes = {c["scope"] for c in t["checks"]}
    assert {"purchase", "conversion", "distribution", "end_use", "overall", "BH"} <= scopes
    assert all(c["ok"] for c in t["checks"]), t["checks"]
    # the output of conversion equals what it supplies downstream (steam to W2)
    conv = by(t["checks"], "scope", "BH")
    assert conv["lhs"] == pytest.approx(10.0) and conv["rhs"] == pytest.approx(10.0)


def test_stage_of_nodes_and_why():
    t = table()
    stages = {n["node"]: (n["stage"], n["rule"]) for n in t["nodes"]}
    assert stages == {"E": ("distribution", "kind"), "S": ("distribution", "kind"),
                      "SUB": ("distribution", "name"), "W1": ("main_production", "default"),
                      "W2": ("main_production", "default"), "BH": ("conversion", "flow")}
    bh = by(t["nodes"], "node", "BH")
    assert bh["detail"] == "emits steam; receives natural_gas"
    assert bh["detail_zh"] == "输出 steam；输入 natural_gas"
    assert by(t["nodes"], "node", "W1")["detail_zh"] == "车间：主要生产"


@pytest.mark.parametrize("zh,en,kind,expected", [
    ("综合办公楼", "Office building", "facility", "ancillary"),
    ("道路照明", "Street lighting", "facility", "ancillary"),
    ("公辅车间", "Utilities workshop", "workshop", "auxiliary"),
    ("空压站", "Compressed air station", "equipment", "auxiliary"),
    ("污水处理厂", "Wastewater treatment plant", "facility", "auxiliary"),
    ("公共充电站", "EV charging", "facility", "auxiliary"),
    ("储能电站", "Battery energy storage", "facility", "conversion"),
    ("烧成车间", "Clinker burning workshop", "workshop", "main_production"),
    ("生料立磨", "Raw mill", "equipment", "main_production"),
])
def test_derived_stage_rules(zh, en, kind, expected):
    n = node(9, "X", kind, 2, zh, en)
    tree = bal.Tree(9, [n], [])
    assert bal.resolve_stage(tree, n)[0].stage == expected


def test_attribute_wins_and_a_bad_attribute_is_reported():
    nodes, flows = plant()
    nodes[4] = node(5, "W2", "workshop", 2, "二车间", "workshop 2", energy_stage="auxiliary")
    nodes[3] = node(4, "W1", "workshop", 2, "一车间", "workshop 1", energy_stage="kitchen")
    t = bal.build_balance(1, nodes, flows, CARRIERS).as_dict()
    assert by(t["nodes"], "node", "W2")["rule"] == "attribute"
    assert t["stages"]["end_use"]["categories"]["auxiliary"]["units"] == ["W2"]
    assert by(t["nodes"], "node", "W1")["stage"] == "main_production"
    note = by(t["notes"], "key", "eflow.note.bad_stage")
    assert "kitchen" in note["message_en"] and "kitchen" in note["message_zh"]


def test_missing_coefficient_is_said_not_failed():
    t = table(steam_coef=False)
    assert t["missing_coefficients"] == [{"carrier": "steam", "unit": "t", "meters": ["M-STEAM"]}]
    bh = by(t["stages"]["conversion"]["units"], "node", "BH")
    assert bh["supplied_tce"] == pytest.approx(12.143)
    assert bh["effective_tce"] is None and bh["losses_tce"] is None
    assert bh["outputs"][0]["quantity"] == 100 and bh["outputs"][0]["tce"] is None
    assert t["stages"]["conversion"]["not_assessed"] == ["BH"]
    note = by(t["notes"], "key", "eflow.note.no_coefficient")
    assert note["severity"] == "warning" and "steam" in note["message_en"]
    assert "M-STEAM" in note["message_zh"]
    # the electricity and gas figures are unaffected
    assert t["stages"]["distribution"]["supplied_tce"] == pytest.approx(12.29)
    assert t["figures"]["balance_total_tce"] == pytest.approx(24.433)


def test_sub_meters_above_the_parent_are_an_imbalance_not_clipped():
    nodes, flows = plant()
    flows[2] = flow("M-W2", "electricity", 45_000, 3, 5)  # 60 000 + 45 000 > 100 000
    t = bal.build_balance(1, nodes, flows, CARRIERS).as_dict()
    sub = by(t["stages"]["distribution"]["points"], "node", "SUB")
    assert sub["losses"]["quantity"] == pytest.approx(-5_000)
    assert sub["imbalance"] is True
    note = by(t["notes"], "key", "eflow.note.metering_imbalance")
    assert note["params"] == {"node": "SUB", "carrier": "electricity", "quantity": 5000.0,
                              "unit": "kWh"}
    assert all(c["ok"] for c in t["checks"])  # still balanced: the negative figure is shown


def test_recovered_and_renewable_generation():
    """Waste-heat power (WHR, 10 000 kWh aux in, 50 000 kWh out) and PV (8 000 kWh) into the
    site; the site passes electricity on to W1 and exports 2 000 kWh."""
    nodes = [node(1, "E", "enterprise", None), node(2, "S", "site", 1),
             node(3, "WHR", "workshop", 2, "余热发电站", "waste heat power station"),
             node(4, "PV", "facility", 2, "屋顶光伏", "rooftop PV"),
             node(5, "W1", "workshop", 2)]
    flows = [flow("IN", "electricity", 100_000, None, 2),
             flow("AUX", "electricity", 10_000, 2, 3),
             flow("WHR-OUT", "electricity_whr", 50_000, 3, 2),
             flow("PV-OUT", "electricity_pv", 8_000, 4, 2),
             flow("W1", "electricity", 145_000, 2, 5),
             flow("EXP", "electricity", 2_000, 2, None)]
    t = bal.build_balance(1, nodes, flows, CARRIERS).as_dict()
    conv = {u["node"]: u for u in t["stages"]["conversion"]["units"]}
    # WHR: aux 10 000 kWh + recovered heat taken at the output's 50 000 kWh → out 50 000:
    # loss = aux = 10 000 × 0.1229 = 1.229 tce
    assert conv["WHR"]["primary"][0]["kind"] == "recovered"
    assert conv["WHR"]["supplied_tce"] == pytest.approx(60_000 * E / 1000)
    assert conv["WHR"]["losses_tce"] == pytest.approx(1.229)
    assert conv["PV"]["losses_tce"] == pytest.approx(0.0)
    # site: in 100 000 + 50 000 + 8 000 = 158 000; out 10 000 + 145 000 + 2 000 = 157 000
    site = by(t["stages"]["distribution"]["points"], "node", "S")
    assert site["losses"]["quantity"] == pytest.approx(1_000)
    f = t["figures"]
    # comprehensive consumption: 100 000 − 2 000 + 8 000 (PV) kWh; recovered apart
    assert f["balance_total_tce"] == pytest.approx(106_000 * E / 1000)
    assert f["recovered_tce"] == pytest.approx(50_000 * E / 1000)
    assert f["exported_tce"] == pytest.approx(2_000 * E / 1000)
    assert all(c["ok"] for c in t["checks"])


def test_carrier_passed_on_by_an_end_use_unit_is_distribution():
    """A coal mill receives 1 000 t and sends 930 t to the kiln: 70 t loss/unmetered."""
    nodes = [node(1, "S", "site", None), node(2, "CM", "workshop", 1, "煤磨", "coal mill"),
             node(3, "KL", "workshop", 1, "窑", "kiln")]
    flows = [flow("C-IN", "bituminous_coal", 1_000, None, 2),
             flow("C-KL", "bituminous_coal", 930, 2, 3)]
    t = bal.build_balance(1, nodes, flows, CARRIERS).as_dict()
    cm = by(t["stages"]["distribution"]["points"], "node", "CM")
    assert cm["passes_on"] and cm["losses"]["quantity"] == pytest.approx(70)
    assert cm["losses"]["tce"] == pytest.approx(70 * 26.0 / 1000)
    kl = by(t["stages"]["end_use"]["units"], "node", "KL")
    assert kl["rows"][0]["supplied"]["quantity"] == 930
    assert [u["node"] for u in t["stages"]["end_use"]["units"]] == ["KL"]


def test_sub_metered_offices_inside_a_utilities_workshop_are_ancillary():
    nodes = [node(1, "S", "site", None),
             node(2, "UT", "workshop", 1, "公辅车间", "utilities workshop"),
             node(3, "UT-AIR", "equipment", 2, "空压站", "compressed air"),
             node(4, "UT-OFF", "equipment", 2, "办公及照明", "offices and lighting")]
    flows = [flow("UT", "electricity", 10_000, None, 2),
             flow("AIR", "electricity", 6_000, 2, 3),
             flow("OFF", "electricity", 1_000, 2, 4)]
    t = bal.build_balance(1, nodes, flows, CARRIERS).as_dict()
    cats = t["stages"]["end_use"]["categories"]
    # the utilities workshop keeps 10 000 − 1 000 (its air station and unmetered use)
    assert cats["auxiliary"]["units"] == ["UT"]
    assert cats["auxiliary"]["supplied_tce"] == pytest.approx(9_000 * E / 1000)
    assert cats["ancillary"]["units"] == ["UT-OFF"]
    assert cats["ancillary"]["supplied_tce"] == pytest.approx(1_000 * E / 1000)
    assert t["stages"]["distribution"]["points"] == []


def test_bad_efficiency_is_ignored_and_said():
    t = table(w1_efficiency=1.4)
    w1 = by(t["stages"]["end_use"]["units"], "node", "W1")
    assert w1["effective_status"] == "not_measured"
    assert by(t["notes"], "key", "eflow.note.bad_efficiency")["params"]["node"] == "W1"


def test_balance_of_a_workshop_opens_it():
    """A workshop as the root: its meter minus its sub-meters is loss/unmetered."""
    nodes = [node(1, "W", "workshop", None), node(2, "M1", "equipment", 1),
             node(3, "M2", "equipment", 1)]
    flows = [flow("W", "electricity", 1_000, None, 1), flow("M1", "electricity", 500, 1, 2),
             flow("M2", "electricity", 400, 1, 3),
             flow("G", "natural_gas", 50, None, 1)]
    t = bal.build_balance(1, nodes, flows, CARRIERS).as_dict()
    w = by(t["stages"]["distribution"]["points"], "node", "W")
    assert w["losses"]["quantity"] == pytest.approx(100)
    own = by(t["stages"]["end_use"]["units"], "node", "W")
    assert own["own_use"] and own["rows"][0]["carrier"] == "natural_gas"
    assert all(c["ok"] for c in t["checks"])
