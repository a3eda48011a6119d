"""The demo park inventory: entered park items and the park inventory for the last calendar
year (runs after :mod:`nengtan.demo.carbon_demo`, whose locked tenant inventories it uses).

Items (every figure is demo data, marked ``status = demo`` with a source that says so):

* E_交通 — the park's commuter buses: 6 buses × 22 000 km × 28 L/100 km = 36 960 L of diesel
  at 0.84 kg/L ≈ 31.05 t (combustion, computed with the factor library);
* E_新基建 — 8 telecom 5G base stations on the park's streets, fed by the operator outside
  the park's meters: 8 × 3.5 kW × 8 760 h ≈ 245.3 MWh (purchased electricity, grid factor);
* E_公共设施与环境 — N2O from the park wastewater treatment plant (nitrification /
  denitrification): 0.12 t N2O (the engine applies the GWP of the inventory's set);
* E_碳汇 — the park's green space: 38 ha × 4.2 tCO2/ha/yr ≈ 159.6 tCO2 removed (an
  amount; a plausible urban green-space rate, not a measurement).

The park inventory itself is computed on demand (``GET /api/carbon/park-inventory``); the demo
computes it once so that a broken build fails here, and keeps its total in ``meta``
(``park_carbon_demo``).
"""

from __future__ import annotations

import json
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from nengtan.demo import structure
from nengtan.demo.carbon_demo import reporting_period
from nengtan.demo.context import Context
from nengtan.services import ledger, park_inventory
from nengtan.services.energy_data import Period
from nengtan.store import meta

SOURCE = "demo"
NOTE = "演示数据（非实测） / demo data, not measured"


def items(first: date, end: date) -> list[dict]:
    span = {"period_start": first, "period_end": end, "status": "demo", "note": NOTE}
    return [
        {"code": "BUS-DIESEL", "term": "transport", "category": "commuting",
         "name_zh": "园区通勤班车柴油", "name_en": "Park commuter buses (diesel)",
         "kind": "combustion", "carrier": "diesel", "quantity": 31.05, "unit": "t",
         "source": "演示：公交运营方加油卡月结单汇总（6 辆 × 22 000 km × 28 L/100 km × "
                   "0.84 kg/L） / demo: bus operator's fuel card statements", **span},
        {"code": "5G-BS", "term": "new_infra", "category": "base_station",
         "name_zh": "园区5G基站用电", "name_en": "5G base stations in the park",
         "kind": "electricity", "carrier": "electricity", "quantity": 245.28, "unit": "MWh",
         "source": "演示：运营商电费结算单（8 站 × 3.5 kW × 8 760 h，不经园区电表） / demo: "
                   "operator's electricity statements (not through park meters)", **span},
        {"code": "WWTP-N2O", "term": "public", "category": "waste",
         "name_zh": "污水处理厂 N2O 排放", "name_en": "WWTP nitrous oxide",
         "node": "QLP-WWTP", "kind": "fugitive", "carrier": "n2o", "gas": "N2O",
         "quantity": 0.12, "unit": "t",
         "source": "演示：按处理水量与总氮去除量估算 / demo: estimated from treated flow "
                   "and nitrogen removed", **span},
        {"code": "GREEN-SPACE", "term": "sink", "category": "green_space",
         "name_zh": "园区绿地碳汇", "name_en": "Park green space sink",
         "tco2e": 159.6,
         "source": "演示：38 ha × 4.2 tCO2/(ha·a)（城市绿地参考速率，非实测） / demo: 38 ha × "
                   "4.2 tCO2/(ha·yr), a reference rate for urban green space, not measured",
         **span},
    ]


def add(engine: Engine, ctx: Context, ids: dict[str, int], start: date, last: date,
        tz: ZoneInfo) -> None:
    label, first, end = reporting_period(start, last)
    period = Period(first, end, label, "year" if len(label) == 4 else "custom")
    with engine.begin() as conn:
        for item in items(first, end):
            park_inventory.save_item(conn, structure.PARK, item, user=SOURCE)
        # sign the park items into the ledger like the tenants' locked inventories
        ledger.checkpoint(conn, created_by=SOURCE)
    with engine.begin() as conn:
        inv = park_inventory.park_inventory(conn, structure.PARK, period)
        meta.put(conn, "park_carbon_demo", json.dumps({
            "period": label, "total_tco2e": round(inv.total_tco2e, 3),
            "terms": {k: round(v, 3) for k, v in inv.term_tco2e.items()},
            "tenants": {t.code: t.origin for t in inv.tenants}}))
