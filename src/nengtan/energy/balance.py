"""Enterprise energy balance table (企业能量平衡表) from metered flow edges.

Implements the structure of GB/T 28751-2012 《企业能量平衡表编制方法》 and the balance of
GB/T 3484-2009 《企业能量平衡通则》: energy is followed through four stages

* 购入贮存 purchase & storage — energy entering the boundary (purchased, or received from
  outside the node's subtree), with exports (外供) beside it;
* 加工转换 conversion — units that turn one carrier into another (boiler house, waste-heat
  power station, on-site PV, battery storage): 投入 input, 产出 output;
* 输送分配 transmission & distribution — networks that pass a carrier on (site
  distribution, substations): supply in − Σ metered deliveries out = 损失及未计量;
* 最终使用 end use — main production (主要生产), auxiliary (辅助生产) and ancillary
  (附属生产: offices, lighting ...) units.

For every stage: supplied (供入), effective (有效), losses (损失) and utilisation rate
(利用率 = effective / supplied, GB/T 3484-2009 clause 6), with the identity
``supplied = effective + losses`` (GB/T 3484 energy balance equation).  Quantities are in the
carrier's physical unit and in tce at the equivalent value (GB/T 2589-2020); every flow
carries its meter and coefficient.

What is *not* measured is not invented: end-use effective energy exists only where a node
states its efficiency (attribute ``end_use_efficiency`` with a source); a carrier without a
coefficient keeps its physical quantities and is reported as such; the unmetered remainder of
a distribution node is shown as its own figure, never spread over consumers.

Pure: takes plain data (tree nodes, metered flows with their coefficients), no I/O.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial

from nengtan import units
from nengtan.energy.gbt2589 import ELECTRIC, KGCE_PER_KWH_EQUIVALENT

METHOD = "GB/T 3484-2009, GB/T 28751-2012 / nengtan energy flow 1"

STAGES = ("purchase", "conversion", "distribution", "end_use")
END_USES = ("main_production", "auxiliary", "ancillary")
#: Values of the node attribute ``energy_stage``.
NODE_STAGES = ("conversion", "distribution") + END_USES
#: Kinds that group other nodes; their meters are the boundary and the internal network.
CONTAINER_KINDS = ("park", "enterprise", "site")
#: Output categories whose primary input is not a metered carrier, by what it is.
PRIMARY_OF = {"renewable_electricity": "renewable", "recovered_electricity": "recovered"}
#: Display order of carrier rows, by category.
CATEGORY_ORDER = ("solid_fossil", "liquid_fossil", "gaseous_fossil", "electricity", "heat",
                  "other_fuel")
ELECTRICITY = "electricity"
TOLERANCE = 1e-6

# Name rules (Chinese and English names), in the order they are tried.  They say where a
# node's energy goes in GB/T 3484 terms: auxiliary production (辅助生产系统: power, water,
# air, cooling, repair, environmental plant) and ancillary production (附属生产系统: offices,
# laboratories, canteens, lighting ...).
_STORAGE = re.compile(r"储能|蓄能|蓄电|电池|battery|storage", re.IGNORECASE)
_SUBSTATION = re.compile(r"变电|配电|开关站|substation|switchgear|switch ?room", re.IGNORECASE)
_ANCILLARY = re.compile(
    r"办公|行政|管委会|服务楼|综合楼|照明|食堂|宿舍|浴室|化验|研发|"
    r"office|admin|lighting|canteen|dormitor|laborator|R&D", re.IGNORECASE)
_AUXILIARY = re.compile(
    r"公辅|公用|动力|辅助|空压|压缩空气|循环水|水泵|泵房|供水|给水|污水|废水|水处理|制冷|冷冻|"
    r"冷水|空调|暖通|机修|环保|"
    r"utilit|compress|pump|water|chiller|cooling|HVAC|air.condition|repair|auxiliar|"
    r"maintenance", re.IGNORECASE)


# -- input data ----------------------------------------------------------------------------
@dataclass(frozen=True)
class TreeNode:
    """A node of the organisation tree with the attributes the balance reads."""

    id: int
    code: str
    name_zh: str
    name_en: str | None
    kind: str
    parent_id: int | None
    #: Node attribute ``energy_stage`` as stored (validated here).
    energy_stage: str | None = None
    #: Node attribute ``end_use_efficiency`` (0 < x ≤ 1) and its source.
    end_use_efficiency: float | None = None
    efficiency_source: str | None = None

    @classmethod
    def from_attributes(cls, id: int, code: str, name_zh: str, name_en: str | None, kind: str,
                        parent_id: int | None, attributes: Mapping | None) -> TreeNode:
        """Reads ``energy_stage`` and ``end_use_efficiency`` (a number with
        ``end_use_efficiency_source``, or ``{"value": .., "source": ..}``)."""
        a = dict(attributes or {})
        eff = a.get("end_use_efficiency")
        source = a.get("end_use_efficiency_source")
        if isinstance(eff, Mapping):
            source = eff.get("source", source)
            eff = eff.get("value")
        try:
            eff = None if eff is None or isinstance(eff, bool) else float(eff)
        except (TypeError, ValueError):
            eff = float("nan")
        stage = a.get("energy_stage")
        return cls(id, code, name_zh, name_en, kind, parent_id,
                   str(stage).strip() if stage not in (None, "") else None, eff,
                   str(source) if source not in (None, "") else None)

    def label(self) -> dict:
        return {"node": self.code, "name_zh": self.name_zh, "name_en": self.name_en,
                "kind": self.kind}


@dataclass(frozen=True)
class Carrier:
    code: str
    name_zh: str
    name_en: str
    unit: str
    category: str


@dataclass(frozen=True)
class MeteredFlow:
    """One meter's flow edge over the period: ``quantity`` of ``carrier`` (in ``unit``, the
    carrier's unit) from ``source`` to ``target`` node ids (None: outside the model)."""

    meter: str
    carrier: str
    category: str
    unit: str
    quantity: float
    source: int | None
    target: int | None
    #: kgce per ``unit`` (GB/T 2589 equivalent value); None: no coefficient.
    kgce_per_unit: float | None = None
    #: The coefficient's lineage (source, status, method ...).
    coefficient: dict | None = None
    coverage: float = 1.0
    energy_use: str = "fuel"
    meter_id: int | None = None
    level: int | None = None

    @property
    def tce(self) -> float | None:
        return None if self.kgce_per_unit is None else self.quantity * self.kgce_per_unit / 1000

    @property
    def group(self) -> str:
        """Row of the balance table: every electricity (grid, PV, waste heat) is 电力."""
        return ELECTRICITY if self.category in ELECTRIC else self.carrier

    @property
    def group_unit(self) -> str:
        return "kWh" if self.category in ELECTRIC else self.unit

    @property
    def group_quantity(self) -> float:
        if self.category in ELECTRIC and self.unit != "kWh":
            return self.quantity * units.factor(self.unit, "kWh")
        return self.quantity


