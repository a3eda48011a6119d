"""Importing the record kinds: known answers in CSV and xlsx, Chinese headers, GBK, ordering,
idempotent re-imports, partial updates, multi-sheet workbooks."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from nengtan import exchange
from nengtan.store.models import (
    EconomicRecord,
    FuelDelivery,
    Meter,
    MeterEvent,
    Node,
    Product,
    ProductionRecord,
)

# Children come before their parents on purpose: the importer must order them.
NODES_CSV = """code,name_zh,name_en,kind,parent,timezone,region,sort_order,active
WS1,一车间,Workshop 1,workshop,S1,,,2,true
S1,一厂,Plant 1,site,E1,,,1,是
E1,示范企业,Demo Co,enterprise,P1,,shandong,,
P1,示范园区,Demo Park,park,,Asia/Shanghai,,,
"""

METERS_CSV = """\
code,name_zh,node,carrier,unit,kind,register,interval_s,multiplier,level,parent_meter,formula,\
installed_on
V-TOTAL,合计,S1,electricity,kWh,virtual,interval,900,,1,,{E-1} + {E-2},
E-2,二号表,WS1,electricity,kWh,physical,cumulative,900,80,3,E-1,,2024-03-01
E-1,总表,S1,electricity,kWh,physical,cumulative,900,1,1,,,2024-01-15
G-1,天然气表,S1,natural_gas,m3,physical,cumulative,3600,1,2,,,
"""


def import_text(engine, write, name, content, encoding="utf-8", **kw):
    return exchange.import_file(engine, write(name, content, encoding), **kw)


def setup_tree(engine, write):
    import_text(engine, write, "nodes.csv", NODES_CSV)
    import_text(engine, write, "meters.csv", METERS_CSV)


def test_nodes_csv_known_answer(engine, write):
    report = import_text(engine, write, "nodes.csv", NODES_CSV)
    assert report.kinds == ["nodes"]
    assert (report.rows, report.created, report.updated, report.unchanged) == (4, 4, 0, 0)
    assert report.readings is None and not report.dry_run and len(report.sha256) == 64
    with Session(engine) as s:
        nodes = {n.code: n for n in s.scalars(select(Node))}
    p, e, site, ws = nodes["P1"], nodes["E1"], nodes["S1"], nodes["WS1"]
    assert p.parent_id is None and p.timezone == "Asia/Shanghai" and p.depth == 0
    assert e.parent_id == p.id and e.region == "shandong" and e.name_en == "Demo Co"
    assert ws.path == f"/{p.id}/{e.id}/{site.id}/{ws.id}/" and ws.depth == 3
    # The tenant of everything below an enterprise is the enterprise.
    assert site.tenant_id == e.id and ws.tenant_id == e.id and p.tenant_id == p.id
    assert site.active is True and ws.sort_order == 2 and e.sort_order == 0


def test_reimport_is_idempotent_and_updates_only_differences(engine, write, counts):
    import_text(engine, write, "nodes.csv", NODES_CSV)
    before = counts(engine)
    again = import_text(engine, write, "nodes.csv", NODES_CSV)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert counts(engine) == before

    # A file with some columns changes those columns only, on the rows whose values differ:
    # no parent column keeps the parents, no sort_order column keeps the order.
    partial = "code,name_zh,kind,name_en\nS1,一厂,site,Plant One\nE1,示范企业,enterprise,Demo Co\n"
    report = import_text(engine, write, "names.csv", partial)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    with Session(engine) as s:
        site = s.scalar(select(Node).where(Node.code == "S1"))
        parent = s.scalar(select(Node).where(Node.code == "E1"))
        assert site.name_en == "Plant One" and site.name_zh == "一厂" and site.sort_order == 1
        assert site.parent_id == parent.id


def test_nodes_xlsx_with_chinese_headers(engine, workbook):
    path = workbook("组织.xlsx", {"组织机构": [
        ["编码", "名称", "类型", "上级编码", "行业代码"],
        ["P1", "园区", "park", None, None],
        ["E1", "企业", "enterprise", "P1", 3011],  # Excel stores a typed code as a number
        [None, None, None, None, None],  # blank rows are skipped
        ["S1", "厂区", "site", "E1", None],
    ]})
    report = exchange.import_file(engine, path)
    assert report.kinds == ["nodes"] and report.created == 3 and report.rows == 3
    with Session(engine) as s:
        e = s.scalar(select(Node).where(Node.code == "E1"))
        assert e.industry_code == "3011" and e.name_zh == "企业"


def test_meters_gbk_csv_with_chinese_headers(engine, write):
    import_text(engine, write, "nodes.csv", NODES_CSV)
    content = ("编码,名称,所属节点编码,能源品种,计量单位,读数方式,采集间隔（秒）,倍率,计量级别\n"
               "E-9,配电室进线,S1,electricity,kWh,cumulative,900,200,1\n"
               "S-9,蒸汽表,WS1,steam,t,interval,3600,1,2\n")
    report = import_text(engine, write, "表计.csv", content, encoding="gbk")
    assert report.kinds == ["meters"] and report.created == 2
    with Session(engine) as s:
        m = s.scalar(select(Meter).where(Meter.code == "E-9"))
        site = s.scalar(select(Node).where(Node.code == "S1"))
        assert m.name_zh == "配电室进线" and m.multiplier == 200.0 and m.level == 1
        assert m.node_id == site.id and m.tenant_id == site.tenant_id
        steam = s.scalar(select(Meter).where(Meter.code == "S-9"))
        assert steam.register == "interval" and steam.interval_s == 3600


def test_meters_in_dependency_order(engine, write):
    import_text(engine, write, "nodes.csv", NODES_CSV)
    report = import_text(engine, write, "meters.csv", METERS_CSV)
    assert report.created == 4
    with Session(engine) as s:
        by_code = {m.code: m for m in s.scalars(select(Meter))}
    assert by_code["E-2"].parent_meter_id == by_code["E-1"].id
    assert by_code["E-2"].multiplier == 80.0 and by_code["E-2"].installed_on == date(2024, 3, 1)
    assert by_code["V-TOTAL"].formula == "{E-1} + {E-2}" and by_code["V-TOTAL"].kind == "virtual"
    again = import_text(engine, write, "meters.csv", METERS_CSV)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)


def test_meter_events_times_in_site_timezone(engine, write):
    setup_tree(engine, write)
    events = ("meter,ts,kind,old_final_value,new_initial_value,new_multiplier,note\n"
              "E-1,2025-01-10 08:00,replacement,12345.5,0,,换表\n"
              "E-2,2025-01-11T00:00:00Z,multiplier_change,,,120,CT 600/5\n")
    report = import_text(engine, write, "events.csv", events)
    assert report.kinds == ["meter_events"] and report.created == 2
    with Session(engine) as s:
        rows = {e.kind: e for e in s.scalars(select(MeterEvent))}
    # 08:00 at an Asia/Shanghai site is 00:00 UTC.
    assert rows["replacement"].ts == datetime(2025, 1, 10, 0, 0, tzinfo=timezone.utc)
    assert rows["replacement"].old_final_value == 12345.5 and rows["replacement"].note == "换表"
    assert rows["multiplier_change"].ts == datetime(2025, 1, 11, tzinfo=timezone.utc)
    assert rows["multiplier_change"].new_multiplier == 120.0
    again = import_text(engine, write, "events.csv", events)
    assert (again.created, again.unchanged) == (0, 2)


def test_products_production_economics_fuel(engine, write):
    import_text(engine, write, "nodes.csv", NODES_CSV)
    products = ("code,name_zh,unit,standard_coefficient,sector\n"
                "CEM,水泥,t,1.0,cement\nCLK,熟料,t,1.2,cement\n")
    production = ("node,product,period_start,period_end,quantity,unit\n"
                  "S1,CEM,2025-01-01,2025-01-31,12000,t\n"
                  "S1,CLK,2025-01-01,2025-01-31,9.5,万吨\n")
    economics = ("node,period_start,period_end,output_value,added_value,unit\n"
                 "E1,2025-01-01,2025-01-31,1250.5,300,万元\n")
    fuel = ("node,carrier,delivered_on,quantity,unit,supplier,lot_no,ncv,ncv_unit,"
            "carbon_content_pct,lab,report_no,method\n"
            "S1,bituminous_coal,2025-01-05,500,t,晋煤,L-001,21000,kJ/kg,58.2,某检测中心,R-1,"
            "GB/T 213-2008\n"
            "S1,bituminous_coal,2025-01-05,480,t,晋煤,L-002,5000,kcal/kg,,,,\n")
    assert import_text(engine, write, "products.csv", products).created == 2
    assert import_text(engine, write, "production.csv", production).created == 2
    assert import_text(engine, write, "economics.csv", economics).created == 1
    assert import_text(engine, write, "fuel.csv", fuel).created == 2
    with Session(engine) as s:
        clk = s.scalar(select(Product).where(Product.code == "CLK"))
        assert clk.standard_coefficient == 1.2
        rec = s.scalar(select(ProductionRecord).where(ProductionRecord.product_id == clk.id))
        assert (rec.quantity, rec.unit, rec.period_end) == (9.5, "10^4 t", date(2025, 1, 31))
        eco = s.scalar(select(EconomicRecord))
        # 万元 are stored in CNY.
        assert eco.output_value == pytest.approx(12_505_000) and eco.added_value == 3_000_000
        lots = {f.lot_no: f for f in s.scalars(select(FuelDelivery))}
        # 21 000 kJ/kg = 21 000 MJ/t; 5 000 kcal/kg = 20 934 MJ/t.
        assert lots["L-001"].ncv_mj_per_unit == pytest.approx(21_000)
        assert lots["L-002"].ncv_mj_per_unit == pytest.approx(20_934)
        assert lots["L-001"].carbon_content_pct == 58.2 and lots["L-001"].method == "GB/T 213-2008"
    for name, content in (("products.csv", products), ("production.csv", production),
                          ("economics.csv", economics), ("fuel.csv", fuel)):
        again = import_text(engine, write, name, content)
        assert again.created == 0 and again.updated == 0, name
    # Economic data given again in CNY with the same amounts is unchanged.
    in_cny = ("node,period_start,period_end,output_value,added_value\n"
              "E1,2025-01-01,2025-01-31,12505000,3000000\n")
    assert import_text(engine, write, "eco2.csv", in_cny).unchanged == 1


def test_workbook_with_every_record_kind_in_one_transaction(engine, workbook, counts):
    # Sheets in reverse dependency order, named in Chinese and English.
    path = workbook("全部.xlsx", {
        "燃料到货": [["node", "carrier", "delivered_on", "quantity", "unit"],
                  ["S1", "diesel", date(2025, 2, 3), 12.5, "t"]],
        "经济数据": [["node", "period_start", "period_end", "output_value"],
                  ["E1", date(2025, 1, 1), date(2025, 1, 31), 1000]],
        "production": [["node", "product", "period_start", "period_end", "quantity"],
                       ["S1", "CEM", "2025-01-01", "2025-01-31", 100]],
        "products": [["code", "name_zh", "unit"], ["CEM", "水泥", "t"]],
        "表计事件": [["meter", "ts", "kind", "old_final_value", "new_initial_value"],
                 ["M1", datetime(2025, 1, 2, 10, 0), "reset", 999, 0]],
        "计量器具": [["code", "name_zh", "node", "carrier", "unit"],
                 ["M1", "表", "S1", "electricity", "kWh"]],
        "组织机构": [["code", "name_zh", "kind", "parent"], ["S1", "厂", "site", "E1"],
                 ["E1", "企", "enterprise", None]],
        "说明 README": [["this sheet is documentation and is not imported"]],
    })
    report = exchange.import_file(engine, path)
    assert report.kinds == ["nodes", "meters", "meter_events", "products", "production",
                            "economics", "fuel_deliveries"]
    assert report.created == 8 and report.rows == 8
    assert report.by_kind["nodes"] == {"rows": 2, "created": 2, "updated": 0, "unchanged": 0}
    c = counts(engine)
    assert (c["nodes"], c["meters"], c["meter_events"], c["products"], c["production"],
            c["economics"], c["fuel_deliveries"]) == (2, 1, 1, 1, 1, 1, 1)


def test_explicit_kind_and_english_labels(engine, write):
    content = "code,name (Chinese),kind,parent code\nP9,园区,park,\n"
    report = import_text(engine, write, "x.csv", content, kind="nodes")
    assert report.created == 1
    with Session(engine) as s:
        assert s.scalar(select(Node.name_zh).where(Node.code == "P9")) == "园区"


def test_dry_run_writes_nothing(engine, write, counts):
    before = counts(engine)
    report = import_text(engine, write, "nodes.csv", NODES_CSV, dry_run=True)
    assert report.dry_run and report.created == 4
    assert counts(engine) == before
