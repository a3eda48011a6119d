"""Cement: GB/T 32151.8-2015 《温室气体排放核算与报告要求 第8部分:水泥生产企业》 and the MEE
cement guideline 《中国水泥生产企业温室气体排放核算方法与报告指南(试行)》.

What differs from the general rules (:mod:`.gbt32150`) is the process emission of clinker
(原料碳酸盐分解), computed from the clinker's CaO and MgO content rather than from the
carbonates fed::

    E = (Q_cl + Q_ckd + Q_bpd) × [(CaO − CaO_nc) × 44/56 + (MgO − MgO_nc) × 44/40]

with Q in t (clinker; kiln dust and bypass dust leaving the kiln system, optional), CaO, MgO
the mass fractions in clinker and CaO_nc, MgO_nc the fractions that come from non-carbonate
raw materials (slag, fly ash ...; 0 when not given, recorded as assumed).  The factors
44/56 and 44/40 (44.01/56.08 and 44.01/40.30 with molar masses) are the library's
``process_factor`` values of ``clinker_cao`` and ``clinker_mgo``.

The organic (non-fuel) carbon of raw meal, optional: a ``process`` source with carrier
``raw_meal``, ``E = Q_rm × TOC × 44/12`` with TOC given (``organic_carbon``, fraction).

Sources of kind ``process`` with carrier ``clinker`` use the clinker formula; any other
source is accounted as in GB/T 32150.
"""

from __future__ import annotations

from nengtan.carbon.methodologies.base import (
    Calc,
    Methodology,
    Sheet,
    Used,
    fraction,
    mass_t,
    num,
    per_mass_t,
)
from nengtan.carbon.model import CO2_PER_C, SourceInput

DOCUMENT = "GB/T 32151.8-2015; 中国水泥生产企业温室气体排放核算方法与报告指南(试行)"
_STOICHIOMETRY = {"clinker_cao": 44.01 / 56.08, "clinker_mgo": 44.01 / 40.30}


class Cement(Methodology):
    id = "cement"
    version = "2015.1"
    title_zh = "温室气体排放核算与报告要求 第8部分:水泥生产企业"
    title_en = "GHG accounting and reporting requirements, part 8: cement"
    document = DOCUMENT

    def process(self, inp: SourceInput, s: Sheet) -> Calc | None:
        if inp.carrier == "clinker" and not s.has("emission_factor"):
            return self.clinker(inp, s)
        if inp.carrier == "raw_meal" and not s.has("emission_factor"):
            return self.raw_meal(inp, s)
        return super().process(inp, s)

    def _stoichiometric(self, s: Sheet, subject: str) -> Used:
        u = s.find(subject, per_mass_t("tCO2"), subject, parameter="process_factor")
        if u is None:
            u = Used(subject, _STOICHIOMETRY[subject], "tCO2/t",
                     "stoichiometry (molar masses CO2 44.01, CaO 56.08, MgO 40.30)", "verified",
                     f"methodology:{self.id}:{subject}", "methodology", den="t")
        s.use(u)
        return u

    def clinker(self, inp: SourceInput, s: Sheet) -> Calc | None:
        cao = s.optional("cao_content", fraction)
        if cao is None:
            if not s._had_conversion_issue("cao_content"):
                s.missing("cao_content", "clinker")
            return None
        cao_nc = s.optional("cao_non_carbonate", fraction) or (
            None if s.has("cao_non_carbonate") else
            s.assumed("cao_non_carbonate", 0.0, "fraction",
                      "not given: no CaO from non-carbonate raw materials"))
        mgo = s.optional("mgo_content", fraction)
        mgo_nc = None
        if mgo is not None:
            mgo_nc = s.optional("mgo_non_carbonate", fraction) or (
                None if s.has("mgo_non_carbonate") else
                s.assumed("mgo_non_carbonate", 0.0, "fraction",
                          "not given: no MgO from non-carbonate raw materials"))
        elif not s.has("mgo_content"):
            s.notes.append("MgO content of clinker not given: the MgO term is left out")
        ckd = s.optional("kiln_dust_t", mass_t)
        bpd = s.optional("bypass_dust_t", mass_t)
        q = s.quantity_in("t")
        if s.issues or q is None or cao_nc is None:
            return None
        f_cao = self._stoichiometric(s, "clinker_cao")
        for name, total, part in (("cao_non_carbonate", cao, cao_nc),
                                  ("mgo_non_carbonate", mgo, mgo_nc)):
            if total is not None and part is not None and part.value > total.value:
                s.issue("rule.carbon_non_carbonate", field=name, value=part.value,
                        total=num(total.value))
        if s.issues:
            return None
        mass = q + (ckd.value if ckd else 0.0) + (bpd.value if bpd else 0.0)
        per_t = (cao.value - cao_nc.value) * f_cao.value
        terms = f"({num(cao.value)} − {num(cao_nc.value)}) × {num(f_cao.value)}"
        if mgo is not None:
            f_mgo = self._stoichiometric(s, "clinker_mgo")
            per_t += (mgo.value - mgo_nc.value) * f_mgo.value
            terms += f" + ({num(mgo.value)} − {num(mgo_nc.value)}) × {num(f_mgo.value)}"
        e = mass * per_t
        masses = s.activity_text("t", q)
        if ckd or bpd:
            masses = (f"({masses} + {num(ckd.value if ckd else 0.0)} t kiln dust + "
                      f"{num(bpd.value if bpd else 0.0)} t bypass dust)")
        return Calc(e, f"E = (Q_cl + Q_ckd + Q_bpd) × [(CaO − CaO_nc) × 44/56 + "
                       f"(MgO − MgO_nc) × 44/40] = {masses} × [{terms}] = {num(mass)} t × "
                       f"{num(per_t)} tCO2/t = {num(e)} tCO2",
                    activity={"value": mass, "unit": "t", "clinker_t": q})

    def raw_meal(self, inp: SourceInput, s: Sheet) -> Calc | None:
        toc = s.optional("organic_carbon", fraction)
        if toc is None:
            if not s._had_conversion_issue("organic_carbon"):
                s.missing("organic_carbon", "raw_meal")
            return None
        q = s.quantity_in("t")
        if q is None:
            return None
        e = q * toc.value * CO2_PER_C
        return Calc(e, f"E = Q_rm × TOC × 44/12 = {s.activity_text('t', q)} × {num(toc.value)} "
                       f"× 44/12 = {num(e)} tCO2", activity={"value": q, "unit": "t"})


METHODOLOGY = Cement()
