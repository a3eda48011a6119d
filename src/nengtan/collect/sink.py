"""From submitted points to committed readings, dead letters and acknowledgements.

Adapters hand points to the sink; a flusher task maps them to meters (``tagmap``) and commits
them in batches (``flush.max_points`` or ``flush.max_delay_s``, whichever comes first) through a
writer (``writer``: a thread, or a process of its own on PostgreSQL) while new points keep
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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from nengtan.collect.points import Letter, Points, now_us
from nengtan.collect.tagmap import UNKNOWN
from nengtan.collect.writer import (
    CemsGroup,
    Job,
    JobResult,
    Poison,
    ProcessWriter,
    ReadingGroup,
    ThreadWriter,
    Transient,
)
from nengtan.services import ingest

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


class Sink:
    def __init__(self, engine: Engine, collector: str, flush: Flush,
                 event: Callable[..., None] | None = None):
        self.engine = engine
        use_process = flush.writer == "process" or (
            flush.writer == "auto" and engine.dialect.name == "postgresql")
        self.writer = (ProcessWriter(engine.url.render_as_string(hide_password=False))
                       if use_process else ThreadWriter(engine))
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

    def shutdown(self) -> None:
        """Stop the writer (after ``run`` has returned)."""
        self.writer.close()
        self._executor.shutdown(wait=True)

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
            if not entry.future.done():  # the caller may have been cancelled meanwhile
                entry.future.set_exception(exc)
        else:
            if not entry.future.done():
                entry.future.set_result(result)

    async def _commit_data(self, loop, entries: list[Entry]) -> None:
        began = time.perf_counter()
        try:
            result = await self._retrying(loop, lambda: self._write(entries))
        except Poison:
            # Entry by entry: the poisonous ones become dead letters, the rest are stored.
            for entry in entries:
                await self._commit_one(loop, entry)
            return
        self._settle(entries, result)
        self.flushes += 1
        self.last_flush_s = time.perf_counter() - began
        self.last_commit_at = time.time()

    async def _commit_one(self, loop, entry: Entry) -> None:
        try:
            result = await self._retrying(loop, lambda: self._write([entry]))
        except Poison as poison:
            letter = Letter("dead.store_failed", _payload_of(entry), entry.source or "",
                            entry.device, {"error": str(poison)[:500]})
            if entry.points is not None:
                entry.ctx.stats.count(entry.device, rejected=len(entry.points))
            entry = Entry(entry.ctx, device=entry.device, letter=letter, ack=entry.ack)
            result = await self._retrying(loop, lambda: self._write([entry]))
        self._settle([entry], result)

    async def _retrying(self, loop, work: Callable[[], Any]) -> Any:
        """Run ``work`` on the sink thread; retry while the database is unreachable."""
        delay = self.flush.retry_initial_s
        while True:
            try:
                return await loop.run_in_executor(self._executor, work)
            except Transient as exc:
                error = str(exc)
            except (OperationalError, InterfaceError) as exc:
                error = str(exc)
            except DBAPIError as exc:
                if not exc.connection_invalidated:
                    raise Poison(str(exc)[:500]) from exc
                error = str(exc)
            except Poison:
                raise
            except Exception as exc:
                raise Poison(f"{exc.__class__.__name__}: {exc}"[:500]) from exc
            self.flush_errors += 1
            log.warning("database unavailable (%s); retrying in %.1f s", error[:200], delay)
            self._event(kind="error", adapter=None, device=None, severity="error",
                        detail={"error": error[:300], "retry_in_s": delay})
            await asyncio.sleep(delay)
            delay = min(self.flush.retry_max_s, delay * 2)

    def _settle(self, entries: list[Entry], result: JobResult) -> None:
        for k, entry in enumerate(entries):
            stored, rejected, dead = (int(result.stored[k]), int(result.rejected[k]),
                                      int(result.dead_lettered[k]))
            if stored or rejected or dead:
                entry.ctx.stats.count(entry.device, stored=stored, rejected=rejected,
                                      dead_lettered=dead)
        adapters = {e.ctx.name: e.ctx for e in entries}
        for name, n in result.duplicates.items():
            adapters[name].stats.total.add(duplicates=n)
        for name, n in result.revised.items():
            adapters[name].stats.total.add(revised=n)
        for entry in entries:
            if entry.ack is not None:
                try:
                    entry.ack()
                except Exception:
                    log.debug("ack failed", exc_info=True)

    # -- preparing a job (sink thread) -------------------------------------------------------

    def _write(self, entries: list[Entry]) -> JobResult:
        return self.writer.write(self._prepare(entries))

    def _prepare(self, entries: list[Entry]) -> Job:
        """Map points to meters, turn unusable points into letters, group rows per adapter."""
        job = Job(self.collector, len(entries), [e.ctx.name for e in entries],
                  [e.source or "" for e in entries], [e.device for e in entries])
        meter_parts: dict[str, list] = {}
        cems_parts: dict[tuple[str, str], list] = {}
        lo, hi = ingest.MIN_TS_US, now_us() + ingest.MAX_FUTURE_US
        for k, entry in enumerate(entries):
            if entry.letter is not None:
                job.letters.append((k, entry.letter))
                continue
            pts, ctx = entry.points, entry.ctx
            idx = ctx.tagmap.resolve(self.engine, pts.tag, entry.device if ctx.qualify_tags else None)
            unknown = idx == UNKNOWN
            if unknown.any():
                bad = np.flatnonzero(unknown)
                job.letters.append((k, Letter(
                    "dead.unknown_tag", _points_json(pts, bad), entry.source or "", entry.device,
                    {"tags": sorted({pts.tag[i] for i in bad})[:100], "count": len(bad)})))
                ctx.stats.count(entry.device, rejected=len(bad))
            out_of_range = ~unknown & ((pts.ts < lo) | (pts.ts > hi))
            if out_of_range.any():
                bad = np.flatnonzero(out_of_range)
                job.letters.append((k, Letter(
                    "dead.bad_timestamp", _points_json(pts, bad), entry.source or "",
                    entry.device, {"count": len(bad), "rule": "rule.ts_range"})))
                ctx.stats.count(entry.device, rejected=len(bad))
            keep = np.flatnonzero(~unknown & ~out_of_range)
            if not len(keep):
                continue
            targets = ctx.tagmap.targets
            is_meter = np.fromiter((targets[i].kind == "meter" for i in idx[keep]), bool, len(keep))
            rows = keep[is_meter]
            if len(rows):
                meter_parts.setdefault(ctx.name, [ctx, []])[1].append((k, entry, rows, idx[rows]))
            for i in keep[~is_meter]:
                t = targets[idx[i]]
                cems_parts.setdefault((t.cems, t.param), []).append((k, entry, int(i)))
        for ctx, parts in meter_parts.values():
            job.groups.append(_reading_group(ctx, parts))
        for (code, param), parts in cems_parts.items():
            job.cems.append(CemsGroup(
                code, param, np.array([e.points.ts[i] for _, e, i in parts], np.int64),
                np.array([e.points.value[i] for _, e, i in parts], np.float64),
                np.array([k for k, _, _ in parts], np.int64)))
        return job


def _reading_group(ctx: AdapterContext, parts: list) -> ReadingGroup:
    targets = ctx.tagmap.targets
    tidx = np.concatenate([t for _, _, _, t in parts])
    meter_of = np.fromiter((t.meter_id if t.meter_id is not None else -1 for t in targets),
                           np.int64, len(targets))
    ts = np.concatenate([e.points.ts[rows] for _, e, rows, _ in parts])
    value = np.concatenate([e.points.value[rows] for _, e, rows, _ in parts])
    owner = np.concatenate([np.full(len(rows), k, np.int64) for k, _, rows, _ in parts])
    quality = reason = unit = None
    if any(e.points.quality is not None for _, e, _, _ in parts):
        quality = np.concatenate([e.points.quality[rows] if e.points.quality is not None
                                  else np.zeros(len(rows), np.int16) for _, e, rows, _ in parts])
        if (quality == 3).any():
            reason = np.full(len(ts), None, dtype=object)
            given = np.concatenate([np.asarray(e.points.reason, dtype=object)[rows]
                                    if e.points.reason is not None
                                    else np.full(len(rows), None, dtype=object)
                                    for _, e, rows, _ in parts])
            rejected = quality == 3
            reason[rejected] = [g or f"rejected at source ({ctx.name})" for g in given[rejected]]
    used = np.unique(tidx)
    if any(targets[t].unit or targets[t].linear for t in used):
        scale = np.fromiter((t.scale for t in targets), np.float64, len(targets))
        offset = np.fromiter((t.offset for t in targets), np.float64, len(targets))
        value = value * scale[tidx] + offset[tidx]
        unit = np.array([t.unit for t in targets], dtype=object)[tidx]
    return ReadingGroup(ctx.name, ctx.kind, meter_of[tidx], ts, value, owner, quality, reason,
                        unit)


def _iso(us: int) -> str:
    return np.datetime64(int(us), "us").astype(str) + "Z"


def _points_json(pts: Points, rows: np.ndarray) -> bytes:
    q = pts.quality
    return orjson.dumps([{"tag": pts.tag[i], "ts": _iso(pts.ts[i]), "v": float(pts.value[i]),
                          **({"q": int(q[i])} if q is not None else {})} for i in rows])


def _payload_of(entry: Entry) -> bytes:
    if entry.payload is not None:
        return entry.payload
    if entry.points is not None:
        return _points_json(entry.points, np.arange(len(entry.points)))
    return entry.letter.payload if entry.letter else b""
