"""Energy flow service: balance table and Sankey from stored meters, on SQLite and PostgreSQL,
and on the demo park (SQLite, October 2026 of a short build).

Small plant, daily interval meters, constant over October 2026 (31 days)::

    grid ─IN 1 000 kWh/d─▶ SUB ─W1 600─▶ W1, ─W2 370─▶ W2     (SUB: 30 kWh/d = 3 % unmetered)
    gas ─GAS 100 m3/d─▶ BH ─STEAM 1 t/d─▶ W2                  (steam enthalpy 2 930.76 MJ/t)
"""

from contextlib import contextmanager
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from nengtan.demo import build_demo
from nengtan.errors import InputError, NotFound
from nengtan.services import energy_data, energy_flow, ingest, meters, org
from nengtan.services.energy_data import parse_period
from nengtan.store import db
from nengtan.store.models import Node
from nengtan.store.models.energy import EnergyParameter

TZ = ZoneInfo("Asia/Shanghai")
DAYS = 31
OCT = parse_period("2026-10")
E = 0.1229 / 1000  # tce per kWh (equivalent value)
G = 1.2143 / 1000  # tce per m3 natural gas (GB/T 2589 Annex A, gas field)
S = 2930.76 / 29.3076 / 1000  # tce per t steam = 0.1
DAILY = {  # meter: (node, carrier, unit, flow_from, flow_to, per day)
    "IN": ("SUB", "electricity", "kWh", None, "SUB", 1_000.0),
    "W1": ("W1", "electricity", "kWh", "SUB", "W1", 600.0),
    "W2": ("W2", "electricity", "kWh", "SUB", "W2", 370.0),
    "GAS": ("BH", "natural_gas", "m3", None, "BH", 100.0),
    "STEAM": ("BH", "steam", "t", "BH", "W2", 1.0),
}


def _ingest_daily(engine, ids: dict, values: dict) -> None:
    start = int(datetime(2026, 10, 1, tzinfo=TZ).timestamp()) * 1_000_000
    ts = start + np.arange(DAYS, dtype=np.int64) * 86400 * 1_000_000
    batch = ingest.ReadingBatch(
        np.repeat([ids[c] for c in values], DAYS), np.tile(ts, len(values)),
        np.repeat(list(values.values()), DAYS), np.zeros(len(values) * DAYS, np.int16))
    with engine.begin() as conn:
        ingest.ingest(conn, batch, "test")


@pytest.fixture
def small(engine):
    with Session(engine) as s, s.begin():
        for code, kind, parent, zh in (
                ("E", "enterprise", None, "企业"), ("S", "site", "E", "厂区"),
                ("SUB", "facility", "S", "10kV变电站"), ("W1", "workshop", "S", "一车间"),
                ("W2", "workshop", "S", "二车间"), ("BH", "workshop", "S", "锅炉房")):
            org.create(s, {"code": code, "name_zh": zh, "kind": kind, "parent": parent})
        ids = {code: meters.create(s, {
            "code": code, "name_zh": code, "node": node, "carrier": carrier, "unit": unit,
            "register": "interval", "interval_s": 86400, "flow_from": frm, "flow_to": to}).id
            for code, (node, carrier, unit, frm, to, _) in DAILY.items()}
        s.add(EnergyParameter(tenant_id=None, kind="ncv", carrier_code="steam", value=2930.76,
                              unit="MJ/t", valid_from=date(2025, 1, 1),
                              source="test: steam enthalpy", status="measured"))
        w1 = s.scalar(select(Node).where(Node.code == "W1"))
        w1.attributes = {"end_use_efficiency": 0.8, "end_use_efficiency_source": "test audit"}
    _ingest_daily(engine, ids, {c: v[5] for c, v in DAILY.items()})
    with engine.connect() as conn:
        nodes = dict(conn.execute(select(Node.code, Node.id)).all())
    return engine, nodes


def by(rows, key, value):
    return next(r for r in rows if r[key] == value)