# -- amounts -------------------------------------------------------------------------------
@dataclass
class Amount:
    """A physical quantity (one unit) with its tce; ``tce`` None when a coefficient is
    missing for part of it."""

    quantity: float = 0.0
    tce: float | None = 0.0
    unit: str | None = None
    meters: list[str] = field(default_factory=list)

    def add_flow(self, f: MeteredFlow) -> None:
        self.quantity += f.group_quantity
        self.unit = self.unit or f.group_unit
        t = f.tce
        self.tce = None if self.tce is None or t is None else self.tce + t
        self.meters.append(f.meter)

    def __add__(self, other: Amount) -> Amount:
        return Amount(self.quantity + other.quantity, _plus(self.tce, other.tce),
                      self.unit or other.unit, self.meters + other.meters)

    def __sub__(self, other: Amount) -> Amount:
        return Amount(self.quantity - other.quantity, _minus(self.tce, other.tce),
                      self.unit or other.unit, [])

    def scaled(self, k: float) -> Amount:
        return Amount(self.quantity * k, None if self.tce is None else self.tce * k, self.unit, [])

    def as_dict(self, meters: bool = False) -> dict:
        out = {"quantity": self.quantity, "unit": self.unit, "tce": self.tce}
        if meters:
            out["meters"] = sorted(set(self.meters))
        return out


def _plus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or abs(b) < 1e-12 else a / b


# -- the tree ------------------------------------------------------------------------------
class Tree:
    """The subtree of ``root``: children, ancestry, and which flows touch which node."""

    def __init__(self, root: int, nodes: Iterable[TreeNode], flows: Iterable[MeteredFlow]):
        all_nodes = {n.id: n for n in nodes}
        self.root = all_nodes[root]
        kids: dict[int, list[TreeNode]] = defaultdict(list)
        for n in all_nodes.values():
            if n.parent_id is not None:
                kids[n.parent_id].append(n)
        for v in kids.values():
            v.sort(key=lambda n: n.code)
        self.children = kids
        self.nodes: dict[int, TreeNode] = {}
        self.depth: dict[int, int] = {}
        stack = [(self.root, 0)]
        while stack:
            n, d = stack.pop()
            self.nodes[n.id] = n
            self.depth[n.id] = d
            stack += [(c, d + 1) for c in kids.get(n.id, ())]
        self.flows = [f for f in flows if f.source in self.nodes or f.target in self.nodes]
        self.received: dict[int, list[MeteredFlow]] = defaultdict(list)
        self.emitted: dict[int, list[MeteredFlow]] = defaultdict(list)
        for f in self.flows:
            if f.target in self.nodes:
                self.received[f.target].append(f)
            if f.source in self.nodes:
                self.emitted[f.source].append(f)

    def inside(self, node_id: int | None) -> bool:
        return node_id is not None and node_id in self.nodes

    def is_within(self, node_id: int | None, ancestor: int) -> bool:
        """Is ``node_id`` ``ancestor`` or one of its descendants (inside the subtree)?"""
        while node_id is not None and node_id in self.nodes:
            if node_id == ancestor:
                return True
            node_id = self.nodes[node_id].parent_id
        return False

    def walk(self) -> list[TreeNode]:
        out, stack = [], [self.root]
        while stack:
            n = stack.pop()
            out.append(n)
            stack += list(reversed(self.children.get(n.id, [])))
        return out


