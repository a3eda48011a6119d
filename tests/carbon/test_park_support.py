"""A small park for the park inventory and GHG report tests (seed 001 formula 3).

Park P (region shandong) on both databases, October 2026 (31 days), daily interval meters:

    grid ──G1 10 000 kWh/d──▶ SUB (facility) ──A-E 5 000──▶ A1 (site of tenant A)
                                  │          ──B-E 3 000──▶ B1 (site of tenant B)
                                  │          ──W-E 1 000──▶ WWTP (facility, end use)
                                  └──────────BH-E   200──▶ BH (park boiler house)
    gas ──BH-G 1 000 m3/d──▶ BH ──BH-S 30 GJ/d heat──▶ A1
    A1 ──A-X 500 kWh/d electricity──▶ B1          (tenant → tenant transfer)

Stand-in factors: grid 0.5 tCO2/MWh, heat 0.1 tCO2/GJ, natural gas NCV 400 GJ/10^4 Nm3,
carbon content 15 tC/TJ, oxidation 1 (EF = 15 × 44/12 / 1000 = 0.055 tCO2/GJ →
0.04 GJ/m3 × 0.055 = 0.0022 tCO2/m3), diesel NCV 40 GJ/t, 20 tC/TJ, oxidation 1.

Over 31 days: grid in 310 MWh → 155 t; A-E 155 MWh → 77.5 t; B-E 93 MWh → 46.5 t;
W-E 31 MWh → 15.5 t; BH-E 6.2 MWh → 3.1 t; BH-S 930 GJ → 93 t; BH-G 31 000 m3 → 68.2 t;
A-X 15.5 MWh → 7.75 t.
"""

from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from nengtan.carbon.model import CO2_PER_C, FactorValue
from nengtan.services import ingest, meters, org, park_inventory
from nengtan.services.energy_data import parse_period
from nengtan.services.park_inventory import TenantInventory

TZ = ZoneInfo("Asia/Shanghai")
DAYS = 31
OCT = parse_period("2026-10")
DAILY = {  # meter: (node, carrier, unit, from, to, per day)
    "G1": ("SUB", "electricity", "kWh", None, "SUB", 10_000.0),
    "A-E": ("A1", "electricity", "kWh", "SUB", "A1", 5_000.0),
    "B-E": ("B1", "electricity", "kWh", "SUB", "B1", 3_000.0),
    "W-E": ("WWTP", "electricity", "kWh", "SUB", "WWTP", 1_000.0),
    "BH-E": ("BH", "electricity", "kWh", "SUB", "BH", 200.0),
    "BH-G": ("BH", "natural_gas", "m3", None, "BH", 1_000.0),
    "BH-S": ("BH", "heat", "GJ", "BH", "A1", 30.0),
    "A-X": ("A1", "electricity", "kWh", "A1", "B1", 500.0),
}


def _fv(parameter, subject, value, unit):
    return FactorValue(f"test:{parameter}:{subject}", "test", 1, parameter, subject, value, unit,
                       "stand-in for the test", "verified")


class Lookup:
    gwp_set = "AR5"
    VALUES: ClassVar[dict] = {("grid_factor", "electricity"): (0.5, "tCO2/MWh"),
              ("heat_factor", "heat"): (0.1, "tCO2/GJ"),
              ("ncv", "natural_gas"): (400.0, "GJ/10^4 Nm3"),
              ("carbon_content", "natural_gas"): (15.0, "tC/TJ"),
              ("oxidation_rate", "natural_gas"): (1.0, "fraction"),
              ("ncv", "diesel"): (40.0, "GJ/t"),
              ("carbon_content", "diesel"): (20.0, "tC/TJ"),
              ("oxidation_rate", "diesel"): (1.0, "fraction")}

    def get(self, parameter, subject):
        v = self.VALUES.get((parameter, subject))
        return _fv(parameter, subject, *v) if v else None

    def gwp(self, gas):
        return _fv("gwp", gas, 1.0, "tCO2e/t") if gas == "CO2" else None


