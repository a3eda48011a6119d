"""From submitted points to committed readings, dead letters and acknowledgements.

Adapters hand points to the sink; a flusher task commits them in batches (``flush.max_points``
or ``flush.max_delay_s``, whichever comes first) on a worker thread while new points keep
arriving.  Only after a batch is committed are its acknowledgements called (for MQTT: the
PUBACK of each message), so a crash at any moment leaves every unacknowledged message with the
broker, which delivers it again; storing it again is a no-op because readings are idempotent
per (meter, ts).  That is what makes SIGKILL lossless and duplicate-free.

Failures:

* database unreachable → the batch is retried with back-off, nothing is acknowledged meanwhile,
  and adapters wait once ``flush.high_water`` points are buffered (back-pressure);
* anything else → the batch is split and retried entry by entry; an entry that still fails
  becomes a dead letter (reason ``dead.store_failed``) so one poisonous message cannot stop
  the stream.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
from sqlalchemy import Connection, Engine, insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from nengtan.collect.points import Letter, Points, now_us
from nengtan.collect.tagmap import UNKNOWN
from nengtan.errors import InputError
from nengtan.services import ingest
from nengtan.store.models import DeadLetter

if TYPE_CHECKING:  # pragma: no cover
    from nengtan.collect.adapter import AdapterContext
    from nengtan.collect.config import Flush

log = logging.getLogger("nengtan.collect")


@dataclass
class Entry:
    ctx: AdapterContext
    points: Points | None = None
    device: str | None = None
    ack: Callable[[], None] | None = None
    source: str | None = None
    payload: bytes | None = None
    letter: Letter | None = None
    #: transact(fn): runs alone, after everything before it.
    fn: Callable[[Connection], Any] | None = None
    future: asyncio.Future | None = None

    @property
    def size(self) -> int:
        return len(self.points) if self.points is not None else 1


@dataclass
class _Outcome:
    """What one committed batch did, for the counters."""

    per_device: dict = field(default_factory=dict)  # (ctx, device) → {stored, rejected, dead_lettered}
    per_adapter: dict = field(default_factory=dict)  # ctx → {duplicates, revised}

    def add(self, ctx, device, **delta: int) -> None:
        row = self.per_device.setdefault((ctx, device), {})
        for k, v in delta.items():
            row[k] = row.get(k, 0) + v


class Sink:
    def __init__(self, engine: Engine, collector: str, flush: Flush,
                 event: Callable[..., None] | None = None):
        self.engine = engine
        self.collector = collector
        self.flush = flush
        self._event = event or (lambda **kw: None)
        self._buffer: list[Entry] = []
        self._buffered = 0
        self._oldest: float | None = None
        self._kick = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._closing = False
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="nengtan-sink")
        self.flushes = 0
        self.flush_errors = 0
        self.last_flush_s: float | None = None
        self.last_commit_at: float | None = None

    # -- adapter side ------------------------------------------------------------------------

    async def submit(self, ctx: AdapterContext, points: Points, device: str | None,
                     ack: Callable[[], None] | None, source: str | None,
                     payload: bytes | None) -> None:
        while self._buffered >= self.flush.high_water:
            self._room.clear()
            await self._room.wait()
        self._put(Entry(ctx, points, device, ack, source, payload))

    async def dead_letter(self, ctx: AdapterContext, letter: Letter,
                          ack: Callable[[], None] | None) -> None:
        ctx.stats.count(letter.device, rejected=1)
        self._put(Entry(ctx, letter=letter, device=letter.device, ack=ack))

    async def transact(self, fn: Callable[[Connection], Any]) -> Any:
        future = asyncio.get_running_loop().create_future()
        self._put(Entry(None, fn=fn, future=future))  # type: ignore[arg-type]
        return await future

    async def drain(self) -> None:
        """Return once everything submitted so far is committed (or the sink is closed)."""
        self._kick.set()
        while self._buffer or not self._idle.is_set():
            self._kick.set()
            await asyncio.sleep(0.01)

    @property
    def buffered(self) -> int:
        return self._buffered

    def _put(self, entry: Entry) -> None:
        first = not self._buffer
        if first:
            self._oldest = time.monotonic()
        self._buffer.append(entry)
        self._buffered += entry.size
        self._idle.clear()
        if first or self._buffered >= self.flush.max_points or entry.fn is not None:
            self._kick.set()

    # -- flusher -----------------------------------------------------------------------------

    async def run(self) -> None:
        """The flusher task: runs until ``close()``, then commits what is left."""
        loop = asyncio.get_running_loop()
        while True:
            if not self._buffer:
                self._idle.set()
                if self._closing:
                    return
                self._kick.clear()
                await self._kick.wait()
                continue
            wait = self.flush.max_delay_s - (time.monotonic() - (self._oldest or 0))
            if wait > 0 and self._buffered < self.flush.max_points and not self._closing \
                    and not any(e.fn for e in self._buffer):
                self._kick.clear()
                try:
                    await asyncio.wait_for(self._kick.wait(), wait)
                except TimeoutError:
                    pass
                continue
            batch, self._buffer, self._buffered, self._oldest = self._buffer, [], 0, None
            self._room.set()
            await self._commit_all(loop, batch)

    async def close(self) -> None:
        self._closing = True
        self._kick.set()

    async def _commit_all(self, loop, batch: list[Entry]) -> None:
        """Commit ``batch`` in order; transact entries run alone between the data around them."""
        start = 0
        for i, entry in enumerate(batch + [None]):  # type: ignore[list-item]
            if entry is None or entry.fn is not None:
                if i > start:
                    await self._commit_data(loop, batch[start:i])
                if entry is not None:
                    await self._run_fn(loop, entry)
                start = i + 1

    async def _run_fn(self, loop, entry: Entry) -> None:
        def work():
            with self.engine.begin() as conn:
                return entry.fn(conn)
        try:
            result = await self._retrying(loop, work)
        except Exception as exc:  # noqa: BLE001 - handed to the caller
            entry.future.set_exception(exc)
        else:
            entry.future.set_result(result)

    async def _commit_data(self, loop, entries: list[Entry]) -> None:
        began = time.perf_counter()
        try:
            outcome = await self._retrying(loop, lambda: self._store(entries))
        except _Poison:
            # Entry by entry: the poisonous ones become dead letters, the rest are stored.
            for entry in entries:
                await self._commit_one(loop, entry)
            return
        self._settle(entries, outcome)
        self.flushes += 1
        self.last_flush_s = time.perf_counter() - began
        self.last_commit_at = time.time()

    async def _commit_one(self, loop, entry: Entry) -> None:
        try:
            outcome = await self._retrying(loop, lambda: self._store([entry]))
        except _Poison as poison:
            letter = Letter("dead.store_failed", _payload_of(entry), entry.source or "",
                            entry.device, {"error": str(poison.__cause__)[:500]})
            replacement = Entry(entry.ctx, device=entry.device, letter=letter, ack=entry.ack)
            outcome = await self._retrying(loop, lambda: self._store([replacement]))
            if entry.points is not None:
                entry.ctx.stats.count(entry.device, rejected=len(entry.points))
            entry = replacement
        self._settle([entry], outcome)

    async def _retrying(self, loop, work: Callable[[], Any]) -> Any:
        """Run ``work`` on the sink thread; retry while the database is unreachable."""
        delay = self.flush.retry_initial_s
        while True:
            try:
                return await loop.run_in_executor(self._executor, work)
            except (OperationalError, InterfaceError) as exc:
                transient = True
                error = exc
            except DBAPIError as exc:
                transient = bool(exc.connection_invalidated)
                error = exc
            except Exception as exc:
                raise _Poison() from exc
            if not transient:
                raise _Poison() from error
            self.flush_errors += 1
            log.warning("database unavailable (%s); retrying in %.1f s", error.__class__.__name__,
                        delay)
            self._event(kind="error", adapter=None, device=None, severity="error",
                        detail={"error": str(error)[:300], "retry_in_s": delay})
            await asyncio.sleep(delay)
            delay = min(self.flush.retry_max_s, delay * 2)

    def _settle(self, entries: list[Entry], outcome: _Outcome) -> None:
        for (ctx, device), delta in outcome.per_device.items():
            ctx.stats.count(device, **delta)
        for ctx, delta in outcome.per_adapter.items():
            ctx.stats.total.add(**delta)
        for entry in entries:
            if entry.ack is not None:
                try:
                    entry.ack()
                except Exception:
                    log.debug("ack failed", exc_info=True)

    # -- the transaction (sink thread) -------------------------------------------------------

    def _store(self, entries: list[Entry]) -> _Outcome:
        outcome = _Outcome()
        with self.engine.begin() as conn:
            letters: list[tuple[Entry, Letter]] = []
            groups: dict[Any, list] = {}
            cems: dict[tuple[str, str], list] = {}
            for entry in entries:
                if entry.letter is not None:
                    letters.append((entry, entry.letter))
                    continue
                self._route(conn, entry, groups, cems, letters, outcome)
            for ctx, parts in groups.items():
                self._ingest(conn, ctx, parts, letters, outcome)
            for (code, param), parts in cems.items():
                self._ingest_cems(conn, code, param, parts, letters, outcome)
            if letters:
                conn.execute(insert(DeadLetter), [{
                    "collector": self.collector, "adapter": entry.ctx.name,
                    "source": (letter.source or "")[:400], "reason": letter.reason,
                    "detail": {**letter.detail, **({"device": letter.device} if letter.device else {})},
                    "payload": letter.payload, "status": "open"} for entry, letter in letters])
                for entry, letter in letters:
                    outcome.add(entry.ctx, letter.device, dead_lettered=1)
        return outcome

    def _route(self, conn, entry: Entry, groups, cems, letters, outcome) -> None:
        pts = entry.points
        ctx = entry.ctx
        idx = ctx.tagmap.resolve(conn, pts.tag, entry.device if ctx.qualify_tags else None)
        unknown = idx == UNKNOWN
        if unknown.any():
            bad = np.flatnonzero(unknown)
            letters.append((entry, Letter("dead.unknown_tag", _points_json(pts, bad),
                                          entry.source or "", entry.device,
                                          {"tags": sorted({pts.tag[i] for i in bad})[:100],
                                           "count": len(bad)})))
            outcome.add(ctx, entry.device, rejected=len(bad))
        lo, hi = ingest.MIN_TS_US, now_us() + ingest.MAX_FUTURE_US
        out_of_range = ~unknown & ((pts.ts < lo) | (pts.ts > hi))
        if out_of_range.any():
            bad = np.flatnonzero(out_of_range)
            letters.append((entry, Letter("dead.bad_timestamp", _points_json(pts, bad),
                                          entry.source or "", entry.device,
                                          {"count": len(bad), "rule": "rule.ts_range"})))
            outcome.add(ctx, entry.device, rejected=len(bad))
        keep = np.flatnonzero(~unknown & ~out_of_range)
        if not len(keep):
            return
        targets = ctx.tagmap.targets
        kinds = np.array([targets[i].kind == "meter" for i in idx[keep]], bool)
        meter_rows, cems_rows = keep[kinds], keep[~kinds]
        if len(meter_rows):
            groups.setdefault(ctx, []).append((entry, meter_rows, idx[meter_rows]))
        for i in cems_rows:
            t = targets[idx[i]]
            cems.setdefault((t.cems, t.param), []).append((entry, int(i)))

    def _ingest(self, conn, ctx, parts, letters, outcome) -> None:
        targets = ctx.tagmap.targets
        meter_id = np.concatenate([[targets[t].meter_id for t in tidx] for _, _, tidx in parts])
        ts = np.concatenate([e.points.ts[rows] for e, rows, _ in parts])
        value = np.concatenate([e.points.value[rows] for e, rows, _ in parts])
        quality = None
        if any(e.points.quality is not None for e, _, _ in parts):
            quality = np.concatenate([
                e.points.quality[rows] if e.points.quality is not None
                else np.zeros(len(rows), np.int16) for e, rows, _ in parts])
        tidx = np.concatenate([t for _, _, t in parts])
        unit = None
        if any(targets[t].unit or targets[t].linear for t in np.unique(tidx)):
            scale = np.array([targets[t].scale for t in tidx])
            offset = np.array([targets[t].offset for t in tidx])
            value = value * scale + offset
            unit = np.array([targets[t].unit for t in tidx], dtype=object)
        owner = np.concatenate([np.full(len(rows), k) for k, (_, rows, _) in enumerate(parts)])
        reason = None
        if quality is not None and (quality == 3).any():
            reason = np.array([None] * len(ts), dtype=object)
            reason[quality == 3] = f"rejected at source ({ctx.name})"
        batch = ingest.ReadingBatch(np.asarray(meter_id, np.int64), ts, value, quality, reason,
                                    unit, np.arange(len(ts)))
        while True:
            try:
                # ingest() validates the whole batch before it writes anything, so a rejected
                # batch leaves the transaction clean for the retry without the bad rows.
                result = ingest.ingest(conn, batch, source=f"collect:{ctx.kind}",
                                       detail=f"{self.collector}/{ctx.name}")
                break
            except InputError as exc:
                bad = np.unique([i.row for i in exc.issues if i.row is not None])
                if not len(bad):
                    raise
                for k in np.unique(owner[bad]):
                    entry = parts[k][0]
                    mine = bad[owner[bad] == k]
                    first = next(i for i in exc.issues if i.row in set(mine.tolist()))
                    letters.append((entry, Letter(
                        "dead.invalid", orjson.dumps([_point(batch, i) for i in mine]),
                        entry.source or "", entry.device,
                        {"rule": first.rule, "field": first.field, "count": len(mine)})))
                    outcome.add(ctx, entry.device, rejected=len(mine))
                keep = np.setdiff1d(np.arange(len(batch)), bad)
                if not len(keep):
                    return
                batch, owner = _take(batch, keep), owner[keep]
        counts = np.bincount(owner, minlength=len(parts))
        for k, (entry, _, _) in enumerate(parts):
            outcome.add(ctx, entry.device, stored=int(counts[k]))
        row = outcome.per_adapter.setdefault(ctx, {"duplicates": 0, "revised": 0})
        row["duplicates"] += result.unchanged
        row["revised"] += result.revised

    def _ingest_cems(self, conn, code, param, parts, letters, outcome) -> None:
        from nengtan.services import cems as cems_service

        ts = np.array([e.points.ts[i] for e, i in parts], np.int64)
        value = np.array([e.points.value[i] for e, i in parts], np.float64)
        try:  # like ingest(), ingest_points() validates before it writes
            cems_service.ingest_points(conn, code, param, ts, value)
        except InputError as exc:
            by_entry: dict[int, tuple[Entry, list[int]]] = {}
            for e, i in parts:
                by_entry.setdefault(id(e), (e, []))[1].append(i)
            for entry, rows in by_entry.values():
                letters.append((entry, Letter(
                    "dead.invalid", _points_json(entry.points, np.array(rows)), entry.source or "",
                    entry.device, {"rule": exc.issues[0].rule if exc.issues else None,
                                   "cems": code, "param": param, "count": len(rows)})))
                outcome.add(entry.ctx, entry.device, rejected=len(rows))
            return
        for e, _ in parts:
            outcome.add(e.ctx, e.device, stored=1)


class _Poison(Exception):
    """Storing failed for a reason that retrying will not fix."""


def _take(batch: ingest.ReadingBatch, keep: np.ndarray) -> ingest.ReadingBatch:
    pick = lambda a: None if a is None else np.asarray(a)[keep]
    return ingest.ReadingBatch(batch.meter_id[keep], batch.ts[keep], batch.value[keep],
                               pick(batch.quality), pick(batch.reason), pick(batch.unit),
                               np.arange(len(keep)))


def _iso(us: int) -> str:
    return np.datetime64(int(us), "us").astype(str) + "Z"


def _point(batch: ingest.ReadingBatch, i: int) -> dict:
    return {"meter_id": int(batch.meter_id[i]), "ts": _iso(batch.ts[i]),
            "v": float(batch.value[i])}


def _points_json(pts: Points, rows: np.ndarray) -> bytes:
    q = pts.quality
    return orjson.dumps([{"tag": pts.tag[i], "ts": _iso(pts.ts[i]), "v": float(pts.value[i]),
                          **({"q": int(q[i])} if q is not None else {})} for i in rows],
                        option=orjson.OPT_SERIALIZE_NUMPY)


def _payload_of(entry: Entry) -> bytes:
    if entry.payload is not None:
        return entry.payload
    if entry.points is not None:
        return _points_json(entry.points, np.arange(len(entry.points)))
    return entry.letter.payload if entry.letter else b""
