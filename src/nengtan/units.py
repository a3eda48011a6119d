"""Units of measure and conversion between them.

Engines work in declared base units; conversion happens at the boundaries through this module
only.  Each unit has a dimension and a factor to that dimension's base unit:

=================  ==========  ===============================================================
dimension          base        notes
=================  ==========  ===============================================================
energy             MJ          kWh = 3.6 MJ exactly (SI); heat and electricity share it
coal_equivalent    kgce        1 kgce = 29.3076 MJ (GB/T 2589-2020, 3.2); kept apart from
                               energy so that a physical quantity is never mistaken for
                               standard coal
mass               t
volume             m3          actual (metered) volume
normal_volume      Nm3         volume at standard conditions (0 °C, 101.325 kPa)
co2e               t           tCO2 and tCO2e
power              kW
reactive_energy    kvarh
money              CNY
count              pcs
length             m
area               m2
duration           s
=================  ==========  ===============================================================

Chinese spellings (度, 吨, 万立方米, 吨标准煤, ...) parse to the same units.
"""

from __future__ import annotations

from dataclasses import dataclass

#: MJ per kgce, GB/T 2589-2020 clause 3.2 (低位发热量等于 29307 kJ 的燃料, 称为 1 千克标准煤).
MJ_PER_KGCE = 29.3076


class UnitError(ValueError):
    """An unknown unit, or a conversion between different dimensions."""


@dataclass(frozen=True)
class Unit:
    code: str
    dimension: str
    to_base: float
    name_zh: str
    name_en: str


_UNITS: tuple[Unit, ...] = (
    # energy (base MJ)
    Unit("MJ", "energy", 1.0, "兆焦", "megajoule"),
    Unit("kJ", "energy", 1e-3, "千焦", "kilojoule"),
    Unit("GJ", "energy", 1e3, "吉焦", "gigajoule"),
    Unit("TJ", "energy", 1e6, "太焦", "terajoule"),
    Unit("Wh", "energy", 3.6e-3, "瓦时", "watt-hour"),
    Unit("kWh", "energy", 3.6, "千瓦时", "kilowatt-hour"),
    Unit("MWh", "energy", 3.6e3, "兆瓦时", "megawatt-hour"),
    Unit("GWh", "energy", 3.6e6, "吉瓦时", "gigawatt-hour"),
    Unit("10^4 kWh", "energy", 3.6e4, "万千瓦时", "10^4 kilowatt-hours"),
    # International Table calorie, 4.1868 J (the 大卡 of coal trade).
    Unit("kcal", "energy", 4.1868e-3, "千卡", "kilocalorie"),
    # standard coal (base kgce)
    Unit("kgce", "coal_equivalent", 1.0, "千克标准煤", "kilogram of coal equivalent"),
    Unit("tce", "coal_equivalent", 1e3, "吨标准煤", "tonne of coal equivalent"),
    Unit("10^4 tce", "coal_equivalent", 1e7, "万吨标准煤", "10^4 tonnes of coal equivalent"),
    # mass (base t)
    Unit("t", "mass", 1.0, "吨", "tonne"),
    Unit("kg", "mass", 1e-3, "千克", "kilogram"),
    Unit("g", "mass", 1e-6, "克", "gram"),
    Unit("10^4 t", "mass", 1e4, "万吨", "10^4 tonnes"),
    # volume (base m3)
    Unit("m3", "volume", 1.0, "立方米", "cubic metre"),
    Unit("L", "volume", 1e-3, "升", "litre"),
    Unit("10^4 m3", "volume", 1e4, "万立方米", "10^4 cubic metres"),
    Unit("Nm3", "normal_volume", 1.0, "标准立方米", "normal cubic metre"),
    Unit("10^4 Nm3", "normal_volume", 1e4, "万标准立方米", "10^4 normal cubic metres"),
    # emissions (base t)
    Unit("tCO2e", "co2e", 1.0, "吨二氧化碳当量", "tonne CO2 equivalent"),
    Unit("kgCO2e", "co2e", 1e-3, "千克二氧化碳当量", "kilogram CO2 equivalent"),
    Unit("tCO2", "co2e", 1.0, "吨二氧化碳", "tonne CO2"),
    Unit("kgCO2", "co2e", 1e-3, "千克二氧化碳", "kilogram CO2"),
    Unit("10^4 tCO2e", "co2e", 1e4, "万吨二氧化碳当量", "10^4 tonnes CO2 equivalent"),
    # power
    Unit("kW", "power", 1.0, "千瓦", "kilowatt"),
    Unit("MW", "power", 1e3, "兆瓦", "megawatt"),
    Unit("W", "power", 1e-3, "瓦", "watt"),
    Unit("kvarh", "reactive_energy", 1.0, "千乏时", "kilovar-hour"),
    # economics and counts
    Unit("CNY", "money", 1.0, "元", "yuan"),
    Unit("10^4 CNY", "money", 1e4, "万元", "10^4 yuan"),
    Unit("pcs", "count", 1.0, "件", "pieces"),
    Unit("10^4 pcs", "count", 1e4, "万件", "10^4 pieces"),
    Unit("m", "length", 1.0, "米", "metre"),
    Unit("10^4 m", "length", 1e4, "万米", "10^4 metres"),
    Unit("m2", "area", 1.0, "平方米", "square metre"),
    Unit("s", "duration", 1.0, "秒", "second"),
    Unit("h", "duration", 3600.0, "小时", "hour"),
)

