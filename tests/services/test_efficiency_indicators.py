"""Efficiency indicator definitions and values on a small plant and on a demo build."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy.orm import Session

from nengtan.errors import InputError, NotFound
from nengtan.services import efficiency_indicators as svc
from nengtan.services import ingest, meters, org, production
from nengtan.services.energy_data import parse_period
from nengtan.store import db

US = 1_000_000
DAY = 86400 * US
T0 = 1_735_660_800 * US  # 2025-01-01 00:00 Asia/Shanghai


@pytest.fixture
def boiler_plant(request):
    """Park P → enterprise E1 → site S1 → boiler house BH, and enterprise E2; daily meters
    for steam (10 t/day), boiler gas (825 m³/day), chiller electricity (2 000 kWh/day),
    cooling (36 GJ/day = 10 000 kWh), air compressors (1 400 kWh/day) and air (12 000
    m³/day), for the ten days 2025-01-01..10.  ``request.param`` picks the database."""
    engine = request.getfixturevalue(getattr(request, "param", "sqlite_engine"))
    with Session(engine) as s, s.begin():
        for code, kind, parent in (("P", "park", None), ("E1", "enterprise", "P"),
                                   ("S1", "site", "E1"), ("BH", "workshop", "S1"),
                                   ("E2", "enterprise", "P")):
            org.create(s, {"code": code, "name_zh": f"节点{code}", "kind": kind,
                           "parent": parent})
        ids = {}
        for code, node, carrier, unit in (
                ("STEAM", "BH", "steam", "t"), ("VENT", "BH", "steam", "t"),
                ("GAS", "BH", "natural_gas", "m3"), ("CH-E", "S1", "electricity", "kWh"),
                ("CH-Q", "S1", "cooling", "GJ"), ("AIR-E", "S1", "electricity", "kWh"),
                ("AIR-V", "S1", "compressed_air", "m3"), ("BIO", "BH", "biomass", "t"),
                ("WATER", "S1", "water", "t"), ("OTHER", "E2", "electricity", "kWh")):
            ids[code] = meters.create(s, {"code": code, "name_zh": code, "node": node,
                                          "carrier": carrier, "unit": unit,
                                          "interval_s": 86400, "level": 3}).id
    daily = {"STEAM": 10.0, "VENT": 0.5, "GAS": 825.0, "CH-E": 2000.0, "CH-Q": 36.0,
             "AIR-E": 1400.0, "AIR-V": 12000.0}
    ts = T0 + np.arange(11, dtype=np.int64) * DAY
    batch = ingest.ReadingBatch(
        np.concatenate([np.full(11, ids[c]) for c in daily]), np.tile(ts, len(daily)),
        np.concatenate([1000.0 + np.arange(11) * v for v in daily.values()]))
    with engine.begin() as conn:
        ingest.ingest(conn, batch, "test")
    return engine


BOILER = {"code": "BH-EFF", "name_zh": "锅炉热效率", "name_en": "Boiler efficiency",
          "node": "BH", "kind": "boiler_efficiency", "numerator": ["STEAM"],
          "denominator": [{"meter": "GAS", "sign": 1}],
          "params": {"enthalpy_rise_mj_per_t": 2696.8, "enthalpy_source": "test"},
          "target_value": 90, "target_source": "plan",
          "grades": {"standard": "GB 24500-2020", "source": "test", "status": "unverified",
                     "levels": [{"grade": "1", "value": 94}, {"grade": "2", "value": 92},
                                {"grade": "3", "value": 90}]}}


def create(engine, payload):
    with Session(engine) as s, s.begin():
        return svc.create(s, payload).id


def values(engine, indicator_id, period, grain=None):
    with Session(engine) as s:
        return svc.values(s.connection(), svc.get(s, indicator_id), parse_period(period), grain)


def problems(exc):
    return sorted(((i.row, i.field, i.rule.removeprefix("rule.")) for i in exc.value.issues),
                  key=lambda p: (p[0] is not None, p[0] or 0, p[1], p[2]))


@pytest.mark.parametrize("boiler_plant", ["sqlite_engine", "pg_engine"], indirect=True)
def test_boiler_efficiency_with_measured_ncv(boiler_plant):
    """Known answer on SQLite and PostgreSQL.  Ten days: D = 100 t, B = 8 250 m³; the lab
    NCV of the month's gas delivery is 35.6 MJ/m³: η = 100 × 2696.8 / (8250 × 35.6)
    = 269 680 / 293 700 = 91.8216 %."""
    engine = boiler_plant
    with Session(engine) as s, s.begin():
        production.add_fuel_delivery(s, {
            "node": "E1", "carrier": "natural_gas", "delivered_on": date(2025, 1, 31),
            "quantity": 25000, "unit": "m3", "ncv": 35.6, "ncv_unit": "MJ/m3",
            "lab": "gas lab", "report_no": "TRQ-1"})
    ind = create(engine, BOILER)
    v = values(engine, ind, "2025-01-01/2025-01-11", "day")
    assert (v["value"], v["unit"], v["status"], v["complete"]) == (91.8216, "%", "ok", True)
    assert v["grade"]["grade"] == "3" and v["target"]["met"] is True
    assert [d["value"] for d in v["series"]] == [91.8216] * 10
    assert {d["grade"] for d in v["series"]} == {"3"}
    fuel = v["lineage"]["parameters"]["fuel_ncv"][0]
    assert fuel["ncv_mj_per_unit"] == 35.6 and fuel["coefficient"]["method"] == "measured_ncv"
    assert fuel["coefficient"]["evidence"][0].startswith("fuel_delivery:")
    steam, gas = v["meters"]
    assert (steam["meter"], steam["quantity"], steam["value"]) == (
        "STEAM", pytest.approx(100.0), pytest.approx(269680.0))
    assert (gas["quantity"], gas["value_unit"]) == (pytest.approx(8250.0), "MJ")
    assert v["lineage"]["clause"].startswith("GB/T 10180")
    assert v["summary"]["en"].startswith("Boiler efficiency, 2025-01-01/2025-01-11: 91.82 %")
    assert "锅炉热效率" in v["summary"]["zh-CN"]
    # The whole month: ten days of data out of 31, so the same ratio with its coverage.
    month = values(engine, ind, "2025-01", "month")
    assert month["value"] == 91.8216 and month["coverage"] == pytest.approx(10 / 31, abs=1e-6)
    assert month["complete"] is False and "32.3 %" in month["summary"]["en"]
    # Days without data have no value.
    tail = values(engine, ind, "2025-01-09/2025-01-13", "day")["series"]
    assert [(d["label"], d["status"]) for d in tail] == [
        ("2025-01-09", "ok"), ("2025-01-10", "ok"), ("2025-01-11", "no_data"),
        ("2025-01-12", "no_data")]


def test_steam_table_parameters_and_shipped_ncv(boiler_plant):
    """1.0 MPa gauge saturated steam, feed water 20 °C: Δh = 2780.69 − 83.92 = 2696.77 MJ/t.
    Steam 10 t/day less 0.5 t/day vented (sign −1): D = 95 t over ten days.  No lab NCV:
    the shipped coefficient 1.2143 kgce/m³ × 29.3076 = 35.5882 MJ/m³, so
    η = 95 × 2696.77 / (8250 × 35.5882) = 256 193.2 / 293 602.4 = 87.2584 %."""
    payload = {**BOILER, "numerator": ["STEAM", {"meter": "VENT", "sign": -1}],
               "params": {"steam_pressure_mpa": 1.0, "feedwater_temperature_c": 20}}
    ind = create(boiler_plant, payload)
    v = values(boiler_plant, ind, "2025-01-01/2025-01-11")
    assert v["value"] == pytest.approx(87.2584, abs=2e-4)
    assert v["lineage"]["parameters"]["enthalpy_rise_mj_per_t"] == pytest.approx(2696.77,
                                                                                  abs=0.02)
    fuel = v["lineage"]["parameters"]["fuel_ncv"][0]
    assert fuel["coefficient"]["method"] == "reference"
    assert fuel["ncv_mj_per_unit"] == pytest.approx(1.2143 * 29.3076)
    assert v["grade"]["below_lowest"] is True and v["target"]["met"] is False
    assert v["series"] is None


def test_cop_air_and_specific_energy(boiler_plant):
    # COP: 36 GJ/day = 10 000 kWh of cooling for 2 000 kWh: 5.0.
    # Air: 1 400 kWh / 12 000 m³ × 60 = 7.0 kW/(m³/min).
    # Specific: 1 400 kWh = 1.4 MWh per 12 000 m³ = 0.000116667 MWh/m³.
    cop = create(boiler_plant, {"code": "COP", "name_zh": "COP", "node": "S1", "kind": "cop",
                                "numerator": ["CH-Q"], "denominator": ["CH-E"]})
    air = create(boiler_plant, {"code": "AIR", "name_zh": "比功率", "node": "S1",
                                "kind": "compressed_air_specific_power",
                                "numerator": ["AIR-E"], "denominator": ["AIR-V"]})
    spec = create(boiler_plant, {"code": "SPEC", "name_zh": "单耗", "node": "S1",
                                 "kind": "specific_energy", "numerator": ["AIR-E"],
                                 "denominator": ["AIR-V"],
                                 "params": {"numerator_unit": "MWh", "denominator_unit": "m3"}})
    assert values(boiler_plant, cop, "2025-01-05")["value"] == 5.0
    months = values(boiler_plant, air, "2025-01-01/2025-02-01", "month")
    assert (months["value"], months["unit"]) == (7.0, "kW/(m3/min)")
    assert [m["value"] for m in months["series"]] == [7.0]
    s = values(boiler_plant, spec, "2025-01-01/2025-01-11", None)
    assert (s["value"], s["unit"]) == (pytest.approx(0.0001, abs=1e-4), "MWh/m3")
    assert s["numerator"] == pytest.approx(14.0) and s["denominator"] == pytest.approx(120000.0)
    idle = values(boiler_plant, cop, "2025-03-01")
    assert (idle["value"], idle["status"]) == (None, "no_data")


def test_definitions_are_validated_with_named_fields(boiler_plant):
    engine = boiler_plant
    create(engine, BOILER)
    with Session(engine) as s:
        with pytest.raises(InputError) as exc:
            svc.create(s, {**BOILER, "node": "NOPE", "numerator": ["NOPE", 7,
                                                                    {"meter": "STEAM", "sign": 2}],
                           "denominator": ["OTHER"]})
        assert problems(exc) == [
            (None, "code", "duplicate"), (None, "node", "ref_unknown"),
            (0, "numerator", "ref_unknown"), (1, "numerator", "eff_term"),
            (2, "numerator.sign", "eff_sign")]
        with pytest.raises(InputError) as exc:
            svc.create(s, {**BOILER, "code": "X", "denominator": ["OTHER"]})
        assert problems(exc) == [(0, "denominator", "eff_meter_tenant")]
        with pytest.raises(InputError) as exc:
            svc.create(s, {**BOILER, "code": "X", "numerator": ["CH-E"], "params": {},
                           "denominator": ["WATER"]})
        assert problems(exc) == [(0, "denominator", "eff_need_fuel"),
                                 (0, "numerator", "eff_need_steam")]
        with pytest.raises(InputError) as exc:
            svc.create(s, {**BOILER, "code": "X", "params": {"steam_pressure_mpa": 1.0}})
        assert problems(exc) == [(None, "params.feedwater_temperature_c",
                                  "eff_feedwater_missing")]
        # biomass has no shipped coefficient and no lab analysis in this plant
        with pytest.raises(InputError) as exc:
            svc.create(s, {**BOILER, "code": "X", "denominator": ["BIO"]})
        assert problems(exc) == [(0, "denominator", "eff_ncv_missing")]
        ok = svc.create(s, {**BOILER, "code": "X", "denominator": ["BIO"],
                            "params": {**BOILER["params"], "ncv_mj_per_unit": 15000}})
        assert ok.params["ncv_mj_per_unit"] == 15000.0
        with pytest.raises(InputError) as exc:
            svc.create(s, {**BOILER, "code": "Y", "kind": "cop", "grades": {
                "standard": "GB 19577", "source": "s", "status": "unverified",
                "levels": [{"grade": "1", "value": 4.7}, {"grade": "2", "value": 5.6}]}})
        assert problems(exc) == [(None, "grades.levels", "eff_level_order_higher"),
                                 (None, "params.enthalpy_rise_mj_per_t", "unknown_field"),
                                 (None, "params.enthalpy_source", "unknown_field")]
        with pytest.raises(InputError) as exc:
            svc.create(s, {"code": "Z", "kind": "heat pump", "colour": "red"})
        assert {p[1:] for p in problems(exc)} >= {("kind", "choice"), ("colour", "unknown_field"),
                                                  ("name_zh", "required"),
                                                  ("numerator", "required")}


def test_update_list_and_delete(boiler_plant):
    engine = boiler_plant
    ind = create(engine, BOILER)
    other = create(engine, {"code": "COP", "name_zh": "COP", "node": "S1", "kind": "cop",
                            "numerator": ["CH-Q"], "denominator": ["CH-E"]})
    with Session(engine) as s, s.begin():
        changed = svc.update(s, ind, {"numerator": ["STEAM", {"meter": "VENT", "sign": -1}],
                                      "target_value": 88})
        d = svc.as_dict(s, changed)
        assert [(m["meter"], m["sign"]) for m in d["numerator"]] == [("STEAM", 1), ("VENT", -1)]
        assert d["target_value"] == 88 and d["params"] == BOILER["params"]
        assert d["unit"] == "%" and d["kind_label"]["zh-CN"] == "锅炉热效率"
        with pytest.raises(InputError) as exc:
            svc.update(s, ind, {"code": "COP"})
        assert problems(exc) == [(None, "code", "duplicate")]
    with Session(engine) as s:
        rows = list(s.scalars(svc.list_query(kind="cop")))
        assert [r.code for r in rows] == ["COP"]
        p = s.get(svc.Node, svc.by_code(s, "BH-EFF").node_id)
        site = s.scalar(svc.select(svc.Node).where(svc.Node.code == "S1"))
        under = [r.code for r in s.scalars(svc.list_query(site.id, None, site.path))]
        assert under == ["BH-EFF", "COP"] and p.code == "BH"
    assert values(engine, ind, "2025-01-01/2025-01-11")["target"]["value"] == 88
    with Session(engine) as s, s.begin():
        svc.delete_indicator(s, ind)
    with Session(engine) as s:
        with pytest.raises(NotFound):
            svc.get(s, ind)
        assert svc.get(s, other).code == "COP"


# -- the demo park ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A demo build over seven winter weeks (2025-12-15 .. 2026-01-31): the cement kiln stops
    for the winter staggered production from 10 January, so the compressor station idles."""
    from nengtan.demo import build_demo

    path = tmp_path_factory.mktemp("eff-demo") / "demo.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    build_demo(engine, today=date(2026, 2, 1), start=date(2025, 12, 15))
    yield engine
    engine.dispose()


