"""Data of the monthly / annual energy report: a small park by hand, and the demo park.

The small park (both databases): park P → enterprise A (site A1 → workshops W1, W2) and
enterprise B (site B1); daily interval meters with constant values per day:

    A-IN  electricity → A1  10 000 kWh      A-W1 electricity A1 → W1  6 000 kWh
    A-GAS natural gas → A1   1 000 m3       A-W2 electricity A1 → W2  3 000 kWh
    B-IN  electricity → B1   3 000 kWh

in October 2026 (×1.0), September 2026 (×0.9) and October 2025 (×0.8).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from nengtan.errors import InputError
from nengtan.i18n import catalogue
from nengtan.reports.energy import compose
from nengtan.services import energy_data, energy_report, ingest, meters, org
from nengtan.services import production as prod
from nengtan.store.models import Node

TZ = ZoneInfo("Asia/Shanghai")
E = 0.1229 / 1000  # tce per kWh, equivalent value (GB/T 2589-2020)
G = 1.2143 / 1000  # tce per m3 natural gas (shipped reference coefficient)
EV = 0.3007 / 1000  # tce per kWh, equal value (shipped table, latest year 2022)
DAILY = {  # code: (node, carrier, unit, flow_from, flow_to, per day)
    "A-IN": ("A1", "electricity", "kWh", None, "A1", 10_000.0),
    "A-GAS": ("A1", "natural_gas", "m3", None, "A1", 1_000.0),
    "A-W1": ("W1", "electricity", "kWh", "A1", "W1", 6_000.0),
    "A-W2": ("W2", "electricity", "kWh", "A1", "W2", 3_000.0),
    "B-IN": ("B1", "electricity", "kWh", None, "B1", 3_000.0),
}
SCALE = {(2026, 10): 1.0, (2026, 9): 0.9, (2025, 10): 0.8}
OCT = energy_report.report_period("2026-10")


def _month_days(y: int, m: int) -> int:
    return ((date(y + (m == 12), m % 12 + 1, 1)) - date(y, m, 1)).days


@pytest.fixture
def park(engine):
    with Session(engine) as s, s.begin():
        for code, kind, parent in (("P", "park", None), ("A", "enterprise", "P"),
                                   ("A1", "site", "A"), ("W1", "workshop", "A1"),
                                   ("W2", "workshop", "A1"), ("B", "enterprise", "P"),
                                   ("B1", "site", "B")):
            org.create(s, {"code": code, "name_zh": f"节点{code}", "name_en": f"Node {code}",
                           "kind": kind, "parent": parent})
        ids = {}
        for code, (node, carrier, unit, frm, to, _) in DAILY.items():
            ids[code] = meters.create(s, {
                "code": code, "name_zh": code, "node": node, "carrier": carrier, "unit": unit,
                "register": "interval", "interval_s": 86400, "flow_from": frm, "flow_to": to,
                "level": 1}).id
        prod.upsert_product(s, {"code": "X", "name_zh": "产品X", "name_en": "Product X",
                                "unit": "t"})
        prod.upsert_production(s, {"node": "A", "product": "X", "period_start": date(2026, 10, 1),
                                   "period_end": date(2026, 10, 31), "quantity": 500.0})
        prod.upsert_economic(s, {"node": "A", "period_start": date(2026, 10, 1),
                                 "period_end": date(2026, 10, 31), "output_value": 2_000_000.0,
                                 "added_value": 500_000.0})
    for (y, m), k in SCALE.items():
        n = _month_days(y, m)
        start = int(datetime(y, m, 1, tzinfo=TZ).timestamp()) * 1_000_000
        ts = start + np.arange(n, dtype=np.int64) * 86400 * 1_000_000
        batch = ingest.ReadingBatch(
            np.repeat([ids[c] for c in DAILY], n), np.tile(ts, len(DAILY)),
            np.repeat([v[5] * k for v in DAILY.values()], n), np.zeros(n * len(DAILY), np.int16))
        with engine.begin() as conn:
            ingest.ingest(conn, batch, "test")
    with engine.connect() as conn:
        nodes = dict(conn.execute(select(Node.code, Node.id)).all())
    return engine, nodes


def _fig(data: dict, key: str) -> dict:
    return next(f for f in data["figures"] if f["key"] == key)


def test_report_period_is_a_month_or_a_year():
    assert energy_report.report_period("2026-10").grain == "month"
    assert energy_report.report_period("2026").grain == "year"
    for bad in ("2026-13", "2026-Q3", "2026-10-05", "2026-10-01/2026-11-01", "", "10/2026"):
        with pytest.raises(InputError) as exc:
            energy_report.report_period(bad)
        assert exc.value.issues[0].rule == "rule.report_period"
        assert exc.value.issues[0].field == "period"


def test_monthly_report_of_the_park_by_hand(park):
    engine, n = park
    with engine.connect() as conn:
        data = energy_report.assemble(conn, n["P"], OCT).as_dict()
    # October 2026: electricity (10 000 + 3 000) × 31 kWh, gas 1 000 × 31 m3
    # T = 403 000 × 0.0001229 + 31 000 × 0.0012143 = 49.5287 + 37.6433 = 87.1720 tce
    t = 13_000 * 31 * E + 1_000 * 31 * G
    assert t == pytest.approx(87.1720, abs=1e-4)
    assert data["totals"]["total_tce"] == pytest.approx(t)
    # equal value: grid electricity at 0.3007 kgce/kWh: 403 000 × 0.0003007 + 37.6433
    assert data["totals"]["total_tce_equal_value"] == pytest.approx(
        13_000 * 31 * EV + 1_000 * 31 * G)
    total = _fig(data, "total_tce")
    # September ×0.9 over 30 days: MoM = 31 / (30 × 0.9) − 1 = 14.8148 %
    assert total["previous"] == pytest.approx(t * 30 * 0.9 / 31)
    assert total["mom_pct"] == pytest.approx((31 / 27 - 1) * 100)
    # October 2025 ×0.8: YoY = 1 / 0.8 − 1 = 25 %
    assert total["yoy_pct"] == pytest.approx(25.0)
    assert data["coverage"]["complete"] and data["coverage"]["meters"] == 3
    # children: the two enterprises, each on its own boundary, nothing left over
    kids = {c["node"]: c for c in data["children"]["items"]}
    assert kids["A"]["total_tce"] == pytest.approx(10_000 * 31 * E + 1_000 * 31 * G)
    assert kids["B"]["total_tce"] == pytest.approx(3_000 * 31 * E)
    assert kids["B"]["yoy_pct"] == pytest.approx(25.0)
    assert kids["A"]["share"] + kids["B"]["share"] == pytest.approx(1.0)
    assert data["children"]["remainder_tce"] == pytest.approx(0.0, abs=1e-9)
    # A makes 500 t of X: (10 000 × 31 × 0.0001229 + 37.6433) × 1000 / 500 kgce/t
    assert kids["A"]["products"][0]["kgce_per_unit"] == pytest.approx(
        kids["A"]["total_tce"] * 1000 / 500)
    # the daily trend adds up to the month's total, one point per day
    points = data["trend"]["points"]
    assert data["trend"]["grain"] == "day" and len(points) == 31
    assert sum(p["total_tce"] for p in points) == pytest.approx(t)
    assert points[0]["by_carrier"]["natural_gas"] == pytest.approx(1_000 * G)
    # structure by carrier: shares of the consumption
    st = {s["carrier"]: s for s in data["structure"]}
    assert st["electricity"]["tce"] == pytest.approx(13_000 * 31 * E)
    assert st["natural_gas"]["share"] == pytest.approx(1_000 * 31 * G / t)
    # intensity: output value of A (2 000 000 CNY) is the park's: T ÷ 200
    assert _fig(data, "tce_per_10k_cny_output")["value"] == pytest.approx(t / 200)
    # lineage: each coefficient with source and status; the equal value is unverified
    lin = data["lineage"]
    assert {c["carrier"] for c in lin["coefficients"]} == {"electricity", "natural_gas"}
    assert all(c["source"] and c["status"] for c in lin["coefficients"])
    assert lin["equal_value"]["status"] == "unverified"
    assert {m["meter"] for m in lin["boundary_meters"]} == {"A-IN", "A-GAS", "B-IN"}


def test_total_matches_node_energy(park):
    engine, n = park
    per = energy_report.report_period("2026-10")
    with engine.connect() as conn:
        for code in ("P", "A", "B1", "W1"):
            data = energy_report.assemble(conn, n[code], per)
            ne = energy_data.node_energy(conn, n[code], per)
            assert data.data["totals"]["total_tce"] == ne.totals.total_tce
            assert data.data["totals"]["total_tce_equal_value"] == ne.totals.total_tce_equal_value


def test_enterprise_report_descends_to_the_workshops_of_its_only_site(park):
    engine, n = park
    with engine.connect() as conn:
        data = energy_report.assemble(conn, n["A"], OCT).as_dict()
    ch = data["children"]
    assert ch["parent"] == "A1"
    kids = {c["node"]: c["total_tce"] for c in ch["items"]}
    assert kids == pytest.approx({"W1": 6_000 * 31 * E, "W2": 3_000 * 31 * E})
    # remainder: what the site uses outside its metered workshops (1 000 kWh/day and the gas)
    assert ch["remainder_tce"] == pytest.approx(1_000 * 31 * E + 1_000 * 31 * G)
    fig = _fig(data, "kgce_per_unit")
    assert fig["product"] == "X" and fig["unit"] == "kgce/t"
    assert fig["value"] == pytest.approx((10_000 * 31 * E + 1_000 * 31 * G) * 1000 / 500)


def test_annual_report_trend_by_month(park):
    engine, n = park
    with engine.connect() as conn:
        data = energy_report.assemble(conn, n["B"], energy_report.report_period("2026")).as_dict()
    assert data["kind"] == "year"
    points = data["trend"]["points"]
    assert [p["label"] for p in points][:2] == ["2026-01", "2026-02"] and len(points) == 12
    by = {p["label"]: p["total_tce"] for p in points}
    assert by["2026-10"] == pytest.approx(3_000 * 31 * E)
    assert by["2026-09"] == pytest.approx(3_000 * 30 * 0.9 * E)
    assert by["2026-01"] is None  # no data: a gap, not zero
    before = {p["label"]: p["total_tce"] for p in data["trend"]["year_before"]}
    assert before["2025-10"] == pytest.approx(3_000 * 31 * 0.8 * E)
    # the year is incomplete (two months of data): no change in percent, a warning
    assert not data["coverage"]["complete"]
    assert _fig(data, "total_tce")["yoy_pct"] is None
    assert _fig(data, "total_tce")["mom_pct"] is None  # no month-on-month in an annual report
    assert data["comparison"]["previous"] is None


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_document_in_both_languages(park, lang):
    engine, n = park
    with engine.connect() as conn:
        data = energy_report.assemble(conn, n["P"], energy_report.report_period("2026-10"),
                                      sections=set()).as_dict()
    doc = compose(data, lang)
    assert [s.key for s in doc.sections] == ["figures", "children", "structure", "trend",
                                             "intensity", "lineage"]
    assert doc.sections[2].title == ("3. Energy structure by carrier" if lang == "en"
                                     else "三、能源消费结构")
    assert doc.title == ("节点P 能源月报" if lang == "zh-CN" else "Node P — monthly energy report")
    texts = _texts(doc.as_dict())
    leaked = [x for x in texts if "report.energy." in x or ("{" in x and x != doc.page_label)]
    assert leaked == []
    assert doc.filename == f"nengtan-energy-report-P-2026-10-{lang}"
    figures = doc.section("figures").tables()[0]
    assert figures.rows[0][1] == pytest.approx(data["totals"]["total_tce"])
    assert figures.rows[0][-1] == pytest.approx(0.25)  # YoY as a fraction for the renderers


def test_a_failing_optional_section_is_named_not_hidden(park, monkeypatch):
    engine, n = park

    def broken(conn, mod, node_id, period):
        raise ValueError("tariff table is inconsistent")

    monkeypatch.setattr(energy_report, "OPTIONAL", (("cost", "nengtan.services.energy_data",
                                                     broken),))
    with engine.connect() as conn:
        data = energy_report.assemble(conn, n["P"], energy_report.report_period("2026-10"))
    d = data.as_dict()
    assert d["sections"] == {}
    assert d["skipped"] == [{"section": "cost",
                             "reason": "ValueError: tariff table is inconsistent"}]
    doc = compose(d, "en")
    notes = [b.text for b in doc.section("lineage").blocks if hasattr(b, "style")]
    assert any("Energy cost" in t and "tariff table is inconsistent" in t for t in notes)


def test_an_uninstalled_optional_service_is_left_out_silently(park, monkeypatch):
    engine, n = park
    monkeypatch.setattr(energy_report, "OPTIONAL", (("cost", "nengtan.services.no_such", None),))
    with engine.connect() as conn:
        d = energy_report.assemble(conn, n["P"], energy_report.report_period("2026-10")).as_dict()
    assert d["sections"] == {} and d["skipped"] == []


def _texts(obj) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [t for v in obj.values() for t in _texts(v)]
    if isinstance(obj, (list, tuple)):
        return [t for v in obj for t in _texts(v)]
    return []


def test_report_keys_exist_in_both_catalogues():
    zh, en = catalogue("zh-CN"), catalogue("en")
    mine = {k for k in zh if k.startswith("report.energy.")}
    assert mine and mine == {k for k in en if k.startswith("report.energy.")}


def test_unknown_node_and_bad_period(park):
    engine, n = park
    with engine.connect() as conn:
        with pytest.raises(InputError):
            energy_report.assemble(conn, n["P"], energy_data.parse_period("2026-Q3"))
        from nengtan.errors import NotFound

        with pytest.raises(NotFound):
            energy_report.node_id_of(conn, "NOPE")


# -- the demo park (SQLite, built once per session) -------------------------------------------
@pytest.fixture(scope="module")
def demo_month(full_demo):
    engine, report = full_demo
    end = report.end if isinstance(report.end, date) else date.fromisoformat(str(report.end)[:10])
    last = (end.replace(day=1) - timedelta(days=1)).replace(day=1)  # the last whole month
    return engine, f"{last:%Y-%m}"


def test_demo_park_monthly_report(demo_month):
    engine, month = demo_month
    per = energy_report.report_period(month)
    with engine.connect() as conn:
        qlp = energy_report.node_id_of(conn, "QLP")
        data = energy_report.assemble(conn, qlp, per).as_dict()
        ne = energy_data.node_energy(conn, qlp, per)
    t = data["totals"]["total_tce"]
    assert t == pytest.approx(ne.totals.total_tce) and t > 1000
    assert data["coverage"]["complete"]
    # every enterprise of the park, and the park's facilities; they add up to the park
    kids = {c["node"]: c for c in data["children"]["items"]}
    assert {"CEM", "TEX", "ELE"} <= set(kids)
    assert sum(c["total_tce"] for c in kids.values()) + data["children"]["remainder_tce"] \
        == pytest.approx(t)
    assert kids["CEM"]["products"][0]["product"] == "CLINKER"
    assert 80 < kids["CEM"]["products"][0]["kgce_per_unit"] < 140  # kgce/t clinker
    assert sum(p["total_tce"] for p in data["trend"]["points"]) == pytest.approx(t)
    carriers = {c["carrier"] for c in data["structure"]}
    assert {"electricity", "bituminous_coal", "natural_gas", "electricity_pv"} <= carriers
    assert data["totals"]["renewable_tce"] > 0  # rooftop PV of ELE
    # measured coal NCV: the coefficient comes from lab-analysed deliveries
    coal = next(c for c in data["lineage"]["coefficients"] if c["carrier"] == "bituminous_coal")
    assert coal["method"] == "measured_ncv" and coal["evidence"]
    # the optional sections of the services installed, none failing on the demo
    assert data["skipped"] == []
    installed = [key for key, module, _ in energy_report.OPTIONAL if _importable(module)]
    assert sorted(data["sections"]) == sorted(installed)
    for lang in ("zh-CN", "en"):
        doc = compose(data, lang)
        assert not [x for x in _texts(doc.as_dict()) if "report.energy." in x]
        assert [s.key for s in doc.sections][-1] == "lineage"
        assert {s.key for s in doc.sections} >= set(installed) - {"efficiency"}


def _importable(module: str) -> bool:
    import importlib

    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True