def test_balance_of_the_small_plant_by_hand(small):
    engine, n = small
    with engine.connect() as conn:
        t = energy_flow.balance(conn, n["E"], OCT)
    st = t["stages"]
    assert t["node"] == "E" and t["period"]["label"] == "2026-10" and t["complete"]
    # purchase: 31 000 kWh → 3.8099 tce; 3 100 m3 → 3.76433 tce
    assert st["purchase"]["supplied_tce"] == pytest.approx(31_000 * E + 3_100 * G)
    # substation: 31 000 in, 18 600 + 11 470 out, 930 kWh (3 %) loss/unmetered
    sub = by(st["distribution"]["points"], "node", "SUB")
    assert sub["losses"]["quantity"] == pytest.approx(930)
    assert sub["losses"]["tce"] == pytest.approx(930 * E)
    assert sub["utilisation"] == pytest.approx(0.97)
    # boiler: 3.76433 tce gas in, 31 t × 0.1 = 3.1 tce steam out, 0.66433 tce lost
    bh = by(st["conversion"]["units"], "node", "BH")
    assert bh["effective_tce"] == pytest.approx(31 * S)
    assert bh["losses_tce"] == pytest.approx(3_100 * G - 31 * S)
    # end use: W1 at 80 % (node attribute, with its source); W2 not measured
    w1 = by(st["end_use"]["units"], "node", "W1")
    assert w1["effective_tce"] == pytest.approx(18_600 * E * 0.8)
    assert w1["efficiency"] == {"value": 0.8, "source": "test audit"}
    assert by(st["end_use"]["units"], "node", "W2")["effective_status"] == "not_measured"
    # identities and the reconciliation with node_energy (GB/T 2589 comprehensive energy)
    assert all(c["ok"] for c in t["checks"]), t["checks"]
    rec = t["reconciliation"]
    assert rec["node_energy_total_tce"] == pytest.approx(31_000 * E + 3_100 * G)
    assert rec["difference_tce"] == pytest.approx(0, abs=1e-9)
    assert "综合能耗" in rec["statement"]["zh-CN"] and "purchased" in rec["statement"]["en"]
    assert {m["meter"] for m in t["lineage"]["meters"]} == set(DAILY)
    assert t["lineage"]["coefficients"]["steam"]["method"] == "user_ncv"


def test_energy_stage_attribute_moves_a_node(small):
    engine, n = small
    with Session(engine) as s, s.begin():
        s.get(Node, n["W2"]).attributes = {"energy_stage": "auxiliary"}
    with engine.connect() as conn:
        t = energy_flow.balance(conn, n["E"], OCT)
    cats = t["stages"]["end_use"]["categories"]
    assert cats["auxiliary"]["units"] == ["W2"]
    assert cats["auxiliary"]["supplied_tce"] == pytest.approx(11_470 * E + 31 * S)
    assert by(t["nodes"], "node", "W2")["rule"] == "attribute"


def test_sankey_of_the_small_plant(small):
    engine, n = small
    with engine.connect() as conn:
        s = energy_flow.sankey(conn, n["E"], OCT, depth=2, unit="physical")
    loss = next(lk for lk in s["links"] if lk["source"] == "SUB" and lk["target"] == "loss")
    assert loss["value"] == pytest.approx(930) and loss["unit"] == "kWh"
    assert all(c["ok"] for c in s["checks"])
    assert s["lineage"]["coefficients"]["natural_gas"]["kgce_per_unit"] == pytest.approx(1.2143)


def test_missing_steam_coefficient_is_reported(small):
    engine, n = small
    with engine.connect() as conn:
        conn.execute(delete(EnergyParameter))
        t = energy_flow.balance(conn, n["E"], OCT)
        s = energy_flow.sankey(conn, n["E"], OCT)
        conn.rollback()
    assert [m["carrier"] for m in t["missing_coefficients"]] == ["steam"]
    assert by(t["stages"]["conversion"]["units"], "node", "BH")["effective_tce"] is None
    assert t["reconciliation"]["difference_tce"] == pytest.approx(0, abs=1e-9)
    assert s["missing_coefficients"] == ["steam"]


