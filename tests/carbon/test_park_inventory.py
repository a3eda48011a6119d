"""Park inventory (seed 001 formula 3) on the small park of test_park_support, by hand
(the park, its meters and the arithmetic are described there)."""

import pytest

from nengtan.services import park_inventory

from .test_park_support import DIESEL, OCT, SINK, Lookup, _items, _src, build_park, provider


@pytest.fixture
def park(engine):
    return build_park(engine)


def test_formula_by_hand(park):
    _items(park)
    with park.connect() as conn:
        inv = park_inventory.park_inventory(conn, "P", OCT, lookup=Lookup(),
                                            tenant_provider=provider())
    t = inv.term_tco2e
    # E_电和热: grid 155 − to A 77.5 − to B 46.5 − steam to A 93 − WWTP (under public) 15.5
    # = −77.5 (losses 24.8 MWh → 12.4 t and boiler-house auxiliaries 3.1 t, less the steam
    # the park sells)
    assert t["energy"] == pytest.approx(155 - 77.5 - 46.5 - 93 - 15.5)
    # E_公共设施与环境: WWTP electricity 15.5 + boiler gas 31 000 m3 × 0.0022 = 68.2
    assert t["public"] == pytest.approx(15.5 + 68.2)
    # E_企业: A 170.5 + B 54.25; A does not deduct its supply to B, which B counts → −7.75
    assert t["enterprises"] == pytest.approx(170.5 + 54.25 - 7.75)
    assert t["transport"] == pytest.approx(DIESEL)
    assert t["sink"] == pytest.approx(SINK)
    assert t["new_infra"] == t["fixed_carbon"] == t["ccus"] == 0
    # the physical emissions of the park: grid purchases, the boiler's gas, the buses, − sink
    assert inv.total_tco2e == pytest.approx(155 + 68.2 + DIESEL - SINK)
    assert inv.total_tco2e == pytest.approx(-77.5 + 217 + 83.7 + DIESEL - 31)


def test_no_double_counting_whatever_the_tenants_do(park):
    """The rule: a transfer counts once whether or not its supplier deducts it and whether
    or not its receiver counts it."""
    expected = 155 + 68.2
    with park.connect() as conn:
        for a_deducts, b_counts, corr in ((False, True, -7.75), (True, True, 0.0),
                                          (True, False, 7.75), (False, False, 0.0)):
            inv = park_inventory.park_inventory(conn, "P", OCT, lookup=Lookup(),
                                                tenant_provider=provider(a_deducts, b_counts))
            assert inv.total_tco2e == pytest.approx(expected), (a_deducts, b_counts)
            tr = {x.meter: x for x in inv.transfers}
            assert tr["A-X"].correction_sign * 7.75 == pytest.approx(corr)
            parts = {p.key: p.tco2e for p in inv.terms["enterprises"]}
            assert parts.get("corr:A-X", 0.0) == pytest.approx(corr)


def test_park_supply_to_tenants_is_deducted_only_when_they_count_it(park):
    """A tenant that does not count its park electricity: the park keeps it (no double
    deduction), and the total is unchanged."""
    def forgetful(conn, node, period, lookup, gwp_set):
        inv = provider()(conn, node, period, lookup, gwp_set)
        if node.code == "B":
            inv.sources = [_src("purchased electricity", "electricity", 7.75, "A-X")]
            inv.total_tco2e = 7.75
        return inv
    with park.connect() as conn:
        inv = park_inventory.park_inventory(conn, "P", OCT, lookup=Lookup(),
                                            tenant_provider=forgetful)
    assert inv.term_tco2e["energy"] == pytest.approx(-77.5 + 46.5)
    assert inv.total_tco2e == pytest.approx(155 + 68.2)
    tr = {x.meter: x for x in inv.transfers}
    assert tr["B-E"].receiver_counts is False and tr["B-E"].supplier_deducts is False


def test_screening_tenants_from_meters_give_the_same_total(park):
    """Without registered inventories each tenant is screened from its boundary meters (A
    deducts its supply to B there): the park total is the same."""
    with park.connect() as conn:
        inv = park_inventory.park_inventory(conn, "P", OCT, lookup=Lookup())
    tenants = {t.code: t for t in inv.tenants}
    assert tenants["A"].origin == "meters"
    assert tenants["A"].total_tco2e == pytest.approx(77.5 + 93 - 7.75)
    assert tenants["B"].total_tco2e == pytest.approx(46.5 + 7.75)
    assert inv.total_tco2e == pytest.approx(155 + 68.2)