# -- stages of nodes -----------------------------------------------------------------------
@dataclass(frozen=True)
class Stage:
    """Where a node's energy is accounted, and why (``rule``: attribute | kind | flow | name
    | default; ``key`` and ``params``: the reason as an energy_flow catalogue message)."""

    stage: str
    rule: str
    key: str
    params: tuple[tuple[str, str], ...] = ()

    def detail(self, lang: str = "en") -> str:
        from nengtan.i18n import t

        params = dict(self.params)
        if "kind" in params:
            params["kind"] = t(f"eflow.kind.{params['kind']}", lang)
        return t(self.key, lang, **params)

    def as_dict(self) -> dict:
        return {"stage": self.stage, "rule": self.rule, "detail": self.detail("en"),
                "detail_zh": self.detail("zh-CN")}


def _names(n: TreeNode) -> str:
    return f"{n.name_zh} {n.name_en or ''}"


def use_category(n: TreeNode) -> Stage:
    """End-use category of a node from its names and kind (GB/T 3484 clause 3: main,
    auxiliary and ancillary production systems)."""
    names = _names(n)
    if m := _ANCILLARY.search(names):
        return Stage("ancillary", "name", "eflow.rule.name", (("match", m.group(0)),))
    if m := _AUXILIARY.search(names):
        return Stage("auxiliary", "name", "eflow.rule.name", (("match", m.group(0)),))
    if n.kind == "facility":
        return Stage("auxiliary", "kind", "eflow.rule.facility")
    return Stage("main_production", "default", "eflow.rule.default", (("kind", n.kind),))


def resolve_stage(tree: Tree, n: TreeNode) -> tuple[Stage, str | None]:
    """The node's stage and, if its ``energy_stage`` attribute was invalid, the bad value.

    Order: attribute ``energy_stage``; park/enterprise/site → distribution; a node that
    emits (to a node outside its own subtree) an energy carrier it does not receive →
    conversion; names: storage → conversion, substation → distribution, then ancillary and
    auxiliary names; a facility → auxiliary; otherwise main production.
    """
    bad = None
    if n.energy_stage is not None:
        if n.energy_stage in NODE_STAGES:
            return Stage(n.energy_stage, "attribute", "eflow.rule.attribute",
                         (("value", n.energy_stage),)), None
        bad = n.energy_stage
    if n.kind in CONTAINER_KINDS:
        return Stage("distribution", "kind", "eflow.rule.container", (("kind", n.kind),)), bad
    received = {f.carrier for f in tree.received.get(n.id, ())}
    made = sorted({f.carrier for f in tree.emitted.get(n.id, ())
                   if f.carrier not in received and not tree.is_within(f.target, n.id)})
    if made:
        return Stage("conversion", "flow", "eflow.rule.flow", (
            ("made", ", ".join(made)), ("received", ", ".join(sorted(received)) or "—"))), bad
    names = _names(n)
    if m := _STORAGE.search(names):
        return Stage("conversion", "name", "eflow.rule.storage", (("match", m.group(0)),)), bad
    if m := _SUBSTATION.search(names):
        return Stage("distribution", "name", "eflow.rule.name", (("match", m.group(0)),)), bad
    return use_category(n), bad


def resolve_stages(tree: Tree) -> tuple[dict[int, Stage], list[Note]]:
    stages, notes = {}, []
    for n in tree.walk():
        st, bad = resolve_stage(tree, n)
        stages[n.id] = st
        if bad is not None:
            notes.append(Note("eflow.note.bad_stage", {"node": n.code, "value": bad,
                                                       "choices": ", ".join(NODE_STAGES)}))
    return stages, notes


# -- notes ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Note:
    """A statement about the answer (missing coefficient, imbalance ...): an i18n key of the
    energy_flow catalogue and its parameters."""

    key: str
    params: dict = field(default_factory=dict)
    severity: str = "info"  # info | warning

    def as_dict(self) -> dict:
        from nengtan.i18n import t

        return {"key": self.key, "severity": self.severity, "params": self.params,
                "message_zh": t(self.key, "zh-CN", **self.params),
                "message_en": t(self.key, "en", **self.params)}


