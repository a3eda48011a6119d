"""Incremental pulls from other systems (HTTP/JSON APIs, SQL databases): cursors and records.

Shared by :mod:`nengtan.collect.http_pull` and :mod:`nengtan.collect.sql_pull`.  A pull asks the
source for the records after a *cursor* (``?since=<cursor>``, ``WHERE id > :cursor``); the
greatest value of the cursor field among the records pulled becomes the next cursor, kept in
``collect_cursors`` under (collector, adapter) so a restarted collector resumes where it left.

Exactly-once, the order of commits:

* **readings** — the points are submitted to the sink first; the cursor is saved by
  ``ctx.transact`` afterwards, which runs only once everything submitted before is committed.
  A crash between the two commits leaves the old cursor, so the next run pulls the same records
  again; storing them again changes nothing because readings are idempotent per (meter, ts).
* **production records** (产量 from MES/ERP) — every record of a pull, the dead letters of the
  bad ones and the cursor are written in ONE transaction: all or nothing.

A bad record (field missing, not a number, not a time, unknown product ...) becomes a dead
letter with the record as JSON and the reason; the pull goes on and the cursor moves past it.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.orm import Session

from nengtan.collect.adapter import Adapter, AdapterSettings
from nengtan.collect.points import Letter, Points
from nengtan.errors import InputError
from nengtan.quality.flags import Quality
from nengtan.services import production
from nengtan.services.fields import is_empty, parse_datetime
from nengtan.store.models import CollectCursor, DeadLetter
from nengtan.store.types import to_us

log = logging.getLogger("nengtan.collect.pull")

_EPOCH_US = {"s": 1_000_000, "ms": 1_000, "us": 1}
#: Default first cursor per type (everything after it is pulled on the very first run).
_INITIAL = {"int": 0, "float": 0.0, "str": "", "datetime": "1970-01-01T00:00:00"}
PRODUCTION_KEYS = ("node", "product", "period_start", "period_end", "quantity", "unit", "note")


# -- the stored cursor ---------------------------------------------------------------------

def load(conn: Connection, collector: str, adapter: str) -> str | None:
    """The cursor text saved for (collector, adapter), or None before the first save."""
    return conn.scalar(select(CollectCursor.cursor).where(
        CollectCursor.collector == collector, CollectCursor.adapter == adapter))


def save(conn: Connection, collector: str, adapter: str, cursor: str) -> None:
    """Create or move the cursor; call it in the transaction that commits what it covers.
    Only the adapter itself writes its row, so select-then-write cannot race."""
    key = (CollectCursor.collector == collector, CollectCursor.adapter == adapter)
    if conn.scalar(select(CollectCursor.adapter).where(*key)) is None:
        conn.execute(insert(CollectCursor).values(collector=collector, adapter=adapter,
                                                  cursor=cursor))
    else:
        conn.execute(update(CollectCursor).where(*key).values(cursor=cursor))


# -- cursor values -------------------------------------------------------------------------

class CursorSettings(BaseModel):
    """Which record field is the cursor and how its values compare."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(min_length=1, description="Record field whose greatest value is the "
                       "next cursor (an id, or updated_at).")
    type: Literal["int", "float", "str", "datetime"] = "int"
    initial: int | float | str | None = Field(
        None, description="Cursor of the first pull (default 0, '' or 1970-01-01T00:00:00).")

    @model_validator(mode="after")
    def _initial(self) -> CursorSettings:
        try:
            self.parse(self.initial if self.initial is not None else _INITIAL[self.type])
        except (TypeError, ValueError):
            raise ValueError(f"initial {self.initial!r} is not a cursor of type {self.type}") \
                from None
        return self

    def first(self) -> Any:
        return self.parse(self.initial if self.initial is not None else _INITIAL[self.type])

    def parse(self, raw: Any) -> Any:
        """A record's value as a cursor; ValueError/TypeError when it is not one."""
        if isinstance(raw, bool):
            raise TypeError("a boolean is not a cursor")
        if self.type == "int":
            if isinstance(raw, str):
                return int(raw.strip())
            if isinstance(raw, (float, Decimal)) and raw != int(raw):
                raise ValueError("not a whole number")
            if not isinstance(raw, (int, float, Decimal, np.integer)):
                raise TypeError("not a number")
            return int(raw)
        if self.type == "float":
            value = float(raw.strip() if isinstance(raw, str) else raw)
            if not math.isfinite(value):
                raise ValueError("not finite")
            return value
        if self.type == "str":
            if not isinstance(raw, str):
                raise TypeError("not text")
            return raw
        return parse_datetime(raw)

    def dump(self, value: Any) -> str:
        """The text stored in ``collect_cursors`` (and sent as an HTTP parameter)."""
        if self.type == "datetime":
            return value.isoformat()
        return value if self.type == "str" else repr(value)

    def restore(self, text: str) -> Any:
        return self.parse(text)

    def key(self, value: Any) -> Any:
        """Sort key; a naive time is ordered as if it were UTC so naive and aware compare."""
        if self.type == "datetime" and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