def _demo_values(engine, code, period, grain):
    with Session(engine) as s:
        return svc.values(s.connection(), svc.by_code(s, code), parse_period(period), grain)


def test_demo_indicators_are_defined(demo):
    with Session(demo) as s:
        codes = {r.code: r.kind for r in s.scalars(svc.list_query())}
        boiler = svc.as_dict(s, svc.by_code(s, "TEX-BH-EFF"))
    assert codes == {"TEX-BH-EFF": "boiler_efficiency", "ELE-CH-COP": "cop",
                     "CEM-AIR-SP": "compressed_air_specific_power"}
    assert boiler["resolved_parameters"]["steam"]["pressure_abs_mpa"] == 1.101325
    assert boiler["grades"]["status"] == "unverified"


def test_demo_boiler_efficiency_is_plausible(demo):
    v = _demo_values(demo, "TEX-BH-EFF", "2025-12-15/2026-02-01", "month")
    months = [m["value"] for m in v["series"]]
    assert len(months) == 2 and all(85.0 <= x <= 95.0 for x in months), months
    assert 85.0 <= v["value"] <= 95.0
    days = _demo_values(demo, "TEX-BH-EFF", "2026-01", "day")["series"]
    ok = [d["value"] for d in days if d["status"] == "ok"]
    assert len(ok) == 31 and 88.0 < float(np.mean(ok)) < 94.0
    # the gas supplier's monthly statements give the NCV, weighted by each month's gas
    fuel = v["lineage"]["parameters"]["fuel_ncv"][0]["coefficient"]
    assert [m["month"] for m in fuel["months"]] == ["2025-12", "2026-01"]
    assert {m["coefficient"]["method"] for m in fuel["months"]} == {"measured_ncv"}
    assert 35.0 < fuel["ncv_mj_per_unit_of_meter"] < 36.2


def test_demo_cop_and_specific_power_are_in_the_simulated_bands(demo):
    cop = _demo_values(demo, "ELE-CH-COP", "2025-12-15/2026-02-01", "day")
    values_ = [d["value"] for d in cop["series"]]
    assert all(4.49 <= x <= 5.51 for x in values_), values_
    # winter: condensers are cold, the operating COP is at the high end
    assert np.mean(values_) > 5.2
    air = _demo_values(demo, "CEM-AIR-SP", "2025-12-15/2026-02-01", "day")["series"]
    running = [d["value"] for d in air if d["start"] < "2026-01-10"]
    stopped = [d["value"] for d in air if d["start"] >= "2026-01-12"]
    assert all(6.49 <= x <= 7.51 for x in running + stopped)
    assert np.mean(stopped) > np.mean(running) + 0.4  # unloaded running while the kiln is down
    assert timedelta(days=len(air)) == date(2026, 2, 1) - date(2025, 12, 15)
