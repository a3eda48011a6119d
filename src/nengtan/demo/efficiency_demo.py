"""Equipment efficiency indicators of the demo park.

* Textile boiler house: thermal efficiency of the 20 t/h gas-fired boiler by the direct
  method (GB/T 10180), steam TEX-S-201 (1.0 MPa gauge saturated steam, softened make-up water
  at about 20 °C: no condensate return) over boiler gas TEX-G-201 at the gas supplier's
  monthly NCV.  The simulation burns ≈ 82.5 m³ per tonne of steam: ≈ 92 %.
* Electronics chillers: operating COP, cooling delivered ELE-Q-331 over chiller electricity
  ELE-E-331 (simulated 4.5-5.5, lower in summer).
* Cement compressor station: specific power, electricity CEM-E-331 over air delivered
  CEM-A-331 (simulated 6.5-7.5 kW/(m³/min), higher when the kiln is down).

The grade levels are those commonly quoted for the standards named; they were not read in the
standards themselves, so they are marked ``unverified``.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from nengtan.demo.context import Context
from nengtan.services import efficiency_indicators

_UNVERIFIED = "unverified"

INDICATORS: tuple[dict, ...] = (
    {
        "code": "TEX-BH-EFF", "name_zh": "燃气蒸汽锅炉热效率（正平衡）",
        "name_en": "Gas-fired steam boiler thermal efficiency (direct method)",
        "node": "TEX-BH", "kind": "boiler_efficiency",
        "numerator": ["TEX-S-201"], "denominator": ["TEX-G-201"],
        "params": {"steam_pressure_mpa": 1.0, "pressure_basis": "gauge",
                   "feedwater_temperature_c": 20.0,
                   "enthalpy_source": "锅炉铭牌：额定蒸汽压力 1.0 MPa（表压）饱和蒸汽；"
                                      "给水为软化水约 20 ℃，无凝结水回收（演示数据）"},
        "target_value": 90.0,
        "target_source": "企业节能目标（演示）：燃气蒸汽锅炉运行热效率不低于 90 %",
        "grades": {
            "standard": "GB 24500-2020 《工业锅炉能效限定值及能效等级》",
            "clause": "液体/气体燃料蒸汽锅炉能效等级表（额定蒸发量 > 2 t/h）",
            "source": "GB 24500-2020 as commonly quoted; not read in the standard",
            "status": _UNVERIFIED,
            "note": "grades apply to the rated-load test efficiency; a monthly operating "
                    "efficiency from meters is an indication only",
            "levels": [{"grade": "1", "value": 94.0}, {"grade": "2", "value": 92.0},
                       {"grade": "3", "value": 90.0}],
        },
        "description": "η = D·(h_steam − h_feedwater) / (B·NCV)；NCV 取燃气公司月度组分分析值",
    },
    {
        "code": "ELE-CH-COP", "name_zh": "冷水机组运行能效比（COP）",
        "name_en": "Chiller plant operating COP",
        "node": "ELE-UT-CH", "kind": "cop",
        "numerator": ["ELE-Q-331"], "denominator": ["ELE-E-331"],
        "params": {},
        "target_value": 5.0,
        "target_source": "企业节能目标（演示）：冷水机组运行 COP 不低于 5.0",
        "grades": {
            "standard": "GB 19577-2015 《冷水机组能效限定值及能效等级》",
            "clause": "水冷式，528 kW < 名义制冷量 ≤ 1163 kW",
            "source": "GB 19577-2015 as commonly quoted; not read in the standard",
            "status": _UNVERIFIED,
            "note": "grades apply to the COP at rated conditions; the operating COP from "
                    "meters also depends on weather and part load",
            "levels": [{"grade": "1", "value": 6.0}, {"grade": "2", "value": 5.6},
                       {"grade": "3", "value": 4.7}],
        },
        "description": "冷冻水总管热量表供冷量 ÷ 冷水机组用电量",
    },
    {
        "code": "CEM-AIR-SP", "name_zh": "空压站比功率",
        "name_en": "Compressed air station specific power",
        "node": "CEM-UT-AIR", "kind": "compressed_air_specific_power",
        "numerator": ["CEM-E-331"], "denominator": ["CEM-A-331"],
        "params": {},
        "target_value": 7.0,
        "target_source": "企业节能目标（演示）：空压站比功率不高于 7.0 kW/(m³/min)",
        "grades": {
            "standard": "GB 19153-2019 《容积式空气压缩机能效限定值及能效等级》",
            "clause": "喷油回转空气压缩机，额定排气压力 0.7-0.8 MPa，本机组流量档",
            "source": "GB 19153-2019 as commonly quoted; not read in the standard",
            "status": _UNVERIFIED,
            "note": "grades apply to one packaged compressor at rated conditions; a station "
                    "figure includes unloaded running and dryers",
            "levels": [{"grade": "1", "value": 6.2}, {"grade": "2", "value": 6.8},
                       {"grade": "3", "value": 7.6}],
        },
        "description": "空压站用电量 × 60 ÷ 供气量（吸气状态）",
    },
)


def add(engine: Engine, ctx: Context, ids: dict[str, int], start: date, last: date,
        tz: ZoneInfo) -> None:
    with Session(engine) as s, s.begin():
        for payload in INDICATORS:
            efficiency_indicators.create(s, {**payload, "created_by": "demo"})
