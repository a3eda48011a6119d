"""CEMS service on both databases: monitors, ingestion, revisions, hours, gaps, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from nengtan.carbon import cems as engine_mod
from nengtan.errors import InputError
from nengtan.services import cems, org
from nengtan.store.models import IngestBatch
from nengtan.store.models.cems import CemsHour, CemsSample, CemsSampleRevision

US = 1_000_000
H = 3600 * US
M = 60 * US
T0 = 1_767_225_600 * US  # 2026-01-01T00:00Z = 08:00 Asia/Shanghai
STACK = {"co2": 18.0, "flow": 400_000.0, "temp": 120.0, "pressure": 99.0, "moisture": 10.0}
# Wet CO2 18 % → 20 % dry = 392 700.99 mg/m³; Q_sd = 400 000 × 273.15/393.15 × 99/101.325
# × 0.9 = 244 379.07 m³/h; one hour = 392 700.99 × 244 379.07 × 10⁻⁹ = 95.9679 t
HOURLY_T = 20 * 1e4 * 44.01 / 22.414 * (400_000 * 273.15 / 393.15 * 99 / 101.325 * 0.9) * 1e-9
LATER = T0 + 1000 * H  # "now" for reports: every hour of the tests has ended


@pytest.fixture
def kiln(engine):
    """park → enterprise → site → workshop KL with monitor K1 (CO2 wet, vol-%, actual flow)."""
    with Session(engine) as s, s.begin():
        org.create(s, {"code": "P", "name_zh": "园区", "kind": "park"})
        org.create(s, {"code": "E1", "name_zh": "水泥企业", "kind": "enterprise", "parent": "P"})
        org.create(s, {"code": "S1", "name_zh": "熟料基地", "kind": "site", "parent": "E1"})
        org.create(s, {"code": "KL", "name_zh": "烧成车间", "kind": "workshop", "parent": "S1"})
        monitor = cems.create_monitor(s, {"code": "K1", "name_zh": "窑尾CEMS", "node": "KL",
                                          "co2_basis": "wet"})
        return monitor.id


def ingest_minutes(engine, n=60, start=T0, flags=None, **values):
    ts = start + np.arange(n, dtype=np.int64) * M
    out = {}
    with engine.begin() as conn:
        for param, v in {**STACK, **values}.items():
            status = None if flags is None or param not in flags else flags[param]
            out[param] = cems.ingest_points(conn, "K1", param, ts, np.full(n, v), status)
    return out


def count(engine, model, **where):
    with Session(engine) as s:
        q = select(func.count()).select_from(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return s.scalar(q)


def report(engine, monitor_id, start=T0, end=T0 + H):
    with engine.connect() as conn:
        return cems.hours(conn, monitor_id, start, end, now_us=LATER)


def test_monitor_fields_are_validated_together(engine, kiln):
    with Session(engine) as s, s.begin(), pytest.raises(InputError) as exc:
        cems.create_monitor(s, {"code": "K1", "name_zh": "重复", "node": "NOPE",
                                "interval_s": 7, "co2_unit": "ppm"})
    problems = {(i.field, i.rule) for i in exc.value.issues}
    assert problems == {("co2_unit", "rule.choice")}  # field rules first, all of them
    with Session(engine) as s, s.begin(), pytest.raises(InputError) as exc:
        cems.create_monitor(s, {"code": "K1", "name_zh": "重复", "node": "NOPE",
                                "interval_s": 7})
    assert {(i.field, i.rule) for i in exc.value.issues} == {
        ("code", "rule.duplicate"), ("node", "rule.ref_unknown"), ("interval_s", "rule.cems_interval")}
    with Session(engine) as s:
        m = cems.get_monitor(s, kiln)
        assert cems.monitor_dict(s, m)["required_params"] == list(engine_mod.PARAMS)
        assert m.tenant_id == org.by_code(s, "E1").id


def test_ingest_points_known_hour_resend_and_revision(engine, kiln):
    first = ingest_minutes(engine)
    assert first["co2"]["inserted"] == 60 and first["moisture"]["hours"] == 1
    [hour] = report(engine, kiln)["hours"]
    assert hour["status"] == "valid" and hour["co2_t"] == pytest.approx(95.9679, abs=1e-4)
    assert hour["co2_t"] == pytest.approx(HOURLY_T)

    again = ingest_minutes(engine)  # the collector resends after a reconnect: a no-op
    assert again["co2"] == {**again["co2"], "inserted": 0, "unchanged": 60, "revised": 0,
                            "hours": 0}

    flags = {"co2": ["C"] * 20 + ["N"] * 40}  # the first 20 minutes were a calibration
    revised = ingest_minutes(engine, flags=flags)
    assert (revised["co2"]["revised"], revised["co2"]["unchanged"]) == (20, 40)
    [hour] = report(engine, kiln)["hours"]
    # 40 valid minutes: invalid; partial mass 40/60 × 95.9679 = 63.9786 t shown apart
    assert hour["status"] == "invalid" and hour["co2_t"] is None
    assert hour["measured_co2_t"] == pytest.approx(63.9786, abs=1e-4)
    assert count(engine, CemsSampleRevision, old_status="N", new_status="C") == 20
    assert count(engine, CemsSample) == 300 and count(engine, CemsHour) == 1
    with Session(engine) as s:
        batch = s.get(IngestBatch, revised["co2"]["batch_id"])
        assert (batch.source, batch.inserted, batch.unchanged, batch.revised) == (
            "collect", 0, 40, 20)


def test_bad_points_are_refused_whole(engine, kiln):
    ts = T0 + np.arange(10, dtype=np.int64) * M
    values = np.full(10, 18.0)
    values[3] = np.nan
    ts[5] = 0  # 1970
    status = ["N"] * 10
    status[7] = "N?"
    with engine.begin() as conn, pytest.raises(InputError) as exc:
        cems.ingest_points(conn, "K1", "co2", ts, values, status)
    assert {(i.row, i.field, i.rule) for i in exc.value.issues} == {
        (3, "value", "rule.not_finite"), (5, "ts", "rule.ts_range"),
        (7, "status", "rule.cems_status")}
    with engine.begin() as conn, pytest.raises(InputError) as exc:
        cems.ingest_points(conn, "NOPE", "so2", ts[:1], values[:1])
    assert {(i.field, i.rule) for i in exc.value.issues} == {
        ("monitor", "rule.ref_unknown"), ("param", "rule.choice")}
    assert count(engine, CemsSample) == 0 and count(engine, IngestBatch) == 0


def test_repeated_time_in_one_batch_keeps_the_last(engine, kiln):
    ts = np.array([T0, T0 + M, T0], np.int64)
    with engine.begin() as conn:
        out = cems.ingest_points(conn, "K1", "co2", ts, np.array([17.0, 18.0, 19.0]))
    assert (out["inserted"], out["revised"], out["unchanged"]) == (2, 1, 0)
    with Session(engine) as s:
        values = s.execute(select(CemsSample.value).order_by(CemsSample.ts)).scalars().all()
        rev = s.scalar(select(CemsSampleRevision))
    assert values == [19.0, 18.0] and (rev.old_value, rev.new_value) == (17.0, 19.0)


def test_collector_writer_path(engine, kiln):
    """The lead's collector writer stores CEMS groups through ingest_points."""
    from nengtan.collect.writer import CemsGroup, Job, execute

    ts = T0 + np.arange(60, dtype=np.int64) * M
    groups = [CemsGroup("K1", p, ts, np.full(60, v), np.zeros(60, np.int64))
              for p, v in STACK.items()]
    groups.append(CemsGroup("NOPE", "co2", ts[:2], np.full(2, 1.0), np.zeros(2, np.int64)))
    result = execute(engine, Job("c1", 1, ["mqtt"], ["t/1"], [None], cems=groups))
    assert int(result.stored[0]) == 300 and int(result.rejected[0]) == 2
    [hour] = report(engine, kiln)["hours"]
    assert hour["co2_t"] == pytest.approx(HOURLY_T)


