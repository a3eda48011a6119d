"""The demo park as data: organisation tree, meters, products and the electricity tariff.

Nothing here touches a database; :mod:`nengtan.demo.build` writes it through the services.
Multipliers are the CT × PT ratios of the metering points (a 10 kV feeder with CT 600/5 and
PT 10000/100 has 120 × 100 = 12 000), so cumulative registers hold secondary-side kWh.

Metering levels follow GB 17167-2006: level 1 at the boundary of an energy-using unit
(park and enterprise incoming), level 2 at its main secondary units (workshops, public
facilities, energy conversion stations), level 3 at main energy-using equipment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

PARK = "QLP"
TIMEZONE = "Asia/Shanghai"
REGION = "shandong"
TARIFF_CODE = "SD-TOU-IND"


@dataclass(frozen=True)
class NodeDef:
    code: str
    name_zh: str
    name_en: str
    kind: str
    parent: str | None = None
    extra: dict = field(default_factory=dict)

    def payload(self) -> dict:
        return {"code": self.code, "name_zh": self.name_zh, "name_en": self.name_en,
                "kind": self.kind, "parent": self.parent, **self.extra}


@dataclass(frozen=True)
class MeterDef:
    """A meter of the demo park.

    ``loss`` is not stored: it is the fraction lost between this meter and its sub-meters
    (cables, transformers, steam traps, pipe leaks), used when the generator rolls
    sub-meters up to their parent.
    """

    code: str
    name_zh: str
    name_en: str
    node: str
    level: int
    carrier: str = "electricity"
    unit: str = "kWh"
    kind: str = "physical"
    register: str = "cumulative"
    interval_s: int = 900
    multiplier: float = 1.0
    flow_from: str | None = None
    flow_to: str | None = None
    parent: str | None = None
    formula: str | None = None
    loss: float = 0.0
    description: str | None = None

    @property
    def decimals(self) -> int:
        """Register digits after the point: enough that one count is about 1 unit or less."""
        if self.carrier in ("natural_gas", "water"):
            return 1
        return max(2, math.ceil(math.log10(self.multiplier))) if self.multiplier > 1 else 2

    @property
    def is_fifteen_minute(self) -> bool:
        return self.kind == "physical" and self.interval_s == 900

    def payload(self, tariff: str | None) -> dict:
        data = {
            "code": self.code, "name_zh": self.name_zh, "name_en": self.name_en,
            "node": self.node, "carrier": self.carrier, "unit": self.unit, "kind": self.kind,
            "register": self.register, "interval_s": self.interval_s,
            "multiplier": self.multiplier, "level": self.level, "flow_from": self.flow_from,
            "flow_to": self.flow_to, "parent_meter": self.parent, "formula": self.formula,
            "description": self.description,
        }
        if self.carrier == "electricity" and tariff:
            data["tariff"] = tariff
        if self.interval_s > 86400:
            # Monthly manual readings: a month is up to 31 days, so allow a little more.
            data["gap_threshold_s"] = 35 * 86400
        return data


def _site(code, zh, en, parent):
    return NodeDef(code, zh, en, "site", parent)


NODES: tuple[NodeDef, ...] = (
    NodeDef(PARK, "齐鲁能碳示范产业园", "Qilu Energy-Carbon Demonstration Industrial Park", "park",
            None, {"timezone": TIMEZONE, "region": REGION,
                   "address": "山东省淄博市（示例地址）",
                   "description": "nengtan 演示园区：数据为确定性生成的模拟数据 / demo park, "
                                  "deterministic simulated data"}),
    # -- park public facilities (公共设施) --
    NodeDef("QLP-SUB", "园区110kV变电站", "Park 110 kV substation", "facility", PARK),
    NodeDef("QLP-WWTP", "园区污水处理厂", "Park wastewater treatment plant", "facility", PARK),
    NodeDef("QLP-WWTP-BLW", "曝气鼓风机房", "Aeration blowers", "equipment", "QLP-WWTP"),
    NodeDef("QLP-WWTP-LIFT", "进水提升泵房", "Influent lift pumps", "equipment", "QLP-WWTP"),
    NodeDef("QLP-WWTP-DEW", "污泥脱水机房", "Sludge dewatering", "equipment", "QLP-WWTP"),
    NodeDef("QLP-WS", "园区供水加压站", "Park water booster station", "facility", PARK),
    NodeDef("QLP-SL", "园区道路照明", "Park street lighting", "facility", PARK),
    NodeDef("QLP-ADM", "管委会综合服务楼", "Park administration building", "facility", PARK),
    NodeDef("QLP-ADM-HVAC", "服务楼空调系统", "Administration building HVAC", "equipment",
            "QLP-ADM"),
    NodeDef("QLP-EV", "园区公共充电站", "Park public EV charging station", "facility", PARK),
    # -- cement clinker plant (水泥熟料) --
    NodeDef("CEM", "山东鲁岳水泥有限公司", "Shandong Luyue Cement Co., Ltd.", "enterprise", PARK,
            {"industry_code": "3011",
             "description": "4000 t/d 新型干法水泥熟料生产线，配套 9 MW 余热发电"}),
    _site("CEM-S1", "熟料生产基地", "Clinker production site", "CEM"),
    NodeDef("CEM-RM", "原料车间", "Raw material workshop", "workshop", "CEM-S1"),
    NodeDef("CEM-KL", "烧成车间", "Clinker burning workshop", "workshop", "CEM-S1"),
    NodeDef("CEM-CM", "煤粉制备车间", "Coal grinding workshop", "workshop", "CEM-S1"),
    NodeDef("CEM-WHR", "余热发电站", "Waste heat power station", "workshop", "CEM-S1"),
    NodeDef("CEM-UT", "公辅车间", "Utilities workshop", "workshop", "CEM-S1"),
    NodeDef("CEM-RM-CR", "石灰石破碎机", "Limestone crusher", "equipment", "CEM-RM"),
    NodeDef("CEM-RM-VRM", "生料立磨", "Raw meal vertical roller mill", "equipment", "CEM-RM"),
    NodeDef("CEM-RM-FAN", "生料磨循环风机", "Raw mill circulating fan", "equipment", "CEM-RM"),
    NodeDef("CEM-RM-HOM", "生料均化及入窑输送", "Raw meal homogenisation and kiln feed",
            "equipment", "CEM-RM"),
    NodeDef("CEM-KL-DRV", "回转窑主传动", "Rotary kiln main drive", "equipment", "CEM-KL"),
    NodeDef("CEM-KL-IDF", "窑尾高温风机", "Preheater ID fan", "equipment", "CEM-KL"),
    NodeDef("CEM-KL-CLR", "篦冷机风机组", "Grate cooler fans", "equipment", "CEM-KL"),
    NodeDef("CEM-KL-TEX", "窑尾排风机", "Kiln inlet exhaust fan", "equipment", "CEM-KL"),
    NodeDef("CEM-KL-HEX", "窑头排风机", "Kiln hood exhaust fan", "equipment", "CEM-KL"),
    NodeDef("CEM-CM-MILL", "煤磨主电机", "Coal mill main motor", "equipment", "CEM-CM"),
    NodeDef("CEM-CM-FAN", "煤磨排风机", "Coal mill exhaust fan", "equipment", "CEM-CM"),
    NodeDef("CEM-UT-AIR", "空压站", "Compressed air station", "equipment", "CEM-UT"),
    NodeDef("CEM-UT-PMP", "循环水泵房", "Cooling water pump house", "equipment", "CEM-UT"),
    NodeDef("CEM-UT-OFF", "办公楼及厂区照明", "Offices and site lighting", "equipment", "CEM-UT"),
    # -- textile dyeing and finishing plant (印染) --
    NodeDef("TEX", "山东鲁丰印染有限公司", "Shandong Lufeng Dyeing & Finishing Co., Ltd.",
            "enterprise", PARK,
            {"industry_code": "1713",
             "description": "棉及混纺梭织物印染，设计能力 9 万米/日；20 t/h 燃气蒸汽锅炉"}),
    _site("TEX-S1", "印染厂区", "Dyeing plant site", "TEX"),
    NodeDef("TEX-PT", "前处理车间", "Pretreatment workshop", "workshop", "TEX-S1"),
    NodeDef("TEX-DY", "染色车间", "Dyeing workshop", "workshop", "TEX-S1"),
    NodeDef("TEX-FN", "后整理车间", "Finishing workshop", "workshop", "TEX-S1"),
    NodeDef("TEX-BH", "锅炉房", "Boiler house", "workshop", "TEX-S1"),
    NodeDef("TEX-UT", "公用工程", "Utilities", "workshop", "TEX-S1"),
    NodeDef("TEX-OFF", "综合办公楼", "Office building", "facility", "TEX-S1"),
    NodeDef("TEX-PT-DSB", "退煮漂联合机", "Desizing-scouring-bleaching range", "equipment",
            "TEX-PT"),
    NodeDef("TEX-PT-MER", "丝光机", "Mercerising range", "equipment", "TEX-PT"),
    NodeDef("TEX-DY-JET", "溢流染色机组", "Jet dyeing machines", "equipment", "TEX-DY"),
    NodeDef("TEX-DY-PAD", "连续轧染机", "Continuous pad-dyeing range", "equipment", "TEX-DY"),
    NodeDef("TEX-FN-ST1", "1#定形机", "Stenter No. 1", "equipment", "TEX-FN"),
    NodeDef("TEX-FN-ST2", "2#定形机", "Stenter No. 2", "equipment", "TEX-FN"),
    NodeDef("TEX-FN-SHR", "预缩机", "Pre-shrinking range", "equipment", "TEX-FN"),
    NodeDef("TEX-BH-AUX", "锅炉给水泵及风机", "Boiler feed pumps and fans", "equipment", "TEX-BH"),
    NodeDef("TEX-UT-AIR", "空压站", "Compressed air station", "equipment", "TEX-UT"),
    NodeDef("TEX-UT-WWT", "污水预处理站", "Wastewater pretreatment", "equipment", "TEX-UT"),
    # -- electronics assembly plant (电子装配) --
    NodeDef("ELE", "齐鲁智联电子科技有限公司", "Qilu Zhilian Electronics Technology Co., Ltd.",
            "enterprise", PARK,
            {"industry_code": "3982",
             "description": "智能控制器 PCBA 贴片与整机装配；屋顶光伏 1.2 MWp，储能 0.5 MW/2 MWh"}),
    _site("ELE-S1", "电子产业园厂区", "Electronics plant site", "ELE"),
    NodeDef("ELE-SMT", "SMT车间", "SMT workshop", "workshop", "ELE-S1"),
    NodeDef("ELE-ASM", "组装车间", "Assembly workshop", "workshop", "ELE-S1"),
    NodeDef("ELE-TST", "测试老化车间", "Test and burn-in workshop", "workshop", "ELE-S1"),
    NodeDef("ELE-UT", "动力站", "Utilities plant", "workshop", "ELE-S1"),
    NodeDef("ELE-OFF", "办公研发楼", "Office and R&D building", "facility", "ELE-S1"),
    NodeDef("ELE-PV", "屋顶光伏电站", "Rooftop PV plant", "facility", "ELE-S1"),
    NodeDef("ELE-ESS", "储能电站", "Battery energy storage", "facility", "ELE-S1"),
    NodeDef("ELE-SMT-L1", "SMT 1线", "SMT line 1", "line", "ELE-SMT"),
    NodeDef("ELE-SMT-L2", "SMT 2线", "SMT line 2", "line", "ELE-SMT"),
    NodeDef("ELE-SMT-L3", "SMT 3线", "SMT line 3", "line", "ELE-SMT"),
    NodeDef("ELE-ASM-LA", "总装A线", "Assembly line A", "line", "ELE-ASM"),
    NodeDef("ELE-ASM-LB", "总装B线", "Assembly line B", "line", "ELE-ASM"),
    NodeDef("ELE-TST-BI", "老化房", "Burn-in rooms", "equipment", "ELE-TST"),
    NodeDef("ELE-UT-CH", "冷水机组", "Chillers", "equipment", "ELE-UT"),
    NodeDef("ELE-UT-AIR", "空压机组", "Air compressors", "equipment", "ELE-UT"),
    NodeDef("ELE-UT-MAU", "洁净室新风机组", "Clean-room make-up air units", "equipment", "ELE-UT"),
)


def _e(code, zh, en, node, level, mult, parent=None, frm=None, to=None, **kw) -> MeterDef:
    return MeterDef(code, zh, en, node, level, multiplier=float(mult), parent=parent,
                    flow_from=frm, flow_to=to, **kw)


def _daily(code, zh, en, node, level, carrier, unit, parent=None, frm=None, to=None, **kw):
    return MeterDef(code, zh, en, node, level, carrier=carrier, unit=unit, interval_s=86400,
                    parent=parent, flow_from=frm, flow_to=to, **kw)


def _ems(code, zh, en, node, level, parent, frm, to, carrier="electricity") -> MeterDef:
    """An interval meter read through the plant EMS gateway (kWh per 15 min, primary side)."""
    return MeterDef(code, zh, en, node, level, carrier=carrier, register="interval",
                    parent=parent, flow_from=frm, flow_to=to)


_CEM_L2 = ("CEM-E-201", "CEM-E-202", "CEM-E-203", "CEM-E-204", "CEM-E-205")

METERS: tuple[MeterDef, ...] = (
    # ---------------- park ----------------
    _e("QLP-E-001", "110kV 1#进线", "110 kV incoming line 1", "QLP-SUB", 1, 66000,
       to="QLP-SUB", loss=0.012, description="CT 300/5, PT 110000/100"),
    _e("QLP-E-002", "110kV 2#进线", "110 kV incoming line 2", "QLP-SUB", 1, 66000,
       to="QLP-SUB", loss=0.012, description="CT 300/5, PT 110000/100"),
    _e("QLP-E-201", "污水处理厂进线", "WWTP feeder", "QLP-WWTP", 2, 1000, "QLP-E-002", "QLP-SUB",
       to="QLP-WWTP", loss=0.006),
    _e("QLP-E-301", "曝气鼓风机", "Aeration blowers", "QLP-WWTP-BLW", 3, 60, "QLP-E-201",
       "QLP-WWTP", "QLP-WWTP-BLW"),
    _e("QLP-E-302", "进水提升泵", "Influent lift pumps", "QLP-WWTP-LIFT", 3, 20, "QLP-E-201",
       "QLP-WWTP", "QLP-WWTP-LIFT"),
    _e("QLP-E-303", "污泥脱水机", "Sludge dewatering", "QLP-WWTP-DEW", 3, 20, "QLP-E-201",
       "QLP-WWTP", "QLP-WWTP-DEW"),
    _e("QLP-E-202", "供水加压站", "Water booster station", "QLP-WS", 2, 30, "QLP-E-002", "QLP-SUB",
       to="QLP-WS"),
    _e("QLP-E-203", "道路照明", "Street lighting", "QLP-SL", 2, 20, "QLP-E-001", "QLP-SUB",
       "QLP-SL"),
    _e("QLP-E-204", "综合服务楼", "Administration building", "QLP-ADM", 2, 80, "QLP-E-002",
       "QLP-SUB", "QLP-ADM", loss=0.004),
    _e("QLP-E-304", "服务楼空调", "Administration building HVAC", "QLP-ADM-HVAC", 3, 60,
       "QLP-E-204", "QLP-ADM", "QLP-ADM-HVAC"),
    _e("QLP-E-205", "公共充电站", "Public EV charging station", "QLP-EV", 2, 1500, "QLP-E-002",
       "QLP-SUB", "QLP-EV", description="10 台 120 kW 直流充电桩"),
    MeterDef("QLP-V-001", "园区变损及线损", "Park transformer and line losses", "QLP-SUB", 1,
             kind="virtual",
             formula="{QLP-E-001} + {QLP-E-002} - {CEM-E-101} - {CEM-E-102} - {TEX-E-101}"
                     " - {ELE-E-101} + {ELE-E-102} - {QLP-E-201} - {QLP-E-202} - {QLP-E-203}"
                     " - {QLP-E-204} - {QLP-E-205}",
             description="进线电量 − 各企业净购电 − 公共设施用电"),
    _daily("QLP-W-101", "市政来水总表", "Municipal water inlet", "QLP-WS", 1, "water", "t",
           to="QLP-WS", loss=0.05, description="DN300 电磁流量计，日冻结读数"),
    _daily("QLP-W-201", "公共设施用水", "Public facilities water", "QLP-WS", 2, "water", "t",
           parent="QLP-W-101", frm="QLP-WS", to="QLP-WWTP"),
    # ---------------- cement ----------------
    _e("CEM-E-101", "10kV 1#进线", "10 kV incoming line 1", "CEM-S1", 1, 12000, "QLP-E-001",
       "QLP-SUB", "CEM-S1", description="CT 600/5, PT 10000/100"),
    _e("CEM-E-102", "10kV 2#进线", "10 kV incoming line 2", "CEM-S1", 1, 12000, "QLP-E-002",
       "QLP-SUB", "CEM-S1", description="CT 600/5, PT 10000/100"),
    MeterDef("CEM-E-190", "余热发电机出口", "Waste heat generator output", "CEM-WHR", 2,
             carrier="electricity_whr", multiplier=8400.0, flow_from="CEM-WHR", flow_to="CEM-S1",
             description="9 MW 纯低温余热发电，CT 400/5, PT 10500/100"),
    MeterDef("CEM-V-100", "全厂用电量", "Plant electricity use", "CEM-S1", 1, kind="virtual",
             formula="{CEM-E-101} + {CEM-E-102} + {CEM-E-190}", loss=0.012,
             description="外购电 + 余热发电"),
    MeterDef("CEM-V-101", "未计量损耗", "Unmetered use and losses", "CEM-S1", 2, kind="virtual",
             formula="{CEM-E-101} + {CEM-E-102} + {CEM-E-190} - "
                     + " - ".join(f"{{{c}}}" for c in _CEM_L2),
             description="全厂用电量 − 各车间计量之和（变压器损耗及未计量负荷）"),
    _e("CEM-E-201", "原料车间", "Raw material workshop", "CEM-RM", 2, 8000, "CEM-V-100",
       "CEM-S1", "CEM-RM", loss=0.006),
    _e("CEM-E-202", "烧成车间", "Clinker burning workshop", "CEM-KL", 2, 8000, "CEM-V-100",
       "CEM-S1", "CEM-KL", loss=0.006),
    _e("CEM-E-203", "煤粉制备车间", "Coal grinding workshop", "CEM-CM", 2, 2000, "CEM-V-100",
       "CEM-S1", "CEM-CM", loss=0.006),
    _e("CEM-E-204", "公辅车间", "Utilities workshop", "CEM-UT", 2, 1500, "CEM-V-100", "CEM-S1",
       "CEM-UT", loss=0.006),
    _e("CEM-E-205", "余热电站厂用电", "Waste heat station auxiliaries", "CEM-WHR", 2, 200,
       "CEM-V-100", "CEM-S1", "CEM-WHR"),
    _e("CEM-E-301", "石灰石破碎机", "Limestone crusher", "CEM-RM-CR", 3, 1500, "CEM-E-201",
       "CEM-RM", "CEM-RM-CR"),
    _e("CEM-E-302", "生料立磨主电机", "Raw mill main motor", "CEM-RM-VRM", 3, 3000,
       "CEM-E-201", "CEM-RM", "CEM-RM-VRM"),
    _e("CEM-E-303", "生料磨循环风机", "Raw mill circulating fan", "CEM-RM-FAN", 3, 4000,
       "CEM-E-201", "CEM-RM", "CEM-RM-FAN"),
    _e("CEM-E-304", "生料均化及入窑输送", "Homogenisation and kiln feed", "CEM-RM-HOM", 3, 120,
       "CEM-E-201", "CEM-RM", "CEM-RM-HOM"),
    _e("CEM-E-311", "回转窑主传动", "Kiln main drive", "CEM-KL-DRV", 3, 160, "CEM-E-202",
       "CEM-KL", "CEM-KL-DRV"),
    _e("CEM-E-312", "窑尾高温风机", "Preheater ID fan", "CEM-KL-IDF", 3, 2000, "CEM-E-202",
       "CEM-KL", "CEM-KL-IDF"),
    _e("CEM-E-313", "篦冷机风机组", "Grate cooler fans", "CEM-KL-CLR", 3, 400, "CEM-E-202",
       "CEM-KL", "CEM-KL-CLR"),
    _e("CEM-E-314", "窑尾排风机", "Kiln inlet exhaust fan", "CEM-KL-TEX", 3, 800, "CEM-E-202",
       "CEM-KL", "CEM-KL-TEX"),
    _e("CEM-E-315", "窑头排风机", "Kiln hood exhaust fan", "CEM-KL-HEX", 3, 120, "CEM-E-202",
       "CEM-KL", "CEM-KL-HEX"),
    _e("CEM-E-321", "煤磨主电机", "Coal mill main motor", "CEM-CM-MILL", 3, 600, "CEM-E-203",
       "CEM-CM", "CEM-CM-MILL"),
    _e("CEM-E-322", "煤磨排风机", "Coal mill exhaust fan", "CEM-CM-FAN", 3, 80, "CEM-E-203",
       "CEM-CM", "CEM-CM-FAN"),
    _e("CEM-E-331", "空压站", "Compressed air station", "CEM-UT-AIR", 3, 200, "CEM-E-204",
       "CEM-UT", "CEM-UT-AIR"),
    _e("CEM-E-332", "循环水泵房", "Cooling water pumps", "CEM-UT-PMP", 3, 120, "CEM-E-204",
       "CEM-UT", "CEM-UT-PMP"),
    _e("CEM-E-333", "办公及厂区照明", "Offices and lighting", "CEM-UT-OFF", 3, 40, "CEM-E-204",
       "CEM-UT", "CEM-UT-OFF"),
    _daily("CEM-C-201", "入磨原煤皮带秤", "Raw coal belt scale (mill feed)", "CEM-CM", 2,
           "bituminous_coal", "t", to="CEM-CM", loss=0.07,
           description="收到基原煤；煤磨烘干失水约 7%"),
    _daily("CEM-C-301", "窑头喂煤秤", "Kiln burner coal feeder", "CEM-KL", 3, "bituminous_coal",
           "t", parent="CEM-C-201", frm="CEM-CM", to="CEM-KL"),
    _daily("CEM-C-302", "分解炉喂煤秤", "Calciner coal feeder", "CEM-KL", 3, "bituminous_coal",
           "t", parent="CEM-C-201", frm="CEM-CM", to="CEM-KL"),
    _daily("CEM-M-301", "入窑生料秤", "Kiln feed raw meal scale", "CEM-KL", 3, "raw_meal", "t",
           frm="CEM-RM", to="CEM-KL"),
    _daily("CEM-W-101", "全厂新水表", "Plant fresh water", "CEM-S1", 1, "water", "t",
           parent="QLP-W-101", frm="QLP-WS", to="CEM-S1"),
    MeterDef("CEM-D-101", "装载机柴油领用", "Loader diesel issued", "CEM-RM", 2, carrier="diesel",
             unit="kg", kind="manual", interval_s=31 * 86400, flow_to="CEM-RM",
             description="油库发油台账：每月1日录入累计发油量（手工录入）"),
    # ---------------- textile ----------------
    _e("TEX-E-101", "10kV进线", "10 kV incoming line", "TEX-S1", 1, 3000, "QLP-E-001", "QLP-SUB",
       to="TEX-S1", loss=0.011, description="CT 150/5, PT 10000/100"),
    _e("TEX-E-201", "前处理车间", "Pretreatment workshop", "TEX-PT", 2, 120, "TEX-E-101",
       "TEX-S1", "TEX-PT", loss=0.005),
    _e("TEX-E-202", "染色车间", "Dyeing workshop", "TEX-DY", 2, 160, "TEX-E-101", "TEX-S1",
       "TEX-DY", loss=0.005),
    _e("TEX-E-203", "后整理车间", "Finishing workshop", "TEX-FN", 2, 160, "TEX-E-101",
       "TEX-S1", "TEX-FN", loss=0.005),
    _e("TEX-E-204", "锅炉房", "Boiler house", "TEX-BH", 2, 40, "TEX-E-101", "TEX-S1", "TEX-BH",
       loss=0.005),
    _e("TEX-E-205", "公用工程", "Utilities", "TEX-UT", 2, 60, "TEX-E-101", "TEX-S1", "TEX-UT",
       loss=0.005),
    _e("TEX-E-206", "综合办公楼", "Office building", "TEX-OFF", 2, 20, "TEX-E-101", "TEX-S1",
       "TEX-OFF"),
    _e("TEX-E-301", "退煮漂联合机", "Desizing-scouring-bleaching range", "TEX-PT-DSB", 3, 40,
       "TEX-E-201", "TEX-PT", "TEX-PT-DSB"),
    _e("TEX-E-302", "丝光机", "Mercerising range", "TEX-PT-MER", 3, 30, "TEX-E-201", "TEX-PT",
       "TEX-PT-MER"),
    _e("TEX-E-311", "溢流染色机组", "Jet dyeing machines", "TEX-DY-JET", 3, 80, "TEX-E-202",
       "TEX-DY", "TEX-DY-JET"),
    _e("TEX-E-312", "连续轧染机", "Continuous pad-dyeing range", "TEX-DY-PAD", 3, 50,
       "TEX-E-202", "TEX-DY", "TEX-DY-PAD"),
    _e("TEX-E-321", "1#定形机", "Stenter No. 1", "TEX-FN-ST1", 3, 60, "TEX-E-203", "TEX-FN",
       "TEX-FN-ST1"),
    _e("TEX-E-322", "2#定形机", "Stenter No. 2", "TEX-FN-ST2", 3, 60, "TEX-E-203", "TEX-FN",
       "TEX-FN-ST2"),
    _e("TEX-E-323", "预缩机", "Pre-shrinking range", "TEX-FN-SHR", 3, 20, "TEX-E-203", "TEX-FN",
       "TEX-FN-SHR"),
    _e("TEX-E-331", "锅炉给水泵及风机", "Boiler feed pumps and fans", "TEX-BH-AUX", 3, 30,
       "TEX-E-204", "TEX-BH", "TEX-BH-AUX"),
    _e("TEX-E-341", "空压站", "Compressed air station", "TEX-UT-AIR", 3, 40, "TEX-E-205",
       "TEX-UT", "TEX-UT-AIR"),
    _e("TEX-E-342", "污水预处理站", "Wastewater pretreatment", "TEX-UT-WWT", 3, 20, "TEX-E-205",
       "TEX-UT", "TEX-UT-WWT"),
    _daily("TEX-G-101", "天然气总表", "Natural gas main meter", "TEX-S1", 1, "natural_gas", "m3",
           to="TEX-S1", loss=0.002, description="门站涡轮流量计（工况体积经温压补偿）"),
    _daily("TEX-G-201", "锅炉燃气表", "Boiler gas meter", "TEX-BH", 2, "natural_gas", "m3",
           parent="TEX-G-101", frm="TEX-S1", to="TEX-BH"),
    _daily("TEX-G-202", "定形机燃气表", "Stenter gas meter", "TEX-FN", 2, "natural_gas", "m3",
           parent="TEX-G-101", frm="TEX-S1", to="TEX-FN"),
    _daily("TEX-S-201", "锅炉蒸汽出口", "Boiler steam output", "TEX-BH", 2, "steam", "t",
           frm="TEX-BH", to="TEX-S1", loss=0.05, description="1.0 MPa 饱和蒸汽，涡街流量计"),
    _daily("TEX-S-301", "前处理用汽", "Pretreatment steam", "TEX-PT", 3, "steam", "t",
           parent="TEX-S-201", frm="TEX-S1", to="TEX-PT"),
    _daily("TEX-S-302", "染色用汽", "Dyeing steam", "TEX-DY", 3, "steam", "t",
           parent="TEX-S-201", frm="TEX-S1", to="TEX-DY"),
    _daily("TEX-S-303", "后整理用汽", "Finishing steam", "TEX-FN", 3, "steam", "t",
           parent="TEX-S-201", frm="TEX-S1", to="TEX-FN"),
    _daily("TEX-W-101", "新水总表", "Fresh water main meter", "TEX-S1", 1, "water", "t",
           parent="QLP-W-101", frm="QLP-WS", to="TEX-S1", loss=0.02),
    _daily("TEX-W-201", "染色车间用水", "Dyeing workshop water", "TEX-DY", 2, "water", "t",
           parent="TEX-W-101", frm="TEX-S1", to="TEX-DY"),
    # ---------------- electronics ----------------
    _e("ELE-E-101", "10kV进线正向有功", "10 kV incoming, import register", "ELE-S1", 1, 4000,
       "QLP-E-002", "QLP-SUB", to="ELE-S1", loss=0.01, description="双向计量表正向有功，CT 200/5"),
    _e("ELE-E-102", "10kV进线反向有功", "10 kV incoming, export register", "ELE-S1", 1, 4000,
       frm="ELE-S1", to="QLP-SUB", description="双向计量表反向有功（光伏余电上网）"),
    MeterDef("ELE-V-101", "净购电量", "Net electricity purchased", "ELE-S1", 1, kind="virtual",
             formula="{ELE-E-101} - {ELE-E-102}", description="正向有功 − 反向有功"),
    _e("ELE-E-201", "SMT车间", "SMT workshop", "ELE-SMT", 2, 120, "ELE-E-101", "ELE-S1",
       "ELE-SMT", loss=0.004),
    _e("ELE-E-202", "组装车间", "Assembly workshop", "ELE-ASM", 2, 40, "ELE-E-101", "ELE-S1",
       "ELE-ASM", loss=0.004),
    _e("ELE-E-203", "测试老化车间", "Test and burn-in workshop", "ELE-TST", 2, 60, "ELE-E-101",
       "ELE-S1", "ELE-TST", loss=0.004),
    _e("ELE-E-204", "动力站", "Utilities plant", "ELE-UT", 2, 160, "ELE-E-101", "ELE-S1",
       "ELE-UT", loss=0.004),
    _e("ELE-E-205", "办公研发楼", "Office and R&D building", "ELE-OFF", 2, 40, "ELE-E-101",
       "ELE-S1", "ELE-OFF"),
    _ems("ELE-E-301", "SMT 1线", "SMT line 1", "ELE-SMT-L1", 3, "ELE-E-201", "ELE-SMT",
         "ELE-SMT-L1"),
    _ems("ELE-E-302", "SMT 2线", "SMT line 2", "ELE-SMT-L2", 3, "ELE-E-201", "ELE-SMT",
         "ELE-SMT-L2"),
    _ems("ELE-E-303", "SMT 3线", "SMT line 3", "ELE-SMT-L3", 3, "ELE-E-201", "ELE-SMT",
         "ELE-SMT-L3"),
    _ems("ELE-E-311", "总装A线", "Assembly line A", "ELE-ASM-LA", 3, "ELE-E-202", "ELE-ASM",
         "ELE-ASM-LA"),
    _ems("ELE-E-312", "总装B线", "Assembly line B", "ELE-ASM-LB", 3, "ELE-E-202", "ELE-ASM",
         "ELE-ASM-LB"),
    _ems("ELE-E-321", "老化房", "Burn-in rooms", "ELE-TST-BI", 3, "ELE-E-203", "ELE-TST",
         "ELE-TST-BI"),
    _ems("ELE-E-331", "冷水机组", "Chillers", "ELE-UT-CH", 3, "ELE-E-204", "ELE-UT", "ELE-UT-CH"),
    _ems("ELE-E-332", "空压机组", "Air compressors", "ELE-UT-AIR", 3, "ELE-E-204", "ELE-UT",
         "ELE-UT-AIR"),
    _ems("ELE-E-333", "洁净室新风机组", "Clean-room make-up air", "ELE-UT-MAU", 3, "ELE-E-204",
         "ELE-UT", "ELE-UT-MAU"),
    _ems("ELE-PV-201", "屋顶光伏1区", "Rooftop PV array 1 (700 kWp)", "ELE-PV", 2, None,
         "ELE-PV", "ELE-S1", carrier="electricity_pv"),
    _ems("ELE-PV-202", "屋顶光伏2区", "Rooftop PV array 2 (500 kWp)", "ELE-PV", 2, None,
         "ELE-PV", "ELE-S1", carrier="electricity_pv"),
    _ems("ELE-ES-201", "储能充电", "Battery charge", "ELE-ESS", 2, None, "ELE-S1", "ELE-ESS"),
    _ems("ELE-ES-202", "储能放电", "Battery discharge", "ELE-ESS", 2, None, "ELE-ESS", "ELE-S1"),
    _daily("ELE-W-101", "新水表", "Fresh water meter", "ELE-S1", 1, "water", "t",
           parent="QLP-W-101", frm="QLP-WS", to="ELE-S1"),
)

#: Measurement meters for equipment efficiency indicators (docs/equipment-efficiency.md):
#: what the equipment delivers, not energy flows, so no flow edges.
METERS += (
    _daily("ELE-Q-331", "冷水机组供冷量", "Chiller cooling energy delivered", "ELE-UT-CH", 3,
           "cooling", "GJ", description="冷冻水总管热量表（流量 × 供回水温差），日冻结读数"),
    _daily("CEM-A-331", "空压站供气量", "Compressed air delivered", "CEM-UT-AIR", 3,
           "compressed_air", "m3",
           description="空压站出口总管涡街流量计，折算为吸气状态（自由空气）体积，日冻结读数"),
)

METERS_BY_CODE: dict[str, MeterDef] = {m.code: m for m in METERS}


def creation_order() -> list[MeterDef]:
    """Meters ordered so that every parent meter and formula operand comes before its users."""
    from nengtan.timeseries.formula import parse

    def needs(m: MeterDef) -> set[str]:
        refs = set(parse(m.formula).codes) if m.formula else set()
        return refs | ({m.parent} if m.parent else set())

    done: set[str] = set()
    order: list[MeterDef] = []
    pending = list(METERS)
    while pending:
        ready = [m for m in pending if needs(m) <= done]
        if not ready:
            raise ValueError("demo meters refer to each other in a cycle: "
                             + ", ".join(m.code for m in pending))
        order += ready
        done |= {m.code for m in ready}
        pending = [m for m in pending if m.code not in done]
    return order


def children(code: str) -> list[MeterDef]:
    """Sub-meters whose ``parent`` is ``code``, in declaration order."""
    return [m for m in METERS if m.parent == code]


@dataclass(frozen=True)
class ProductDef:
    code: str
    name_zh: str
    name_en: str
    unit: str
    sector: str
    node: str


PRODUCTS: tuple[ProductDef, ...] = (
    ProductDef("CLINKER", "水泥熟料", "Portland cement clinker", "t", "cement", "CEM"),
    ProductDef("DYED-FABRIC", "印染布", "Dyed and finished fabric", "10^4 m", "textile", "TEX"),
    ProductDef("SMART-CTRL", "智能控制器", "Smart controller (PCBA assembly)", "pcs",
               "electronics", "ELE"),
)

#: Price bands of the demo TOU tariff, CNY/kWh (1-10 kV industrial).  Illustrative values with
#: the ratios of Shandong's industrial TOU policy: peak = flat × 1.6, valley = flat × 0.4,
#: sharp = peak × 1.2.
TARIFF_BANDS = {"sharp": 1.2480, "peak": 1.0400, "flat": 0.6500, "valley": 0.2600}

_WINTER, _SHOULDER, _SUMMER = "1,2,12", "3,4,5,9,10,11", "6,7,8"

#: Daily periods by month (start, end, band); each month covers 24 h exactly once.  Spring and
#: autumn have a midday valley, as Shandong has since its solar surplus made noon cheap.
TARIFF_PERIODS: tuple[tuple[str, str, str, str], ...] = (
    (_WINTER, "23:00", "07:00", "valley"),
    (_WINTER, "07:00", "16:00", "flat"),
    (_WINTER, "16:00", "19:00", "sharp"),
    (_WINTER, "19:00", "23:00", "peak"),
    (_SHOULDER, "23:00", "07:00", "valley"),
    (_SHOULDER, "07:00", "11:00", "flat"),
    (_SHOULDER, "11:00", "14:00", "valley"),
    (_SHOULDER, "14:00", "16:00", "flat"),
    (_SHOULDER, "16:00", "23:00", "peak"),
    (_SUMMER, "23:00", "07:00", "valley"),
    (_SUMMER, "07:00", "16:00", "flat"),
    (_SUMMER, "16:00", "17:00", "peak"),
    (_SUMMER, "17:00", "20:00", "sharp"),
    (_SUMMER, "20:00", "23:00", "peak"),
)


def tariff_payload(valid_from) -> dict:
    return {
        "code": TARIFF_CODE,
        "name_zh": "山东工商业分时电价（1-10千伏，演示）",
        "name_en": "Shandong-style industrial time-of-use tariff (1-10 kV, demo)",
        "carrier": "electricity", "unit": "kWh", "currency": "CNY",
        "demand_charge": 38.0, "capacity_charge": 25.6,
        "valid_from": valid_from, "region": REGION,
        "source": "演示数据：时段结构参照山东省工商业分时电价政策，价格为示意值，不代表现行电价",
        "bands": [{"band": b, "price": p} for b, p in TARIFF_BANDS.items()],
        "periods": [{"months": m, "start": s, "end": e, "band": b}
                    for m, s, e, b in TARIFF_PERIODS],
    }
