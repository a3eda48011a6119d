"""Modbus TCP adapter: polls the registers of meters, PLCs and RS-485 gateways.

One adapter polls any number of devices, each on its own schedule and concurrently: a device
that does not answer only delays itself.  Devices at the same ``host:port`` (meters behind one
Modbus TCP/RTU gateway, told apart by their unit id) share one TCP connection, on which
requests go one at a time; other devices each have their own.

* **register maps** are defined once per device *model* (``models:``) and used by many devices.
  A point is a holding or input register address (0-based, as sent in the request), a type
  (int16 … float64), word and byte order, ``scale`` and ``offset`` (see
  :mod:`nengtan.collect.modbus_codec`).  A model's points are read in as few requests as
  possible: runs of adjacent registers, at most 125 per request (Modbus Application Protocol
  Specification V1.1b3 §6.3 Read Holding Registers, §6.4 Read Input Registers).
* **tag** of a point: ``<device>/<point>`` (``substation-1/kwh_import``); the adapter's
  ``tags:`` map sends tags to meters.
* **time** of every point of a poll: the moment the poll started, µs UTC.
* **bad values** (NaN/±inf, the device's "not available" marker, outside ``min``/``max``) are
  dead letters with the raw registers; the other points of the poll are stored.
* **timeouts and retries**: a request unanswered after ``timeout_s`` is sent again up to
  ``retries`` times, each time on a new connection (a late answer on the old one would
  otherwise be taken for the next request's).  An exception response (§7) is an answer: it is
  recorded as an ``error`` event once per block and code, except gateway codes 0x0A/0x0B,
  which mean the device behind the gateway did not answer.
* **offline detection**: a poll fails when the device does not answer (no connection, no
  answer after the retries, gateway 0x0A/0x0B).  After ``offline_after`` consecutive failed
  polls an ``offline`` event (warning) is recorded; the first answer after that records
  ``online`` (info).  When every device is offline the adapter shows ``disconnected`` in the
  health endpoint.

``run()`` does not raise when devices go away (they are polled again on their schedule, which
is the reconnect); it raises only on an unexpected error, after which the runtime restarts it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from nengtan.collect import modbus_codec as codec
from nengtan.collect.adapter import Adapter, AdapterSettings
from nengtan.collect.points import Letter, Points, now_us

log = logging.getLogger("nengtan.collect.modbus")

Table = Literal["holding", "input"]
Order = Literal["big", "little"]

_REASONS = {"no_value": "dead.modbus_no_value", "not_finite": "dead.modbus_not_finite",
            "out_of_range": "dead.modbus_out_of_range"}


def _no_slash(name: str, what: str) -> str:
    if not name or "/" in name:
        raise ValueError(f"{what} {name!r} must be non-empty and must not contain '/' "
                         "(tags are <device>/<point>)")
    return name


# -- configuration ------------------------------------------------------------------------------

class ModbusPoint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: int = Field(ge=0, le=65535, description="0-based register address as sent in the "
                         "request (register 40001 of a manual is holding address 0).")
    type: codec.DataType = "uint16"
    table: Table | None = Field(None, description="Default: the model's table.")
    word_order: Order | None = Field(None, description="Default: the model's word order.")
    byte_order: Order | None = Field(None, description="Default: the model's byte order.")
    scale: float = Field(1.0, description="value = raw × scale + offset")
    offset: float = 0.0
    min: float | None = Field(None, description="Lowest plausible value (after scale/offset).")
    max: float | None = Field(None, description="Highest plausible value (after scale/offset).")
    invalid: list[float] = Field(default_factory=list, description="Raw values the device "
                                 "sends for 'not available' (e.g. 0xFFFF, 0x8000).")

    @model_validator(mode="after")
    def _fits(self) -> ModbusPoint:
        if self.address + codec.registers_of(self.type) > 65536:
            raise ValueError(f"a {self.type} at address {self.address} runs past register 65535")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        return self


class ModbusModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    table: Table = "holding"
    word_order: Order = "big"
    byte_order: Order = "big"
    max_block: int = Field(codec.MAX_READ, ge=1, le=codec.MAX_READ,
                           description="Most registers per request (some devices take fewer).")
    max_gap: int = Field(0, ge=0, le=codec.MAX_READ - 1, description="Unmapped registers a "
                         "request may read through to join two runs of points.")
    points: dict[str, ModbusPoint] = Field(min_length=1)

    @field_validator("points")
    @classmethod
    def _names(cls, points: dict[str, ModbusPoint]) -> dict[str, ModbusPoint]:
        for name in points:
            _no_slash(name, "point name")
        return points


class ModbusDevice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="Device name: first part of its tags, counters, events.")
    host: str = Field(min_length=1)
    port: int = Field(502, ge=1, le=65535)
    unit_id: int = Field(1, ge=0, le=255, description="Unit identifier (the RS-485 address "
                         "behind a gateway; many TCP devices accept any, or want 255).")
    model: str
    points: list[str] | None = Field(None, description="Poll only these points of the model.")
    poll_interval_s: float | None = Field(None, gt=0)
    timeout_s: float | None = Field(None, gt=0)
    retries: int | None = Field(None, ge=0, le=10)
    offline_after: int | None = Field(None, ge=1)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _no_slash(v, "device name")


class ModbusSettings(AdapterSettings):
    models: dict[str, ModbusModel] = Field(min_length=1)
    devices: list[ModbusDevice] = Field(min_length=1)
    poll_interval_s: float = Field(60.0, gt=0)
    align: bool = Field(True, description="Poll on multiples of the interval on the clock "
                        "(every 60 s at :00), after a first poll at start.")
    timeout_s: float = Field(2.0, gt=0, description="Time limit of a connect and of a request.")
    retries: int = Field(1, ge=0, le=10, description="Extra attempts of an unanswered request.")
    offline_after: int = Field(3, ge=1, description="Failed polls in a row before 'offline'.")

    @model_validator(mode="after")
    def _devices(self) -> ModbusSettings:
        seen: set[str] = set()
        for d in self.devices:
            if d.name in seen:
                raise ValueError(f"device {d.name!r} appears twice")
            seen.add(d.name)
            model = self.models.get(d.model)
            if model is None:
                raise ValueError(f"device {d.name!r}: unknown model {d.model!r} "
                                 f"(models: {', '.join(sorted(self.models))})")
            unknown = [p for p in d.points or [] if p not in model.points]
            if unknown:
                raise ValueError(f"device {d.name!r}: model {d.model!r} has no point(s) "
                                 + ", ".join(map(repr, unknown)))
        return self


# -- runtime state ------------------------------------------------------------------------------

@dataclass
class _Point:
    name: str
    tag: str
    spec: ModbusPoint
    table: str
    word_order: str
    byte_order: str


class _NoAnswer(Exception):
    """The device did not answer a request (after the retries)."""


class _Link:
    """One TCP connection to ``host:port``, shared by the devices there, one request at a time."""

    def __init__(self, host: str, port: int, name: str):
        self.host, self.port, self.name = host, port, name
        self.client: AsyncModbusTcpClient | None = None
        self.lock = asyncio.Lock()
        #: pymodbus' own time limit: only a backstop above every device's ``timeout_s``.
        self.backstop = 1.0

    async def read(self, table: str, address: int, count: int, unit_id: int, timeout: float,
                   retries: int) -> list[int] | int:
        """The registers, or the exception code the device answered with."""
        error = ""
        async with self.lock:
            for _ in range(retries + 1):
                try:
                    client = await self._connected(timeout)
                    fn = (client.read_holding_registers if table == "holding"
                          else client.read_input_registers)
                    response = await asyncio.wait_for(
                        fn(address, count=count, device_id=unit_id), timeout)
                except (ModbusException, OSError, TimeoutError) as exc:
                    error = _describe(exc, timeout)
                    self.close()  # a late answer must not be taken for the next request's
                    continue
                if not response.isError():
                    return list(response.registers)
                code = int(response.exception_code)
                if code not in codec.UNREACHABLE:
                    return code
                error = f"gateway: {codec.exception_name(code)}"
        raise _NoAnswer(error)

    async def _connected(self, timeout: float) -> AsyncModbusTcpClient:
        if self.client is not None and self.client.connected:
            return self.client
        self.close()
        # pymodbus must not reconnect on its own (reconnect_delay=0) nor resend (retries=0):
        # both are decided here, per device, as is the time limit (wait_for here and in read()).
        client = AsyncModbusTcpClient(self.host, port=self.port, timeout=self.backstop,
                                      retries=0, reconnect_delay=0, name=self.name)
        self.client = client
        try:
            ok = await asyncio.wait_for(client.connect(), timeout)
        except TimeoutError:
            ok = False
        if not ok:
            raise ConnectionError(f"cannot connect to {self.host}:{self.port} "
                                  f"within {timeout:g} s")
        return client

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None


@dataclass
class _Device:
    cfg: ModbusDevice
    link: _Link
    points: dict[str, _Point]
    blocks: list[codec.Block]
    interval: float
    timeout: float
    retries: int
    offline_after: int
    source: str
    failures: int = 0
    offline: bool = False
    failing_since: int | None = None
    #: (table, address) of a block → exception code it was last refused with.
    refused: dict[tuple[str, int], int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.cfg.name


class ModbusAdapter(Adapter):
    kind = "modbus"
    Settings = ModbusSettings

    def __init__(self, settings: AdapterSettings, ctx):
        super().__init__(settings, ctx)
        s: ModbusSettings = settings  # type: ignore[assignment]
        self.links: dict[tuple[str, int], _Link] = {}
        self.devices = [self._device(s, d) for d in s.devices]

    def _device(self, s: ModbusSettings, d: ModbusDevice) -> _Device:
        model = s.models[d.model]
        names = d.points if d.points is not None else list(model.points)
        points = {n: _Point(n, f"{d.name}/{n}", model.points[n],
                            model.points[n].table or model.table,
                            model.points[n].word_order or model.word_order,
                            model.points[n].byte_order or model.byte_order) for n in names}
        blocks = codec.plan([codec.Item(p.name, p.table, p.spec.address,
                                        codec.registers_of(p.spec.type))
                             for p in points.values()], model.max_block, model.max_gap)
        key = (d.host, d.port)
        if key not in self.links:
            self.links[key] = _Link(d.host, d.port, f"{self.ctx.name}/{d.host}:{d.port}")
        timeout = d.timeout_s or s.timeout_s
        link = self.links[key]
        link.backstop = max(link.backstop, 2 * timeout + 1)
        return _Device(
            d, link, points, blocks,
            interval=d.poll_interval_s or s.poll_interval_s,
            timeout=timeout,
            retries=d.retries if d.retries is not None else s.retries,
            offline_after=d.offline_after or s.offline_after,
            source=f"modbus://{d.host}:{d.port}/{d.unit_id}")

    async def run(self) -> None:
        tasks = [asyncio.create_task(self._poll_forever(d), name=f"{self.ctx.name}/{d.name}")
                 for d in self.devices]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for t in done:
                t.result()
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for link in self.links.values():
                link.close()

    async def _poll_forever(self, dev: _Device) -> None:
        align = self.settings.align  # type: ignore[attr-defined]
        while True:
            started = time.time()
            await self.poll(dev)
            now = time.time()
            await asyncio.sleep(next_poll(started, now, dev.interval, align) - now)

    # -- one poll -----------------------------------------------------------------------------

    async def poll(self, dev: _Device) -> None:
        """Read every block of ``dev`` once; submit the values, dead-letter the bad ones."""
        ts = now_us()
        tags: list[str] = []
        values: list[float] = []
        letters: list[Letter] = []
        failure: str | None = None
        for block in dev.blocks:
            try:
                answer = await dev.link.read(block.table, block.address, block.count,
                                             dev.cfg.unit_id, dev.timeout, dev.retries)
            except _NoAnswer as exc:
                failure = str(exc)
                break  # the device is gone: do not wait for its other blocks too
            if isinstance(answer, int):
                self._refused(dev, block, answer)
                continue
            dev.refused.pop((block.table, block.address), None)
            if len(answer) < block.count:
                letters.append(self._short(dev, block, answer, ts))
                continue
            for item, offset in block.items:
                p = dev.points[item.key]
                regs = answer[offset:offset + item.count]
                raw = codec.decode(regs, p.spec.type, p.word_order, p.byte_order)  # type: ignore[arg-type]
                value = codec.scaled(raw, p.spec.scale, p.spec.offset)
                why = codec.problem(raw, value, low=p.spec.min, high=p.spec.max,
                                    invalid=p.spec.invalid)
                if why is None:
                    tags.append(p.tag)
                    values.append(value)
                else:
                    letters.append(self._letter(dev, p, regs, raw, value, why, ts))
        received = len(tags) + len(letters)
        if received:
            self.ctx.stats.count(dev.name, received=received)
        if tags:
            await self.ctx.submit(Points(tags, np.full(len(tags), ts, np.int64),
                                         np.array(values, np.float64)),
                                  device=dev.name, source=dev.source)
        for letter in letters:
            await self.ctx.dead_letter(letter)
        self._health(dev, failure, ts)

    def _health(self, dev: _Device, failure: str | None, ts: int) -> None:
        if failure is None:
            if dev.offline:
                log.info("%s: device %s answers again after %d failed polls", self.ctx.name,
                         dev.name, dev.failures)
                self.ctx.event("online", device=dev.name, severity="info",
                               failed_polls=dev.failures, since=_iso(dev.failing_since))
            dev.failures, dev.offline, dev.failing_since = 0, False, None
            self.ctx.connected()
            self.ctx.stats.last_data_at = time.monotonic()
            return
        dev.failures += 1
        dev.failing_since = dev.failing_since or ts
        if dev.offline or dev.failures < dev.offline_after:
            return
        dev.offline = True
        log.warning("%s: device %s offline after %d failed polls: %s", self.ctx.name, dev.name,
                    dev.failures, failure)
        self.ctx.event("offline", device=dev.name, severity="warning", error=failure[:300],
                       failed_polls=dev.failures, since=_iso(dev.failing_since),
                       host=dev.cfg.host, port=dev.cfg.port, unit_id=dev.cfg.unit_id)
        if (all(d.offline for d in self.devices)
                and self.ctx.stats.state in ("starting", "connected")):
            self.ctx.stats.state = "disconnected"
            self.ctx.stats.last_error = f"all devices offline; last: {failure}"[:300]
            self.ctx.event("disconnected", severity="warning", error="all devices offline")

    def _refused(self, dev: _Device, block: codec.Block, code: int) -> None:
        """An exception response: a wrong map or a busy device, not an absent one."""
        key = (block.table, block.address)
        if dev.refused.get(key) == code:
            return
        dev.refused[key] = code
        self.ctx.event("error", device=dev.name, severity="warning",
                       exception=codec.exception_name(code), table=block.table,
                       address=block.address, count=block.count,
                       points=[item.key for item, _ in block.items])

    # -- dead letters -------------------------------------------------------------------------

    def _letter(self, dev: _Device, p: _Point, regs: list[int], raw: float, value: float,
                why: str, ts: int) -> Letter:
        hexed = " ".join(f"{r:04X}" for r in regs)
        s = p.spec
        payload = orjson.dumps({
            "device": dev.name, "host": dev.cfg.host, "port": dev.cfg.port,
            "unit_id": dev.cfg.unit_id, "point": p.name, "tag": p.tag, "table": p.table,
            "address": s.address, "type": s.type, "word_order": p.word_order,
            "byte_order": p.byte_order, "registers": regs, "registers_hex": hexed,
            "raw": _jsonable(raw), "scale": s.scale, "offset": s.offset,
            "value": _jsonable(value), "min": s.min, "max": s.max, "ts": _iso(ts)})
        detail = {"tag": p.tag, "registers": hexed, "value": _jsonable(value)}
        if why == "out_of_range":
            detail.update(min="-∞" if s.min is None else s.min,
                          max="+∞" if s.max is None else s.max)
        return Letter(_REASONS[why], payload, dev.source, dev.name, detail)

    def _short(self, dev: _Device, block: codec.Block, regs: list[int], ts: int) -> Letter:
        payload = orjson.dumps({
            "device": dev.name, "host": dev.cfg.host, "port": dev.cfg.port,
            "unit_id": dev.cfg.unit_id, "table": block.table, "address": block.address,
            "count": block.count, "registers": regs, "ts": _iso(ts),
            "points": [item.key for item, _ in block.items]})
        return Letter("dead.modbus_short_response", payload, dev.source, dev.name,
                      {"table": block.table, "address": block.address,
                       "expected": block.count, "got": len(regs)})


def next_poll(started: float, now: float, interval: float, align: bool) -> float:
    """When the next poll starts (seconds since the epoch).

    Aligned: the next multiple of ``interval`` on the clock after ``now``.  Otherwise the
    next ``started + k × interval`` after ``now``: a poll that overran skips the slots it
    missed instead of polling in a burst to catch up.
    """
    if align:
        return (math.floor(now / interval) + 1) * interval
    return started + max(1, math.ceil((now - started) / interval)) * interval


def _describe(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    return f"{exc.__class__.__name__}: {exc}"[:300]


def _jsonable(x: float) -> int | float | str:
    return x if isinstance(x, int) or math.isfinite(x) else str(x)


def _iso(us: int | None) -> str | None:
    return None if us is None else np.datetime64(int(us), "us").astype(str) + "Z"
