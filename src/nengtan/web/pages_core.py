"""The console's core pages: overview dashboard, wall display, administration and account."""

from __future__ import annotations

from nengtan.web.pages import Page

PAGES: list[Page] = [
    Page("dashboard", "/", "pages/dashboard.html", "web.core.dashboard.title", "overview",
         "energy.read", icon="◉"),
    Page("wall", "/wall", "pages/wall.html", "web.core.wall.title", "overview",
         "energy.read", icon="▣"),
    Page("users", "/admin/users", "pages/users.html", "web.core.users.title", "admin",
         "users.admin|roles.admin", icon="☰"),
    Page("audit", "/admin/audit", "pages/audit.html", "web.core.audit.title", "admin",
         "audit.read", icon="✓"),
    Page("account", "/account", "pages/account.html", "web.core.account.title", "admin",
         None, nav=False),
]