CSV = """监测点编码,时间,二氧化碳,烟气流量,烟气温度,烟气压力,烟气湿度,状态,二氧化碳状态
{rows}
"""


def wide_csv(minutes, flag_of=lambda i: "N", co2_flag_of=lambda i: ""):
    rows = []
    for i in minutes:  # local (Asia/Shanghai) 08:00 = T0
        rows.append(f"K1,2026-01-01 {8 + i // 60:02d}:{i % 60:02d},18,400000,120,99,10,"
                    f"{flag_of(i)},{co2_flag_of(i)}")
    return CSV.format(rows="\n".join(rows)).encode("utf-8")


def test_wide_csv_gaps_and_summary(engine, kiln):
    # 08:00-09:00 full; 09:xx missing; 10:00-10:50 with CO2 in calibration 10:00-10:20;
    # 11:00-11:50 maintenance of all analysers for 11:50-11:59 (flag M)
    minutes = list(range(60)) + list(range(120, 180)) + list(range(180, 240))
    data = wide_csv(minutes, flag_of=lambda i: "M" if i >= 230 else "N",
                    co2_flag_of=lambda i: "c" if 120 <= i < 140 else "")
    with engine.begin() as conn:
        out = cems.ingest_rows(conn, cems.parse_csv(data), "import", "kiln.csv")
    assert (out["rows"], out["samples"], out["inserted"], out["hours"]) == (180, 900, 900, 3)
    with engine.connect() as conn:
        g = cems.gaps(conn, kiln, T0, T0 + 4 * H, now_us=LATER)
    s = g["summary"]
    assert (s["hours"], s["valid_hours"], s["invalid_hours"], s["missing_hours"]) == (4, 2, 1, 1)
    # valid: 08:00 (60 min) and 11:00 (50 min, the mean rate × 1 h) = 2 × 95.9679 t
    assert s["co2_t"] == pytest.approx(2 * HOURLY_T)
    assert s["partial_co2_t"] == pytest.approx(HOURLY_T * 40 / 60) and s["data_capture_pct"] == 50
    assert [(x["start_local"][11:16], x["status"], x["hours"]) for x in g["gaps"]] == [
        ("09:00", "missing", 1), ("10:00", "invalid", 1)]
    [calibration] = g["gaps"][1]["reasons"]
    assert (calibration["flag"], calibration["minutes"]) == ("C", 20.0)
    assert "校准" in calibration["message_zh"] and "calibration" in calibration["message"]


