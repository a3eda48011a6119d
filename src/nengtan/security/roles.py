"""Roles and permissions.

GB/T 22239-2019 (level 3) asks for the separation of the system, security and audit
administrators (三员分立, 8.1.4.2 访问控制 and 8.1.10.2 集中管控): :data:`ADMIN_ROLES` are held by
different people and by nobody who also holds a business role (:func:`conflicts`).

Business roles are granted on a node of the organisation tree (a park: every tenant below it;
an enterprise: that enterprise only); a verifier is granted on named inventories and for a
limited time.  Permissions are coarse verbs on capability areas; the API's route table
(:mod:`nengtan.api.policy`) names the permission each endpoint needs.
"""

from __future__ import annotations

#: Permissions (codes) with their meaning.
PERMISSIONS: dict[str, str] = {
    "org.read": "organisation tree, meters, carriers, tariffs, products, production records",
    "org.write": "change the tree, meters, events, tariffs, products, production, imports",
    "data.read": "readings, rollups, quality events, manual entries, evidence, CEMS",
    "data.submit": "enter readings and manual data, upload evidence (填报)",
    "data.approve": "approve or reject manual entries (审核)",
    "quality.write": "data-quality rules and findings",
    "energy.read": "energy totals, query, analysis, flows, benchmarks, reports",
    "energy.write": "energy parameters, efficiency indicators, benchmark entries and links",
    "carbon.read": "factors, inventories, ledger, GHG reports, verification packages",
    "carbon.write": "factor datasets, inventories (compute, lock), park items, checkpoints",
    "collect.admin": "collection administration: dead letters, collector events, cursors",
    "users.admin": "create, disable and reset users (system administrator)",
    "roles.admin": "grant and revoke roles, unlock users (security administrator)",
    "audit.read": "read and verify the audit log (auditor)",
}

_ALL_BUSINESS = ("org.read", "org.write", "data.read", "data.submit", "data.approve",
                 "quality.write", "energy.read", "energy.write", "carbon.read", "carbon.write")

#: Role code → permissions.
ROLES: dict[str, frozenset[str]] = {
    "system_admin": frozenset({"users.admin", "collect.admin"}),
    "security_admin": frozenset({"roles.admin"}),
    "auditor": frozenset({"audit.read"}),
    "park_manager": frozenset(_ALL_BUSINESS),
    "energy_manager": frozenset({"org.read", "org.write", "data.read", "data.submit",
                                 "data.approve", "quality.write", "energy.read",
                                 "energy.write", "carbon.read"}),
    "carbon_manager": frozenset({"org.read", "data.read", "data.submit", "data.approve",
                                 "energy.read", "carbon.read", "carbon.write"}),
    "data_clerk": frozenset({"org.read", "data.read", "data.submit"}),
    "verifier": frozenset({"org.read", "data.read", "carbon.read"}),
    "viewer": frozenset({"org.read", "data.read", "energy.read", "carbon.read"}),
}

#: The three administrators of 三员分立; they need a second factor (TOTP) to log in.
ADMIN_ROLES = ("system_admin", "security_admin", "auditor")
#: Roles granted on a node of the tree (their scope); the verifier is granted on inventories.
NODE_ROLES = ("park_manager", "energy_manager", "carbon_manager", "data_clerk", "viewer")
INVENTORY_ROLES = ("verifier",)

NAMES = {
    "system_admin": ("系统管理员", "System administrator"),
    "security_admin": ("安全管理员", "Security administrator"),
    "auditor": ("安全审计员", "Auditor"),
    "park_manager": ("园区管理员", "Park manager"),
    "energy_manager": ("企业能源管理员", "Enterprise energy manager"),
    "carbon_manager": ("企业碳管理员", "Enterprise carbon manager"),
    "data_clerk": ("填报员", "Data entry clerk"),
    "verifier": ("第三方核查员", "Third-party verifier"),
    "viewer": ("只读用户", "Viewer"),
}


def conflicts(roles: set[str] | frozenset[str]) -> str | None:
    """Why this set of roles may not be held by one user (三员分立), or None."""
    admin = [r for r in roles if r in ADMIN_ROLES]
    if len(admin) > 1:
        return "separation.admins"
    if admin and len(roles) > 1:
        return "separation.admin_business"
    return None


def needs_second_factor(roles: set[str] | frozenset[str]) -> bool:
    return any(r in ADMIN_ROLES for r in roles)
