"""GB 17167-2006 metering compliance of enterprises and parks: loads the tree and the meters,
runs :func:`nengtan.energy.metering.assess` per energy-using unit.

Units assessed for a node:

* an enterprise (or a site, workshop ... asked for directly): its subtree;
* a park: each enterprise under it, and the park itself as the unit that owns the public
  facilities (its subtree without the enterprises' subtrees): the supply from the park
  substation to the tenants is then the park's level-1 ``out`` points.

Requirements (Table 3 rates, Table 1/2 limits) come from the shipped dataset
``gb17167_requirements`` (status ``unverified`` until checked against the text).
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Connection, or_, select
from sqlalchemy.orm import Session

from nengtan import reference
from nengtan.energy import metering
from nengtan.errors import InputError, Issue, NotFound
from nengtan.i18n import t
from nengtan.store.models import Carrier, Meter, Node


@lru_cache(maxsize=1)
def requirements() -> metering.Requirements:
    return metering.requirements_from_rows(list(reference.rows("gb17167_requirements")))


def _nodes(conn: Connection, path: str) -> list:
    return conn.execute(select(Node.id, Node.code, Node.kind, Node.parent_id, Node.name_zh,
                               Node.name_en, Node.attributes, Node.path, Node.active)
                        .where(Node.path.startswith(path)).order_by(Node.path)).all()


def _unit_node(r) -> metering.UnitNode:
    return metering.UnitNode(r.id, r.code, r.kind, r.parent_id, r.name_zh, r.name_en,
                             r.attributes if isinstance(r.attributes, dict) else None)


def _meters(conn: Connection, ids: list[int]) -> list[metering.MeterPoint]:
    rows = conn.execute(
        select(Meter.id, Meter.code, Meter.name_zh, Meter.node_id, Meter.carrier_code,
               Meter.kind, Meter.level, Meter.flow_from_node_id, Meter.flow_to_node_id,
               Carrier.category)
        .join(Carrier, Carrier.code == Meter.carrier_code)
        .where(Meter.active.is_(True),
               or_(Meter.node_id.in_(ids), Meter.flow_from_node_id.in_(ids),
                   Meter.flow_to_node_id.in_(ids)))
        .order_by(Meter.code)).all()
    return [metering.MeterPoint(r.id, r.code, r.node_id, r.carrier_code, r.category, r.kind,
                                r.level, r.flow_from_node_id, r.flow_to_node_id, r.name_zh)
            for r in rows]


def units_of(conn: Connection, node_id: int) -> list[tuple[metering.UnitNode, list]]:
    """(unit, node rows of the unit) for a node: see the module docstring."""
    root = conn.execute(select(Node.id, Node.path, Node.kind).where(Node.id == node_id)).first()
    if root is None:
        raise NotFound("node", node_id)
    rows = [r for r in _nodes(conn, root.path) if r.active or r.id == root.id]
    if root.kind != "park":
        return [(_unit_node(rows[0]), rows)]
    enterprises = [r for r in rows if r.kind == "enterprise"]
    out = []
    taken: set[int] = set()
    for ent in enterprises:
        members = [r for r in rows if r.path.startswith(ent.path)]
        taken |= {r.id for r in members}
        out.append((_unit_node(ent), members))
    park_rows = [r for r in rows if r.id not in taken]
    out.insert(0, (_unit_node(park_rows[0]), park_rows))
    return out


def compliance(conn: Connection, node_id: int) -> dict:
    """Equipping rates per level and carrier group, gaps and unplaced level-3 meters, for
    every energy-using unit of ``node_id``."""
    reqs = requirements()
    names = {r.code: (r.name_zh, r.name_en)
             for r in conn.execute(select(Carrier.code, Carrier.name_zh, Carrier.name_en))}
    reports = []
    for unit, rows in units_of(conn, node_id):
        nodes = [_unit_node(r) for r in rows]
        meters = _meters(conn, [n.id for n in nodes])
        result = metering.assess(unit, nodes, meters, reqs).as_dict()
        codes = {n.id: n.code for n in nodes}
        for m in result["meters_without_flow_edge"]:
            m["node"] = codes.get(m["node_id"])
        for gap in result["gaps"]:
            zh, en = names.get(gap["carrier"], (gap["carrier"], gap["carrier"]))
            gap["message"] = t(gap["rule"], "en", carrier=en, node=gap["node"])
            gap["message_zh"] = t(gap["rule"], "zh-CN", carrier=zh, node=gap["node"])
        reports.append(result)
    verdicts = [r["pass"] for r in reports if r["pass"] is not None]
    root = conn.execute(select(Node.code, Node.kind).where(Node.id == node_id)).first()
    return {
        "node": root.code, "node_id": node_id, "kind": root.kind,
        "pass": all(verdicts) if verdicts else None,
        "units": reports,
        "summary": [{"unit": r["unit"]["node"], "pass": r["pass"], "gaps": len(r["gaps"]),
                     "levels": {str(lv["level"]): {
                         "required": lv["required"], "metered": lv["metered"],
                         "pass": lv["pass"]} for lv in r["levels"]}} for r in reports],
    }


DESIGNATION_KEYS = ("main", "carriers")


def set_designation(session: Session, node_id: int, payload: dict) -> dict:
    """Set ``Node.attributes["gb17167"]``: ``main`` (true/false/null = by the rules) and
    ``carriers`` (list of carrier codes the node uses, null = from its meters)."""
    node = session.get(Node, node_id)
    if node is None:
        raise NotFound("node", node_id)
    issues = [Issue("rule.unknown_field", field=k) for k in payload if k not in DESIGNATION_KEYS]
    main = payload.get("main")
    if main is not None and not isinstance(main, bool):
        issues.append(Issue("rule.type_bool", field="main", value=main))
    carriers = payload.get("carriers")
    if carriers is not None:
        if not isinstance(carriers, list) or not all(isinstance(c, str) for c in carriers):
            issues.append(Issue("rule.type_list", field="carriers"))
        else:
            known = set(session.scalars(select(Carrier.code).where(Carrier.code.in_(carriers))))
            issues += [Issue("rule.ref_unknown", row=i, field="carriers", value=c,
                             params={"ref": "carrier"})
                       for i, c in enumerate(carriers) if c not in known]
    if issues:
        raise InputError(issues)
    attrs = dict(node.attributes or {})
    designation = dict(attrs.get("gb17167") or {})
    for key in DESIGNATION_KEYS:
        if key in payload:
            if payload[key] is None:
                designation.pop(key, None)
            else:
                designation[key] = payload[key]
    if designation:
        attrs["gb17167"] = designation
    else:
        attrs.pop("gb17167", None)
    node.attributes = attrs
    session.flush()
    return {"node": node.code, "node_id": node.id, "gb17167": designation}
