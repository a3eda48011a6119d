"""Which permission each API endpoint needs.

One table for the whole API, read by :func:`nengtan.api.auth.authorize` on every request:
``RULES`` maps a path prefix to the permission for reading (GET) and for changing (any other
method); ``OVERRIDES`` names the endpoints that differ from their prefix (approving a manual
entry needs ``data.approve``, a batch calculation is a read ...).  Longest prefix wins.  A route
that matches nothing is refused (403), and ``tests/api/test_permissions.py`` fails on any route
without a rule, so a new endpoint cannot ship unprotected.

A permission written ``a|b`` is satisfied by either.  Object scope is not decided here: :mod:`nengtan.api.tenancy` filters every query of the
request's session to the caller's tenants, so objects of other tenants are simply not found
(404).  ``PUBLIC`` endpoints need no login; ``ANY`` means any logged-in user.  ``SHARED_WRITES``
change catalogues every tenant reads (carriers, the benchmark library, factor datasets without
a tenant); they need the permission on a whole park (a root of the tree).
"""

from __future__ import annotations

from dataclasses import dataclass

PUBLIC = "public"
ANY = "any"


@dataclass(frozen=True)
class Rule:
    read: str
    write: str
    #: GET answers that are files or bulk data leaving the system: audited like writes
    export: bool = False


RULES: dict[str, Rule] = {
    "/api/auth/": Rule(ANY, ANY),
    "/api/status": Rule(ANY, ANY),
    "/api/reference": Rule(ANY, ANY),
    "/api/users": Rule("users.admin", "users.admin"),
    "/api/roles": Rule(ANY, ANY),
    "/api/grants": Rule("roles.admin", "roles.admin"),
    "/api/audit-log": Rule("audit.read", "audit.read"),
    "/api/dashboard": Rule("energy.read", "energy.read"),
    "/api/nodes": Rule("org.read", "org.write"),
    "/api/carriers": Rule("org.read", "org.write"),
    "/api/meters": Rule("org.read", "org.write"),
    "/api/meter-events": Rule("org.read", "org.write"),
    "/api/readings": Rule("data.read", "data.submit"),
    "/api/quality-events": Rule("data.read", "quality.write"),
    "/api/ingest-batches": Rule("data.read", "data.submit"),
    "/api/tariffs": Rule("org.read", "org.write"),
    "/api/products": Rule("org.read", "org.write"),
    "/api/production": Rule("org.read", "org.write"),
    "/api/economics": Rule("org.read", "org.write"),
    "/api/fuel-deliveries": Rule("data.read", "data.submit"),
    "/api/import": Rule("org.write", "org.write"),
    "/api/export/": Rule("org.read", "org.read", export=True),
    "/api/dead-letters": Rule("collect.admin", "collect.admin"),
    "/api/collector-events": Rule("collect.admin", "collect.admin"),
    "/api/collect-cursors": Rule("collect.admin", "collect.admin"),
    "/api/manual-entries": Rule("data.read", "data.submit"),
    "/api/evidence": Rule("data.read", "data.submit"),
    "/api/cems": Rule("data.read", "data.submit"),
    "/api/quality": Rule("data.read", "quality.write"),
    "/api/energy/": Rule("energy.read", "energy.write"),
    "/api/efficiency-indicators": Rule("energy.read", "energy.write"),
    "/api/benchmarks": Rule("energy.read", "energy.write"),
    "/api/metering": Rule("energy.read", "energy.write"),
    "/api/reports/": Rule("energy.read", "energy.read", export=True),
    "/api/calc/energy": Rule("energy.read", "energy.read"),
    "/api/calc/carbon": Rule("carbon.read", "carbon.read"),
    "/api/factors": Rule("carbon.read", "carbon.write"),
    "/api/factor-datasets": Rule("carbon.read", "carbon.write"),
    "/api/gwp": Rule("carbon.read", "carbon.write"),
    "/api/ledger/": Rule("carbon.read", "carbon.write"),
    "/api/inventories": Rule("carbon.read", "carbon.write"),
    "/api/inventory-sources": Rule("carbon.read", "carbon.write"),
    "/api/carbon/": Rule("carbon.read", "carbon.write"),
}

