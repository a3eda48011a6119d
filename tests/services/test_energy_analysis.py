"""Energy analysis service: structure, cost with TOU tariffs, load profiles.

A small site on both databases (``engine``: SQLite and PostgreSQL) with one day of data whose
answers are computed by hand, and the demo park (a short build) for the meaningful patterns.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from nengtan.demo import build_demo
from nengtan.demo import structure as demo_structure
from nengtan.errors import InputError, NotFound
from nengtan.services import energy_analysis as ea
from nengtan.services import energy_data, ingest, meters, org, tariffs
from nengtan.store import db
from nengtan.store.models import Meter, Node

US = 1_000_000
Q = 900 * US
H = 3600 * US
SH = ZoneInfo("Asia/Shanghai")
DAY = date(2025, 6, 10)  # a Tuesday in June (30 days): one day is 1/30 of the month
T0 = int(datetime(2025, 6, 10, tzinfo=SH).timestamp()) * US
PERIOD = energy_data.parse_period("2025-06-10")

ALL_DAY = [{"months": "", "start": "00:00", "end": "24:00", "band": "flat"}]


def _tariff(code, carrier="electricity", unit="kWh", bands=None, periods=None, **extra):
    return {"code": code, "name_zh": code, "carrier": carrier, "unit": unit,
            "valid_from": date(2025, 1, 1), "bands": bands or [{"band": "flat", "price": 1.0}],
            "periods": periods or ALL_DAY, **extra}


@pytest.fixture
def site(engine):
    """P → E1 → S1 → (W1, W2, PVN), one day of data on 2025-06-10.

    S1 boundary: GRID in (10 kWh per quarter hour, 30 kWh at 18:00), EXP out (1 kWh per
    quarter hour 10:00-14:00), PV generated in PVN (2 kWh per quarter hour 08:00-16:00), GAS in
    (100 m3, tariff G1), DSL in (0.5 t diesel, no tariff).  W1 gets 6 kWh per quarter hour from
    a cumulative meter with a gap 07:00-10:00; W2 3 kWh per quarter hour on a tariff with a
    half-hour switch.
    """
    with Session(engine) as s, s.begin():
        for code, kind, parent in (("P", "park", None), ("E1", "enterprise", "P"),
                                   ("S1", "site", "E1"), ("W1", "workshop", "S1"),
                                   ("W2", "workshop", "S1"), ("PVN", "facility", "S1")):
            org.create(s, {"code": code, "name_zh": code, "kind": kind, "parent": parent})
        tariffs.save(s, _tariff(
            "T1", demand_charge=40.0, capacity_charge=20.0, source="test tariff",
            bands=[{"band": "valley", "price": 0.30}, {"band": "flat", "price": 0.60},
                   {"band": "sharp", "price": 1.20}, {"band": "peak", "price": 1.00}],
            periods=[{"start": "00:00", "end": "08:00", "band": "valley"},
                     {"start": "08:00", "end": "17:00", "band": "flat"},
                     {"start": "17:00", "end": "19:00", "band": "sharp"},
                     {"start": "19:00", "end": "24:00", "band": "peak"}]))
        tariffs.save(s, _tariff(
            "T2", bands=[{"band": "valley", "price": 0.30}, {"band": "peak", "price": 1.00},
                         {"band": "flat", "price": 0.60}],
            periods=[{"start": "00:00", "end": "10:30", "band": "valley"},
                     {"start": "10:30", "end": "11:30", "band": "peak"},
                     {"start": "11:30", "end": "24:00", "band": "flat"}]))
        tariffs.save(s, _tariff("G1", carrier="natural_gas", unit="m3",
                                bands=[{"band": "flat", "price": 3.5}]))
        tariffs.save(s, _tariff("X1", bands=[{"band": "flat", "price": 0.40}]))
        ids = {}
        interval = {"register": "interval", "carrier": "electricity", "unit": "kWh"}
        for payload in (
            {"code": "GRID", "node": "S1", "flow_to": "S1", "tariff": "T1", **interval},
            {"code": "EXP", "node": "S1", "flow_from": "S1", "tariff": "T1", **interval},
            {"code": "PV", "node": "PVN", "flow_from": "PVN", "flow_to": "S1",
             **interval, "carrier": "electricity_pv"},
            {"code": "W1M", "node": "W1", "flow_from": "S1", "flow_to": "W1", "tariff": "T1",
             "carrier": "electricity", "unit": "kWh"},
            {"code": "W2M", "node": "W2", "flow_from": "S1", "flow_to": "W2", "tariff": "T2",
             **interval},
            {"code": "GAS", "node": "S1", "flow_to": "S1", "tariff": "G1", "register": "interval",
             "interval_s": 86400, "carrier": "natural_gas", "unit": "m3"},
            {"code": "DSL", "node": "S1", "flow_to": "S1", "register": "interval",
             "interval_s": 86400, "carrier": "diesel", "unit": "t"},
        ):
            ids[payload["code"]] = meters.create(s, {"name_zh": payload["code"], **payload}).id
    q = T0 + np.arange(96, dtype=np.int64) * Q
    grid = np.full(96, 10.0)
    grid[18 * 4] = 30.0
    hour = np.arange(96) // 4
    # W1M cumulative register, 6 kWh per quarter hour, readings 07:15-09:45 missing
    regs = T0 + np.arange(97, dtype=np.int64) * Q
    keep = (regs <= T0 + 7 * H) | (regs >= T0 + 10 * H)
    rows = [("GRID", q, grid), ("EXP", q, np.where((hour >= 10) & (hour < 14), 1.0, 0.0)),
            ("PV", q, np.where((hour >= 8) & (hour < 16), 2.0, 0.0)),
            ("W1M", regs[keep], 1000 + 6.0 * np.arange(97)[keep]),
            ("W2M", q, np.full(96, 3.0)), ("GAS", [T0], [100.0]), ("DSL", [T0], [0.5])]
    with engine.begin() as conn:
        for code, ts, values in rows:
            ts = np.asarray(ts, np.int64)
            ingest.ingest(conn, ingest.ReadingBatch(np.full(len(ts), ids[code]), ts,
                                                    np.asarray(values, float)), "test")
    return engine, ids


def _nid(engine, code):
    with engine.connect() as conn:
        return ea.node_id(conn, code)


def _meter(answer, code):
    return next(m for m in answer["meters"] if m["meter"] == code)


def test_cost_of_the_site_by_hand(site):
    engine, _ = site
    with engine.connect() as conn:
        r = ea.cost(conn, ea.node_id(conn, "S1"), PERIOD)
    grid = _meter(r, "GRID")
    assert grid["status"] == "priced" and grid["tariff"] == "T1"
    # valley 00-08: 32 × 10 = 320; flat 08-17: 36 × 10 = 360; sharp 17-19: 8 × 10 + 20 = 100;
    # peak 19-24: 20 × 10 = 200 kWh
    bands = {b["band"]: b["quantity"] for b in grid["bands"]}
    assert bands == pytest.approx({"sharp": 100, "peak": 200, "flat": 360, "valley": 320})
    # 320 × 0.30 + 360 × 0.60 + 100 × 1.20 + 200 × 1.00 = 96 + 216 + 120 + 200 = 632 CNY
    assert grid["energy_cny"] == pytest.approx(632.0)
    assert grid["peak_sharp_share_pct"] == pytest.approx(100 * 300 / 980)
    # demand 30 kWh × 4 = 120 kW at 18:00; × 40 CNY/(kW·month) × 1/30 of June = 160 CNY
    assert grid["demand_kw"] == pytest.approx(120.0)
    assert grid["demand"]["start"] == "2025-06-10T18:00:00+08:00"
    assert grid["demand_charge_cny"] == pytest.approx(160.0)
    assert grid["months"][0]["month_fraction"] == pytest.approx(1 / 30)
    assert grid["coverage"] == pytest.approx(1.0)
    # gas: 100 m3 × 3.5 CNY/m3 = 350 CNY; diesel has no tariff: listed, not costed
    assert _meter(r, "GAS")["energy_cny"] == pytest.approx(350.0)
    assert _meter(r, "DSL")["status"] == "no_price" and "energy_cny" not in _meter(r, "DSL")
    assert r["no_price"] == [{"carrier": "diesel", "meter": "DSL", "unit": "t",
                              "reason": _meter(r, "DSL")["reason"]}]
    assert _meter(r, "DSL")["reason"]["code"] == "reason.no_tariff"
    assert {c["carrier"]: c["status"] for c in r["carriers"]} == {
        "electricity": "priced", "natural_gas": "priced", "diesel": "no_price"}
    # export without an export tariff: zero; PV: no purchase cost
    assert _meter(r, "EXP")["status"] == "export_zero"
    assert _meter(r, "PV")["status"] == "self_generated"
    t = r["totals"]
    assert t["energy_cny"] == pytest.approx(632 + 350) and t["export_credit_cny"] == 0
    assert t["basic_charge_basis"] == "demand" and t["basic_charge_cny"] == pytest.approx(160)
    assert t["total_cny"] == pytest.approx(632 + 350 + 160)
    e = r["electricity"]
    assert e["quantity_kwh"] == pytest.approx(980) and e["energy_cny"] == pytest.approx(632)
    assert e["average_price_cny_per_kwh"] == pytest.approx(632 / 980)
    assert e["all_in_price_cny_per_kwh"] == pytest.approx((632 + 160) / 980)
    assert r["capacity"]["computed"] is False
    assert r["capacity"]["reason"]["code"] == "capacity.no_kva"
    assert r["months"][0]["total_cny"] == pytest.approx(t["total_cny"])
    lineage = {x["tariff"]: x for x in r["lineage"]["tariffs"]}
    assert lineage["T1"]["prices"] == {"sharp": 1.2, "peak": 1.0, "flat": 0.6, "valley": 0.3}
    assert lineage["T1"]["source"] == "test tariff" and lineage["T1"]["demand_charge"] == 40


def test_capacity_charge_and_export_credit(site):
    engine, _ = site
    with Session(engine) as s, s.begin():
        s.execute(update(Node).where(Node.code == "S1").values(
            attributes={"contracted_kva": 500, "basic_charge": "capacity"}))
    with engine.connect() as conn:
        nid = ea.node_id(conn, "S1")
        r = ea.cost(conn, nid, PERIOD, export_tariff="X1")
        # 500 kVA × 20 CNY/(kVA·month) × 1/30 = 333.33 CNY, billed instead of the demand charge
        assert r["capacity"]["charge_cny"] == pytest.approx(500 * 20 / 30)
        assert r["capacity"]["source"] == "node attribute contracted_kva"
        assert r["totals"]["basic_charge_basis"] == "capacity"
        assert r["totals"]["demand_charge_cny"] == pytest.approx(160)  # shown, not billed
        assert _meter(r, "GRID")["demand_charge_billed"] is False
        # export 16 quarter hours × 1 kWh = 16 kWh × 0.40 CNY/kWh = 6.40 CNY credit
        exp = _meter(r, "EXP")
        assert exp["status"] == "export_credited" and exp["energy_cny"] == pytest.approx(-6.4)
        assert r["totals"]["export_credit_cny"] == pytest.approx(6.4)
        assert r["totals"]["total_cny"] == pytest.approx(632 + 350 - 6.4 + 500 * 20 / 30)
        # parameters override the node's attributes
        r2 = ea.cost(conn, nid, PERIOD, contracted_kva=800, basic_charge="demand")
        assert r2["capacity"]["charge_cny"] == pytest.approx(800 * 20 / 30)
        assert r2["totals"]["basic_charge_cny"] == pytest.approx(160)
        with pytest.raises(InputError) as exc:
            ea.cost(conn, nid, PERIOD, export_tariff="NOPE", basic_charge="both",
                    contracted_kva=-1)
        assert {i.field for i in exc.value.issues} == {"export_tariff", "basic_charge",
                                                       "contracted_kva"}


def test_half_hour_switch_and_gap_spread(site):
    engine, _ = site
    with engine.connect() as conn:
        w2 = ea.cost(conn, ea.node_id(conn, "W2"), PERIOD)
        w1 = ea.cost(conn, ea.node_id(conn, "W1"), PERIOD)
    m = _meter(w2, "W2M")
    # T2 switches at 10:30 and 11:30: 30-minute slots. 3 kWh per quarter hour:
    # valley 00:00-10:30 = 42 × 3 = 126; peak 10:30-11:30 = 4 × 3 = 12; flat = 50 × 3 = 150
    assert {b["band"]: b["quantity"] for b in m["bands"]} == pytest.approx(
        {"peak": 12, "flat": 150, "valley": 126})
    assert m["energy_cny"] == pytest.approx(126 * 0.3 + 12 * 1.0 + 150 * 0.6)
    g = _meter(w1, "W1M")
    # the 07:00-10:00 gap holds 12 × 6 = 72 kWh, spread evenly: 24 to valley (07-08), 48 to
    # flat (08-10); bands as if measured: valley 32 × 6, flat 36 × 6, sharp 8 × 6, peak 20 × 6
    assert g["gap_quantity"] == pytest.approx(72.0)
    assert {b["band"]: b["quantity"] for b in g["bands"]} == pytest.approx(
        {"sharp": 48, "peak": 120, "flat": 216, "valley": 192})
    assert g["coverage"] == pytest.approx(84 / 96)
    assert g["demand_kw"] == pytest.approx(24.0)  # 6 kWh × 4, the gap left out
    assert "note.gap" in {n["code"] for n in g["notes"]}


def test_structure_by_carrier_and_children(site):
    engine, _ = site
    with engine.connect() as conn:
        r = ea.structure(conn, ea.node_id(conn, "S1"), PERIOD)
    by = {c["carrier"]: c for c in r["carriers"]}
    # electricity: (980 − 16) kWh × 0.1229 kgce/kWh = 118.4756 kgce
    assert by["electricity"]["quantity"] == pytest.approx(964)
    assert by["electricity"]["tce"] == pytest.approx(0.1184756)
    # PV generated inside: 64 kWh × 0.1229 = 7.8656 kgce; gas 100 m3 × 1.2143 = 121.43 kgce;
    # diesel 0.5 t × 1457.1 kgce/t = 728.55 kgce
    assert by["electricity_pv"]["tce"] == pytest.approx(0.0078656)
    assert by["natural_gas"]["tce"] == pytest.approx(0.12143)
    assert by["diesel"]["tce"] == pytest.approx(0.72855) and by["diesel"]["unit"] == "t"
    total = 0.1184756 + 0.0078656 + 0.12143 + 0.72855
    assert r["total_tce"] == pytest.approx(total)
    assert by["diesel"]["share_pct"] == pytest.approx(100 * 0.72855 / total)
    assert sum(c["share_pct"] for c in r["carriers"]) == pytest.approx(100)
    assert r["carriers"][0]["carrier"] == "diesel"  # largest first
    roles = {f["role"]: f["quantity"] for f in by["electricity"]["flows"]}
    assert roles == pytest.approx({"in": 980, "out": 16})
    kids = {k["node"]: k for k in r["children"]}
    # W1 576 kWh, W2 288 kWh; PVN generates its 64 kWh and supplies them out: nets to zero
    assert kids["W1"]["total_tce"] == pytest.approx(576 * 0.1229e-3)
    assert kids["W2"]["total_tce"] == pytest.approx(288 * 0.1229e-3)
    assert kids["PVN"]["total_tce"] == pytest.approx(0)
    kid_sum = (576 + 288) * 0.1229e-3
    assert r["children_total_tce"] == pytest.approx(kid_sum)
    assert kids["W1"]["share_of_children_pct"] == pytest.approx(100 * 576 / 864)
    assert kids["W1"]["share_of_node_pct"] == pytest.approx(100 * 576 * 0.1229e-3 / total)
    assert r["unallocated_tce"] == pytest.approx(total - kid_sum)
    with engine.connect() as conn:
        leaf = ea.structure(conn, ea.node_id(conn, "W1"), PERIOD)
    assert leaf["children"] == [] and leaf["unallocated_tce"] is None


def test_load_profile_and_base_load_waste(site):
    engine, ids = site
    with engine.connect() as conn:
        r = ea.load_profile(conn, PERIOD, mid=ids["GRID"], hourly=True)
        # hourly: 40 kWh every hour, 60 kWh in 18:00-19:00
        assert r["peak_kw"] == pytest.approx(60) and r["peak_at"] == {"date": "2025-06-10",
                                                                      "hour": 18}
        assert r["average_kw"] == pytest.approx(980 / 24)
        assert r["load_factor"] == pytest.approx(980 / 24 / 60)
        assert r["base_load_kw"] == pytest.approx(40)
        assert r["night_share_pct"] == pytest.approx(100 * 200 / 980)
        assert r["profiles"]["working"]["kw"][18] == pytest.approx(60)
        assert r["hourly_kw"][0]["kw"][0] == pytest.approx(40)
        assert r["lineage"]["tariff"]["tariff"] == "T1"
        # waste above 30 kW: 5 night hours × 10 kW = 50 kWh × valley 0.30 = 15 CNY
        w = ea.base_load_waste(conn, PERIOD, mid=ids["GRID"], reference_kw=30)
        assert w["waste_kwh"] == pytest.approx(50) and w["waste_cny"] == pytest.approx(15)
        assert w["valley_price_cny_per_kwh"] == pytest.approx(0.3)
        assert w["annual_waste_kwh"] == pytest.approx(50 * 365)
        assert all(isinstance(v, (int, float, str, bool, type(None))) for v in w.values())
        # the site's load: GRID + PV − EXP; W1 lacks 07-10 (the gap): 21 measured hours
        node = ea.load_profile(conn, PERIOD, nid=ea.node_id(conn, "S1"))
        assert node["energy_kwh"] == pytest.approx(980 + 64 - 16)
        assert [m["meter"] for m in node["lineage"]["meters"]] == ["EXP", "GRID", "PV"]
        w1 = ea.load_profile(conn, PERIOD, nid=ea.node_id(conn, "W1"))
        assert w1["measured_hours"] == 21 and w1["coverage"] == pytest.approx(21 / 24)
        with pytest.raises(InputError):
            ea.load_profile(conn, PERIOD)
        with pytest.raises(InputError) as exc:
            ea.load_profile(conn, PERIOD, mid=ids["GAS"])
        assert exc.value.issues[0].rule == "rule.ea_not_electric"
        with pytest.raises(InputError):
            ea.load_profile(conn, PERIOD, mid=ids["GRID"], night=(5, 5), percentile=120)
        with pytest.raises(NotFound):
            ea.node_id(conn, "NOPE")
        assert ea.meter_id(conn, "GRID") == ea.meter_id(conn, str(ids["GRID"])) == ids["GRID"]


def test_a_month_with_data_on_one_day(site):
    engine, _ = site
    with engine.connect() as conn:
        r = ea.cost(conn, ea.node_id(conn, "S1"), energy_data.parse_period("2025-06"))
        with pytest.raises(InputError):
            ea.cost(conn, 1, energy_data.parse_period("2020-01-01/2025-01-01"))
    grid = _meter(r, "GRID")
    # the same energy; the demand charge is now a whole month's: 120 × 40 = 4 800 CNY
    assert grid["energy_cny"] == pytest.approx(632)
    assert grid["demand_charge_cny"] == pytest.approx(4800)
    assert grid["coverage"] == pytest.approx(1 / 30, abs=1e-6)


# -- the demo park -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo park over 26 September - 31 October 2026 (National Day inside), SQLite."""
    path = tmp_path_factory.mktemp("ea_demo") / "demo.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    build_demo(engine, today=date(2026, 11, 1), start=date(2026, 9, 26))
    yield engine
    engine.dispose()


