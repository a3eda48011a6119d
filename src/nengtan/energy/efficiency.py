"""Equipment efficiency indicators computed from meters (pure: no database, no I/O).

Four kinds of indicator, each a ratio of two sums of signed meter quantities over a period:

``boiler_efficiency`` — input-output (direct, 正平衡) method of GB/T 10180-2017
    《工业锅炉热工性能试验规程》, as used for monitoring by GB/T 15317-2009
    《燃煤工业锅炉节能监测》::

        η = Σ D·(h_steam − h_feedwater) / Σ B·NCV × 100 %

    D steam output (t), h enthalpies (kJ/kg = MJ/t), B fuel burned (carrier unit), NCV its net
    calorific value (MJ per carrier unit).  A heat meter (GJ, MJ, kWh) on the output counts
    as D·Δh directly (hot-water boilers).  The heat input is the fuel's NCV only: the sensible
    heat of fuel and air and the atomising steam that GB/T 10180 adds to it are neglected
    (well under 0.5 % for gas- and coal-fired industrial boilers).
``cop`` — coefficient of performance of a chiller plant, cooling delivered ÷ electricity
    (W/W).  GB 19577-2015 《冷水机组能效限定值及能效等级》 grades COP at rated conditions;
    from meters over a period this is the operating (seasonal) COP.
``compressed_air_specific_power`` — electricity ÷ air delivered, kW/(m³/min)
    = kWh/m³ × 60 min/h: the specific power (比功率) of GB 19153-2019
    《容积式空气压缩机能效限定值及能效等级》 clause 3.3, whose volume flow is at inlet
    (free-air) conditions.
``specific_energy`` — a generic ratio Σ numerator / Σ denominator in declared units
    (e.g. kWh/t of a pump station's water), lower is better unless declared otherwise.

Steam enthalpies come from the saturated-steam table :data:`SATURATION` (IAPWS-IF97), or
are given directly.  Every :class:`Result` carries its lineage: meters with their quantities,
the parameters with their sources, the formula and the clause.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from nengtan import units
from nengtan.errors import InputError, Issue

METHOD_VERSION = "nengtan efficiency 1"
KINDS = ("boiler_efficiency", "cop", "compressed_air_specific_power", "specific_energy")
SIDES = ("numerator", "denominator")
BETTER = ("higher", "lower")
PRESSURE_BASES = ("gauge", "absolute")
#: Standard atmosphere, MPa: gauge + this = absolute.
ATMOSPHERE_MPA = 0.101325

SOURCE_STEAM = ("IAPWS-IF97 (IAPWS R7-97(2012)) saturation line: values computed with the "
                "iapws 1.5.5 implementation of IAPWS-IF97 region 4/1/2, every 5 °C; they agree "
                "with the published steam tables (1.0 MPa abs: 179.89 °C, h'' 2777.1 kJ/kg)")
STEAM_TABLE_STATUS = "verified"

#: Saturated water and steam, IAPWS-IF97: (t °C, p_sat MPa absolute, h' kJ/kg liquid,
#: h'' kJ/kg vapour).  kJ/kg = MJ/t.  Interpolation: T_sat from p linear in (ln p, 1/T);
#: enthalpies linear in T.  Against IAPWS-IF97 directly the interpolation is within
#: 0.01 K and 0.1 kJ/kg everywhere in the table.
SATURATION: tuple[tuple[float, float, float, float], ...] = (
    (0.01, 0.000612, 0.00, 2500.91), (5, 0.000873, 21.02, 2510.07),
    (10, 0.001228, 42.02, 2519.23), (15, 0.001706, 62.98, 2528.36),
    (20, 0.002339, 83.92, 2537.47), (25, 0.00317, 104.84, 2546.54),
    (30, 0.004247, 125.75, 2555.58), (35, 0.005629, 146.64, 2564.58),
    (40, 0.007384, 167.54, 2573.54), (45, 0.009594, 188.44, 2582.45),
    (50, 0.012351, 209.34, 2591.31), (55, 0.015761, 230.24, 2600.11),
    (60, 0.019946, 251.15, 2608.85), (65, 0.025041, 272.08, 2617.51),
    (70, 0.031201, 293.02, 2626.10), (75, 0.038595, 313.97, 2634.60),
    (80, 0.047415, 334.95, 2643.01), (85, 0.057867, 355.95, 2651.33),
    (90, 0.070182, 376.97, 2659.53), (95, 0.084609, 398.02, 2667.61),
    (100, 0.101418, 419.10, 2675.57), (105, 0.120902, 440.21, 2683.39),
    (110, 0.143376, 461.36, 2691.07), (115, 0.169177, 482.55, 2698.58),
    (120, 0.198665, 503.78, 2705.93), (125, 0.232224, 525.06, 2713.11),
    (130, 0.27026, 546.39, 2720.09), (135, 0.313201, 567.77, 2726.87),
    (140, 0.361501, 589.20, 2733.44), (145, 0.415635, 610.69, 2739.80),
    (150, 0.476101, 632.25, 2745.92), (155, 0.543422, 653.88, 2751.80),
    (160, 0.618139, 675.57, 2757.43), (165, 0.70082, 697.35, 2762.80),
    (170, 0.792053, 719.21, 2767.89), (175, 0.892447, 741.15, 2772.70),
    (180, 1.00263, 763.19, 2777.22), (185, 1.12327, 785.32, 2781.43),
    (190, 1.25502, 807.57, 2785.31), (195, 1.39858, 829.92, 2788.86),
    (200, 1.55467, 852.39, 2792.06), (205, 1.72402, 874.99, 2794.90),
    (210, 1.90739, 897.73, 2797.35), (215, 2.10555, 920.61, 2799.41),
    (220, 2.31929, 943.64, 2801.05), (225, 2.54942, 966.84, 2802.26),
    (230, 2.79679, 990.21, 2803.01), (235, 3.06224, 1013.77, 2803.28),
    (240, 3.34665, 1037.52, 2803.06), (245, 3.65091, 1061.49, 2802.31),
    (250, 3.97594, 1085.69, 2801.01), (255, 4.32267, 1110.13, 2799.13),
    (260, 4.69207, 1134.83, 2796.64),
)
_T = [r[0] for r in SATURATION]
_LNP = [math.log(r[1]) for r in SATURATION]
#: Steam colder or hotter than saturation by more than this is not saturated steam.
SATURATION_TOLERANCE_K = 2.0


# -- kinds ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class KindInfo:
    unit: str
    better: str
    #: Base units each side is summed in (specific_energy: declared per indicator).
    numerator_unit: str | None
    denominator_unit: str | None
    formula: str
    clause: str


KIND_INFO: dict[str, KindInfo] = {
    "boiler_efficiency": KindInfo(
        "%", "higher", "MJ", "MJ",
        "η = Σ D·(h_steam − h_feedwater) / Σ B·NCV × 100 %",
        "GB/T 10180-2017 正平衡法 (input-output method); GB/T 15317-2009 (monitoring)"),
    "cop": KindInfo(
        "W/W", "higher", "kWh", "kWh",
        "COP = Σ Q_cooling / Σ W_electricity (cooling converted to kWh)",
        "GB 19577-2015 (COP, W/W); operating COP over the period"),
    "compressed_air_specific_power": KindInfo(
        "kW/(m3/min)", "lower", "kWh", "m3",
        "specific power = Σ E (kWh) / Σ V (m³) × 60 min/h",
        "GB 19153-2019 3.3 (比功率, volume at inlet conditions)"),
    "specific_energy": KindInfo(
        "", "lower", None, None,
        "e = Σ numerator / Σ denominator",
        "user-defined specific energy (单位能耗)"),
}


# -- steam properties ----------------------------------------------------------------------
@dataclass(frozen=True)
class Saturation:
    t_c: float
    p_mpa: float  # absolute
    h_liquid: float  # kJ/kg = MJ/t
    h_vapour: float


def _interp(x: float, xs: list[float], col: int) -> float:
    i = min(max(bisect_right(xs, x) - 1, 0), len(xs) - 2)
    x0, x1 = xs[i], xs[i + 1]
    y0, y1 = SATURATION[i][col], SATURATION[i + 1][col]
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def saturation_at_temperature(t_c: float) -> Saturation:
    """Saturated water and steam at ``t_c`` °C (0.01..260 °C)."""
    if not _T[0] <= t_c <= _T[-1]:
        raise ValueError(f"temperature {t_c} °C outside the table ({_T[0]}..{_T[-1]} °C)")
    i = min(max(bisect_right(_T, t_c) - 1, 0), len(_T) - 2)
    # ln p is nearly linear in 1/T (Clausius-Clapeyron)
    a, b = 1 / (_T[i] + 273.15), 1 / (_T[i + 1] + 273.15)
    w = (1 / (t_c + 273.15) - a) / (b - a)
    lnp = _LNP[i] + w * (_LNP[i + 1] - _LNP[i])
    return Saturation(t_c, math.exp(lnp), _interp(t_c, _T, 2), _interp(t_c, _T, 3))


def saturation_at_pressure(p_abs_mpa: float) -> Saturation:
    """Saturated water and steam at absolute pressure ``p_abs_mpa`` (0.000612..4.69 MPa)."""
    lo, hi = SATURATION[0][1], SATURATION[-1][1]
    if not lo <= p_abs_mpa <= hi:
        raise ValueError(f"pressure {p_abs_mpa} MPa outside the table ({lo}..{hi} MPa abs)")
    lnp = math.log(p_abs_mpa)
    i = min(max(bisect_right(_LNP, lnp) - 1, 0), len(_LNP) - 2)
    w = (lnp - _LNP[i]) / (_LNP[i + 1] - _LNP[i])
    a, b = 1 / (_T[i] + 273.15), 1 / (_T[i + 1] + 273.15)
    t_c = 1 / (a + w * (b - a)) - 273.15
    return Saturation(t_c, p_abs_mpa, _interp(t_c, _T, 2), _interp(t_c, _T, 3))


# -- definitions ---------------------------------------------------------------------------
@dataclass(frozen=True)
class MeterTerm:
    """A meter on one side of an indicator.  ``unit`` is the carrier's unit (what rollups
    hold); ``category`` and ``is_energy`` are the carrier's."""

    meter: str
    carrier: str
    unit: str
    sign: int = 1
    category: str | None = None
    is_energy: bool = True


