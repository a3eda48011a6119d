"""Importing a CSV or Excel file: validated whole, applied all-or-nothing.

The steps:

1. Read the header of every sheet and decide its kind (the ``kind`` argument, else the
   sheet's name, else its columns; a readings sheet in the wide layout is recognised by meter
   codes as column headers).  Header problems are issues of row 1.
2. Parse every row of every sheet (no database needed); collect the issues of all rows.
3. In one transaction: apply the record kinds in dependency order (nodes → meters → meter
   events → products → production → economics → fuel deliveries) through the services,
   collecting their issues row by row; then resolve and check the readings.
4. Any issue anywhere: roll back and raise one :class:`~nengtan.errors.InputError` listing
   them all (capped, with a count of the rest).  Otherwise ingest the readings in chunks and
   commit — or, for a dry run, roll back and report what would have happened.

Step 3 applies rows before the whole file is known to be valid because the rules live in the
services (a parent's kind, a formula's operands, a unit against a carrier) and a later row may
depend on an earlier one; the transaction makes that invisible to everyone else, and nothing
is committed unless every row passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from nengtan.errors import InputError, Issue
from nengtan.exchange import kinds as kinds_mod
from nengtan.exchange import readings as readings_mod
from nengtan.exchange import records as records_mod
from nengtan.exchange.issues import Issues
from nengtan.exchange.kinds import BY_NAME, KINDS, HeaderMatch, Kind
from nengtan.exchange.tables import Sheet, Source, open_sheets
from nengtan.store.models import Meter


@dataclass
class ImportReport:
    """What an import did (or, for a dry run, would do)."""

    kinds: list[str]
    rows: int
    created: int
    updated: int
    unchanged: int
    #: Readings: rows, inserted, unchanged, revised, meters (and ingest batch ids); None if
    #: the file has no readings.  A dry run checks readings without classifying them, so
    #: inserted/unchanged/revised are None there.
    readings: dict | None
    dry_run: bool
    file: str
    sha256: str
    #: Per kind: rows, created, updated, unchanged.
    by_kind: dict[str, dict] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "kinds": list(self.kinds), "rows": self.rows, "created": self.created,
            "updated": self.updated, "unchanged": self.unchanged,
            "readings": None if self.readings is None else dict(self.readings),
            "dry_run": self.dry_run, "file": self.file, "sha256": self.sha256,
            "by_kind": {k: dict(v) for k, v in self.by_kind.items()},
        }


def import_file(engine: Engine, path: Path, kind: str | None = None,
                dry_run: bool = False) -> ImportReport:
    """Import the CSV or xlsx file at ``path`` (format by extension)."""
    return _import(engine, Source.from_path(Path(path)), kind, dry_run)


def import_bytes(engine: Engine, data: bytes, filename: str, kind: str | None = None,
                 dry_run: bool = False) -> ImportReport:
    """Import an uploaded file; ``filename`` gives the format (``.csv``/``.xlsx``)."""
    return _import(engine, Source.from_bytes(data, filename), kind, dry_run)


@dataclass
class _Part:
    """A sheet and how to read it."""

    sheet: Sheet
    kind: Kind | None = None
    match: HeaderMatch | None = None
    #: Wide readings: index of the time column and column index → meter code.
    wide: tuple[int, dict[int, str]] | None = None
    #: The header is unusable (required columns missing): the rows are not read.
    refused: bool = False

    @property
    def usable(self) -> bool:
        return self.kind is not None and not self.refused


def _import(engine: Engine, source: Source, kind: str | None, dry_run: bool) -> ImportReport:
    if kind is not None and kind not in KINDS:
        raise InputError([Issue("rule.choice", field="kind", value=kind,
                                params={"choices": ", ".join(KINDS)})])
    source.format  # noqa: B018 - refuses unknown extensions before reading anything
    sha256, utf8 = source.scan()
    sheets, close = open_sheets(source, utf8)
    try:
        with engine.connect() as conn:
            trans = conn.begin()
            try:
                report = _run(conn, source, sha256, sheets, kind, dry_run)
            except BaseException:
                trans.rollback()
                raise
            if dry_run:
                trans.rollback()
            else:
                trans.commit()
            return report
    finally:
        close()


def _run(conn: Connection, source: Source, sha256: str, sheets: list[Sheet],
         kind: str | None, dry_run: bool) -> ImportReport:
    issues = Issues()
    parts = _plan(sheets, kind, issues)

    # Parse every row of every sheet before touching the database.
    failed: dict[str, set[str]] = {"node": set(), "meter": set(), "product": set()}
    records: dict[str, list[records_mod.Record]] = {}
    rows = 0
    for part in sorted((p for p in parts if p.usable and p.kind.name != "readings"),
                       key=lambda p: KINDS.index(p.kind.name)):
        got, count = records_mod.read(part.kind, part.sheet, part.match, issues, failed)
        records.setdefault(part.kind.name, []).extend(got)
        rows += count
    _resolve_wide(conn, parts, records.get("meters", []), issues)
    reader = readings_mod.ReadingsReader(issues)
    for part in parts:
        if not part.usable or part.kind.name != "readings":
            continue
        if part.wide is not None:
            reader.read_wide(part.sheet, *part.wide)
        else:
            reader.read_long(part.sheet, part.match.columns)
    rows += reader.rows

    # Apply in one transaction; any issue rolls everything back.
    session = Session(bind=conn, expire_on_commit=False, autoflush=True)
    try:
        ctx = records_mod.Context(session, issues, failed)
        by_kind: dict[str, dict] = {}
        for name in KINDS[:-1]:
            if name in records:
                got = records_mod.merge_duplicates(BY_NAME[name], records[name], issues)
                by_kind[name] = records_mod.APPLY[name](ctx, got).as_dict()
        session.flush()
        has_readings = any(p.usable and p.kind.name == "readings" for p in parts)
        prepared = readings_mod.prepare(conn, reader, issues) if has_readings else None
        issues.raise_if_any()
        result = None
        if prepared is not None:
            if dry_run:
                result = {"rows": len(prepared.batch), "inserted": None, "unchanged": None,
                          "revised": None, "meters": prepared.meters, "batches": []}
            else:
                result = readings_mod.ingest_all(conn, prepared, source.name, sha256)
            by_kind["readings"] = {"rows": reader.rows, "created": 0, "updated": 0,
                                   "unchanged": 0}
        session.flush()
    finally:
        session.close()
    kinds_seen = [k for k in KINDS if k in by_kind]
    total = lambda key: sum(v[key] for k, v in by_kind.items() if k != "readings")  # noqa: E731
    return ImportReport(kinds=kinds_seen, rows=rows, created=total("created"),
                        updated=total("updated"), unchanged=total("unchanged"), readings=result,
                        dry_run=dry_run, file=source.name, sha256=sha256, by_kind=by_kind)


def _plan(sheets: list[Sheet], kind: str | None, issues: Issues) -> list[_Part]:
    """The sheets to import and the kind of each; header issues go to ``issues``."""
    data = [s for s in sheets if not (s.name and kinds_mod.is_readme(s.name)) and s.header]
    if not data:
        raise InputError([Issue("rule.file_empty", row=1)])
    if kind is not None:
        named = [s for s in data if s.name and kinds_mod.kind_of_sheet(s.name) == kind]
        chosen = named or data[:1]
        return [_with_kind(s, BY_NAME[kind], issues) for s in chosen]
    parts = []
    for sheet in data:
        name = kinds_mod.kind_of_sheet(sheet.name) if sheet.name else None
        found = BY_NAME[name] if name else kinds_mod.detect_kind(sheet.header)
        if found is None:
            parts.append(_Part(sheet))  # perhaps wide readings: decided once meters are known
        else:
            parts.append(_with_kind(sheet, found, issues))
    return parts


def _with_kind(sheet: Sheet, kind: Kind, issues: Issues) -> _Part:
    match = kinds_mod.match_header(kind, sheet.header)
    if kind.name == "readings" and "value" not in match.columns.values() \
            and "meter" not in match.columns.values() and sheet.header \
            and kinds_mod.is_wide_ts_header(sheet.header[0]):
        return _Part(sheet, kind, None, _wide_columns(sheet, issues))
    _header_issues(sheet, match, issues)
    # Without its required columns a sheet's rows would only repeat that issue: not read.
    return _Part(sheet, kind, match, refused=bool(match.missing))


def _header_issues(sheet: Sheet, match: HeaderMatch, issues: Issues) -> None:
    for name in match.missing:
        spec = match.kind.specs[name]
        issues.add(Issue("rule.header_missing", row=1,
                         field=spec.label_zh if match.chinese else spec.name, sheet=sheet.name))
    for text in match.unknown.values():
        issues.add(Issue("rule.header_unknown", row=1, field=text, value=text, sheet=sheet.name))
    for columns in match.repeated.values():
        for i in columns[1:]:
            issues.add(Issue("rule.header_duplicate", row=1, field=sheet.header[i],
                             value=sheet.header[i], sheet=sheet.name))


def _wide_columns(sheet: Sheet, issues: Issues) -> tuple[int, dict[int, str]]:
    columns: dict[int, str] = {}
    seen: set[str] = set()
    for i, text in enumerate(sheet.header[1:], start=1):
        code = text.strip()
        if not code:
            continue
        if code in seen:
            issues.add(Issue("rule.header_duplicate", row=1, field=text, value=text,
                             sheet=sheet.name))
            continue
        seen.add(code)
        columns[i] = code
    return 0, columns


def _resolve_wide(conn: Connection, parts: list[_Part], meter_records, issues: Issues) -> None:
    """Sheets of no recognised kind are wide readings if their first column is the time and
    the other headers include known meter codes (stored, or in this file's meters sheet);
    otherwise the file's kind cannot be told."""
    for part in parts:
        if part.kind is not None:
            continue
        header = part.sheet.header
        if header and kinds_mod.is_wide_ts_header(header[0]) and len(header) > 1 \
                and _known_codes(conn, header[1:], meter_records):
            part.kind = BY_NAME["readings"]
            part.wide = _wide_columns(part.sheet, issues)
            continue
        issues.add(Issue("rule.file_kind", row=1, sheet=part.sheet.name,
                         params={"kinds": ", ".join(KINDS)}))


def _known_codes(conn: Connection, headers: list[str], meter_records) -> bool:
    codes = {h.strip() for h in headers if h.strip()}
    if codes & {r.data["code"] for r in meter_records}:
        return True
    return conn.scalar(select(Meter.id).where(Meter.code.in_(codes)).limit(1)) is not None
