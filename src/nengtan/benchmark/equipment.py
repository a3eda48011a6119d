"""Equipment efficiency grading from nameplate data (GB 18613-2020 motors, GB 19153-2019
displacement air compressors).

A grade row covers one equipment class: motors by number of poles and rated output (kW);
compressors by type, rated discharge pressure (MPa) and rated motor power (kW).  A nameplate
whose rated power lies between two tabulated powers is graded against the next larger
tabulated power (the stricter threshold for efficiencies that rise with size; the standards'
own interpolation rules are not applied — documented in docs/benchmarking.md).  A compressor
whose pressure is not tabulated is graded against the nearest lower tabulated pressure (the
stricter row).

Grades: 1 best, 3 = 能效限定值 (minimum allowable value).  A unit below grade 3 does not meet
the limit value: it may no longer be produced or sold, and is a candidate for replacement.

Nameplates (``Node.attributes``)::

    {"motor": {"rated_kw": 250, "poles": 4, "efficiency_pct": 94.8,
               "annual_hours": 7000, "load_factor": 0.8}}
    {"compressor": {"rated_kw": 90, "pressure_mpa": 0.8, "type": "oil_injected_rotary",
                    "specific_power": 7.1}}            # kW/(m3/min), or
    {"compressor": {"rated_kw": 90, "pressure_mpa": 0.8,
                    "package_power_kw": 101.0, "flow_m3_min": 15.2}}

Compressor specific power (机组比功率) = package input power / volume flow, kW/(m³/min)
(GB 19153-2019, 3.x; measured per GB/T 3853).  Motor savings when ``annual_hours`` is given:
``P_out × load × hours × (1/η_actual − 1/η_grade)`` kWh/a, P_out = rated output.
"""

from __future__ import annotations

from dataclasses import dataclass

from nengtan.benchmark.levels import ACTIONS, HIGHER, Level, LevelSet, compare

EQUIPMENT_KINDS = ("motor", "compressor")
DEFAULT_COMPRESSOR_TYPE = "oil_injected_rotary"


@dataclass(frozen=True)
class GradeRow:
    """One row of an equipment grade table (one benchmark entry of kind ``equipment``)."""

    code: str
    version: int
    equipment: str  # motor | compressor
    type: str | None
    poles: int | None
    size_min: float
    size_max: float
    pressure_mpa: float | None
    unit: str
    direction: str
    grades: tuple[float | None, float | None, float | None]
    document: str = ""
    source: str = ""
    status: str = "unverified"

    def levelset(self) -> LevelSet:
        return LevelSet(
            self.code, self.unit, self.direction,
            tuple(Level(f"grade_{i + 1}", v) for i, v in enumerate(self.grades)),
            self.version, self.code, self.document, self.source, self.status, "equipment")


class NameplateError(ValueError):
    """A nameplate lacking what grading needs; ``args[0]`` is a rule key, ``args[1]`` a field."""


def _num(data: dict, key: str, required: bool = True) -> float | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise NameplateError("bm_nameplate_missing", key)
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise NameplateError("bm_nameplate_number", key) from None
    if not x > 0:
        raise NameplateError("bm_nameplate_number", key)
    return x


def nameplate_issues(kind: str, plate: dict) -> list[tuple[str, str]]:
    """Every problem of a nameplate as (rule key, field); empty when grading can read it."""
    out = []

    def check(key: str, required: bool = True, maximum: float | None = None) -> None:
        try:
            x = _num(plate, key, required)
        except NameplateError as exc:
            out.append(exc.args)
            return
        if x is not None and maximum is not None and x > maximum:
            out.append(("bm_nameplate_number", key))

    check("rated_kw")
    if kind == "motor":
        check("efficiency_pct", maximum=100.0)
        poles = plate.get("poles")
        if isinstance(poles, bool) or not isinstance(poles, (int, float)) or poles < 2 \
                or int(poles) != poles:
            out.append(("bm_nameplate_missing" if poles in (None, "") else
                        "bm_nameplate_number", "poles"))
        check("annual_hours", required=False, maximum=8784.0)
        check("load_factor", required=False, maximum=1.5)
    else:
        check("pressure_mpa")
        if plate.get("specific_power") not in (None, ""):
            check("specific_power")
        elif any(plate.get(k) not in (None, "") for k in ("package_power_kw", "flow_m3_min")):
            check("package_power_kw")
            check("flow_m3_min")
        else:
            out.append(("bm_nameplate_missing", "specific_power"))
    return out


def _by_size(rows: list[GradeRow], size: float) -> GradeRow | None:
    """The row whose size range holds ``size``, else the next larger one."""
    fitting = [r for r in rows if r.size_min <= size <= r.size_max]
    if fitting:
        return fitting[0]
    larger = sorted((r for r in rows if r.size_min >= size), key=lambda r: r.size_min)
    return larger[0] if larger else None


def motor_row(rows: list[GradeRow], rated_kw: float, poles: int) -> GradeRow | None:
    return _by_size([r for r in rows if r.equipment == "motor" and r.poles == poles], rated_kw)