@dataclass(frozen=True)
class Level:
    grade: str
    value: float


@dataclass(frozen=True)
class GradeReference:
    """Grades of a standard for the indicator, best first, in the indicator's unit."""

    standard: str
    levels: tuple[Level, ...]
    source: str
    status: str
    clause: str | None = None
    note: str | None = None

    def as_dict(self) -> dict:
        return {"standard": self.standard, "clause": self.clause, "source": self.source,
                "status": self.status, "note": self.note,
                "levels": [{"grade": lv.grade, "value": lv.value} for lv in self.levels]}


@dataclass(frozen=True)
class Definition:
    kind: str
    numerator: tuple[MeterTerm, ...]
    denominator: tuple[MeterTerm, ...]
    params: dict = field(default_factory=dict)
    target_value: float | None = None
    target_source: str | None = None
    grades: GradeReference | None = None

    @property
    def info(self) -> KindInfo:
        return KIND_INFO[self.kind]

    @property
    def unit(self) -> str:
        if self.kind == "specific_energy":
            return f"{self.params['numerator_unit']}/{self.params['denominator_unit']}"
        return self.info.unit

    @property
    def better(self) -> str:
        if self.kind == "specific_energy":
            return self.params.get("better", "lower")
        return self.info.better

    def side_unit(self, side: str) -> str:
        if self.kind == "specific_energy":
            return self.params[f"{side}_unit"]
        return self.info.numerator_unit if side == "numerator" else self.info.denominator_unit


