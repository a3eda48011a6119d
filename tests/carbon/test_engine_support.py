"""A small stand-in for the factor library (C1's ``nengtan.carbon.factors``) in engine tests:
the shipped reference values with known ids, as ``FactorValue`` objects (no tests here)."""

from __future__ import annotations

from nengtan.carbon.model import FactorValue

GWP = {  # gwp.csv
    "SAR": {"CO2": 1, "CH4": 21, "N2O": 310, "SF6": 23900, "HFC-134a": 1300, "CF4": 6500},
    "AR4": {"CO2": 1, "CH4": 25, "N2O": 298, "SF6": 22800, "NF3": 17200, "HFC-134a": 1430,
            "CF4": 7390},
    "AR5": {"CO2": 1, "CH4": 28, "N2O": 265, "SF6": 23500, "NF3": 16100, "HFC-134a": 1300,
            "HFC-32": 677, "CF4": 6630},
    "AR6": {"CO2": 1, "CH4": 27.9, "N2O": 273, "SF6": 25200, "NF3": 17400, "HFC-134a": 1530,
            "CF4": 7380},
}

FUELS = {  # fuel_defaults.csv: ncv, unit, CC tC/TJ, OF
    "bituminous_coal": (19.570, "GJ/t", 26.18, 0.93),
    "anthracite": (20.304, "GJ/t", 27.49, 0.94),
    "diesel": (42.652, "GJ/t", 20.20, 0.98),
    "natural_gas": (389.31, "GJ/10^4 Nm3", 15.30, 0.99),
}
PROCESS = {"calcium_carbonate": 0.4397, "magnesium_carbonate": 0.5220, "dolomite": 0.4773,
           "clinker_cao": 0.7848, "clinker_mgo": 1.0920}


def _fv(parameter, subject, value, unit, status="unverified", doc="stand-in reference"):
    return FactorValue(id=f"ref:{parameter}:{subject}", dataset="standin", version=1,
                       parameter=parameter, subject=subject, value=value, unit=unit,
                       document=doc, status=status, year=2022, region="national")


class Lookup:
    """FactorLookup over a dict; ``extra`` adds or replaces values."""

    def __init__(self, gwp_set="AR5", grid=0.5703, heat=0.11, extra=(), gwp_set_attr=True):
        self.values: dict[tuple[str, str], FactorValue] = {}
        for carrier, (ncv, unit, cc, of) in FUELS.items():
            self.values["ncv", carrier] = _fv("ncv", carrier, ncv, unit)
            self.values["carbon_content", carrier] = _fv("carbon_content", carrier, cc, "tC/TJ")
            self.values["oxidation_rate", carrier] = _fv("oxidation_rate", carrier, of,
                                                         "fraction")
        for material, f in PROCESS.items():
            self.values["process_factor", material] = _fv("process_factor", material, f,
                                                          "tCO2/t", "verified", "stoichiometry")
        self.values["grid_factor", "electricity"] = _fv("grid_factor", "electricity", grid,
                                                        "tCO2/MWh")
        self.values["heat_factor", "heat"] = _fv("heat_factor", "heat", heat, "tCO2/GJ")
        for v in extra:
            self.values[v.parameter, v.subject] = v
        self._gwp = GWP[gwp_set]
        if gwp_set_attr:
            self.gwp_set = gwp_set
        self.set_name = gwp_set

    def get(self, parameter, subject):
        return self.values.get((parameter, subject))

    def gwp(self, gas):
        if gas not in self._gwp:
            return None
        return FactorValue(id=f"gwp:{self.set_name}:{gas}", dataset="gwp", version=1,
                           parameter="gwp", subject=gas, value=float(self._gwp[gas]),
                           unit="tCO2e/t", document=f"IPCC {self.set_name}", status="verified")
