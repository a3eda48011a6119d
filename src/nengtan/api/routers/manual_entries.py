"""manual entry / 手工填报"""

from __future__ import annotations

from fastapi import APIRouter

from nengtan.api.schemas import ERRORS

router = APIRouter(tags=["manual entry / 手工填报"], responses=ERRORS)