# -- validation ----------------------------------------------------------------------------
def _dimension(unit: str) -> str | None:
    try:
        return units.get_unit(unit).dimension
    except units.UnitError:
        return None


_ELECTRIC = ("electricity", "renewable_electricity", "recovered_electricity")
_VOLUME = ("volume", "normal_volume")


def check_term(kind: str, side: str, term: MeterTerm, params: dict) -> tuple[str, dict] | None:
    """Why ``term`` cannot stand on ``side`` of a ``kind`` indicator: ``(rule, params)``,
    or None when it can."""
    dim = _dimension(term.unit)
    facts = {"carrier": term.carrier, "unit": term.unit}
    if kind == "boiler_efficiency":
        if side == "numerator":
            if not (term.category == "heat" or term.carrier in ("steam", "heat")) \
                    or dim not in ("mass", "energy"):
                return "rule.eff_need_steam", facts
        elif not term.is_energy or dim == "coal_equivalent":
            return "rule.eff_need_fuel", facts
        return None
    if kind == "cop":
        if side == "numerator":
            if dim != "energy" or term.category in _ELECTRIC:
                return "rule.eff_need_cooling", facts
        elif term.category not in _ELECTRIC or dim != "energy":
            return "rule.eff_need_electricity", facts
        return None
    if kind == "compressed_air_specific_power":
        if side == "numerator":
            if term.category not in _ELECTRIC or dim != "energy":
                return "rule.eff_need_electricity", facts
        elif dim not in _VOLUME:
            return "rule.eff_need_volume", facts
        return None
    target = params.get(f"{side}_unit")
    if target is not None:
        try:
            _convert(1.0, term.unit, target)
        except units.UnitError:
            return "rule.eff_unit_mismatch", {**facts, "target": target}
    return None