def test_wide_rows_are_checked_before_anything_is_stored(engine, kiln):
    rows = [(2, {"monitor": "K1", "ts": "2026-01-01 08:00", "co2": "abc"}),
            (3, {"monitor": "NOPE", "ts": "2026-01-01 08:00", "co2": 18}),
            (4, {"monitor": "K1", "ts": "yesterday", "co2": 18}),
            (5, {"monitor": "K1", "ts": "2026-01-01 08:01"}),
            (6, {"monitor": "K1", "ts": "2026-01-01 08:02", "co2": 18, "co2_status": "?!"}),
            (7, {"monitor": "K1", "ts": "2026-01-01 08:03", "co2": 18, "so2": 1}),
            (8, {"monitor": "K1", "ts": "2026-01-01 08:04", "co2": 18})]
    with engine.begin() as conn, pytest.raises(InputError) as exc:
        cems.ingest_rows(conn, rows)
    assert {(i.row, i.field, i.rule) for i in exc.value.issues} == {
        (2, "co2", "rule.type_float"), (3, "monitor", "rule.ref_unknown"),
        (4, "ts", "rule.type_datetime"), (5, None, "rule.cems_row_empty"),
        (6, "co2_status", "rule.cems_status"), (7, "so2", "rule.unknown_field")}
    assert count(engine, CemsSample) == 0


def test_active_from_and_unfinished_hours_are_not_expected(engine, kiln):
    ingest_minutes(engine, n=30, start=T0 + 2 * H)
    with Session(engine) as s, s.begin():
        cems.update_monitor(s, kiln, {"active_from": "2026-01-01T09:00:00"})  # 01:00Z
    with engine.connect() as conn:
        out = cems.hours(conn, kiln, T0, T0 + 5 * H, now_us=T0 + 3 * H + 10 * M)
    # expected: 01:00Z and 02:00Z only (00:00Z is before active_from, 03:00Z not ended)
    assert [(h["start"], h["status"]) for h in out["hours"]] == [
        ("2026-01-01T01:00:00Z", "missing"), ("2026-01-01T02:00:00Z", "invalid")]