def compressor_row(rows: list[GradeRow], rated_kw: float, pressure_mpa: float,
                   type_: str = DEFAULT_COMPRESSOR_TYPE) -> GradeRow | None:
    candidates = [r for r in rows if r.equipment == "compressor" and (r.type or "") == type_
                  and r.pressure_mpa is not None]
    pressures = sorted({r.pressure_mpa for r in candidates})
    exact = [p for p in pressures if abs(p - pressure_mpa) < 0.005]
    lower = [p for p in pressures if p < pressure_mpa]
    chosen = exact[0] if exact else (lower[-1] if lower else None)
    if chosen is None:
        return None
    return _by_size([r for r in candidates if r.pressure_mpa == chosen], rated_kw)


def _grade_number(position: str | None) -> int | None:
    if position and position.startswith("grade_"):
        return int(position.removeprefix("grade_"))
    return None


def grade_motor(rows: list[GradeRow], nameplate: dict) -> dict:
    """Grade a three-phase induction motor (GB 18613-2020 Table 1) from its nameplate."""
    rated_kw = _num(nameplate, "rated_kw")
    eff = _num(nameplate, "efficiency_pct")
    if eff is not None and eff > 100:
        raise NameplateError("bm_nameplate_number", "efficiency_pct")
    poles_raw = nameplate.get("poles")
    try:
        poles = int(poles_raw)
    except (TypeError, ValueError):
        raise NameplateError("bm_nameplate_missing", "poles") from None
    row = motor_row(rows, rated_kw, poles)
    inputs = {"rated_kw": rated_kw, "poles": poles, "efficiency_pct": eff}
    if row is None:
        return {"equipment": "motor", "inputs": inputs, "grade": None,
                "position": "no_grade_row", "row": None}
    cmp = compare(row.levelset(), eff)
    out = _result("motor", inputs, row, cmp, "efficiency_pct")
    hours = _num(nameplate, "annual_hours", required=False)
    if hours is not None:
        load = _num(nameplate, "load_factor", required=False) or 1.0
        for level in out["levels"]:
            v = level["value"]
            if v is None or level["reached"]:
                level["saving_kwh_per_year"] = 0.0 if v is not None else None
                continue
            kwh = rated_kw * load * hours * (100.0 / eff - 100.0 / v)
            level["saving_kwh_per_year"] = kwh
            level["saving_formula"] = (
                f"{rated_kw:g} kW × {load:g} × {hours:g} h/a × (100/{eff:g} − 100/{v:g}) "
                f"= {kwh:.6g} kWh/a")
    return out


def compressor_specific_power(nameplate: dict) -> tuple[float, str]:
    """Specific power in kW/(m³/min) and how it was obtained."""
    sp = _num(nameplate, "specific_power", required=False)
    if sp is not None:
        return sp, "nameplate specific_power"
    power = _num(nameplate, "package_power_kw", required=False)
    flow = _num(nameplate, "flow_m3_min", required=False)
    if power is None or flow is None:
        raise NameplateError("bm_nameplate_missing", "specific_power")
    return power / flow, f"package_power_kw / flow_m3_min = {power:g} / {flow:g}"


def grade_compressor(rows: list[GradeRow], nameplate: dict) -> dict:
    """Grade a displacement air compressor (GB 19153-2019) from its nameplate."""
    rated_kw = _num(nameplate, "rated_kw")
    pressure = _num(nameplate, "pressure_mpa")
    sp, how = compressor_specific_power(nameplate)
    type_ = str(nameplate.get("type") or DEFAULT_COMPRESSOR_TYPE)
    inputs = {"rated_kw": rated_kw, "pressure_mpa": pressure, "type": type_,
              "specific_power": sp, "specific_power_from": how}
    row = compressor_row(rows, rated_kw, pressure, type_)
    if row is None:
        return {"equipment": "compressor", "inputs": inputs, "grade": None,
                "position": "no_grade_row", "row": None}
    return _result("compressor", inputs, row, compare(row.levelset(), sp), "specific_power")


def _result(equipment: str, inputs: dict, row: GradeRow, cmp, actual_key: str) -> dict:
    d = cmp.as_dict()
    for level in d["levels"]:
        if level["value"] is not None and level["gap"] is not None:
            # gap of an efficiency in percentage points reads better than % of the level
            level["gap_points"] = (level["value"] - inputs[actual_key]
                                   if row.direction == HIGHER else inputs[actual_key] - level["value"])
    position = d["position"]
    return {
        "equipment": equipment, "inputs": inputs, "actual": inputs[actual_key],
        "unit": row.unit, "direction": row.direction,
        "grade": _grade_number(position), "position": position,
        "action": ACTIONS.get(position or ""),
        "meets_limit": position is not None and not position.startswith("below_"),
        "levels": d["levels"],
        "row": {"code": row.code, "version": row.version, "size_min": row.size_min,
                "size_max": row.size_max, "poles": row.poles, "pressure_mpa": row.pressure_mpa,
                "type": row.type, "document": row.document, "source": row.source,
                "status": row.status},
    }


def grade(rows: list[GradeRow], attributes: dict | None) -> list[dict]:
    """Every gradable nameplate in a node's attributes (motor, compressor), graded.

    A nameplate that lacks a value gives ``{"equipment", "error": rule, "field"}`` instead.
    """
    out = []
    for kind, fn in (("motor", grade_motor), ("compressor", grade_compressor)):
        plate = (attributes or {}).get(kind)
        if not isinstance(plate, dict):
            continue
        try:
            out.append(fn(rows, plate))
        except NameplateError as exc:
            out.append({"equipment": kind, "error": exc.args[0], "field": exc.args[1],
                        "grade": None, "position": "nameplate_incomplete"})
    return out

