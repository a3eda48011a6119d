"""Demo content of capabilities built on top of the metered park (CEMS, quality rules, manual
entries ...), added after the readings and records are in.  Each capability has one module with
``add(engine, ctx, ids, start, last, tz)``."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from nengtan.demo import (
    benchmark_demo,
    carbon_demo,
    cems_demo,
    efficiency_demo,
    energy_demo,
    manual_demo,
    park_carbon_demo,
    quality_demo,
    users_demo,
)
from nengtan.demo.context import Context

STEPS = (cems_demo.add, quality_demo.add, manual_demo.add, energy_demo.add, efficiency_demo.add,
         benchmark_demo.add, carbon_demo.add, park_carbon_demo.add, users_demo.add)


def add_all(engine: Engine, ctx: Context, ids: dict[str, int], start: date, last: date,
            tz: ZoneInfo) -> None:
    for step in STEPS:
        step(engine, ctx, ids, start, last, tz)
