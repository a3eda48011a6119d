"""Park carbon inventory (园区综合碳核算), seed 001 formula (3):

    E_CO2 = E_电和热 + E_企业 + E_公共设施与环境 + E_新基建 + E_交通 − E_固碳 − E_碳汇 − E_CCUS

in tCO2e over a period (local dates, end exclusive), each term a list of parts with lineage.

Entities.  The park's tenants are its top-level enterprise nodes (each with its own inventory,
:mod:`nengtan.services.inventories`); the **park perimeter** is everything else in the park's
subtree (the park node, its substation, public facilities ...).  A **public facility** is a
non-enterprise child of the park node, with its subtree.

Terms (what goes where, so that every tonne is counted once):

* ``enterprises`` (E_企业) — each tenant's inventory total (location-based): its latest locked
  version for the period, else the inventory computed now, else (no inventory registered) a
  screening inventory from the tenant's boundary meters; plus the transfer corrections below.
* ``energy`` (E_电和热) — electricity and heat crossing the perimeter's boundary, valued with
  the factor library (GB/T 32150 / MEE: purchased counted, exported deducted): bought from
  the grid or from a tenant (+), supplied to a tenant that counts it in its own inventory (−),
  exported out of the park (−); less the electricity and heat of end-use public facilities,
  which are reported under ``public``.  What remains is the park network's own net purchase:
  transformer and line losses, unmetered park use, and (negative) heat or electricity the
  park produces and sells to tenants.
* ``public`` (E_公共设施与环境) — per public facility: fuels burnt in it (combustion), and for
  an end-use facility (one that supplies no electricity or heat to a tenant) its net
  electricity and heat; plus entered items (waste treatment ...).  A supply facility
  (substation, park boiler house) keeps its electricity and heat balance in ``energy``.
* ``new_infra``, ``transport``, ``fixed_carbon``, ``sink``, ``ccus`` — entered items
  (:class:`nengtan.store.models.park_carbon.ParkCarbonItem`) with their source; activity data
  computed by the accounting engine, amounts taken as given; an item's period is pro-rated
  by days of overlap with the inventory's period.

**Intra-park transfers are not double counted.**  Every entity counts the electricity and heat
crossing its own boundary: the receiver counts it (+), the supplier deducts it (−); summed over
the park every transfer cancels and only direct emissions and the energy crossing the park's
boundary remain.  For each metered transfer between two entities the park checks both
inventories (a source of the right kind citing the transfer's meter code):

* receiver counts, supplier deducts → cancels, nothing to do;
* receiver counts, supplier does not deduct (e.g. steam of a tenant's boiler sold to another
  tenant, the supplier reporting only its fuel) → correction −quantity × factor;
* supplier deducts, receiver does not count → correction +quantity × factor (the supplier's
  direct emissions would otherwise leave the park total);
* the park perimeter always counts what it receives, and deducts what it supplies exactly
  when the receiving tenant counts it, so the park side never needs a correction.

Corrections are parts of ``enterprises`` and name the transfer, the meter, both inventories'
sources and the factor.  The **sector view** re-groups the same parts by the provincial
inventory guideline's sectors (省级温室气体清单编制指南: 能源活动 / 工业生产过程 / 农业 /
土地利用变化和林业 / 废弃物处理), tenants' fuel combustion by the GB/T 4754-2017 section of
their node's industry code; its lines add up to the same total.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, or_, select
from sqlalchemy.orm import Session

from nengtan import __version__, units
from nengtan.carbon.model import DEDUCTED, FactorLookup, SourceInput, dicts_in
from nengtan.energy.gbt2589 import MJ_PER_KGCE
from nengtan.errors import InputError, Issue, NotFound
from nengtan.services import energy_data
from nengtan.services.energy_data import Period
from nengtan.store.models import Carrier, Meter, Node
from nengtan.store.models.park_carbon import (
    ITEM_CATEGORIES,
    ITEM_STATUSES,
    ITEM_TERMS,
    ParkCarbonItem,
)

METHOD = "nengtan park inventory 1 (seed 001 formula (3); entity boundary rule GB/T 32150-2015)"
#: Terms of the park formula, in its order, with their sign in the total.
TERMS: dict[str, int] = {"energy": 1, "enterprises": 1, "public": 1, "new_infra": 1,
                         "transport": 1, "fixed_carbon": -1, "sink": -1, "ccus": -1}
SYMBOLS = {"energy": "E_电和热", "enterprises": "E_企业", "public": "E_公共设施与环境",
           "new_infra": "E_新基建", "transport": "E_交通", "fixed_carbon": "E_固碳",
           "sink": "E_碳汇", "ccus": "E_CCUS"}
#: Sectors of the provincial inventory view (省级温室气体清单编制指南), in order.
SECTORS = ("energy_industries", "industry", "transport", "services", "agriculture",
           "indirect", "ippu", "waste", "lulucf", "ccus")
#: Parent sector of each sector line (能源活动 groups the first six).
SECTOR_GROUPS = {"energy_industries": "energy", "industry": "energy", "transport": "energy",
                 "services": "energy", "agriculture": "energy", "indirect": "energy",
                 "ippu": "ippu", "waste": "waste", "lulucf": "lulucf", "ccus": "ccus"}
ELECTRIC = ("electricity", "renewable_electricity", "recovered_electricity")
HEAT = ("heat",)
FUELS = ("solid_fossil", "liquid_fossil", "gaseous_fossil", "other_fuel")
EH_KINDS = {"electricity": ("electricity", "export_electricity"),
            "heat": ("heat", "export_heat")}


# -- pure part -----------------------------------------------------------------------------
@dataclass
class Part:
    """One line of a term: ``tco2e`` is its contribution to the term (removal terms hold
    positive amounts; deductions inside a term are negative)."""

    key: str
    label_zh: str
    label_en: str
    tco2e: float
    sector: str
    lineage: dict = field(default_factory=dict)
    node: str | None = None

    def as_dict(self) -> dict:
        return {"key": self.key, "label_zh": self.label_zh, "label_en": self.label_en,
                "tco2e": self.tco2e, "unit": "tCO2e", "sector": self.sector,
                "node": self.node, "lineage": self.lineage}


@dataclass(frozen=True)
class Transfer:
    """Electricity or heat metered from one park entity to another (``park`` = the park
    perimeter, else the tenant's node code)."""

    meter: str
    energy: str  # electricity | heat
    supplier: str
    receiver: str
    quantity: float
    unit: str
    receiver_counts: bool
    supplier_deducts: bool
    receiver_sources: tuple[str, ...] = ()
    supplier_sources: tuple[str, ...] = ()

    @property
    def correction_sign(self) -> int:
        """−1: counted by the receiver only (remove it once); +1: deducted by the supplier
        only (put the supplier's emissions back); 0: consistent."""
        if self.receiver_counts and not self.supplier_deducts:
            return -1
        if self.supplier_deducts and not self.receiver_counts:
            return 1
        return 0


def combine(terms: dict[str, list[Part]]) -> tuple[float, dict[str, float]]:
    """The park total and each term's sum: ``Σ_term sign × Σ parts`` (seed 001 formula 3)."""
    sums = {k: sum(p.tco2e for p in terms.get(k, [])) for k in TERMS}
    return sum(TERMS[k] * v for k, v in sums.items()), sums


def sector_view(terms: dict[str, list[Part]]) -> list[dict]:
    """The same parts by provincial-inventory sector, signed as they enter the total."""
    out = {s: {"sector": s, "group": SECTOR_GROUPS[s], "tco2e": 0.0, "unit": "tCO2e",
               "parts": []} for s in SECTORS}
    for term, parts in terms.items():
        for p in parts:
            line = out[p.sector]
            line["tco2e"] += TERMS[term] * p.tco2e
            line["parts"].append({"term": term, "key": p.key, "tco2e": TERMS[term] * p.tco2e})
    return [v for v in out.values()]


#: GB/T 4754-2017 sections by two-digit division.
_SECTIONS = (("A", 1, 5), ("B", 6, 12), ("C", 13, 43), ("D", 44, 46), ("E", 47, 50),
             ("F", 51, 52), ("G", 53, 60), ("H", 61, 62), ("I", 63, 65), ("J", 66, 69),
             ("K", 70, 70), ("L", 71, 72), ("M", 73, 75), ("N", 76, 79), ("O", 80, 82),
             ("P", 83, 83), ("Q", 84, 85), ("R", 86, 90), ("S", 91, 97), ("T", 98, 98))


def industry_section(code: str | None) -> str | None:
    """The GB/T 4754-2017 section letter (门类) of an industry code ("3011" → "C")."""
    if not code or not re.match(r"^\d{2}", code.strip()):
        return None
    div = int(code.strip()[:2])
    return next((s for s, a, b in _SECTIONS if a <= div <= b), None)


def combustion_sector(industry_code: str | None) -> str:
    """Energy-activity sector of fuel combustion by industry (provincial guideline 能源活动):
    D (electricity, heat, gas) → energy industries; A → agriculture; B, C, E → industry and
    construction; G → transport; anything else, or no code → services."""
    section = industry_section(industry_code)
    return {"D": "energy_industries", "A": "agriculture", "B": "industry", "C": "industry",
            "E": "industry", "G": "transport"}.get(section or "", "services")


def kind_sector(kind: str, industry_code: str | None) -> str:
    """Sector of a source kind: combustion by industry; process and fugitive gases →
    industrial processes; purchased/exported electricity and heat → indirect (净调入电力和热力,
    a memo line of energy activities); CO2 recovered → CCUS."""
    if kind == "combustion":
        return combustion_sector(industry_code)
    if kind in ("process", "fugitive"):
        return "ippu"
    if kind == "recovered":
        return "ccus"
    return "indirect"


def cites(source: dict, code: str) -> bool:
    """Whether an inventory source names a meter code in its evidence or lineage."""
    text = json.dumps([source.get("evidence"), source.get("lineage")], ensure_ascii=False,
                      default=str)
    return re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text) is not None


