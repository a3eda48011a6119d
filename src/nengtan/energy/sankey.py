"""Sankey data (能流图) of a node from the metered flow edges of its meters.

Nodes are the organisation-tree nodes down to a chosen ``depth`` below the root (deeper nodes
are drawn inside their ancestor at that depth) and special nodes:

* ``purchased:<carrier>`` — energy entering the subtree (purchased, or received from outside
  the node's boundary), one per carrier;
* ``exported`` — energy leaving the subtree (外供);
* ``renewable`` / ``recovered`` — the unmetered primary input of on-site renewable generation
  (PV) and of waste-heat recovery, taken at the equivalent value of the metered output;
* ``loss`` — 损失及未计量 loss / unmetered: at every tree node with metered outflows of a
  carrier, inflow − Σ metered outflows (GB/T 3484 distribution losses; parent meter minus
  sub-meters), and at conversion units input − output in tce;
* ``imbalance`` — 计量不平衡: where metered outflows exceed inflow, the difference enters
  the node from here.  Negative remainders are never clipped or netted against losses.

Every tree node is computed at full resolution first, so a node drawn at a coarse depth
carries the losses and imbalances of the nodes inside it, and the metered end use inside it
(``consumed``), which ends the flows there.  For each drawn node::

    Σ in + primary + imbalance = Σ out + loss + consumed      (tce; per carrier in physical
                                                               units where nothing converts)

Pure: plain data in, plain data out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from nengtan.energy.balance import (
    ELECTRICITY,
    PRIMARY_OF,
    TOLERANCE,
    Amount,
    Carrier,
    MeteredFlow,
    Note,
    Tree,
    TreeNode,
    resolve_stages,
)

METHOD = "nengtan energy flow 1 (Sankey from metered flow edges; GB/T 3484-2009 losses)"
UNITS = ("tce", "physical")
MAX_DEPTH = 12
CONVERSION = "conversion"  # carrier label of a conversion-loss link (tce only)

SPECIAL = {
    "exported": ("外供", "exported"),
    "loss": ("损失及未计量", "loss / unmetered"),
    "imbalance": ("计量不平衡", "metering imbalance"),
    "renewable": ("自产可再生能源", "on-site renewable"),
    "recovered": ("余热余能回收", "recovered energy"),
}


@dataclass
class _Balance:
    """Full-resolution figures of one tree node."""

    inflow: dict[str, Amount] = field(default_factory=lambda: defaultdict(Amount))
    outflow: dict[str, Amount] = field(default_factory=lambda: defaultdict(Amount))
    loss: dict[str, Amount] = field(default_factory=dict)
    imbalance: dict[str, Amount] = field(default_factory=dict)
    consumed: dict[str, Amount] = field(default_factory=dict)
    primary: dict[tuple[str, str], Amount] = field(default_factory=dict)  # (kind, carrier)
    conversion_loss: float | None = 0.0
    conversion_imbalance: float = 0.0
    conversion: bool = False


@dataclass
class Sankey:
    root: TreeNode
    depth: int
    unit: str
    nodes: list[dict]
    links: list[dict]
    checks: list[dict]
    imbalances: list[dict]
    missing_coefficients: list[str]
    coverage: float
    notes: list[Note]

    def as_dict(self) -> dict:
        return {**self.root.label(), "depth": self.depth, "unit": self.unit,
                "value_unit": "tce" if self.unit == "tce" else "carrier unit (see each link)",
                "nodes": self.nodes, "links": self.links, "checks": self.checks,
                "imbalances": self.imbalances,
                "missing_coefficients": self.missing_coefficients,
                "coverage": self.coverage, "complete": self.coverage >= 0.999,
                "notes": [n.as_dict() for n in self.notes],
                "lineage": {"method": METHOD, "rules": [
                    "links are sums of metered flow edges (meter codes listed per link)",
                    ("loss/unmetered = inflow − Σ metered outflows at every node with metered "
                    "outflows, per carrier; conversion units: input − output (tce)"),
                    "negative remainders enter from the imbalance node; never clipped",
                    ("renewable/recovered primary input = equivalent value of the metered "
                    "output")]}}


def _add(d: dict, key, amount: Amount) -> None:
    d[key] = d[key] + amount if key in d else amount


def build_sankey(root: int, nodes: Iterable[TreeNode], flows: Iterable[MeteredFlow],
                 carriers: Mapping[str, Carrier], depth: int = 2,
                 unit: str = "tce") -> Sankey:
    """Sankey nodes and links of ``root``'s subtree over one period (see module doc)."""
    tree = Tree(root, nodes, flows)
    stages, notes = resolve_stages(tree)
    bal: dict[int, _Balance] = {n: _Balance() for n in tree.nodes}
    missing = sorted({f.carrier for f in tree.flows if f.kgce_per_unit is None})
    coverage = min((f.coverage for f in tree.flows), default=1.0)
    for f in tree.flows:
        if tree.inside(f.target):
            bal[f.target].inflow[f.group].add_flow(f)
        if tree.inside(f.source):
            bal[f.source].outflow[f.group].add_flow(f)

    # -- full resolution: every tree node ---------------------------------------------------
    imbalances = []
    for nid, b in bal.items():
        n = tree.nodes[nid]
        if stages[nid].stage == "conversion":
            b.conversion = True
            for f in tree.emitted.get(nid, ()):
                if f.category in PRIMARY_OF:
                    a = Amount()
                    a.add_flow(f)
                    _add(b.primary, (PRIMARY_OF[f.category], f.carrier), a)
            total_in = _sum_tce(b.inflow.values())
            primary = _sum_tce(b.primary.values()) or 0.0
            total_in = None if total_in is None else total_in + primary
            total_out = _sum_tce(b.outflow.values())
            loss = None if total_in is None or total_out is None else total_in - total_out
            if loss is not None and loss < -TOLERANCE:
                b.conversion_imbalance, loss = -loss, 0.0
                imbalances.append({"node": n.code, "carrier": CONVERSION,
                                   "tce": b.conversion_imbalance, "quantity": None,
                                   "unit": None, "meters_in": _meters(b.inflow),
                                   "meters_out": _meters(b.outflow)})
                notes.append(Note("eflow.note.conversion_imbalance",
                                  {"node": n.code, "tce": round(b.conversion_imbalance, 3)},
                                  "warning"))
            b.conversion_loss = loss
            continue
        for g in set(b.inflow) | set(b.outflow):
            inn, out = b.inflow.get(g, Amount()), b.outflow.get(g, Amount())
            if not out.meters:
                if inn.meters:
                    b.consumed[g] = _copy(inn)
                continue
            rem = inn - out
            rem.unit = inn.unit or out.unit
            if rem.quantity < -TOLERANCE:
                b.imbalance[g] = rem.scaled(-1)
                imbalances.append({"node": n.code, "carrier": g, "quantity": -rem.quantity,
                                   "unit": rem.unit, "tce": None if rem.tce is None else -rem.tce,
                                   "meters_in": sorted(set(inn.meters)),
                                   "meters_out": sorted(set(out.meters))})
                notes.append(Note("eflow.note.metering_imbalance", {
                    "node": n.code, "carrier": g, "quantity": round(-rem.quantity, 3),
                    "unit": rem.unit}, "warning"))
            elif rem.quantity > TOLERANCE:
                b.loss[g] = rem

    # -- drawn at the chosen depth --------------------------------------------------------
    def shown(nid: int) -> int:
        while tree.depth[nid] > depth:
            nid = tree.nodes[nid].parent_id
        return nid

    disp = {nid: shown(nid) for nid in tree.nodes}
    links: dict[tuple, Amount] = {}
    kinds: dict[tuple, tuple[str, str]] = {}

    def link(src: str, dst: str, carrier: str, amount: Amount, kind: str,
             group: str | None = None) -> None:
        key = (src, dst, carrier)
        _add(links, key, amount)
        kinds[key] = (kind, group or carrier)

    code = {nid: tree.nodes[nid].code for nid in tree.nodes}
    for f in tree.flows:
        a = Amount()
        a.add_flow(f)
        s_in, t_in = tree.inside(f.source), tree.inside(f.target)
        if s_in and t_in:
            s, t = disp[f.source], disp[f.target]
            if s != t:
                link(code[s], code[t], f.carrier, a, "flow", f.group)
        elif t_in:
            link(f"purchased:{f.carrier}", code[disp[f.target]], f.carrier, a, "purchase",
                 f.group)
        elif s_in:
            link(code[disp[f.source]], "exported", f.carrier, a, "export", f.group)
    consumed: dict[int, dict[str, Amount]] = defaultdict(dict)
    for nid, b in bal.items():
        d = code[disp[nid]]
        for (kind, carrier), a in b.primary.items():
            link(kind, d, carrier, a, "primary", ELECTRICITY)
        for g, a in b.loss.items():
            link(d, "loss", g, a, "loss")
        for g, a in b.imbalance.items():
            link("imbalance", d, g, a, "imbalance")
        if b.conversion:
            if b.conversion_loss is None:
                link(d, "loss", CONVERSION, Amount(0.0, None), "conversion_loss")
            elif b.conversion_loss > TOLERANCE:
                link(d, "loss", CONVERSION, Amount(0.0, b.conversion_loss), "conversion_loss")
            if b.conversion_imbalance > TOLERANCE:
                link("imbalance", d, CONVERSION, Amount(0.0, b.conversion_imbalance),
                     "imbalance")
        for g, a in b.consumed.items():
            _add(consumed[disp[nid]], g, a)

    # -- output ----------------------------------------------------------------------------
    link_rows = []
    for (src, dst, carrier), a in sorted(links.items(), key=lambda kv: _link_order(kv[0])):
        kind, group = kinds[(src, dst, carrier)]
        physical = carrier != CONVERSION
        link_rows.append({
            "source": src, "target": dst, "carrier": carrier, "group": group, "kind": kind,
            "quantity": a.quantity if physical else None, "unit": a.unit if physical else None,
            "value_tce": a.tce,
            "value": a.tce if unit == "tce" else (a.quantity if physical else None),
            "meters": sorted(set(a.meters))})
    drawn = sorted({disp[n] for n in tree.nodes}, key=lambda n: (tree.depth[n], code[n]))
    node_rows = []
    used = {r["source"] for r in link_rows} | {r["target"] for r in link_rows}
    tce_in: dict[str, float | None] = defaultdict(float)
    tce_out: dict[str, float | None] = defaultdict(float)
    for r in link_rows:
        for d, key in ((tce_in, r["target"]), (tce_out, r["source"])):
            d[key] = None if d[key] is None or r["value_tce"] is None else d[key] + r["value_tce"]
    for nid in drawn:
        n = tree.nodes[nid]
        if code[nid] not in used and not consumed.get(nid):
            continue
        node_rows.append({
            "id": n.code, "kind": n.kind, "name_zh": n.name_zh, "name_en": n.name_en,
            "depth": tree.depth[nid], "stage": stages[nid].stage,
            "in_tce": tce_in[n.code], "out_tce": tce_out[n.code],
            "contains": sum(1 for m in tree.nodes if disp[m] == nid) - 1,
            "consumed": [{"carrier": g, **a.as_dict()}
                         for g, a in sorted(consumed.get(nid, {}).items())],
            "consumed_tce": _sum_tce(consumed.get(nid, {}).values())})
    for key in sorted(used - {code[n] for n in drawn}):
        if key.startswith("purchased:"):
            c = key.split(":", 1)[1]
            info = carriers.get(c)
            zh, en = (info.name_zh, info.name_en) if info else (c, c)
            node_rows.append({"id": key, "kind": "purchased", "carrier": c,
                              "name_zh": f"外购/外部供入 {zh}",
                              "name_en": f"purchased / from outside: {en}"})
        else:
            zh, en = SPECIAL[key]
            node_rows.append({"id": key, "kind": key, "name_zh": zh, "name_en": en})

    checks = _conservation(node_rows, link_rows, consumed, code, drawn, bal, disp)
    return Sankey(tree.root, depth, unit, node_rows, link_rows, checks, imbalances, missing,
                  coverage, notes)