def _convert(value: float, unit: str, to: str) -> float:
    a, b = units.get_unit(unit), units.get_unit(to)
    if a.dimension in _VOLUME and b.dimension in _VOLUME:
        # normal and actual cubic metres are summed as the same quantity (see lineage note)
        return value * a.to_base / b.to_base
    return value * units.factor(unit, to)


_NUMBER_PARAMS = {
    "boiler_efficiency": {
        "enthalpy_rise_mj_per_t": (0.0, None), "steam_enthalpy_mj_per_t": (0.0, None),
        "steam_pressure_mpa": (0.0, None), "steam_temperature_c": (0.0, 400.0),
        "steam_dryness": (0.5, 1.0), "feedwater_temperature_c": (0.0, 260.0),
        "feedwater_enthalpy_mj_per_t": (-1e-9, None), "ncv_mj_per_unit": (0.0, None),
    },
    "cop": {}, "compressed_air_specific_power": {}, "specific_energy": {},
}
_TEXT_PARAMS = {
    "boiler_efficiency": ("pressure_basis", "enthalpy_source", "ncv_source"),
    "cop": (), "compressed_air_specific_power": (),
    "specific_energy": ("numerator_unit", "denominator_unit", "better"),
}


def check_params(kind: str, raw: Any) -> tuple[dict, list[Issue]]:
    """Normalised parameters of a ``kind`` indicator and the issues found (field
    ``params.<name>``).  Does not look at the meters: see :func:`check_definition`."""
    issues: list[Issue] = []
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        return {}, [Issue("rule.type_object", field="params")]
    numbers, texts = _NUMBER_PARAMS[kind], _TEXT_PARAMS[kind]
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = f"params.{key}"
        if value is None:
            continue
        if key in numbers:
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                issues.append(Issue("rule.type_float", field=name, value=value))
                continue
            try:
                number = float(value)
            except ValueError:
                issues.append(Issue("rule.type_float", field=name, value=value))
                continue
            lo, hi = numbers[key]
            if not math.isfinite(number):
                issues.append(Issue("rule.type_float", field=name, value=value))
            elif number <= lo:
                # a lower bound just below zero means "zero allowed"
                rule = "rule.minimum" if lo < 0 else "rule.exclusive_minimum"
                issues.append(Issue(rule, field=name, value=value, params={"min": max(lo, 0.0)}))
            elif hi is not None and number > hi:
                issues.append(Issue("rule.maximum", field=name, value=value, params={"max": hi}))
            else:
                out[key] = number
        elif key in texts:
            if not isinstance(value, str) or not value.strip():
                issues.append(Issue("rule.type_str", field=name, value=value))
                continue
            out[key] = value.strip()
        else:
            issues.append(Issue("rule.unknown_field", field=name, value=None))
    if kind == "boiler_efficiency":
        _check_boiler_params(out, issues)
    elif kind == "specific_energy":
        for side in SIDES:
            key = f"{side}_unit"
            if key not in out:
                if not any(i.field == f"params.{key}" for i in issues):
                    issues.append(Issue("rule.required", field=f"params.{key}"))
            else:
                try:
                    out[key] = units.canonical(out[key])
                except units.UnitError:
                    issues.append(Issue("rule.unit_unknown", field=f"params.{key}",
                                        value=out.pop(key)))
        if "better" in out and out["better"] not in BETTER:
            issues.append(Issue("rule.choice", field="params.better", value=out.pop("better"),
                                params={"choices": ", ".join(BETTER)}))
    return out, issues


