"""The formulas every accounting methodology shares (GB/T 32150-2015 and the MEE guidelines).

Pure: no I/O.  One short function per source kind and method, each returning the mass of
the gas (t) with the formula written out with its numbers; the parameters it used are
recorded on the :class:`Sheet` with their provenance (given with the activity data, a value
the methodology prescribes, or a value of the factor library).

Units (GB/T 32150-2015 clause 3 and Annex B; MEE enterprise accounting guidelines):

* activity data of fuels ``AD = FC × NCV`` in GJ, ``FC`` the fuel quantity converted to the
  unit of the NCV's denominator (t, 10^4 Nm3; metered m3 taken as Nm3), NCV in GJ per unit;
* emission factor of fuels ``EF = CC × OF × 44/12`` in tCO2/GJ from CC in tC/TJ (÷ 1000)
  and the oxidation rate OF as a fraction;
* purchased / exported electricity in MWh × tCO2/MWh; heat in GJ × tCO2/GJ;
* process factors in tCO2 per t of material; fugitive gases as t of gas.

A methodology (subclass of :class:`Methodology`) may override a kind's function or prescribe
parameter values (:meth:`Methodology.fixed`) that take precedence over the library — never
over a value given with the activity data.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from nengtan import units
from nengtan.carbon.model import CO2_PER_C, FactorLookup, FactorValue, Param, SourceInput
from nengtan.errors import Issue

#: Which methods apply to which kinds (GB/T 32150-2015 clause 6.4: calculation by emission
#: factors or by mass balance; measurement where a CEMS or other measurement exists).
METHOD_KINDS = {
    "factor": ("combustion", "process", "fugitive", "recovered", "electricity", "heat",
               "export_electricity", "export_heat"),
    "mass_balance": ("combustion", "process"),
    "measurement": ("combustion", "process", "fugitive", "recovered"),
}
#: Kinds that are CO2 only.
CO2_ONLY = ("electricity", "heat", "export_electricity", "export_heat", "recovered")

_FRACTION_UNITS = {"", "fraction", "1", "-", "ratio", "t/t", "tc/t", "kgc/kg", "比例"}


def num(x: float) -> str:
    """A number as written in a formula (10 significant digits, no float noise)."""
    if x == 0:
        return "0"
    return f"{x:.10g}"


class ConversionError(ValueError):
    def __init__(self, expected: str):
        super().__init__(expected)
        self.expected = expected


def quantity_factor(from_unit: str, to_unit: str) -> float:
    """Factor from one quantity unit to another (:func:`nengtan.units.quantity_factor`: m3
    and Nm3 of gas alike); a mass of gas and a mass of CO2e convert as masses."""
    a, b = units.get_unit(from_unit), units.get_unit(to_unit)
    if a.dimension in ("mass", "co2e") and b.dimension in ("mass", "co2e"):
        return a.to_base / b.to_base
    return units.quantity_factor(from_unit, to_unit)


_MASS_PREFIXES = (("10^4 t", 1e4), ("万t", 1e4), ("kg", 1e-3), ("g", 1e-6), ("t", 1.0),
                  ("吨", 1.0), ("千克", 1e-3))


def mass_to_t(unit: str) -> float:
    """Factor of a mass unit, possibly naming the substance (``tCO2``, ``kgCH4``, ``tC``,
    ``tHFC-134a``), to tonnes."""
    text = unit.strip()
    try:
        u = units.get_unit(text)
        if u.dimension in ("mass", "co2e"):
            return u.to_base
    except units.UnitError:
        pass
    for prefix, scale in _MASS_PREFIXES:
        if text.startswith(prefix):
            rest = text[len(prefix):].strip()
            if rest == "" or re.fullmatch(r"[A-Za-z][A-Za-z0-9\-]*", rest):
                return scale
    raise ConversionError("t")


def _dimension(unit: str | None) -> str | None:
    try:
        return units.get_unit(unit).dimension
    except (units.UnitError, TypeError):
        return None


def split_ratio(unit: str) -> tuple[str, str]:
    if not isinstance(unit, str) or "/" not in unit:
        raise ConversionError("a/b")
    a, b = (p.strip() for p in unit.split("/", 1))
    if not a or not b:
        raise ConversionError("a/b")
    try:
        units.get_unit(b)
    except units.UnitError:
        raise ConversionError("a/b") from None
    return a, b


# --- converters: (value, unit) -> (value, unit label, denominator unit or None) -------------

def per_energy_gj(value: float, unit: str):
    """NCV: energy per unit of quantity → GJ per the denominator unit."""
    a, b = split_ratio(unit)
    try:
        f = units.factor(a, "GJ")
    except units.UnitError:
        raise ConversionError("GJ/t") from None
    return value * f, f"GJ/{units.canonical(b)}", units.canonical(b)


def per_mass_t(label: str) -> Callable:
    """Emission or process factor: t of gas per unit of quantity."""

    def conv(value: float, unit: str):
        a, b = split_ratio(unit)
        f = mass_to_t(a)
        return value * f, f"{label}/{units.canonical(b)}", units.canonical(b)

    return conv


def carbon_content_tc_per_tj(value: float, unit: str):
    """Carbon content per unit heat → tC/TJ (tC/GJ × 1000; kgC/GJ = tC/TJ)."""
    a, b = split_ratio(unit)
    f = mass_to_t(a)
    try:
        d = units.factor(b, "TJ")
    except units.UnitError:
        raise ConversionError("tC/TJ") from None
    return value * f / d, "tC/TJ", None


def fraction(value: float, unit: str):
    u = (unit or "").strip().lower()
    if u in ("%", "percent"):
        value = value / 100.0
    elif u not in _FRACTION_UNITS:
        raise ConversionError("fraction")
    if not 0.0 <= value <= 1.0:
        raise ConversionError("fraction 0-1")
    return value, "fraction", None


def mass_t(value: float, unit: str):
    return value * mass_to_t(unit), "t", None


def scalar(value: float, unit: str):
    return value, unit or "1", None


# --- what was used --------------------------------------------------------------------------

@dataclass
class Used:
    """A parameter value used in a calculation, with where it came from."""

    parameter: str
    value: float
    unit: str
    source: str
    status: str
    #: the library value's id; "given" for values given with the activity data;
    #: "methodology:<id>" for values the methodology prescribes.
    factor_id: str
    #: given | library | methodology | assumed
    origin: str
    subject: str | None = None
    den: str | None = None
    as_given: tuple[float, str] | None = None
    extra: dict = field(default_factory=dict)

    def lineage(self) -> dict:
        out = {"parameter": self.parameter, "value": self.value, "unit": self.unit,
               "source": self.source, "status": self.status, "factor_id": self.factor_id,
               "origin": self.origin}
        if self.subject is not None:
            out["subject"] = self.subject
        if self.as_given is not None:
            out["as_given"] = {"value": self.as_given[0], "unit": self.as_given[1]}
        out.update(self.extra)
        return out


@dataclass
class Calc:
    """A source's result before the GWP: mass of the gas (t, magnitude; the engine applies
    the sign of deductions) and the formula with its numbers."""

    emission_t: float
    formula: str
    activity: dict = field(default_factory=dict)
    #: market-based mass (electricity); None = same as location-based
    market_emission_t: float | None = None
    market_formula: str | None = None


class Sheet:
    """The parameters of one source: given with the activity data, else prescribed by the
    methodology, else from the factor library.  Records every value used and collects every
    problem (an :class:`Issue` naming the row and field)."""

    def __init__(self, inp: SourceInput, lookup: FactorLookup, row: int | None,
                 fixed: dict[str, Used] | None = None):
        self.inp = inp
        self.lookup = lookup
        self.row = row
        self.fixed = fixed or {}
        self.used: list[Used] = []
        self.notes: list[str] = []
        self.issues: list[Issue] = []

    # problems
    def issue(self, rule: str, field: str | None = None, value=None, **params) -> None:
        self.issues.append(Issue(rule, row=self.row, field=field, value=value,
                                 params=params or None))

    # parameters
    def given(self, name: str) -> Param | None:
        return self.inp.params.get(name)

    def has(self, name: str) -> bool:
        return name in self.inp.params

    def _convert(self, name: str, value: float, unit: str, conv: Callable, origin: str):
        try:
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ConversionError("a finite number")
            return conv(float(value), unit)
        except (ConversionError, units.UnitError) as exc:
            expected = exc.expected if isinstance(exc, ConversionError) else str(exc)
            rule = "rule.carbon_param_unit" if origin == "given" else "rule.carbon_library_unit"
            self.issue(rule, field=name, value=f"{value} {unit}", expected=expected)
            return None

    def find(self, name: str, conv: Callable, subject: str | None = None,
             parameter: str | None = None, library: bool = True) -> Used | None:
        """The value of ``name`` (given → methodology → library ``parameter`` for
        ``subject``), converted by ``conv``; not yet recorded as used (see :meth:`use`)."""
        p = self.given(name)
        if p is not None:
            got = self._convert(name, p.value, p.unit, conv, "given")
            if got is None:
                return None
            value, unit, den = got
            return Used(name, value, unit, p.source, p.status, "given", "given",
                        den=den, as_given=None if (value, unit) == (p.value, p.unit)
                        else (p.value, p.unit))
        if name in self.fixed:
            return self.fixed[name]
        if not library or subject is None:
            return None
        fv = self.lookup.get(parameter or name, subject)
        if fv is None:
            return None
        return self.from_library(name, fv, conv)

    def from_library(self, name: str, fv: FactorValue, conv: Callable) -> Used | None:
        got = self._convert(name, fv.value, fv.unit, conv, "library")
        if got is None:
            return None
        value, unit, den = got
        extra = {k: v for k, v in fv.lineage().items()
                 if k not in ("parameter", "value", "unit", "factor_id", "status", "subject")}
        if fv.note:
            extra["note"] = fv.note
        return Used(name, value, unit, fv.document, fv.status, fv.id, "library",
                    subject=fv.subject, den=den,
                    as_given=None if (value, unit) == (fv.value, fv.unit) else (fv.value, fv.unit),
                    extra=extra)

    def use(self, *values: Used | None) -> None:
        for u in values:
            if u is not None and u not in self.used:
                self.used.append(u)

    def take(self, name: str, conv: Callable, subject: str | None = None,
             parameter: str | None = None) -> Used | None:
        """:meth:`find` and record; a missing value is an issue naming the parameter."""
        u = self.find(name, conv, subject, parameter)
        if u is None:
            if not self._had_conversion_issue(name):
                self.missing(name, subject)
            return None
        self.use(u)
        return u

    def optional(self, name: str, conv: Callable) -> Used | None:
        """A value given with the activity data (or prescribed), recorded when present."""
        u = self.find(name, conv, library=False)
        self.use(u)
        return u

    def assumed(self, name: str, value: float, unit: str, why: str) -> Used:
        u = Used(name, value, unit, why, "assumed", "assumed", "assumed")
        self.use(u)
        return u

    def missing(self, name: str, subject: str | None) -> None:
        self.issue("rule.carbon_param_missing", field=name, value=subject or "",
                   subject=subject or "")

    def _had_conversion_issue(self, name: str) -> bool:
        return any(i.field == name for i in self.issues)

    # activity data
    def quantity_in(self, den: str, field: str = "quantity") -> float | None:
        """The quantity converted to ``den`` (the factor's denominator unit)."""
        try:
            return self.inp.quantity * quantity_factor(self.inp.unit, den)
        except units.UnitError:
            self.issue("rule.carbon_unit", field="unit", value=self.inp.unit, expected=den)
            return None

    def activity_text(self, den: str, q: float) -> str:
        if units.canonical(self.inp.unit) == den:
            return f"{num(q)} {den}"
        return f"{num(self.inp.quantity)} {self.inp.unit} = {num(q)} {den}"


class Methodology:
    """An accounting methodology: id, version, the document it implements, and one
    function per source kind and method.  Add an industry guideline by subclassing this
    (override a kind's function or :meth:`fixed`) and registering it in
    :mod:`nengtan.carbon.methodologies`."""

    id = "base"
    version = "1"
    title_zh = ""
    title_en = ""
    document = ""
    #: the kinds this methodology accounts for
    kinds: tuple[str, ...] = METHOD_KINDS["factor"]

    def describe(self) -> dict:
        return {"id": self.id, "version": self.version, "title_zh": self.title_zh,
                "title_en": self.title_en, "document": self.document, "kinds": list(self.kinds),
                "methods": {m: [k for k in ks if k in self.kinds]
                            for m, ks in METHOD_KINDS.items()}}

    def lineage(self) -> dict:
        return {"id": self.id, "version": self.version, "document": self.document}

    def fixed(self, inp: SourceInput) -> dict[str, Used]:
        """Parameter values the methodology prescribes for this source (taking precedence
        over the library, never over given values)."""
        return {}

    def sheet(self, inp: SourceInput, lookup: FactorLookup, row: int | None) -> Sheet:
        return Sheet(inp, lookup, row, self.fixed(inp))

    def calculate(self, inp: SourceInput, s: Sheet) -> Calc | None:
        if inp.method == "mass_balance":
            return self.mass_balance(inp, s)
        if inp.method == "measurement":
            return self.measurement(inp, s)
        return getattr(self, inp.kind)(inp, s)

    # --- emission factor method --------------------------------------------------------

    def times_factor(self, inp: SourceInput, s: Sheet, ef: Used, gas_label: str) -> Calc | None:
        """``E = AD × EF`` with EF in t of gas per unit of activity."""
        s.use(ef)
        q = s.quantity_in(ef.den)
        if q is None:
            return None
        e = q * ef.value
        return Calc(e, f"E = AD × EF = {s.activity_text(ef.den, q)} × {num(ef.value)} "
                       f"{ef.unit} = {num(e)} t{gas_label}",
                    activity={"value": q, "unit": ef.den})

    def apply_factor(self, inp: SourceInput, s: Sheet, ef: Used, gas_label: str) -> Calc | None:
        """``E = AD × EF``; a factor per unit of fuel heat (t/TJ, e.g. CH4 and N2O of
        combustion, 2006 IPCC Guidelines Vol. 2 Ch. 2) applied to a fuel quantity in mass or
        volume takes the heat from the NCV: ``E = FC × NCV × EF``."""
        if _dimension(ef.den) != "energy" or _dimension(inp.unit) == "energy":
            return self.times_factor(inp, s, ef, gas_label)
        ncv = s.take("ncv", per_energy_gj, inp.carrier)
        if ncv is None:
            return None
        s.use(ef)
        q = s.quantity_in(ncv.den)
        if q is None:
            return None
        ad = q * ncv.value
        per_gj = ef.value * units.factor("GJ", ef.den)
        e = ad * per_gj
        return Calc(e, f"AD = FC × NCV = {s.activity_text(ncv.den, q)} × {num(ncv.value)} "
                       f"{ncv.unit} = {num(ad)} GJ; E = AD × EF = {num(ad)} GJ × "
                       f"{num(ef.value)} {ef.unit} = {num(e)} t{gas_label}",
                    activity={"value": ad, "unit": "GJ", "fuel": q, "fuel_unit": ncv.den})

    def combustion(self, inp: SourceInput, s: Sheet) -> Calc | None:
        """Fossil fuel combustion, GB/T 32150-2015 Annex B (B.1):
        ``AD = FC × NCV`` (GJ), ``EF = CC × OF × 44/12`` (tCO2/GJ, CC in tC/TJ ÷ 1000),
        ``E = AD × EF``; a given ``emission_factor`` (t per unit) replaces the three; a
        given element carbon content ``carbon_fraction`` (tC/t) gives
        ``E = FC × C × OF × 44/12``.  CH4 and N2O: a given emission factor, else the
        library's factor per TJ of fuel heat (subject ``<carrier>:<gas>``) × FC × NCV."""
        gas = inp.gas
        ef = s.find("emission_factor", per_mass_t(f"t{gas}"), library=False)
        if ef is None and gas != "CO2":
            # CH4 / N2O of combustion: the library's factor per TJ of fuel heat
            ef = s.find("emission_factor", per_mass_t(f"t{gas}"), f"{inp.carrier}:{gas}")
            if ef is None:
                if not s.issues:
                    s.missing("emission_factor", f"{inp.carrier}:{gas}")
                return None
        if ef is not None:
            return self.apply_factor(inp, s, ef, gas)
        cf = s.find("carbon_fraction", fraction, library=False)
        if cf is not None:
            of = s.take("oxidation_rate", fraction, inp.carrier)
            s.use(cf)
            q = s.quantity_in("t")
            if of is None or q is None:
                return None
            e = q * cf.value * of.value * CO2_PER_C
            return Calc(e, f"E = FC × C × OF × 44/12 = {s.activity_text('t', q)} × "
                           f"{num(cf.value)} tC/t × {num(of.value)} × 44/12 = {num(e)} tCO2",
                        activity={"value": q, "unit": "t"})
        ncv = s.find("ncv", per_energy_gj, inp.carrier)
        cc = s.find("carbon_content", carbon_content_tc_per_tj, inp.carrier)
        of = s.find("oxidation_rate", fraction, inp.carrier)
        if (ncv is None or cc is None or of is None) and not s.issues:
            lib = s.find("emission_factor", per_mass_t("tCO2"), inp.carrier)
            if lib is not None:
                s.notes.append("no NCV/carbon content/oxidation rate for this carrier: "
                               "the library's emission factor per unit is used")
                return self.times_factor(inp, s, lib, gas)
        for name, u in (("ncv", ncv), ("carbon_content", cc), ("oxidation_rate", of)):
            if u is None and not s._had_conversion_issue(name):
                s.missing(name, inp.carrier)
        if ncv is None or cc is None or of is None:
            return None
        s.use(ncv, cc, of)
        q = s.quantity_in(ncv.den)
        if q is None:
            return None
        ad = q * ncv.value
        ef_gj = cc.value * of.value * CO2_PER_C / 1000.0
        e = ad * ef_gj
        return Calc(e, f"AD = FC × NCV = {s.activity_text(ncv.den, q)} × {num(ncv.value)} "
                       f"{ncv.unit} = {num(ad)} GJ; EF = CC × OF × 44/12 = {num(cc.value)} "
                       f"tC/TJ × {num(of.value)} × 44/12 ÷ 1000 = {num(ef_gj)} tCO2/GJ; "
                       f"E = AD × EF = {num(e)} tCO2",
                    activity={"value": ad, "unit": "GJ", "fuel": q, "fuel_unit": ncv.den})

    def process(self, inp: SourceInput, s: Sheet) -> Calc | None:
        """Process emissions, GB/T 32150-2015 Annex B (B.2): carbonates and other materials,
        ``E = AD × EF × P`` with AD the material in t, EF the (stoichiometric) process
        factor in tCO2/t (e.g. CaCO3 44.01/100.09) and P the purity (optional, fraction)."""
        gas = inp.gas
        ef = s.find("emission_factor", per_mass_t(f"t{gas}"), library=False)
        if ef is None and gas == "CO2":
            ef = s.find("process_factor", per_mass_t("tCO2"), inp.carrier)
        if ef is None and gas == "CO2" and not s.issues:
            ef = s.find("emission_factor", per_mass_t("tCO2"), inp.carrier)
        if ef is None:
            if not s.issues:
                s.missing("process_factor" if gas == "CO2" else "emission_factor",
                          inp.carrier)
            return None
        s.use(ef)
        purity = s.optional("purity", fraction)
        calc = self.times_factor(inp, s, ef, gas)
        if calc is None or purity is None:
            return calc
        e = calc.emission_t * purity.value
        q = calc.activity["value"]
        return Calc(e, f"E = AD × EF × P = {s.activity_text(ef.den, q)} × {num(ef.value)} "
                       f"{ef.unit} × {num(purity.value)} = {num(e)} t{gas}",
                    activity=calc.activity)

    def fugitive(self, inp: SourceInput, s: Sheet) -> Calc | None:
        """Fugitive / non-CO2 gases: the mass of gas released (t) — or activity × a given
        emission factor (t gas per unit); the engine applies the GWP."""
        ef = s.find("emission_factor", per_mass_t(f"t{inp.gas}"), library=False)
        if ef is not None:
            return self.times_factor(inp, s, ef, inp.gas)
        try:
            q = inp.quantity * mass_to_t(inp.unit)
        except ConversionError:
            s.issue("rule.carbon_unit", field="unit", value=inp.unit, expected="t")
            return None
        return Calc(q, f"E = {num(inp.quantity)} {inp.unit} {inp.gas} = {num(q)} t{inp.gas}",
                    activity={"value": q, "unit": "t"})

    def _grid(self, inp: SourceInput, s: Sheet, parameter: str, subject: str,
              label: str) -> Used | None:
        ef = s.find("emission_factor", per_mass_t(label), library=False)
        if ef is None:
            ef = s.find(parameter, per_mass_t(label), subject)
        if ef is None and not s.issues:
            s.missing(parameter, subject)
        return ef

    def electricity(self, inp: SourceInput, s: Sheet) -> Calc | None:
        """Net purchased electricity, location-based: ``E = AD × EF_grid`` (MWh × tCO2/MWh;
        MEE enterprise guidelines, 净购入电力).  Market-based (shown side by side):
        electricity backed by green certificates / green power contracts (``green_mwh``) at
        0 tCO2/MWh, the rest at the same grid factor (no residual-mix factor is published
        for China)."""
        ef = self._grid(inp, s, "grid_factor", "electricity", "tCO2")
        if ef is None:
            return None
        calc = self.times_factor(inp, s, ef, "CO2")
        if calc is None:
            return None
        q = calc.activity["value"]
        try:
            green = inp.green_mwh * quantity_factor("MWh", ef.den)
        except units.UnitError:
            s.issue("rule.carbon_unit", field="green_mwh", value=inp.green_mwh, expected=ef.den)
            return None
        if green > q * (1 + 1e-12):
            s.issue("rule.carbon_green_exceeds", field="green_mwh", value=inp.green_mwh,
                    total=num(q), unit=ef.den)
            return None
        if green:
            green = min(green, q)
            market = (q - green) * ef.value
            calc.market_emission_t = market
            calc.market_formula = (f"E_market = (AD − green) × EF = ({num(q)} − {num(green)}) "
                                   f"{ef.den} × {num(ef.value)} {ef.unit} = {num(market)} tCO2")
            calc.activity["green"] = green
        return calc

    def heat(self, inp: SourceInput, s: Sheet) -> Calc | None:
        """Net purchased heat: ``E = AD × EF_heat`` (GJ × tCO2/GJ; MEE guidelines,
        净购入热力).  Steam in t needs its heat in GJ (or a given factor per t)."""
        ef = self._grid(inp, s, "heat_factor", "heat", "tCO2")
        if ef is None:
            return None
        return self.times_factor(inp, s, ef, "CO2")

    def export_electricity(self, inp: SourceInput, s: Sheet) -> Calc | None:
        """Exported electricity, deducted at the grid factor (MEE guidelines, 输出电力)."""
        return self.electricity(inp, s)

    def export_heat(self, inp: SourceInput, s: Sheet) -> Calc | None:
        """Exported heat, deducted at the heat factor (MEE guidelines, 输出热力)."""
        return self.heat(inp, s)

    def recovered(self, inp: SourceInput, s: Sheet) -> Calc | None:
        """CO2 recovered and utilised (deducted): the mass recovered, t (GB/T 32150-2015
        Annex B, 二氧化碳回收利用量)."""
        try:
            q = inp.quantity * mass_to_t(inp.unit)
        except ConversionError:
            s.issue("rule.carbon_unit", field="unit", value=inp.unit, expected="t")
            return None
        return Calc(q, f"E_recovered = {num(inp.quantity)} {inp.unit} = {num(q)} tCO2",
                    activity={"value": q, "unit": "t"})

    # --- mass balance and measurement ---------------------------------------------------

    def mass_balance(self, inp: SourceInput, s: Sheet) -> Calc | None:
        """Mass balance (carbon balance), GB/T 32150-2015 clause 6.4 / seed 001 eq. (2):
        ``E = (ΣC_in − ΣC_out − ΔC_stock) × 44/12`` with the carbon masses in t
        (``carbon_in_t`` required; ``carbon_out_t`` and ``stock_change_t`` 0 when not
        given, recorded as assumed)."""
        c_in = s.optional("carbon_in_t", mass_t)
        if c_in is None:
            if not s._had_conversion_issue("carbon_in_t"):
                s.missing("carbon_in_t", inp.carrier)
            return None
        c_out = s.optional("carbon_out_t", mass_t)
        if c_out is None and not s._had_conversion_issue("carbon_out_t"):
            c_out = s.assumed("carbon_out_t", 0.0, "t", "not given: no carbon leaves in products "
                                                        "or waste")
        stock = s.optional("stock_change_t", mass_t) if s.has("stock_change_t") else None
        if s.has("stock_change_t") and stock is None:
            return None
        if c_out is None:
            return None
        d_stock = stock.value if stock is not None else 0.0
        carbon = c_in.value - c_out.value - d_stock
        if carbon < 0:
            s.issue("rule.carbon_mass_balance_negative", field="carbon_out_t",
                    value=num(c_out.value), carbon=num(carbon))
            return None
        e = carbon * CO2_PER_C
        stock_text = f" − {num(d_stock)}" if stock is not None else ""
        return Calc(e, f"E = (C_in − C_out{' − ΔC_stock' if stock is not None else ''}) × 44/12 "
                       f"= ({num(c_in.value)} − {num(c_out.value)}{stock_text}) tC × 44/12 "
                       f"= {num(e)} tCO2",
                    activity={"value": carbon, "unit": "tC"})

    def measurement(self, inp: SourceInput, s: Sheet) -> Calc | None:
        """Measurement (实测法): the measured mass of the gas, t (e.g. the sum of valid
        hourly CEMS CO2 masses, :mod:`nengtan.carbon.cems`), given as ``measured_t`` or as
        the quantity itself in a mass unit."""
        m = s.optional("measured_t", mass_t)
        if m is None:
            if s._had_conversion_issue("measured_t"):
                return None
            try:
                q = inp.quantity * mass_to_t(inp.unit)
            except ConversionError:
                s.issue("rule.carbon_measured_missing", field="measured_t")
                return None
            m = Used("measured_t", q, "t", "the activity quantity (measured)", "measured",
                     "given", "given", as_given=None if q == inp.quantity and inp.unit == "t"
                     else (inp.quantity, inp.unit))
            s.use(m)
        return Calc(m.value, f"E = measured = {num(m.value)} t{inp.gas}",
                    activity={"value": m.value, "unit": "t"})