#: (method, route path) → permission, where the prefix rule does not fit.
OVERRIDES: dict[tuple[str, str], str] = {
    ("POST", "/api/auth/token"): PUBLIC,
    ("POST", "/api/auth/password"): PUBLIC,  # also the way out of an expired password
    ("POST", "/api/manual-entries/{entry_id}/approve"): "data.approve",
    ("POST", "/api/manual-entries/{entry_id}/reject"): "data.approve",
    ("GET", "/api/users"): "users.admin|roles.admin",  # both administrators pick users
    ("GET", "/api/users/{username}/grants"): "roles.admin",
    ("POST", "/api/users/{username}/grants"): "roles.admin",
    ("POST", "/api/users/{username}/unlock"): "roles.admin",
    ("POST", "/api/cems/monitors"): "org.write",
    ("PATCH", "/api/cems/monitors/{monitor_id}"): "org.write",
    ("POST", "/api/quality/run"): "quality.write",
    ("GET", "/api/energy/balance.xlsx"): "energy.read",
    ("GET", "/api/reports/energy/data"): "energy.read",
}

#: GET endpoints outside an ``export`` prefix whose answer is a file leaving the system.
EXPORTS = {
    "/api/energy/balance.xlsx", "/api/evidence/{evidence_id}/content",
    "/api/dead-letters/{letter_id}/payload", "/api/carbon/reports/ghg",
    "/api/carbon/reports/ghg/park", "/api/carbon/verification-package",
}
NOT_EXPORTS = {"/api/reports/energy/data"}

#: Writes to catalogues shared by every tenant (carriers, products, tariffs, the benchmark
#: library, installation factor datasets, ledger checkpoints) and bulk file import/export,
#: whose rows may belong to any tenant: need the permission on a whole park.
SHARED_WRITES = {
    ("POST", "/api/carriers"), ("POST", "/api/benchmarks"), ("POST", "/api/factor-datasets"),
    ("POST", "/api/ledger/checkpoints"),
    ("POST", "/api/products"), ("PATCH", "/api/products/{product_id}"),
    ("DELETE", "/api/products/{product_id}"),
    ("POST", "/api/tariffs"), ("PUT", "/api/tariffs/{tariff_id}"),
    ("PATCH", "/api/tariffs/{tariff_id}"), ("DELETE", "/api/tariffs/{tariff_id}"),
    ("POST", "/api/import"),
}


#: Reads that span tenants.  The installation-wide evidence ledger's individual entries: their
#: labels name meters and records of every tenant, so they need a park-wide grant.  Everyone with
#: ``carbon.read`` may verify the ledger and see checkpoints; a verifier gets the proofs of
#: their inventory inside its verification package.
ROOT_READS = {
    ("GET", "/api/ledger/entries"), ("GET", "/api/ledger/entries/{entry_id}/proof"),
    ("GET", "/api/ledger/consistency"),
    # upload batches carry no tenant (one batch may hold readings of several tenants)
    ("GET", "/api/ingest-batches"),
}


def needs_root(method: str, path: str) -> bool:
    return (method.upper(), path) in SHARED_WRITES | ROOT_READS


def rule_for(path: str) -> Rule | None:
    best = None
    for prefix, rule in RULES.items():
        if path.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, rule)
    return best[1] if best else None


def permission(method: str, path: str) -> str | None:
    """The permission ``method path`` (a route template) needs; None: no rule (refused)."""
    method = method.upper()
    if (method, path) in OVERRIDES:
        return OVERRIDES[(method, path)]
    rule = rule_for(path)
    if rule is None:
        return None
    return rule.read if method in ("GET", "HEAD") else rule.write


def is_export(method: str, path: str) -> bool:
    if method.upper() not in ("GET", "HEAD") or path in NOT_EXPORTS:
        return False
    rule = rule_for(path)
    return path in EXPORTS or bool(rule and rule.export)
