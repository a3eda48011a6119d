"""Products and their standard-product coefficients (标准品折算系数)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from nengtan.api import models, records
from nengtan.api.deps import PagingDep, SessionDep
from nengtan.api.schemas import ERRORS, payload
from nengtan.services import production
from nengtan.store.models import Product

router = APIRouter(prefix="/api/products", tags=["products / 产品"], responses=ERRORS)


@router.get("", response_model=models.ProductPage, summary="List products / 产品列表")
def list_products(session: SessionDep, paging: PagingDep,
                  sector: str | None = Query(None, description="sector / 行业")):
    """Products ordered by code."""
    query = select(Product)
    if sector:
        query = query.where(Product.sector == sector)
    rows, total = paging.page(session, query.order_by(Product.code))
    return paging.answer([records.product(p) for p in rows], total)


@router.get("/{product_id}", response_model=models.Product, summary="Get a product / 查询产品")
def get_product(product_id: int, session: SessionDep):
    """One product."""
    return records.product(production.get(session, Product, product_id))


@router.post("", response_model=models.Product, status_code=201,
             summary="Create a product / 新建产品")
def create_product(body: models.ProductIn, session: SessionDep):
    """Create a product; its code must be new."""
    return records.product(production.create_product(session, payload(body)))


@router.patch("/{product_id}", response_model=models.Product,
              summary="Change a product / 修改产品")
def update_product(product_id: int, body: models.ProductPatch, session: SessionDep):
    """Change fields of a product.  A new unit must convert from the units its production
    records were entered in."""
    return records.product(production.update_product(session, product_id, payload(body)))


@router.delete("/{product_id}", status_code=204, response_class=Response,
               summary="Delete a product / 删除产品")
def delete_product(product_id: int, session: SessionDep) -> Response:
    """Delete a product that no production record uses."""
    production.delete_product(session, product_id)
    return Response(status_code=204)
