"""Energy consumption query (services.energy_query): known answers on a small tree.

The tree: park P → enterprise E → site S → workshop W.  Four cumulative meters are read every
15 minutes from 2024-10-01 00:00 to 2025-11-01 12:00 (Asia/Shanghai):

* IN1 — electricity into S from outside (multiplier 10: one register kWh is 10 kWh);
* EXP — electricity out of S to outside (export);
* GAS — natural gas into S from outside, m3;
* W1  — electricity from S to its workshop W (internal to S, W's only input).

Register increments per 15 minutes (the interval ending at t belongs to the local month of
t − 15 min):

==========  ====  ====  ====  ====
month       IN1   EXP   GAS   W1
==========  ====  ====  ====  ====
2025-09     1.5   0.5   2.0   6.0
2025-10     2.0   1.0   3.0   8.0
otherwise   1.0   0.5   2.0   4.0
==========  ====  ====  ====  ====

Coefficients (GB/T 2589-2020): electricity 0.1229 kgce/kWh (equivalent value); natural gas
1.2143 kgce/m3 (Annex A, gas-field natural gas, the shipped library's value).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from nengtan.errors import InputError
from nengtan.services import energy_data as ed
from nengtan.services import energy_query as eq
from nengtan.services import ingest, meters, org
from nengtan.store import db
from nengtan.store.models import Meter, Node

TZ = ZoneInfo("Asia/Shanghai")
US = 1_000_000
Q = 900 * US
E_KGCE = 0.1229  # kgce/kWh, GB/T 2589-2020 equivalent value
GAS_KGCE = 1.2143  # kgce/m3, GB/T 2589-2020 Annex A


def local_us(*args) -> int:
    return int(datetime(*args, tzinfo=TZ).timestamp()) * US


FIRST_US = local_us(2024, 10, 1)
LAST_US = local_us(2025, 11, 1, 12)  # the last reading of every meter
RATES = {
    (2025, 9): {"IN1": 1.5, "EXP": 0.5, "GAS": 2.0, "W1": 6.0},
    (2025, 10): {"IN1": 2.0, "EXP": 1.0, "GAS": 3.0, "W1": 8.0},
}
DEFAULT = {"IN1": 1.0, "EXP": 0.5, "GAS": 2.0, "W1": 4.0}
METERS = (
    {"code": "IN1", "name_zh": "进线", "name_en": "Incoming", "carrier": "electricity",
     "unit": "kWh", "multiplier": 10, "level": 1, "flow_to": "S"},
    {"code": "EXP", "name_zh": "上网", "name_en": "Export", "carrier": "electricity",
     "unit": "kWh", "level": 1, "flow_from": "S"},
    {"code": "GAS", "name_zh": "燃气", "name_en": "Gas", "carrier": "natural_gas", "unit": "m3",
     "level": 1, "flow_to": "S"},
    {"code": "W1", "name_zh": "车间表", "name_en": "Workshop", "carrier": "electricity",
     "unit": "kWh", "level": 2, "flow_from": "S", "flow_to": "W"},
)


def build_tree(engine) -> dict[str, int]:
    """Nodes and meters of the module docstring, readings ingested; codes → ids."""
    with Session(engine) as s, s.begin():
        for code, kind, parent in (("P", "park", None), ("E", "enterprise", "P"),
                                   ("S", "site", "E"), ("W", "workshop", "S")):
            org.create(s, {"code": code, "name_zh": f"节点{code}", "name_en": f"Node {code}",
                           "kind": kind, "parent": parent})
        for payload in METERS:
            meters.create(s, {"node": "S", **payload})
        ids = dict(s.execute(select(Node.code, Node.id)).all())
        ids.update(dict(s.execute(select(Meter.code, Meter.id)).all()))
    ts = np.arange(FIRST_US, LAST_US + 1, Q, dtype=np.int64)
    months = [(d.year, d.month) for d in
              (datetime.fromtimestamp((t - Q) / US, TZ) for t in ts[1:])]
    for payload in METERS:
        code = payload["code"]
        inc = np.array([RATES.get(ym, DEFAULT)[code] for ym in months])
        register = np.concatenate([[1000.0], 1000.0 + np.cumsum(inc)])
        batch = ingest.ReadingBatch(np.full(len(ts), ids[code]), ts, register, None, None, None)
        with engine.begin() as conn:
            ingest.ingest(conn, batch, "test", f"energy query fixture {code}")
    return ids


@dataclass
class Tree:
    engine: object
    ids: dict[str, int]


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    path = tmp_path_factory.mktemp("energy_query") / "eq.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    with Session(engine) as s, s.begin():
        meters.seed_carriers(s)
    ids = build_tree(engine)
    yield Tree(engine, ids)
    engine.dispose()


@pytest.fixture
def conn(tree):
    with tree.engine.connect() as c:
        yield c


def carrier(fig: dict, code: str) -> dict:
    return next(c for c in fig["carriers"] if c["carrier"] == code)


# -- every grain ---------------------------------------------------------------------------
def test_month_figure_by_hand(conn, tree):
    r = eq.consumption(conn, tree.ids["S"], period="2025-10")
    fig = r["total"]
    assert r["series"] == [fig] and fig["period"]["label"] == "2025-10"
    el, gas = carrier(fig, "electricity"), carrier(fig, "natural_gas")
    # October: 31 days × 96 = 2976 quarter hours.
    # IN1 2976 × 2.0 × 10 = 59 520 kWh in; EXP 2976 × 1.0 = 2 976 kWh out;
    # net 59 520 − 2 976 = 56 544 kWh.  W1 flows inside S: not counted.
    assert (el["in"], el["out"], el["generated"], el["quantity"]) == (59520, 2976, 0, 56544)
    assert el["unit"] == "kWh" and sorted(el["meters"]) == ["EXP", "IN1"]
    # gas 2976 × 3.0 = 8 928 m3
    assert (gas["quantity"], gas["unit"]) == (8928, "m3")
    # tce: 56 544 × 0.1229 / 1000 = 6.9492576; 8 928 × 1.2143 / 1000 = 10.8412704
    assert el["tce"] == pytest.approx(6.9492576)
    assert gas["tce"] == pytest.approx(10.8412704)
    assert fig["tce"] == pytest.approx(17.790528) and fig["unit"] == "tce"
    # the export is deducted at the same coefficient: 2 976 × 0.1229 / 1000
    assert fig["export_tce"] == pytest.approx(0.3657504)
    assert fig["complete"] and fig["coverage"] == 1.0
    # the same figure as the energy totals service
    ne = ed.node_energy(conn, tree.ids["S"], ed.parse_period("2025-10"))
    assert fig["tce"] == pytest.approx(ne.totals.total_tce, rel=1e-12)
    assert fig["tce_equal_value"] == pytest.approx(ne.totals.total_tce_equal_value, rel=1e-12)
    assert r["lineage"]["source"] == "rollup_month + rollup_day"
    assert {m["meter"]: m["role"] for m in r["lineage"]["meters"]} == {
        "IN1": "in", "EXP": "out", "GAS": "in"}
    assert r["lineage"]["trace"] == "/api/energy/trace?node=S&start=2025-10-01&end=2025-11-01"
    assert "17.791 tce" in r["summary"]["en"] and "综合能耗 17.791 tce" in r["summary"]["zh-CN"]


def test_interval_hour_and_day_grains(conn, tree):
    s = tree.ids["S"]
    quarters = eq.consumption(conn, s, grain="interval", period="2025-10-05",
                              carrier="electricity")
    assert len(quarters["series"]) == 96
    first = quarters["series"][0]
    assert first["period"]["label"] == "2025-10-05T00:00:00+08:00"
    # one quarter hour: IN1 2.0 × 10 = 20 kWh in, EXP 1.0 kWh out → 19 kWh
    assert carrier(first, "electricity")["quantity"] == pytest.approx(19)
    assert quarters["lineage"]["source"] == "interval values from readings"
    hours = eq.consumption(conn, s, grain="hour", period="2025-10-05", carrier="electricity")
    assert len(hours["series"]) == 24
    # one hour: 4 × 19 = 76 kWh; one day: 96 × 19 = 1 824 kWh
    assert {carrier(f, "electricity")["quantity"] for f in hours["series"]} == {76}
    assert carrier(hours["total"], "electricity")["quantity"] == pytest.approx(1824)
    assert carrier(quarters["total"], "electricity")["quantity"] == pytest.approx(1824)
    days = eq.consumption(conn, s, grain="day", period="2025-10")
    assert len(days["series"]) == 31
    assert {carrier(f, "electricity")["quantity"] for f in days["series"]} == {1824}
    # gas per day 96 × 3.0 = 288 m3; a day's tce 1824 × 0.1229/1000 + 288 × 1.2143/1000
    assert days["series"][4]["tce"] == pytest.approx(0.2241696 + 0.3497184)
    # the days add up to the month: the same (monthly) coefficients
    assert sum(f["tce"] for f in days["series"]) == pytest.approx(days["total"]["tce"])
    assert days["total"]["tce"] == pytest.approx(17.790528)


def test_month_year_and_custom_grains(conn, tree):
    s = tree.ids["S"]
    months = eq.consumption(conn, s, grain="month", period="2025", carrier="electricity")
    by = {f["period"]["label"]: carrier(f, "electricity") for f in months["series"]}
    assert list(by) == [f"2025-{m:02d}" for m in range(1, 13)]
    # September: 30 × 96 = 2880 quarters; 2880 × 1.5 × 10 − 2880 × 0.5 = 43 200 − 1 440
    assert by["2025-09"]["quantity"] == 41760
    # February: 28 × 96 = 2688; 2688 × 10 − 2688 × 0.5 = 25 536
    assert by["2025-02"]["quantity"] == 25536
    # no readings in December: null, never zero
    assert by["2025-12"]["quantity"] is None and by["2025-12"]["coverage"] == 0
    year = eq.consumption(conn, s, grain="year", start=date(2024, 1, 1), end=date(2026, 1, 1),
                          carrier="electricity")
    y25 = carrier(year["series"][1], "electricity")
    # 2025, IN1: 96 × 10 × (243 days × 1.0 [Jan–Aug] + 30 × 1.5 + 31 × 2.0) = 336 000,
    # plus 1 November until 12:00: 48 × 10 = 480 → 336 480 kWh;
    # EXP: 96 × (243 × 0.5 + 30 × 0.5 + 31 × 1.0) + 48 × 0.5 = 16 080 + 24 = 16 104 kWh
    assert (y25["in"], y25["out"], y25["quantity"]) == (336480, 16104, 320376)
    # covered: 1 January to 1 November 12:00 = 304.5 of 365 days
    assert y25["coverage"] == pytest.approx(304.5 / 365, abs=1e-6) and not y25["complete"]
    week = eq.consumption(conn, s, period="2025-10-01/2025-10-08", carrier="electricity")
    assert carrier(week["total"], "electricity")["quantity"] == 7 * 1824
    assert week["period"]["grain"] == "custom"


def test_partial_periods_are_flagged_never_zero_filled(conn, tree):
    r = eq.consumption(conn, tree.ids["S"], grain="day", start=date(2025, 10, 31),
                       end=date(2025, 11, 3), carrier="electricity")
    d31, n1, n2 = (carrier(f, "electricity") for f in r["series"])
    assert d31["complete"] and d31["quantity"] == 1824
    # 1 November, data until 12:00: 48 × 10 − 48 × 0.5 = 456 kWh, half covered
    assert (n1["quantity"], n1["coverage"], n1["complete"]) == (456, 0.5, False)
    assert (n2["quantity"], n2["coverage"], n2["complete"]) == (None, 0.0, False)
    assert r["series"][2]["tce"] is None
    assert not r["total"]["complete"] and r["total"]["coverage"] == pytest.approx(0.5)
    hours = eq.consumption(conn, tree.ids["S"], grain="hour", period="2025-11-01",
                           carrier="electricity")
    values = [carrier(f, "electricity")["quantity"] for f in hours["series"]]
    assert values[:12] == [38] * 12 and values[12:] == [None] * 12


# -- year-on-year and period-on-period -----------------------------------------------------
def test_yoy_and_mom_arithmetic(conn, tree):
    r = eq.consumption(conn, tree.ids["S"], period="2025-10", compare=["yoy", "mom"])
    fig = r["total"]
    el = carrier(fig, "electricity")
    # year before, October 2024: 2976 × 10 − 2976 × 0.5 = 28 272 kWh → +28 272, +100 %
    assert el["yoy"]["period"]["label"] == "2024-10"
    assert (el["yoy"]["previous"], el["yoy"]["change"], el["yoy"]["change_pct"]) == (
        28272, 28272, 100)
    # month before, September 2025: 41 760 kWh → 56 544 − 41 760 = 14 784, ÷ 41 760 = 35.4023 %
    assert el["mom"]["period"]["label"] == "2025-09"
    assert (el["mom"]["previous"], el["mom"]["change"]) == (41760, 14784)
    assert el["mom"]["change_pct"] == pytest.approx(35.402299, abs=1e-6)
    assert el["mom"]["reason"] is None and el["mom"]["unit"] == "kWh"
    # tce: October 2024 = 28 272 × 0.1229/1000 + 5 952 × 1.2143/1000 = 3.4746288 + 7.2275136
    assert fig["yoy"]["previous"] == pytest.approx(10.7021424)
    assert fig["yoy"]["change"] == pytest.approx(17.790528 - 10.7021424)
    assert fig["yoy"]["change_pct"] == pytest.approx(
        (17.790528 - 10.7021424) / 10.7021424 * 100, abs=1e-6)
    assert fig["yoy"]["unit"] == "tce"


def test_each_bucket_of_a_series_is_compared(conn, tree):
    r = eq.consumption(conn, tree.ids["S"], grain="day", period="2025-10",
                       carrier="electricity", compare=["mom", "yoy"])
    first = carrier(r["series"][0], "electricity")
    # 1 October vs 30 September: 1824 vs 96 × 15 − 96 × 0.5 = 1392 → +432, +31.0345 %
    assert first["mom"]["period"]["label"] == "2025-09-30"
    assert (first["mom"]["previous"], first["mom"]["change"]) == (1392, 432)
    assert first["mom"]["change_pct"] == pytest.approx(432 / 1392 * 100, abs=1e-6)
    # vs 1 October 2024: 96 × 10 − 96 × 0.5 = 912
    assert first["yoy"]["previous"] == 912 and first["yoy"]["period"]["label"] == "2024-10-01"
    assert carrier(r["series"][1], "electricity")["mom"]["change"] == 0


def test_comparison_reasons(conn, tree):
    s = tree.ids["S"]
    months = eq.consumption(conn, s, grain="month", period="2025", carrier="electricity",
                            compare=["yoy", "mom"])
    by = {f["period"]["label"]: carrier(f, "electricity") for f in months["series"]}
    assert by["2025-01"]["yoy"]["reason"] == "base_no_data"  # nothing in January 2024
    assert by["2025-11"]["mom"]["reason"] == "current_incomplete"
    assert by["2025-12"]["mom"]["reason"] == "no_data"
    assert by["2025-12"]["mom"]["reason_text"]["zh-CN"] == "本期无数据"
    # two days, complete now; a year earlier only 1 October 2024 has data
    r = eq.consumption(conn, s, period="2025-09-30/2025-10-02", carrier="electricity",
                       compare=["yoy"])
    yoy = carrier(r["total"], "electricity")["yoy"]
    assert yoy["reason"] == "base_incomplete" and yoy["change"] is None
    assert yoy["previous"] == 912 and not yoy["previous_complete"]
    zero = eq._compare(5.0, True, 0.0, True, {}, "kWh")
    assert (zero["change"], zero["change_pct"], zero["reason"]) == (5.0, None, "base_zero")
    negative = eq._compare(-50.0, True, -100.0, True, {}, "kWh")
    assert (negative["change"], negative["change_pct"]) == (50.0, 50.0)


# -- drill-down ----------------------------------------------------------------------------
def test_drilldown_shows_the_remainder(conn, tree):
    r = eq.drilldown(conn, tree.ids["S"], period="2025-10", compare=["mom"])
    assert r["figure"]["tce"] == pytest.approx(17.790528)
    (w,) = r["children"]
    assert w["node"] == "W" and w["kind"] == "workshop"
    # W's boundary: W1 in, 2976 × 8.0 = 23 808 kWh; 23 808 × 0.1229/1000 = 2.9260032 tce
    assert carrier(w, "electricity")["quantity"] == 23808
    assert w["tce"] == pytest.approx(2.9260032)
    assert w["share_pct"] == pytest.approx(2.9260032 / 17.790528 * 100, abs=1e-6)
    rest = r["unattributed"]
    # electricity: 56 544 − 23 808 = 32 736 kWh; gas: 8 928 − 0 (W has no gas meter)
    assert carrier(rest, "electricity")["quantity"] == 32736
    assert carrier(rest, "natural_gas")["quantity"] == 8928
    assert rest["tce"] == pytest.approx(17.790528 - 2.9260032)
    assert rest["losses_and_unmetered_tce"] == pytest.approx(rest["tce"])
    assert rest["electricity"]["quantity"] == 32736 and "generated_by_children" not in rest
    assert rest["label"]["en"].startswith("not attributed to a child node")
    # identity: node = Σ children + remainder
    assert r["figure"]["tce"] == pytest.approx(w["tce"] + rest["tce"])
    assert r["by_carrier"][0] == {"carrier": "electricity", "unit": "kWh", "node": 56544,
                                  "children": [{"node": "W", "quantity": 23808}],
                                  "unattributed": 32736}
    # September: S 41 760, W 2880 × 6.0 = 17 280 → 24 480 kWh; +8 256 kWh, +33.7255 %
    mom = carrier(rest, "electricity")["mom"]
    assert (mom["previous"], mom["change"]) == (24480, 8256)
    assert mom["change_pct"] == pytest.approx(8256 / 24480 * 100, abs=1e-6)
    # one level up, the site is E's only child: nothing unattributed
    up = eq.drilldown(conn, tree.ids["E"], period="2025-10")
    assert [c["node"] for c in up["children"]] == ["S"]
    assert up["unattributed"]["tce"] == pytest.approx(0, abs=1e-9)


# -- renewable generation inside a node -------------------------------------------------------
#: A second tree, October 2025 only: enterprise F → site T → PV plant TPV and workshop TW.
#: Increments per 15 minutes, constant from 2025-10-01 00:00 to 2025-11-01 00:00 local
#: (2 976 intervals):
#:
#: * G1  — electricity into T from the grid, 10 kWh;     X1 — electricity out of T, 1 kWh;
#: * PV1 — solar PV electricity from TPV to T, 4 kWh;   W2 — electricity from T to TW, 12.5 kWh
#:   (grid 10 − 1 + PV 4 = 13 kWh reach T's busbar: 0.5 kWh is lost on it);
#: * FS  — natural gas into T as feedstock (原料用能), 1 m3.
SOLAR_RATES = {"G1": 10.0, "X1": 1.0, "PV1": 4.0, "W2": 12.5, "FS": 1.0}
SOLAR_METERS = (
    {"code": "G1", "name_zh": "电网进线", "name_en": "Grid", "carrier": "electricity",
     "unit": "kWh", "level": 1, "node": "T", "flow_to": "T"},
    {"code": "X1", "name_zh": "上网", "name_en": "Export", "carrier": "electricity",
     "unit": "kWh", "level": 1, "node": "T", "flow_from": "T"},
    {"code": "PV1", "name_zh": "光伏", "name_en": "PV", "carrier": "electricity_pv",
     "unit": "kWh", "level": 2, "node": "TPV", "flow_from": "TPV", "flow_to": "T"},
    {"code": "W2", "name_zh": "车间", "name_en": "Workshop", "carrier": "electricity",
     "unit": "kWh", "level": 2, "node": "TW", "flow_from": "T", "flow_to": "TW"},
    {"code": "FS", "name_zh": "原料气", "name_en": "Feedstock gas", "carrier": "natural_gas",
     "unit": "m3", "level": 1, "node": "T", "flow_to": "T", "energy_use": "feedstock"},
)
SOLAR_LAST_US = local_us(2025, 11, 1)


def build_solar(engine) -> dict[str, int]:
    """The nodes and meters of the PV tree, readings ingested; codes → ids.  The engine's
    database is migrated and has its carriers."""
    with Session(engine) as s, s.begin():
        for code, kind, parent in (("F", "enterprise", None), ("T", "site", "F"),
                                   ("TPV", "facility", "T"), ("TW", "workshop", "T")):
            org.create(s, {"code": code, "name_zh": f"节点{code}", "name_en": f"Node {code}",
                           "kind": kind, "parent": parent})
        for payload in SOLAR_METERS:
            meters.create(s, payload)
        ids = dict(s.execute(select(Node.code, Node.id)).all())
        ids.update(dict(s.execute(select(Meter.code, Meter.id)).all()))
    ts = np.arange(local_us(2025, 10, 1), SOLAR_LAST_US + 1, Q, dtype=np.int64)
    for payload in SOLAR_METERS:
        code = payload["code"]
        register = 1000.0 + SOLAR_RATES[code] * np.arange(len(ts))
        batch = ingest.ReadingBatch(np.full(len(ts), ids[code]), ts, register, None, None, None)
        with engine.begin() as c:
            ingest.ingest(c, batch, "test", f"solar fixture {code}")
    return ids


@pytest.fixture(scope="module")
def solar(tmp_path_factory):
    path = tmp_path_factory.mktemp("energy_query_solar") / "solar.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    with Session(engine) as s, s.begin():
        meters.seed_carriers(s)
    ids = build_solar(engine)
    with engine.connect() as c:
        yield c, ids
    engine.dispose()


def test_pv_plant_nets_to_zero_by_hand(solar):
    c, ids = solar
    r = eq.consumption(c, ids["TPV"], period="2025-10")
    fig = r["total"]
    pv = carrier(fig, "electricity_pv")
    # PV1 leaves TPV: generated 2 976 × 4 = 11 904 kWh and supplied out 11 904 kWh → 0
    assert (pv["in"], pv["out"], pv["generated"], pv["quantity"]) == (0, 11904, 11904, 0)
    assert (fig["tce"], fig["renewable_tce"], fig["control_total_tce"]) == (0, 0, 0)
    # the supply out is deducted as export: 11 904 × 0.1229 / 1000 = 1.4630016 tce
    assert fig["export_tce"] == pytest.approx(1.4630016)
    ne = ed.node_energy(c, ids["TPV"], ed.parse_period("2025-10")).totals
    assert (ne.total_tce, ne.renewable_tce) == (0, 0)
    assert ne.export_tce == pytest.approx(fig["export_tce"])
    # the trace shows both contributions of the one meter
    t = eq.trace(c, ids["TPV"], period="2025-10")
    assert [(m["meter"], m["role"], m["boundary_role"], m["sign"], m["use"], m["tce"])
            for m in t["meters"]] == [
        ("PV1", "generated", "out", 1, "fuel", pytest.approx(1.4630016)),
        ("PV1", "out", "out", -1, "export", pytest.approx(-1.4630016))]
    assert carrier(t["figure"], "electricity_pv")["arithmetic"] == (
        "+ 11904 (PV1, generated) − 11904 (PV1, out) = 0 kWh")
    # real time: 4 kWh per 15 min = 16 kW, which leaves as it is made: net 0
    live = eq.realtime(c, ids["TPV"], now_us=SOLAR_LAST_US + 60 * US)
    (row,) = live["meters"]
    assert (row["role"], row["sign"], row["rate"]) == ("out", 0, 16)
    assert [x["role"] for x in row["contributions"]] == ["generated", "out"]
    assert live["net"][0]["rate"] == 0 and live["net"][0]["complete"]


def test_site_with_pv_and_feedstock_by_hand(solar):
    c, ids = solar
    r = eq.consumption(c, ids["T"], period="2025-10")
    fig = r["total"]
    el, pv, gas = (carrier(fig, k) for k in ("electricity", "electricity_pv", "natural_gas"))
    # grid: 2 976 × 10 = 29 760 in, 2 976 × 1 = 2 976 out → 26 784 kWh; PV1 generated inside
    # T and used there: 11 904 kWh; W2 flows inside T: not counted
    assert (el["in"], el["out"], el["quantity"]) == (29760, 2976, 26784)
    assert (pv["generated"], pv["out"], pv["quantity"]) == (11904, 0, 11904)
    # feedstock: in the physical quantity (2 976 m3), outside the total:
    # 2 976 × 1.2143 / 1000 = 3.6137568 tce as feedstock_tce
    assert gas["quantity"] == 2976 and gas["tce"] == 0
    assert fig["feedstock_tce"] == pytest.approx(3.6137568)
    # tce: 26 784 × 0.1229 / 1000 = 3.2917536; 11 904 × 0.1229 / 1000 = 1.4630016
    assert fig["tce"] == pytest.approx(4.7547552)
    assert fig["renewable_tce"] == pytest.approx(1.4630016)
    assert fig["control_total_tce"] == pytest.approx(3.2917536)
    assert fig["export_tce"] == pytest.approx(0.3657504)  # 2 976 × 0.1229 / 1000
    ne = ed.node_energy(c, ids["T"], ed.parse_period("2025-10")).totals
    for name, value in (("tce", ne.total_tce), ("tce_equal_value", ne.total_tce_equal_value),
                        ("renewable_tce", ne.renewable_tce), ("export_tce", ne.export_tce),
                        ("feedstock_tce", ne.feedstock_tce),
                        ("control_total_tce", ne.control_total_tce)):
        assert fig[name] == pytest.approx(value, rel=1e-12), name
    # the trace adds feedstock in (+), as the physical quantity does; its tce sign is 0
    t = eq.trace(c, ids["T"], period="2025-10", carrier="natural_gas")
    (fs,) = t["meters"]
    assert (fs["sign"], fs["use"], fs["signed_quantity"], fs["tce"]) == (0, "feedstock", 2976, 0)
    assert carrier(t["figure"], "natural_gas")["arithmetic"] == "+ 2976 (FS, in) = 2976 m3"


def test_site_with_pv_remainder_is_the_busbar_loss_by_hand(solar):
    c, ids = solar
    r = eq.drilldown(c, ids["T"], period="2025-10")
    kids = {k["node"]: k for k in r["children"]}
    assert kids["TPV"]["tce"] == 0 and kids["TPV"]["share_pct"] == 0
    # TW: 2 976 × 12.5 = 37 200 kWh, 37 200 × 0.1229 / 1000 = 4.57188 tce
    assert carrier(kids["TW"], "electricity")["quantity"] == 37200
    assert kids["TW"]["tce"] == pytest.approx(4.57188)
    rest = r["unattributed"]
    assert "generated_by_children" not in rest
    # per carrier, T − TPV − TW: grid 26 784 − 37 200 = −10 416 kWh (the workshop's meter
    # holds the PV it used); PV 11 904 − 0 = 11 904 kWh; gas 2 976 m3 (feedstock, no child)
    assert carrier(rest, "electricity")["quantity"] == -10416
    assert carrier(rest, "electricity_pv")["quantity"] == 11904
    assert carrier(rest, "natural_gas")["quantity"] == 2976
    # all electricity together: 11 904 − 10 416 = 1 488 kWh = 2 976 × 0.5, the busbar loss
    assert rest["electricity"]["quantity"] == 1488
    # tce 4.7547552 − 0 − 4.57188 = 0.1828752 = 1 488 × 0.1229 / 1000: losses only
    # (the remainder is given to 6 decimals)
    assert rest["tce"] == pytest.approx(0.1828752, abs=1e-6)
    assert rest["losses_and_unmetered_tce"] == rest["tce"]
    # at equal value (grid electricity only, GB/T 2589-2020 4.4) the PV the workshop took
    # through its grid meter is valued at the equal value there but at 0.1229 where it was
    # made: remainder = 1 488 × ev + 11 904 × (0.1229 − ev), kgce → tce
    ev = ed.library_for(c, None, date(2025, 10, 1), date(2025, 11, 1)).equal_value.kgce_per_kwh
    assert rest["tce_equal_value"] == pytest.approx(
        (1488 * ev + 11904 * (E_KGCE - ev)) / 1000, abs=1e-6)
    assert r["figure"]["tce"] == pytest.approx(kids["TPV"]["tce"] + kids["TW"]["tce"]
                                               + rest["tce"])
    # real time at T: 40 kW from the grid − 4 kW exported; 16 kW of PV generated inside
    live = eq.realtime(c, ids["T"], now_us=SOLAR_LAST_US + 60 * US)
    net = {n["carrier"]: n["rate"] for n in live["net"]}
    assert net == {"electricity": 36, "electricity_pv": 16, "natural_gas": 4}


# -- real-time values ------------------------------------------------------------------------
def test_realtime_power_and_staleness(conn, tree):
    r = eq.realtime(conn, tree.ids["S"], now_us=LAST_US + 600 * US)
    rows = {m["meter"]: m for m in r["meters"]}
    assert set(rows) == {"IN1", "EXP", "GAS"}  # boundary meters only (W1 is internal)
    in1 = rows["IN1"]
    assert in1["last_reading"] == "2025-11-01T12:00:00+08:00"
    # register: 1000 + Σ increments; last interval 1.0 × 10 = 10 kWh in 900 s → 40 kW
    assert in1["last_interval"]["value"] == 10 and in1["last_interval"]["seconds"] == 900
    assert (in1["rate"], in1["rate_unit"]) == (40, "kW")
    assert (in1["age_s"], in1["status"]) == (600, "online")
    assert (rows["EXP"]["rate"], rows["GAS"]["rate"], rows["GAS"]["rate_unit"]) == (2, 8, "m3/h")
    net = {n["carrier"]: n for n in r["net"]}
    assert net["electricity"]["rate"] == 38  # 40 kW in − 2 kW out
    # 2 701 s > 3 × 900 s: stale, and no net figure from stale meters
    late = eq.realtime(conn, tree.ids["S"], now_us=LAST_US + 2701 * US,
                       carrier="electricity")
    assert {m["status"] for m in late["meters"]} == {"stale"}
    assert late["meters"][0]["status_text"]["zh-CN"].startswith("数据滞后")
    assert late["net"][0]["rate"] is None and not late["net"][0]["complete"]
    edge = eq.realtime(conn, tree.ids["W"], now_us=LAST_US + 2700 * US)
    assert [(m["meter"], m["status"], m["rate"]) for m in edge["meters"]] == [
        ("W1", "online", 16)]  # 4 kWh per 15 min


# -- tracing -------------------------------------------------------------------------------
def test_trace_goes_down_to_rollups_and_readings(conn, tree):
    r = eq.trace(conn, tree.ids["S"], period="2025-10", carrier="electricity")
    assert carrier(r["figure"], "electricity")["quantity"] == 56544
    rows = {m["meter"]: m for m in r["meters"]}
    assert set(rows) == {"IN1", "EXP"}
    in1, exp = rows["IN1"], rows["EXP"]
    assert (in1["role"], in1["sign"], in1["quantity"], in1["signed_quantity"]) == (
        "in", 1, 59520, 59520)
    assert (exp["role"], exp["sign"], exp["signed_quantity"]) == ("out", -1, -2976)
    assert in1["conversion"]["multiplier"] == 10 and in1["conversion"]["unit_factor"] == 1
    assert in1["rollups"] == [{"table": "rollup_month", "key": "2025-10-01", "value": 59520,
                               "coverage_s": 2678400, "expected_s": 2678400, "flags": []}]
    assert in1["coefficient"]["kgce_per_unit"] == E_KGCE
    # 59 520 × 0.1229 / 1000 = 7.314...; the export −2 976 × 0.1229 / 1000
    assert in1["tce"] == pytest.approx(7.315008) and exp["tce"] == pytest.approx(-0.3657504)
    mid = tree.ids["IN1"]
    # one interval either side: the differences of the intervals at the edges need them
    assert in1["links"]["readings"] == (
        f"/api/meters/{mid}/readings?start=2025-09-30T15:45:00Z&end=2025-10-31T16:15:00Z")
    assert in1["links"]["intervals"] == (
        f"/api/meters/{mid}/intervals?start=2025-09-30T16:00:00Z&end=2025-10-31T16:00:00Z")
    (batch,) = in1["batches"]
    # 2 976 differences need 2 977 readings (1 Oct 00:00 .. 1 Nov 00:00 local), and the one
    # before (the window's end is exclusive: 1 Nov 00:15 is not in it)
    assert batch["readings"] == 2978 and batch["source"] == "test"
    assert batch["source_detail"] == "energy query fixture IN1"
    assert carrier(r["figure"], "electricity")["arithmetic"] == (
        "+ 59520 (IN1, in) − 2976 (EXP, out) = 56544 kWh")
    # a partial month: whole days from rollup_day
    part = eq.trace(conn, tree.ids["S"], start=date(2025, 10, 30), end=date(2025, 11, 2),
                    carrier="natural_gas")
    (gas,) = part["meters"]
    assert [x["key"] for x in gas["rollups"]] == ["2025-10-30", "2025-10-31", "2025-11-01"]
    assert gas["quantity"] == 288 + 288 + 96 and not gas["complete"]


# -- inputs and efficiency -----------------------------------------------------------------
@pytest.mark.parametrize("kwargs, rule", [
    ({}, "rule.eq_period_or_range"),
    ({"period": "2025-10", "start": date(2025, 10, 1)}, "rule.eq_period_or_range"),
    ({"start": date(2025, 10, 1)}, "rule.required"),
    ({"period": "2025", "grain": "hour"}, "rule.eq_too_long"),
    ({"period": "2025-10", "grain": "week"}, "rule.choice"),
    ({"period": "2025-10", "compare": ["wow"]}, "rule.choice"),
    ({"period": "2025-10", "carrier": "unobtainium"}, "rule.ref_unknown"),
    ({"start": datetime(2025, 10, 1, 8), "end": date(2025, 10, 2), "grain": "day"},
     "rule.eq_dates"),
    ({"start": date(2025, 10, 2), "end": date(2025, 10, 1)}, "rule.period"),
])
def test_bad_inputs(conn, tree, kwargs, rule):
    with pytest.raises(InputError) as err:
        eq.consumption(conn, tree.ids["S"], **kwargs)
    assert err.value.issues[0].rule == rule


def test_sub_day_windows_are_widened_to_whole_buckets(conn, tree):
    r = eq.consumption(conn, tree.ids["S"], grain="interval", carrier="electricity",
                       start=datetime(2025, 10, 5, 10, 7), end=datetime(2025, 10, 5, 11))
    assert [f["period"]["label"][11:16] for f in r["series"]] == [
        "10:00", "10:15", "10:30", "10:45"]
    assert carrier(r["total"], "electricity")["quantity"] == 4 * 19


def test_month_series_reads_one_rollup_query_per_set(conn, tree):
    """A year of months with both comparisons: one rollup_month query per set of figures
    (current, month before, year before), no day rollups and no raw readings."""
    statements = []

    def spy(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(tree.engine, "before_cursor_execute", spy)
    try:
        eq.consumption(conn, tree.ids["S"], grain="month", period="2025",
                       compare=["yoy", "mom"])
    finally:
        event.remove(tree.engine, "before_cursor_execute", spy)

    def count(table):
        return sum(f"FROM {table}" in s for s in statements)

    # the whole-year total's month-before is December 2024 ... November 2025 (whole months)
    assert count("rollup_month") == 3
    assert count("rollup_day") == 0 and count("readings") == 0


# -- PostgreSQL --------------------------------------------------------------------------
@pytest.mark.postgres
def test_the_same_answers_on_postgresql(pg_engine):
    ids = build_tree(pg_engine)
    with pg_engine.connect() as c:
        r = eq.consumption(c, ids["S"], grain="day", period="2025-10", compare=["yoy", "mom"])
        assert r["total"]["tce"] == pytest.approx(17.790528)
        assert carrier(r["total"], "electricity")["mom"]["change"] == 14784
        assert carrier(r["series"][0], "electricity")["quantity"] == 1824
        hours = eq.consumption(c, ids["S"], grain="hour", period="2025-11-01",
                               carrier="electricity")
        assert [carrier(f, "electricity")["quantity"] for f in hours["series"]][11:13] == [
            38, None]
        quarters = eq.consumption(c, ids["S"], grain="interval", period="2025-10-05",
                                  carrier="electricity")
        assert carrier(quarters["series"][0], "electricity")["quantity"] == pytest.approx(19)
        rest = eq.drilldown(c, ids["S"], period="2025-10")["unattributed"]
        assert carrier(rest, "electricity")["quantity"] == 32736
        live = eq.realtime(c, ids["S"], now_us=LAST_US + 600 * US)
        assert {m["meter"]: m["rate"] for m in live["meters"]} == {"IN1": 40, "EXP": 2,
                                                                   "GAS": 8}
        trace = eq.trace(c, ids["S"], period="2025-10", carrier="electricity")
        in1 = next(m for m in trace["meters"] if m["meter"] == "IN1")
        assert in1["batches"][0]["readings"] == 2978 and in1["quantity"] == 59520


# -- the demo park -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo park for October and November 2026 (a short build, ~2 s)."""
    from nengtan.demo import build_demo

    path = tmp_path_factory.mktemp("energy_query_demo") / "demo.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    build_demo(engine, today=date(2026, 11, 21), seed=2025, start=date(2026, 10, 1))
    with engine.connect() as c:
        yield c, dict(c.execute(select(Node.code, Node.id)).all())
    engine.dispose()


