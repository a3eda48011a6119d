"""Energy flow of a node over a period: the balance table (GB/T 3484, GB/T 28751) and Sankey
data, built from the metered flow edges of the meters touching the node's subtree.

Loads the subtree (with the node attributes ``energy_stage`` and ``end_use_efficiency``),
the energy meters of :func:`nengtan.services.energy_data.boundary`, their period sums and the
GB/T 2589 coefficients of each meter's tenant (:func:`energy_data.library_for`: measured
calorific values, user parameters such as the steam enthalpy, the shipped library), then calls
the pure engines :mod:`nengtan.energy.balance` and :mod:`nengtan.energy.sankey`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from nengtan import units
from nengtan.energy import balance as bal
from nengtan.energy import sankey as snk
from nengtan.energy.gbt2589 import Library
from nengtan.errors import InputError, Issue
from nengtan.i18n import both
from nengtan.services import energy_data
from nengtan.services.energy_data import Period
from nengtan.store.models import Carrier, Node

UNITS = snk.UNITS
DEFAULT_DEPTH = 2


@dataclass
class Network:
    """Everything the engines need for one node and period."""

    boundary: energy_data.Boundary
    period: Period
    nodes: list[bal.TreeNode]
    flows: list[bal.MeteredFlow]
    carriers: dict[str, bal.Carrier]
    libraries: dict[int, Library]
    node_energy: energy_data.NodeEnergy | None
    #: Why ``node_energy`` could not be computed (issues as dicts), if it could not.
    node_energy_error: list[dict] | None
    meters: list[dict]


def _tree_nodes(conn: Connection, b: energy_data.Boundary) -> list[bal.TreeNode]:
    rows = conn.execute(select(Node.id, Node.code, Node.name_zh, Node.name_en, Node.kind,
                               Node.parent_id, Node.attributes)
                        .where(Node.path.startswith(b.path))).all()
    return [bal.TreeNode.from_attributes(r.id, r.code, r.name_zh, r.name_en, r.kind,
                                         None if r.id == b.node_id else r.parent_id,
                                         r.attributes if isinstance(r.attributes, dict) else None)
            for r in rows]


def _carriers(conn: Connection) -> dict[str, bal.Carrier]:
    return {r.code: bal.Carrier(r.code, r.name_zh, r.name_en, r.unit, r.category)
            for r in conn.execute(select(Carrier.code, Carrier.name_zh, Carrier.name_en,
                                         Carrier.unit, Carrier.category))}


def network(conn: Connection, node_id: int, period: Period) -> Network:
    """The subtree, its metered energy flows over ``period`` and their coefficients."""
    b = energy_data.boundary(conn, node_id)
    ne, ne_error = None, None
    try:
        ne = energy_data.node_energy(conn, node_id, period, bound=b)
        libraries = dict(ne.libraries)
    except InputError as exc:
        # a boundary carrier without a coefficient: the table still shows quantities
        ne_error = [i.as_dict() for i in exc.issues]
        libraries = {}
    for tenant in sorted({m.tenant_id for m in b.meters}):
        if tenant not in libraries:
            libraries[tenant] = energy_data.library_for(conn, tenant, period.start, period.end)
    meters = [m for m in b.meters if m.is_energy]
    values = energy_data.period_values(conn, meters, period.start, period.end)
    flows, meter_rows = [], []
    for m in meters:
        lib = libraries[m.tenant_id]
        coef = lib.coefficient(m.carrier)
        per = None
        if coef is not None:
            try:
                per = coef.per(m.unit)
            except units.UnitError:
                per = None
        pv = values[m.id]
        lineage = None
        if per is not None:
            lineage = {"carrier": m.carrier, "kgce_per_unit": per, "unit": m.unit,
                       **{k: v for k, v in coef.lineage().items()
                          if k not in ("kgce_per_unit", "unit")},
                       "coefficient_unit": coef.unit,
                       "coefficient_kgce_per_unit": coef.kgce_per_unit}
        flows.append(bal.MeteredFlow(
            meter=m.code, carrier=m.carrier, category=m.category, unit=m.unit,
            quantity=pv.value, source=m.flow_from, target=m.flow_to, kgce_per_unit=per,
            coefficient=lineage, coverage=pv.coverage, energy_use=m.energy_use,
            meter_id=m.id, level=m.level))
        meter_rows.append({"meter": m.code, "meter_id": m.id, "carrier": m.carrier,
                           "role": m.role, "level": m.level, "quantity": pv.value,
                           "unit": m.unit, "coverage": round(pv.coverage, 6),
                           "kgce_per_unit": per})
    return Network(b, period, _tree_nodes(conn, b), flows, _carriers(conn), libraries, ne,
                   ne_error, meter_rows)


def _head(net: Network) -> dict:
    b = net.boundary
    return {"node": b.code, "node_id": b.node_id, "name_zh": b.name_zh, "name_en": b.name_en,
            "kind": b.kind, "period": net.period.as_dict()}


def balance(conn: Connection, node_id: int, period: Period) -> dict:
    """The energy balance table of a node (GB/T 28751 structure) with its identities and the
    reconciliation with the node's comprehensive energy consumption (GB/T 2589)."""
    net = network(conn, node_id, period)
    table = bal.build_balance(node_id, net.nodes, net.flows, net.carriers)
    out = table.as_dict()
    out.update(_head(net))
    out["reconciliation"] = _reconcile(table.figures, net)
    rec = out["reconciliation"]
    if rec["difference_tce"] is not None:
        out["checks"].append(bal._check("reconciliation", "reconciliation",
                                        rec["balance_total_tce"], rec["node_energy_total_tce"]))
    out["lineage"]["meters"] = net.meters
    out["lineage"]["period"] = period.as_dict()
    out["lineage"]["boundary"] = ("meters whose flow edge touches the subtree "
                                  "(energy_data.boundary); energy carriers only")
    return out