def _check_boiler_params(p: dict, issues: list[Issue]) -> None:
    if "pressure_basis" in p and p["pressure_basis"] not in PRESSURE_BASES:
        issues.append(Issue("rule.choice", field="params.pressure_basis",
                            value=p.pop("pressure_basis"),
                            params={"choices": ", ".join(PRESSURE_BASES)}))
    groups = (("enthalpy_rise_mj_per_t", "steam_enthalpy_mj_per_t"),
              ("enthalpy_rise_mj_per_t", "steam_pressure_mpa"),
              ("steam_enthalpy_mj_per_t", "steam_pressure_mpa"),
              ("enthalpy_rise_mj_per_t", "feedwater_temperature_c"),
              ("enthalpy_rise_mj_per_t", "feedwater_enthalpy_mj_per_t"),
              ("feedwater_temperature_c", "feedwater_enthalpy_mj_per_t"))
    for a, b in groups:
        if a in p and b in p:
            issues.append(Issue("rule.eff_param_conflict", field=f"params.{b}", value=p[b],
                                params={"other": a}))
    if "steam_pressure_mpa" not in p:
        for key in ("steam_temperature_c", "pressure_basis", "steam_dryness"):
            if key in p and not (key == "steam_dryness" and "steam_enthalpy_mj_per_t" in p):
                issues.append(Issue("rule.eff_needs_pressure", field=f"params.{key}",
                                    value=p[key]))
    if issues:
        return
    try:
        steam = steam_state(p)
        feed = feedwater_state(p)
    except InputError as exc:
        issues.extend(exc.issues)
        return
    if steam is not None and feed is not None and steam["h_mj_per_t"] <= feed["h_mj_per_t"]:
        issues.append(Issue("rule.eff_enthalpy_order", field="params.feedwater_temperature_c"
                            if "feedwater_temperature_c" in p
                            else "params.feedwater_enthalpy_mj_per_t",
                            value=feed["h_mj_per_t"], params={"steam": steam["h_mj_per_t"]}))


def steam_state(p: dict) -> dict | None:
    """The steam's enthalpy (MJ/t) and where it came from, or None if not given."""
    if "steam_enthalpy_mj_per_t" in p:
        return {"h_mj_per_t": p["steam_enthalpy_mj_per_t"],
                "source": p.get("enthalpy_source", "given with the indicator")}
    if "steam_pressure_mpa" not in p:
        return None
    basis = p.get("pressure_basis", "gauge")
    p_abs = p["steam_pressure_mpa"] + (ATMOSPHERE_MPA if basis == "gauge" else 0.0)
    try:
        sat = saturation_at_pressure(p_abs)
    except ValueError:
        raise InputError([Issue("rule.eff_pressure_range", field="params.steam_pressure_mpa",
                                value=p["steam_pressure_mpa"],
                                params={"min": SATURATION[0][1],
                                        "max": SATURATION[-1][1]})]) from None
    t = p.get("steam_temperature_c")
    if t is not None and abs(t - sat.t_c) > SATURATION_TOLERANCE_K:
        rule = "rule.eff_superheated" if t > sat.t_c else "rule.eff_below_saturation"
        raise InputError([Issue(rule, field="params.steam_temperature_c", value=t,
                                params={"t_sat": round(sat.t_c, 1)})])
    x = p.get("steam_dryness", 1.0)
    h = sat.h_liquid + x * (sat.h_vapour - sat.h_liquid)
    return {"pressure_mpa": p["steam_pressure_mpa"], "pressure_basis": basis,
            "pressure_abs_mpa": round(p_abs, 6), "t_sat_c": round(sat.t_c, 2),
            "dryness": x, "h_liquid_mj_per_t": round(sat.h_liquid, 2),
            "h_vapour_mj_per_t": round(sat.h_vapour, 2), "h_mj_per_t": round(h, 2),
            "method": "saturated steam h = h' + x·(h'' − h') at the absolute pressure",
            "source": SOURCE_STEAM, "status": STEAM_TABLE_STATUS,
            "note": p.get("enthalpy_source")}


