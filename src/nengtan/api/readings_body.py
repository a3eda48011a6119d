"""Readings sent to ``POST /api/readings`` (JSON or CSV) → one validated ``ReadingBatch``.

Every row is parsed and checked before anything is stored, and every bad row is reported at
once: the parse issues here (unknown meter code, unreadable time or value, unknown unit or
quality) together with those of the pipeline's own checks on the remaining rows (time range,
non-finite value, rejected reading without reason, unit not convertible, virtual meter).
Rows are numbered as the caller sees them: the index in the JSON list (0-based), or the line
of the CSV file (header = 1, first data row = 2).  The columns are those of the readings
import files (:data:`nengtan.exchange.kinds.READING_FIELDS`).
"""

from __future__ import annotations

import csv
import io
import json
import math
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Connection, select

from nengtan.errors import InputError, Issue
from nengtan.exchange.kinds import READING_FIELDS
from nengtan.quality.flags import Quality
from nengtan.services import ingest
from nengtan.services.fields import coerce, is_empty, to_utc
from nengtan.services.meter_specs import effective_timezones
from nengtan.store.models import Meter
from nengtan.store.types import to_us

_SPEC = {s.name: s for s in READING_FIELDS}
_REQUIRED = [s.name for s in READING_FIELDS if s.required]
_BODY_KEYS = ("source", "detail", "readings")
_LIMITS = {"source": 40, "detail": 400}


