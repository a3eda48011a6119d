"""Fixtures for collector tests.

``site`` builds a small plant (meters E1..E4 cumulative kWh at 15 min, INT an interval meter,
V a virtual meter) on the ``engine`` database (SQLite and PostgreSQL).  ``start_collector``
runs a real :class:`~nengtan.collect.runtime.Collector` on its own event loop in a thread::

    def test_x(engine, site, start_collector):
        c = start_collector({"collector": {...}, "adapters": [...]})
        c.wait_until(lambda snap: snap["totals"]["stored"] >= 10)
        c.stop()            # graceful: flushes and acknowledges

``free_port()`` gives an unused TCP port on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from nengtan.collect import config as collect_config
from nengtan.collect.runtime import Collector
from nengtan.services import meters, org

METERS = ("E1", "E2", "E3", "E4")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def site(engine) -> dict[str, int]:
    with Session(engine) as s, s.begin():
        org.create(s, {"code": "P", "name_zh": "园区", "kind": "park"})
        org.create(s, {"code": "ENT", "name_zh": "企业", "kind": "enterprise", "parent": "P"})
        org.create(s, {"code": "S", "name_zh": "厂区", "kind": "site", "parent": "ENT"})
        ids = {}
        for code in METERS:
            ids[code] = meters.create(s, {"code": code, "name_zh": f"电表{code}", "node": "S",
                                          "carrier": "electricity", "unit": "kWh"}).id
        ids["INT"] = meters.create(s, {"code": "INT", "name_zh": "区间表", "node": "S",
                                       "carrier": "electricity", "unit": "kWh",
                                       "register": "interval"}).id
        ids["V"] = meters.create(s, {"code": "V", "name_zh": "虚拟表", "node": "S",
                                     "carrier": "electricity", "unit": "kWh", "kind": "virtual",
                                     "formula": "{E1} + {E2}"}).id
    return ids


class RunningCollector:
    def __init__(self, collector: Collector):
        self.collector = collector
        self.loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._main, daemon=True)
        self.thread.start()
        if not self._ready.wait(30) and self.error is None:
            raise TimeoutError("collector did not start")
        if self.error is not None:
            raise self.error

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def go():
            self._stop = asyncio.Event()
            ready = asyncio.Event()
            task = asyncio.create_task(self.collector.run(self._stop, ready))
            await asyncio.wait([task, asyncio.create_task(ready.wait())],
                               return_when=asyncio.FIRST_COMPLETED)
            self._ready.set()
            await task

        try:
            self.loop.run_until_complete(go())
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            self.error = exc
            self._ready.set()

    def snapshot(self) -> dict:
        return self.collector.snapshot()

    def wait_until(self, predicate, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.error is not None:
                raise self.error
            snap = self.snapshot()
            if predicate(snap):
                return snap
            time.sleep(0.05)
        raise TimeoutError(f"condition not met within {timeout} s; last snapshot: {self.snapshot()}")

    def stop(self, timeout: float = 60.0) -> dict:
        if self.thread.is_alive() and self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise TimeoutError("collector did not stop")
        if self.error is not None:
            raise self.error
        return self.snapshot()


@pytest.fixture
def start_collector(engine, tmp_path: Path):
    """Start collectors on ``engine``; each is stopped (gracefully) at the end of the test."""
    running: list[RunningCollector] = []

    def start(raw: dict) -> RunningCollector:
        raw = {**raw, "collector": {"health": {"port": 0}, "flush": {"max_delay_s": 0.05},
                                    **raw.get("collector", {})}}
        cfg = collect_config.parse(raw, base_dir=tmp_path)
        rc = RunningCollector(Collector(cfg, engine))
        running.append(rc)
        return rc

    yield start
    for rc in running:
        if rc.thread.is_alive():
            rc.stop()