def feedwater_state(p: dict) -> dict | None:
    """Feed water enthalpy (MJ/t): saturated liquid at its temperature (compressed-liquid
    correction below 1.5 kJ/kg up to 2.5 MPa, neglected), or given."""
    if "feedwater_enthalpy_mj_per_t" in p:
        return {"h_mj_per_t": p["feedwater_enthalpy_mj_per_t"],
                "source": p.get("enthalpy_source", "given with the indicator")}
    if "feedwater_temperature_c" not in p:
        return None
    t = p["feedwater_temperature_c"]
    try:
        sat = saturation_at_temperature(t)
    except ValueError:
        raise InputError([Issue("rule.maximum", field="params.feedwater_temperature_c",
                                value=t, params={"max": _T[-1]})]) from None
    return {"temperature_c": t, "h_mj_per_t": round(sat.h_liquid, 2),
            "method": "saturated liquid at the feed-water temperature",
            "source": SOURCE_STEAM, "status": STEAM_TABLE_STATUS}


def enthalpy_rise(p: dict) -> tuple[float | None, dict]:
    """Heat per tonne of steam net of feed water, MJ/t, and its lineage (None: not given)."""
    if "enthalpy_rise_mj_per_t" in p:
        return p["enthalpy_rise_mj_per_t"], {
            "enthalpy_rise_mj_per_t": p["enthalpy_rise_mj_per_t"],
            "source": p.get("enthalpy_source", "given with the indicator")}
    steam, feed = steam_state(p), feedwater_state(p)
    if steam is None or feed is None:
        return None, {}
    rise = round(steam["h_mj_per_t"] - feed["h_mj_per_t"], 2)
    return rise, {"steam": steam, "feedwater": feed, "enthalpy_rise_mj_per_t": rise}


def check_grades(raw: Any, better: str) -> tuple[GradeReference | None, list[Issue]]:
    """A grade reference from JSON: ``{"standard", "source", "status", "clause"?, "note"?,
    "levels": [{"grade", "value"}, ...]}`` with levels best first."""
    if raw is None:
        return None, []
    if not isinstance(raw, dict):
        return None, [Issue("rule.type_object", field="grades")]
    issues: list[Issue] = []
    known = {"standard", "source", "status", "clause", "note", "levels"}
    issues += [Issue("rule.unknown_field", field=f"grades.{k}") for k in raw if k not in known]
    text = {}
    for key in ("standard", "source", "status", "clause", "note"):
        value = raw.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if key in ("standard", "source", "status"):
                issues.append(Issue("rule.required", field=f"grades.{key}"))
            continue
        if not isinstance(value, str):
            issues.append(Issue("rule.type_str", field=f"grades.{key}", value=value))
            continue
        text[key] = value.strip()
    if text.get("status") not in (None, "verified", "unverified"):
        issues.append(Issue("rule.choice", field="grades.status", value=text["status"],
                            params={"choices": "verified, unverified"}))
    levels: list[Level] = []
    raw_levels = raw.get("levels")
    if not isinstance(raw_levels, list) or not raw_levels:
        issues.append(Issue("rule.eff_levels", field="grades.levels"))
    else:
        for i, lv in enumerate(raw_levels):
            if not isinstance(lv, dict) or lv.get("grade") in (None, "") \
                    or isinstance(lv.get("value"), bool) \
                    or not isinstance(lv.get("value"), (int, float)) \
                    or not math.isfinite(lv["value"]):
                issues.append(Issue("rule.eff_level", row=i, field="grades.levels",
                                    value=str(lv)))
                continue
            levels.append(Level(str(lv["grade"]), float(lv["value"])))
        if len(levels) == len(raw_levels):
            values = [lv.value for lv in levels]
            ordered = all((a > b) if better == "higher" else (a < b)
                          for a, b in pairwise(values))
            if not ordered:
                issues.append(Issue(f"rule.eff_level_order_{better}", field="grades.levels",
                                    value=", ".join(f"{v:g}" for v in values),
                                    params={"better": better}))
    if issues:
        return None, issues
    return GradeReference(text["standard"], tuple(levels), text["source"], text["status"],
                          text.get("clause"), text.get("note")), []