def test_demo_park_total_is_enterprises_facilities_and_remainder(demo):
    c, nodes = demo
    r = eq.drilldown(c, nodes["QLP"], period="2026-10")
    kinds = {k["node"]: k["kind"] for k in r["children"]}
    assert {"CEM", "TEX", "ELE"} <= set(kinds) and set(kinds.values()) == {"enterprise",
                                                                            "facility"}
    enterprises = sum(k["tce"] for k in r["children"] if k["kind"] == "enterprise")
    facilities = sum(k["tce"] for k in r["children"] if k["kind"] == "facility")
    park = r["figure"]["tce"]
    assert park > 1000 and r["figure"]["complete"]
    assert park == pytest.approx(enterprises + facilities + r["unattributed"]["tce"],
                                 rel=1e-9)
    assert park == pytest.approx(ed.node_energy(c, nodes["QLP"],
                                                ed.parse_period("2026-10")).totals.total_tce)
    for row in r["by_carrier"]:
        kids = sum(k["quantity"] or 0 for k in row["children"])
        assert row["node"] == pytest.approx(kids + row["unattributed"], abs=1e-3), row


def test_demo_electronics_export_is_deducted(demo):
    c, nodes = demo
    fig = eq.consumption(c, nodes["ELE"], period="2026-10")["total"]
    el = carrier(fig, "electricity")
    boundary = ed.boundary(c, nodes["ELE"])
    by_code = {m.code: m for m in boundary.meters}
    values = ed.period_values(c, [by_code["ELE-E-101"], by_code["ELE-E-102"]],
                              date(2026, 10, 1), date(2026, 11, 1))
    imported, exported = (values[by_code[k].id].value for k in ("ELE-E-101", "ELE-E-102"))
    assert exported > 0 and el["out"] == pytest.approx(exported)
    assert el["quantity"] == pytest.approx(imported - exported)
    assert el["tce"] == pytest.approx((imported - exported) * E_KGCE / 1000)
    assert fig["export_tce"] == pytest.approx(exported * E_KGCE / 1000)
    pv = carrier(fig, "electricity_pv")
    assert pv["generated"] > 0 and fig["renewable_tce"] == pytest.approx(pv["tce"])


