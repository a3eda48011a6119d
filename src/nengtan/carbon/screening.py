"""Screening CO2 factors for energy-saving estimates (recommendations), from the shipped factor
library (:func:`nengtan.carbon.factors.shipped_library`): the same values and selection rules an
inventory uses, without a database.

* fuels: tCO2 per GJ = carbon content (tC/TJ) × oxidation rate × 44/12 ÷ 1000;
* electricity: the grid factor of the region (else national) for the latest year not after the
  year asked (the general average factor, not the carbon-market or life-cycle one).

Each factor carries its source and status.  A verifiable figure comes from an inventory.
"""

from __future__ import annotations

from dataclasses import dataclass

from nengtan.carbon.factors import shipped_library
from nengtan.carbon.model import CO2_PER_C


@dataclass(frozen=True)
class Factor:
    value: float
    unit: str
    source: str
    status: str

    def as_dict(self) -> dict:
        return {"value": self.value, "unit": self.unit, "source": self.source,
                "status": self.status}


def fuel_per_gj(carrier: str, year: int | None = None) -> Factor | None:
    """tCO2 per GJ of a fuel's heat, or None when the library has no default."""
    lib = shipped_library(year)
    cc, of = lib.get("carbon_content", carrier), lib.get("oxidation_rate", carrier)
    if cc is None or of is None:
        return None
    status = "verified" if cc.status == of.status == "verified" else "unverified"
    return Factor(cc.value * of.value * CO2_PER_C / 1000.0, "tCO2/GJ",
                  f"{cc.document} (factor {cc.id}, {of.id})", status)


def grid_per_mwh(region: str | None, year: int) -> Factor:
    """tCO2 per MWh of grid electricity for a region (province code) and year."""
    v = shipped_library(year, region).get("grid_factor", "electricity")
    if v is None:
        raise LookupError("no grid factor in the shipped factor library")
    return Factor(v.value, "tCO2/MWh", f"{v.document} ({v.region} {v.year}; factor {v.id})",
                  v.status)
