"""Emission factor library: choosing the value of a parameter for an inventory (pure, no I/O).

A :class:`Library` holds factor values in three tiers and answers the engine's questions
(:class:`nengtan.carbon.model.FactorLookup`): ``get(parameter, subject)`` and ``gwp(gas)``.
The value it returns is a :class:`LibraryValue` whose ``lineage()`` says which rule chose it.

Selection rules (documented in ``docs/factor-library.md``; each step is tested by hand):

1. **Validity** — a value whose validity period (``valid_from`` inclusive .. ``valid_to``
   exclusive) does not overlap the inventory year is never a candidate.
2. **Tier** — the tenant's own values first, then the installation's user values, then the
   shipped reference values; a later tier is asked only when an earlier one has no candidate.
3. **Region and year**, within a tier:
   a. values of the inventory's region with ``year`` ≤ inventory year: the latest year;
   b. else values of that region (all later than the inventory year): the earliest year;
   c. else the same two steps with national values (region ``national`` or empty).
   Undated values (``year`` empty, e.g. the default NCVs) rank after every dated value of
   the same region that is not later than the inventory year.
4. **Ties** (same tier, region and year) — the value given last wins: the service passes
   values oldest dataset version first, so the newest dataset wins.

Without an inventory year, validity is not applied and the region's (else national) latest
value is taken (the rule says so).  Grid factors: ``get("grid_factor", "electricity")`` asks for the subject of the
library's ``grid_basis`` first — ``electricity_ets`` (MEE national carbon market reporting
value) for ``"ets"``, ``electricity`` (MEE/NBS general national or provincial average) for
``"general"``, ``electricity_lca`` (life-cycle, product footprints only) for ``"lca"`` — and
falls back to the general factor when the basis has no valid value.  GWPs come from the set
chosen for the inventory (IPCC SAR, AR4, AR5 or AR6, 100-year horizon).

Parameters and units: ``ncv`` GJ per unit of quantity, ``carbon_content`` tC/TJ,
``oxidation_rate`` fraction, ``emission_factor`` t gas per unit (subject a carrier: tCO2 per
unit; subject ``<carrier>:<gas>``: non-CO2 of combustion in t gas per TJ of fuel heat, unit
``t/TJ``), ``grid_factor`` tCO2/MWh, ``heat_factor`` tCO2/GJ, ``process_factor`` tCO2/t,
``gwp`` tCO2e per t gas.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from nengtan.carbon.model import GWP_SETS, FactorValue

#: Parameters of the library and the unit their values are stated in (by default).
PARAMETERS = {
    "ncv": "GJ/unit",
    "carbon_content": "tC/TJ",
    "oxidation_rate": "fraction",
    "emission_factor": "t/unit",
    "grid_factor": "tCO2/MWh",
    "heat_factor": "tCO2/GJ",
    "process_factor": "tCO2/t",
    "gwp": "tCO2e/t",
}
TIERS = ("tenant", "installation", "shipped")
#: Bases of the purchased-electricity factor: which grid factor subject an inventory uses.
GRID_BASES = {
    "general": ("electricity",),
    "ets": ("electricity_ets", "electricity"),
    "lca": ("electricity_lca", "electricity"),
}
NATIONAL = "national"
_NATIONAL_ALIASES = {"", "national", "cn", "china", "全国", "中国"}
#: Province-level names → region codes of the reference data.
PROVINCES = {
    "北京": "beijing", "天津": "tianjin", "河北": "hebei", "山西": "shanxi",
    "内蒙古": "inner_mongolia", "辽宁": "liaoning", "吉林": "jilin", "黑龙江": "heilongjiang",
    "上海": "shanghai", "江苏": "jiangsu", "浙江": "zhejiang", "安徽": "anhui", "福建": "fujian",
    "江西": "jiangxi", "山东": "shandong", "河南": "henan", "湖北": "hubei", "湖南": "hunan",
    "广东": "guangdong", "广西": "guangxi", "海南": "hainan", "重庆": "chongqing",
    "四川": "sichuan", "贵州": "guizhou", "云南": "yunnan", "西藏": "tibet", "陕西": "shaanxi",
    "甘肃": "gansu", "青海": "qinghai", "宁夏": "ningxia", "新疆": "xinjiang",
}
#: GB/T 4754-2017 industry code prefixes of sectors covered by the national carbon market
#: (power 4411/4412; cement clinker 3011; iron and steel 3110/3120; aluminium smelting 3216),
#: whose inventories use the MEE reporting grid factor by default (ets_rules.md).
ETS_INDUSTRY_PREFIXES = ("4411", "4412", "3011", "3110", "3120", "3216")

RULES = {
    "region_latest_year": ("value of region {region} for the latest year not after {year}",
                           "{region} 地区不晚于 {year} 年的最近年份值"),
    "region_earliest_year": ("region {region} has no value up to {year}: its earliest year",
                             "{region} 地区无 {year} 年及以前的值，取其最早年份值"),
    "region_undated": ("undated value of region {region}", "{region} 地区不分年份的值"),
    "national_latest_year": (("no value for region {region}: national value for the latest "
                              "year not after {year}"),
                             "无 {region} 地区值，取全国不晚于 {year} 年的最近年份值"),
    "national_earliest_year": (("no value for region {region} and none national up to "
                                "{year}: earliest national year"),
                               "无 {region} 地区值且无 {year} 年及以前的全国值，取全国最早年份值"),
    "national_undated": ("no value for region {region}: undated national value",
                         "无 {region} 地区值，取全国不分年份的值"),
    "region_no_year": (("no inventory year given: latest value of region {region} (validity "
                        "not applied)"),
                       "未指定核算年份：取 {region} 地区最近年份值（不检查有效期）"),
    "national_no_year": (("no inventory year given and no value for region {region}: latest "
                          "national value (validity not applied)"),
                         "未指定核算年份且无 {region} 地区值：取全国最近年份值（不检查有效期）"),
    "any_region": ("value that applies to every region and year", "不分地区和年份的通用值"),
    "gwp_set": ("GWP-100 of the {gwp_set} set", "{gwp_set} 全球增温潜势（100年）"),
}
TIER_TEXT = {"tenant": ("the enterprise's own value", "企业自有值"),
             "installation": ("user value of this installation", "本系统用户值"),
             "shipped": ("shipped reference value", "系统内置参考值")}


@dataclass(frozen=True)
class LibraryValue(FactorValue):
    """A :class:`FactorValue` of the library, with what the library knows about it.

    ``gwp_set``: the IPCC set of a ``gwp`` value (SAR, AR4, AR5, AR6; None: any set).
    ``origin``: shipped or user; ``tenant_id``: the tenant a user value belongs to.
    ``rule``/``why``/``why_zh``/``tier``: set on a value the library *chose*, saying why.
    """

    gwp_set: str | None = None
    origin: str | None = None
    tenant_id: int | None = None
    rule: str | None = None
    why: str | None = None
    why_zh: str | None = None
    tier: str | None = None

    def lineage(self) -> dict:
        out = super().lineage()
        out["valid_from"] = self.valid_from.isoformat() if self.valid_from else None
        out["valid_to"] = self.valid_to.isoformat() if self.valid_to else None
        if self.gwp_set:
            out["gwp_set"] = self.gwp_set
        if self.rule:
            out.update(rule=self.rule, tier=self.tier, why=self.why, why_zh=self.why_zh)
        return out


@dataclass(frozen=True)
class Selection:
    """What the library chose for a question, and why (``value`` None: nothing)."""

    parameter: str
    subject: str
    value: LibraryValue | None
    rule: str | None
    tier: str | None
    #: candidates that passed the validity filter, per tier
    considered: dict

    def as_dict(self) -> dict:
        return {"parameter": self.parameter, "subject": self.subject,
                "value": self.value.lineage() if self.value else None, "rule": self.rule,
                "tier": self.tier, "why": self.value.why if self.value else None,
                "why_zh": self.value.why_zh if self.value else None,
                "considered": self.considered}


def normalize_region(region: str | None) -> str:
    """Region code of the reference data: lower case; Chinese province names mapped;
    empty and the aliases of the whole country → ``national``."""
    if region is None:
        return NATIONAL
    text = str(region).strip()
    for suffix in ("省", "市", "自治区", "壮族自治区", "回族自治区", "维吾尔自治区"):
        if text.endswith(suffix) and text[: -len(suffix)] in PROVINCES:
            text = text[: -len(suffix)]
            break
    if text in PROVINCES:
        return PROVINCES[text]
    text = text.lower().replace(" ", "_").replace("-", "_")
    return NATIONAL if text in _NATIONAL_ALIASES else text


def normalize_gas(gas: str) -> str:
    """Gas name for matching GWPs: upper case without spaces or hyphens (HFC-134a = hfc134a)."""
    return str(gas).strip().upper().replace("-", "").replace(" ", "").replace("₂", "2") \
        .replace("₄", "4").replace("₃", "3").replace("₆", "6")


def grid_basis_for(industry_code: str | None) -> str:
    """Default grid-factor basis of an inventory: ``ets`` (MEE reporting value of the national
    carbon market) for ETS-covered sectors by GB/T 4754 code, ``general`` otherwise."""
    code = (industry_code or "").strip()
    return "ets" if code and code.startswith(ETS_INDUSTRY_PREFIXES) else "general"


def valid_in_year(v: FactorValue, year: int | None) -> bool:
    """Does the value's validity (``valid_from`` inclusive, ``valid_to`` exclusive) overlap
    the calendar year?  Without a year every value is valid."""
    if year is None:
        return True
    first, last = date(year, 1, 1), date(year, 12, 31)
    if v.valid_from is not None and v.valid_from > last:
        return False
    return not (v.valid_to is not None and v.valid_to <= first)


def _as_library_value(v: FactorValue, origin: str | None = None) -> LibraryValue:
    if isinstance(v, LibraryValue):
        return v if origin is None or v.origin else replace(v, origin=origin)
    return LibraryValue(**{f: getattr(v, f) for f in FactorValue.__dataclass_fields__},
                        origin=origin)


class Library:
    """Factor values for one inventory: year, region, GWP set and grid-factor basis.

    ``values`` are the shipped (reference) values; ``installation`` the user values that apply
    to every tenant; ``tenant`` the user values of the inventory's tenant.  Within each list
    the last given value wins a tie (pass them oldest first).
    """

    def __init__(self, values: Iterable[FactorValue] = (), year: int | None = None,
                 region: str | None = None, gwp_set: str = "AR5", *,
                 installation: Iterable[FactorValue] = (), tenant: Iterable[FactorValue] = (),
                 grid_basis: str = "general") -> None:
        gwp_set = (gwp_set or "AR5").upper()
        if gwp_set not in GWP_SETS:
            raise ValueError(f"unknown GWP set {gwp_set!r}; one of {', '.join(GWP_SETS)}")
        if grid_basis not in GRID_BASES:
            raise ValueError(f"unknown grid basis {grid_basis!r}; one of {', '.join(GRID_BASES)}")
        self.year = year
        self.region = normalize_region(region)
        self.gwp_set = gwp_set
        self.grid_basis = grid_basis
        self.tiers: dict[str, list[LibraryValue]] = {
            "tenant": [_as_library_value(v, "user") for v in tenant],
            "installation": [_as_library_value(v, "user") for v in installation],
            "shipped": [_as_library_value(v) for v in values],
        }
        self._index: dict[tuple[str, str], dict[str, list[LibraryValue]]] = {}
        for tier, vals in self.tiers.items():
            for v in vals:
                key = (v.parameter, normalize_gas(v.subject) if v.parameter == "gwp"
                       else v.subject)
                self._index.setdefault(key, {}).setdefault(tier, []).append(v)
        self._cache: dict[tuple[str, str], Selection] = {}

    # -- FactorLookup --------------------------------------------------------------------
    def get(self, parameter: str, subject: str) -> LibraryValue | None:
        """The value of ``parameter`` for ``subject`` chosen by the selection rules, or None."""
        return self.select(parameter, subject).value

    def gwp(self, gas: str) -> LibraryValue | None:
        """GWP-100 of ``gas`` in the library's set (tCO2e per t of gas), or None."""
        return self.select("gwp", gas).value

    # -- selection ---------------------------------------------------------------------------
    def select(self, parameter: str, subject: str) -> Selection:
        key = (parameter, subject)
        if key not in self._cache:
            self._cache[key] = self._select(parameter, subject)
        return self._cache[key]

    def subjects_for(self, parameter: str, subject: str) -> tuple[str, ...]:
        """Subjects asked, in order: the grid basis's subjects for ``electricity``."""
        if parameter == "grid_factor" and subject == "electricity":
            return GRID_BASES[self.grid_basis]
        return (subject,)

    def _select(self, parameter: str, subject: str) -> Selection:
        considered: dict[str, int] = {}
        asked = self.subjects_for(parameter, subject)
        for n, subj in enumerate(asked):
            if parameter == "gwp":
                found = self._gwp(subj, considered)
            else:
                found = self._by_region_year(parameter, subj, considered)
            if found is not None:
                value, rule, tier, params = found
                why, why_zh = (t.format(**params) for t in RULES[rule])
                tier_en, tier_zh = TIER_TEXT[tier]
                why, why_zh = f"{tier_en}; {why}", f"{tier_zh}；{why_zh}"
                if n:
                    why += (f"; no valid {asked[0]} value for the {self.grid_basis} basis, "
                            f"{subj} used")
                    why_zh += f"；{self.grid_basis} 口径无有效的 {asked[0]} 值，改用 {subj}"
                chosen = replace(value, rule=rule, tier=tier, why=why, why_zh=why_zh)
                return Selection(parameter, subject, chosen, rule, tier, considered)
        return Selection(parameter, subject, None, None, None, considered)

    def _candidates(self, parameter: str, subject: str, tier: str) -> list[LibraryValue]:
        key = (parameter, normalize_gas(subject) if parameter == "gwp" else subject)
        return [v for v in self._index.get(key, {}).get(tier, [])
                if valid_in_year(v, self.year)]

    def _gwp(self, gas: str, considered: dict):
        for tier in TIERS:
            vals = [v for v in self._candidates("gwp", gas, tier)
                    if v.gwp_set is None or v.gwp_set.upper() == self.gwp_set]
            considered[tier] = considered.get(tier, 0) + len(vals)
            if vals:
                # a value stated for this set beats one without a set; then the last given
                exact = [v for v in vals if v.gwp_set] or vals
                return exact[-1], "gwp_set", tier, {"gwp_set": self.gwp_set}
        return None

    def _by_region_year(self, parameter: str, subject: str, considered: dict):
        params = {"region": self.region, "year": self.year}
        regions = [self.region] if self.region == NATIONAL else [self.region, NATIONAL]
        for tier in TIERS:
            vals = self._candidates(parameter, subject, tier)
            considered[tier] = considered.get(tier, 0) + len(vals)
            for region in regions:
                mine = [v for v in vals if normalize_region(v.region) == region]
                if not mine:
                    continue
                scope = "region" if region == self.region else "national"
                if self.year is None:
                    dated = [v for v in mine if v.year is not None]
                    best = _last_max(dated, lambda v: v.year) if dated else mine[-1]
                    return best, f"{scope}_no_year", tier, params
                dated = [v for v in mine if v.year is not None and v.year <= self.year]
                if dated:
                    return (_last_max(dated, lambda v: v.year), f"{scope}_latest_year", tier,
                            params)
                undated = [v for v in mine if v.year is None]
                if undated:
                    best = undated[-1]
                    rule = "any_region" if best.region is None else f"{scope}_undated"
                    return best, rule, tier, params
                return (_last_max(mine, lambda v: -v.year), f"{scope}_earliest_year", tier,
                        params)
        return None

    # -- inspection --------------------------------------------------------------------------
    def candidates(self, parameter: str, subject: str) -> list[dict]:
        """Every value the question could have used (the subjects asked, every tier), with
        whether its validity covers the inventory year (and, for GWPs, its set matches)."""
        out = []
        for subj in self.subjects_for(parameter, subject):
            key = (parameter, normalize_gas(subj) if parameter == "gwp" else subj)
            for tier in TIERS:
                for v in self._index.get(key, {}).get(tier, []):
                    eligible = valid_in_year(v, self.year)
                    reason = None if eligible else "validity"
                    if parameter == "gwp" and v.gwp_set and v.gwp_set.upper() != self.gwp_set:
                        eligible, reason = False, "gwp_set"
                    out.append({**v.lineage(), "id": v.id, "tier": tier,
                                "eligible": eligible, "excluded_by": reason})
        return out

    def values(self) -> list[LibraryValue]:
        """Every value of every tier (tenant, installation, shipped)."""
        return [v for tier in TIERS for v in self.tiers[tier]]

    def settings(self) -> dict:
        return {"year": self.year, "region": self.region, "gwp_set": self.gwp_set,
                "grid_basis": self.grid_basis,
                "counts": {tier: len(vals) for tier, vals in self.tiers.items()}}


def _last_max(values: list[LibraryValue], key) -> LibraryValue:
    """The value with the highest key; among equals the last given."""
    best = values[0]
    for v in values[1:]:
        if key(v) >= key(best):
            best = v
    return best


def shipped_library(year: int | None = None, region: str | None = None,
                    gwp_set: str = "AR5", grid_basis: str = "general") -> Library:
    """A library of the shipped reference values only (no database): for the batch calculator
    and tests.  Value ids are ``shipped:<dataset>:<key>``."""
    from nengtan.reference.carbon import shipped_values

    return Library(shipped_values(), year, region, gwp_set, grid_basis=grid_basis)
