"""Committing a prepared batch: readings, CEMS samples and dead letters in one transaction.

The sink prepares a :class:`Job` (points already mapped to meters, bad ones already turned into
letters) and hands it to a writer.  :class:`ThreadWriter` commits on a thread of the collector;
:class:`ProcessWriter` commits in a child process of its own, so that receiving and parsing
(the adapters) and storing (``ingest``: validation, rollups, COPY) each get a CPU core instead
of taking turns on one interpreter lock.  Jobs and results are plain data (numpy arrays,
letters), so either writer gives the same result.

A writer raises :class:`Transient` when the database is unreachable (retry later) and
:class:`Poison` when retrying cannot help (the sink then stores entry by entry).
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from dataclasses import dataclass, field

import numpy as np
import orjson
from sqlalchemy import Engine, insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from nengtan.collect.points import Letter
from nengtan.errors import InputError
from nengtan.services import ingest

log = logging.getLogger("nengtan.collect")


class Transient(Exception):
    """The database could not be reached; the same job may succeed later."""


class Poison(Exception):
    """The job failed for a reason that retrying will not fix."""


@dataclass
class ReadingGroup:
    """One adapter's readings in a job; ``owner`` is the entry index of every row."""

    adapter: str
    kind: str
    meter_id: np.ndarray
    ts: np.ndarray
    value: np.ndarray
    owner: np.ndarray
    quality: np.ndarray | None = None
    reason: np.ndarray | None = None
    unit: np.ndarray | None = None


@dataclass
class CemsGroup:
    code: str
    param: str
    ts: np.ndarray
    value: np.ndarray
    owner: np.ndarray


@dataclass
class Job:
    collector: str
    entries: int
    #: Per entry: adapter name, source (topic ...) and device, for letters made while storing.
    adapter: list[str]
    source: list[str]
    device: list[str | None]
    groups: list[ReadingGroup] = field(default_factory=list)
    cems: list[CemsGroup] = field(default_factory=list)
    letters: list[tuple[int, Letter]] = field(default_factory=list)


@dataclass
class JobResult:
    stored: np.ndarray  # per entry
    rejected: np.ndarray  # per entry: rows refused while storing
    dead_lettered: np.ndarray  # per entry
    duplicates: dict[str, int]  # per adapter
    revised: dict[str, int]


def execute(engine: Engine, job: Job) -> JobResult:
    """Commit ``job``; raises Transient or Poison."""
    try:
        with engine.begin() as conn:
            return _store(conn, job)
    except (OperationalError, InterfaceError) as exc:
        raise Transient(str(exc)[:500]) from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise Transient(str(exc)[:500]) from exc
        raise Poison(str(exc)[:500]) from exc
    except Exception as exc:
        raise Poison(f"{exc.__class__.__name__}: {exc}"[:500]) from exc


def _store(conn, job: Job) -> JobResult:
    n = job.entries
    res = JobResult(np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64), {}, {})
    letters = list(job.letters)
    for group in job.groups:
        _ingest(conn, job, group, letters, res)
    for group in job.cems:
        _ingest_cems(conn, job, group, letters, res)
    if letters:
        conn.execute(insert(_dead_letter_table()), [{
            "collector": job.collector, "adapter": job.adapter[k],
            "source": (letter.source or "")[:400], "reason": letter.reason,
            "detail": {**letter.detail, **({"device": letter.device} if letter.device else {})},
            "payload": letter.payload, "status": "open"} for k, letter in letters])
        for k, _ in letters:
            res.dead_lettered[k] += 1
    return res


def _dead_letter_table():
    from nengtan.store.models import DeadLetter

    return DeadLetter


