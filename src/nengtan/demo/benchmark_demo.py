"""Benchmark links and equipment nameplates of the demo park.

* Clinker (CLINKER, made by the cement plant CEM) is linked to the NDRC cement-clinker levels
  (标杆 100 / 基准 117 kgce/t, 2023 edition, verified) and to the GB 16780-2021 grades (1/2/3
  级, unverified).  The simulated plant runs at ≈ 107 kgce/t: between the benchmark and the
  baseline, ≈ 7 % above the benchmark.
* Nameplates on some equipment nodes, chosen to show every grading outcome: the raw-mill main
  motor is a 10 kV motor outside GB 18613-2020 (0.12-1000 kW: no grade row; high-voltage motors
  fall under GB 30254); an old 250 kW kiln-feed motor is below the limit value; fans and the
  kiln drive reach grade 3 or 2; three compressors reach grade 2, grade 3 and below the limit.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from nengtan.demo.context import Context
from nengtan.services import benchmarking, org
from nengtan.store.models import Node

LINKS = (
    {"benchmark": "ndrc.cement-clinker", "product": "CLINKER",
     "note": "国家能效标杆/基准水平（2023年版）"},
    {"benchmark": "gb16780-2021.cement-clinker", "product": "CLINKER",
     "note": "GB 16780-2021 能耗限额等级"},
)

#: node code → nameplate attributes (演示铭牌数据 / demo nameplates).
NAMEPLATES: dict[str, dict] = {
    "CEM-RM-VRM": {"motor": {"rated_kw": 3150, "poles": 6, "efficiency_pct": 96.6,
                             "voltage_kv": 10, "model": "YRKK 3150 kW (demo)"}},
    "CEM-RM-HOM": {"motor": {"rated_kw": 250, "poles": 4, "efficiency_pct": 95.6,
                             "annual_hours": 7200, "load_factor": 0.8,
                             "model": "Y2-355 (2009, demo)"}},
    "CEM-KL-CLR": {"motor": {"rated_kw": 250, "poles": 4, "efficiency_pct": 96.2,
                             "model": "YE3-355 (demo)"}},
    "CEM-CM-FAN": {"motor": {"rated_kw": 315, "poles": 4, "efficiency_pct": 96.8,
                             "model": "YE4-355 (demo)"}},
    "CEM-KL-DRV": {"motor": {"rated_kw": 400, "poles": 6, "efficiency_pct": 95.9,
                             "model": "YVF2-400 (demo)"}},
    "CEM-UT-AIR": {"compressor": {"rated_kw": 132, "pressure_mpa": 0.8, "specific_power": 6.9,
                                  "type": "oil_injected_rotary", "model": "132 kW screw (demo)"}},
    "TEX-UT-AIR": {"compressor": {"rated_kw": 75, "pressure_mpa": 0.8,
                                  "package_power_kw": 84.5, "flow_m3_min": 13.2,
                                  "type": "oil_injected_rotary", "model": "75 kW PM VSD (demo)"}},
    "ELE-UT-AIR": {"compressor": {"rated_kw": 55, "pressure_mpa": 0.8, "specific_power": 8.1,
                                  "type": "oil_injected_rotary", "model": "55 kW screw (demo)"}},
}


def add(engine: Engine, ctx: Context, ids: dict[str, int], start: date, last: date,
        tz: ZoneInfo) -> None:
    """Load the benchmark library, link clinker, write the nameplates."""
    with engine.begin() as conn:
        benchmarking.ensure_library(conn)
        for link in LINKS:
            benchmarking.create_link(conn, {**link, "created_by": "demo"})
    with Session(engine) as s, s.begin():
        for code, plate in NAMEPLATES.items():
            node = s.scalar(select(Node).where(Node.code == code))
            # merged, so that attributes other demo steps gave the node stay
            org.update(s, node.id, {"attributes": {**(node.attributes or {}), **plate}})