def test_changing_the_basis_recomputes_every_hour(engine, kiln):
    ingest_minutes(engine, n=120)
    with Session(engine) as s, s.begin():
        cems.update_monitor(s, kiln, {"co2_basis": "dry"})
    hours = report(engine, kiln, T0, T0 + 2 * H)["hours"]
    # read as dry, 18 % is not divided by 0.9: the hour is 0.9 × 95.9679 = 86.3711 t
    assert [h["co2_t"] for h in hours] == pytest.approx([0.9 * HOURLY_T] * 2)
    assert report(engine, kiln, T0, T0 + 2 * H)["lineage"]["config"]["co2_basis"] == "dry"


def test_cli_import_hours_and_summary(engine, kiln, tmp_path):
    """``nengtan cems`` commands in-process (their database is the test's)."""
    from nengtan.cli import app

    url = engine.url.render_as_string(hide_password=False)
    path = tmp_path / "kiln.csv"
    path.write_bytes(wide_csv(range(60)))
    runner = CliRunner()
    imported = runner.invoke(app, ["cems", "import", str(path), "--db", url])
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.output)["inserted"] == 300
    hours = runner.invoke(app, ["cems", "hours", "-m", "K1", "--from", "2026-01-01",
                                "--to", "2026-01-01T10:00", "--json", "--db", url])
    out = json.loads(hours.output)
    assert [h["status"] for h in out["hours"]] == ["missing"] * 8 + ["valid", "missing"]
    assert out["summary"]["co2_t"] == pytest.approx(HOURLY_T)
    text = runner.invoke(app, ["cems", "summary", "-m", "K1", "--from", "2026-01-01",
                               "--to", "2026-01-01T10:00", "--db", url]).output
    assert "valid 1, invalid 0, missing 9" in text and "该小时未收到任何数据" in text
    bad = tmp_path / "bad.csv"
    bad.write_text("monitor,ts,co2\nK1,2026-01-01 08:00,x\n", "utf-8")
    failed = runner.invoke(app, ["cems", "import", str(bad), "--db", url])
    assert failed.exit_code == 2 and "row 2" in failed.output and "column co2" in failed.output


def test_demo_kiln_stack_shows_every_case(sqlite_engine):
    """The demo's kiln stack monitor: 14 days of minute data with the planted events."""
    from datetime import date, timedelta
    from zoneinfo import ZoneInfo

    from nengtan.demo import build_demo, cems_demo
    from nengtan.timeseries.calendar import local_midnight_us

    today = date(2026, 11, 21)
    build_demo(sqlite_engine, today=today, start=today - timedelta(days=16))
    tz = ZoneInfo("Asia/Shanghai")
    with Session(sqlite_engine) as s:
        [monitor] = cems.list_monitors(s)
        assert (monitor.code, monitor.interval_s) == (cems_demo.CODE, 60)
    with sqlite_engine.connect() as conn:
        g = cems.gaps(conn, monitor.id, local_midnight_us(today - timedelta(days=30), tz),
                      local_midnight_us(today, tz), now_us=local_midnight_us(today, tz))
    s = g["summary"]
    assert (s["hours"], s["valid_hours"], s["invalid_hours"], s["missing_hours"]) == (
        336, 330, 5, 1)  # 14 days from active_from; 4 fault hours + 1 calibration hour
    found = [(x["start_local"][:16], x["status"], x["hours"],
              sorted({r.get("flag") for r in x["reasons"]} - {None})) for x in g["gaps"]]
    assert found == [("2026-11-12T14:00", "invalid", 4, ["D"]),
                     ("2026-11-15T03:00", "missing", 1, []),
                     ("2026-11-17T10:00", "invalid", 1, ["C"])]
    # 4000 t/d of clinker × 0.80 t CO2/t ≈ 133 t per hour while the kiln runs
    assert s["co2_t"] / s["valid_hours"] == pytest.approx(133.3, rel=0.02)