OCTOBER = energy_data.parse_period("2026-10")


def test_demo_raw_mill_avoids_peak_hours(demo):
    with demo.connect() as conn:
        mill = ea.cost(conn, ea.node_id(conn, "CEM-RM-VRM"), OCTOBER)
        kiln = ea.cost(conn, ea.node_id(conn, "CEM-KL"), OCTOBER)
        plant = ea.cost(conn, ea.node_id(conn, "CEM"), OCTOBER)
        flows = energy_data.node_energy(conn, ea.node_id(conn, "CEM"), OCTOBER)
    # the raw mill stops in peak and sharp hours (避峰生产): almost no peak-band energy, and a
    # lower average price than the kiln, which runs round the clock
    assert mill["electricity"]["peak_sharp_share_pct"] < 2.0
    assert kiln["electricity"]["peak_sharp_share_pct"] > 20.0
    assert (mill["electricity"]["average_price_cny_per_kwh"]
            < kiln["electricity"]["average_price_cny_per_kwh"] - 0.1)
    [tariff] = plant["lineage"]["tariffs"]
    assert tariff["tariff"] == demo_structure.TARIFF_CODE
    assert tariff["prices"] == demo_structure.TARIFF_BANDS
    assert plant["electricity"]["meters"] == ["CEM-E-101", "CEM-E-102"]
    # the interval path (cost) and the rollups (node energy) agree on the purchased kWh
    kwh = sum(f.quantity for f in flows.flows if f.carrier == "electricity" and f.role == "in")
    assert plant["electricity"]["quantity_kwh"] == pytest.approx(kwh, rel=1e-9)
    assert {m["meter"] for m in plant["no_price"]} == {"CEM-C-201", "CEM-D-101"}
    assert 0 < plant["totals"]["demand_charge_cny"] < plant["totals"]["energy_cny"]