def build_park(engine):
    """The park of the module docstring, with October's readings."""
    with Session(engine) as s, s.begin():
        for code, kind, parent, extra in (
                ("P", "park", None, {"region": "shandong"}),
                ("SUB", "facility", "P", {}), ("WWTP", "facility", "P", {}),
                ("BH", "facility", "P", {}),
                ("A", "enterprise", "P", {"industry_code": "3011"}), ("A1", "site", "A", {}),
                ("B", "enterprise", "P", {"industry_code": "1713"}), ("B1", "site", "B", {})):
            org.create(s, {"code": code, "name_zh": f"节点{code}", "name_en": f"node {code}",
                           "kind": kind, "parent": parent, **extra})
        ids = {}
        for code, (node, carrier, unit, frm, to, _) in DAILY.items():
            ids[code] = meters.create(s, {
                "code": code, "name_zh": f"表{code}", "node": node, "carrier": carrier,
                "unit": unit, "register": "interval", "interval_s": 86400, "flow_from": frm,
                "flow_to": to, "level": 1}).id
    start = int(datetime(2026, 10, 1, tzinfo=TZ).timestamp()) * 1_000_000
    ts = start + np.arange(DAYS, dtype=np.int64) * 86400 * 1_000_000
    n = len(DAILY) * DAYS
    batch = ingest.ReadingBatch(
        np.repeat([ids[c] for c in DAILY], DAYS), np.tile(ts, len(DAILY)),
        np.repeat([v[5] for v in DAILY.values()], DAYS), np.zeros(n, np.int16))
    with engine.begin() as conn:
        ingest.ingest(conn, batch, "test")
    return engine


def _src(name, kind, tco2e, *meters):
    return {"source": name, "kind": kind, "scope": 2 if "electricity" in kind or "heat" in kind
            else 1, "gas": "CO2", "tco2e": tco2e, "evidence": list(meters), "lineage": {}}


def provider(a_deducts: bool = False, b_counts: bool = True):
    """Tenant inventories by hand: A buys 155 MWh (77.5 t) and 930 GJ of park steam (93 t);
    B buys 93 MWh from the park (46.5 t) and (if ``b_counts``) 15.5 MWh from A (7.75 t); A
    deducts what it supplies to B only if ``a_deducts``."""
    def get(conn, node, period, lookup, gwp_set):
        if node.code == "A":
            sources = [_src("purchased electricity", "electricity", 77.5, "A-E"),
                       _src("purchased steam", "heat", 93.0, "BH-S")]
            if a_deducts:
                sources.append(_src("electricity to B", "export_electricity", -7.75, "A-X"))
        else:
            sources = [_src("purchased electricity", "electricity", 46.5 + 7.75 * b_counts,
                            "B-E", *(["A-X"] if b_counts else []))]
        return TenantInventory(node.id, node.code, node.name_zh, node.name_en,
                               node.industry_code, "locked", sum(s["tco2e"] for s in sources),
                               sources, inventory_id=1, version=1)
    return get


def _items(engine):
    with engine.begin() as conn:
        park_inventory.save_item(conn, "P", {
            "code": "BUS", "term": "transport", "category": "commuting",
            "name_zh": "园区通勤班车柴油", "name_en": "Park commuter buses (diesel)",
            "period_start": "2026-01-01", "period_end": "2027-01-01", "kind": "combustion",
            "carrier": "diesel", "quantity": 36.5, "unit": "t",
            "source": "fuel card statements 2026", "status": "verified"})
        park_inventory.save_item(conn, "P", {
            "code": "GREEN", "term": "sink", "category": "green_space",
            "name_zh": "园区绿地碳汇", "name_en": "Park green space sink",
            "period_start": "2026-01-01", "period_end": "2027-01-01", "tco2e": 365.0,
            "source": "estimate for the test", "status": "estimated"})


# diesel in October: 36.5 t × 31/365 = 3.1 t → 3.1 × 40 GJ × 20 tC/TJ / 1000 × 44/12
DIESEL = 3.1 * 40 * 20 / 1000 * CO2_PER_C
SINK = 365.0 * 31 / 365


