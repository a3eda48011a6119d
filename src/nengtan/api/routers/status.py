"""What the database holds: counts and the time span of the readings."""

from __future__ import annotations

from fastapi import APIRouter

from nengtan.api import models, tenancy
from nengtan.api.deps import SessionDep
from nengtan.services import query

router = APIRouter(tags=["status / 运行状态"])


@router.get("/api/status", response_model=models.Status, summary="Status / 运行状态")
def status(session: SessionDep):
    """Nodes, meters and readings stored, first and last reading (UTC), database kind and
    nengtan version — of the installation for park-wide and administrator users, of the
    caller's enterprises for the others."""
    return query.status(session.connection(), tenancy.tenants(session))