class Parsed:
    """Rows as ``(row number, {column: raw value})`` and the batch-level settings."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, dict]] = []
        self.issues: list[Issue] = []
        self.source: str | None = None
        self.detail: str | None = None


def from_json(data: bytes) -> Parsed:
    out = Parsed()
    try:
        body = json.loads(data or b"null")
    except (ValueError, UnicodeDecodeError):
        out.issues.append(Issue("rule.type_json"))
        return out
    if not isinstance(body, dict):
        out.issues.append(Issue("rule.type_object", value=None))
        return out
    out.issues += [Issue("rule.unknown_field", field=k) for k in body if k not in _BODY_KEYS]
    for key in ("source", "detail"):
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            out.issues.append(Issue("rule.type_str", field=key, value=value))
        else:
            setattr(out, key, value)
    readings = body.get("readings")
    if readings is None:
        out.issues.append(Issue("rule.required", field="readings"))
    elif not isinstance(readings, list):
        out.issues.append(Issue("rule.type_list", field="readings"))
    else:
        for i, r in enumerate(readings):
            if isinstance(r, dict):
                out.rows.append((i, r))
            else:
                out.issues.append(Issue("rule.type_object", row=i, value=None))
    return out


def from_csv(data: bytes) -> Parsed:
    """The long readings format: ``meter,ts,value[,unit,quality,reason]`` with a header."""
    out = Parsed()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        out.issues.append(Issue("rule.file_format", value="not UTF-8"))
        return out
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    out.issues += [Issue("rule.header_unknown", row=1, field=h) for h in header if h not in _SPEC]
    out.issues += [Issue("rule.header_missing", row=1, field=h) for h in _REQUIRED
                   if h not in header]
    if out.issues:
        return out
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(header):  # e.g. an unquoted comma in a reason
            out.issues.append(Issue("rule.file_format", row=line,
                                    value=f"{len(values)} cells, {len(header)} columns"))
            continue
        out.rows.append((line, dict(zip(header, values, strict=False))))
    return out


def _value(raw, row: int, issues: list[Issue]) -> float | None:
    """A float; non-finite values pass so that the pipeline reports them as ``not_finite``."""
    if isinstance(raw, float) and math.isnan(raw):
        return raw  # is_empty() counts NaN as a blank spreadsheet cell; here it is a value
    if is_empty(raw):
        issues.append(Issue("rule.required", row=row, field="value"))
        return None
    if isinstance(raw, bool):
        issues.append(Issue("rule.type_float", row=row, field="value", value=raw))
        return None
    try:
        return float(raw.replace(",", "")) if isinstance(raw, str) else float(raw)
    except (TypeError, ValueError):
        issues.append(Issue("rule.type_float", row=row, field="value", value=raw))
        return None


def _quality(raw, row: int, issues: list[Issue]) -> int | None:
    """A quality code from 0-3 or a name; None (and an issue) otherwise."""
    if is_empty(raw):
        return int(Quality.MEASURED)
    try:
        if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
            raise ValueError
        return int(Quality.parse(raw))
    except (KeyError, ValueError, TypeError):
        issues.append(Issue("rule.quality", row=row, field="quality", value=raw))
        return None


def batch(conn: Connection, parsed: Parsed) -> ingest.ReadingBatch:
    """Validate every row; raise one InputError with all issues, or return the batch."""
    issues = list(parsed.issues)
    for key, limit in _LIMITS.items():
        value = getattr(parsed, key)
        if value is not None and len(value) > limit:
            issues.append(Issue("rule.max_length", field=key, value=value, params={"max": limit}))
    cells: list[tuple[int, dict, bool]] = []
    for row, raw in parsed.rows:
        issues += [Issue("rule.unknown_field", row=row, field=k) for k in raw if k not in _SPEC]
        clean, ok = {}, True
        for name in ("meter", "ts", "unit", "reason"):
            try:
                clean[name] = coerce(_SPEC[name], raw.get(name), row)
            except InputError as exc:
                issues += exc.issues
                ok = False
        clean["value"] = _value(raw.get("value"), row, issues)
        clean["quality"] = _quality(raw.get("quality"), row, issues)
        ok = ok and clean["value"] is not None and clean["quality"] is not None
        cells.append((row, clean, ok))

    meters = _meters(conn, {c["meter"] for _, c, _ok in cells if c.get("meter")})
    good = []
    for row, c, ok in cells:
        if c.get("meter") and c["meter"] not in meters:
            issues.append(Issue("rule.ref_unknown", row=row, field="meter", value=c["meter"],
                                params={"ref": "meter"}))
            continue
        if not ok:
            continue
        mid, tz = meters[c["meter"]]
        try:
            c["ts_us"] = to_us(to_utc(c["ts"], tz))
        except (OverflowError, ValueError):  # e.g. year 9999 with a negative offset
            issues.append(Issue("rule.ts_range", row=row, field="ts", value=c["ts"].isoformat()))
            continue
        c["meter_id"] = mid
        good.append((row, c))
    out = _columns(good)
    if issues:
        # Report the pipeline's checks of the well-formed rows too: every bad row at once.
        try:
            ingest.check(conn, out)
        except InputError as exc:
            issues += exc.issues
        issues.sort(key=lambda i: (i.row if i.row is not None else -1))
        raise InputError(issues[: ingest.MAX_ISSUES])
    return out


def _meters(conn: Connection, codes: set[str]) -> dict[str, tuple[int, ZoneInfo]]:
    """code → (meter id, timezone of its site) for the known codes."""
    if not codes:
        return {}
    rows = conn.execute(select(Meter.code, Meter.id, Meter.node_id)
                        .where(Meter.code.in_(sorted(codes)))).all()
    zones = effective_timezones(conn, {r.node_id for r in rows})
    return {r.code: (r.id, ZoneInfo(zones[r.node_id])) for r in rows}


def _columns(rows: list[tuple[int, dict]]) -> ingest.ReadingBatch:
    n = len(rows)
    unit = np.array([c["unit"] for _, c in rows] or [], object)
    reason = np.array([c["reason"] for _, c in rows] or [], object)
    return ingest.ReadingBatch(
        meter_id=np.array([c["meter_id"] for _, c in rows], np.int64).reshape(n),
        ts=np.array([c["ts_us"] for _, c in rows], np.int64).reshape(n),
        value=np.array([c["value"] for _, c in rows], np.float64).reshape(n),
        quality=np.array([c["quality"] for _, c in rows], np.int16).reshape(n),
        reason=reason if any(r is not None for r in reason) else None,
        unit=unit if any(u is not None for u in unit) else None,
        row=np.array([r for r, _ in rows], np.int64).reshape(n))
