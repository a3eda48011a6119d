"""Conversion of energy quantities to standard coal, GB/T 2589-2020 《综合能耗计算通则》.

Pure: takes plain inputs and a :class:`Library` of coefficients, returns figures with lineage.

* 1 kgce is the energy of fuel with a net calorific value of 29 307.6 kJ (clause 3.2).
* A fuel's coefficient is its measured net calorific value (NCV) divided by 29.3076 MJ/kgce
  wherever the enterprise measures it (clause 4.3: 实测低位发热量); otherwise the reference
  coefficient of Annex A.  Fuels that Annex A does not list use the default NCV of the
  enterprise GHG accounting guidelines (MEE/NDRC) divided by 29.3076, marked as such.
* Electricity by the equivalent-value method (当量值) at 0.1229 kgce/kWh (3.6 MJ/kWh ÷
  29.3076); by the equal-value method (等价值) at the year's coal consumption of thermal power
  supply, a yearly parameter.  Heat at 0.03412 kgce/MJ (1 ÷ 29.3076).
* Comprehensive energy consumption (综合能耗, clause 4.1/4.2) = energy consumed − energy
  exported (外供); energy used as raw material (原料用能) is reported separately and not in
  the total; renewable electricity (on-site or backed by green certificates) is in the total
  and reported separately so that control totals (能耗双控) can exclude it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from nengtan import units
from nengtan.errors import InputError, Issue

#: MJ per kgce (GB/T 2589-2020, 3.2).
MJ_PER_KGCE = units.MJ_PER_KGCE
#: Electricity, equivalent value: 3.6 MJ/kWh ÷ 29.3076 MJ/kgce, rounded as in the standard.
KGCE_PER_KWH_EQUIVALENT = 0.1229
#: Heat: 1 MJ ÷ 29.3076 MJ/kgce, rounded as in the standard.
KGCE_PER_MJ_HEAT = 0.03412
METHOD_VERSION = "GB/T 2589-2020 / nengtan energy 1"

#: What a quantity was used for.  ``fuel``: consumed as energy; ``feedstock``: raw material
#: (原料用能, excluded from the total); ``export``: supplied outside the boundary (deducted);
#: ``renewable``: renewable electricity backed by green certificates (绿证/绿电交易).
USES = ("fuel", "feedstock", "export", "renewable")
ELECTRIC = ("electricity", "renewable_electricity", "recovered_electricity")
RENEWABLE = ("renewable_electricity",)


@dataclass(frozen=True)
class Coefficient:
    """kgce per ``unit`` of a carrier, with where it came from."""

    carrier: str
    unit: str
    kgce_per_unit: float
    #: reference (GB/T 2589 Annex A) | default_ncv (guideline NCV ÷ 29.3076) |
    #: measured_ncv (lab NCV ÷ 29.3076) | user (a value entered by the enterprise)
    method: str
    source: str
    status: str
    ncv_mj_per_unit: float | None = None
    #: Lab records or other documents behind a measured value ("fuel_delivery:12", ...).
    evidence: tuple[str, ...] = ()
    note: str | None = None

    def per(self, unit: str) -> float:
        """kgce per one ``unit`` of quantity (``unit`` of the same dimension)."""
        return self.kgce_per_unit * units.quantity_factor(unit, self.unit)

    def lineage(self) -> dict:
        out = {"kgce_per_unit": self.kgce_per_unit, "unit": self.unit, "method": self.method,
               "source": self.source, "status": self.status}
        if self.ncv_mj_per_unit is not None:
            out["ncv_mj_per_unit"] = self.ncv_mj_per_unit
        if self.evidence:
            out["evidence"] = list(self.evidence)
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class EqualValue:
    """Equal-value (等价值) coefficient of electricity for a year: kgce per kWh supplied."""

    kgce_per_kwh: float
    year: int
    source: str
    status: str
    #: The year asked for when a different year's value had to be used.
    requested_year: int | None = None

    def lineage(self) -> dict:
        out = {"kgce_per_kwh": self.kgce_per_kwh, "year": self.year, "source": self.source,
               "status": self.status}
        if self.requested_year and self.requested_year != self.year:
            out["note"] = (f"no value for {self.requested_year}; the latest earlier year's "
                           f"value ({self.year}) is used")
        return out


class Library:
    """Coefficients by carrier code, carrier categories and the equal-value parameter."""

    def __init__(self, coefficients: dict[str, Coefficient], categories: dict[str, str],
                 equal_value: EqualValue | None = None):
        self.coefficients = dict(coefficients)
        self.categories = dict(categories)
        self.equal_value = equal_value

    def category(self, carrier: str) -> str | None:
        return self.categories.get(carrier)

    def knows(self, carrier: str) -> bool:
        return carrier in self.categories

    def coefficient(self, carrier: str) -> Coefficient | None:
        return self.coefficients.get(carrier)

    def with_coefficient(self, coef: Coefficient) -> Library:
        """A copy in which ``coef`` replaces the carrier's coefficient (measured or user)."""
        return Library({**self.coefficients, coef.carrier: coef}, self.categories,
                       self.equal_value)

    def with_equal_value(self, ev: EqualValue | None) -> Library:
        return Library(self.coefficients, self.categories, ev)


