"""Request dependencies: the database session (one transaction per request) and paging."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy import Engine, Select, event, func, select
from sqlalchemy.orm import Session

from nengtan.api import tenancy


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_session(request: Request) -> Iterator[Session]:
    """One session and one transaction per request: committed when the endpoint returns,
    rolled back if it raises (a rejected input leaves nothing behind).  Its queries see only
    the caller's tenants (:mod:`nengtan.api.tenancy`)."""
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        tenancy.bind(session, getattr(request.state, "principal", None),
                     getattr(request.state, "permission", None))
        session.info["created"] = created = []
        # Upserts answer 201 only when they inserted: remember what became persistent (strong
        # references, so that no other object can take a remembered one's place).
        event.listen(session, "pending_to_persistent", lambda _s, obj: created.append(obj))
        with session.begin():
            yield session


def was_created(session: Session, obj: object) -> bool:
    """Did this request insert ``obj`` (rather than update an existing row)?"""
    return any(o is obj for o in session.info.get("created", ()))


# scope="function": commit before the response is sent, so a client that got a 2xx can rely
# on the change being stored, and a failed commit is an error answer rather than a lost write.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
EngineDep = Annotated[Engine, Depends(get_engine)]


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int

    def page(self, session: Session, query: Select) -> tuple[list, int]:
        """Rows of ``query`` on this page and the total number matching it."""
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        rows = list(session.scalars(query.limit(self.limit).offset(self.offset)))
        return rows, int(total or 0)

    def answer(self, items: list, total: int) -> dict:
        return {"items": items, "total": total, "limit": self.limit, "offset": self.offset}


def paging(limit: Annotated[int, Query(ge=1, le=1000, description="page size / 每页条数")] = 100,
           offset: Annotated[int, Query(ge=0, description="objects to skip / 跳过条数")] = 0
           ) -> Paging:
    return Paging(limit, offset)


PagingDep = Annotated[Paging, Depends(paging)]