# -- units of the balance ------------------------------------------------------------------
@dataclass
class Unit:
    """A column item of the balance: an open node (a distribution point, or its own use), a
    conversion unit or an end-use unit, each with the nodes whose flows are internal to it."""

    node: TreeNode
    kind: str  # open | conversion | end_use
    stage: Stage
    category: str | None = None  # end-use category (end_use units, and own use of open ones)
    members: list[int] = field(default_factory=list)
    inflow: dict[str, Amount] = field(default_factory=lambda: defaultdict(Amount))
    outflow: dict[str, Amount] = field(default_factory=lambda: defaultdict(Amount))
    #: out-flows to units nested inside this one (sub-metered parts carved out of it)
    out_nested: dict[str, Amount] = field(default_factory=lambda: defaultdict(Amount))
    internal: list[str] = field(default_factory=list)
    in_flows: list[MeteredFlow] = field(default_factory=list)
    out_flows: list[MeteredFlow] = field(default_factory=list)


def _carve(tree: Tree, n: TreeNode, st: Stage, unit: Unit) -> bool:
    """Does node ``n`` inside closed ``unit`` become a unit of its own?  An explicit
    attribute always; a name or flow rule when it names another stage than the unit's and
    the node is metered (so that its share can be subtracted, never estimated)."""
    if st.rule == "attribute":
        return st.stage != (unit.category or unit.stage.stage)
    if unit.kind != "end_use" or st.rule not in ("name", "flow"):
        return False
    if st.stage == unit.category:
        return False
    return bool(tree.received.get(n.id) or tree.emitted.get(n.id))


def assign_units(tree: Tree, stages: dict[int, Stage]) -> tuple[dict[int, Unit], list[Unit]]:
    """Top-down: the root and distribution nodes stay open (their children are units of
    their own); a conversion or end-use node takes its subtree with it, except sub-metered
    descendants of another stage (:func:`_carve`)."""
    unit_of: dict[int, Unit] = {}
    ordered: list[Unit] = []

    def new_unit(n: TreeNode, st: Stage, is_root: bool = False) -> Unit:
        if st.stage == "conversion":
            u = Unit(n, "conversion", st)
        elif is_root or st.stage == "distribution":
            own = st if st.stage in END_USES else use_category(n)
            if n.kind in CONTAINER_KINDS and st.rule != "attribute":
                own = Stage("main_production", "default", "eflow.rule.own_use",
                            (("kind", n.kind),))
            u = Unit(n, "open", st, category=own.stage)
        else:
            u = Unit(n, "end_use", st, category=st.stage)
        ordered.append(u)
        return u

    def walk(n: TreeNode, current: Unit | None) -> None:
        st = stages[n.id]
        if current is None or current.kind == "open":
            u = new_unit(n, st, is_root=n.id == tree.root.id)
        elif _carve(tree, n, st, current):
            u = new_unit(n, st)
        else:
            u = current
        u.members.append(n.id)
        unit_of[n.id] = u
        for c in tree.children.get(n.id, ()):
            walk(c, None if u.kind == "open" else u)

    walk(tree.root, None)
    return unit_of, ordered


# -- the table -----------------------------------------------------------------------------
def _carrier_key(carriers: Mapping[str, Carrier], code: str) -> tuple:
    c = carriers.get(code)
    cat = c.category if c else ""
    if code == ELECTRICITY:
        cat = "electricity"
    rank = CATEGORY_ORDER.index(cat) if cat in CATEGORY_ORDER else len(CATEGORY_ORDER)
    return (rank, code)


def _carrier_label(carriers: Mapping[str, Carrier], code: str) -> dict:
    c = carriers.get(code)
    return {"carrier": code, "name_zh": c.name_zh if c else code,
            "name_en": c.name_en if c else code}


@dataclass
class StageTotal:
    """Σ over a stage's items (supplied, effective, losses in tce).  Items whose effective
    energy is unknown (not measured, or no coefficient) are left out of ``assessed`` and
    make the stage's effective and losses unknown."""

    supplied_tce: float = 0.0
    effective_tce: float | None = 0.0
    losses_tce: float | None = 0.0
    assessed_supplied_tce: float = 0.0
    assessed_effective_tce: float = 0.0
    assessed_losses_tce: float = 0.0
    not_assessed: list[str] = field(default_factory=list)

    def add(self, label: str, supplied: float | None, effective: float | None,
            losses: float | None) -> None:
        if supplied is not None:
            self.supplied_tce += supplied
        if supplied is None or effective is None or losses is None:
            self.not_assessed.append(label)
            self.effective_tce = self.losses_tce = None
            return
        self.assessed_supplied_tce += supplied
        self.assessed_effective_tce += effective
        self.assessed_losses_tce += losses
        self.effective_tce = _plus(self.effective_tce, effective)
        self.losses_tce = _plus(self.losses_tce, losses)

    def as_dict(self) -> dict:
        out = {"supplied_tce": self.supplied_tce, "effective_tce": self.effective_tce,
               "losses_tce": self.losses_tce,
               "utilisation": _ratio(self.effective_tce, self.supplied_tce)}
        if self.not_assessed:
            out["assessed"] = {
                "supplied_tce": self.assessed_supplied_tce,
                "effective_tce": self.assessed_effective_tce,
                "losses_tce": self.assessed_losses_tce,
                "utilisation": _ratio(self.assessed_effective_tce, self.assessed_supplied_tce)}
            out["not_assessed"] = self.not_assessed
        return out