def test_demo_exports_pv_and_structure(demo):
    with demo.connect() as conn:
        ele = ea.cost(conn, ea.node_id(conn, "ELE"), OCTOBER)
        park = ea.structure(conn, ea.node_id(conn, "QLP"), OCTOBER)
        cem = ea.structure(conn, ea.node_id(conn, "CEM"), OCTOBER, children=False)
    assert _meter(ele, "ELE-E-102")["status"] == "export_zero"
    assert {_meter(ele, c)["status"] for c in ("ELE-PV-201", "ELE-PV-202")} == {"self_generated"}
    # coal dominates the cement plant; the park's children cover the enterprises
    assert cem["carriers"][0]["carrier"] == "bituminous_coal"
    assert cem["carriers"][0]["share_pct"] > 90 and "children" not in cem
    kids = {k["node"]: k for k in park["children"]}
    assert {"CEM", "TEX", "ELE"} <= set(kids)
    assert sum(k["share_of_children_pct"] for k in park["children"]) == pytest.approx(100)
    assert kids["CEM"]["share_of_children_pct"] > 80
    assert sum(c["share_pct"] for c in park["carriers"]) == pytest.approx(100)


def test_demo_load_profiles(demo):
    with demo.connect() as conn:
        ele = ea.load_profile(conn, OCTOBER, nid=ea.node_id(conn, "ELE"))
        kiln = ea.base_load_waste(conn, OCTOBER, nid=ea.node_id(conn, "CEM-KL"))
        mill = ea.load_profile(conn, OCTOBER, mid=ea.meter_id(conn, "CEM-E-302"))
    # National Day: 1-3, 5-7 October are holidays (the 4th is a Sunday of the break)
    assert ele["holidays"] == [f"2026-10-0{d}" for d in (1, 2, 3, 5, 6, 7)]
    assert ele["day_counts"]["holiday"] == 6
    work, hol = ele["profiles"]["working"]["kw"], ele["profiles"]["holiday"]["kw"]
    assert sum(hol[8:18]) < 0.7 * sum(work[8:18])  # the plant rests on the holidays
    assert ele["base_load_kw"] < ele["average_kw"] < ele["peak_kw"]
    assert 0 < ele["load_factor"] < 1 and ele["waste"]["waste_kwh"] > 0
    assert ele["waste"]["price_cny_per_kwh"] == demo_structure.TARIFF_BANDS["valley"]
    # the kiln runs round the clock: idle hours are production hours, little "waste"
    assert kiln["continuous_operation"] is True
    assert kiln["waste_kwh"] < 0.02 * kiln["energy_kwh"]
    # the raw mill's October peak hours are 16:00-23:00: it stands still then (about 3 kW)
    assert max(mill["profiles"]["working"]["kw"][16:23]) < 10
    assert min(mill["profiles"]["working"]["kw"][0:7]) > 500


def test_node_and_meter_references(demo):
    with demo.connect() as conn:
        cem = ea.node_id(conn, "CEM")
        assert ea.node_id(conn, str(cem)) == cem
        assert conn.execute(select(Meter.id).where(Meter.code == "CEM-E-302")).scalar() \
            == ea.meter_id(conn, "CEM-E-302")