def measured(base: Coefficient | None, carrier: str, unit: str, ncv_mj_per_unit: float,
             evidence: Iterable[str] = (), source: str = "measured net calorific value") -> Coefficient:
    """The coefficient from a measured NCV: ``ncv ÷ 29.3076`` kgce per ``unit`` (clause 4.3)."""
    return Coefficient(carrier=carrier, unit=unit, kgce_per_unit=ncv_mj_per_unit / MJ_PER_KGCE,
                       method="measured_ncv", source=source, status="measured",
                       ncv_mj_per_unit=ncv_mj_per_unit, evidence=tuple(evidence),
                       note=(f"replaces {base.kgce_per_unit:g} kgce/{base.unit} ({base.method})"
                             if base else None))


@dataclass(frozen=True)
class EnergyInput:
    """A quantity of a carrier: ``quantity`` in ``unit``; optional measured NCV per ``unit``."""

    carrier: str
    quantity: float
    unit: str
    use: str = "fuel"
    ncv_mj_per_unit: float | None = None
    evidence: tuple[str, ...] = ()
    #: Where the quantity came from (meter codes, a description ...), carried into the lineage.
    label: str | None = None
    #: Row of the input file (header = row 1), used in error messages and the answer.
    row: int | None = None


@dataclass(frozen=True)
class ConvertedRow:
    input: EnergyInput
    coefficient: Coefficient
    category: str
    #: kgce per input unit, equivalent value (the coefficient in the input's unit).
    kgce_per_input_unit: float
    #: tce of the quantity (always ≥ 0 for a non-negative quantity), equivalent value.
    tce: float
    #: tce at equal value (electricity of category ``electricity``; others as ``tce``).
    tce_equal_value: float
    #: +1 counted in the total, −1 deducted (export), 0 outside it (feedstock).
    sign: int

    def as_dict(self) -> dict:
        i = self.input
        return {
            "carrier": i.carrier, "quantity": i.quantity, "unit": i.unit, "use": i.use,
            "category": self.category, "label": i.label, "row": i.row,
            "coefficient_kgce_per_unit": self.kgce_per_input_unit,
            "coefficient": self.coefficient.lineage(),
            "source": self.coefficient.source, "status": self.coefficient.status,
            "method": self.coefficient.method,
            "tce": self.tce, "tce_equal_value": self.tce_equal_value, "sign": self.sign,
        }


@dataclass(frozen=True)
class EnergyTotals:
    """Comprehensive energy consumption (综合能耗) of a set of inputs, tce.

    ``total_tce``: equivalent value, exports deducted, feedstock excluded.
    ``total_tce_equal_value``: the same with grid electricity at equal value.
    ``control_total_tce``: ``total_tce`` − renewable electricity (for 能耗双控 totals).
    """

    total_tce: float
    total_tce_equal_value: float
    feedstock_tce: float
    export_tce: float
    renewable_tce: float
    control_total_tce: float
    rows: list[ConvertedRow] = field(default_factory=list)
    equal_value: EqualValue | None = None

    def by_carrier(self) -> dict[str, float]:
        """Net tce per carrier (signed: exports negative, feedstock left out)."""
        out: dict[str, float] = {}
        for r in self.rows:
            if r.sign:
                out[r.input.carrier] = out.get(r.input.carrier, 0.0) + r.sign * r.tce
        return out

    def as_dict(self) -> dict:
        return {
            "total_tce": self.total_tce,
            "total_tce_equal_value": self.total_tce_equal_value,
            "feedstock_tce": self.feedstock_tce,
            "export_tce": self.export_tce,
            "renewable_tce": self.renewable_tce,
            "control_total_tce": self.control_total_tce,
            "unit": "tce",
            "rows": [r.as_dict() for r in self.rows],
            "lineage": {
                "method": METHOD_VERSION,
                "electricity_equivalent_kgce_per_kwh": KGCE_PER_KWH_EQUIVALENT,
                "equal_value": self.equal_value.lineage() if self.equal_value else None,
                "rules": [
                    "total = Σ fuel − Σ export (equivalent value); feedstock excluded",
                    "coefficient = measured NCV ÷ 29.3076 MJ/kgce where measured",
                ],
            },
        }