# -- what a pull stores --------------------------------------------------------------------

class ReadingsMap(BaseModel):
    """Record fields → points.  Long form: one record per value (``tag``, ``ts``, ``value``);
    wide form: several value fields per record (``values``), each field name a tag."""

    model_config = ConfigDict(extra="forbid")

    ts: str = "ts"
    tag: str = "tag"
    value: str = "value"
    quality: str | None = Field(None, description="Field with a quality code 0-3 or name.")
    values: list[str] | None = Field(None, min_length=1, description="Wide form: value fields.")
    prefix: str | None = Field(None, description="Wide form: field whose value prefixes the "
                               "tags as <prefix value>/<field>.")

    @model_validator(mode="after")
    def _form(self) -> ReadingsMap:
        if self.prefix is not None and not self.values:
            raise ValueError("prefix is only used with values (the wide form)")
        return self


class ProductionMap(BaseModel):
    """Record fields → a production record (``nengtan.services.production.upsert_production``).
    Each key names the record field holding it; ``defaults`` gives constants for keys whose
    field is absent or empty (e.g. ``{node: PLANT-A, unit: t}``)."""

    model_config = ConfigDict(extra="forbid")

    node: str = "node"
    product: str = "product"
    period_start: str = "period_start"
    period_end: str = Field("period_end", description="Absent: the period_start (one day).")
    quantity: str = "quantity"
    unit: str = Field("unit", description="Absent: the product's unit.")
    note: str = "note"
    defaults: dict[str, str | int | float] = Field(default_factory=dict)

    @field_validator("defaults")
    @classmethod
    def _keys(cls, v: dict) -> dict:
        unknown = set(v) - set(PRODUCTION_KEYS) - {"source"}
        if unknown:
            raise ValueError(f"unknown key(s) {sorted(unknown)}; known: "
                             f"{', '.join(PRODUCTION_KEYS)}, source")
        return v


class PullSettings(AdapterSettings):
    """Keys common to the HTTP and SQL pulls."""

    interval_s: float = Field(60.0, gt=0, description="Wait between the end of one pull and "
                              "the start of the next.")
    once: bool = Field(False, description="Pull until caught up, then stop (cron-style runs).")
    cursor: CursorSettings | None = Field(None, description="Without a cursor every pull "
                                          "reads everything (still stored once).")
    page_size: int | None = Field(None, ge=1, description="A pull that returns this many "
                                  "records is followed at once by the next one.")
    max_pages: int = Field(1000, ge=1, description="Pages per pull at most (a guard).")
    target: Literal["readings", "production"] = "readings"
    readings: ReadingsMap = Field(default_factory=ReadingsMap)
    production: ProductionMap = Field(default_factory=ProductionMap)
    timezone: str | None = Field(None, description="Timezone of times without an offset "
                                 "(default: such times are refused).")
    epoch: Literal["s", "ms", "us"] = Field("ms", description="Unit of numeric times.")
    device: str | None = Field(None, description="Name in counters (default: the adapter).")

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                ZoneInfo(v)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown timezone {v!r}") from None
        return v


@dataclass
class Page:
    """One answer of the source: its records and, for token pagination, the next token."""

    records: list[Any]
    source: str
    next_token: str | None = None


@dataclass
class Batch:
    """Records of one page sorted out: points, production payloads, letters, cursor values."""

    points: Points | None = None
    #: (payload for upsert_production, the record, its index in the page, the page's source)
    production: list[tuple[dict, Any, int, str]] = field(default_factory=list)
    letters: list[Letter] = field(default_factory=list)
    best: Any = None  # greatest cursor value seen


def _json(record: Any) -> bytes:
    return orjson.dumps(record, default=str, option=orjson.OPT_NON_STR_KEYS)


def _number(raw: Any) -> float:
    if isinstance(raw, bool) or raw is None:
        raise TypeError("not a number")
    value = float(raw.strip().replace(",", "") if isinstance(raw, str) else raw)
    if not math.isfinite(value):
        raise ValueError("not finite")
    return value


def time_us(raw: Any, tz: ZoneInfo | None, epoch: str) -> int:
    """µs UTC from an aware datetime, ISO 8601 text, or epoch ``s``/``ms``/``us``; a naive
    time is read in ``tz`` (refused without one)."""
    if isinstance(raw, bool) or raw is None:
        raise TypeError("not a time")
    if isinstance(raw, (int, float, Decimal, np.integer)):
        if not math.isfinite(raw):
            raise ValueError("not finite")
        return round(float(raw) * _EPOCH_US[epoch])
    if isinstance(raw, date) and not isinstance(raw, datetime):
        raw = datetime.combine(raw, time(0))
    dt = parse_datetime(raw)
    if dt.tzinfo is None:
        if tz is None:
            raise ValueError("a time without UTC offset (set timezone)")
        dt = dt.replace(tzinfo=tz)
    return to_us(dt)


