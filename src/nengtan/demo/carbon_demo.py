"""Carbon inventories (碳盘查) of the demo enterprises for the last calendar year, locked.

The period is the last whole calendar year of the demo window (a short window without one
uses the window itself).  Each inventory is computed from the park's data and locked: its
figures are frozen and ledgered (readings per meter-day, manual entries, fuel deliveries,
evidence files, factor values, source definitions, the result) with a signed checkpoint.

* CEM (cement, methodology ``cement`` GB/T 32151.8): bituminous coal burnt (coal feed meter
  CEM-C-201) with the quantity-weighted lab NCV and carbon content of the year's coal
  deliveries; clinker process emissions from the clinker output of the production records
  with CaO 65 % and MgO 2 % in clinker (source "demo lab" — a plausible composition of
  Portland clinker); diesel of the loaders (manual meter CEM-D-101, whose year-end reading is
  an approved manual entry with the oil depot's ledger as evidence); purchased electricity
  (CEM-E-101, CEM-E-102); the kiln-stack CEMS shown alongside (measurement, not counted).
* TEX (dyeing, GB/T 32150): natural gas (TEX-G-101) with the lab NCV of the gas deliveries;
  purchased electricity (TEX-E-101).
* ELE (electronics, GB/T 32150): purchased electricity (ELE-E-101), with green-electricity
  certificates for the market-based view (the certificate list is an evidence file);
  electricity exported to the park grid (ELE-E-102, deducted); rooftop PV self-use shown as a
  memo item.

Targets are set so that the alerts have something to say: TEX's budget is a little below its
emissions (the running total crosses it during the year).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from nengtan.config import get_settings
from nengtan.demo.context import Context
from nengtan.services import evidence, inventories, inventory_sources
from nengtan.services import manual_entries as entries
from nengtan.services.audit import Actor
from nengtan.store.models import Reading

SOURCE = "demo"
CEM_CLERK, CEM_ENERGY, CEM_CARBON = (Actor("wangfang", SOURCE), Actor("liqiang", SOURCE),
                                     Actor("zhaomin", SOURCE))
TEX_CARBON = Actor("sunhao", SOURCE)
ELE_CARBON = Actor("liuyang", SOURCE)
DIESEL = "CEM-D-101"
#: Green-electricity certificates bought by ELE for the year (MWh; 1 certificate = 1 MWh).
ELE_GREEN_MWH = 1000.0


def reporting_period(start: date, last: date) -> tuple[str, date, date]:
    """The last whole calendar year inside [start, last], else the window itself."""
    year = last.year if last == date(last.year, 12, 31) else last.year - 1
    if date(year, 1, 1) >= start:
        return str(year), date(year, 1, 1), date(year + 1, 1, 1)
    end = last + timedelta(days=1)
    return f"{start.isoformat()}/{end.isoformat()}", start, end


def add(engine: Engine, ctx: Context, ids: dict[str, int], start: date, last: date,
        tz: ZoneInfo) -> None:
    label, first, end = reporting_period(start, last)
    year = first.year
    tag = label if len(label) == 4 else f"{first:%Y%m%d}"
    root = get_settings().resolved_evidence_dir()
    # certificates cover a share of the year's purchases: a shorter window gets its share
    green = round(ELE_GREEN_MWH * min((end - first).days / 365.0, 1.0), 1)
    _diesel_year_end(engine, root, ids[DIESEL], end, tz)
    with Session(engine) as s, s.begin():
        cert = evidence.store(
            s, root, _csv([["证书编号", "电量(MWh)", "发电项目", "核发年份"],
                           [f"GEC-{year}-SD-000123", f"{green * 0.6:.1f}",
                            "鲁北风电场", str(year)],
                           [f"GEC-{year}-SD-000456", f"{green * 0.4:.1f}",
                            "沂蒙光伏电站", str(year)]]),
            filename=f"ELE_绿证清单_{tag}.csv", actor=ELE_CARBON, tenant="ELE",
            description="绿色电力证书清单 / green electricity certificates (demo)").id
        _inventories(s, label, tag, year, cert, green)
    for code, actor in ((f"INV-CEM-{tag}", CEM_CARBON), (f"INV-TEX-{tag}", TEX_CARBON),
                        (f"INV-ELE-{tag}", ELE_CARBON)):
        with Session(engine) as s, s.begin():
            inventories.lock(s, inventories.by_code(s, code).id, actor.user,
                             note="年度碳盘查定稿 / annual inventory final (demo)")


def _csv(rows: list[list[object]]) -> bytes:
    return ("\ufeff" + "\r\n".join(",".join(str(c) for c in r) for r in rows) + "\r\n").encode()


def _diesel_year_end(engine: Engine, root, meter_id: int, end: date, tz: ZoneInfo) -> None:
    """The period's closing reading of the loaders' diesel meter as an approved manual entry
    with the oil depot's ledger (the value the park already holds: figures do not change)."""
    ts = datetime(end.year, end.month, end.day, tzinfo=tz)
    with Session(engine) as s:
        value = s.scalar(select(Reading.value).where(Reading.meter_id == meter_id,
                                                     Reading.ts == ts))
    if value is None:
        return
    ledger = _csv([["日期", "领用单位", "车辆", "累计(kg)", "经手人"],
                   [f"{(end - timedelta(days=1)).isoformat()}", "原料车间", "装载机1#/2#",
                    f"{value:.0f}", "王芳"]])
    payload = {"meter": DIESEL, "ts": ts.isoformat(), "value": float(value), "unit": "kg",
               "reason": "油库发油台账期末累计 / closing total of the diesel ledger"}
    with Session(engine) as s, s.begin():
        file_id = evidence.store(s, root, ledger, filename=f"油库发油台账_{end:%Y%m%d}.csv",
                                 actor=CEM_CLERK, tenant="CEM",
                                 description="油库发油台账期末 / diesel ledger, closing").id
        entry = entries.create(s, "reading", payload, CEM_CLERK, note="盘查期末抄表",
                               submit=True, evidence_ids=[file_id]).id
    with Session(engine) as s, s.begin():
        entries.approve(s, entry, CEM_ENERGY, comment="与油库台账核对一致")


