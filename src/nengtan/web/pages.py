"""The console's page registry.

Each part of the console declares its pages as :class:`Page` values in its own module
(``pages_core``, ``pages_data``, ``pages_energy``, ``pages_carbon``), so that adding a page
never means editing a shared list.  :func:`registry` collects them once; the routes, the side
navigation and the permission check all read the same registry, so a page a user may not open
is neither linked nor served.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache

#: Navigation groups, in the order they appear in the side navigation.
GROUPS = ("overview", "data", "energy", "carbon", "admin")
#: The modules that declare pages (each exports ``PAGES: list[Page]``).
MODULES = ("pages_core", "pages_data", "pages_energy", "pages_carbon")


@dataclass(frozen=True)
class Page:
    """One console page.

    ``path`` is the URL (``/energy/query``); ``template`` the Jinja template under
    ``web/templates`` (``pages/<slug>.html``); ``title_key`` the i18n key of its title;
    ``group`` one of :data:`GROUPS`; ``perm`` the permission needed to open it (None: any
    logged-in user; ``"a|b"``: either of them, e.g. the user administration that both the
    system and the security administrator open, each seeing their own actions); ``nav=False`` keeps it out of the side navigation (detail pages, the wall
    display).  ``icon`` is an optional short glyph shown before the title in the navigation.
    """

    slug: str
    path: str
    template: str
    title_key: str
    group: str
    perm: str | None
    icon: str = ""
    nav: bool = True

    def __post_init__(self) -> None:
        if self.group not in GROUPS:
            raise ValueError(f"page {self.slug!r}: unknown group {self.group!r}")
        if not self.path.startswith("/"):
            raise ValueError(f"page {self.slug!r}: path must start with '/'")

    def allowed(self, principal) -> bool:
        """May ``principal`` (a :class:`~nengtan.security.principal.Principal`) open it?"""
        if principal is None:
            return False
        return self.perm is None or any(principal.can(p) for p in self.perm.split("|"))


@lru_cache(maxsize=1)
def registry() -> tuple[Page, ...]:
    """Every page of every part, checked for clashing slugs and paths."""
    pages: list[Page] = []
    for name in MODULES:
        module = importlib.import_module(f"nengtan.web.{name}")
        pages.extend(getattr(module, "PAGES", []))
    for attr in ("slug", "path"):
        seen: dict[str, Page] = {}
        for page in pages:
            key = getattr(page, attr)
            if key in seen:
                raise ValueError(f"two console pages share the {attr} {key!r}")
            seen[key] = page
    return tuple(pages)


def by_slug(slug: str) -> Page:
    for page in registry():
        if page.slug == slug:
            return page
    raise KeyError(slug)


def navigation(principal) -> list[dict]:
    """The side navigation of ``principal``: groups (in :data:`GROUPS` order) with the pages
    they may open; empty groups are left out."""
    out = []
    for group in GROUPS:
        pages = [p for p in registry() if p.group == group and p.nav and p.allowed(principal)]
        if pages:
            out.append({"group": group, "pages": pages})
    return out