def convert_one(inp: EnergyInput, library: Library, row: int | None = None) -> ConvertedRow:
    """One input → tce, or an :class:`InputError` naming ``row`` and the field."""
    issues: list[Issue] = []
    if not library.knows(inp.carrier):
        raise InputError([Issue("rule.energy_carrier", row=row, field="carrier",
                                value=inp.carrier)])
    category = library.category(inp.carrier)
    if inp.use not in USES:
        issues.append(Issue("rule.choice", row=row, field="use", value=inp.use,
                            params={"choices": ", ".join(USES)}))
    if not isinstance(inp.quantity, (int, float)) or not math.isfinite(inp.quantity):
        issues.append(Issue("rule.not_finite", row=row, field="quantity", value=inp.quantity))
    elif inp.quantity < 0:
        issues.append(Issue("rule.minimum", row=row, field="quantity", value=inp.quantity,
                            params={"min": 0}))
    if inp.ncv_mj_per_unit is not None and not inp.ncv_mj_per_unit > 0:
        issues.append(Issue("rule.exclusive_minimum", row=row, field="ncv_mj_per_unit",
                            value=inp.ncv_mj_per_unit, params={"min": 0}))
    if inp.ncv_mj_per_unit is not None and category in ELECTRIC:
        issues.append(Issue("rule.energy_ncv_electricity", row=row, field="ncv_mj_per_unit",
                            value=inp.ncv_mj_per_unit))
    if inp.use == "renewable" and category not in ELECTRIC:
        issues.append(Issue("rule.energy_renewable_use", row=row, field="use", value=inp.use))
    try:
        units.get_unit(inp.unit)
    except units.UnitError:
        issues.append(Issue("rule.unit_unknown", row=row, field="unit", value=inp.unit))
    if issues:
        raise InputError(issues)
    base = library.coefficient(inp.carrier)
    if inp.ncv_mj_per_unit is not None:
        coef = measured(base, inp.carrier, inp.unit, inp.ncv_mj_per_unit, inp.evidence,
                        source="measured net calorific value given with the quantity")
    elif base is None:
        raise InputError([Issue("rule.energy_no_coefficient", row=row, field="ncv_mj_per_unit",
                                value=inp.carrier)])
    else:
        coef = base
    try:
        per = coef.per(inp.unit)
    except units.UnitError:
        raise InputError([Issue("rule.energy_unit", row=row, field="unit", value=inp.unit,
                                params={"expected": coef.unit})]) from None
    tce = inp.quantity * per / 1000.0
    tce_eq = tce
    if category == "electricity" and library.equal_value is not None:
        kwh = inp.quantity * units.quantity_factor(inp.unit, "kWh")
        tce_eq = kwh * library.equal_value.kgce_per_kwh / 1000.0
    sign = {"fuel": 1, "renewable": 1, "export": -1, "feedstock": 0}[inp.use]
    return ConvertedRow(inp, coef, category, per, tce, tce_eq, sign)


def convert(inputs: Iterable[EnergyInput], library: Library, first_row: int = 1) -> EnergyTotals:
    """Comprehensive energy consumption of ``inputs`` (GB/T 2589-2020 clause 4).

    Every input is checked before any figure is returned; all problems are raised together,
    each naming its row (``first_row`` is the row number of the first input).
    """
    rows: list[ConvertedRow] = []
    issues: list[Issue] = []
    for k, inp in enumerate(inputs):
        try:
            rows.append(convert_one(inp, library, row=inp.row or first_row + k))
        except InputError as exc:
            issues += exc.issues
    if issues:
        raise InputError(issues)
    total = sum(r.sign * r.tce for r in rows)
    total_eq = sum(r.sign * r.tce_equal_value for r in rows)
    feedstock = sum(r.tce for r in rows if r.input.use == "feedstock")
    export = sum(r.tce for r in rows if r.input.use == "export")
    renewable = sum(r.sign * r.tce for r in rows
                    if r.sign and (r.input.use == "renewable" or r.category in RENEWABLE))
    return EnergyTotals(total, total_eq, feedstock, export, renewable, total - renewable, rows,
                        library.equal_value)


def with_label(inp: EnergyInput, label: str) -> EnergyInput:
    return replace(inp, label=label)