def test_bad_parameters_and_unknown_node(small):
    engine, n = small
    with engine.connect() as conn:
        with pytest.raises(InputError) as exc:
            energy_flow.sankey(conn, n["E"], OCT, depth=99, unit="MJ")
        assert {i.rule for i in exc.value.issues} == {"rule.eflow_depth", "rule.eflow_unit"}
        with pytest.raises(NotFound):
            energy_flow.balance(conn, 987654, OCT)


# -- the demo park ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo park from 2026-10-01 to 2026-11-20 (a short build, about 2 s)."""
    path = tmp_path_factory.mktemp("energy_flow") / "demo.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    build_demo(engine, today=date(2026, 11, 21), start=date(2026, 10, 1))
    with engine.connect() as conn:
        ids = dict(conn.execute(select(Node.code, Node.id)).all())
    yield engine, ids
    engine.dispose()


@contextmanager
def steam_enthalpy(engine, tenant_id, mj_per_t=2694.0):
    """A connection in a transaction (rolled back after) where the tenant's steam counts
    ``mj_per_t`` (1.0 MPa saturated steam net of feed water, as the demo's boiler model)."""
    with engine.connect() as conn:
        conn.execute(delete(EnergyParameter).where(EnergyParameter.carrier_code == "steam"))
        if mj_per_t is not None:
            conn.execute(insert(EnergyParameter).values(
                tenant_id=tenant_id, kind="ncv", carrier_code="steam", value=mj_per_t,
                unit="MJ/t", valid_from=date(2025, 1, 1), source="test", status="measured",
                created_at=datetime.now(TZ)))
        try:
            yield conn
        finally:
            conn.rollback()


def test_demo_cement_sankey_shows_a_positive_unmetered_loss(demo):
    engine, ids = demo
    with engine.connect() as conn:
        s = energy_flow.sankey(conn, ids["CEM"], OCT, depth=2)
        q = {m.code: m for m in energy_data.boundary(conn, ids["CEM"]).meters}
        values = energy_data.period_values(conn, list(q.values()), OCT.start, OCT.end)
    v = {code: values[m.id].value for code, m in q.items()}
    # site distribution: purchased (101, 102) + waste-heat power (190) − workshops (201..205)
    expected = (v["CEM-E-101"] + v["CEM-E-102"] + v["CEM-E-190"]
                - sum(v[f"CEM-E-20{k}"] for k in range(1, 6)))
    loss = next(lk for lk in s["links"] if lk["source"] == "CEM-S1" and lk["target"] == "loss")
    assert expected > 0
    assert loss["quantity"] == pytest.approx(expected)
    assert loss["value_tce"] == pytest.approx(expected * E)
    assert loss["value"] == loss["value_tce"] > 0
    assert any(lk["source"] == "recovered" and lk["target"] == "CEM-WHR" for lk in s["links"])
    assert all(c["ok"] for c in s["checks"]), [c for c in s["checks"] if not c["ok"]]
    assert s["imbalances"] == []


