"""The shipped emission factor values, built from the reference datasets (pure, no I/O).

One shipped factor dataset per reference file, each value with its document, clause, year,
region, validity, status and the file's ``source`` text:

* ``fuel_defaults`` → ``ncv`` (GJ/t or GJ/10^4 Nm3), ``carbon_content`` (tC/TJ) and
  ``oxidation_rate`` (fraction) per fuel carrier (MEE/NDRC enterprise GHG accounting
  guidelines, default values table);
* ``grid_factors`` → ``grid_factor`` (tCO2/MWh): subject ``electricity`` for the MEE/NBS
  general national and provincial averages, ``electricity_ets`` for the value of national
  carbon market reporting, ``electricity_lca`` for the life-cycle (footprint) value;
* ``ets_grid_factors`` → earlier ``electricity_ets`` values with their validity;
* ``process_factors`` → ``process_factor`` (tCO2/t) per material, and the default
  ``heat_factor`` (tCO2/GJ) of purchased heat;
* ``gwp`` → ``gwp`` per gas and IPCC set (SAR, AR4, AR5, AR6; GWP-100);
* ``combustion_non_co2`` → ``emission_factor`` of CH4 and N2O per fuel, subject
  ``<carrier>:<gas>``, in t gas per TJ of fuel heat.

Value ids are ``shipped:<dataset>:<key>``; the database copies them as rows of dataset
versions (:mod:`nengtan.services.factor_library`) and then uses its own ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from nengtan import reference
from nengtan.carbon.factors import LibraryValue

#: Reference files that make up the shipped factor library, in load order.
FACTOR_DATASETS = ("fuel_defaults", "grid_factors", "ets_grid_factors", "process_factors",
                   "gwp", "combustion_non_co2")
FUEL_GUIDELINES = "中国企业温室气体核算方法与报告指南（MEE/NDRC 2013-2015）"
FUEL_CLAUSE = "常用化石燃料相关参数缺省值表 (default values of common fossil fuels)"
#: Document and table of each IPCC GWP-100 set.
GWP_DOCUMENTS = {
    "SAR": ("IPCC Second Assessment Report (SAR, 1995), WG I", "Table 2.9, GWP 100-year"),
    "AR4": ("IPCC Fourth Assessment Report (AR4, 2007), WG I Ch. 2", "Table 2.14, GWP 100-yr"),
    "AR5": ("IPCC Fifth Assessment Report (AR5, 2013), WG I Ch. 8", "Table 8.A.1, GWP100"),
    "AR6": ("IPCC Sixth Assessment Report (AR6, 2021), WG I Ch. 7",
            "Table 7.15 / 7.SM.7, GWP-100"),
}


@dataclass(frozen=True)
class ShippedDataset:
    code: str
    title: str
    #: the main document (each value names its own)
    document: str
    values: tuple[LibraryValue, ...]
    sha256: str


def value_key(parameter: str, subject: str, gwp_set: str | None = None,
              region: str | None = None, year: int | None = None) -> str:
    """Identity of a value within a dataset version: the same key in the next version is
    the same value, possibly changed."""
    parts = [parameter, subject, gwp_set, region, None if year is None else str(year)]
    return ":".join(p for p in parts if p)


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _value(dataset: str, *, parameter: str, subject: str, value: float, unit: str,
           document: str, status: str, clause: str | None = None, year: int | None = None,
           region: str | None = None, valid_from: date | None = None,
           valid_to: date | None = None, note: str | None = None,
           gwp_set: str | None = None) -> LibraryValue:
    key = value_key(parameter, subject, gwp_set, region, year)
    return LibraryValue(id=f"shipped:{dataset}:{key}", dataset=dataset, version=1,
                        parameter=parameter, subject=subject, value=value, unit=unit,
                        document=document, status=status, clause=clause, year=year,
                        region=region, valid_from=valid_from, valid_to=valid_to, note=note,
                        gwp_set=gwp_set, origin="shipped")


def _fuels() -> list[LibraryValue]:
    out = []
    for r in reference.rows("fuel_defaults"):
        common = {"document": FUEL_GUIDELINES, "clause": FUEL_CLAUSE, "status": r["status"],
                  "region": "national", "note": r["source"]}
        out.append(_value("fuel_defaults", parameter="ncv", subject=r["carrier_code"],
                          value=float(r["ncv"]), unit=r["ncv_unit"], **common))
        out.append(_value("fuel_defaults", parameter="carbon_content",
                          subject=r["carrier_code"],
                          value=float(r["carbon_content_tc_per_tj"]), unit="tC/TJ", **common))
        out.append(_value("fuel_defaults", parameter="oxidation_rate",
                          subject=r["carrier_code"], value=float(r["oxidation_rate"]),
                          unit="fraction", **common))
    return out


def grid_subject(use: str) -> str:
    """Subject of a grid factor row by its stated use: ETS reporting, life cycle or general."""
    text = use.lower()
    # life cycle first: its row says "not for ETS"
    if "life cycle" in text or "footprint" in text:
        return "electricity_lca"
    if "(ets)" in text or "carbon market" in text:
        return "electricity_ets"
    return "electricity"


#: Validity of the ETS reporting value 0.5703 (the notice on 2023-2025 reporting).  Read as
#: emission years 2022-2025: the notice of February 2023 applies it from the 2022 reports.
_ETS_2022_VALIDITY = (date(2022, 1, 1), date(2026, 1, 1))


def _grid() -> list[LibraryValue]:
    out = []
    for r in reference.rows("grid_factors"):
        subject = grid_subject(r["use"])
        valid_from, valid_to = _ETS_2022_VALIDITY if subject == "electricity_ets" \
            else (None, None)
        out.append(_value("grid_factors", parameter="grid_factor", subject=subject,
                          value=float(r["tco2_per_mwh"]), unit="tCO2/MWh",
                          document=r["source"], status=r["status"], year=int(r["year"]),
                          region=r["region"], valid_from=valid_from, valid_to=valid_to,
                          note=r["use"]))
    for r in reference.rows("ets_grid_factors"):
        out.append(_value("ets_grid_factors", parameter="grid_factor",
                          subject="electricity_ets", value=float(r["tco2_per_mwh"]),
                          unit="tCO2/MWh", document=r["document"], status=r["status"],
                          year=int(r["year"]), region=r["region"],
                          valid_from=_date(r["valid_from"]), valid_to=_date(r["valid_to"]),
                          note=f"{r['source']}; {r['note']}" if r["note"] else r["source"]))
    return out


def _process() -> list[LibraryValue]:
    out = []
    for r in reference.rows("process_factors"):
        if r["material"] == "purchased_heat":
            out.append(_value("process_factors", parameter="heat_factor", subject="heat",
                              value=float(r["tco2_per_t"]), unit="tCO2/GJ",
                              document=r["source"], status=r["status"], region="national",
                              note=r["basis"]))
            continue
        out.append(_value("process_factors", parameter="process_factor",
                          subject=r["material"], value=float(r["tco2_per_t"]), unit="tCO2/t",
                          document=f"stoichiometry {r['formula']}", clause=r["basis"],
                          status=r["status"], note=r["source"]))
    return out


def _gwp() -> list[LibraryValue]:
    out = []
    for r in reference.rows("gwp"):
        for gwp_set in ("SAR", "AR4", "AR5", "AR6"):
            text = r[gwp_set.lower()]
            if not text:
                continue
            out.append(_value("gwp", parameter="gwp", subject=r["gas"], value=float(text),
                              unit="tCO2e/t", document=GWP_DOCUMENTS[gwp_set][0],
                              clause=GWP_DOCUMENTS[gwp_set][1], status=r["status"], note=r["source"], gwp_set=gwp_set))
    return out


def _non_co2() -> list[LibraryValue]:
    out = []
    for r in reference.rows("combustion_non_co2"):
        # kg/TJ in the source; t/TJ in the library (t of gas, like every emission factor)
        out.append(_value("combustion_non_co2", parameter="emission_factor",
                          subject=f"{r['carrier_code']}:{r['gas']}",
                          value=float(r["kg_per_tj"]) / 1000.0, unit="t/TJ",
                          document=r["document"], clause=r["clause"], status=r["status"],
                          region="national", note=f"{r['kg_per_tj']} kg/TJ; {r['source']}"))
    return out


_BUILDERS = {"fuel_defaults": _fuels, "grid_factors": _grid, "process_factors": _process,
             "gwp": _gwp, "combustion_non_co2": _non_co2}
_DOCUMENTS = {
    "fuel_defaults": FUEL_GUIDELINES,
    "grid_factors": "MEE/NBS electricity CO2 emission factors; MEE ETS reporting notices",
    "ets_grid_factors": "MEE ETS reporting notices and guidelines",
    "process_factors": "stoichiometry; enterprise GHG accounting guidelines",
    "gwp": "IPCC assessment reports (SAR, AR4, AR5, AR6)",
    "combustion_non_co2": "2006 IPCC Guidelines Vol. 2 Ch. 2",
}


@lru_cache(maxsize=1)
def shipped_datasets() -> tuple[ShippedDataset, ...]:
    """The shipped factor datasets, each with its values and the hash of its content."""
    grid = _grid()
    by_dataset: dict[str, list[LibraryValue]] = {
        "grid_factors": [v for v in grid if v.dataset == "grid_factors"],
        "ets_grid_factors": [v for v in grid if v.dataset == "ets_grid_factors"],
    }
    out = []
    for code in FACTOR_DATASETS:
        values = by_dataset.get(code) or _BUILDERS[code]()
        out.append(ShippedDataset(code, reference.DATASETS[code], _DOCUMENTS[code],
                                  tuple(values), reference.sha256(code)))
    return tuple(out)


def shipped_values() -> list[LibraryValue]:
    """Every shipped factor value (ids ``shipped:<dataset>:<key>``)."""
    return [v for ds in shipped_datasets() for v in ds.values]
