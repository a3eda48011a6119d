"""Readings files: parsing to numpy columns, validation against the database, ingestion.

Two layouts are read:

* long — one reading per row: ``meter, ts, value`` and optionally ``unit, quality, reason``;
* wide — what meter software exports: a time column, then one column per meter code.

Parsing (:class:`ReadingsReader`) needs no database and works chunk by chunk, keeping only
compact columns (about 30 bytes a reading).  :func:`prepare` then resolves meter codes (also
those of meters created earlier in the same import), converts site wall-clock times to UTC,
refuses repeated (meter, time) keys and runs :func:`nengtan.services.ingest.check`;
:func:`ingest_all` writes through the ingestion pipeline in chunks, in the caller's
transaction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Connection, select

from nengtan import units
from nengtan.config import get_settings
from nengtan.errors import InputError, Issue
from nengtan.exchange import cells, timeparse
from nengtan.exchange.issues import Issues
from nengtan.exchange.tables import Sheet
from nengtan.quality.flags import Quality
from nengtan.services import ingest
from nengtan.services.fields import is_empty
from nengtan.services.meter_specs import effective_timezones
from nengtan.store.models import Meter

#: Quality names people write in Chinese, besides the codes 0-3 and the English names.
QUALITY_ALIASES = {"实测": 0, "测量": 0, "估算": 1, "估计": 1, "人工": 2, "手工": 2, "手工录入": 2,
                   "剔除": 3, "无效": 3}

_COLUMNS = ("code", "us", "aware", "value", "quality", "row", "sheet")


@dataclass
class _SheetInfo:
    name: str | None
    #: Field name → header text as the file writes it.
    headers: dict[str, str]
    wide: bool


@dataclass
class Readings:
    """Parsed readings, in file order, before meter codes are resolved."""

    codes: list[str]
    code: np.ndarray  # int32 index into ``codes``
    us: np.ndarray  # int64: UTC µs where ``aware``, site wall-clock µs elsewhere
    aware: np.ndarray
    value: np.ndarray
    quality: np.ndarray  # int16
    row: np.ndarray  # int32 spreadsheet row
    sheet: np.ndarray  # int16 index into the reader's sheets
    reason: np.ndarray | None
    unit: np.ndarray | None

    def __len__(self) -> int:
        return len(self.us)


class ReadingsReader:
    """Accumulates the readings of every readings sheet of a file."""

    def __init__(self, issues: Issues):
        self.issues = issues
        self.codes: dict[str, int] = {}
        self.sheets: list[_SheetInfo] = []
        self.rows = 0
        #: Code index → (sheet index, header) for codes that head a wide column.
        self.wide_codes: dict[int, tuple[int, str]] = {}
        self._parts: dict[str, list[np.ndarray]] = {c: [] for c in _COLUMNS}
        self._reason: list[tuple[int, np.ndarray | None]] = []
        self._unit: list[tuple[int, np.ndarray | None]] = []

    # -- long layout -----------------------------------------------------------------------
    def read_long(self, sheet: Sheet, columns: dict[int, str]) -> None:
        """``columns``: column index → field name (meter, ts, value, unit, quality, reason)."""
        index = {f: i for i, f in columns.items()}
        headers = {f: sheet.header[i] for f, i in index.items()}
        sid = self._sheet(_SheetInfo(sheet.name, headers, wide=False))
        unlabelled = cells.Unlabelled(sheet.header, sheet.name)
        width = max(index.values()) + 1
        for numbers, rows in sheet.chunks:
            self.rows += len(rows)
            self.issues.extend(unlabelled.check(numbers, rows))
            self._long_chunk(sid, np.array(numbers, np.int32), cells.pad(rows, width), index)

    def _long_chunk(self, sid: int, numbers: np.ndarray, rows: list, index: dict[str, int]
                    ) -> None:
        info = self.sheets[sid]

        def column(name: str) -> list | None:
            i = index.get(name)
            return None if i is None else [r[i] for r in rows]

        meter_cells = column("meter")
        code, code_empty = self._codes(meter_cells)
        ts_cells = column("ts")
        ts = timeparse.parse_column(ts_cells)
        value_cells = column("value")
        value, value_empty, value_bad = _floats(value_cells)
        quality, quality_bad = _quality(column("quality"), len(numbers))
        unit, unit_bad = _units(column("unit"), len(numbers))
        reason = _texts(column("reason"))

        report = self._reporter(info, numbers)
        report("rule.required", code_empty, "meter", meter_cells)
        report("rule.required", ts.empty, "ts", ts_cells)
        report("rule.type_datetime", ts.bad, "ts", ts_cells)
        report("rule.required", value_empty, "value", value_cells)
        report("rule.type_float", value_bad, "value", value_cells)
        report("rule.quality", quality_bad, "quality", column("quality"))
        report("rule.unit_unknown", unit_bad, "unit", column("unit"))
        ok = ~(code_empty | ts.empty | ts.bad | value_empty | value_bad | quality_bad | unit_bad)
        self._append(ok, sid, code, ts, value, quality, numbers, reason, unit)

    # -- wide layout -----------------------------------------------------------------------
    def read_wide(self, sheet: Sheet, ts_column: int, meter_columns: dict[int, str]) -> None:
        """``meter_columns``: column index → meter code heading it."""
        headers = {"ts": sheet.header[ts_column]}
        sid = self._sheet(_SheetInfo(sheet.name, headers, wide=True))
        targets = []
        for i, code in meter_columns.items():
            k = self.codes.setdefault(code, len(self.codes))
            self.wide_codes.setdefault(k, (sid, sheet.header[i]))
            targets.append((i, k, sheet.header[i]))
        unlabelled = cells.Unlabelled(sheet.header, sheet.name)
        width = len(sheet.header)
        for numbers, rows in sheet.chunks:
            self.rows += len(rows)
            self.issues.extend(unlabelled.check(numbers, rows))
            rows = cells.pad(rows, width)
            self._wide_chunk(sid, np.array(numbers, np.int32), rows, ts_column, targets)

    def _wide_chunk(self, sid, numbers, rows, ts_column, targets) -> None:
        info = self.sheets[sid]
        report = self._reporter(info, numbers)
        ts_cells = [r[ts_column] for r in rows]
        ts = timeparse.parse_column(ts_cells)
        ts_ok = ~(ts.empty | ts.bad)
        any_value = np.zeros(len(rows), bool)
        n = len(rows)
        for i, k, header in targets:
            col = [r[i] for r in rows]
            present = np.array([not is_empty(c) for c in col], bool)
            if not present.any():
                continue
            any_value |= present
            at = np.flatnonzero(present)
            value, _, bad = _floats([col[j] for j in at])
            report("rule.type_float", _scatter(bad, at, n), header, col)
            keep = at[~bad & ts_ok[at]]
            code = np.full(len(keep), k, np.int32)
            parsed = timeparse.Parsed(len(keep))
            parsed.us, parsed.aware = ts.us[keep], ts.aware[keep]
            self._append(np.ones(len(keep), bool), sid, code, parsed, value[~bad & ts_ok[at]],
                         np.zeros(len(keep), np.int16), numbers[keep], None, None)
        # A row's time is only wrong if the row has readings.
        report("rule.required", ts.empty & any_value, "ts", ts_cells)
        report("rule.type_datetime", ts.bad & any_value, "ts", ts_cells)

    # -- shared ----------------------------------------------------------------------------
    def _sheet(self, info: _SheetInfo) -> int:
        self.sheets.append(info)
        return len(self.sheets) - 1

    def _reporter(self, info: _SheetInfo, numbers: np.ndarray):
        def report(rule: str, mask: np.ndarray, field: str, values) -> None:
            if values is None or not mask.any():
                return
            at = np.flatnonzero(mask)
            self.issues.rows(rule, numbers[at], info.headers.get(field, field),
                             [values[i] for i in at[: self.issues.cap]], info.name)
        return report

    def _codes(self, col: list) -> tuple[np.ndarray, np.ndarray]:
        """Index of each cell's meter code in ``self.codes``; and which cells are empty."""
        texts = col if all(type(c) is str for c in col) else [cells.text(c) for c in col]
        distinct, inverse = np.unique(np.array(texts, dtype=str), return_inverse=True)
        index = np.empty(len(distinct), np.int32)
        empty = np.zeros(len(distinct), bool)
        for j, raw in enumerate(distinct.tolist()):
            code = raw.strip()
            if code:
                index[j] = self.codes.setdefault(code, len(self.codes))
            else:
                index[j], empty[j] = -1, True
        return index[inverse], empty[inverse]

    def _append(self, ok, sid, code, ts, value, quality, numbers, reason, unit) -> None:
        at = np.flatnonzero(ok)
        if not len(at):
            return
        parts = self._parts
        parts["code"].append(code[at])
        parts["us"].append(ts.us[at])
        parts["aware"].append(ts.aware[at])
        parts["value"].append(value[at])
        parts["quality"].append(quality[at])
        parts["row"].append(numbers[at])
        parts["sheet"].append(np.full(len(at), sid, np.int16))
        self._reason.append((len(at), None if reason is None else reason[at]))
        self._unit.append((len(at), None if unit is None else unit[at]))

    def result(self) -> Readings:
        parts = self._parts
        if not parts["us"]:
            empty = {c: np.empty(0, t) for c, t in zip(_COLUMNS, (np.int32, np.int64, bool,
                                                                   np.float64, np.int16, np.int32,
                                                                   np.int16))}
            return Readings(list(self.codes), reason=None, unit=None, **empty)
        joined = {c: np.concatenate(v) for c, v in parts.items()}
        for v in parts.values():
            v.clear()
        return Readings(list(self.codes), reason=_objects(self._reason),
                        unit=_objects(self._unit), **joined)


