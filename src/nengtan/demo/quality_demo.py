"""Data-quality rules of the demo park, and one evaluation over the last 30 days.

=====================  ==========================================================  ==========
rule                   scope                                                       finds
=====================  ==========================================================  ==========
balance, day, 2 %      110 kV incomers QLP-E-001/-002, textile incomer TEX-E-101,  nothing:
                       cement plant total CEM-V-100 (a virtual parent): fully      losses
                       sub-metered, so the levels agree within their losses        ~1 %
balance, day, 3 %      municipal water inlet QLP-W-101 against the three           every day:
                       enterprises and the public facilities                       ~4.8 %
                                                                                   network
                                                                                   loss; the
                                                                                   day of the
                                                                                   ELE-W-101
                                                                                   decrease is
                                                                                   not
                                                                                   assessable
range, max 20 kWh      assembly line A ELE-E-311, per quarter hour (normal peak    the 20×
                       ≈ 12 kWh)                                                   spike
stuck, 4 h             waste-heat generator CEM-E-190: the register stands still   kiln stops
                       only when the kiln stops
missing, 1 h           every electricity meter of the textile site TEX-S1          the 6 h
                                                                                   gateway
                                                                                   outage of
                                                                                   TEX-E-312
negative_interval      the EMS interval meters of the electronics site ELE-S1      nothing
=====================  ==========================================================  ==========

The faults themselves are planted by :mod:`nengtan.demo.faults`.  The run judges "now" as
the end of the data (midnight before ``today``), so a meter is not "silent" merely because
the demo was built a few hours ago.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from nengtan.demo.context import Context
from nengtan.services import quality_rules
from nengtan.timeseries.calendar import local_midnight_us

DAYS = 30
_BY = "demo"


def rules() -> list[dict]:
    """The rules, as API bodies."""
    out = [{"name": f"{code} 日平衡", "kind": "balance", "meter": code, "severity": "warning",
            "params": {"period": "day", "tolerance_pct": 2.0}}
           for code in ("QLP-E-001", "QLP-E-002", "TEX-E-101", "CEM-V-100")]
    out += [
        {"name": "园区供水管网日平衡", "kind": "balance", "meter": "QLP-W-101",
         "severity": "warning", "params": {"period": "day", "tolerance_pct": 3.0}},
        {"name": "总装A线 15 分钟电量上限", "kind": "range", "meter": "ELE-E-311",
         "severity": "error", "params": {"max": 20.0, "on": "interval"}},
        {"name": "余热发电表停走", "kind": "stuck", "meter": "CEM-E-190", "severity": "info",
         "params": {"min_duration_s": 4 * 3600}},
        {"name": "纺织厂区电表缺数", "kind": "missing", "node": "TEX-S1",
         "carrier": "electricity", "severity": "warning", "params": {"max_gap_s": 3600}},
        {"name": "电子厂 EMS 负区间值", "kind": "negative_interval", "node": "ELE-S1",
         "severity": "error", "params": {}},
    ]
    return [{**r, "created_by": _BY} for r in out]


def add(engine: Engine, ctx: Context, ids: dict[str, int], start: date, last: date,
        tz: ZoneInfo) -> None:
    """Store the rules and evaluate them over the last :data:`DAYS` days of data."""
    with Session(engine) as s, s.begin():
        for body in rules():
            quality_rules.create(s, body)
    first = max(start, last - timedelta(days=DAYS - 1))
    end_us = local_midnight_us(last + timedelta(days=1), tz)
    with engine.begin() as conn:
        quality_rules.evaluate(conn, local_midnight_us(first, tz), end_us, now_us=end_us)
