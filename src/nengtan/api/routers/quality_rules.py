"""quality rules / 数据质量规则"""

from __future__ import annotations

from fastapi import APIRouter

from nengtan.api.schemas import ERRORS

router = APIRouter(tags=["quality rules / 数据质量规则"], responses=ERRORS)
