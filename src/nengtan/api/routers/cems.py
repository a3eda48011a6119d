"""CEMS / 烟气在线监测"""

from __future__ import annotations

from fastapi import APIRouter

from nengtan.api.schemas import ERRORS

router = APIRouter(tags=["CEMS / 烟气在线监测"], responses=ERRORS)
