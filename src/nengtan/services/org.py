"""The organisation tree: create, change, move and delete typed nodes.

One table of nodes with a ``kind``; the allowed parent kinds are in
:data:`nengtan.store.models.NODE_KINDS`.  Each node stores its materialised ``path`` of ids
and its ``tenant_id`` (the nearest enterprise, else the park, else the root), so that subtree
queries are a prefix match and every data row can carry its tenant.  Moving a node rewrites
the paths and tenants of its subtree and the tenant of every row that belongs to it.
"""

from __future__ import annotations


from sqlalchemy import func, select, text
from sqlalchemy import update as sql_update  # this module defines its own update()
from sqlalchemy.orm import Session

from nengtan.errors import InputError, Issue, NotFound
from nengtan.services.fields import FieldSpec, coerce_record
from nengtan.store.models import (
    NODE_KINDS,
    TENANT_KINDS,
    EconomicRecord,
    FuelDelivery,
    Meter,
    Node,
    ProductionRecord,
)
from nengtan.timeseries.calendar import check_timezone

NODE_FIELDS = [
    FieldSpec("code", "str", "编码", "code", required=True, max_length=64),
    FieldSpec("name_zh", "str", "名称", "name (Chinese)", required=True, max_length=200),
    FieldSpec("name_en", "str", "英文名称", "name (English)", max_length=200),
    FieldSpec("kind", "choice", "类型", "kind", required=True, choices=tuple(NODE_KINDS)),
    FieldSpec("parent", "str", "上级编码", "parent code", ref="node", max_length=64),
    FieldSpec("timezone", "str", "时区", "timezone", max_length=64,
              help_en="IANA zone such as Asia/Shanghai; empty inherits from the parent"),
    FieldSpec("region", "str", "地区", "region", max_length=40,
              help_en="province-level region code, e.g. shandong"),
    FieldSpec("industry_code", "str", "行业代码", "industry code", max_length=10,
              help_en="GB/T 4754 code"),
    FieldSpec("credit_code", "str", "统一社会信用代码", "unified social credit code", max_length=18),
    FieldSpec("address", "str", "地址", "address", max_length=300),
    FieldSpec("description", "str", "说明", "description"),
    FieldSpec("sort_order", "int", "排序", "sort order", default=0),
    FieldSpec("active", "bool", "启用", "active", default=True),
    FieldSpec("attributes", "json", "属性", "attributes",
              help_en="JSON object of node facts used by analyses, e.g. {\"roof_area_m2\": 12000, "
                      "\"power_factor\": 0.86, \"contracted_kva\": 2500, \"energy_stage\": "
                      "\"conversion\"}; see docs/energy-analysis.md and docs/energy-flow.md"),
]

#: Tables whose rows carry the tenant of a node (directly) or of a meter.
_NODE_TENANT_TABLES = ("production_records", "economic_records", "fuel_deliveries")
_METER_TENANT_TABLES = ("meter_events", "readings", "reading_revisions", "rollup_hour",
                        "rollup_day", "rollup_month", "gap_spans", "quality_events", "meter_tails")


def get(session: Session, node_id: int) -> Node:
    node = session.get(Node, node_id)
    if node is None:
        raise NotFound("node", node_id)
    return node


def by_code(session: Session, code: str) -> Node | None:
    return session.scalar(select(Node).where(Node.code == code))


def chain(node: Node) -> list[int]:
    return [int(x) for x in node.path.strip("/").split("/") if x]


def _tenant_for(session: Session, path_ids: list[int], kind: str, own_id: int | None) -> int | None:
    """Nearest ancestor-or-self of a tenant kind; else the root."""
    kinds = dict(session.execute(select(Node.id, Node.kind).where(Node.id.in_(path_ids))).all())
    if own_id is not None:
        kinds[own_id] = kind
    for nid in reversed(path_ids):
        if kinds.get(nid) == "enterprise":
            return nid
    for nid in reversed(path_ids):
        if kinds.get(nid) in TENANT_KINDS:
            return nid
    return path_ids[0] if path_ids else own_id


def _check(session: Session, data: dict, row: int | None, node: Node | None) -> Node | None:
    issues: list[Issue] = []
    parent = None
    if data.get("parent"):
        parent = by_code(session, data["parent"])
        if parent is None:
            issues.append(Issue("rule.ref_unknown", row=row, field="parent", value=data["parent"],
                                params={"ref": "node"}))
    kind = data.get("kind", node.kind if node else None)
    allowed = NODE_KINDS.get(kind, ())
    parent_kind = parent.kind if parent else None
    if kind and parent_kind not in allowed:
        issues.append(Issue("rule.parent_kind", row=row, field="parent",
                            value=data.get("parent"), params={
                                "kind": kind, "allowed": ", ".join(a or "-" for a in allowed)}))
    if node is not None and parent is not None and (parent.id == node.id or
                                                    parent.path.startswith(node.path)):
        issues.append(Issue("rule.cycle", row=row, field="parent", value=data.get("parent")))
    if node is not None and kind != node.kind:
        # a new kind must still be an allowed parent of every child
        for child_kind in set(session.scalars(select(Node.kind).where(Node.parent_id == node.id))):
            if kind not in NODE_KINDS[child_kind]:
                issues.append(Issue("rule.parent_kind", row=row, field="kind", value=kind, params={
                    "kind": child_kind,
                    "allowed": ", ".join(a or "-" for a in NODE_KINDS[child_kind])}))
    if data.get("timezone"):
        try:
            check_timezone(data["timezone"])
        except ValueError:
            issues.append(Issue("rule.timezone", row=row, field="timezone", value=data["timezone"]))
    attrs = data.get("attributes")
    if attrs is not None and not isinstance(attrs, dict):
        issues.append(Issue("rule.type_object", row=row, field="attributes",
                            value=str(attrs)[:80]))
    code = data.get("code")
    if code and (node is None or code != node.code):
        other = by_code(session, code)
        if other is not None:
            issues.append(Issue("rule.duplicate", row=row, field="code", value=code))
    if issues:
        raise InputError(issues)
    return parent


