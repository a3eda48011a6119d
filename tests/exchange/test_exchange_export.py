"""Exports and templates: the formats the import reads, round trips into an empty database."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import openpyxl
import pytest

from nengtan import exchange
from nengtan.errors import InputError
from nengtan.exchange.kinds import BY_NAME, KINDS, README_SHEET
from nengtan.services.production import FUEL_DELIVERY_FIELDS

DATA = {
    "nodes": "code,name_zh,name_en,kind,parent,timezone,region,address,sort_order\n"
             "P1,园区,Park,park,,Asia/Shanghai,jiangsu,\"1 Road, Suzhou\",0\n"
             "E1,企业,Co,enterprise,P1,,,,1\n"
             "S1,工厂,Plant,site,E1,,,,2\n"
             "U1,海外工厂,Overseas,site,E1,UTC,,,3\n",
    "meters": "code,name_zh,node,carrier,unit,kind,register,multiplier,parent_meter,formula,"
              "installed_on,estimate_gaps\n"
              "M1,总表,S1,electricity,kWh,physical,cumulative,40,,,2024-05-01,true\n"
              "M2,分表,S1,electricity,kWh,physical,interval,1,M1,,,false\n"
              "U-M,海外表,U1,electricity,kWh,physical,interval,1,,,,\n"
              "V1,合计,S1,electricity,kWh,virtual,interval,1,,{M1} + {M2},,\n",
    "meter_events": "meter,ts,kind,old_final_value,new_initial_value,note\n"
                    "M1,2025-01-01 12:00,replacement,1004.5,2.5,换表 \"A\"\n",
    "products": "code,name_zh,unit,standard_coefficient,description\n"
                "CEM,水泥,t,1.0,\"多行\n说明\"\n",
    "production": "node,product,period_start,period_end,quantity,source\n"
                  "S1,CEM,2025-01-01,2025-01-31,1234.5,ERP\n",
    "economics": "node,period_start,period_end,output_value,added_value,unit,price_basis\n"
                 "E1,2025-01-01,2025-01-31,100.25,20,万元,current\n"
                 "E1,2025-01-01,2025-01-31,98,19,万元,constant_2020\n",
    "fuel_deliveries": "node,carrier,delivered_on,quantity,unit,lot_no,ncv,ncv_unit,"
                       "carbon_content_pct\n"
                       "S1,bituminous_coal,2025-01-03,60.5,t,A-1,20500,kJ/kg,55.5\n",
    "readings": "meter,ts,value,quality,reason\n"
                "M1,2025-01-01 00:00,1000,,\n"
                "M1,2025-01-01 06:00,1002.25,estimated,interpolated\n"
                "M1,2025-01-01 12:00,1004.5,,\n"
                "M1,2025-01-01 18:00,10,,\n"
                "M2,2025-01-01 00:00,0.5,manual,read on site\n"
                "M2,2025-01-01 00:15,0.75,,\n"
                "U-M,2025-01-01 00:00,7,,\n",
}


@pytest.fixture
def full(engine, write):
    for kind in KINDS:
        exchange.import_file(engine, write(f"{kind}.csv", DATA[kind]))
    return engine


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.mark.parametrize("fmt,lang", [("csv", "en"), ("xlsx", "zh-CN"), ("csv", "zh-CN")])
def test_round_trip_into_an_empty_database(full, empty_engine, tmp_path, counts, fmt, lang):
    for kind in KINDS:
        path = tmp_path / f"{kind}.{fmt}"
        path.write_bytes(exchange.export(full, kind, fmt, lang))
        report = exchange.import_file(empty_engine, path)
        assert report.kinds == [kind]
    assert counts(empty_engine) == {**counts(full), "batches": 1}
    for kind in KINDS:
        assert exchange.export(empty_engine, kind) == exchange.export(full, kind), kind
    # And importing the export back into the source changes nothing.
    for kind in KINDS[:-1]:
        path = tmp_path / f"{kind}.{fmt}"
        again = exchange.import_file(full, path)
        assert again.created == again.updated == 0, kind
    assert exchange.import_file(full, tmp_path / f"readings.{fmt}").readings["unchanged"] == 7


def test_readings_export_known_answer(full):
    rows = rows_of(exchange.export(full, "readings"))
    assert rows[0] == ["meter", "ts", "value", "unit", "quality", "reason"]
    assert rows[1:] == [
        ["M1", "2025-01-01T00:00:00+08:00", "1000.0", "kWh", "measured", ""],
        ["M1", "2025-01-01T06:00:00+08:00", "1002.25", "kWh", "estimated", "interpolated"],
        ["M1", "2025-01-01T12:00:00+08:00", "1004.5", "kWh", "measured", ""],
        ["M1", "2025-01-01T18:00:00+08:00", "10.0", "kWh", "measured", ""],
        ["M2", "2025-01-01T00:00:00+08:00", "0.5", "kWh", "manual", "read on site"],
        ["M2", "2025-01-01T00:15:00+08:00", "0.75", "kWh", "measured", ""],
        ["U-M", "2025-01-01T00:00:00Z", "7.0", "kWh", "measured", ""],
    ]
    start = datetime(2025, 1, 1, 6, 0)  # naive: read in the site's timezone
    end = datetime(2025, 1, 1, 10, 0, tzinfo=timezone.utc)  # 18:00 at the site, exclusive
    some = rows_of(exchange.export(full, "readings", meters=["M1"], start=start, end=end))
    assert [r[1] for r in some[1:]] == ["2025-01-01T06:00:00+08:00", "2025-01-01T12:00:00+08:00"]


def test_record_exports_known_answer(full):
    nodes = rows_of(exchange.export(full, "nodes", lang="zh-CN"))
    assert nodes[0][:5] == ["编码", "名称", "英文名称", "类型", "上级编码"]
    assert [r[0] for r in nodes[1:]] == ["P1", "E1", "S1", "U1"]  # parents first
    assert nodes[1][9] == "1 Road, Suzhou"
    eco = rows_of(exchange.export(full, "economics"))
    assert [r[:7] for r in eco[1:]] == [
        ["E1", "2025-01-01", "2025-01-31", "980000.0", "190000.0", "CNY", "constant_2020"],
        ["E1", "2025-01-01", "2025-01-31", "1002500.0", "200000.0", "CNY", "current"]]
    events = rows_of(exchange.export(full, "meter_events"))
    assert events[1][:3] == ["M1", "2025-01-01T12:00:00+08:00", "replacement"]
    assert events[1][-1] == '换表 "A"'
    fuel = rows_of(exchange.export(full, "fuel_deliveries"))
    assert fuel[0] == [f.name for f in FUEL_DELIVERY_FIELDS]
    assert fuel[1][:4] == ["S1", "bituminous_coal", "2025-01-03", "60.5"]


def test_xlsx_layout(full):
    book = openpyxl.load_workbook(io.BytesIO(exchange.export(full, "meters", "xlsx", "zh-CN")))
    assert book.sheetnames == ["计量器具", README_SHEET]
    ws = book["计量器具"]
    assert ws.freeze_panes == "A2" and ws["A1"].value == "编码" and ws["A1"].font.b
    assert ws.column_dimensions["A"].width >= 8 and ws.max_row == 5
    prod = openpyxl.load_workbook(io.BytesIO(exchange.export(full, "production", "xlsx")))
    cell = prod["production"]["C2"]
    assert cell.is_date and cell.number_format == "yyyy-mm-dd"


@pytest.mark.parametrize("kind", KINDS)
def test_templates(engine, tmp_path, kind):
    spec = BY_NAME[kind]
    zh = exchange.template(kind)
    assert zh.startswith("\ufeff".encode())  # so that Excel shows the Chinese headers
    assert rows_of(zh) == [[f.label_zh for f in spec.fields]]
    assert rows_of(exchange.template(kind, "csv", "en")) == [[f.name for f in spec.fields]]
    assert exchange.export(engine, kind, "csv", "en", template=True) == \
        exchange.template(kind, "csv", "en")
    book = openpyxl.load_workbook(io.BytesIO(exchange.template(kind, "xlsx")))
    assert book.sheetnames == [spec.label_zh, README_SHEET]
    data = book[spec.label_zh]
    assert [c.value for c in data[1]] == [f.label_zh for f in spec.fields] and data.max_row == 1
    readme = [list(r) for r in book[README_SHEET].iter_rows(values_only=True)]
    documented = {r[0]: r for r in readme if r and r[0] in spec.specs}
    assert set(documented) == set(spec.specs)
    for f in spec.fields:
        row = documented[f.name]
        assert row[1] == f.label_zh and row[2] == f.label_en
        assert row[4] == ("是 yes" if f.required else "否 no")
    # An empty template is a valid file of its kind.
    for fmt in ("csv", "xlsx"):
        path = tmp_path / f"t.{fmt}"
        path.write_bytes(exchange.template(kind, fmt))
        report = exchange.import_file(engine, path)
        assert report.kinds == [kind] and report.rows == 0


def test_export_refuses_unknown_kind_format_and_meter(engine):
    with pytest.raises(InputError) as info:
        exchange.export(engine, "widgets", "pdf")
    assert [(i.field, i.rule) for i in info.value.issues] == [("kind", "rule.choice"),
                                                              ("format", "rule.choice")]
    with pytest.raises(InputError) as info:
        exchange.export(engine, "readings", meters=["NOPE"])
    assert [(i.field, i.value, i.rule) for i in info.value.issues] == [
        ("meters", "NOPE", "rule.meter_unknown")]
