"""Query parameters shared by routers: periods and references by code."""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from nengtan.errors import InputError, Issue
from nengtan.services.fields import parse_datetime

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

START_DOC = ("start of the period, inclusive: a date (YYYY-MM-DD, local midnight) or an ISO 8601 "
             "time; without an offset it is read in the meter's site timezone / 起始（含）")
END_DOC = "end of the period, exclusive, same forms as start / 结束（不含）"


def bound(text: str | None, field: str, issues: list[Issue]) -> date | datetime | None:
    """A date for ``YYYY-MM-DD``, else a datetime (possibly naive); records a bad value."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    try:
        return date.fromisoformat(text) if _DATE.match(text) else parse_datetime(text)
    except ValueError:
        issues.append(Issue("rule.type_datetime", field=field, value=text))
        return None


def period(start: str | None, end: str | None, required: bool = True):
    """``(start, end)`` parsed; raises one InputError naming every bad or missing bound."""
    issues: list[Issue] = []
    lo, hi = bound(start, "start", issues), bound(end, "end", issues)
    if required:
        for name, raw in (("start", start), ("end", end)):
            if raw is None or not raw.strip():
                issues.append(Issue("rule.required", field=name))
    if issues:
        raise InputError(issues)
    return lo, hi


def resolve(session: Session, model, code: str | None, field: str, ref: str):
    """The object with ``code`` (None for no filter); an unknown code is a 422 naming the
    parameter, since an empty answer would hide a typo."""
    if code is None or code == "":
        return None
    key = model.code
    obj = session.scalar(select(model).where(key == code))
    if obj is None:
        raise InputError([Issue("rule.ref_unknown", field=field, value=code,
                                params={"ref": ref})])
    return obj


PERIOD_DOC = ("statistical period / 统计期: 2026 (year), 2026-Q3 (quarter), 2026-10 (month), "
              "2026-10-05 (day) or 2026-10-01/2026-11-01 (custom, end exclusive); local dates")


def node_only(session: Session, node: str):
    """The node with code ``node``; unknown or empty is a 422 naming the parameter."""
    from nengtan.store.models import Node

    found = resolve(session, Node, node, "node", "node")
    if found is None:
        raise InputError([Issue("rule.required", field="node")])
    return found


def node_period(session: Session, node: str, period_text: str, parse=None):
    """``(node, Period)`` from a node code and a period text; both problems reported at once.
    ``parse`` reads the period (default :func:`energy_data.parse_period`)."""
    from nengtan.services.energy_data import parse_period
    from nengtan.store.models import Node

    parse = parse or parse_period
    issues: list[Issue] = []
    found = None
    try:
        found = resolve(session, Node, node, "node", "node")
    except InputError as exc:
        issues += exc.issues
    if found is None and not issues:
        issues.append(Issue("rule.required", field="node"))
    per = None
    try:
        per = parse(period_text)
    except InputError as exc:
        issues += exc.issues
    if issues:
        raise InputError(issues)
    return found, per