def test_demo_pv_plant_nets_to_zero(demo):
    """ELE-PV's arrays feed the site: at the plant their power is generated and supplied out
    (energy_data.contributions), so the plant's figure is 0, not −PV."""
    c, nodes = demo
    r = eq.consumption(c, nodes["ELE-PV"], period="2026-10")
    fig = r["total"]
    pv = carrier(fig, "electricity_pv")
    assert pv["generated"] > 0 and pv["out"] == pytest.approx(pv["generated"])
    assert pv["quantity"] == pytest.approx(0, abs=1e-6) and pv["tce"] == pytest.approx(0)
    assert fig["tce"] == pytest.approx(0) and fig["control_total_tce"] == pytest.approx(0)
    # renewable generated and supplied out: nothing renewable left; the supply is the export
    assert fig["renewable_tce"] == pytest.approx(0)
    assert fig["export_tce"] == pytest.approx(pv["generated"] * E_KGCE / 1000)
    roles = sorted((m["meter"], m["role"], m["boundary_role"], m["sign"])
                   for m in r["lineage"]["meters"])
    assert roles == [("ELE-PV-201", "generated", "out", 1), ("ELE-PV-201", "out", "out", -1),
                     ("ELE-PV-202", "generated", "out", 1), ("ELE-PV-202", "out", "out", -1)]
    ne = ed.node_energy(c, nodes["ELE-PV"], ed.parse_period("2026-10")).totals
    assert ne.total_tce == pytest.approx(0) and fig["tce"] == pytest.approx(ne.total_tce)


