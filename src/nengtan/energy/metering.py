"""GB 17167-2006 用能单位能源计量器具配备和管理通则: equipping rate of energy meters (pure).

The standard asks an energy-using unit (用能单位) to meter energy at three levels and sets the
minimum *equipping rate* (能源计量器具配备率 = meters installed / meters theoretically
required × 100 %, clause 3.x) per energy carrier and level in Table 3:

* level 1 — energy entering and leaving the unit (进出用能单位);
* level 2 — energy entering and leaving its main secondary units (进出主要次级用能单位):
  workshops, processes, lines, public facilities using at least Table 1's amounts;
* level 3 — main energy-using equipment (主要用能设备): single units using at least Table 2's
  amounts (e.g. 100 kW of electric power).

This engine counts *measurement points* — (node, carrier, direction) — not instruments: a
point is required when energy of that carrier must be measured there, and metered when a
meter (physical or manual, never virtual: a formula is not an instrument) measures it.  The
rate per level and Table 3 carrier group is metered points / required points × 100.

Which points are required
-------------------------
*Level 1* (the unit's boundary, the node set ``S`` of the unit): for every carrier that the
unit uses, an ``in`` point — unless the carrier is produced inside the unit and never enters
it (steam from an own boiler house, waste-heat or rooftop-PV electricity): carriers of the
categories ``solid/liquid/gaseous_fossil``, ``electricity``, ``other_fuel`` and water are
always bought, the others count as produced inside when a meter of that carrier flows out
of a producing node of ``S`` (not a park, enterprise or site: those only distribute).  A carrier leaving the unit (a meter whose flow edge goes from ``S`` to
outside) gives an ``out`` point.  Metered: a meter of the carrier whose flow edge crosses the
boundary in that direction (roles as in :mod:`nengtan.services.energy_data`).

*Level 2*: nodes of kind workshop, process, line and facility, unless marked
``{"gb17167": {"main": false}}`` (a small unit below Table 1, e.g. a guard house).

*Level 3*: nodes of kind equipment whose nameplate power (``rated_kw``, or that of its
``motor`` / ``compressor`` nameplate) reaches the electricity limit of Table 2 (100 kW);
without a nameplate an equipment node is taken as main (``assumed``).
``{"gb17167": {"main": true|false}}`` decides in every case.

The carriers of a level-2/3 node are those of the meters flowing into its subtree (or sitting
on it without a flow edge, for carriers a node cannot make itself: fuels, electricity, water),
or ``{"gb17167": {"carriers": [...]}}``; a node with neither
(and no output meter) is taken to use electricity.  A level-2/3 point is metered when a meter
of that carrier has ``flow_to`` = the node, or sits on the node without a flow edge.

Table 3 注3 (small auxiliary energy on main equipment may stay unmetered) is not applied
automatically: mark such a node's carriers explicitly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from nengtan.energy.boundary import role as flow_role

LEVELS = (1, 2, 3)
LEVEL_NAMES = {1: ("进出用能单位", "energy entering/leaving the unit"),
               2: ("进出主要次级用能单位", "main secondary units"),
               3: ("主要用能设备", "main energy-using equipment")}
SECONDARY_KINDS = ("workshop", "process", "line", "facility")
EQUIPMENT_KINDS = ("equipment",)
#: Carrier categories that a unit cannot make itself: if used, they entered the unit.
BOUGHT_CATEGORIES = ("solid_fossil", "liquid_fossil", "gaseous_fossil", "electricity",
                     "other_fuel")
BOUGHT_CARRIERS = ("water",)
#: Nodes that distribute what enters them (a flow out of one is not production).
DISTRIBUTION_KINDS = ("park", "enterprise", "site")
#: Categories that are not energy and are not metered under GB 17167.
EXCLUDED_CATEGORIES = ("material",)
EPS = 1e-9


@dataclass(frozen=True)
class UnitNode:
    id: int
    code: str
    kind: str
    parent_id: int | None
    name_zh: str = ""
    name_en: str | None = None
    attributes: dict | None = None

    @property
    def gb17167(self) -> dict:
        a = (self.attributes or {}).get("gb17167")
        return a if isinstance(a, dict) else {}

    def nameplate_kw(self) -> float | None:
        """Rated power from the node's nameplate attributes, kW (None when not given)."""
        attrs = self.attributes or {}
        for source in (attrs, attrs.get("motor"), attrs.get("compressor")):
            if isinstance(source, dict) and source.get("rated_kw") not in (None, ""):
                try:
                    return float(source["rated_kw"])
                except (TypeError, ValueError):
                    return None
        return None