def _objects(parts: list[tuple[int, np.ndarray | None]]) -> np.ndarray | None:
    """Concatenated object columns (chunks without the column hold None); None if no chunk
    had any value."""
    if all(p is None for _, p in parts):
        return None
    out = np.empty(sum(n for n, _ in parts), dtype=object)
    pos = 0
    for n, p in parts:
        if p is not None:
            out[pos:pos + n] = p
        pos += n
    return out


# -- cell parsers ------------------------------------------------------------------------
def _floats(col: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values, empty cells, cells that are not finite numbers."""
    n = len(col)
    empty = np.zeros(n, bool)
    bad = np.zeros(n, bool)
    kinds = {type(c) for c in col}
    if kinds <= {str} or kinds <= {float, int}:
        try:
            values = np.array(col, dtype=np.float64)
            if np.isfinite(values).all():
                return values, empty, bad
        except (ValueError, TypeError):
            pass  # some cell is not a number: check them one by one below
    values = np.zeros(n, np.float64)
    for i, c in enumerate(col):
        if is_empty(c):
            empty[i] = True
            continue
        try:
            if isinstance(c, bool):
                raise ValueError
            x = float(c.replace(",", "")) if isinstance(c, str) else float(c)
        except (TypeError, ValueError):
            bad[i] = True
            continue
        if math.isfinite(x):
            values[i] = x
        else:
            bad[i] = True
    return values, empty, bad


def _quality(col: list | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    codes = np.zeros(n, np.int16)
    bad = np.zeros(n, bool)
    if col is None:
        return codes, bad
    known: dict = {}
    for i, c in enumerate(col):
        key = c.strip().lower() if isinstance(c, str) else c
        q = known.get(key)
        if q is None:
            q = known[key] = _quality_code(c)
        if q < 0:
            bad[i] = True
        else:
            codes[i] = q
    return codes, bad


def _quality_code(cell) -> int:
    if is_empty(cell):
        return int(Quality.MEASURED)
    if isinstance(cell, str) and cell.strip() in QUALITY_ALIASES:
        return QUALITY_ALIASES[cell.strip()]
    try:
        if isinstance(cell, float) and not cell.is_integer():
            return -1
        return int(Quality.parse(int(cell) if isinstance(cell, float) else cell))
    except (KeyError, ValueError, TypeError):
        return -1


def _units(col: list | None, n: int) -> tuple[np.ndarray | None, np.ndarray]:
    if col is None:
        return None, np.zeros(n, bool)
    out = np.empty(len(col), dtype=object)
    bad = np.zeros(len(col), bool)
    known: dict = {}
    for i, c in enumerate(col):
        if c not in known:
            text = cells.text(c)
            try:
                known[c] = units.canonical(text) if text else None
            except units.UnitError:
                known[c] = False
        u = known[c]
        if u is False:
            bad[i] = True
        else:
            out[i] = u
    return out, bad


def _texts(col: list | None) -> np.ndarray | None:
    if col is None:
        return None
    out = np.array([None if is_empty(c) else str(c).strip() for c in col], dtype=object)
    return out if any(v is not None for v in out) else None


def _scatter(mask: np.ndarray, at: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, bool)
    out[at[mask]] = True
    return out


# -- validation against the database -------------------------------------------------------
@dataclass
class Prepared:
    """Readings ready for the ingestion pipeline, and how to name their rows in issues."""

    batch: ingest.ReadingBatch
    readings: Readings
    reader: ReadingsReader
    #: Position in ``readings`` of each batch row.
    position: np.ndarray
    meters: int = 0


def prepare(conn: Connection, reader: ReadingsReader, issues: Issues) -> Prepared:
    """Resolve meters and times and check everything ``ingest`` would refuse."""
    r = reader.result()
    ids = ingest.resolve_meter_codes(conn, r.codes)
    code_meter = np.array([ids.get(c, -1) for c in r.codes] or [-1], np.int64)
    meter = code_meter[r.code] if len(r) else np.empty(0, np.int64)

    _report_unknown(reader, r, code_meter, issues)
    known = meter >= 0
    utc = _to_utc(conn, r, meter, known)

    position = np.flatnonzero(known)
    order = np.lexsort((position, utc[position], meter[position]))
    ranked = position[order]
    repeated = (meter[ranked][1:] == meter[ranked][:-1]) & (utc[ranked][1:] == utc[ranked][:-1])
    dup = np.sort(ranked[1:][repeated])
    room = issues.room()
    for pos in dup[:room]:
        info = reader.sheets[r.sheet[pos]]
        column = r.codes[r.code[pos]] if info.wide else info.headers.get("ts", "ts")
        when = timeparse.format_column(utc[pos:pos + 1], ZoneInfo("UTC"))[0]
        issues.add(Issue("rule.duplicate_in_file", row=int(r.row[pos]), field=column,
                         value=f"{r.codes[r.code[pos]]} {when}", sheet=info.name))
    issues.dropped += max(len(dup) - room, 0)

    batch = ingest.ReadingBatch(
        meter_id=meter[position], ts=utc[position], value=r.value[position],
        quality=r.quality[position],
        reason=None if r.reason is None else r.reason[position],
        unit=None if r.unit is None else r.unit[position],
        row=np.arange(len(position)))
    prepared = Prepared(batch, r, reader, position, int(len(np.unique(meter[position]))))
    try:
        ingest.check(conn, batch)
    except InputError as exc:
        issues.extend(place(prepared, exc.issues))
    return prepared


def _report_unknown(reader: ReadingsReader, r: Readings, code_meter: np.ndarray,
                    issues: Issues) -> None:
    unknown_codes = [k for k in range(len(r.codes)) if code_meter[k] < 0]
    if not unknown_codes:
        return
    # A wide column headed by an unknown code is one issue, in the header row.
    for k in unknown_codes:
        if k in reader.wide_codes:
            sid, header = reader.wide_codes[k]
            issues.add(Issue("rule.meter_unknown", row=1, field=header, value=r.codes[k],
                             sheet=reader.sheets[sid].name))
    long_rows = np.flatnonzero(np.isin(r.code, [k for k in unknown_codes
                                                if k not in reader.wide_codes]))
    by_sheet: dict[int, list[int]] = {}
    room = issues.room()
    for pos in long_rows[:room]:
        by_sheet.setdefault(int(r.sheet[pos]), []).append(int(pos))
    for sid, positions in by_sheet.items():
        info = reader.sheets[sid]
        issues.rows("rule.meter_unknown", r.row[positions], info.headers.get("meter", "meter"),
                    [r.codes[r.code[p]] for p in positions], info.name)
    issues.dropped += max(len(long_rows) - room, 0)


def _to_utc(conn: Connection, r: Readings, meter: np.ndarray, known: np.ndarray) -> np.ndarray:
    """UTC µs: wall-clock times are read in the timezone of each meter's site."""
    utc = r.us.copy()
    naive = ~r.aware & known
    if not naive.any():
        return utc
    ids = [int(m) for m in np.unique(meter[naive])]
    nodes = dict(conn.execute(select(Meter.id, Meter.node_id).where(Meter.id.in_(ids))).all())
    zones = effective_timezones(conn, set(nodes.values()))
    by_zone: dict[str, list[int]] = {}
    for m in ids:
        by_zone.setdefault(zones[nodes[m]], []).append(m)
    for zone, members in by_zone.items():
        sel = naive & np.isin(meter, members)
        utc[sel] = timeparse.localise(r.us[sel], ZoneInfo(zone))
    return utc


def place(prepared: Prepared, issues: list[Issue]) -> list[Issue]:
    """Issues of ``ingest`` (rows numbered by batch position) named by sheet, row and column."""
    r, reader = prepared.readings, prepared.reader
    out = []
    for issue in issues:
        if issue.row is None:
            out.append(issue)
            continue
        pos = int(prepared.position[issue.row])
        info = reader.sheets[int(r.sheet[pos])]
        if info.wide and issue.field in ("meter", "value", "unit", "quality", "reason"):
            name = r.codes[r.code[pos]]
        else:
            name = info.headers.get(issue.field, issue.field)
        out.append(replace(issue, row=int(r.row[pos]), field=name, sheet=info.name))
    return out


# -- writing ---------------------------------------------------------------------------------
def ingest_all(conn: Connection, prepared: Prepared, filename: str, sha256: str) -> dict:
    """Write the readings through the ingestion pipeline in chunks of the configured size,
    all in the caller's transaction; the totals of every chunk."""
    batch = prepared.batch
    step = max(int(get_settings().ingest_chunk_rows), 1)
    totals = {"rows": len(batch), "inserted": 0, "unchanged": 0, "revised": 0,
              "meters": prepared.meters, "batches": []}
    for lo in range(0, len(batch), step):
        sl = slice(lo, lo + step)
        part = ingest.ReadingBatch(
            batch.meter_id[sl], batch.ts[sl], batch.value[sl], batch.quality[sl],
            None if batch.reason is None else batch.reason[sl],
            None if batch.unit is None else batch.unit[sl], batch.row[sl])
        try:
            result = ingest.ingest(conn, part, source="import", detail=filename[:400],
                                   sha256=sha256)
        except InputError as exc:
            raise InputError(place(prepared, exc.issues)) from None
        totals["inserted"] += result.inserted
        totals["unchanged"] += result.unchanged
        totals["revised"] += result.revised
        totals["batches"].append(result.batch_id)
    return totals
