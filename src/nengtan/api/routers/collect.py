"""collection / 数据采集"""

from __future__ import annotations

from fastapi import APIRouter

from nengtan.api.schemas import ERRORS

router = APIRouter(tags=["collection / 数据采集"], responses=ERRORS)
