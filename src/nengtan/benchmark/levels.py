"""Comparison of an indicator with a set of levels (标杆/基准, limit grades 1/2/3).

A *level set* is an ordered list of thresholds of one indicator, best first:

* NDRC 工业重点领域能效标杆水平和基准水平: ``benchmark`` (标杆水平, the best plants) and
  ``baseline`` (基准水平).  Capacity worse than the baseline must be upgraded or retired
  (限期分批实施改造升级和淘汰, NDRC 发改产业〔2021〕1609号 and the 2023 edition);
* energy-consumption limit standards (能耗限额, e.g. GB 16780-2021 for cement): ``grade_1``
  (1级, most advanced), ``grade_2`` and ``grade_3`` (3级 = 限定值, the mandatory limit);
* equipment efficiency grades (GB 18613-2020, GB 19153-2019): the same three grades.

``direction`` says which way is better: ``lower`` (energy per unit of product, specific
power) or ``higher`` (efficiency in %).  A level whose value is unknown is kept in the set
(``value`` None) so that a report can say "grade 1 not available" instead of skipping it.

Figures (all signed so that a positive gap is "worse than the level"):

* gap in % of the level:  lower-is-better ``(actual − level) / |level| × 100``;
  higher-is-better ``(level − actual) / |level| × 100``;
* energy gap per year (lower-is-better indicators of energy per unit of output only):
  ``(actual − level) × annual output`` in the indicator's numerator unit, converted to tce:
  kgce ÷ 1000; kWh × 0.1229 kgce/kWh ÷ 1000 (GB/T 2589-2020 equivalent value of electricity);
  tce as is.  Negative means the line is better than the level by that much.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import pairwise

from nengtan import units
from nengtan.energy.gbt2589 import KGCE_PER_KWH_EQUIVALENT

LOWER, HIGHER = "lower", "higher"
DIRECTIONS = (LOWER, HIGHER)

#: Level keys with their names; any other key (a provincial level ...) is allowed too.
LEVEL_NAMES = {
    "benchmark": ("标杆水平", "benchmark level"),
    "baseline": ("基准水平", "baseline level"),
    "grade_1": ("1级", "grade 1"),
    "grade_2": ("2级", "grade 2"),
    "grade_3": ("3级（限定值）", "grade 3 (limit value)"),
}

#: What a position means for the plant (NDRC policy for benchmark/baseline sets; the limit
#: standard for graded sets).  Keys of the i18n catalogue are ``bm.position.<position>``.
ACTIONS = {
    "benchmark": "keep",
    "baseline": "improve_to_benchmark",
    "below_baseline": "upgrade_or_retire",
    "grade_1": "keep",
    "grade_2": "improve",
    "grade_3": "improve",
    "below_grade_3": "below_limit",
}


@dataclass(frozen=True)
class Level:
    key: str
    value: float | None

    @property
    def name_zh(self) -> str:
        return LEVEL_NAMES.get(self.key, (self.key, self.key))[0]

    @property
    def name_en(self) -> str:
        return LEVEL_NAMES.get(self.key, (self.key, self.key))[1]


@dataclass(frozen=True)
class LevelSet:
    """One benchmark entry (one version) as the engine needs it."""

    code: str
    unit: str
    direction: str
    levels: tuple[Level, ...]
    version: int = 1
    name: str = ""
    document: str = ""
    source: str = ""
    status: str = "unverified"
    kind: str = "indicator"

    def known(self) -> list[Level]:
        """Levels with a value, best first (as listed)."""
        return [lv for lv in self.levels if lv.value is not None]

    def lineage(self) -> dict:
        return {"benchmark": self.code, "version": self.version, "document": self.document,
                "source": self.source, "status": self.status}


def level_issues(levels: list[tuple[str, float | None]], direction: str) -> list[str]:
    """Problems of a level list (best first): rule keys, empty when fine.

    ``bm_levels_empty`` no level with a value; ``bm_levels_duplicate`` a key twice;
    ``bm_levels_order`` values not ordered best → worst for the direction.
    """
    issues = []
    keys = [k for k, _ in levels]
    if len(set(keys)) != len(keys):
        issues.append("bm_levels_duplicate")
    values = [v for _, v in levels if v is not None]
    if not values:
        issues.append("bm_levels_empty")
    for a, b in pairwise(values):
        if (direction == LOWER and b < a) or (direction == HIGHER and b > a):
            issues.append("bm_levels_order")
            break
    return issues


def meets(actual: float, level: float, direction: str) -> bool:
    """Does ``actual`` reach ``level`` (equal counts as reached: "≤ 限定值")?"""
    return actual <= level if direction == LOWER else actual >= level


def gap_pct(actual: float, level: float, direction: str) -> float | None:
    """Gap to ``level`` in % of the level, positive when worse (None for a zero level)."""
    if level == 0:
        return None
    diff = actual - level if direction == LOWER else level - actual
    return diff / abs(level) * 100.0


def split_unit(unit: str) -> tuple[str, str] | None:
    """``"kgce/t"`` → ``("kgce", "t")``; None if it is not a ratio."""
    if not unit or "/" not in unit:
        return None
    num, den = (p.strip() for p in unit.split("/", 1))
    return (num, den) if num and den else None


def to_tce_factor(numerator: str) -> tuple[float, str] | None:
    """tce per one ``numerator`` unit and how (None: not an energy unit we convert)."""
    try:
        u = units.get_unit(numerator)
    except units.UnitError:
        return None
    if u.dimension == "coal_equivalent":
        return u.to_base / 1000.0, f"1 {u.code} = {u.to_base / 1000.0:g} tce"
    if u.code in ("kWh", "MWh", "Wh", "10^4 kWh", "GWh"):
        kwh = units.factor(u.code, "kWh")
        how = (f"1 {u.code} = {kwh:g} kWh × {KGCE_PER_KWH_EQUIVALENT} kgce/kWh "
               "(GB/T 2589-2020 equivalent value) ÷ 1000")
        return kwh * KGCE_PER_KWH_EQUIVALENT / 1000.0, how
    return None


def energy_gap(actual: float, level: float, unit: str, annual_output: float | None,
               output_unit: str | None) -> dict | None:
    """``(actual − level) × annual output``, converted to tce/a, with its arithmetic.

    ``unit`` is the indicator's unit (``kgce/t``); ``annual_output`` in ``output_unit``
    (converted to the indicator's denominator).  None when it cannot be computed (no output,
    not a ratio, numerator not energy, denominator not convertible).
    """
    parts = split_unit(unit)
    if parts is None or annual_output is None:
        return None
    num, den = parts
    conv = to_tce_factor(num)
    if conv is None:
        return None
    per_tce, how = conv
    out_unit = output_unit or den
    try:
        out = annual_output * units.factor(out_unit, den)
    except units.UnitError:
        if out_unit.strip() != den.strip():
            return None
        out = annual_output
    diff = actual - level
    quantity = diff * out
    tce = quantity * per_tce
    return {
        "tce_per_year": tce,
        "quantity_per_year": quantity,
        "quantity_unit": f"{num}/a",
        "formula": (f"({actual:.4g} − {level:.4g}) {unit} × {out:.6g} {den}/a = {quantity:.6g} "
                    f"{num}/a; {how}: {tce:.6g} tce/a"),
    }


@dataclass
class Comparison:
    """Where an actual value stands in a level set."""

    levels: LevelSet
    actual: float | None
    annual_output: float | None = None
    output_unit: str | None = None
    rows: list[dict] = field(default_factory=list)
    reached: str | None = None
    position: str | None = None

    def as_dict(self) -> dict:
        ls = self.levels
        return {
            "benchmark": ls.code, "version": ls.version, "kind": ls.kind, "name": ls.name,
            "unit": ls.unit, "direction": ls.direction, "actual": self.actual,
            "reached": self.reached, "position": self.position,
            "action": ACTIONS.get(self.position or "", None),
            "status": ls.status, "source": ls.source, "document": ls.document,
            "levels": self.rows,
            "annual_output": self.annual_output, "output_unit": self.output_unit,
        }


def position_of(levelset: LevelSet, actual: float) -> tuple[str | None, str]:
    """(best level reached or None, position code).

    The position is the key of the best level reached, or ``below_<worst key>`` when none
    is (``below_baseline``: worse than the baseline; ``below_grade_3``: does not meet the
    limit value).  Levels without a value are skipped.
    """
    known = levelset.known()
    for lv in known:
        if meets(actual, lv.value, levelset.direction):
            return lv.key, lv.key
    return None, f"below_{known[-1].key}"


def compare(levelset: LevelSet, actual: float | None, annual_output: float | None = None,
            output_unit: str | None = None) -> Comparison:
    """Compare ``actual`` (in ``levelset.unit``) with every level of the set.

    Each level row: key, names, value, reached, ``gap`` (actual − level, indicator unit,
    signed), ``gap_pct`` (positive = worse than the level) and, when ``annual_output`` is
    given for an energy-per-output indicator, ``energy_gap`` (tce/a with its arithmetic).
    """
    cmp = Comparison(levelset, actual, annual_output, output_unit)
    lower = levelset.direction == LOWER
    for lv in levelset.levels:
        row = {"key": lv.key, "name_zh": lv.name_zh, "name_en": lv.name_en, "value": lv.value,
               "unit": levelset.unit}
        if lv.value is None or actual is None or not math.isfinite(actual):
            row.update(reached=None, gap=None, gap_pct=None, energy_gap=None)
        else:
            row["reached"] = meets(actual, lv.value, levelset.direction)
            row["gap"] = actual - lv.value
            row["gap_pct"] = gap_pct(actual, lv.value, levelset.direction)
            row["energy_gap"] = (energy_gap(actual, lv.value, levelset.unit, annual_output,
                                            output_unit) if lower else None)
        cmp.rows.append(row)
    if actual is not None and math.isfinite(actual) and levelset.known():
        cmp.reached, cmp.position = position_of(levelset, actual)
    return cmp


def annualise(output: float, days: int, year_days: int = 365) -> float:
    """Output of a period of ``days`` scaled to a year (``output × year_days / days``)."""
    return output * year_days / days if days > 0 else output
