"""Screening CO2 factors for energy-saving estimates (not for inventories).

Recommendations state the CO2 a measure avoids; they need a factor per carrier before the
carbon inventory of the factor library is in place.  These use the shipped reference data:

* fuels: tCO2 per GJ = carbon content (tC/TJ) × oxidation rate × 44/12 ÷ 1000 (default values
  of the MEE/NDRC enterprise GHG accounting guidelines, ``fuel_defaults``);
* electricity: the grid factor of the region (else national) for the latest year not after the
  year asked (``grid_factors``; general average factors, not the life-cycle ones).

Each factor carries its source and status; an inventory must use the factor library instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from nengtan import reference

CO2_PER_C = 44.0 / 12.0


@dataclass(frozen=True)
class Factor:
    value: float
    unit: str
    source: str
    status: str

    def as_dict(self) -> dict:
        return {"value": self.value, "unit": self.unit, "source": self.source,
                "status": self.status}


def fuel_per_gj(carrier: str) -> Factor | None:
    """tCO2 per GJ of a fuel's heat, or None when the reference has no default."""
    for r in reference.rows("fuel_defaults"):
        if r["carrier_code"] == carrier:
            value = float(r["carbon_content_tc_per_tj"]) * float(r["oxidation_rate"]) \
                * CO2_PER_C / 1000.0
            return Factor(value, "tCO2/GJ", r["source"], r["status"])
    return None


def grid_per_mwh(region: str | None, year: int) -> Factor:
    """tCO2 per MWh of grid electricity for a region (province code) and year."""
    rows = [r for r in reference.rows("grid_factors")
            if "general" in r["use"] or "provincial" in r["use"]]
    for wanted in ([region] if region else []) + ["national"]:
        mine = sorted((r for r in rows if r["region"] == wanted and int(r["year"]) <= year),
                      key=lambda r: int(r["year"]))
        if not mine:
            mine = sorted((r for r in rows if r["region"] == wanted), key=lambda r: int(r["year"]))
        if mine:
            r = mine[-1]
            return Factor(float(r["tco2_per_mwh"]), "tCO2/MWh",
                          f"{r['source']} ({r['region']} {r['year']})", r["status"])
    raise LookupError("no grid factor in the shipped reference data")