def check_definition(defn: Definition) -> list[Issue]:
    """Issues of a complete definition (meters against the kind, enthalpy present ...)."""
    issues: list[Issue] = []
    for side in SIDES:
        terms = getattr(defn, side)
        if not terms:
            issues.append(Issue("rule.eff_terms_empty", field=side))
        seen: set[str] = set()
        for i, term in enumerate(terms):
            if term.meter in seen:
                issues.append(Issue("rule.eff_meter_twice", row=i, field=side, value=term.meter))
            seen.add(term.meter)
            problem = check_term(defn.kind, side, term, defn.params)
            if problem:
                issues.append(Issue(problem[0], row=i, field=side, value=term.meter,
                                    params=problem[1]))
    if defn.kind == "boiler_efficiency" and not issues:
        mass = [t for t in defn.numerator if _dimension(t.unit) == "mass"]
        if mass and enthalpy_rise(defn.params)[0] is None:
            p = defn.params
            if "steam_pressure_mpa" in p or "steam_enthalpy_mj_per_t" in p:
                issues.append(Issue("rule.eff_feedwater_missing",
                                    field="params.feedwater_temperature_c"))
            else:
                issues.append(Issue("rule.eff_enthalpy_missing",
                                    field="params.steam_pressure_mpa", value=mass[0].meter))
        if "ncv_mj_per_unit" in defn.params and \
                len({t.carrier for t in defn.denominator}) > 1:
            issues.append(Issue("rule.eff_ncv_carriers", field="params.ncv_mj_per_unit",
                                value=defn.params["ncv_mj_per_unit"]))
    return issues


# -- computation ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Measured:
    """A meter's sum over a bucket in its carrier unit; ``has_data`` False: no rollup."""

    value: float
    coverage: float = 1.0
    has_data: bool = True


@dataclass(frozen=True)
class Ncv:
    """Net calorific value of a fuel meter's carrier, MJ per the meter's unit, with its
    provenance (a GB/T 2589 coefficient's lineage, or the indicator's parameter)."""

    mj_per_unit: float
    lineage: dict


@dataclass
class Result:
    value: float | None
    unit: str
    numerator: float | None
    numerator_unit: str
    denominator: float | None
    denominator_unit: str
    coverage: float
    #: ok | no_data (a meter has no data) | idle (nothing in the denominator)
    status: str
    terms: list[dict]
    better: str
    grade: dict | None = None
    target: dict | None = None
    parameters: dict = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.coverage >= 0.999

    def as_dict(self, terms: bool = True) -> dict:
        out = {"value": self.value, "unit": self.unit, "status": self.status,
               "numerator": self.numerator, "numerator_unit": self.numerator_unit,
               "denominator": self.denominator, "denominator_unit": self.denominator_unit,
               "coverage": round(self.coverage, 6), "complete": self.complete,
               "grade": self.grade, "target": self.target}
        if terms:
            out["meters"] = self.terms
        return out


def evaluate(defn: Definition, measured: dict[str, Measured],
             ncv: dict[str, Ncv] | None = None, digits: int = 4) -> Result:
    """The indicator over one bucket from each meter's sum (``measured`` by meter code) and,
    for a boiler, each fuel meter's NCV (``ncv`` by meter code).  ``value`` is rounded to
    ``digits`` decimals; the sums are not rounded."""
    ncv = ncv or {}
    params = defn.params
    rise, rise_lineage = enthalpy_rise(params) if defn.kind == "boiler_efficiency" else (None, {})
    terms: list[dict] = []
    sums = {}
    has_all = True
    coverage = 1.0
    for side in SIDES:
        total = 0.0
        unit = defn.side_unit(side)
        for t in getattr(defn, side):
            m = measured.get(t.meter, Measured(0.0, 0.0, False))
            has_all &= m.has_data
            coverage = min(coverage, m.coverage)
            row = {"side": side, "meter": t.meter, "carrier": t.carrier, "sign": t.sign,
                   "quantity": m.value, "unit": t.unit, "coverage": round(m.coverage, 6),
                   "has_data": m.has_data}
            converted = _side_value(defn, side, t, m.value, rise, ncv, row)
            row.update({"value": converted, "value_unit": unit})
            total += t.sign * converted
            terms.append(row)
        sums[side] = total
    num, den = sums["numerator"], sums["denominator"]
    status = "ok"
    value = None
    if not has_all:
        status = "no_data"
    elif den <= 0:
        status = "idle"
    else:
        value = num / den
        if defn.kind == "boiler_efficiency":
            value *= 100.0
        elif defn.kind == "compressed_air_specific_power":
            value *= 60.0
        value = round(value, digits)
    parameters = dict(rise_lineage)
    if defn.kind == "boiler_efficiency":
        parameters["fuel_ncv"] = [
            {"meter": t.meter, "carrier": t.carrier, "unit": t.unit,
             "ncv_mj_per_unit": ncv[t.meter].mj_per_unit if t.meter in ncv
             else params.get("ncv_mj_per_unit"),
             "coefficient": ncv[t.meter].lineage if t.meter in ncv else None}
            for t in defn.denominator]
    if defn.kind in ("compressed_air_specific_power", "specific_energy") and any(
            _dimension(t.unit) == "normal_volume" for side in SIDES for t in getattr(defn, side)):
        parameters["note"] = ("normal cubic metres (Nm³) summed as m³: GB 19153 specific power "
                              "uses volume at inlet conditions")
    return Result(value, defn.unit, num, defn.side_unit("numerator"), den,
                  defn.side_unit("denominator"), coverage, status, terms, defn.better,
                  grade_of(defn, value), target_of(defn, value), parameters)