@dataclass
class BalanceTable:
    root: TreeNode
    stages: dict
    overall: dict
    checks: list[dict]
    nodes: list[dict]
    missing_coefficients: list[dict]
    coverage: float
    notes: list[Note]
    coefficients: dict
    figures: dict  # reconciliation inputs (tce)

    def as_dict(self) -> dict:
        return {
            **self.root.label(), "unit": "tce",
            "stages": self.stages, "overall": self.overall, "checks": self.checks,
            "nodes": self.nodes, "missing_coefficients": self.missing_coefficients,
            "coverage": self.coverage, "complete": self.coverage >= 0.999,
            "notes": [n.as_dict() for n in self.notes],
            "figures": self.figures,
            "lineage": {
                "method": METHOD,
                "electricity_equivalent_kgce_per_kwh": KGCE_PER_KWH_EQUIVALENT,
                "coefficients": self.coefficients,
                "rules": [
                    "supplied = effective + losses at every stage (GB/T 3484-2009)",
                    "utilisation = effective / supplied",
                    ("distribution loss/unmetered = metered supply into a distribution node "
                    "− Σ metered deliveries out of it, per carrier"),
                    ("conversion losses = input − output (tce); a renewable or recovered "
                    "output's primary input is not metered and is taken at the output's "
                    "equivalent value"),
                    ("end-use effective energy only where the node states end_use_efficiency "
                    "with a source; otherwise not measured"),
                ],
            },
        }


