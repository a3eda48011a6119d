"""Tenant isolation on every query of a request.

The request's session carries the caller's :class:`~nengtan.security.principal.Principal`
(``session.info["principal"]``); a ``do_orm_execute`` hook adds criteria to every ORM SELECT
(including ``Session.get`` and relationship loads) so that rows of other tenants do not exist
for that request: a list shows only the caller's objects and an id of another tenant's object
answers 404 exactly like an id that was never used (GB/T 22239-2019 8.1.4.2 访问控制 at the
level of data objects).

* tables with ``tenant_id`` — the row's tenant must be visible; where ``tenant_id`` may be
  empty (installation-wide factor datasets and energy parameters) an empty tenant is shared;
  evidence files without a tenant are visible only with a park-wide grant;
* tables with a ``node_id`` or ``park_id`` and no tenant — the node's tenant must be visible;
* a verifier (``principal.inventory_ids``) sees only the named inventories and their sources
  and versions.

Core statements run on ``session.connection()`` bypass the hook: services use them only with
ids that came from a filtered lookup (``tests/api/test_permissions.py`` checks every endpoint
for leaks with the other tenant's ids and codes).
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import event, or_, select
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from nengtan.errors import InputError, Issue
from nengtan.security.principal import Principal
from nengtan.store.base import Base
from nengtan.store.models import Node
from nengtan.store.models.manual import AuditRecord, EvidenceFile

#: tables whose rows are not tenant data (the audit log is read by the auditor only, and per
#: manual entry through the entry, which is itself filtered)
_EXEMPT = {AuditRecord}
#: tables where an empty tenant means "shared by the installation"
_SHARED_WHEN_EMPTY = {"factor_datasets", "energy_parameters"}
#: identity tables: reached only through the user administration endpoints
_NOT_TENANT_DATA = {"users", "role_grants", "auth_sessions"}


def _mapped_classes() -> list[type]:
    return [m.class_ for m in Base.registry.mappers]


def _criteria(principal: Principal, perm: str | None) -> tuple:
    """Loader criteria for every tenant-owned table, for the tenants where ``principal``
    holds ``perm`` (and a verifier's inventories)."""
    visible = principal.tenants_for(perm)
    return _criteria_for(
        None if visible is None else tuple(sorted(visible)),
        None if principal.inventory_ids is None else tuple(sorted(principal.inventory_ids)),
        bool(principal.root_scope))


@lru_cache(maxsize=512)
def _criteria_for(tenants: tuple[int, ...] | None, inventories: tuple[int, ...] | None,
                  root_scope: bool) -> tuple:
    """The criteria of :func:`_criteria`, made once per distinct scope: they are plain
    expressions with the values in them (not lambdas, whose values a statement cache could
    take from another caller), immutable, and the same for every caller with that scope."""
    if tenants is None:
        return () if inventories is None else tuple(_inventory_criteria(list(inventories)))
    visible_nodes = select(Node.id).where(Node.tenant_id.in_(tenants)).scalar_subquery()
    pairs = []
    for cls in _mapped_classes():
        table = cls.__table__
        cols = table.c
        if cls in _EXEMPT or table.name in _NOT_TENANT_DATA:
            continue
        if "tenant_id" in cols:
            shared = (table.name in _SHARED_WHEN_EMPTY
                      or (cls is EvidenceFile and root_scope))
            where = cls.tenant_id.in_(tenants)
            pairs.append((cls, or_(where, cls.tenant_id.is_(None)) if shared else where))
        elif cls is not Node and ("node_id" in cols or "park_id" in cols):
            col = getattr(cls, "park_id" if "park_id" in cols else "node_id")
            pairs.append((cls, or_(col.in_(visible_nodes), col.is_(None))))
    out = [with_loader_criteria(cls, where, include_aliases=True) for cls, where in pairs]
    return tuple(out + ([] if inventories is None else _inventory_criteria(list(inventories))))


def _inventory_criteria(inventories: list[int]) -> list:
    """A verifier's limit: the named inventories and what belongs to them."""
    out = []
    for cls in _mapped_classes():
        table = cls.__table__
        if table.name == "inventories":
            out.append(with_loader_criteria(cls, cls.id.in_(inventories), include_aliases=True))
        elif "inventory_id" in table.c and table.name not in _NOT_TENANT_DATA:
            out.append(with_loader_criteria(cls, cls.inventory_id.in_(inventories),
                                            include_aliases=True))
    return out


def _filter(state: ORMExecuteState) -> None:
    principal = state.session.info.get("principal")
    if principal is None or not state.is_select:
        return
    options = state.session.info.get("tenant_criteria")
    if options is None:
        options = state.session.info["tenant_criteria"] = _criteria(
            principal, state.session.info.get("permission"))
    if options:
        state.statement = state.statement.options(*options)


def bind(session: Session, principal: Principal | None, permission: str | None = None) -> None:
    """Filter every ORM query of ``session`` to the tenants where ``principal`` holds
    ``permission`` (the one the endpoint needs: a change sees only the tenants the user may
    change, so an object readable but not writable answers 404 to a write).  ``principal``
    None: no filter — the CLI, the demo builder and background jobs act for the installation."""
    session.info["principal"] = principal
    session.info["permission"] = permission if permission and "." in permission else None
    session.info.pop("tenant_criteria", None)


event.listen(Session, "do_orm_execute", _filter)


def hidden(session: Session, model, ids) -> set[int]:
    """Those of ``ids`` (of ``model``) the session's caller may not reach — for services that
    resolved codes or ids with Core statements, which the ORM filter does not see."""
    ids = {int(i) for i in ids}
    if not ids or session.info.get("principal") is None:
        return set()
    seen = set(session.scalars(select(model.id).where(model.id.in_(sorted(ids)))))
    return ids - seen


def refuse_hidden(session: Session, model, ids, *, field: str) -> None:
    """Answer objects of other tenants named in a request body exactly like unknown codes
    (``rule.ref_unknown`` on ``field``); raised before or after the service ran, the request's
    transaction is rolled back, so nothing is applied."""
    foreign = hidden(session, model, ids)
    if not foreign:
        return
    codes = session.connection().execute(
        select(model.code).where(model.id.in_(sorted(foreign)))).scalars()
    ref = model.__tablename__.removesuffix("s").removeprefix("cems_")
    raise InputError([Issue("rule.ref_unknown", field=field, value=code, params={"ref": ref})
                      for code in sorted(codes)])


def tenants(session: Session) -> frozenset[int] | None:
    """The tenants this request's queries are limited to (None: no limit), for services that
    read with Core statements and take the limit as a filter."""
    principal = session.info.get("principal")
    if principal is None:
        return None
    return principal.tenants_for(session.info.get("permission"))
