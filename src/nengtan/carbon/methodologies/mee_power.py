"""MEE guideline for power-generation facilities 《企业温室气体排放核算与报告指南 发电设施》
(环办气候〔2022〕485号) — combustion of coal with measured carbon content, or the high default.

What differs from the general rules (:mod:`.gbt32150`):

* coal's carbon content must be measured (element carbon of each batch or monthly composite
  sample).  Given as ``carbon_fraction`` (收到基元素碳含量, tC/t: ``E = FC × C_ar × OF ×
  44/12``) or as ``carbon_content`` per unit heat (tC/TJ).  When it is not measured the
  guideline prescribes a high default of 0.03356 tC/GJ (33.56 tC/TJ) — punitive on purpose;
  the library's general default (e.g. 26.18 tC/TJ for bituminous coal) is never used;
* the oxidation rate of coal is fixed at 99 %;
* the NCV of coal should be measured as well; a library default is used but noted.

The two prescribed values are carried as ``unverified`` (read in secondary sources, not in
the primary text): replace them in the factor library once checked against the guideline.
"""

from __future__ import annotations

from nengtan.carbon.methodologies.base import Calc, Methodology, Sheet, Used
from nengtan.carbon.model import SourceInput

#: Carriers accounted as coal (燃煤).
COAL = ("raw_coal", "bituminous_coal", "anthracite", "lignite", "cleaned_coal", "coal")

DOCUMENT = "环办气候〔2022〕485号 企业温室气体排放核算与报告指南 发电设施"
#: tC/TJ — default carbon content per unit heat of coal when it is not measured.
HIGH_DEFAULT_CC = 33.56
COAL_OXIDATION = 0.99


class MEEPower(Methodology):
    id = "mee_power"
    version = "2022.1"
    title_zh = "企业温室气体排放核算与报告指南 发电设施"
    title_en = "MEE guideline for greenhouse gas accounting and reporting: power-generation " \
               "facilities"
    document = DOCUMENT
    kinds = ("combustion", "electricity", "heat", "export_electricity", "export_heat",
             "fugitive", "process", "recovered")

    def fixed(self, inp: SourceInput) -> dict[str, Used]:
        if inp.kind != "combustion" or inp.carrier not in COAL:
            return {}
        return {
            "carbon_content": Used(
                "carbon_content", HIGH_DEFAULT_CC, "tC/TJ",
                f"{DOCUMENT}: carbon content not measured — high default 0.03356 tC/GJ",
                "unverified", f"methodology:{self.id}:carbon_content_high_default",
                "methodology"),
            "oxidation_rate": Used(
                "oxidation_rate", COAL_OXIDATION, "fraction",
                f"{DOCUMENT}: oxidation rate of coal 99 %", "unverified",
                f"methodology:{self.id}:coal_oxidation_rate", "methodology"),
        }

    def combustion(self, inp: SourceInput, s: Sheet) -> Calc | None:
        if inp.carrier in COAL and inp.gas == "CO2" and not s.has("emission_factor"):
            measured = s.given("carbon_fraction") or s.given("carbon_content")
            if measured is None:
                s.notes.append("coal carbon content not measured: the guideline's high default "
                               "(0.03356 tC/GJ) is used")
            elif measured.status != "measured":
                s.notes.append(f"coal carbon content given with status {measured.status!r}: "
                               "the guideline requires a measured value")
            if not s.has("ncv") and not s.has("carbon_fraction"):
                s.notes.append("coal NCV not measured: the library default is used; the "
                               "guideline requires measured NCV")
        return super().combustion(inp, s)


METHODOLOGY = MEEPower()
