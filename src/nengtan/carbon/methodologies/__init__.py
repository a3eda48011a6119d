"""Accounting methodologies (GB/T 32150 general industry, MEE guidelines), one module each.

A methodology is a :class:`~nengtan.carbon.methodologies.base.Methodology` with an ``id``
and a ``version``; the engine (:func:`nengtan.carbon.engine.compute`) asks the registry for
it by id.  To add one of the 24 industry guidelines: write a module with a subclass that
overrides what the guideline changes (a kind's formula, or :meth:`fixed` for prescribed
parameter values), end it with ``METHODOLOGY = MyGuideline()`` and list the module in
:data:`MODULES`.
"""

from __future__ import annotations

from importlib import import_module

from nengtan.carbon.methodologies.base import Methodology
from nengtan.errors import NotFound

#: Modules holding one methodology each (``METHODOLOGY``), in the order they are listed.
MODULES = ("gbt32150", "mee_power", "cement")
DEFAULT = "gbt32150"

_REGISTRY: dict[str, Methodology] = {}


def register(methodology: Methodology) -> Methodology:
    """Add a methodology (an id may be registered once)."""
    if methodology.id in _REGISTRY and _REGISTRY[methodology.id] is not methodology:
        raise ValueError(f"methodology {methodology.id!r} registered twice")
    _REGISTRY[methodology.id] = methodology
    return methodology


def _load() -> None:
    if not _REGISTRY:
        for name in MODULES:
            register(import_module(f"{__name__}.{name}").METHODOLOGY)


def get(methodology_id: str) -> Methodology:
    """The methodology with this id, or :class:`NotFound`."""
    _load()
    try:
        return _REGISTRY[methodology_id]
    except KeyError:
        raise NotFound("methodology", methodology_id) from None


def ids() -> list[str]:
    _load()
    return list(_REGISTRY)


def all_methodologies() -> list[Methodology]:
    _load()
    return list(_REGISTRY.values())