def _conservation(node_rows, link_rows, consumed, code, drawn, bal, disp) -> list[dict]:
    """Σ in = Σ out + consumed for every drawn tree node (loss and imbalance links
    included): in tce, and per carrier group in physical units where nothing converts."""
    checks = []
    for nid in drawn:
        c = code[nid]
        ins = [r for r in link_rows if r["target"] == c]
        outs = [r for r in link_rows if r["source"] == c]
        if not ins and not outs:
            continue
        cons = consumed.get(nid, {})
        tin = _tce_sum(r["value_tce"] for r in ins)
        tout = _tce_sum(r["value_tce"] for r in outs)
        tcons = _sum_tce(cons.values())
        if None not in (tin, tout, tcons):
            checks.append(_check("in = out + loss + consumed (tce)", c, tin, tout + tcons,
                                 "eflow.check.sankey", "tce"))
        if any(bal[m].conversion for m in bal if disp[m] == nid):
            continue
        groups = {r["group"] for r in ins + outs} | set(cons)
        for g in sorted(groups):
            qin = sum(r["quantity"] or 0.0 for r in ins if r["group"] == g)
            qout = sum(r["quantity"] or 0.0 for r in outs if r["group"] == g)
            qc = cons[g].quantity if g in cons else 0.0
            checks.append(_check(f"in = out + loss + consumed ({g})", c, qin, qout + qc,
                                 "eflow.check.sankey", g))
    return checks


def _check(identity, scope, lhs, rhs, key, measure) -> dict:
    residual = lhs - rhs
    return {"identity": identity, "key": key, "measure": measure, "scope": scope, "lhs": lhs,
            "rhs": rhs, "residual": residual,
            "ok": abs(residual) <= TOLERANCE * max(1.0, abs(lhs))}


def _copy(a: Amount) -> Amount:
    return Amount(a.quantity, a.tce, a.unit, list(a.meters))


def _meters(d: dict[str, Amount]) -> list[str]:
    return sorted({m for a in d.values() for m in a.meters})


def _sum_tce(amounts) -> float | None:
    total = 0.0
    for a in amounts:
        if a.tce is None:
            return None
        total += a.tce
    return total


def _tce_sum(values) -> float | None:
    total = 0.0
    for v in values:
        if v is None:
            return None
        total += v
    return total


_ORDER = {"purchased": 0, "renewable": 1, "recovered": 1, "imbalance": 2}


def _link_order(key: tuple) -> tuple:
    src, dst, carrier = key
    head = src.split(":", 1)[0]
    tail = {"exported": 1, "loss": 2}.get(dst, 0)
    return (_ORDER.get(head, 3), tail, src, dst, carrier)