def test_demo_textile_boiler_conversion_loss(demo):
    engine, ids = demo
    with steam_enthalpy(engine, ids["TEX"]) as conn:
        t = energy_flow.balance(conn, ids["TEX"], OCT)
        lib = energy_data.library_for(conn, ids["TEX"], OCT.start, OCT.end)
        ms = {m.code: m for m in energy_data.boundary(conn, ids["TEX"]).meters}
        values = energy_data.period_values(conn, list(ms.values()), OCT.start, OCT.end)
    v = {code: values[m.id].value for code, m in ms.items()}
    gas = lib.coefficient("natural_gas").per("m3")
    steam = lib.coefficient("steam").per("t")
    assert steam == pytest.approx(2694.0 / 29.3076)
    # input: boiler gas (TEX-G-201) and boiler-house electricity (TEX-E-204);
    # output: steam (TEX-S-201); loss = input − output, kgce → tce
    supplied = (v["TEX-G-201"] * gas + v["TEX-E-204"] * 0.1229) / 1000
    effective = v["TEX-S-201"] * steam / 1000
    bh = by(t["stages"]["conversion"]["units"], "node", "TEX-BH")
    assert bh["supplied_tce"] == pytest.approx(supplied)
    assert bh["effective_tce"] == pytest.approx(effective)
    assert bh["losses_tce"] == pytest.approx(supplied - effective)
    assert 0 < bh["losses_tce"] < supplied
    assert 0.8 < bh["utilisation"] < 0.97
    assert t["missing_coefficients"] == []
    # steam network: boiler output − Σ workshop steam meters, explicit
    steam_point = next(p for p in t["stages"]["distribution"]["points"]
                       if p["node"] == "TEX-S1" and p["carrier"] == "steam")
    assert steam_point["losses"]["quantity"] == pytest.approx(
        v["TEX-S-201"] - v["TEX-S-301"] - v["TEX-S-302"] - v["TEX-S-303"])
    assert all(c["ok"] for c in t["checks"]), [c for c in t["checks"] if not c["ok"]]


def test_demo_textile_without_steam_coefficient_still_answers(demo):
    engine, ids = demo
    with steam_enthalpy(engine, ids["TEX"], None) as conn:
        t = energy_flow.balance(conn, ids["TEX"], OCT)
    assert [m["carrier"] for m in t["missing_coefficients"]] == ["steam"]
    assert any(nt["key"] == "eflow.note.no_coefficient" for nt in t["notes"])
    assert t["reconciliation"]["difference_tce"] == pytest.approx(0, abs=1e-6)


@pytest.mark.parametrize("code", ["QLP", "CEM", "TEX", "ELE", "CEM-KL", "TEX-DY"])
def test_demo_balance_and_sankey_hold_for_park_enterprises_and_workshops(demo, code):
    engine, ids = demo
    with steam_enthalpy(engine, ids["TEX"]) as conn:
        t = energy_flow.balance(conn, ids[code], OCT)
        ne = energy_data.node_energy(conn, ids[code], OCT)
        sankeys = [energy_flow.sankey(conn, ids[code], OCT, depth=d) for d in (0, 1, 3)]
    assert all(c["ok"] for c in t["checks"]), [c for c in t["checks"] if not c["ok"]]
    assert t["reconciliation"]["node_energy_total_tce"] == pytest.approx(ne.totals.total_tce)
    assert t["reconciliation"]["difference_tce"] == pytest.approx(0, abs=1e-6)
    assert t["missing_coefficients"] == []
    for s in sankeys:
        assert s["checks"] and all(c["ok"] for c in s["checks"]), \
            [c for c in s["checks"] if not c["ok"]]
    assert t["coverage"] == pytest.approx(1.0)


def test_demo_park_figures(demo):
    engine, ids = demo
    with steam_enthalpy(engine, ids["TEX"]) as conn:
        t = energy_flow.balance(conn, ids["QLP"], OCT)
    f = t["reconciliation"]
    # the park's recovered energy is the cement plant's waste-heat power, the renewable the
    # electronics plant's rooftop PV; neither is purchased
    assert f["recovered_tce"] > 0 and f["renewable_generated_tce"] > 0
    conv = {u["node"] for u in t["stages"]["conversion"]["units"]}
    assert conv == {"CEM-WHR", "TEX-BH", "ELE-PV", "ELE-ESS"}
    points = {(p["node"], p["carrier"]) for p in t["stages"]["distribution"]["points"]}
    assert {("QLP-SUB", "electricity"), ("CEM-S1", "electricity"),
            ("CEM-CM", "bituminous_coal"), ("TEX-S1", "steam")} <= points
    cats = t["stages"]["end_use"]["categories"]
    assert {"QLP-SL", "QLP-ADM", "CEM-UT-OFF", "TEX-OFF", "ELE-OFF"} <= set(
        cats["ancillary"]["units"])
    assert t["overall"]["complete"]