class Sorter:
    """Turns pulled records into a :class:`Batch` (pure; no I/O)."""

    def __init__(self, s: PullSettings, source_label: str, device: str):
        self.s = s
        self.tz = ZoneInfo(s.timezone) if s.timezone else None
        self.source = source_label
        self.device = device

    def letter(self, reason: str, record: Any, index: int, source: str, **detail) -> Letter:
        return Letter(reason, _json(record), source, self.device, {"index": index, **detail})

    def sort(self, page: Page, best: Any) -> Batch:
        s, out = self.s, Batch(best=best)
        tags: list[str] = []
        ts: list[int] = []
        values: list[float] = []
        quality: list[int] = []
        for i, rec in enumerate(page.records):
            if not isinstance(rec, dict):
                out.letters.append(self.letter("dead.pull_not_record", rec, i, page.source))
                continue
            if s.cursor is not None:
                raw = rec.get(s.cursor.field)
                if is_empty(raw):
                    out.letters.append(self.letter("dead.pull_missing_field", rec, i, page.source,
                                                   field=s.cursor.field))
                    continue
                try:
                    value = s.cursor.parse(raw)
                except (TypeError, ValueError):
                    out.letters.append(self.letter(
                        "dead.pull_bad_cursor", rec, i, page.source, field=s.cursor.field,
                        type=s.cursor.type, value=str(raw)[:100]))
                    continue
                if out.best is None or s.cursor.key(value) > s.cursor.key(out.best):
                    out.best = value
            if s.target == "production":
                out.production.append((self._production(rec), rec, i, page.source))
            else:
                self._readings(rec, i, page.source, out, tags, ts, values, quality)
        if tags:
            q = np.array(quality, np.int16)
            out.points = Points(tags, np.array(ts, np.int64), np.array(values, np.float64),
                                q if q.any() else None)
        return out

    def _readings(self, rec: dict, i: int, source: str, out: Batch, tags, ts, values,
                  quality) -> None:
        m = self.s.readings

        def bad(reason: str, name: str, raw: Any = None) -> None:
            extra = {} if reason == "dead.pull_missing_field" else {"value": str(raw)[:100]}
            out.letters.append(self.letter(reason, rec, i, source, field=name, **extra))

        raw_ts = rec.get(m.ts)
        if is_empty(raw_ts):
            return bad("dead.pull_missing_field", m.ts)
        try:
            when = time_us(raw_ts, self.tz, self.s.epoch)
        except (TypeError, ValueError, OverflowError):
            return bad("dead.pull_bad_time", m.ts, raw_ts)
        q = 0
        if m.quality is not None and not is_empty(rec.get(m.quality)):
            try:
                q = int(Quality.parse(rec[m.quality]))
            except (KeyError, ValueError, TypeError):
                return bad("dead.pull_bad_quality", m.quality, rec[m.quality])
        if m.values:
            head = ""
            if m.prefix is not None:
                if is_empty(rec.get(m.prefix)):
                    return bad("dead.pull_missing_field", m.prefix)
                head = f"{rec[m.prefix]}/"
            pairs = [(f"{head}{name}", name) for name in m.values]
        else:
            raw_tag = rec.get(m.tag)
            if is_empty(raw_tag) or isinstance(raw_tag, (bool, dict, list)):
                return bad("dead.pull_missing_field", m.tag)
            pairs = [(str(raw_tag), m.value)]
        for tag, name in pairs:
            raw = rec.get(name)
            if is_empty(raw):
                bad("dead.pull_missing_field", name)
                continue
            try:
                v = _number(raw)
            except (TypeError, ValueError):
                bad("dead.pull_bad_number", name, raw)
                continue
            tags.append(tag)
            ts.append(when)
            values.append(v)
            quality.append(q)

    def _production(self, rec: dict) -> dict:
        m = self.s.production
        payload: dict[str, Any] = {}
        for key in PRODUCTION_KEYS:
            raw = rec.get(getattr(m, key))
            payload[key] = m.defaults.get(key) if is_empty(raw) else raw
        if is_empty(payload["period_end"]):
            payload["period_end"] = payload["period_start"]
        if isinstance(payload["quantity"], Decimal):
            payload["quantity"] = float(payload["quantity"])
        payload["source"] = m.defaults.get("source") or self.source
        return {k: v for k, v in payload.items() if not is_empty(v)}


