"""GB/T 32150-2015 《工业企业温室气体排放核算和报告通则》 — general industry.

The general rules every industry guideline refines: fossil fuel combustion by NCV, carbon
content and oxidation rate (Annex B), process emissions by emission (stoichiometric) factors,
net purchased electricity and heat, exported electricity and heat and recovered CO2
deducted, non-CO2 gases by their GWP; the calculation (emission factor, mass balance) and
measurement methods of clause 6.4.  All formulas are those of
:class:`nengtan.carbon.methodologies.base.Methodology`.
"""

from __future__ import annotations

from nengtan.carbon.methodologies.base import Methodology


class GBT32150(Methodology):
    id = "gbt32150"
    version = "2015.1"
    title_zh = "工业企业温室气体排放核算和报告通则"
    title_en = "General guideline of greenhouse gas emissions accounting and reporting for " \
               "industrial enterprises"
    document = "GB/T 32150-2015"


METHODOLOGY = GBT32150()