def create(session: Session, payload: dict, row: int | None = None) -> Node:
    data = coerce_record(NODE_FIELDS, payload, row)
    parent = _check(session, data, row, None)
    node = Node(**{k: v for k, v in data.items() if k != "parent"})
    node.parent_id = parent.id if parent else None
    session.add(node)
    session.flush()
    _place(session, node, parent)
    return node


def _place(session: Session, node: Node, parent: Node | None) -> None:
    node.path = (parent.path if parent else "/") + f"{node.id}/"
    node.depth = 0 if parent is None else parent.depth + 1
    node.tenant_id = _tenant_for(session, chain(node), node.kind, node.id)
    session.flush()


def update(session: Session, node_id: int, payload: dict, row: int | None = None) -> Node:
    node = get(session, node_id)
    data = coerce_record(NODE_FIELDS, payload, row, partial=True)
    old_parent, old_kind = _parent_code(session, node), node.kind
    merged = {"kind": old_kind, "parent": old_parent, **data}
    parent = _check(session, merged, row, node)
    for key, value in data.items():
        if key != "parent":
            setattr(node, key, value)
    if merged["parent"] != old_parent or node.kind != old_kind:
        node.parent_id = parent.id if parent else None
        _relocate(session, node, parent)
    session.flush()
    return node


def _parent_code(session: Session, node: Node) -> str | None:
    if node.parent_id is None:
        return None
    return session.scalar(select(Node.code).where(Node.id == node.parent_id))


def _relocate(session: Session, node: Node, parent: Node | None) -> None:
    """Re-derive path, depth and tenant for ``node`` and its subtree; carry tenants to rows."""
    old_path = node.path
    subtree = session.scalars(select(Node).where(Node.path.startswith(old_path))
                              .order_by(Node.depth)).all()
    new_prefix = (parent.path if parent else "/") + f"{node.id}/"
    for n in subtree:
        n.path = new_prefix + n.path[len(old_path):]
        n.depth = len(chain(n)) - 1
    session.flush()
    for n in subtree:
        n.tenant_id = _tenant_for(session, chain(n), n.kind, n.id)
    session.flush()
    for n in subtree:
        for table in _NODE_TENANT_TABLES:
            session.execute(_retenant(table, "node_id", n.id, n.tenant_id))
        meter_ids = session.scalars(select(Meter.id).where(Meter.node_id == n.id)).all()
        session.execute(sql_update(Meter).where(Meter.node_id == n.id)
                        .values(tenant_id=n.tenant_id))
        for mid in meter_ids:
            retenant_meter(session, mid, n.tenant_id)


def _retenant(table: str, key: str, key_value: int, tenant_id: int):
    return text(f"UPDATE {table} SET tenant_id = :t WHERE {key} = :k").bindparams(
        t=tenant_id, k=key_value)


def retenant_meter(session: Session, meter_id: int, tenant_id: int) -> None:
    """Give every row that belongs to a meter the meter's (new) tenant."""
    for table in _METER_TENANT_TABLES:
        session.execute(_retenant(table, "meter_id", meter_id, tenant_id))


def delete(session: Session, node_id: int) -> None:
    """Delete a node that has no children and nothing attached (else 422 naming what)."""
    node = get(session, node_id)
    issues = []
    if session.scalar(select(func.count()).select_from(Node).where(Node.parent_id == node.id)):
        issues.append(Issue("rule.has_children", field="id", value=node.code))
    if session.scalar(select(func.count()).select_from(Meter).where(
            (Meter.node_id == node.id) | (Meter.flow_from_node_id == node.id)
            | (Meter.flow_to_node_id == node.id))):
        issues.append(Issue("rule.has_meters", field="id", value=node.code))
    for model in (ProductionRecord, EconomicRecord, FuelDelivery):
        if session.scalar(select(func.count()).select_from(model).where(model.node_id == node.id)):
            issues.append(Issue("rule.has_records", field="id", value=node.code,
                                params={"table": model.__tablename__}))
    if issues:
        raise InputError(issues)
    session.delete(node)
    session.flush()


def subtree_ids(session: Session, node: Node) -> list[int]:
    return list(session.scalars(select(Node.id).where(Node.path.startswith(node.path))))


def as_dict(session: Session, node: Node, parent_codes: dict[int, str] | None = None) -> dict:
    if parent_codes is not None:
        parent = parent_codes.get(node.parent_id) if node.parent_id else None
    else:
        parent = _parent_code(session, node)
    return {
        "id": node.id, "code": node.code, "name_zh": node.name_zh, "name_en": node.name_en,
        "kind": node.kind, "parent": parent, "parent_id": node.parent_id,
        "tenant_id": node.tenant_id, "path": node.path, "depth": node.depth,
        "timezone": node.timezone, "region": node.region, "industry_code": node.industry_code,
        "credit_code": node.credit_code, "address": node.address,
        "description": node.description, "sort_order": node.sort_order, "active": node.active,
        "attributes": node.attributes,
    }