def test_facilities_sectors_and_lineage(park):
    _items(park)
    with park.connect() as conn:
        inv = park_inventory.park_inventory(conn, "P", OCT, lookup=Lookup(),
                                            tenant_provider=provider())
    fac = {f["node"]: f for f in inv.facilities}
    assert fac["WWTP"]["end_use"] and not fac["SUB"]["end_use"] and not fac["BH"]["end_use"]
    assert fac["SUB"]["supplies"] == ["A", "B"] and fac["BH"]["supplies"] == ["A"]
    sectors = {s["sector"]: s["tco2e"] for s in inv.sectors()}
    assert sum(sectors.values()) == pytest.approx(inv.total_tco2e)
    # cement (3011, section C) and textile (1713, C): purchases are indirect
    assert sectors["lulucf"] == pytest.approx(-SINK)
    assert sectors["transport"] == pytest.approx(DIESEL)
    assert sectors["services"] == pytest.approx(68.2)  # the park boiler's gas
    data = inv.as_dict()
    for term in data["terms"]:
        for part in term["parts"]:
            assert part["unit"] == "tCO2e" and part["lineage"], part["key"]
    gas = next(p for t in data["terms"] for p in t["parts"] if p["key"] == "fuel:BH:natural_gas")
    params = gas["lineage"]["source"]["lineage"]["parameters"]
    assert {p["parameter"] for p in params} >= {"ncv", "carbon_content", "oxidation_rate"}
    assert all(p["source"] or p.get("document") for p in params)
    assert {f["factor_id"] for f in data["factors"]} >= {"test:grid_factor:electricity"}


def test_steam_in_tonnes_is_converted_with_its_heat_value(park):
    """Steam metered in t (BH → A1, 10 t/day) is valued in GJ with the park's steam NCV
    parameter (2 500 MJ/t): 310 t × 2.5 GJ/t = 775 GJ × 0.1 tCO2/GJ = 77.5 t, deducted by
    the park because A counts it.  Without the parameter the meter cannot be valued and the
    inventory says so."""
    from datetime import date, datetime

    import numpy as np
    from sqlalchemy.orm import Session

    from nengtan.services import energy_params, ingest, meters

    from .test_park_support import DAYS, TZ

    with Session(park) as s, s.begin():
        mid = meters.create(s, {"code": "BH-ST", "name_zh": "蒸汽", "node": "BH",
                                "carrier": "steam", "unit": "t", "register": "interval",
                                "interval_s": 86400, "flow_from": "BH", "flow_to": "A1",
                                "level": 2}).id
    start = int(datetime(2026, 10, 1, tzinfo=TZ).timestamp()) * 1_000_000
    ts = start + np.arange(DAYS, dtype=np.int64) * 86400 * 1_000_000
    with park.begin() as conn:
        ingest.ingest(conn, ingest.ReadingBatch(np.full(DAYS, mid), ts, np.full(DAYS, 10.0),
                                                np.zeros(DAYS, np.int16)), "test")

    def with_steam(conn, node, period, lookup, gwp_set):
        inv = provider()(conn, node, period, lookup, gwp_set)
        if node.code == "A":
            inv.sources.append(_src("steam from the park", "heat", 77.5, "BH-ST"))
            inv.total_tco2e += 77.5
        return inv

    with park.connect() as conn:
        inv = park_inventory.park_inventory(conn, "P", OCT, lookup=Lookup(),
                                            tenant_provider=with_steam)
    assert [w["meter"] for w in inv.warnings] == ["BH-ST"]
    with Session(park) as s, s.begin():
        energy_params.record(s, {"kind": "ncv", "carrier": "steam", "tenant": "P",
                                 "value": 2500.0, "unit": "MJ/t",
                                 "valid_from": date(2026, 1, 1), "source": "test",
                                 "status": "measured"})
    with park.connect() as conn:
        inv = park_inventory.park_inventory(conn, "P", OCT, lookup=Lookup(),
                                            tenant_provider=with_steam)
    assert inv.warnings == []
    part = next(p for p in inv.terms["energy"] if p.key == "out:BH-ST")
    assert part.tco2e == pytest.approx(-77.5)
    assert inv.total_tco2e == pytest.approx(155 + 68.2)  # the steam is the boiler's gas
