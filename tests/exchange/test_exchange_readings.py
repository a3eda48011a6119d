"""Readings files: long and wide layouts, time zones, quality, units, errors, dry runs,
re-imports and a file of 200 000 rows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nengtan import exchange
from nengtan.errors import InputError
from nengtan.store.models import IngestBatch, Meter, Reading, ReadingRevision, RollupDay

UTC = timezone.utc

NODES = ("code,name_zh,kind,parent,timezone\n"
         "P1,园区,park,,Asia/Shanghai\n"
         "E1,企业,enterprise,P1,\n"
         "DE,德国工厂,site,E1,Europe/Berlin\n")
METERS = ("code,name_zh,node,carrier,unit,kind,register,formula\n"
          "M1,总表,E1,electricity,kWh,physical,cumulative,\n"
          "M2,分表,E1,electricity,kWh,physical,interval,\n"
          "G1,燃气,E1,natural_gas,m3,physical,cumulative,\n"
          "B1,柏林表,DE,electricity,kWh,physical,interval,\n"
          "V1,虚拟,E1,electricity,kWh,virtual,interval,{M1} + {M2}\n")


@pytest.fixture
def site(engine, write):
    exchange.import_file(engine, write("nodes.csv", NODES))
    exchange.import_file(engine, write("meters.csv", METERS))
    return engine


def stored(engine, code: str) -> list[tuple]:
    with Session(engine) as s:
        mid = s.scalar(select(Meter.id).where(Meter.code == code))
        return [tuple(r) for r in s.execute(
            select(Reading.ts, Reading.value, Reading.quality, Reading.reason)
            .where(Reading.meter_id == mid).order_by(Reading.ts))]


def refused(engine, path, **kw) -> list[tuple]:
    with pytest.raises(InputError) as info:
        exchange.import_file(engine, path, **kw)
    return [(i.sheet, i.row, i.field, i.rule) for i in info.value.issues]


def test_long_csv_known_answer(site, write):
    content = ("meter,ts,value,unit,quality,reason\n"
               "M1,2025-01-01 00:00,1000,,,\n"                  # site time (+08:00)
               "M1,2025-01-01T01:00:00+08:00,1010.5,,measured,\n"
               "M1,2024-12-31T18:00:00Z,1021,,1,interpolated\n"   # = 02:00 at the site
               "M1,2025/1/1 3:00,1.0315,MWh,人工,typed from the display\n"
               "G1,2025-01-01 00:00,5,万m3,rejected,meter stuck\n")
    report = exchange.import_file(site, write("r.csv", content))
    assert report.kinds == ["readings"] and report.rows == 5
    assert {k: report.readings[k] for k in ("rows", "inserted", "unchanged", "revised",
                                            "meters")} == {
        "rows": 5, "inserted": 5, "unchanged": 0, "revised": 0, "meters": 2}
    t0 = datetime(2024, 12, 31, 16, 0, tzinfo=UTC)
    assert stored(site, "M1") == [
        (t0, 1000.0, 0, None),
        (t0 + timedelta(hours=1), 1010.5, 0, None),
        (t0 + timedelta(hours=2), 1021.0, 1, "interpolated"),
        (t0 + timedelta(hours=3), 1031.5, 2, "typed from the display"),  # MWh → kWh
    ]
    assert stored(site, "G1") == [(t0, 50000.0, 3, "meter stuck")]
    with Session(site) as s:
        batch = s.scalar(select(IngestBatch))
        assert (batch.source, batch.source_detail, batch.sha256) == ("import", "r.csv",
                                                                     report.sha256)
        # Three hours of register differences on the site's local day 2025-01-01.
        m1 = s.scalar(select(Meter.id).where(Meter.code == "M1"))
        day = s.scalar(select(RollupDay.value).where(RollupDay.meter_id == m1))
        assert day == pytest.approx(31.5)


def test_naive_times_use_each_sites_timezone(site, write):
    content = "meter,ts,value\nB1,2025-07-01 00:00,1\nM2,2025-07-01 00:00,2\n"
    exchange.import_file(site, write("r.csv", content))
    assert stored(site, "B1")[0][0] == datetime(2025, 6, 30, 22, 0, tzinfo=UTC)  # CEST +02:00
    assert stored(site, "M2")[0][0] == datetime(2025, 6, 30, 16, 0, tzinfo=UTC)


def test_repeated_wall_clock_hour_is_ambiguous(site, write):
    # 02:30 happens twice in Berlin on 2025-10-26: without an offset the rows cannot be told
    # apart; with offsets they can.
    naive = "meter,ts,value\nB1,2025-10-26 02:30,1\nB1,2025-10-26 02:30,2\n"
    assert refused(site, write("n.csv", naive)) == [(None, 3, "ts", "rule.duplicate_in_file")]
    aware = "meter,ts,value\nB1,2025-10-26T02:30:00+02:00,1\nB1,2025-10-26T02:30:00+01:00,2\n"
    assert exchange.import_file(site, write("a.csv", aware)).readings["inserted"] == 2


def test_reimport_unchanged_then_revised(site, write, counts):
    content = "meter,ts,value\n" + "".join(
        f"M2,2025-01-01 {h:02d}:00,{h}\n" for h in range(24))
    first = exchange.import_file(site, write("r.csv", content))
    assert first.readings["inserted"] == 24
    before = counts(site)
    again = exchange.import_file(site, write("r.csv", content))
    assert (again.readings["inserted"], again.readings["unchanged"]) == (0, 24)
    assert counts(site)["readings"] == before["readings"]
    fixed = exchange.import_file(site, write("fix.csv", "meter,ts,value\nM2,2025-01-01 05:00,50\n"))
    assert (fixed.readings["revised"], fixed.readings["inserted"]) == (1, 0)
    with Session(site) as s:
        rev = s.scalar(select(ReadingRevision))
        assert (rev.old_value, rev.new_value) == (5.0, 50.0)


def test_wide_csv(site, write):
    content = ("时间,M1,M2,G1\n"
               "2025-01-01 00:00,100,1.5,7\n"
               "2025-01-01 00:15,101,,7.25\n"   # an empty cell is no reading
               ",,,\n"                          # a blank row
               "2025-01-01 00:30,102.5,2,\n")
    report = exchange.import_file(site, write("wide.csv", content))
    assert report.kinds == ["readings"] and report.rows == 3
    assert report.readings["inserted"] == 7 and report.readings["meters"] == 3
    t0 = datetime(2024, 12, 31, 16, 0, tzinfo=UTC)
    assert [(t, v) for t, v, *_ in stored(site, "M2")] == [
        (t0, 1.5), (t0 + timedelta(minutes=30), 2.0)]
    assert [v for _, v, *_ in stored(site, "M1")] == [100.0, 101.0, 102.5]


def test_wide_xlsx_with_excel_times_and_meters_in_the_same_workbook(engine, workbook, write):
    exchange.import_file(engine, write("nodes.csv", NODES))
    start = datetime(2025, 3, 1)
    rows = [["ts", "X1", "X2"]] + [[start + timedelta(minutes=15 * i), 10 + i, 2 * i]
                                    for i in range(96)]
    path = workbook("export.xlsx", {
        "Sheet1": rows,  # no kind in the name: recognised by the meter codes in its header
        "表计": [["code", "name_zh", "node", "carrier", "unit", "register"],
               ["X1", "一号", "E1", "electricity", "kWh", "cumulative"],
               ["X2", "二号", "E1", "electricity", "kWh", "interval"]],
    })
    report = exchange.import_file(engine, path)
    assert report.kinds == ["meters", "readings"]
    assert report.created == 2 and report.readings["inserted"] == 192
    x1 = stored(engine, "X1")
    assert x1[0][:2] == (datetime(2025, 2, 28, 16, 0, tzinfo=UTC), 10.0)
    assert x1[-1][:2] == (datetime(2025, 3, 1, 15, 45, tzinfo=UTC), 105.0)


def test_long_xlsx(site, workbook):
    path = workbook("r.xlsx", {"读数": [
        ["表计编码", "时间", "读数", "质量标记"],
        ["M2", datetime(2025, 1, 1, 0, 0), 3, 0],
        ["M2", "2025-01-01T00:15:00+08:00", 4.25, "estimated"],
    ]})
    report = exchange.import_file(site, path)
    assert report.readings["inserted"] == 2
    t0 = datetime(2024, 12, 31, 16, 0, tzinfo=UTC)
    assert [r[:3] for r in stored(site, "M2")] == [(t0, 3.0, 0),
                                                   (t0 + timedelta(minutes=15), 4.25, 1)]


def test_errors_name_rows_and_nothing_is_written(site, write, counts):
    before = counts(site)
    content = ("meter,ts,value,unit,quality,reason\n"
               "M1,2025-01-01 00:00,1,,,\n"            # 2 fine
               "NOPE,2025-01-01 00:00,1,,,\n"          # 3 unknown meter
               "M1,yesterday,1,,,\n"                   # 4 not a time
               "M1,2025-01-01 00:15,,,,\n"             # 5 no value
               "M1,2025-01-01T00:00:00+08:00,2,,,\n"   # 6 same instant as row 2
               "V1,2025-01-01 00:00,1,,,\n"            # 7 virtual meter
               "M1,2025-01-01 00:30,1,,rejected,\n"    # 8 rejected without reason
               "M1,2025-01-01 00:45,1,m3,,\n"          # 9 m3 is no energy unit
               "M1,2025-01-01 01:00,1,furlong,,\n"     # 10 unknown unit
               "M1,2025-01-01 01:15,1,,good,\n"        # 11 unknown quality
               "M1,1999-12-31 00:00,1,,,\n")           # 12 before 2000
    issues = refused(site, write("bad.csv", content))
    assert sorted(issues, key=lambda i: i[1]) == [
        (None, 3, "meter", "rule.meter_unknown"),
        (None, 4, "ts", "rule.type_datetime"),
        (None, 5, "value", "rule.required"),
        (None, 6, "ts", "rule.duplicate_in_file"),
        (None, 7, "meter", "rule.meter_virtual"),
        (None, 8, "reason", "rule.reason_required"),
        (None, 9, "unit", "rule.unit_mismatch"),
        (None, 10, "unit", "rule.unit_unknown"),
        (None, 11, "quality", "rule.quality"),
        (None, 12, "ts", "rule.ts_range"),
    ]
    assert counts(site) == before


def test_wide_errors(site, write, counts):
    before = counts(site)
    content = "时间,M1,NOPE\n2025-01-01 00:00,1,2\nnot a time,3,\n2025-01-01 00:30,x,\n"
    assert sorted(refused(site, write("w.csv", content)), key=lambda i: i[1]) == [
        (None, 1, "NOPE", "rule.meter_unknown"),
        (None, 3, "时间", "rule.type_datetime"),
        (None, 4, "M1", "rule.type_float"),
    ]
    assert counts(site) == before


def test_chinese_headers_in_messages(site, write):
    content = "表计编码,时间,读数\nM1,2025-01-01 00:00,abc\n"
    assert refused(site, write("zh.csv", content)) == [(None, 2, "读数", "rule.type_float")]


def test_dry_run_checks_and_writes_nothing(site, write, counts):
    before = counts(site)
    good = "meter,ts,value\nM1,2025-01-01 00:00,1\nM2,2025-01-01 00:00,2\n"
    report = exchange.import_file(site, write("r.csv", good), dry_run=True)
    assert report.dry_run and report.readings["rows"] == 2 and report.readings["inserted"] is None
    assert counts(site) == before
    bad = "meter,ts,value\nV1,2025-01-01 00:00,1\n"
    assert refused(site, write("b.csv", bad), dry_run=True) == [
        (None, 2, "meter", "rule.meter_virtual")]


def test_two_hundred_thousand_rows(site, write):
    n_per = 50_000
    base = np.datetime64("2024-01-01T00:00")
    times = np.datetime_as_string(base + np.arange(n_per) * np.timedelta64(15, "m"),
                                  unit="s").tolist()
    lines = ["meter,ts,value\n"]
    for code in ("M1", "M2"):
        lines += [f"{code},{t},{i * 0.25}\n" for i, t in enumerate(times)]
    lines += [f"G1,{t}+08:00,{i}\n" for i, t in enumerate(times)]
    lines += [f"B1,{t}Z,1\n" for t in times]
    report = exchange.import_file(site, write("big.csv", "".join(lines)))
    assert report.rows == 200_000 and report.readings["inserted"] == 200_000
    with Session(site) as s:
        assert s.scalar(select(func.count()).select_from(Reading)) == 200_000
        m1 = s.scalar(select(Meter.id).where(Meter.code == "M1"))
        total = s.scalar(select(func.sum(RollupDay.value)).where(RollupDay.meter_id == m1))
        # A cumulative register from 0 to 0.25·(n-1): every difference is counted once.
        assert total == pytest.approx(0.25 * (n_per - 1))