def build_balance(root: int, nodes: Iterable[TreeNode], flows: Iterable[MeteredFlow],
                  carriers: Mapping[str, Carrier]) -> BalanceTable:
    """The energy balance table of ``root``'s subtree from metered flows (energy carriers
    only; quantities over one period)."""
    tree = Tree(root, nodes, flows)
    stages, notes = resolve_stages(tree)
    unit_of, units_ = assign_units(tree, stages)

    purchased: dict[str, Amount] = defaultdict(Amount)
    feedstock: dict[str, Amount] = defaultdict(Amount)
    exported: dict[str, Amount] = defaultdict(Amount)
    received_from_conversion: dict[str, Amount] = defaultdict(Amount)  # by conversion node
    missing: dict[str, dict] = {}
    coefficients: dict[str, dict] = {}
    coverage = 1.0
    for f in tree.flows:
        coverage = min(coverage, f.coverage)
        if f.kgce_per_unit is None:
            missing.setdefault(f.carrier, {"carrier": f.carrier, "unit": f.unit, "meters": []})
            missing[f.carrier]["meters"].append(f.meter)
        elif f.coefficient is not None:
            coefficients.setdefault(f.carrier, f.coefficient)
        s_in, t_in = tree.inside(f.source), tree.inside(f.target)
        if t_in and not s_in:
            (feedstock if f.energy_use == "feedstock" else purchased)[f.group].add_flow(f)
            u = unit_of[f.target]
            u.inflow[f.group].add_flow(f)
            u.in_flows.append(f)
        elif s_in and not t_in:
            exported[f.group].add_flow(f)
            u = unit_of[f.source]
            u.outflow[f.group].add_flow(f)
            u.out_flows.append(f)
        elif s_in and t_in:
            us, ut = unit_of[f.source], unit_of[f.target]
            if us is ut:
                us.internal.append(f.meter)
                continue
            us.outflow[f.group].add_flow(f)
            us.out_flows.append(f)
            if us.kind != "open" and tree.is_within(f.target, us.node.id):
                us.out_nested[f.group].add_flow(f)
            ut.inflow[f.group].add_flow(f)
            ut.in_flows.append(f)
    for ut in units_:
        for f in ut.in_flows:
            src = unit_of.get(f.source) if tree.inside(f.source) else None
            if src is not None and src.kind == "conversion":
                received_from_conversion[src.node.code].add_flow(f)
    for carrier, m in sorted(missing.items()):
        notes.append(Note("eflow.note.no_coefficient",
                          {"carrier": carrier, "unit": m["unit"],
                           "meters": ", ".join(sorted(set(m["meters"])))}, "warning"))
    if coverage < 0.999:
        notes.append(Note("eflow.note.coverage", {"coverage": round(coverage * 100, 1)},
                          "warning"))

    checks: list[dict] = []
    ckey = partial(_carrier_key, carriers)

    # -- purchase & storage ----------------------------------------------------------------
    p_total = StageTotal()
    p_rows = []
    for g in sorted(set(purchased) | set(feedstock) | set(exported), key=ckey):
        sup = purchased.get(g, Amount()) + feedstock.get(g, Amount())
        p_rows.append({**_carrier_label(carriers, g), "unit": sup.unit or exported[g].unit,
                       "purchased": purchased.get(g, Amount(unit=sup.unit)).as_dict(True),
                       "feedstock": feedstock.get(g, Amount(unit=sup.unit)).as_dict(True),
                       "exported": exported.get(g, Amount(unit=sup.unit)).as_dict(True),
                       "supplied": sup.as_dict(), "effective": sup.as_dict(),
                       "losses": Amount(0.0, 0.0 if sup.tce is not None else None,
                                        sup.unit).as_dict()})
        if g in purchased or g in feedstock:
            p_total.add(g, sup.tce, sup.tce, 0.0 if sup.tce is not None else None)
    exported_tce = sum((a.tce or 0.0) for a in exported.values())
    purchase = {"rows": p_rows, **p_total.as_dict(), "exported_tce": exported_tce,
                "feedstock_tce": sum((a.tce or 0.0) for a in feedstock.values())}
    checks.append(_check("stage", "purchase",
                         p_total.assessed_supplied_tce,
                         p_total.assessed_effective_tce + p_total.assessed_losses_tce))

    # -- conversion ------------------------------------------------------------------------
    c_total = StageTotal()
    c_units = []
    primary_totals = {"renewable": Amount(unit="kWh"), "recovered": Amount(unit="kWh")}
    for u in units_:
        if u.kind != "conversion":
            continue
        primary: dict[str, Amount] = defaultdict(Amount)
        for f in u.out_flows:
            if f.category in PRIMARY_OF and f.target not in u.members:
                primary[PRIMARY_OF[f.category]].add_flow(f)
        supplied_tce = _sum_tce(u.inflow.values())
        supplied_tce = _plus(supplied_tce, _sum_tce(primary.values()))
        effective_tce = _sum_tce(u.outflow.values())
        losses_tce = _minus(supplied_tce, effective_tce)
        c_total.add(u.node.code, supplied_tce, effective_tce, losses_tce)
        for k, a in primary.items():
            primary_totals[k] = primary_totals[k] + a
        if losses_tce is not None and losses_tce < -TOLERANCE:
            notes.append(Note("eflow.note.conversion_imbalance",
                              {"node": u.node.code, "tce": round(-losses_tce, 3)}, "warning"))
        c_units.append({
            **u.node.label(), "stage_rule": u.stage.as_dict(),
            "inputs": [{**_carrier_label(carriers, g), **u.inflow[g].as_dict(True)}
                       for g in sorted(u.inflow, key=ckey)],
            "primary": [{"kind": k, **a.as_dict(True),
                         "basis": "equivalent value of the metered output"}
                        for k, a in sorted(primary.items())],
            "outputs": [{**_carrier_label(carriers, g), **u.outflow[g].as_dict(True)}
                        for g in sorted(u.outflow, key=ckey)],
            "supplied_tce": supplied_tce, "effective_tce": effective_tce,
            "losses_tce": losses_tce, "utilisation": _ratio(effective_tce, supplied_tce),
            "internal_meters": sorted(u.internal)})
        # what the units downstream (and outside) received from this unit, summed from
        # the receiving side: the output of conversion equals what it supplies downstream
        down = received_from_conversion.get(u.node.code, Amount())
        exported_from = sum((f.tce or 0.0) for f in u.out_flows if not tree.inside(f.target))
        if effective_tce is not None and down.tce is not None:
            checks.append(_check("conversion_output", u.node.code, effective_tce,
                                 down.tce + exported_from))
    conversion = {"units": c_units, **c_total.as_dict(),
                  "primary": {k: a.as_dict(True) for k, a in primary_totals.items()}}
    checks.append(_check("stage", "conversion",
                         c_total.assessed_supplied_tce,
                         c_total.assessed_effective_tce + c_total.assessed_losses_tce))

    # -- transmission & distribution, and end use -------------------------------------------
    d_total = StageTotal()
    points = []
    d_rows: dict[str, dict[str, Amount]] = {}
    end_items: list[tuple[Unit, dict[str, Amount]]] = []
    for u in units_:
        if u.kind == "conversion":
            continue
        consumed: dict[str, Amount] = {}
        for g in sorted(set(u.inflow) | set(u.outflow), key=ckey):
            inn, out = u.inflow.get(g, Amount()), u.outflow.get(g, Amount())
            nested = u.out_nested.get(g, Amount())
            # an open node passes on whatever it sends out; an end-use unit passes a carrier
            # on when it sends some to units outside itself (coal mill → kiln)
            passes_on = bool(out.meters) if u.kind == "open" else bool(
                set(out.meters) - set(nested.meters))
            if not passes_on:
                sup = inn - nested
                sup.meters = list(inn.meters)
                sup.unit = inn.unit or nested.unit
                consumed[g] = sup
                if sup.quantity < -TOLERANCE:
                    notes.append(Note("eflow.note.metering_imbalance", {
                        "node": u.node.code, "carrier": g, "quantity": round(-sup.quantity, 3),
                        "unit": sup.unit}, "warning"))
                continue
            loss = inn - out
            point = {**u.node.label(), **_carrier_label(carriers, g),
                     "unit": inn.unit or out.unit, "stage_rule": u.stage.as_dict(),
                     "supplied": inn.as_dict(True), "effective": out.as_dict(True),
                     "losses": loss.as_dict(), "imbalance": loss.quantity < -TOLERANCE,
                     "utilisation": _ratio(out.tce, inn.tce)}
            if u.kind != "open":
                point["passes_on"] = True
            points.append(point)
            d_total.add(f"{u.node.code}:{g}", inn.tce, out.tce, loss.tce)
            row = d_rows.setdefault(g, {"supplied": Amount(), "effective": Amount(),
                                        "losses": Amount()})
            row["supplied"] += inn
            row["effective"] += out
            row["losses"] += loss
            if loss.quantity < -TOLERANCE:
                notes.append(Note("eflow.note.metering_imbalance", {
                    "node": u.node.code, "carrier": g, "quantity": round(-loss.quantity, 3),
                    "unit": inn.unit or out.unit}, "warning"))
        if consumed:
            end_items.append((u, consumed))
    distribution = {
        "points": points, **d_total.as_dict(),
        "rows": [{**_carrier_label(carriers, g),
                  "unit": r["supplied"].unit or r["effective"].unit,
                  **{k: a.as_dict() for k, a in r.items()}}
                 for g, r in sorted(d_rows.items(), key=lambda kv: ckey(kv[0]))]}
    checks.append(_check("stage", "distribution",
                         d_total.assessed_supplied_tce,
                         d_total.assessed_effective_tce + d_total.assessed_losses_tce))

    e_total = StageTotal()
    cat_totals = {cat: StageTotal() for cat in END_USES}
    cat_rows: dict[str, dict[str, list[Amount | None]]] = {cat: {} for cat in END_USES}
    e_rows: dict[str, Amount] = {}
    e_units = []
    for u, consumed in end_items:
        eff = _efficiency(u.node, notes)
        rows = []
        for g, sup in consumed.items():
            effective = sup.scaled(eff) if eff is not None else None
            losses = sup.scaled(1 - eff) if eff is not None else None
            label = f"{u.node.code}:{g}"
            for total in (e_total, cat_totals[u.category]):
                total.add(label, sup.tce, effective.tce if effective else None,
                          losses.tce if losses else None)
            acc = cat_rows[u.category].setdefault(g, [Amount(), Amount(), Amount()])
            acc[0] += sup
            acc[1] = acc[1] + effective if acc[1] is not None and effective else None
            acc[2] = acc[2] + losses if acc[2] is not None and losses else None
            e_rows[g] = e_rows.get(g, Amount()) + sup
            rows.append({**_carrier_label(carriers, g), "unit": sup.unit,
                         "supplied": sup.as_dict(True),
                         "effective": effective.as_dict() if effective else None,
                         "losses": losses.as_dict() if losses else None})
        supplied_tce = _sum_tce(consumed.values())
        effective_tce = (None if eff is None or supplied_tce is None else supplied_tce * eff)
        e_units.append({
            **u.node.label(), "category": u.category, "own_use": u.kind == "open",
            "stage_rule": u.stage.as_dict(), "members": len(u.members),
            "efficiency": ({"value": eff, "source": u.node.efficiency_source}
                           if eff is not None else None),
            "effective_status": "measured" if eff is not None else "not_measured",
            "rows": rows, "supplied_tce": supplied_tce, "effective_tce": effective_tce,
            "losses_tce": _minus(supplied_tce, effective_tce),
            "utilisation": _ratio(effective_tce, supplied_tce),
            "internal_meters": sorted(u.internal)})
    categories = {}
    for cat in END_USES:
        categories[cat] = {
            **_stage_names(cat), **cat_totals[cat].as_dict(),
            "units": [x["node"] for x in e_units if x["category"] == cat],
            "rows": [{**_carrier_label(carriers, g), "unit": acc[0].unit,
                      "supplied": acc[0].as_dict(),
                      "effective": acc[1].as_dict() if acc[1] is not None else None,
                      "losses": acc[2].as_dict() if acc[2] is not None else None}
                     for g, acc in sorted(cat_rows[cat].items(), key=lambda kv: ckey(kv[0]))]}
    end_use = {"categories": categories, "units": e_units, **e_total.as_dict(),
               "rows": [{**_carrier_label(carriers, g), "unit": a.unit, "supplied": a.as_dict()}
                        for g, a in sorted(e_rows.items(), key=lambda kv: ckey(kv[0]))]}
    checks.append(_check("stage", "end_use",
                         e_total.assessed_supplied_tce,
                         e_total.assessed_effective_tce + e_total.assessed_losses_tce))
    if e_total.not_assessed:
        notes.append(Note("eflow.note.end_use_not_measured",
                          {"count": len(e_total.not_assessed)}))

    # -- overall ---------------------------------------------------------------------------
    purchased_tce = p_total.supplied_tce
    renewable_tce = primary_totals["renewable"].tce
    recovered_tce = primary_totals["recovered"].tce
    supplied_all = _plus(_plus(purchased_tce - exported_tce, renewable_tce), recovered_tce)
    complete = not missing
    losses_all = _plus(c_total.losses_tce, d_total.losses_tce)
    end_losses = e_total.losses_tce
    overall = {
        "supplied_tce": supplied_all,
        "end_use_supplied_tce": e_total.supplied_tce,
        "conversion_losses_tce": c_total.losses_tce,
        "distribution_losses_tce": d_total.losses_tce,
        "end_use_losses_tce": end_losses,
        "losses_tce": _plus(losses_all, end_losses),
        "effective_tce": e_total.effective_tce,
        "utilisation": _ratio(e_total.effective_tce, supplied_all),
        "complete": complete,
        "note": ("supplied = purchased − exported + on-site renewable + recovered (all "
                 "equivalent value); effective = end-use effective energy"),
    }
    if complete and supplied_all is not None and losses_all is not None:
        checks.append(_check("overall", "overall", supplied_all,
                             losses_all + e_total.supplied_tce))
    figures = {
        "purchased_tce": sum((a.tce or 0.0) for a in purchased.values()),
        "feedstock_tce": purchase["feedstock_tce"],
        "exported_tce": exported_tce,
        "renewable_generated_tce": renewable_tce,
        "recovered_tce": recovered_tce,
        "missing_coefficient_carriers": sorted(missing),
    }
    figures["balance_total_tce"] = _plus(
        figures["purchased_tce"] - exported_tce, renewable_tce)

    node_rows = []
    for n in tree.walk():
        u = unit_of[n.id]
        node_rows.append({"node": n.code, "name_zh": n.name_zh, "name_en": n.name_en,
                          "kind": n.kind, "depth": tree.depth[n.id], **stages[n.id].as_dict(),
                          "unit": u.node.code, "unit_kind": u.kind,
                          "unit_category": u.category})
    stages_out = {
        "purchase": {**_stage_names("purchase"), **purchase},
        "conversion": {**_stage_names("conversion"), **conversion},
        "distribution": {**_stage_names("distribution"), **distribution},
        "end_use": {**_stage_names("end_use"), **end_use},
    }
    return BalanceTable(tree.root, stages_out, overall, checks, node_rows,
                        [missing[k] | {"meters": sorted(set(missing[k]["meters"]))}
                         for k in sorted(missing)],
                        coverage, notes, coefficients, figures)