_BY_CODE: dict[str, Unit] = {u.code: u for u in _UNITS}

# Spellings seen in meter exports, invoices and Chinese statistical forms.
_ALIASES: dict[str, str] = {
    "kw·h": "kWh", "kw.h": "kWh", "kwh": "kWh", "度": "kWh", "千瓦时": "kWh", "千瓦·时": "kWh",
    "mwh": "MWh", "gwh": "GWh", "wh": "Wh", "万千瓦时": "10^4 kWh", "万度": "10^4 kWh",
    "大卡": "kcal", "千卡": "kcal", "kcal": "kcal",
    "gj": "GJ", "mj": "MJ", "kj": "kJ", "tj": "TJ", "吉焦": "GJ", "兆焦": "MJ", "千焦": "kJ",
    "kgce": "kgce", "tce": "tce", "吨标准煤": "tce", "吨标煤": "tce", "千克标准煤": "kgce",
    "万吨标准煤": "10^4 tce", "吨": "t", "千克": "kg", "公斤": "kg", "克": "g", "万吨": "10^4 t",
    "m³": "m3", "立方米": "m3", "方": "m3", "升": "L", "l": "L", "万立方米": "10^4 m3",
    "万m3": "10^4 m3", "万m³": "10^4 m3", "1e4 m3": "10^4 m3", "10000 m3": "10^4 m3",
    "nm3": "Nm3", "nm³": "Nm3", "标准立方米": "Nm3", "标方": "Nm3", "万标准立方米": "10^4 Nm3",
    "万nm3": "10^4 Nm3", "1e4 nm3": "10^4 Nm3", "10000 nm3": "10^4 Nm3",
    "tco2e": "tCO2e", "tco2": "tCO2", "kgco2e": "kgCO2e", "kgco2": "kgCO2", "吨二氧化碳": "tCO2",
    "吨二氧化碳当量": "tCO2e", "万吨二氧化碳当量": "10^4 tCO2e",
    "kw": "kW", "mw": "MW", "w": "W", "千瓦": "kW", "兆瓦": "MW", "kvarh": "kvarh", "千乏时": "kvarh",
    "cny": "CNY", "元": "CNY", "rmb": "CNY", "万元": "10^4 CNY",
    "pcs": "pcs", "件": "pcs", "个": "pcs", "台": "pcs", "万件": "10^4 pcs",
    "米": "m", "万米": "10^4 m", "m²": "m2", "平方米": "m2", "秒": "s", "小时": "h",
}


def _normalise_key(text: str) -> str:
    return " ".join(text.split()).lower()


_LOOKUP: dict[str, str] = {code.lower(): code for code in _BY_CODE}
_LOOKUP.update({_normalise_key(k): v for k, v in _ALIASES.items()})


def get_unit(text: str) -> Unit:
    """Return the unit for a code or any accepted spelling (``"kWh"``, ``"度"``, ``"万m3"``)."""
    if not isinstance(text, str) or not text.strip():
        raise UnitError("empty unit")
    exact = _BY_CODE.get(text.strip())
    if exact is not None:
        return exact
    code = _LOOKUP.get(_normalise_key(text))
    if code is None:
        raise UnitError(f"unknown unit {text!r}")
    return _BY_CODE[code]


def is_unit(text: str) -> bool:
    try:
        get_unit(text)
    except UnitError:
        return False
    return True


def canonical(text: str) -> str:
    """The canonical code of a unit spelling (``"度"`` → ``"kWh"``)."""
    return get_unit(text).code


def factor(from_unit: str, to_unit: str) -> float:
    """Multiplier that converts a value in ``from_unit`` into ``to_unit``."""
    a, b = get_unit(from_unit), get_unit(to_unit)
    if a.dimension != b.dimension:
        raise UnitError(
            f"cannot convert {a.code} ({a.dimension}) to {b.code} ({b.dimension})"
        )
    return a.to_base / b.to_base


def quantity_factor(from_unit: str, to_unit: str) -> float:
    """Like :func:`factor` for quantities of a carrier, with metered gas volume (m3) and normal
    volume (Nm3) taken as the same quantity: reference coefficients and default NCVs of gases
    (GB/T 2589 Annex A, the MEE guidelines) are per standard cubic metre, and the gas meters
    in scope report temperature- and pressure-compensated volume."""
    a, b = get_unit(from_unit), get_unit(to_unit)
    if {a.dimension, b.dimension} <= {"volume", "normal_volume"}:
        return a.to_base / b.to_base
    return factor(from_unit, to_unit)


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Convert ``value`` from one unit to another of the same dimension."""
    return value * factor(from_unit, to_unit)


def all_units() -> tuple[Unit, ...]:
    return _UNITS


def ratio_factor(ratio: str, to_numerator: str, to_denominator: str) -> float:
    """Factor for a compound unit ``"a/b"`` into ``to_numerator / to_denominator``.

    ``ratio_factor("kJ/kg", "MJ", "t") == 1.0``: 21 000 kJ/kg is 21 000 MJ/t.
    """
    if "/" not in ratio:
        raise UnitError(f"{ratio!r} is not a ratio such as kJ/kg")
    num, den = (part.strip() for part in ratio.split("/", 1))
    return factor(num, to_numerator) / factor(den, to_denominator)
