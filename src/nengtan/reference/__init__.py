"""Reference data shipped with nengtan, each value with its source and status.

The CSV files in ``data/`` are copies of the project's gathered reference tables
(coefficients, emission factors, GWPs, benchmarks) with their ``source`` and ``status``
columns intact.  ``status`` is ``verified`` (read in the primary document or an authoritative
secondary source) or ``unverified`` (secondary sources only; shown as such everywhere).
"""

from __future__ import annotations

import csv
import hashlib
import io
from functools import lru_cache
from importlib import resources

#: Version of the shipped reference datasets; a changed value is a new version, never an edit.
DATASET_VERSION = "2026.1"

DATASETS = {
    "carriers": "Energy carriers catalogue (能源品种)",
    "gbt2589_coefficients": "GB/T 2589-2020 reference coefficients to standard coal",
    "fuel_defaults": "Default NCV, carbon content and oxidation rate of fuels",
    "grid_factors": "Electricity CO2 emission factors",
    "gwp": "Global warming potentials (SAR, AR4, AR5, AR6)",
    "process_factors": "Stoichiometric process CO2 factors",
    "benchmarks": "Energy-efficiency benchmark (标杆) and baseline (基准) levels",
    "electricity_equal_value": "Electricity equal-value (等价值) coefficients by year",
    "limit_grades": "Energy consumption limit grades 1/2/3 (能耗限额等级, e.g. GB 16780-2021)",
    "equipment_grades": "Equipment efficiency grades (GB 18613-2020 motors, GB 19153-2019 air "
                        "compressors)",
    "gb17167_requirements": "GB 17167-2006 metering equipping-rate requirements (Table 3) and "
                            "main-unit thresholds (Tables 1, 2)",
    "ets_grid_factors": "Earlier national carbon market (ETS) reporting grid factors with their "
                        "validity",
    "combustion_non_co2": "Default CH4 and N2O factors of stationary combustion (kg/TJ)",
}


def _text(name: str) -> str:
    return resources.files("nengtan.reference").joinpath("data", f"{name}.csv").read_text("utf-8")


@lru_cache(maxsize=None)
def rows(name: str) -> tuple[dict[str, str], ...]:
    """All rows of a shipped dataset as dicts of strings (unknown name: KeyError)."""
    if name not in DATASETS:
        raise KeyError(name)
    return tuple(csv.DictReader(io.StringIO(_text(name))))


def sha256(name: str) -> str:
    return hashlib.sha256(_text(name).encode("utf-8")).hexdigest()


def carriers() -> list[dict]:
    out = []
    for r in rows("carriers"):
        out.append({
            "code": r["code"], "name_zh": r["name_zh"], "name_en": r["name_en"],
            "unit": r["unit"], "category": r["category"],
            "is_energy": r["is_energy"].strip().lower() == "true",
            "gbt2589_code": r["gbt2589_code"] or None, "source": r["source"],
            "status": r["status"],
        })
    return out
