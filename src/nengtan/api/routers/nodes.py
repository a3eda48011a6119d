"""The organisation tree: park → enterprise → site → workshop/process/line → equipment."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from nengtan.api import models
from nengtan.api.deps import PagingDep, SessionDep
from nengtan.api.params import resolve
from nengtan.api.records import codes
from nengtan.api.schemas import ERRORS, payload
from nengtan.services import org
from nengtan.store.models import NODE_KINDS, Node

router = APIRouter(prefix="/api/nodes", tags=["nodes / 组织节点"], responses=ERRORS)
NodeKind = Literal[tuple(NODE_KINDS)]  # type: ignore[valid-type]


def _answer(session, nodes: list[Node]) -> list[dict]:
    parents = codes(session, Node, [n.parent_id for n in nodes])
    return [org.as_dict(session, n, parents) for n in nodes]


@router.get("", response_model=models.NodePage, summary="List nodes / 节点列表")
def list_nodes(session: SessionDep, paging: PagingDep,
               kind: NodeKind | None = Query(None, description="node kind / 节点类型"),
               parent: str | None = Query(None, description="children of the node with this "
                                                            "code / 上级节点编码"),
               tenant_id: int | None = Query(None, description="nodes of this tenant"),
               active: bool | None = Query(None, description="only active or inactive nodes")):
    """Nodes matching the filters, ordered by depth, sort order and code."""
    query = select(Node)
    if kind:
        query = query.where(Node.kind == kind)
    if parent:
        query = query.where(Node.parent_id == resolve(session, Node, parent, "parent", "node").id)
    if tenant_id is not None:
        query = query.where(Node.tenant_id == tenant_id)
    if active is not None:
        query = query.where(Node.active == active)
    nodes, total = paging.page(session, query.order_by(Node.depth, Node.sort_order, Node.code))
    return paging.answer(_answer(session, nodes), total)


@router.get("/tree", response_model=list[models.NodeTree], summary="Node tree / 组织树")
def node_tree(session: SessionDep,
              root: str | None = Query(None, description="code of the subtree's root; "
                                                         "default: the whole forest")):
    """The organisation tree, nested: every root (or the given node) with its children."""
    query = select(Node)
    if root:
        query = query.where(Node.path.startswith(resolve(session, Node, root, "root", "node").path))
    nodes = list(session.scalars(query.order_by(Node.depth, Node.sort_order, Node.code)))
    entries = {n.id: {"id": n.id, "code": n.code, "name_zh": n.name_zh, "name_en": n.name_en,
                      "kind": n.kind, "active": n.active, "children": []} for n in nodes}
    top = []
    for n in nodes:  # parents come first: ordered by depth
        parent = entries.get(n.parent_id) if n.parent_id else None
        (parent["children"] if parent is not None else top).append(entries[n.id])
    return top


@router.get("/{node_id}", response_model=models.Node, summary="Get a node / 查询节点")
def get_node(node_id: int, session: SessionDep):
    """One node with its parent's code and id, tenant and path."""
    return org.as_dict(session, org.get(session, node_id))


@router.post("", response_model=models.Node, status_code=201, summary="Create a node / 新建节点")
def create_node(body: models.NodeIn, session: SessionDep):
    """Create a node under the parent given by code.  The kind must be allowed under the
    parent's kind (e.g. a workshop under a site); the code must be new."""
    return org.as_dict(session, org.create(session, payload(body)))


@router.patch("/{node_id}", response_model=models.Node, summary="Change a node / 修改节点")
def update_node(node_id: int, body: models.NodePatch, session: SessionDep):
    """Change fields of a node.  A new ``parent`` moves the node with its subtree and carries
    the new tenant to every row of data that belongs to them."""
    return org.as_dict(session, org.update(session, node_id, payload(body)))


@router.delete("/{node_id}", status_code=204, response_class=Response,
               summary="Delete a node / 删除节点")
def delete_node(node_id: int, session: SessionDep) -> Response:
    """Delete a node that has no children, meters or records (422 names what is attached)."""
    org.delete(session, node_id)
    return Response(status_code=204)
