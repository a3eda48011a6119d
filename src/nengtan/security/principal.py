"""Who is asking: :class:`Principal`, built per request from the user's valid grants."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    """An authenticated user with what they may do where.

    ``permissions_by_tenant`` maps each visible tenant id (the id of an enterprise or park node,
    :attr:`nengtan.store.models.Node.tenant_id`) to the permissions held there; ``everywhere``
    are business permissions held on the whole installation (a grant without a node: the
    operator of a single-park installation, who also creates the first park); ``global_perms``
    are the administration permissions, which need no tenant.  ``inventory_ids`` is not None for
    a user whose business access is limited to named inventories (a verifier).
    """

    user_id: int
    username: str
    display_name: str
    roles: frozenset[str]
    global_perms: frozenset[str] = frozenset()
    everywhere: frozenset[str] = frozenset()
    permissions_by_tenant: dict[int, frozenset[str]] = field(default_factory=dict)
    inventory_ids: frozenset[int] | None = None
    #: node ids at the top of each granted scope (park or enterprise), for pickers and defaults
    scope_node_ids: tuple[int, ...] = ()
    #: holds a grant on a root of the tree (a whole park): may change shared catalogues
    root_scope: bool = False
    session_kind: str = "session"  # "session" (login) or "api" (integration token)
    must_change_password: bool = False

    @property
    def permissions(self) -> frozenset[str]:
        """Every permission held anywhere."""
        out = set(self.global_perms) | self.everywhere
        for perms in self.permissions_by_tenant.values():
            out |= perms
        return frozenset(out)

    def can(self, perm: str) -> bool:
        return perm in self.permissions

    def can_in(self, perm: str, tenant_id: int | None) -> bool:
        """May the user do ``perm`` on an object of ``tenant_id``?  Objects without a tenant
        (shared reference data) need the permission anywhere."""
        if tenant_id is None or perm in self.everywhere:
            return self.can(perm)
        return perm in self.permissions_by_tenant.get(tenant_id, frozenset())

    def tenants_for(self, perm: str | None) -> frozenset[int] | None:
        """Tenants where ``perm`` is held (``None`` perm: any permission); None means every
        tenant of the installation."""
        if perm is None:
            return None if self.everywhere else frozenset(self.permissions_by_tenant)
        # administration (users, grants) names nodes of every tenant but reads no tenant data
        if perm in self.everywhere or perm in self.global_perms:
            return None
        return frozenset(t for t, perms in self.permissions_by_tenant.items() if perm in perms)

    @property
    def tenant_ids(self) -> frozenset[int] | None:
        """Tenants whose data the user may see at all (None: all)."""
        return self.tenants_for(None)