def test_demo_electronics_site_remainder_is_losses_only(demo):
    c, nodes = demo
    r = eq.drilldown(c, nodes["ELE-S1"], period="2026-10")
    kids = {k["node"]: k for k in r["children"]}
    assert kids["ELE-PV"]["tce"] == pytest.approx(0) and kids["ELE-PV"]["share_pct"] == 0
    rest = r["unattributed"]
    assert "generated_by_children" not in rest
    by_code = {m.code: m for m in ed.boundary(c, nodes["ELE-S1"]).meters}
    values = ed.period_values(c, [by_code["ELE-PV-201"], by_code["ELE-PV-202"]],
                              date(2026, 10, 1), date(2026, 11, 1))
    generated = sum(v.value for v in values.values())
    # The PV is generated at the site (+) and nets to 0 at ELE-PV, so it stays in the
    # site's electricity_pv remainder; the workshops take it through their grid-electricity
    # meters, so the grid remainder is −PV + losses: together, the busbar's losses.
    el, pv = carrier(rest, "electricity"), carrier(rest, "electricity_pv")
    assert pv["quantity"] == pytest.approx(generated, abs=1e-6)
    assert el["quantity"] < 0
    loss = rest["electricity"]["quantity"]
    assert loss == pytest.approx(el["quantity"] + pv["quantity"], abs=1e-6)
    # a loss, positive and small: under 2 % of the site's net purchase and generation
    site = carrier(r["figure"], "electricity")["quantity"] + generated
    assert 0 < loss < 0.02 * site
    # both at 0.1229 kgce/kWh (equivalent value): the remainder's tce is the loss in tce
    assert rest["tce"] == pytest.approx(loss * E_KGCE / 1000, abs=1e-6)
    assert rest["losses_and_unmetered_tce"] == rest["tce"]
    assert r["figure"]["tce"] == pytest.approx(
        sum(k["tce"] for k in r["children"]) + rest["tce"], abs=1e-6)
    cem = eq.drilldown(c, nodes["CEM-S1"], period="2026-10")["unattributed"]
    # the cement plant's busbar: grid + waste-heat power − workshops (CEM-V-101's figure)
    assert cem["electricity"]["quantity"] > 0