def _inventories(s: Session, label: str, tag: str, year: int, cert_id: int,
                 green: float) -> None:
    lab = {"value": 0.65, "unit": "fraction", "source": "demo lab: clinker XRF analysis "
                                                       "(plausible Portland clinker)",
           "status": "measured"}
    specs = [
        ({"code": f"INV-CEM-{tag}", "name_zh": f"鲁岳水泥 {label} 年度碳盘查",
          "name_en": f"Luyue Cement GHG inventory {label}", "enterprise": "CEM",
          "period": label, "base_year": year, "methodology": "cement",
          "operational_boundary": "熟料生产线（原料、烧成、煤磨、余热发电、公用工程）；不含厂外运输 / "
                                  "clinker line incl. raw mill, kiln, coal mill, waste-heat "
                                  "power, utilities; off-site transport excluded",
          "target_tco2e": 1_000_000, "target_period": "year",
          "target_source": "企业年度碳排放预算（演示） / annual budget (demo)",
          "created_by": CEM_CARBON.user}, [
            {"code": "CEM-COAL", "name_zh": "窑头窑尾燃煤", "name_en": "Coal fired in the kiln",
             "kind": "combustion", "carrier": "bituminous_coal", "facility": "CEM-KL",
             "links": [{"kind": "meter", "meter": "CEM-C-201"},
                       {"kind": "fuel_deliveries", "use": "params"}]},
            {"code": "CEM-CLINKER", "name_zh": "熟料生产过程排放",
             "name_en": "Clinker calcination (process)", "kind": "process",
             "carrier": "clinker", "facility": "CEM-KL",
             "params": {"cao_content": lab, "mgo_content": {**lab, "value": 0.02}},
             "links": [{"kind": "production", "product": "CLINKER"}]},
            {"code": "CEM-DIESEL", "name_zh": "装载机柴油", "name_en": "Diesel of the loaders",
             "kind": "combustion", "carrier": "diesel", "facility": "CEM-RM",
             "links": [{"kind": "meter", "meter": DIESEL}]},
            {"code": "CEM-GRID", "name_zh": "外购电力", "name_en": "Purchased electricity",
             "kind": "electricity", "links": ["CEM-E-101", "CEM-E-102"]},
            {"code": "CEM-CEMS", "name_zh": "窑尾烟囱 CEMS 实测（对照）",
             "name_en": "Kiln stack CEMS (cross-check)", "kind": "combustion",
             "carrier": "bituminous_coal", "method": "measurement", "counted": False,
             "facility": "CEM-KL",
             "description": "实测法对照，不计入总量 / measurement shown alongside, not counted",
             "links": [{"kind": "cems", "monitor": "CEM-CEMS-KT"}]},
        ]),
        ({"code": f"INV-TEX-{tag}", "name_zh": f"鲁丰印染 {label} 年度碳盘查",
          "name_en": f"Lufeng Dyeing GHG inventory {label}", "enterprise": "TEX",
          "period": label, "base_year": year, "methodology": "gbt32150",
          "operational_boundary": "印染厂区（前处理、染色、后整理、锅炉房、公用工程、办公楼） / "
                                  "dyeing plant site incl. boiler house, utilities, offices",
          "target_tco2e": 17_000, "target_period": "year",
          "target_source": "园区分配的年度碳预算（演示） / park budget (demo)",
          "created_by": TEX_CARBON.user}, [
            {"code": "TEX-GAS", "name_zh": "锅炉与定型机天然气",
             "name_en": "Natural gas (boiler, stenters)", "kind": "combustion",
             "carrier": "natural_gas", "facility": "TEX-BH",
             "links": [{"kind": "meter", "meter": "TEX-G-101"},
                       {"kind": "fuel_deliveries", "use": "params"}]},
            {"code": "TEX-GRID", "name_zh": "外购电力", "name_en": "Purchased electricity",
             "kind": "electricity", "links": ["TEX-E-101"]},
        ]),
        ({"code": f"INV-ELE-{tag}", "name_zh": f"齐鲁智联 {label} 年度碳盘查",
          "name_en": f"Qilu Zhilian Electronics GHG inventory {label}", "enterprise": "ELE",
          "period": label, "base_year": year, "methodology": "gbt32150",
          "operational_boundary": "电子厂区（SMT、组装、测试、公用工程、办公研发楼、屋顶光伏、储能） / "
                                  "electronics plant site incl. rooftop PV and storage",
          "target_tco2e": 250, "target_period": "month",
          "target_source": "企业月度碳预算（演示） / monthly budget (demo)",
          "created_by": ELE_CARBON.user}, [
            {"code": "ELE-GRID", "name_zh": "外购电力", "name_en": "Purchased electricity",
             "kind": "electricity",
             "links": ["ELE-E-101",
                       {"kind": "green_certificate", "value": green, "unit": "MWh",
                        "source": "绿色电力证书（演示） / green electricity certificates (demo)",
                        "reference": f"GEC-{year}-SD-000123, GEC-{year}-SD-000456",
                        "evidence_id": cert_id}]},
            {"code": "ELE-EXPORT", "name_zh": "上网电量（光伏余电）",
             "name_en": "Electricity exported to the park grid", "kind": "export_electricity",
             "links": ["ELE-E-102"]},
        ]),
    ]
    for inv_payload, sources in specs:
        inventories.create(s, inv_payload)
        for k, src in enumerate(sources):
            inventory_sources.create(s, {**src, "inventory": inv_payload["code"],
                                         "sort_order": k,
                                         "created_by": inv_payload["created_by"]})
