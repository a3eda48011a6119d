"""The collector process: adapters under supervision, one sink, a health endpoint.

``Collector(config).run(stop)`` runs until ``stop`` is set (SIGTERM/SIGINT in ``nengtan collect``),
then shuts down gracefully: adapters stop taking data, everything buffered is committed and
acknowledged, connections close.  A crash or SIGKILL skips all of that and loses nothing either
(see ``nengtan.collect.sink``).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from datetime import UTC, datetime

from sqlalchemy import Engine, insert

from nengtan.collect.adapter import Adapter, AdapterContext, AdapterStats
from nengtan.collect.config import CollectConfig
from nengtan.collect.health import HealthServer
from nengtan.collect.sink import Sink
from nengtan.collect.tagmap import TagMap
from nengtan.store import db
from nengtan.store.models import CollectorEvent

log = logging.getLogger("nengtan.collect")

COUNTERS = ("received", "stored", "duplicates", "revised", "rejected", "dead_lettered")


class Collector:
    def __init__(self, config: CollectConfig, engine: Engine | None = None):
        self.config = config
        self.name = config.collector.name
        self.engine = engine or db.make_engine(config.collector.database)
        self.started_at = datetime.now(UTC)
        self.health_port: int | None = None
        self.adapters: list[tuple[Adapter, AdapterContext]] = []
        self.sink: Sink | None = None
        self.state = "starting"

    # -- life cycle --------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None, ready: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        cfg = self.config.collector
        self.sink = Sink(self.engine, self.name, cfg.flush, self._record_event)
        tagmaps = await asyncio.to_thread(self._load_tagmaps)
        for cls, settings in self.config.adapters:
            stats = AdapterStats()
            ctx = AdapterContext(self.name, settings.name, cls.kind, self.sink,
                                 tagmaps[settings.name], stats, self._record_event,
                                 qualify_tags=cls.qualify_tags)
            self.adapters.append((cls(settings, ctx), ctx))
        health = HealthServer(cfg.health.host, cfg.health.port, self.snapshot, self.metrics)
        self.health_port = await health.start()
        flusher = asyncio.create_task(self.sink.run(), name="sink")
        tasks = [asyncio.create_task(self._supervise(a, c), name=c.name) for a, c in self.adapters]
        self._record_event(kind="started", adapter=None, device=None, severity="info",
                           detail={"adapters": [c.name for _, c in self.adapters],
                                   "health_port": self.health_port})
        self.state = "running"
        if ready is not None:
            ready.set()
        try:
            waiter = asyncio.create_task(stop.wait())
            await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
            while not stop.is_set() and not all(t.done() for t in tasks):
                await asyncio.wait([waiter, *[t for t in tasks if not t.done()]],
                                   return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
        finally:
            self.state = "stopping"
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.sink.close()
            await flusher
            await asyncio.to_thread(self.sink.shutdown)
            self._record_event(kind="stopped", adapter=None, device=None, severity="info",
                               detail=self._totals())
            await health.close()
            self.state = "stopped"

    def _load_tagmaps(self) -> dict[str, TagMap]:
        with self.engine.connect() as conn:
            return {s.name: TagMap.load(conn, s, self.config.base_dir)
                    for _, s in self.config.adapters}

    async def _supervise(self, adapter: Adapter, ctx: AdapterContext) -> None:
        """Run the adapter; after a failure wait (exponential back-off with jitter), run again."""
        b = self.config.collector.backoff
        delay = b.initial_s
        while True:
            began = time.monotonic()
            try:
                await adapter.run()
            except asyncio.CancelledError:
                ctx.stats.state = "stopped"
                raise
            except Exception as exc:  # noqa: BLE001 - any failure means: reconnect later
                ctx.stats.state = "backoff"
                ctx.stats.reconnects += 1
                ctx.stats.last_error = f"{exc.__class__.__name__}: {exc}"[:300]
                log.warning("adapter %s failed: %s", ctx.name, ctx.stats.last_error)
                ctx.event("disconnected", severity="warning", error=ctx.stats.last_error)
            else:
                ctx.stats.state = "stopped"
                ctx.event("finished")
                return
            if time.monotonic() - began >= b.reset_after_s:
                delay = b.initial_s
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(b.max_s, delay * 2)

    # -- events, health, metrics -------------------------------------------------------------

    def _record_event(self, *, kind: str, adapter: str | None, device: str | None,
                      severity: str, detail: dict | None) -> None:
        """Collector events are rare; they are written at once on a short transaction."""
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(CollectorEvent).values(
                    collector=self.name, adapter=adapter, device=device, kind=kind,
                    severity=severity, detail=detail))
        except Exception:
            log.warning("could not record collector event %s/%s", adapter, kind, exc_info=True)

    def _totals(self) -> dict:
        out = dict.fromkeys(COUNTERS, 0)
        for _, ctx in self.adapters:
            for k in COUNTERS:
                out[k] += getattr(ctx.stats.total, k)
        return out

    def snapshot(self) -> dict:
        sink = self.sink
        return {
            "collector": self.name,
            "status": self.state,
            "started_at": self.started_at.isoformat(),
            "totals": self._totals(),
            "sink": None if sink is None else {
                "buffered": sink.buffered, "flushes": sink.flushes,
                "flush_errors": sink.flush_errors, "last_flush_s": sink.last_flush_s,
                "last_commit_at": sink.last_commit_at},
            "adapters": {
                ctx.name: {
                    "type": ctx.kind, "state": ctx.stats.state,
                    "reconnects": ctx.stats.reconnects, "last_error": ctx.stats.last_error,
                    **{k: getattr(ctx.stats.total, k) for k in COUNTERS},
                    "devices": {d: {k: getattr(c, k) for k in COUNTERS}
                                for d, c in sorted(ctx.stats.devices.items())},
                } for _, ctx in self.adapters},
        }

    def metrics(self) -> str:
        lines = []
        for k in COUNTERS:
            lines.append(f"# TYPE nengtan_collect_{k}_total counter")
            for _, ctx in self.adapters:
                lines.append(f'nengtan_collect_{k}_total{{collector="{self.name}",'
                             f'adapter="{ctx.name}"}} {getattr(ctx.stats.total, k)}')
        lines.append("# TYPE nengtan_collect_buffered gauge")
        lines.append(f'nengtan_collect_buffered{{collector="{self.name}"}} '
                     f'{self.sink.buffered if self.sink else 0}')
        lines.append("# TYPE nengtan_collect_connected gauge")
        for _, ctx in self.adapters:
            up = 1 if ctx.stats.state == "connected" else 0
            lines.append(f'nengtan_collect_connected{{collector="{self.name}",'
                         f'adapter="{ctx.name}"}} {up}')
        return "\n".join(lines) + "\n"
