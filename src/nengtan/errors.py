"""Input errors that name the row, the field and the rule.

Every validation in nengtan collects :class:`Issue` objects and raises one
:class:`InputError` carrying all of them, before anything is written: a bad input is never
partially applied.  The API turns an ``InputError`` into HTTP 422 with the issues as detail;
the CLI prints them and exits non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nengtan.i18n import LANGUAGES, t


@dataclass(frozen=True)
class Issue:
    """One violated rule.

    ``row`` is 1-based as a user sees it in a file (the header is row 1, so the first data row
    is row 2) or the index in a JSON list (0-based, with ``row_base=0`` noted by the caller).
    ``rule`` is a catalogue key such as ``rule.required``.
    """

    rule: str
    row: int | None = None
    field: str | None = None
    value: Any = None
    params: dict[str, Any] | None = None
    sheet: str | None = None

    def _params(self, lang: str | None) -> dict[str, Any]:
        params = dict(self.params or {})
        if "ref" in params:  # an object kind: shown in the message's language
            params["ref"] = t(f"ref.{params['ref']}", lang)
        return params

    def message(self, lang: str | None = None) -> str:
        return t(self.rule, lang, field=self.field or "", value=self.value, **self._params(lang))

    def as_dict(self) -> dict[str, Any]:
        messages = {lang: self.message(lang) for lang in LANGUAGES}
        out: dict[str, Any] = {
            "row": self.row,
            "field": self.field,
            "rule": self.rule.removeprefix("rule."),
            "value": _jsonable(self.value),
            "message": messages["en"],
            "message_zh": messages["zh-CN"],
        }
        if self.sheet:
            out["sheet"] = self.sheet
        return out

    def __str__(self) -> str:
        where = []
        if self.sheet:
            where.append(f"sheet {self.sheet}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(f"column {self.field}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message('en')}" if prefix else self.message("en")


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


@dataclass
class InputError(Exception):
    """One or more issues; nothing was applied."""

    issues: list[Issue] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.summary())

    def summary(self, limit: int = 20) -> str:
        lines = [str(i) for i in self.issues[:limit]]
        if len(self.issues) > limit:
            lines.append(f"... and {len(self.issues) - limit} more")
        return "; ".join(lines) if len(lines) < 3 else "\n" + "\n".join(lines)

    def as_list(self) -> list[dict[str, Any]]:
        return [i.as_dict() for i in self.issues]


class NotFound(LookupError):
    """An object that does not exist (or is not visible to the caller)."""

    def __init__(self, kind: str, key: object):
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key!r} not found")


def fail(rule: str, *, row: int | None = None, field: str | None = None, value: Any = None,
         **params: Any) -> InputError:
    """Shorthand for an ``InputError`` with a single issue."""
    return InputError([Issue(rule, row=row, field=field, value=value, params=params or None)])
