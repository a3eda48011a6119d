"""Benchmark library, links, comparisons, ranking and equipment grades through the service
(SQLite and PostgreSQL), and the demo park's clinker line."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nengtan.errors import InputError
from nengtan.services import benchmarking as bm
from nengtan.services import org, production
from nengtan.services.energy_data import parse_period
from nengtan.store.models import Node
from nengtan.store.models.benchmark import Benchmark

CLINKER = "ndrc.cement-clinker"


def rules(exc: pytest.ExceptionInfo) -> list[tuple[str, str | None]]:
    return [(i.rule, i.field) for i in exc.value.issues]


@pytest.fixture
def park(engine):
    """Park P with enterprises E1 (site S1 → line L1 → motor M1), E2 and E3; product CLK made by
    E1 and E2 in 2025 (daily records are not needed: one record per year each)."""
    ids = {}
    with Session(engine) as s, s.begin():
        for code, kind, parent in (("P", "park", None), ("E1", "enterprise", "P"),
                                   ("S1", "site", "E1"), ("L1", "workshop", "S1"),
                                   ("M1", "equipment", "L1"), ("E2", "enterprise", "P"),
                                   ("E3", "enterprise", "P")):
            ids[code] = org.create(s, {"code": code, "name_zh": code, "kind": kind,
                                       "parent": parent}).id
        production.upsert_product(s, {"code": "CLK", "name_zh": "熟料", "unit": "t"})
        for node, qty in (("E1", 100_000.0), ("E2", 50_000.0)):
            production.upsert_production(s, {"node": node, "product": "CLK",
                                             "period_start": "2025-01-01",
                                             "period_end": "2025-12-31", "quantity": qty})
    return ids


def fake_intensity(values: dict[int, tuple[float | None, float]]):
    """A stand-in for energy_totals.product_intensity: node id → (kgce/t, output t)."""
    def product_intensity(conn, node_id, product_code, period):
        kgce, output = values[node_id]
        return {"kgce_per_unit": kgce, "unit": "kgce/t", "output": output, "output_unit": "t",
                "energy_tce": None if kgce is None else kgce * output / 1000,
                "lineage": {"test": True}}
    return product_intensity


def test_library_loads_once_and_a_changed_value_is_a_new_version(engine, monkeypatch):
    shipped = bm.shipped_entries()
    with engine.begin() as conn:
        first = bm.ensure_library(conn)
        assert (first["inserted"], first["skipped"]) == (len(shipped), False)
        assert bm.ensure_library(conn)["skipped"] is True
        count = conn.execute(select(func.count()).select_from(Benchmark)).scalar()
        assert count == len(shipped) == 8 + 1 + 124
        clinker = bm.entry_detail(conn, CLINKER)
        assert (clinker["version"], clinker["status"], clinker["origin"]) == (1, "verified",
                                                                             "shipped")
        assert [(lv["key"], lv["value"]) for lv in clinker["levels"]] == [
            ("benchmark", 100.0), ("baseline", 117.0)]
    # a later release ships a changed clinker benchmark: a new version, nothing edited
    changed = [dict(e, levels=[{"key": "benchmark", "value": 99.0},
                               {"key": "baseline", "value": 117.0}])
               if e["code"] == CLINKER else e for e in shipped]
    monkeypatch.setattr(bm, "shipped_entries", lambda: changed)
    monkeypatch.setattr(bm, "_digest", lambda: "next release")
    with engine.begin() as conn:
        assert bm.ensure_library(conn) == {"inserted": 0, "new_versions": 1, "skipped": False}
        now = bm.entry_detail(conn, CLINKER)
        assert (now["version"], now["levels"][0]["value"], now["versions"]) == (2, 99.0, [1, 2])
        assert bm.entry_detail(conn, CLINKER, 1)["levels"][0]["value"] == 100.0
        assert bm.entry_detail(conn, CLINKER, 1)["current"] is False


def test_user_entries_are_versioned_and_checked(engine):
    body = {"code": "sd.clinker", "product": "cement clinker", "unit": "kgce/t",
            "levels": {"benchmark": 98, "baseline": 110}, "source": "provincial notice",
            "status": "verified", "created_by": "tester"}
    with engine.begin() as conn:
        entry, created = bm.create_entry(conn, body)
        assert (created, entry["version"], entry["kind"], entry["origin"]) == (
            True, 1, "indicator", "user")
        again, created = bm.create_entry(conn, body)
        assert (created, again["version"]) == (False, 1)
        v2, created = bm.create_entry(conn, {**body, "levels": [
            {"key": "benchmark", "value": 97}, {"key": "baseline", "value": 110}]})
        assert (created, v2["version"], v2["versions"]) == (True, 2, [1, 2])
        with pytest.raises(InputError) as exc:
            bm.create_entry(conn, {**body, "levels": {"benchmark": 120, "baseline": 110}})
        assert rules(exc) == [("rule.bm_levels_order", "levels")]
        with pytest.raises(InputError) as exc:
            bm.create_entry(conn, {**body, "kind": "limit"})
        assert rules(exc) == [("rule.bm_kind_change", "kind")]
        with pytest.raises(InputError) as exc:
            bm.create_entry(conn, {**body, "code": "links"})
        assert rules(exc) == [("rule.bm_code", "code")]
        with pytest.raises(InputError) as exc:
            bm.create_entry(conn, {**body, "code": "x", "levels": [{"value": 3}]})
        assert rules(exc) == [("rule.bm_levels_format", "levels")]
        with pytest.raises(InputError) as exc:
            bm.create_entry(conn, {"code": "y", "levels": {"a": 1}, "colour": "red"})
        assert sorted(rules(exc)) == [("rule.required", "source"), ("rule.required", "status"),
                                      ("rule.required", "unit"), ("rule.unknown_field", "colour")]


def test_links(engine, park):
    with engine.begin() as conn:
        link = bm.create_link(conn, {"benchmark": CLINKER, "product": "CLK"})
        assert (link["benchmark"], link["product"], link["node"], link["version"]) == (
            CLINKER, "CLK", None, None)
        with pytest.raises(InputError) as exc:
            bm.create_link(conn, {"benchmark": CLINKER, "product": "CLK"})
        assert rules(exc) == [("rule.duplicate", "benchmark")]
        with pytest.raises(InputError) as exc:
            bm.create_link(conn, {"benchmark": "nope", "product": "XX", "node": "ZZ"})
        assert rules(exc) == [("rule.ref_unknown", "benchmark"), ("rule.ref_unknown", "product"),
                              ("rule.ref_unknown", "node")]
        with pytest.raises(InputError) as exc:
            bm.create_link(conn, {"benchmark": "gb18613-2020.motor.4p.200-1000kw",
                                  "product": "CLK", "version": 7})
        assert rules(exc) == [("rule.bm_version_unknown", "version"),
                              ("rule.bm_link_equipment", "benchmark")]
        scoped = bm.create_link(conn, {"benchmark": "gb16780-2021.cement-clinker",
                                       "product": "CLK", "node": "E1", "version": 1})
        assert (scoped["node"], scoped["version"]) == ("E1", 1)
        changed = bm.update_link(conn, scoped["id"], {"version": None, "node": "S1",
                                                      "note": "site level"})
        assert (changed["node"], changed["version"], changed["note"]) == ("S1", None,
                                                                          "site level")
        assert [x["id"] for x in bm.list_links(conn, product="CLK")] == [link["id"], scoped["id"]]
        assert [x["id"] for x in bm.list_links(conn, node="S1")] == [scoped["id"]]
        bm.delete_link(conn, scoped["id"])
        assert [x["id"] for x in bm.list_links(conn)] == [link["id"]]


def test_compare_known_answer(engine, park, monkeypatch):
    monkeypatch.setattr(bm, "_product_intensity",
                        fake_intensity({park["E1"]: (110.0, 100_000.0)}))
    with engine.begin() as conn:
        bm.create_link(conn, {"benchmark": CLINKER, "product": "CLK"})
        bm.create_link(conn, {"benchmark": "gb16780-2021.cement-clinker", "product": "CLK",
                              "node": "E1"})
        r = bm.compare_product(conn, park["E1"], "CLK", parse_period("2025"),
                               today=date(2026, 1, 10))
    assert r["actual"]["value"] == 110.0 and r["actual"]["annual_output"] == 100_000.0
    # the node-scoped link first, then the global one
    limit, ndrc = r["comparisons"]
    assert (limit["benchmark"], limit["position"], limit["scope_node"]) == (
        "gb16780-2021.cement-clinker", "grade_3", "E1")
    assert (ndrc["position"], ndrc["position_zh"], ndrc["action"]) == (
        "baseline", "介于标杆水平与基准水平之间", "improve_to_benchmark")
    bench, base = ndrc["levels"]
    # (110 − 100) / 100 × 100 = 10 %; (110 − 100) kgce/t × 100 000 t/a ÷ 1000 = 1 000 tce/a
    assert bench["gap_pct"] == pytest.approx(10.0)
    assert bench["energy_gap"]["tce_per_year"] == pytest.approx(1_000.0)
    # (110 − 117) × 100 000 ÷ 1000 = −700 tce/a (better than the baseline)
    assert base["energy_gap"]["tce_per_year"] == pytest.approx(-700.0)
    assert r["lineage"]["intensity"] == {"test": True}
    assert r["lineage"]["benchmarks"][1] == {
        "benchmark": CLINKER, "version": 1, "document": "工业重点领域能效标杆水平和基准水平",
        "source": "NDRC et al. 工业重点领域能效标杆水平和基准水平（2023年版） / 2021 edition",
        "status": "verified"}


def test_a_month_is_annualised_by_its_elapsed_days(engine, park, monkeypatch):
    monkeypatch.setattr(bm, "_product_intensity", fake_intensity({park["E1"]: (110.0, 9_000.0)}))
    with engine.begin() as conn:
        bm.create_link(conn, {"benchmark": CLINKER, "product": "CLK"})
        over = bm.compare_product(conn, park["E1"], "CLK", "2025-03", today=date(2026, 1, 1))
        running = bm.compare_product(conn, park["E1"], "CLK", "2025-03", today=date(2025, 3, 11))
    # 9 000 t in 31 days → 9 000 × 365 / 31 = 105 967.74 t/a; × (110 − 100) ÷ 1000 = 1 059.68
    assert over["actual"]["annual_output"] == pytest.approx(105_967.741935)
    gap = over["comparisons"][0]["levels"][0]["energy_gap"]["tce_per_year"]
    assert gap == pytest.approx(1_059.677419)
    # 10 days elapsed on 2025-03-11: 9 000 × 365 / 10 = 328 500 t/a
    assert running["actual"]["annual_output"] == pytest.approx(328_500.0)
    assert "9000 × 365 / 10" in running["lineage"]["annual_output"]


def test_compare_without_a_link_or_a_value(engine, park, monkeypatch):
    monkeypatch.setattr(bm, "_product_intensity", fake_intensity({park["E1"]: (None, 1.0)}))
    with engine.begin() as conn:
        with pytest.raises(InputError) as exc:
            bm.compare_product(conn, park["E1"], "CLK", "2025")
        assert rules(exc) == [("rule.bm_no_link", "product")]
        bm.create_link(conn, {"benchmark": CLINKER, "product": "CLK", "node": "E2"})
        with pytest.raises(InputError):  # scoped to E2: does not apply at E1
            bm.compare_product(conn, park["E1"], "CLK", "2025")
        bm.create_link(conn, {"benchmark": CLINKER, "product": "CLK"})
        r = bm.compare_product(conn, park["E1"], "CLK", "2025")
    assert r["comparisons"][0]["position"] == "no_data"


def test_ranking_in_a_park(engine, park, monkeypatch):
    monkeypatch.setattr(bm, "_product_intensity", fake_intensity({
        park["E1"]: (110.0, 100_000.0), park["E2"]: (104.0, 50_000.0)}))
    monkeypatch.setattr(bm, "_intensity", lambda conn, node_id, period: {
        "tce_per_10k_cny_output": {park["E1"]: 2.5, park["E2"]: 3.1, park["E3"]: None}[node_id],
        "lineage": {}})
    with engine.begin() as conn:
        bm.create_link(conn, {"benchmark": CLINKER, "product": "CLK"})
        r = bm.ranking(conn, park["P"], "2025", today=date(2026, 2, 1))
    # gaps to the benchmark: E2 (104 − 100) / 100 = 4 %, E1 (110 − 100) / 100 = 10 %
    assert [(x["enterprise"], x["rank"], round(x["gap_to_best_pct"], 6), x["position"])
            for x in r["by_gap"]] == [("E2", 1, 4.0, "baseline"), ("E1", 2, 10.0, "baseline")]
    # (104 − 100) × 50 000 ÷ 1000 = 200 tce/a
    assert r["by_gap"][0]["energy_gap_tce_per_year"] == pytest.approx(200.0)
    assert [(x["enterprise"], x["rank"]) for x in r["by_intensity"]] == [
        ("E1", 1), ("E2", 2), ("E3", None)]
    assert r["notes"] == []


def test_equipment_grades_from_nameplates(engine, park):
    with Session(engine) as s, s.begin():
        bm.set_nameplate(s, park["M1"], {
            "motor": {"rated_kw": 250, "poles": 4, "efficiency_pct": 95.6,
                      "annual_hours": 7200, "load_factor": 0.8},
            "compressor": {"rated_kw": 75, "pressure_mpa": 0.8, "specific_power": 6.4}})
        with pytest.raises(InputError) as exc:
            bm.set_nameplate(s, park["L1"], {"motor": {"rated_kw": 250, "efficiency_pct": 0},
                                             "pump": {}})
        assert sorted(rules(exc)) == [("rule.bm_nameplate_kind", "node"),
                                      ("rule.bm_nameplate_missing", "motor.poles"),
                                      ("rule.bm_nameplate_number", "motor.efficiency_pct"),
                                      ("rule.unknown_field", "pump")]
    with engine.begin() as conn:
        r = bm.equipment_grades(conn, park["E1"])
    (item,) = r["items"]
    motor, compressor = item["grades"]
    # shipped GB 18613-2020 row, 4 poles, 200-1000 kW: grade 3 = 96.0 %, grade 2 = 96.7 %
    assert (motor["row"]["code"], motor["position"], motor["position_en"]) == (
        "gb18613-2020.motor.4p.200-1000kw", "below_grade_3",
        "below grade 3: does not meet the limit value")
    # 250 × 0.8 × 7200 × (100/95.6 − 100/96.0) = 6 276.15 kWh/a to reach grade 3
    assert motor["levels"][2]["saving_kwh_per_year"] == pytest.approx(6276.150628)
    assert compressor["row"]["status"] == "unverified"
    assert r["summary"]["nameplates"] == 2 and r["summary"]["below_limit"] == 1
    with Session(engine) as s, s.begin():
        assert bm.set_nameplate(s, park["M1"], {"compressor": None})["attributes"] == {
            "motor": {"rated_kw": 250, "poles": 4, "efficiency_pct": 95.6,
                      "annual_hours": 7200, "load_factor": 0.8}}
        assert s.get(Node, park["M1"]).attributes["motor"]["poles"] == 4


def test_demo_clinker_is_between_benchmark_and_baseline(tmp_path):
    """The short demo build (20 days to 2026-11-20) with the real intensity service."""
    from nengtan.demo import build_demo
    from nengtan.store import db

    engine = db.make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    db.upgrade(engine)
    build_demo(engine, today=date(2026, 11, 21), seed=2025, start=date(2026, 11, 1))
    with engine.begin() as conn:
        cem = conn.execute(select(Node.id).where(Node.code == "CEM")).scalar()
        qlp = conn.execute(select(Node.id).where(Node.code == "QLP")).scalar()
        r = bm.compare_product(conn, cem, "CLINKER", "2026-11", today=date(2026, 11, 21))
        ranking = bm.ranking(conn, qlp, "2026-11", today=date(2026, 11, 21))
        grades = bm.equipment_grades(conn, qlp)
    actual = r["actual"]["value"]
    assert 100.0 < actual < 117.0 and r["actual"]["unit"] == "kgce/t"
    ndrc = next(c for c in r["comparisons"] if c["benchmark"] == CLINKER)
    assert (ndrc["position"], ndrc["status"]) == ("baseline", "verified")
    bench = ndrc["levels"][0]
    assert bench["gap_pct"] == pytest.approx(actual - 100.0)
    # 20 days elapsed in November: annual output = output × 365 / 20
    assert r["actual"]["annual_output"] == pytest.approx(r["actual"]["output"] * 365 / 20)
    assert bench["energy_gap"]["tce_per_year"] == pytest.approx(
        (actual - 100.0) * r["actual"]["annual_output"] / 1000)
    assert [(x["enterprise"], x["rank"]) for x in ranking["by_gap"]] == [("CEM", 1)]
    assert grades["summary"]["nameplates"] == 8
    assert {g["position"] for i in grades["items"] for g in i["grades"]} == {
        "no_grade_row", "below_grade_3", "grade_3", "grade_2"}
