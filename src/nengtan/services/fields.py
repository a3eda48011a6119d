"""Field specifications: one declaration per entity field, used everywhere.

The same :class:`FieldSpec` list drives

* validation and coercion of values from JSON (API) and from CSV/Excel cells (import), with
  issues that name the row, the field and the rule;
* the columns, bilingual headers and order of import templates and exports;
* the pydantic models (and so the OpenAPI page) of the REST API.

Coercion accepts what people type in spreadsheets: ``""`` is empty, ``"是"/"否"`` are
booleans, Excel numbers and dates are accepted where text would be.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any

from nengtan import units
from nengtan.errors import InputError, Issue

_TRUE = {"true", "1", "yes", "y", "是", "t", "on"}
_FALSE = {"false", "0", "no", "n", "否", "f", "off"}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str  # str | int | float | bool | date | datetime | choice | unit | json
    label_zh: str
    label_en: str
    required: bool = False
    default: Any = None
    choices: tuple = ()
    max_length: int | None = None
    minimum: float | None = None
    exclusive_minimum: float | None = None
    maximum: float | None = None
    #: Entity referenced by code ("node", "meter", "carrier", "product", "tariff").
    ref: str | None = None
    #: Unit of a quantity field, for the API docs and headers ("kWh", "CNY", ...).
    unit: str | None = None
    help_en: str = ""

    @property
    def header_zh(self) -> str:
        return self.label_zh

    def describe(self) -> str:
        parts = [f"{self.label_en} / {self.label_zh}"]
        if self.unit:
            parts.append(f"unit: {self.unit}")
        if self.choices:
            parts.append("one of: " + ", ".join(str(c) for c in self.choices))
        if self.ref:
            parts.append(f"code of a {self.ref}")
        if self.help_en:
            parts.append(self.help_en)
        return "; ".join(parts)


def is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def coerce(spec: FieldSpec, value: Any, row: int | None = None) -> Any:
    """Convert ``value`` for ``spec`` or raise InputError naming row, field and rule."""

    def fail(rule: str, **params) -> InputError:
        return InputError([Issue(rule, row=row, field=spec.name, value=value, params=params)])

    if is_empty(value):
        if spec.required and spec.default is None:
            raise fail("rule.required")
        return spec.default
    kind = spec.kind
    try:
        if kind in ("str", "choice", "unit"):
            out: Any = _text(value)
        elif kind == "int":
            out = _int(value)
        elif kind == "float":
            out = float(value.replace(",", "")) if isinstance(value, str) else float(value)
            if not math.isfinite(out):
                raise ValueError
        elif kind == "bool":
            out = _bool(value)
        elif kind == "date":
            out = _date(value)
        elif kind == "datetime":
            out = parse_datetime(value)
        elif kind == "json":
            # a spreadsheet cell holds JSON as text
            out = json.loads(value) if isinstance(value, str) else value
        else:  # pragma: no cover - a programming error in a spec
            raise ValueError(f"unknown field kind {kind}")
    except (TypeError, ValueError):
        raise fail(f"rule.type_{kind}") from None
    if kind == "choice" and out not in spec.choices:
        raise fail("rule.choice", choices=", ".join(str(c) for c in spec.choices))
    if kind == "unit":
        try:
            out = units.canonical(out)
        except units.UnitError:
            raise fail("rule.unit_unknown") from None
    if spec.max_length and isinstance(out, str) and len(out) > spec.max_length:
        raise fail("rule.max_length", max=spec.max_length)
    if isinstance(out, (int, float)) and not isinstance(out, bool):
        if spec.minimum is not None and out < spec.minimum:
            raise fail("rule.minimum", min=spec.minimum)
        if spec.exclusive_minimum is not None and out <= spec.exclusive_minimum:
            raise fail("rule.exclusive_minimum", min=spec.exclusive_minimum)
        if spec.maximum is not None and out > spec.maximum:
            raise fail("rule.maximum", max=spec.maximum)
    return out


def coerce_record(specs: list[FieldSpec], data: dict[str, Any], row: int | None = None,
                  partial: bool = False) -> dict[str, Any]:
    """Coerce every field present in ``data`` (all fields unless ``partial``); collect issues."""
    issues: list[Issue] = []
    out: dict[str, Any] = {}
    known = {s.name for s in specs}
    for key in data:
        if key not in known:
            issues.append(Issue("rule.unknown_field", row=row, field=key, value=None))
    for spec in specs:
        if partial and spec.name not in data:
            continue
        try:
            out[spec.name] = coerce(spec, data.get(spec.name), row)
        except InputError as exc:
            issues.extend(exc.issues)
    if issues:
        raise InputError(issues)
    return out


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel turns codes like 101 into 101.0
    return str(value).strip()


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError
        return int(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        f = float(text)
        if not f.is_integer():
            raise ValueError
        return int(f)
    return int(value)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        if value.time() != time(0):
            raise ValueError
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().replace("/", "-")
    return date.fromisoformat(text)


def parse_datetime(value: Any) -> datetime:
    """ISO 8601 text (``2025-01-01T00:15:00+08:00``, ``2025-01-01 00:15``, ``...Z``) or a
    datetime.  The result may be naive: the caller decides the timezone of naive values."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time(0))
    text = str(value).strip().replace("/", "-")
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)


def to_utc(value: datetime, tz) -> datetime:
    """An aware datetime in UTC; naive values are read in ``tz`` (the site's timezone)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(timezone.utc)