def _ingest(conn, job: Job, g: ReadingGroup, letters: list, res: JobResult) -> None:
    batch = ingest.ReadingBatch(g.meter_id, g.ts, g.value, g.quality, g.reason, g.unit,
                                np.arange(len(g.ts)))
    owner = g.owner
    while True:
        try:
            # ingest() validates the whole batch before it writes anything, so a refused
            # batch leaves the transaction clean for the retry without the bad rows.
            result = ingest.ingest(conn, batch, source=f"collect:{g.kind}",
                                   detail=f"{job.collector}/{g.adapter}")
            break
        except InputError as exc:
            bad = np.unique([i.row for i in exc.issues if i.row is not None]).astype(np.int64)
            if not len(bad):
                raise
            rows_of = {int(r): i for i in exc.issues if i.row is not None for r in [i.row]}
            for k in np.unique(owner[bad]):
                mine = bad[owner[bad] == k]
                first = rows_of[int(mine[0])]
                letters.append((int(k), Letter(
                    "dead.invalid", orjson.dumps([_point(batch, i) for i in mine]),
                    job.source[k], job.device[k],
                    {"rule": first.rule, "field": first.field, "count": len(mine)})))
                res.rejected[k] += len(mine)
            keep = np.setdiff1d(np.arange(len(batch)), bad)
            if not len(keep):
                return
            batch, owner = _take(batch, keep), owner[keep]
    res.stored += np.bincount(owner, minlength=job.entries)
    res.duplicates[g.adapter] = res.duplicates.get(g.adapter, 0) + result.unchanged
    res.revised[g.adapter] = res.revised.get(g.adapter, 0) + result.revised


def _ingest_cems(conn, job: Job, g: CemsGroup, letters: list, res: JobResult) -> None:
    from nengtan.services import cems as cems_service

    try:  # like ingest(), ingest_points() validates before it writes
        cems_service.ingest_points(conn, g.code, g.param, g.ts, g.value)
    except InputError as exc:
        for k in np.unique(g.owner):
            rows = np.flatnonzero(g.owner == k)
            letters.append((int(k), Letter(
                "dead.invalid", orjson.dumps([{"cems": g.code, "param": g.param,
                                               "ts": _iso(g.ts[i]), "v": float(g.value[i])}
                                              for i in rows]),
                job.source[k], job.device[k],
                {"rule": exc.issues[0].rule if exc.issues else None, "count": len(rows)})))
            res.rejected[k] += len(rows)
        return
    res.stored += np.bincount(g.owner, minlength=job.entries)


def _take(batch: ingest.ReadingBatch, keep: np.ndarray) -> ingest.ReadingBatch:
    def pick(a):
        return None if a is None else np.asarray(a)[keep]
    return ingest.ReadingBatch(batch.meter_id[keep], batch.ts[keep], batch.value[keep],
                               pick(batch.quality), pick(batch.reason), pick(batch.unit),
                               np.arange(len(keep)))


def _iso(us: int) -> str:
    return np.datetime64(int(us), "us").astype(str) + "Z"


def _point(batch: ingest.ReadingBatch, i: int) -> dict:
    return {"meter_id": int(batch.meter_id[i]), "ts": _iso(batch.ts[i]),
            "v": float(batch.value[i])}


# -- writers -------------------------------------------------------------------------------

class ThreadWriter:
    """Commits in the calling thread (the sink runs it on its worker thread)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def write(self, job: Job) -> JobResult:
        return execute(self.engine, job)

    def close(self) -> None:
        pass


class ProcessWriter:
    """Commits in a child process; restarted if it dies.  Call ``write`` from one thread."""

    def __init__(self, url: str):
        self.url = url
        self._ctx = multiprocessing.get_context("spawn")
        self._proc = None
        self._conn = None
        self._lock = threading.Lock()

    def _start(self) -> None:
        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(target=_child_main, args=(self.url, child),
                                       name="nengtan-writer", daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent

    def write(self, job: Job) -> JobResult:
        with self._lock:
            if self._proc is None or not self._proc.is_alive():
                self._start()
            try:
                self._conn.send(job)
                status, payload = self._conn.recv()
            except (EOFError, OSError, BrokenPipeError) as exc:
                self._proc = None
                raise Transient(f"writer process ended: {exc!r}") from exc
        if status == "ok":
            return payload
        raise (Transient if status == "transient" else Poison)(payload)

    def close(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.is_alive():
                try:
                    self._conn.send(None)
                    self._proc.join(30)
                except (OSError, BrokenPipeError):
                    pass
                if self._proc.is_alive():
                    self._proc.terminate()
            self._proc = None


def _child_main(url: str, conn) -> None:
    """Writer process: one job at a time until told to stop or the collector goes away."""
    from nengtan.store import db

    engine = db.make_engine(url)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return  # the collector died: its uncommitted work is redelivered to its successor
        if job is None:
            return
        try:
            conn.send(("ok", execute(engine, job)))
        except Transient as exc:
            engine.dispose()
            conn.send(("transient", str(exc)))
        except Poison as exc:
            conn.send(("poison", str(exc)))