@dataclass(frozen=True)
class MeterPoint:
    id: int
    code: str
    node_id: int
    carrier: str
    category: str
    kind: str  # physical | virtual | manual
    level: int
    flow_from: int | None
    flow_to: int | None
    name_zh: str = ""

    @property
    def instrument(self) -> bool:
        return self.kind != "virtual"

    @property
    def has_edge(self) -> bool:
        return self.flow_from is not None or self.flow_to is not None


@dataclass(frozen=True)
class Requirement:
    """One carrier group of Table 3 with its Table 1/2 limits."""

    group: str
    name_zh: str
    name_en: str
    carriers: frozenset[str]
    rates: dict[int, float | None]  # level → required equipping rate, %
    secondary_limit: float | None = None
    secondary_limit_unit: str | None = None
    equipment_limit: float | None = None
    equipment_limit_unit: str | None = None
    source: str = ""
    status: str = "unverified"

    def lineage(self) -> dict:
        return {"group": self.group, "rates_pct": {str(k): v for k, v in self.rates.items()},
                "source": self.source, "status": self.status}


@dataclass(frozen=True)
class Requirements:
    rows: tuple[Requirement, ...]

    def group_of(self, carrier: str) -> Requirement:
        for r in self.rows:
            if carrier in r.carriers:
                return r
        return self.other

    @property
    def other(self) -> Requirement:
        for r in self.rows:
            if r.group == "other":
                return r
        return Requirement("other", "其他", "other energy", frozenset(), {1: None, 2: None, 3: None})

    @property
    def equipment_power_limit_kw(self) -> float:
        for r in self.rows:
            if r.group == "electricity" and r.equipment_limit is not None:
                return r.equipment_limit
        return 100.0


@dataclass
class Point:
    level: int
    node_id: int
    node: str
    carrier: str
    group: str
    direction: str  # in | out
    rule: str
    meters: list[str] = field(default_factory=list)
    basis: str | None = None  # why the node is main (level 2/3), or "assumed"

    @property
    def metered(self) -> bool:
        return bool(self.meters)

    def as_dict(self) -> dict:
        return {"level": self.level, "node": self.node, "node_id": self.node_id,
                "carrier": self.carrier, "group": self.group, "direction": self.direction,
                "rule": self.rule, "metered": self.metered, "meters": self.meters,
                "basis": self.basis}


