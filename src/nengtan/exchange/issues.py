"""Collecting the issues of a whole file, with a cap.

A file is validated whole so that one round of corrections fixes it, but a systematic error
(a wrong column in a million-row file) must not build a million messages: after
:data:`MAX_ISSUES` the collector only counts, and the error ends with one issue saying how
many more there are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from nengtan.errors import InputError, Issue

MAX_ISSUES = 300


class Issues:
    def __init__(self, cap: int = MAX_ISSUES):
        self.cap = cap
        self.items: list[Issue] = []
        self.dropped = 0

    def __bool__(self) -> bool:
        return bool(self.items) or self.dropped > 0

    def __len__(self) -> int:
        return len(self.items) + self.dropped

    @property
    def full(self) -> bool:
        return len(self.items) >= self.cap

    def room(self) -> int:
        """How many more issues are kept before the collector only counts."""
        return max(self.cap - len(self.items), 0)

    def add(self, issue: Issue) -> None:
        if self.full:
            self.dropped += 1
        else:
            self.items.append(issue)

    def extend(self, issues: Iterable[Issue]) -> None:
        for issue in issues:
            self.add(issue)

    def rows(self, rule: str, rows: Sequence[int], field: str | None, values: Sequence[Any],
             sheet: str | None = None, **params: Any) -> None:
        """One issue per row (rows and values aligned), without building those past the cap."""
        room = self.room()
        for row, value in zip(list(rows[:room]), list(values[:room])):
            self.items.append(Issue(rule, row=int(row), field=field, value=_plain(value),
                                    params=params or None, sheet=sheet))
        self.dropped += max(len(rows) - room, 0)

    def error(self) -> InputError:
        issues = list(self.items)
        if self.dropped:
            issues.append(Issue("rule.issues_truncated", params={"count": self.dropped}))
        return InputError(issues)

    def raise_if_any(self) -> None:
        if self:
            raise self.error()


def relabel(issues: Iterable[Issue], sheet: str | None, headers: dict[str, str],
            row: int | None = None) -> list[Issue]:
    """Issues from a service, placed in the file: its sheet, its row, and each field named by
    the column header as the file writes it."""
    out = []
    for issue in issues:
        out.append(replace(issue, sheet=sheet, row=issue.row if row is None else row,
                           field=headers.get(issue.field, issue.field)))
    return out


def _plain(value: Any) -> Any:
    """numpy scalars as Python values, so that issues serialise."""
    if hasattr(value, "item"):
        return value.item()
    return value