# -- data ----------------------------------------------------------------------------------
@dataclass
class TenantInventory:
    """A tenant's inventory as the park uses it: total and sources (``SourceResult.as_dict``
    shapes: source, kind, scope, gas, tco2e, lineage, evidence)."""

    node_id: int
    code: str
    name_zh: str
    name_en: str | None
    industry_code: str | None
    origin: str  # locked | computed | meters
    total_tco2e: float
    sources: list[dict]
    inventory_id: int | None = None
    version: int | None = None
    lineage: dict = field(default_factory=dict)

    def by_kind(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for s in self.sources:
            out[s["kind"]] += s["tco2e"]
        return dict(out)

    def counts(self, energy: str, meter: str) -> tuple[bool, tuple[str, ...]]:
        return self._match(EH_KINDS[energy][0], meter)

    def deducts(self, energy: str, meter: str) -> tuple[bool, tuple[str, ...]]:
        return self._match(EH_KINDS[energy][1], meter)

    def _match(self, kind: str, meter: str) -> tuple[bool, tuple[str, ...]]:
        hits = tuple(s["source"] for s in self.sources if s["kind"] == kind and cites(s, meter))
        return bool(hits), hits

    def as_dict(self) -> dict:
        return {"node": self.code, "node_id": self.node_id, "name_zh": self.name_zh,
                "name_en": self.name_en, "industry_code": self.industry_code,
                "industry_section": industry_section(self.industry_code),
                "origin": self.origin, "inventory_id": self.inventory_id,
                "version": self.version, "total_tco2e": self.total_tco2e, "unit": "tCO2e",
                "by_kind": self.by_kind(), "lineage": self.lineage}


TenantProvider = Callable[[Connection, "_NodeRow", Period, FactorLookup, str], TenantInventory]


@dataclass
class ParkInventory:
    park: dict
    period: Period
    gwp_set: str
    total_tco2e: float
    term_tco2e: dict[str, float]
    terms: dict[str, list[Part]]
    tenants: list[TenantInventory]
    transfers: list[Transfer]
    facilities: list[dict]
    items: list[dict]
    warnings: list[dict]
    factors: list[dict]

    def sectors(self) -> list[dict]:
        return sector_view(self.terms)

    def as_dict(self) -> dict:
        return {
            "park": self.park, "period": self.period.as_dict(), "gwp_set": self.gwp_set,
            "method": METHOD, "version": __version__,
            "total_tco2e": self.total_tco2e, "unit": "tCO2e",
            "formula": "E = E_电和热 + E_企业 + E_公共设施与环境 + E_新基建 + E_交通 − E_固碳 − E_碳汇 − E_CCUS",
            "terms": [{"term": k, "symbol": SYMBOLS[k], "sign": TERMS[k],
                       "tco2e": self.term_tco2e[k], "unit": "tCO2e",
                       "parts": [p.as_dict() for p in self.terms.get(k, [])]} for k in TERMS],
            "tenants": [t.as_dict() for t in self.tenants],
            "transfers": [{"meter": t.meter, "energy": t.energy, "supplier": t.supplier,
                           "receiver": t.receiver, "quantity": t.quantity, "unit": t.unit,
                           "receiver_counts": t.receiver_counts,
                           "supplier_deducts": t.supplier_deducts,
                           "receiver_sources": list(t.receiver_sources),
                           "supplier_sources": list(t.supplier_sources),
                           "correction_sign": t.correction_sign} for t in self.transfers],
            "facilities": self.facilities, "items": self.items,
            "sectors": self.sectors(), "warnings": self.warnings, "factors": self.factors,
            "lineage": {"method": METHOD, "rule": TRANSFER_RULE,
                        "tenants": [f"{t.code}: {t.origin}"
                                    + (f" inventory {t.inventory_id} v{t.version}"
                                       if t.inventory_id else "") for t in self.tenants]},
        }


TRANSFER_RULE = ("each entity counts electricity and heat crossing its own boundary (in +, "
                 "out −); a metered transfer between two park entities cancels when the "
                 "receiver counts it and the supplier deducts it; otherwise a correction of "
                 "∓ quantity × factor is added so that it counts exactly once")


@dataclass(frozen=True)
class _NodeRow:
    id: int
    code: str
    name_zh: str
    name_en: str | None
    kind: str
    parent_id: int | None
    path: str
    region: str | None
    industry_code: str | None


@dataclass(frozen=True)
class _Meter:
    id: int
    code: str
    name_zh: str
    name_en: str | None
    tenant_id: int
    carrier: str
    category: str
    unit: str
    energy_use: str
    flow_from: int | None
    flow_to: int | None


# -- factors and engine --------------------------------------------------------------------
def factor_lookup(conn: Connection, year: int, region: str | None,
                  gwp_set: str = "AR5") -> FactorLookup:
    """The factor library for the inventory year and region (C1's service: shipped values
    plus user values; the shipped library alone where the service is not installed)."""
    try:
        from nengtan.services import factor_library
    except ImportError:  # pragma: no cover - the service ships with the factor library
        factor_library = None
    if factor_library is not None and hasattr(factor_library, "lookup"):
        return factor_library.lookup(conn, year, region, gwp_set=gwp_set)
    from nengtan.carbon.factors import shipped_library

    return shipped_library(year=year, region=region, gwp_set=gwp_set)


def compute(inputs: list[SourceInput], lookup: FactorLookup, gwp_set: str) -> dict[str, dict]:
    """Results of the accounting engine by source name (``SourceResult.as_dict()``)."""
    if not inputs:
        return {}
    from nengtan.carbon import engine

    result = engine.compute(inputs, lookup, gwp_set=gwp_set)
    return {s.source: s.as_dict() for s in result.sources}


# -- the park inventory --------------------------------------------------------------------
def park_node(conn: Connection, park: str | int) -> _NodeRow:
    q = select(Node.id, Node.code, Node.name_zh, Node.name_en, Node.kind, Node.parent_id,
               Node.path, Node.region, Node.industry_code)
    row = conn.execute(q.where(Node.id == park) if isinstance(park, int)
                       else q.where(Node.code == park)).first()
    if row is None:
        raise NotFound("node", park)
    if row.kind != "park":
        raise InputError([Issue("rule.ghg_not_park", field="park", value=row.code)])
    return _NodeRow(*row)


def _subtree(conn: Connection, root: _NodeRow) -> dict[int, _NodeRow]:
    rows = conn.execute(select(Node.id, Node.code, Node.name_zh, Node.name_en, Node.kind,
                               Node.parent_id, Node.path, Node.region, Node.industry_code)
                        .where(Node.path.startswith(root.path))).all()
    return {r.id: _NodeRow(*r) for r in rows}


def _region(conn: Connection, node: _NodeRow) -> str | None:
    ids = [int(x) for x in node.path.strip("/").split("/") if x]
    regions = dict(conn.execute(select(Node.id, Node.region).where(Node.id.in_(ids))).all())
    return next((regions[i] for i in reversed(ids) if regions.get(i)), None)


def _meters(conn: Connection, ids: list[int]) -> list[_Meter]:
    rows = conn.execute(
        select(Meter.id, Meter.code, Meter.name_zh, Meter.name_en, Meter.tenant_id,
               Meter.carrier_code, Carrier.category, Carrier.unit, Meter.energy_use,
               Meter.flow_from_node_id, Meter.flow_to_node_id)
        .join(Carrier, Carrier.code == Meter.carrier_code)
        .where(Meter.active.is_(True), Carrier.is_energy.is_(True),
               or_(Meter.flow_from_node_id.in_(ids), Meter.flow_to_node_id.in_(ids)))
        .order_by(Meter.code)).all()
    return [_Meter(*r) for r in rows]


class _Valuer:
    """Turns metered quantities into engine inputs: electricity in kWh (grid factor), heat in
    GJ (steam converted with its GB/T 2589 coefficient: kgce/t × 29.3076 MJ/kgce), fuels in
    their carrier unit (combustion)."""

    def __init__(self, conn: Connection, period: Period):
        self.conn, self.period = conn, period
        self.libraries: dict[int, object] = {}
        self.warnings: list[dict] = []

    def heat_gj(self, m: _Meter, quantity: float) -> tuple[float | None, dict]:
        if m.unit == "GJ":
            return quantity, {}
        try:
            return quantity * units.factor(m.unit, "GJ"), {"converted": f"{m.unit} → GJ"}
        except units.UnitError:
            pass  # a mass of steam: converted with its coefficient below
        lib = self.libraries.get(m.tenant_id)
        if lib is None:
            lib = energy_data.library_for(self.conn, m.tenant_id, self.period.start,
                                          self.period.end)
            self.libraries[m.tenant_id] = lib
        coef = lib.coefficient(m.carrier)
        if coef is None:
            self.warnings.append({"rule": "heat_unconverted", "meter": m.code,
                                  "carrier": m.carrier, "unit": m.unit})
            return None, {}
        gj_per_unit = coef.per(m.unit) * MJ_PER_KGCE / 1000.0
        return quantity * gj_per_unit, {"heat_gj_per_unit": gj_per_unit,
                                        "converted": f"{m.unit} → GJ",
                                        "coefficient": coef.lineage()}

    def source(self, name: str, m: _Meter, quantity: float, sign: int) -> SourceInput | None:
        """A purchase (+1) or export (−1) of electricity or heat, or combustion of a fuel."""
        if m.category in ELECTRIC:
            kind = "electricity" if sign > 0 else "export_electricity"
            return SourceInput(name, kind, quantity, m.unit, carrier="electricity",
                               evidence=(m.code,))
        if m.category in HEAT:
            gj, _ = self.heat_gj(m, quantity)
            if gj is None:
                return None
            kind = "heat" if sign > 0 else "export_heat"
            return SourceInput(name, kind, gj, "GJ", carrier="heat", evidence=(m.code,))
        if m.category in FUELS and m.energy_use != "feedstock":
            return SourceInput(name, "combustion", sign * quantity, m.unit, carrier=m.carrier,
                               evidence=(m.code,))
        return None


def _energy_of(m: _Meter) -> str | None:
    if m.category in ELECTRIC:
        return "electricity"
    if m.category in HEAT:
        return "heat"
    return None


def park_inventory(conn: Connection, park: str | int, period: Period | str,
                   gwp_set: str = "AR5", *, lookup: FactorLookup | None = None,
                   tenant_provider: TenantProvider | None = None) -> ParkInventory:
    """The park inventory of ``park`` (code or id) over ``period`` (seed 001 formula 3)."""
    per = energy_data.parse_period(period) if isinstance(period, str) else period
    root = park_node(conn, park)
    nodes = _subtree(conn, root)
    region = _region(conn, root)
    lookup = lookup or factor_lookup(conn, per.start.year, region, gwp_set)
    provider = tenant_provider or tenant_inventory

    # entities: top-level enterprises are tenants, the rest is the park perimeter
    tenants_nodes = [n for n in nodes.values() if n.kind == "enterprise" and not any(
        nodes[int(a)].kind == "enterprise" for a in n.path.strip("/").split("/")[:-1]
        if int(a) in nodes)]
    tenant_of: dict[int, str] = {}
    for t in tenants_nodes:
        for n in nodes.values():
            if n.path.startswith(t.path):
                tenant_of[n.id] = t.code
    perimeter = {i for i in nodes if i not in tenant_of}
    facility_of: dict[int, int] = {}
    for i in perimeter:
        chain = [int(a) for a in nodes[i].path.strip("/").split("/") if a]
        k = chain.index(root.id)
        facility_of[i] = chain[k + 1] if len(chain) > k + 1 else root.id

    def entity(node_id: int | None) -> str | None:
        if node_id is None or node_id not in nodes:
            return None  # outside the park
        return tenant_of.get(node_id, "park")

    meters = _meters(conn, list(nodes))
    values = energy_data.period_values(conn, [(m.id, m.tenant_id) for m in meters],
                                       per.start, per.end)
    qty = {m.id: values[m.id].value for m in meters}
    coverage = {m.code: round(values[m.id].coverage, 6) for m in meters}

    tenants = [provider(conn, t, per, lookup, gwp_set) for t in
               sorted(tenants_nodes, key=lambda n: n.code)]
    by_code = {t.code: t for t in tenants}
    valuer = _Valuer(conn, per)
    inputs: list[SourceInput] = []
    plan: list[tuple[str, str, str, str, str | None, dict]] = []  # term, key, zh, en, node, info
    transfers: list[Transfer] = []

    def add(term, name, zh, en, node, inp, info):
        if inp is None:
            return
        inputs.append(inp)
        plan.append((term, name, zh, en, node, info))

    # 1. the perimeter's boundary
    fuels: dict[tuple[int, str], list] = {}
    for m in meters:
        src, dst = entity(m.flow_from), entity(m.flow_to)
        if src == dst:
            continue  # inside one entity
        if "park" not in (src, dst):
            if src is not None and dst is not None:
                _tenant_transfer(m, src, dst, qty[m.id], by_code, transfers)
            continue  # a tenant's own purchase or export: in its inventory
        q = qty[m.id]
        energy = _energy_of(m)
        info = {"meter": m.code, "quantity": q, "unit": m.unit, "carrier": m.carrier,
                "coverage": coverage[m.code], "from": _node_code(nodes, m.flow_from),
                "to": _node_code(nodes, m.flow_to)}
        if energy is None:
            # fuels: burnt where they enter the perimeter (fuel passed on is netted off)
            if m.category in FUELS and m.energy_use != "feedstock":
                here = m.flow_to if dst == "park" else m.flow_from
                g = fuels.setdefault((facility_of[here], m.carrier), [m, 0.0, []])
                g[1] += q if dst == "park" else -q
                g[2].append(info | {"role": "in" if dst == "park" else "passed on"})
            continue
        if dst == "park":
            if src is not None:  # received from a tenant
                t = by_code[src]
                deducts, hits = t.deducts(energy, m.code)
                transfers.append(Transfer(m.code, energy, src, "park", q, m.unit, True, deducts,
                                          ("park perimeter",), hits))
            add("energy", f"in:{m.code}", f"购入/接收：{m.name_zh}",
                f"bought/received: {m.name_en or m.name_zh}", None,
                valuer.source(f"in:{m.code}", m, q, 1),
                info | {"role": "received from tenant" if src else "purchased"})
        elif dst is None:
            add("energy", f"out:{m.code}", f"输出园区：{m.name_zh}",
                f"exported from the park: {m.name_en or m.name_zh}", None,
                valuer.source(f"out:{m.code}", m, q, -1), info | {"role": "exported"})
        else:
            t = by_code[dst]
            counts, hits = t.counts(energy, m.code)
            transfers.append(Transfer(m.code, energy, "park", dst, q, m.unit, counts, counts,
                                      hits, ("park perimeter",) if counts else ()))
            if counts:
                add("energy", f"out:{m.code}", f"供给企业（已计入其盘查）：{m.name_zh}",
                    f"supplied to {dst} (in its inventory): {m.name_en or m.name_zh}", None,
                    valuer.source(f"out:{m.code}", m, q, -1),
                    info | {"role": "supplied to tenant", "tenant_sources": list(hits)})
    for (fid, carrier), (m, q, infos) in sorted(fuels.items(),
                                               key=lambda kv: (nodes[kv[0][0]].code, kv[0][1])):
        fac = nodes[fid]
        name = f"fuel:{fac.code}:{carrier}"
        if q < 0:
            valuer.warnings.append({"rule": "fuel_negative", "node": fac.code,
                                    "carrier": carrier, "quantity": q, "unit": m.unit})
            continue
        add("public", name, f"{fac.name_zh}：{m.name_zh}",
            f"{fac.name_en or fac.code}: {m.name_en or m.name_zh}", fac.code,
            valuer.source(name, m, q, 1),
            {"facility": fac.code, "carrier": carrier, "quantity": q, "unit": m.unit,
             "meters": infos})

    # 2. public facilities: end-use ones report their electricity and heat
    facilities = []
    for fid in sorted({facility_of[i] for i in perimeter} - {root.id},
                      key=lambda i: nodes[i].code):
        fac = nodes[fid]
        sub = {i for i in perimeter if facility_of[i] == fid}
        eh = [m for m in meters if _energy_of(m) and
              ((m.flow_to in sub) != (m.flow_from in sub))]
        supplies = sorted({entity(m.flow_to) for m in eh if m.flow_from in sub
                           and entity(m.flow_to) not in (None, "park")})
        end_use = not supplies
        facilities.append({"node": fac.code, "name_zh": fac.name_zh, "name_en": fac.name_en,
                           "kind": fac.kind, "end_use": end_use, "supplies": supplies,
                           "meters": [m.code for m in eh]})
        if not end_use:
            continue
        for m in eh:
            sign = 1 if m.flow_to in sub else -1
            q = qty[m.id]
            info = {"meter": m.code, "quantity": q, "unit": m.unit, "carrier": m.carrier,
                    "coverage": coverage[m.code], "facility": fac.code,
                    "role": "in" if sign > 0 else "out"}
            zh = f"{fac.name_zh}：{m.name_zh}"
            en = f"{fac.name_en or fac.code}: {m.name_en or m.name_zh}"
            add("public", f"facility:{m.code}", zh, en, fac.code,
                valuer.source(f"facility:{m.code}", m, q, sign), info)
            add("energy", f"less:{m.code}", f"减：{zh}（计入公共设施）",
                f"less: {en} (under public facilities)", fac.code,
                valuer.source(f"less:{m.code}", m, q, -sign), info)

    # 3. entered items
    items = load_items(conn, root.id, per)
    item_parts: list[Part] = []
    for it in items:
        if it["tco2e"] is not None:
            amount = it["tco2e"] * it["share"]
            item_parts.append(Part(f"item:{it['code']}", it["name_zh"], it["name_en"] or
                                   it["name_zh"], amount, _item_sector(it), {
                                       "item": it, "formula": f"{it['tco2e']} × {it['share']:.6f}"
                                   }, it["node"]))
            continue
        add(it["term"], f"item:{it['code']}", it["name_zh"], it["name_en"] or it["name_zh"],
            it["node"], SourceInput(f"item:{it['code']}", it["kind"], it["quantity"] * it["share"],
                                    it["unit"], carrier=it["carrier"], gas=it["gas"] or "CO2",
                                    evidence=tuple(x for x in (it["evidence_sha256"],) if x)),
            {"item": it})

    # 4. transfer corrections (tenant ↔ tenant, tenant → park)
    corrections = []
    for tr in transfers:
        if tr.correction_sign == 0:
            continue
        m = next(x for x in meters if x.code == tr.meter)
        name = f"corr:{tr.meter}"
        add("enterprises", name, f"内部转供修正：{m.name_zh}（{tr.supplier}→{tr.receiver}）",
            f"transfer correction: {m.name_en or m.name_zh} ({tr.supplier}→{tr.receiver})",
            None, valuer.source(name, m, tr.quantity, tr.correction_sign),
            {"meter": tr.meter, "quantity": tr.quantity, "unit": tr.unit,
             "coverage": coverage[tr.meter], "rule": TRANSFER_RULE,
             "supplier": tr.supplier, "receiver": tr.receiver,
             "receiver_counts": tr.receiver_counts, "supplier_deducts": tr.supplier_deducts,
             "receiver_sources": list(tr.receiver_sources),
             "supplier_sources": list(tr.supplier_sources)})
        corrections.append(name)

    results = compute(inputs, lookup, gwp_set)
    terms: dict[str, list[Part]] = {k: [] for k in TERMS}
    factors: dict[str, dict] = {}
    for (term, name, zh, en, node, info), inp in zip(plan, inputs):
        r = results[name]
        sector = _sector_of(term, inp.kind, info, nodes, root)
        lineage = {**info, "source": r}
        for f in _factor_ids(r.get("lineage")):
            factors.setdefault(json.dumps(f, sort_keys=True, default=str), f)
        tco2e = r["tco2e"]
        if term in ("fixed_carbon", "sink", "ccus"):
            tco2e = abs(tco2e)  # removals are amounts, subtracted by the formula
        terms[term].append(Part(name, zh, en, tco2e, sector, lineage, node))
    for p in item_parts:
        terms[next(i["term"] for i in items if f"item:{i['code']}" == p.key)].append(p)
    terms["enterprises"][:0] = [Part(
        f"tenant:{t.code}", t.name_zh, t.name_en or t.code, t.total_tco2e, "industry",
        {"tenant": t.as_dict()}, t.code) for t in tenants]
    # tenants' parts are split by sector through their sources
    total, sums = combine(terms)
    return ParkInventory(
        park={"code": root.code, "name_zh": root.name_zh, "name_en": root.name_en,
              "node_id": root.id, "region": region},
        period=per, gwp_set=gwp_set, total_tco2e=total, term_tco2e=sums,
        terms=_split_tenant_sectors(terms, tenants), tenants=tenants, transfers=transfers,
        facilities=facilities, items=items, warnings=valuer.warnings,
        factors=list(factors.values()))


def _tenant_transfer(m: _Meter, src: str, dst: str, q: float,
                     by_code: dict[str, TenantInventory], out: list[Transfer]) -> None:
    energy = _energy_of(m)
    if energy is None:
        return
    counts, rh = by_code[dst].counts(energy, m.code)
    deducts, sh = by_code[src].deducts(energy, m.code)
    out.append(Transfer(m.code, energy, src, dst, q, m.unit, counts, deducts, rh, sh))


def _split_tenant_sectors(terms: dict[str, list[Part]],
                          tenants: list[TenantInventory]) -> dict[str, list[Part]]:
    """A tenant's total is one part of E_企业; the sector view needs it by source kind, so the
    part is replaced by one part per sector (same total), each naming the tenant's sources
    it holds (their own lineage is in the tenant's inventory version)."""
    out = dict(terms)
    parts = []
    for p in terms["enterprises"]:
        t = next((x for x in tenants if p.key == f"tenant:{x.code}"), None)
        if t is None:
            parts.append(p)
            continue
        by_sector: dict[str, list[dict]] = defaultdict(list)
        for s in t.sources:
            by_sector[kind_sector(s["kind"], t.industry_code)].append(s)
        sums = {k: sum(s["tco2e"] for s in v) for k, v in by_sector.items()}
        rest = t.total_tco2e - sum(sums.values())
        if abs(rest) > 1e-9 or not sums:
            # a total the sources do not explain (none listed): shown under industry
            sums["industry"] = sums.get("industry", 0.0) + rest
        for sector in [x for x in SECTORS if x in sums]:
            suffix = "" if len(sums) == 1 else f"#{sector}"
            lineage = {
                "tenant": t.as_dict(), "sector": sector,
                "sources": [{"source": s["source"], "kind": s["kind"],
                             "scope": s.get("scope"), "tco2e": s["tco2e"],
                             "evidence": s.get("evidence")}
                            for s in by_sector.get(sector, [])],
                "method": "sum of the tenant inventory's sources in this sector"}
            if t.inventory_id:
                lineage["url"] = (f"/api/inventories/{t.inventory_id}/results"
                                  + (f"?version={t.version}" if t.version else ""))
            else:
                lineage["source_lineage"] = by_sector.get(sector, [])
            parts.append(Part(p.key + suffix, p.label_zh, p.label_en, sums[sector], sector,
                              lineage, p.node))
    out["enterprises"] = parts
    return out


def _sector_of(term: str, kind: str, info: dict, nodes, root) -> str:
    if term in ("energy", "enterprises"):
        return "indirect"
    if "item" in info:
        return _item_sector(info["item"], kind)
    if kind == "combustion":
        return "services"  # public facilities: public services (公共管理、社会保障和社会组织 / 公共设施管理)
    return kind_sector(kind, None)


def _item_sector(item: dict, kind: str | None = None) -> str:
    term, kind = item["term"], kind or item.get("kind")
    if term == "sink":
        return "lulucf"
    if term == "ccus":
        return "ccus"
    if term == "fixed_carbon":
        return "ippu"
    if term == "public" and item.get("category") == "waste":
        return "waste"
    if term == "transport":
        return "transport" if kind in (None, "combustion") else kind_sector(kind, None)
    if kind in (None, "combustion"):
        return "services"
    return kind_sector(kind, None)


def _node_code(nodes, node_id):
    return nodes[node_id].code if node_id in nodes else None


def _factor_ids(lineage) -> list[dict]:
    """Factor values cited by an engine lineage (anything with a factor_id)."""
    return [{k: x.get(k) for k in ("factor_id", "parameter", "subject", "value", "unit",
                                   "document", "status", "year", "region")}
            for x in dicts_in(lineage) if x.get("factor_id")]


# -- tenants -------------------------------------------------------------------------------
def tenant_inventory(conn: Connection, node: _NodeRow, period: Period, lookup: FactorLookup,
                     gwp_set: str) -> TenantInventory:
    """A tenant's inventory for the period: the latest locked version of its inventory
    (:mod:`nengtan.services.inventories`), else that inventory computed now, else a screening
    inventory from the tenant's boundary meters."""
    found = _registered_inventory(conn, node, period, gwp_set)
    if found is not None:
        return found
    return meters_inventory(conn, node, period, lookup, gwp_set)


def _registered_inventory(conn: Connection, node: _NodeRow, period: Period,
                          gwp_set: str) -> TenantInventory | None:
    """The tenant's inventory for exactly this period (:mod:`nengtan.services.inventories`):
    its latest locked version, else its result computed now (not stored)."""
    from nengtan.services import inventories
    from nengtan.store.models.inventory import Inventory, InventoryVersion

    orm = Session(bind=conn)
    invs = orm.scalars(select(Inventory).where(
        Inventory.node_id == node.id, Inventory.period_start == period.start,
        Inventory.period_end == period.end).order_by(Inventory.id)).all()
    if not invs:
        return None
    ids = [i.id for i in invs]
    locked = orm.scalars(select(InventoryVersion).where(
        InventoryVersion.inventory_id.in_(ids), InventoryVersion.status == "locked")
        .order_by(InventoryVersion.locked_at.desc(), InventoryVersion.id.desc())).first()
    if locked is not None:
        inv = next(i for i in invs if i.id == locked.inventory_id)
        result, origin, number = locked.result, "locked", locked.version
    else:
        inv = invs[-1]
        result, origin, number = inventories.evaluate(conn, inv), "computed", None
    sources = [{"source": e["source"], "kind": e["kind"], "scope": e["scope"],
                "gas": e.get("gas"), "tco2e": e["tco2e"], "lineage": e.get("lineage"),
                "evidence": [lk.get("meter") for lk in
                             (e.get("lineage") or {}).get("activity_data", {}).get("links", [])
                             if lk.get("meter")]}
               for e in result["sources"]]
    lineage = {"inventory": inv.code, "inventory_id": inv.id, "version": number,
               "origin": origin, "gwp_set": inv.gwp_set, "methodology": inv.methodology,
               "digest": locked.digest if locked is not None else None,
               "total": result["totals"].get("lineage")}
    if inv.gwp_set != gwp_set:
        lineage["note"] = f"the tenant inventory uses {inv.gwp_set}, the park {gwp_set}"
    return TenantInventory(node.id, node.code, node.name_zh, node.name_en, node.industry_code,
                           origin, result["totals"]["total_tco2e"], sources, inv.id, number,
                           lineage)


def meters_inventory(conn: Connection, node: _NodeRow, period: Period, lookup: FactorLookup,
                     gwp_set: str) -> TenantInventory:
    """A screening inventory from a node's boundary meters (no inventory registered): fuels in
    → combustion, electricity and heat in → purchased, out → exported (GB/T 32150 energy
    sources only; process emissions need a registered inventory)."""
    b = energy_data.boundary(conn, node.id)
    ms = [m for m in b.by_role("in", "out") if m.is_energy]
    values = energy_data.period_values(conn, ms, period.start, period.end)
    valuer = _Valuer(conn, period)
    inputs = []
    for fm in ms:
        m = _Meter(fm.id, fm.code, fm.name_zh, fm.name_en, fm.tenant_id, fm.carrier,
                   fm.category, fm.unit, fm.energy_use, fm.flow_from, fm.flow_to)
        inp = valuer.source(fm.code, m, values[fm.id].value, 1 if fm.role == "in" else -1)
        if inp is not None:
            inputs.append(inp)
    results = compute(inputs, lookup, gwp_set)
    sources = [r | {"evidence": [r["source"]]} for r in results.values()]
    return TenantInventory(node.id, node.code, node.name_zh, node.name_en, node.industry_code,
                           "meters", sum(s["tco2e"] for s in sources), sources,
                           lineage={"method": "screening from boundary meters",
                                    "meters": [m.code for m in ms]})


# -- items ---------------------------------------------------------------------------------
ITEM_FIELDS = ("code", "term", "category", "name_zh", "name_en", "node", "period_start",
               "period_end", "kind", "carrier", "quantity", "unit", "gas", "tco2e", "source",
               "status", "evidence_sha256", "note", "active")


def _overlap(a0: date, a1: date, b0: date, b1: date) -> int:
    return max((min(a1, b1) - max(a0, b0)).days, 0)


def load_items(conn: Connection, park_id: int, period: Period | None = None,
               history: bool = False) -> list[dict]:
    """The park's current items (highest version, active) overlapping ``period``, each with
    its ``share`` of the period (overlap days ÷ item days); ``history``: every version."""
    rows = conn.execute(select(ParkCarbonItem.__table__).where(ParkCarbonItem.park_id == park_id)
                        .order_by(ParkCarbonItem.code, ParkCarbonItem.version)).all()
    codes = dict(conn.execute(select(Node.id, Node.code)).all())
    latest: dict[str, object] = {}
    for r in rows:
        latest[r.code] = r
    chosen = rows if history else [r for r in latest.values() if r.active]
    out = []
    for r in chosen:
        days = (r.period_end - r.period_start).days
        share = 1.0
        if period is not None:
            share = _overlap(r.period_start, r.period_end, period.start, period.end) / days \
                if days > 0 else 0.0
            if share <= 0:
                continue
        out.append({"id": r.id, "code": r.code, "version": r.version, "active": r.active,
                    "term": r.term, "category": r.category, "name_zh": r.name_zh,
                    "name_en": r.name_en, "node": codes.get(r.node_id),
                    "period_start": r.period_start.isoformat(),
                    "period_end": r.period_end.isoformat(), "kind": r.kind,
                    "carrier": r.carrier, "quantity": r.quantity, "unit": r.unit,
                    "gas": r.gas, "tco2e": r.tco2e, "source": r.source, "status": r.status,
                    "evidence_sha256": r.evidence_sha256, "note": r.note,
                    "created_by": r.created_by,
                    "created_at": r.created_at.isoformat() if r.created_at else None,
                    "share": share})
    return out


def _date(value, field_name: str, issues: list[Issue], row) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except (TypeError, ValueError):
        issues.append(Issue("rule.ghg_item_date", row=row, field=field_name, value=value))
        return None


def save_item(conn: Connection, park: str | int, payload: dict, user: str = "api",
              row: int | None = None) -> dict:
    """Add an item, or a new version of the item with the same ``code`` (``active: false``
    retires it).  Either activity data (``kind``, ``carrier``, ``quantity``, ``unit``) or an
    amount ``tco2e``; ``source`` and ``status`` are required.  All problems are reported at
    once and nothing is written."""
    root = park_node(conn, park)
    issues: list[Issue] = []
    unknown = sorted(set(payload) - set(ITEM_FIELDS))
    for k in unknown:
        issues.append(Issue("rule.ghg_item_field", row=row, field=k, value=payload[k]))
    code = str(payload.get("code") or "").strip()
    if not code:
        issues.append(Issue("rule.required", row=row, field="code"))
    term = payload.get("term")
    if term not in ITEM_TERMS:
        issues.append(Issue("rule.choice", row=row, field="term", value=term,
                            params={"choices": ", ".join(ITEM_TERMS)}))
    for f in ("name_zh", "source"):
        if not str(payload.get(f) or "").strip():
            issues.append(Issue("rule.required", row=row, field=f))
    status = payload.get("status") or "unverified"
    if status not in ITEM_STATUSES:
        issues.append(Issue("rule.choice", row=row, field="status", value=status,
                            params={"choices": ", ".join(ITEM_STATUSES)}))
    start = _date(payload.get("period_start"), "period_start", issues, row)
    end = _date(payload.get("period_end"), "period_end", issues, row)
    if start and end and end <= start:
        issues.append(Issue("rule.ghg_item_period", row=row, field="period_end", value=str(end)))
    amount = payload.get("tco2e")
    has_activity = payload.get("quantity") is not None
    if (amount is None) == (not has_activity):
        issues.append(Issue("rule.ghg_item_amount", row=row, field="tco2e", value=amount))
    if amount is not None and (not isinstance(amount, (int, float)) or amount < 0):
        issues.append(Issue("rule.ghg_item_positive", row=row, field="tco2e", value=amount))
    if has_activity and ITEM_TERMS.get(term) == -1:
        issues.append(Issue("rule.ghg_item_removal", row=row, field="quantity",
                            value=payload.get("quantity")))
    elif has_activity:
        from nengtan.carbon.model import SOURCE_KINDS

        if payload.get("kind") not in SOURCE_KINDS or payload.get("kind") in DEDUCTED:
            issues.append(Issue("rule.choice", row=row, field="kind", value=payload.get("kind"),
                                params={"choices": ", ".join(k for k in SOURCE_KINDS
                                                             if k not in DEDUCTED)}))
        q = payload.get("quantity")
        if not isinstance(q, (int, float)) or q < 0:
            issues.append(Issue("rule.ghg_item_positive", row=row, field="quantity", value=q))
        if not payload.get("unit") or not units.is_unit(str(payload.get("unit"))):
            issues.append(Issue("rule.ghg_item_unit", row=row, field="unit",
                                value=payload.get("unit")))
        if not payload.get("carrier") and payload.get("kind") in ("combustion", "process"):
            issues.append(Issue("rule.required", row=row, field="carrier"))
    node_id = None
    if payload.get("node"):
        node_id = conn.execute(select(Node.id).where(Node.code == payload["node"],
                                                     Node.path.startswith(root.path))).scalar()
        if node_id is None:
            issues.append(Issue("rule.ghg_item_node", row=row, field="node",
                                value=payload["node"]))
    sha = payload.get("evidence_sha256")
    if sha and not re.fullmatch(r"[0-9a-f]{64}", str(sha)):
        issues.append(Issue("rule.ghg_item_sha256", row=row, field="evidence_sha256", value=sha))
    if issues:
        raise InputError(issues)
    current = conn.execute(select(ParkCarbonItem.version).where(
        ParkCarbonItem.park_id == root.id, ParkCarbonItem.code == code)
        .order_by(ParkCarbonItem.version.desc())).scalar()
    values = {
        "park_id": root.id, "code": code, "version": (current or 0) + 1,
        "active": bool(payload.get("active", True)), "term": term,
        "category": payload.get("category") or (ITEM_CATEGORIES[term][0]
                                                if len(ITEM_CATEGORIES[term]) == 1 else None),
        "name_zh": payload["name_zh"], "name_en": payload.get("name_en"), "node_id": node_id,
        "period_start": start, "period_end": end, "kind": payload.get("kind") if has_activity
        else None, "carrier": payload.get("carrier") if has_activity else None,
        "quantity": float(payload["quantity"]) if has_activity else None,
        "unit": payload.get("unit") if has_activity else None,
        "gas": payload.get("gas") if has_activity else None,
        "tco2e": float(amount) if amount is not None else None, "source": payload["source"],
        "status": status, "evidence_sha256": sha, "note": payload.get("note"),
        "created_by": user,
    }
    new_id = conn.execute(ParkCarbonItem.__table__.insert().values(**values)).inserted_primary_key[0]
    _ledger_item(conn, new_id)
    return next(i for i in load_items(conn, root.id, history=True) if i["id"] == new_id)


# -- ledger --------------------------------------------------------------------------------
LEDGER_KIND = "park_item"


def item_digest(conn: Connection, item_id: int | str) -> bytes | None:
    """SHA-256 over the stored item row (canonical JSON), for the evidence ledger; None when
    the row is gone."""
    import hashlib

    r = conn.execute(select(ParkCarbonItem.__table__).where(
        ParkCarbonItem.id == int(item_id))).first()
    if r is None:
        return None
    data = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r._mapping.items()}
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False,
                                     default=str).encode()).digest()


def _ledger_item(conn: Connection, item_id: int) -> None:
    """Append the new item version to the evidence ledger (kind ``park_item``, key the row
    id): ``nengtan ledger verify`` names it if the row is later changed in the database."""
    from nengtan.services import ledger

    r = conn.execute(select(ParkCarbonItem.code, ParkCarbonItem.version, ParkCarbonItem.name_zh,
                            ParkCarbonItem.name_en).where(ParkCarbonItem.id == item_id)).first()
    ledger.append(conn, LEDGER_KIND, str(item_id), item_digest(conn, item_id), {
        "label": f"park carbon item {r.code} v{r.version} ({r.name_en or r.name_zh})",
        "label_zh": f"园区碳核算项 {r.code} 第{r.version}版（{r.name_zh}）",
        "table": "park_carbon_items"})


def _register_ledger() -> None:
    """Tell the ledger how to recompute a park item's digest (``nengtan ledger verify``)."""
    try:
        from nengtan.services import ledger
    except ImportError:  # pragma: no cover - the ledger ships with this version
        return
    ledger.register(LEDGER_KIND, lambda conn, key: item_digest(conn, key))


_register_ledger()