# -- the pull loop -------------------------------------------------------------------------

class PullAdapter(Adapter):
    """Base of the HTTP and SQL pulls: subclasses implement ``open``, ``fetch`` and ``close``."""

    Settings = PullSettings

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect to the source (HTTP client, database engine)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release what :meth:`open` acquired."""

    @abc.abstractmethod
    async def fetch(self, cursor: Any, token: str | None) -> Page | None:
        """One page after ``cursor`` (``token``: next page of a token-paginated answer).
        None: the answer was unusable and has been dead-lettered; raise when the source
        cannot be reached."""

    async def transact(self, fn):
        """``ctx.transact(fn)``, shielded: a shutdown that cancels the adapter while it waits
        must not cancel the transaction itself, which the sink still commits in order."""
        return await asyncio.shield(self.ctx.transact(fn))

    async def run(self) -> None:
        s: PullSettings = self.settings  # type: ignore[assignment]
        ctx = self.ctx
        device = s.device or ctx.name
        sorter = Sorter(s, f"{ctx.collector}/{ctx.name}"[:100], device)
        stored = await self.transact(lambda conn: load(conn, ctx.collector, ctx.name))
        cursor = None
        if s.cursor is not None:
            try:
                cursor = s.cursor.restore(stored) if stored is not None else s.cursor.first()
            except (TypeError, ValueError):
                raise ValueError(f"the stored cursor {stored!r} is not of type {s.cursor.type}; "
                                 "delete it from collect_cursors to start again") from None
        await self.open()
        try:
            while True:
                cursor, again = await self._pull(sorter, device, cursor)
                if again:
                    continue
                if s.once:
                    return
                await asyncio.sleep(s.interval_s)
        finally:
            await self.close()

    async def _pull(self, sorter: Sorter, device: str, cursor: Any) -> tuple[Any, bool]:
        """Pull pages after ``cursor`` until the source has no more; returns the new cursor and
        whether a full page asks for another pull at once."""
        s: PullSettings = self.settings  # type: ignore[assignment]
        ctx = self.ctx
        token: str | None = None
        best, count, records, letters = cursor, 0, [], []
        for _ in range(s.max_pages):
            page = await self.fetch(cursor, token)
            ctx.connected()  # the source answered, even if the answer was unusable
            if page is None:
                break
            ctx.stats.count(device, received=len(page.records))
            ctx.stats.last_data_at = asyncio.get_running_loop().time()
            count += len(page.records)
            batch = sorter.sort(page, best)
            best = batch.best
            if s.target == "production":
                records += batch.production
                letters += batch.letters
            else:
                for letter in batch.letters:
                    await ctx.dead_letter(letter)
                if batch.points is not None:
                    await ctx.submit(batch.points, device=device, source=page.source)
            token = page.next_token
            if not token:
                break
        else:
            ctx.event("error", device=device, severity="warning", max_pages=s.max_pages)
        moved = s.cursor is not None and best is not None and (
            cursor is None or s.cursor.key(best) != s.cursor.key(cursor))
        text = s.cursor.dump(best) if moved else None
        if s.target == "production" and (records or letters):
            await self._commit_production(device, records, letters, text)
        elif text is not None:
            await self.transact(lambda conn: save(conn, ctx.collector, ctx.name, text))
        again = bool(moved and s.page_size and token is None and count >= s.page_size)
        return (best if moved else cursor), again

    async def _commit_production(self, device: str, records: list[tuple[dict, Any, int, str]],
                                 letters: list[Letter], cursor_text: str | None) -> None:
        """Production records, the letters of the refused ones and the cursor: one transaction."""
        ctx = self.ctx

        def write(conn: Connection) -> tuple[int, int]:
            refused = list(letters)
            stored = 0
            with Session(bind=conn) as session:
                for payload, rec, i, source in records:
                    try:
                        production.upsert_production(session, payload)
                        stored += 1
                    except InputError as exc:
                        first = exc.issues[0]
                        refused.append(Letter(
                            "dead.pull_production_refused", _json(rec), source, device,
                            {"index": i, "field": first.field or "",
                                     "rule": first.rule, "value": str(first.value)[:100],
                                     "issues": exc.as_list()}))
                session.flush()
            if refused:
                conn.execute(insert(DeadLetter), [{
                    "collector": ctx.collector, "adapter": ctx.name, "source": lt.source[:400],
                    "reason": lt.reason, "detail": {**lt.detail, "device": device},
                    "payload": lt.payload, "status": "open"} for lt in refused])
            if cursor_text is not None:
                save(conn, ctx.collector, ctx.name, cursor_text)
            return stored, len(refused)

        stored, refused = await self.transact(write)
        ctx.stats.count(device, stored=stored, rejected=refused, dead_lettered=refused)
