"""Shipped reference datasets (read-only): coefficients, factors, GWPs, benchmarks."""

from __future__ import annotations

from fastapi import APIRouter

from nengtan import reference
from nengtan.api import models
from nengtan.api.schemas import ERRORS
from nengtan.errors import NotFound

router = APIRouter(prefix="/api/reference", tags=["reference data / 参考数据"], responses=ERRORS)


def _info(name: str) -> dict:
    rows = reference.rows(name)
    return {"name": name, "title": reference.DATASETS[name],
            "version": reference.DATASET_VERSION, "rows": len(rows),
            "columns": list(rows[0].keys()) if rows else [], "sha256": reference.sha256(name)}


@router.get("", response_model=list[models.DatasetInfo], summary="Reference datasets / 参考数据集")
def list_datasets():
    """The datasets shipped with nengtan, their version and content hash."""
    return [_info(name) for name in reference.DATASETS]


@router.get("/{name}", response_model=models.Dataset, summary="Get a dataset / 查询参考数据集")
def get_dataset(name: str):
    """Every row of one dataset as shipped, each with its ``source`` and ``status``
    (``verified``: read in the primary document; ``unverified``: secondary sources only)."""
    if name not in reference.DATASETS:
        raise NotFound("reference dataset", name)
    return {**_info(name), "data": list(reference.rows(name))}