@dataclass
class Compliance:
    unit: UnitNode
    points: list[Point]
    requirements: Requirements
    unedged_level3: list[MeterPoint]
    virtual_only: list[dict]
    not_main: list[dict]

    def table(self) -> list[dict]:
        """Per level: per carrier group, required/metered points, rate % and the verdict."""
        out = []
        for level in LEVELS:
            counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
            for p in self.points:
                if p.level == level:
                    counts[p.group][0] += 1
                    counts[p.group][1] += p.metered
            groups = []
            for g, (req, met) in sorted(counts.items()):
                r = next((x for x in self.requirements.rows if x.group == g),
                         self.requirements.other)
                need = r.rates.get(level)
                rate = met / req * 100.0 if req else None
                groups.append({
                    "group": g, "name_zh": r.name_zh, "name_en": r.name_en,
                    "required": req, "metered": met, "rate_pct": rate,
                    "requirement_pct": need,
                    "pass": None if need is None or rate is None else rate + EPS >= need,
                    "formula": f"{met} / {req} × 100 = {rate:.2f} %" if req else None,
                })
            verdicts = [g["pass"] for g in groups if g["pass"] is not None]
            out.append({"level": level, "name_zh": LEVEL_NAMES[level][0],
                        "name_en": LEVEL_NAMES[level][1], "groups": groups,
                        "required": sum(g["required"] for g in groups),
                        "metered": sum(g["metered"] for g in groups),
                        "pass": all(verdicts) if verdicts else None})
        return out

    def as_dict(self) -> dict:
        table = self.table()
        verdicts = [lv["pass"] for lv in table if lv["pass"] is not None]
        u = self.unit
        return {
            "unit": {"node": u.code, "node_id": u.id, "kind": u.kind, "name_zh": u.name_zh,
                     "name_en": u.name_en},
            "pass": all(verdicts) if verdicts else None,
            "levels": table,
            "gaps": [p.as_dict() for p in self.points if not p.metered],
            "points": [p.as_dict() for p in self.points],
            "meters_without_flow_edge": [
                {"meter": m.code, "meter_id": m.id, "carrier": m.carrier, "level": m.level,
                 "node_id": m.node_id} for m in self.unedged_level3],
            "virtual_only": self.virtual_only,
            "not_main": self.not_main,
            "lineage": {
                "document": "GB 17167-2006 用能单位能源计量器具配备和管理通则",
                "method": ("equipping rate = metered points / required points × 100 per level "
                           "and Table 3 carrier group; a point is (node, carrier, direction); "
                           "virtual meters are not instruments"),
                "equipment_power_limit_kw": self.requirements.equipment_power_limit_kw,
                "requirements": [r.lineage() for r in self.requirements.rows
                                 if any(p.group == r.group for p in self.points)],
            },
        }


def _bought(category: str, carrier: str) -> bool:
    return category in BOUGHT_CATEGORIES or carrier in BOUGHT_CARRIERS


def _use_without_edge(m: MeterPoint) -> bool:
    """Does a meter without a flow edge show that its node *uses* the carrier?  Only for
    carriers a node cannot make: a compressed-air or steam meter on a compressor or boiler
    may as well measure its output (such level-3 meters are listed as lacking an edge)."""
    return not m.has_edge and _bought(m.category, m.carrier)


def role(m: MeterPoint, nodes: frozenset[int]) -> str:
    """Role of a meter's flow edge for the node set (the rule of energy_data.boundary)."""
    return flow_role(m.flow_from, m.flow_to, nodes)


def _chains(nodes: list[UnitNode]) -> dict[int, frozenset[int]]:
    """Per node id, the node and its ancestors within ``nodes``."""
    parent = {n.id: n.parent_id for n in nodes}
    out: dict[int, frozenset[int]] = {}
    for n in nodes:
        chain, cur = [], n.id
        while cur in parent and cur not in chain:
            chain.append(cur)
            cur = parent[cur]
        out[n.id] = frozenset(chain)
    return out


def _declared_carriers(node: UnitNode) -> list[str] | None:
    c = node.gb17167.get("carriers")
    if isinstance(c, list) and all(isinstance(x, str) for x in c):
        return c
    return None