@pytest.mark.parametrize("period", ["2026-10", "2026-10-01/2026-11-15"])
def test_demo_every_node_equals_node_energy(demo, period):
    """A figure of a month or more equals energy_data.node_energy for every node of the
    park (the same boundary rule, coefficients and grouping)."""
    c, nodes = demo
    p = ed.parse_period(period)
    checked = 0
    for code, node_id in sorted(nodes.items()):
        fig = eq.consumption(c, node_id, period=period)["total"]
        try:
            ne = ed.node_energy(c, node_id, p).totals
        except InputError:
            # steam without a recorded heat value: node_energy refuses, the query names it
            assert fig["missing_coefficients"], code
            continue
        checked += 1
        for name, value in (("tce", ne.total_tce), ("tce_equal_value", ne.total_tce_equal_value),
                            ("export_tce", ne.export_tce), ("feedstock_tce", ne.feedstock_tce),
                            ("renewable_tce", ne.renewable_tce),
                            ("control_total_tce", ne.control_total_tce)):
            got = fig[name] or 0.0  # null: a node without any energy meter
            assert got == pytest.approx(value, rel=1e-9, abs=1e-8), (code, name)
    assert checked > 50 and {"ELE-PV", "ELE-S1", "ELE", "QLP"} <= set(nodes)


def test_demo_interval_grain_prorates_daily_meters(demo):
    c, nodes = demo
    r = eq.consumption(c, nodes["TEX-S1"], grain="interval", period="2026-10-05")
    gas = carrier(r["series"][0], "natural_gas")
    assert "prorated" in gas["flags"] and r["total"]["complete"]
    assert not r["total"]["missing_coefficients"]


@pytest.mark.parametrize("code, kind", [("QLP", "park"), ("CEM", "enterprise"),
                                        ("TEX-S1", "site"), ("CEM-KL", "workshop"),
                                        ("ELE-SMT-L1", "line"), ("CEM-KL-DRV", "equipment")])
def test_demo_any_node_kind(demo, code, kind):
    c, nodes = demo
    r = eq.consumption(c, nodes[code], grain="day", period="2026-11-05/2026-11-08",
                       carrier="electricity", compare=["mom"])
    assert r["kind"] == kind and len(r["series"]) == 3
    el = carrier(r["total"], "electricity")
    assert el["complete"] and el["quantity"] > 0 and el["tce"] > 0
    assert el["mom"]["reason"] is None and el["mom"]["period"]["label"] == (
        "2026-11-02/2026-11-05")
