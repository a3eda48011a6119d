"""The shipped GB/T 2589 coefficient library, built from the reference datasets.

Which coefficient a carrier of the catalogue gets, in this order:

1. its row of GB/T 2589-2020 Annex A (``carriers.gbt2589_code``; ``reference``);
2. the default NCV of the MEE/NDRC enterprise GHG accounting guidelines ÷ 29.3076
   (``default_ncv``), for fuels Annex A does not list (bituminous coal, anthracite, ...);
3. none: the carrier needs a measured NCV or a user value (steam, whose heat depends on its
   pressure and temperature; methanol, hydrogen, biomass ...).

Electricity of every source uses the electricity row (equivalent value).  Non-energy carriers
(working media, materials) get no coefficient and are not part of comprehensive energy.
"""

from __future__ import annotations

from functools import lru_cache

from nengtan import reference, units
from nengtan.energy.gbt2589 import MJ_PER_KGCE, Coefficient, EqualValue, Library


def _annex_a() -> dict[str, Coefficient]:
    out = {}
    for r in reference.rows("gbt2589_coefficients"):
        out[r["carrier_code"]] = Coefficient(
            carrier=r["carrier_code"], unit=r["unit"], kgce_per_unit=float(r["kgce_per_unit"]),
            method="reference", source=r["source"], status=r["status"],
            note=r["note"] or None)
    return out


def _default_ncv(carrier: str, row: dict) -> Coefficient:
    num, den = (x.strip() for x in row["ncv_unit"].split("/", 1))
    ncv_mj_per_den = float(row["ncv"]) * units.factor(num, "MJ")
    return Coefficient(
        carrier=carrier, unit=den, kgce_per_unit=ncv_mj_per_den / MJ_PER_KGCE,
        method="default_ncv", source=row["source"], status=row["status"],
        ncv_mj_per_unit=ncv_mj_per_den,
        note=f"default NCV {row['ncv']} {row['ncv_unit']} ÷ 29.3076 MJ/kgce")


def shipped_coefficients(catalogue: list[dict] | None = None) -> tuple[dict, dict]:
    """``(coefficients, categories)`` for the carriers of ``catalogue`` (default: shipped)."""
    catalogue = catalogue if catalogue is not None else reference.carriers()
    annex = _annex_a()
    defaults = {r["carrier_code"]: r for r in reference.rows("fuel_defaults")}
    coefficients, categories = {}, {}
    for c in catalogue:
        if not c["is_energy"]:
            continue
        code = c["code"]
        categories[code] = c["category"]
        row = c.get("gbt2589_code")
        if row and row in annex:
            base = annex[row]
            coefficients[code] = Coefficient(code, base.unit, base.kgce_per_unit, base.method,
                                             base.source, base.status, note=base.note)
        elif code in defaults:
            coefficients[code] = _default_ncv(code, defaults[code])
    # Annex A rows the catalogue has no carrier for (oil-field gas, ...) stay usable by their
    # Annex A code, e.g. in the batch calculator.
    for code, coef in annex.items():
        if code not in categories:
            categories[code] = _ANNEX_CATEGORY.get(code, "fossil")
            coefficients[code] = coef
    return coefficients, categories


_ANNEX_CATEGORY = {"electricity": "electricity", "heat": "heat"}


def equal_value(year: int | None) -> EqualValue | None:
    """The equal-value coefficient for ``year`` (or the latest earlier year's, noted)."""
    rows = sorted(reference.rows("electricity_equal_value"), key=lambda r: int(r["year"]))
    if not rows:
        return None
    pick = rows[-1]
    if year is not None:
        earlier = [r for r in rows if int(r["year"]) <= year]
        pick = earlier[-1] if earlier else rows[0]
    return EqualValue(float(pick["kgce_per_kwh"]), int(pick["year"]), pick["source"],
                      pick["status"], requested_year=year)


@lru_cache(maxsize=32)
def _shipped(year: int | None) -> Library:
    coefficients, categories = shipped_coefficients()
    return Library(coefficients, categories, equal_value(year))


def shipped_library(year: int | None = None) -> Library:
    """The library of the shipped datasets; ``year`` selects the equal-value parameter."""
    return _shipped(year)
