"""What an adapter is and what it may call.

An adapter subclass declares ``kind`` (the ``type:`` in the collector's YAML), a pydantic
``Settings`` model for its own section of the config, and ``run()``::

    class ModbusAdapter(Adapter):
        kind = "modbus"
        Settings = ModbusSettings

        async def run(self) -> None:
            ...connect...
            self.ctx.connected()                      # resets the reconnect back-off
            while True:
                points = ...poll...
                await self.ctx.submit(points, device="meter-7")

``run()`` returns when the adapter has nothing more to do (a one-shot pull) and raises when its
connection is lost; the runtime then waits (exponential back-off with jitter) and calls ``run()``
again.  Cancellation (shutdown) arrives as ``asyncio.CancelledError``; close connections in a
``finally``.  An adapter never crashes the process on bad input: it hands it to
``ctx.dead_letter`` and carries on.
"""

from __future__ import annotations

import abc
import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from nengtan.collect.points import Letter, Points

if TYPE_CHECKING:  # pragma: no cover
    from nengtan.collect.sink import Sink
    from nengtan.collect.tagmap import TagMap


class AdapterSettings(BaseModel):
    """Keys every adapter section has; subclasses add their own (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid")

    type: str
    name: str = Field(description="Unique name of this adapter in the collector (counters, cursors).")
    enabled: bool = True
    #: Tag → target mapping, see ``nengtan.collect.tagmap``.
    tags: dict[str, str | dict[str, Any]] = Field(default_factory=dict)
    tags_file: str | None = Field(None, description="CSV with columns tag,meter[,unit,scale,offset].")
    meter_codes_as_tags: bool = Field(
        False, description="A tag equal to a meter code maps to that meter.")


@dataclass
class Counters:
    """What one adapter (or one device of it) has seen; all monotonically increasing."""

    received: int = 0       # points (and unparseable messages) that arrived
    stored: int = 0         # points newly stored
    duplicates: int = 0     # points already stored with the same value (redelivery)
    revised: int = 0        # points that replaced a different stored value (kept as revision)
    rejected: int = 0       # points or messages that could not be used (each dead-lettered)
    dead_lettered: int = 0  # dead-letter rows committed

    def add(self, **delta: int) -> None:
        for key, n in delta.items():
            setattr(self, key, getattr(self, key) + n)


@dataclass
class AdapterStats:
    state: str = "starting"  # starting | connected | disconnected | backoff | stopped | failed
    total: Counters = field(default_factory=Counters)
    devices: dict[str, Counters] = field(default_factory=lambda: defaultdict(Counters))
    reconnects: int = 0
    last_error: str | None = None
    last_data_at: float | None = None

    def count(self, device: str | None, **delta: int) -> None:
        self.total.add(**delta)
        if device is not None:
            self.devices[device].add(**delta)


class AdapterContext:
    """The collector's services, as one adapter sees them."""

    def __init__(self, collector: str, name: str, kind: str, sink: Sink, tagmap: TagMap,
                 stats: AdapterStats, event: Callable[..., None], qualify_tags: bool = False):
        self.collector = collector
        self.name = name
        self.kind = kind
        #: Look tags up as ``<device>/<tag>`` before ``<tag>`` (MQTT gateways).
        self.qualify_tags = qualify_tags
        self.sink = sink
        self.tagmap = tagmap
        self.stats = stats
        self._event = event
        self._connected = asyncio.Event()

    async def submit(self, points: Points, device: str | None = None,
                     ack: Callable[[], None] | None = None, source: str | None = None,
                     payload: bytes | None = None) -> None:
        """Queue points for storage.  ``ack`` is called once they (and any dead letters made
        from them) are committed; ``source``/``payload`` identify the message for dead letters
        of unmapped points.  Waits while the sink is over its high-water mark (back-pressure)."""
        await self.sink.submit(self, points, device, ack, source, payload)

    async def dead_letter(self, letter: Letter, ack: Callable[[], None] | None = None) -> None:
        """Keep unusable input; ``ack`` is called once the letter is committed."""
        await self.sink.dead_letter(self, letter, ack)

    async def transact(self, fn: Callable[[Any], Any]) -> Any:
        """Run ``fn(conn)`` in its own database transaction, after everything submitted before
        has been committed (for pulls that store records and their cursor together)."""
        return await self.sink.transact(fn)

    def connected(self) -> None:
        """Tell the runtime the connection works (resets back-off, records an event)."""
        if self.stats.state != "connected":
            self.stats.state = "connected"
            self.event("connected")

    def event(self, kind: str, device: str | None = None, severity: str = "info",
              **detail: Any) -> None:
        """Record a collector event (``offline``, ``online``, ``error`` ...)."""
        self._event(kind=kind, adapter=self.name, device=device, severity=severity,
                    detail=detail or None)


class Adapter(abc.ABC):
    kind: ClassVar[str]
    Settings: ClassVar[type[AdapterSettings]] = AdapterSettings
    #: Tags are qualified by the device they come from (see AdapterContext.qualify_tags).
    qualify_tags: ClassVar[bool] = False

    def __init__(self, settings: AdapterSettings, ctx: AdapterContext):
        self.settings = settings
        self.ctx = ctx

    @abc.abstractmethod
    async def run(self) -> None:
        """Connect and deliver points until cancelled; raise when the connection is lost."""
