"""Energy accounting parameters of the demo park.

The textile plant's boiler makes 1.0 MPa saturated steam; steam has no GB/T 2589 reference
coefficient (its heat depends on pressure and temperature), so the plant records the heat per
tonne counted for it: the enthalpy of saturated steam at 1.0 MPa (h'' ≈ 2777 kJ/kg, IAPWS-IF97
steam tables) less that of feed water at 20 °C (≈ 84 kJ/kg), 2693 MJ/t.  Balance tables and
boiler efficiency use it; comprehensive energy does not (the steam is made from metered gas).
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from nengtan.demo.context import Context
from nengtan.services import energy_params, org

STEAM_MJ_PER_T = 2693.0

#: Facts of the demo park that the analyses use (node attributes): the power factor of the
#: utility bill, roof area free for PV, the nameplate of the PV plant, and the stage of each
#: unit in the energy balance (GB/T 28751: conversion, distribution, main production,
#: auxiliary, ancillary).
ATTRIBUTES = {
    "TEX": {"power_factor": 0.86, "roof_area_m2": 12000},
    "CEM": {"power_factor": 0.93, "roof_area_m2": 18000},
    "ELE": {"power_factor": 0.96},
    "ELE-PV": {"pv_kwp": 1200, "energy_stage": "conversion"},
    **{code: {"energy_stage": "conversion"} for code in ("CEM-WHR", "TEX-BH", "ELE-ESS")},
    "QLP-SUB": {"energy_stage": "distribution"},
    **{code: {"energy_stage": "auxiliary"}
       for code in ("CEM-UT", "TEX-UT", "ELE-UT", "QLP-WWTP", "QLP-WS")},
    **{code: {"energy_stage": "ancillary"}
       for code in ("CEM-UT-OFF", "TEX-OFF", "ELE-OFF", "QLP-ADM", "QLP-SL", "QLP-EV")},
    **{code: {"energy_stage": "main_production"}
       for code in ("CEM-RM", "CEM-KL", "CEM-CM", "TEX-PT", "TEX-DY", "TEX-FN", "ELE-SMT",
                    "ELE-ASM", "ELE-TST")},
}


def add(engine: Engine, ctx: Context, ids: dict[str, int], start: date, last: date,
        tz: ZoneInfo) -> None:
    with Session(engine) as s, s.begin():
        energy_params.record(s, {
            "kind": "ncv", "carrier": "steam", "tenant": "TEX", "value": STEAM_MJ_PER_T,
            "unit": "MJ/t", "valid_from": start,
            "source": "IAPWS-IF97 saturated steam 1.0 MPa, h'' 2777 kJ/kg − feed water 20 °C "
                      "84 kJ/kg (demo plant parameter)",
            "status": "unverified",
            "note": "锅炉出口 1.0 MPa 饱和蒸汽，按焓差计热量 / heat counted as enthalpy rise",
        }, created_by="demo")
        for code, extra in ATTRIBUTES.items():
            node = org.by_code(s, code)
            org.update(s, node.id, {"attributes": {**(node.attributes or {}), **extra}})