def _reconcile(fig: dict, net: Network) -> dict:
    """What the table's purchase stage says about comprehensive energy consumption, against
    :func:`energy_data.node_energy` (GB/T 2589-2020 clause 4)."""
    ne_total = net.node_energy.totals.total_tce if net.node_energy is not None else None
    mine = fig["balance_total_tce"]
    diff = None if mine is None or ne_total is None else mine - ne_total
    params = {k: round(v or 0.0, 3) for k, v in fig.items() if k.endswith("_tce")}
    out = {
        "node_energy_total_tce": ne_total,
        "balance_total_tce": mine,
        "difference_tce": diff,
        "purchased_tce": fig["purchased_tce"],
        "feedstock_tce": fig["feedstock_tce"],
        "exported_tce": fig["exported_tce"],
        "renewable_generated_tce": fig["renewable_generated_tce"],
        "recovered_tce": fig["recovered_tce"],
        "formula": "total_tce = purchased (fuel) − exported + on-site renewable generated; "
                   "feedstock and recovered energy are not part of it",
        "statement": both("eflow.reconcile.statement", **params),
        "unit": "tce",
    }
    if net.node_energy_error:
        out["not_assessable"] = net.node_energy_error
        out["statement"] = both("eflow.reconcile.not_assessable")
    elif diff is not None and abs(diff) > bal.TOLERANCE * max(1.0, abs(ne_total)):
        out["difference_statement"] = both("eflow.reconcile.difference",
                                           difference=round(diff, 3))
    return out


def check_sankey_params(depth: int | None, unit: str | None) -> tuple[int, str]:
    issues = []
    d = DEFAULT_DEPTH if depth is None else depth
    if not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= snk.MAX_DEPTH:
        issues.append(Issue("rule.eflow_depth", field="depth", value=depth,
                            params={"max": snk.MAX_DEPTH}))
    u = unit or "tce"
    if u not in UNITS:
        issues.append(Issue("rule.eflow_unit", field="unit", value=unit,
                            params={"choices": ", ".join(UNITS)}))
    if issues:
        raise InputError(issues)
    return d, u


def sankey(conn: Connection, node_id: int, period: Period, depth: int | None = DEFAULT_DEPTH,
           unit: str | None = "tce") -> dict:
    """Sankey nodes and links of a node down to ``depth`` tree levels, values in tce or in
    each carrier's physical unit."""
    depth, unit = check_sankey_params(depth, unit)
    net = network(conn, node_id, period)
    s = snk.build_sankey(node_id, net.nodes, net.flows, net.carriers, depth, unit)
    out = s.as_dict()
    out.update(_head(net))
    out["lineage"]["meters"] = net.meters
    out["lineage"]["period"] = period.as_dict()
    out["lineage"]["coefficients"] = {f.carrier: f.coefficient for f in net.flows
                                      if f.coefficient is not None}
    return out


def workbook(conn: Connection, node_id: int, period: Period, lang: str | None = None) -> bytes:
    """The balance table as an Excel workbook (zh-CN or en)."""
    from nengtan.reports import balance_table

    return balance_table.workbook(balance(conn, node_id, period), lang)