STAGE_NAMES = {
    "purchase": ("购入贮存", "purchase & storage"),
    "conversion": ("加工转换", "processing & conversion"),
    "distribution": ("输送分配", "transmission & distribution"),
    "end_use": ("最终使用", "end use"),
    "main_production": ("主要生产", "main production"),
    "auxiliary": ("辅助生产", "auxiliary production"),
    "ancillary": ("附属生产", "ancillary (offices, lighting ...)"),
}


def _stage_names(key: str) -> dict:
    zh, en = STAGE_NAMES[key]
    return {"name_zh": zh, "name_en": en}


def _sum_tce(amounts: Iterable[Amount]) -> float | None:
    total: float | None = 0.0
    for a in amounts:
        total = _plus(total, a.tce)
    return total


#: Identities checked in a balance answer: key → text (the catalogue has both languages).
IDENTITIES = {
    "stage": "supplied = effective + losses",
    "conversion_output": "conversion output = energy received downstream",
    "overall": "purchased + renewable + recovered − exported = conversion losses + "
               "distribution losses + end-use supplied",
    "reconciliation": "purchased − feedstock − exported + renewable = node_energy total_tce",
}


def _check(key: str, scope: str, lhs: float, rhs: float) -> dict:
    residual = lhs - rhs
    return {"identity": IDENTITIES[key], "key": f"eflow.check.{key}", "scope": scope,
            "lhs": lhs, "rhs": rhs, "residual": residual,
            "ok": abs(residual) <= TOLERANCE * max(1.0, abs(lhs))}


def _efficiency(n: TreeNode, notes: list[Note]) -> float | None:
    """The node's stated end-use efficiency (0 < x ≤ 1), or None (not measured)."""
    eff = n.end_use_efficiency
    if eff is None:
        return None
    if math.isnan(eff) or not 0 < eff <= 1:
        notes.append(Note("eflow.note.bad_efficiency", {"node": n.code, "value": eff},
                          "warning"))
        return None
    if not n.efficiency_source:
        notes.append(Note("eflow.note.efficiency_no_source", {"node": n.code}, "warning"))
    return eff
