"""Metering compliance (GB 17167): equipping rates and gaps."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from nengtan.api.deps import SessionDep
from nengtan.api.params import resolve
from nengtan.api.schemas import ERRORS, OPEN
from nengtan.errors import NotFound
from nengtan.services import metering_compliance as mc
from nengtan.store.models import Node

router = APIRouter(tags=["Metering compliance / 计量器具配备"], responses=ERRORS)


class UnitReport(BaseModel):
    """One energy-using unit."""

    model_config = OPEN
    unit: dict[str, Any]
    pass_: bool | None = Field(alias="pass", description="every rated group meets Table 3 "
                                                        "(null: nothing rated)")
    levels: list[dict[str, Any]] = Field(description="per level 1-3: groups with required and "
                                                     "metered points, rate_pct (%), "
                                                     "requirement_pct (%), pass")
    gaps: list[dict[str, Any]] = Field(description="required points without a meter: node, "
                                                   "carrier, level, direction, rule")
    points: list[dict[str, Any]]
    meters_without_flow_edge: list[dict[str, Any]] = Field(
        description="level-3 meters with no flow edge (cannot be placed in the energy flow)")
    virtual_only: list[dict[str, Any]]
    not_main: list[dict[str, Any]] = Field(description="level-2/3 nodes not counted as main")
    lineage: dict[str, Any]


class ComplianceOut(BaseModel):
    model_config = OPEN
    node: str
    node_id: int
    kind: str
    pass_: bool | None = Field(alias="pass")
    units: list[UnitReport]
    summary: list[dict[str, Any]]


class DesignationIn(BaseModel):
    """GB 17167 designation of a node; null returns a key to the automatic rule."""

    main: bool | None = Field(None, description="main secondary unit / main equipment or not "
                                                "(default: by kind and nameplate power)")
    carriers: list[str] | None = Field(None, description="carrier codes the node uses "
                                                         "(default: from its meters)")


class DesignationOut(BaseModel):
    model_config = OPEN
    node: str
    node_id: int
    gb17167: dict[str, Any]


@router.get("/api/metering/compliance", response_model=ComplianceOut, response_model_by_alias=True,
            summary="Metering compliance / 计量器具配备率")
def compliance(session: SessionDep,
               node: str = Query(description="enterprise or park code (a park: each "
                                             "enterprise and the park's own facilities) / "
                                             "节点编码")):
    """GB 17167-2006 equipping rate (配备率 = metered points / required points × 100 %) per
    level (1 进出用能单位, 2 主要次级用能单位, 3 主要用能设备) and carrier group against
    Table 3, with the list of gaps and of level-3 meters lacking a flow edge."""
    n = resolve(session, Node, node, "node", "node")
    return mc.compliance(session.connection(), n.id)


@router.put("/api/metering/nodes/{node}", response_model=DesignationOut,
            summary="Set a node's GB 17167 designation / 设置计量考核属性")
def set_designation(node: str, body: DesignationIn, session: SessionDep):
    """Mark a workshop/equipment node as main or not (e.g. a guard house below Table 1's
    limits) and/or declare the carriers it uses, for the compliance check."""
    nid = session.scalar(select(Node.id).where(Node.code == node))
    if nid is None:
        raise NotFound("node", node)
    return mc.set_designation(session, nid, body.model_dump(exclude_unset=True))
