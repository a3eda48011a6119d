"""The role of a metered flow edge relative to a set of nodes (pure).

A node's energy is what crosses the boundary of its subtree; a meter's flow edge
(``flow_from → flow_to``, None = outside the model) tells how:

* ``in`` — into the set from outside it (purchases, supplies from other units);
* ``out`` — from the set to outside it (exports, supplies to others);
* ``generated`` — renewable electricity between two nodes of the set: it flows only out of
  generating plant, so it was produced inside and used inside;
* ``internal`` — any other flow between nodes of the set (not part of the set's figure).
"""

from __future__ import annotations


def role(flow_from: int | None, flow_to: int | None, nodes: frozenset[int],
         category: str | None = None) -> str:
    src_in = flow_from is not None and flow_from in nodes
    dst_in = flow_to is not None and flow_to in nodes
    if dst_in and not src_in:
        return "in"
    if src_in and not dst_in:
        return "out"
    if src_in and dst_in and category == "renewable_electricity":
        return "generated"
    return "internal"