def _side_value(defn: Definition, side: str, t: MeterTerm, quantity: float,
                rise: float | None, ncv: dict[str, Ncv], row: dict) -> float:
    unit = defn.side_unit(side)
    if defn.kind == "boiler_efficiency":
        if side == "numerator":
            if _dimension(t.unit) == "mass":
                if rise is None:
                    raise InputError([Issue("rule.eff_enthalpy_missing",
                                            field="params.steam_pressure_mpa", value=t.meter)])
                row["enthalpy_rise_mj_per_t"] = rise
                return quantity * units.factor(t.unit, "t") * rise
            return quantity * units.factor(t.unit, "MJ")
        if "ncv_mj_per_unit" in defn.params:
            value = defn.params["ncv_mj_per_unit"]
        elif t.meter in ncv:
            value = ncv[t.meter].mj_per_unit
        else:
            raise InputError([Issue("rule.eff_ncv_missing", field="denominator", value=t.meter,
                                    params={"carrier": t.carrier})])
        row["ncv_mj_per_unit"] = value
        return quantity * value
    return _convert(quantity, t.unit, unit)


def grade_of(defn: Definition, value: float | None) -> dict | None:
    """The best grade of ``defn.grades`` that ``value`` meets, and the next one up."""
    ref = defn.grades
    if ref is None:
        return None
    out = {**ref.as_dict(), "grade": None, "below_lowest": None, "next": None}
    if value is None:
        return out
    higher = defn.better == "higher"
    met = [lv for lv in ref.levels if (value >= lv.value if higher else value <= lv.value)]
    best = met[0] if met else None
    out["grade"] = best.grade if best else None
    out["below_lowest"] = best is None
    idx = ref.levels.index(best) if best else len(ref.levels)
    if idx > 0:
        nxt = ref.levels[idx - 1]
        out["next"] = {"grade": nxt.grade, "value": nxt.value,
                       "gap": round(nxt.value - value, 6)}
    return out


def target_of(defn: Definition, value: float | None) -> dict | None:
    if defn.target_value is None:
        return None
    out = {"value": defn.target_value, "source": defn.target_source, "gap": None,
           "gap_pct": None, "met": None}
    if value is not None:
        gap = value - defn.target_value
        out["gap"] = round(gap, 6)
        out["gap_pct"] = round(gap / defn.target_value * 100, 4) if defn.target_value else None
        out["met"] = gap >= 0 if defn.better == "higher" else gap <= 0
    return out


def ncv_from_coefficient(coefficient, unit: str) -> Ncv:
    """NCV in MJ per ``unit`` from a GB/T 2589 :class:`~nengtan.energy.gbt2589.Coefficient`:
    its measured/default NCV where it has one, else its kgce per unit × 29.3076 MJ/kgce
    (GB/T 2589-2020 3.2)."""
    from nengtan.energy.gbt2589 import MJ_PER_KGCE

    if coefficient.ncv_mj_per_unit is not None:
        value = coefficient.ncv_mj_per_unit * units.quantity_factor(unit, coefficient.unit)
        how = "NCV of the coefficient"
    else:
        value = coefficient.per(unit) * MJ_PER_KGCE
        how = "kgce per unit × 29.3076 MJ/kgce"
    return Ncv(value, {**coefficient.lineage(), "ncv_mj_per_unit_of_meter": value,
                       "derivation": how})


def lineage(defn: Definition) -> dict:
    info = defn.info
    return {"kind": defn.kind, "formula": info.formula, "clause": info.clause,
            "method": METHOD_VERSION, "better": defn.better}