def assess(unit: UnitNode, nodes: list[UnitNode], meters: list[MeterPoint],
           requirements: Requirements) -> Compliance:
    """The points of ``unit`` (node set ``nodes``, the unit itself included) and their meters.

    ``meters``: every meter touching the node set (on a node of it, or with a flow edge
    from/to one); meters of excluded categories are ignored.
    """
    S = frozenset(n.id for n in nodes)
    by_id = {n.id: n for n in nodes}
    meters = [m for m in meters if m.category not in EXCLUDED_CATEGORIES]
    categories = {m.carrier: m.category for m in meters}
    chains = _chains(nodes)
    points: list[Point] = []
    virtual_only: list[dict] = []

    def add(level, node, carrier, direction, rule, metering, basis=None):
        p = Point(level, node.id, node.code, carrier, requirements.group_of(carrier).group,
                  direction, rule, sorted(m.code for m in metering if m.instrument), basis)
        if not p.metered and any(not m.instrument for m in metering):
            virtual_only.append({"level": level, "node": node.code, "carrier": carrier,
                                 "meters": sorted(m.code for m in metering)})
        points.append(p)

    # -- level 1 -----------------------------------------------------------------------------
    used = {m.carrier for m in meters
            if (m.flow_to in S) or (m.node_id in S and _use_without_edge(m))}
    for n in nodes:
        used |= set(_declared_carriers(n) or ())
    crossing_in = defaultdict(list)
    crossing_out = defaultdict(list)
    produced = set()
    for m in meters:
        r = role(m, S)
        if r == "in":
            crossing_in[m.carrier].append(m)
        elif r == "out":
            crossing_out[m.carrier].append(m)
        source = by_id.get(m.flow_from)
        if source is not None and source.kind not in DISTRIBUTION_KINDS:
            produced.add(m.carrier)

    def bought(carrier: str) -> bool:
        return _bought(categories.get(carrier, ""), carrier) or carrier not in produced

    for carrier in sorted(used | set(crossing_in)):
        if carrier in crossing_in or bought(carrier):
            add(1, unit, carrier, "in", "mc.rule.level1_in", crossing_in.get(carrier, []))
    for carrier in sorted(crossing_out):
        add(1, unit, carrier, "out", "mc.rule.level1_out", crossing_out[carrier])

    # -- levels 2 and 3 ----------------------------------------------------------------------
    # Index the meters once: a meter flows into the subtree of node n when its flow_to lies
    # under n and its flow_from does not, i.e. n is an ancestor of flow_to but not of flow_from.
    none: frozenset[int] = frozenset()
    inflow: dict[int, set[str]] = defaultdict(set)
    makes: set[int] = set()
    measuring: dict[tuple[int, str], list[MeterPoint]] = defaultdict(list)
    for m in meters:
        to_chain, from_chain = chains.get(m.flow_to, none), chains.get(m.flow_from, none)
        for nid in to_chain - from_chain:
            inflow[nid].add(m.carrier)
        makes |= from_chain - to_chain
        if _use_without_edge(m):
            for nid in chains.get(m.node_id, none):
                inflow[nid].add(m.carrier)
        if m.flow_to is not None:
            measuring[(m.flow_to, m.carrier)].append(m)
        elif not m.has_edge:
            measuring[(m.node_id, m.carrier)].append(m)

    limit_kw = requirements.equipment_power_limit_kw
    not_main: list[dict] = []
    for n in nodes:
        if n.id == unit.id:
            continue
        if n.kind in SECONDARY_KINDS:
            level = 2
        elif n.kind in EQUIPMENT_KINDS:
            level = 3
        else:
            continue
        flag = n.gb17167.get("main")
        kw = n.nameplate_kw()
        if flag is not None:
            main, basis = bool(flag), "attribute"
        elif level == 2:
            main, basis = True, "kind"
        elif kw is not None:
            main, basis = kw + EPS >= limit_kw, f"nameplate {kw:g} kW vs {limit_kw:g} kW"
        else:
            main, basis = True, "assumed"
        if not main:
            not_main.append({"level": level, "node": n.code, "node_id": n.id, "basis": basis})
            continue
        carriers = _declared_carriers(n)
        if carriers is None:
            carriers = sorted(inflow.get(n.id, ()))
            if not carriers and n.id not in makes:
                carriers = ["electricity"]
        for carrier in carriers:
            add(level, n, carrier, "in", f"mc.rule.level{level}",
                measuring.get((n.id, carrier), []), basis)

    unedged = [m for m in meters if m.level == 3 and m.instrument and not m.has_edge
               and m.node_id in S]
    return Compliance(unit, points, requirements, unedged, virtual_only, not_main)


def requirements_from_rows(rows: list[dict]) -> Requirements:
    """Requirements from the rows of the shipped ``gb17167_requirements`` dataset."""
    def num(x):
        return float(x) if x not in (None, "") else None

    out = []
    for r in rows:
        out.append(Requirement(
            r["group"], r["name_zh"], r["name_en"], frozenset((r.get("carriers") or "").split()),
            {1: num(r["level_1_pct"]), 2: num(r["level_2_pct"]), 3: num(r["level_3_pct"])},
            num(r.get("secondary_unit_limit")), r.get("secondary_unit_limit_unit") or None,
            num(r.get("equipment_limit")), r.get("equipment_limit_unit") or None,
            r.get("source", ""), r.get("status", "unverified")))
    return Requirements(tuple(out))
