"""Modbus TCP adapter against real pymodbus TCP servers on 127.0.0.1 acting as meters.

``Sim`` is a pymodbus ``ModbusTcpServer`` (simulator datastore) on its own event loop in a
thread; its energy register grows by ``step`` kWh every time it is read, like a meter between
two polls.  ``RawDevice`` is a TCP server that speaks just enough Modbus to misbehave (never
answers, or answers short); ``DroppingProxy`` swallows the first requests on their way to a
real server.  Each test runs the adapter on its own loop with a recording sink, or, end to
end, inside a real collector writing into SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import struct
import threading
from pathlib import Path

import orjson
import pytest
from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from nengtan import i18n
from nengtan.collect import config as collect_config
from nengtan.collect.adapter import AdapterContext, AdapterStats
from nengtan.collect.modbus import ModbusAdapter, ModbusSettings, next_poll
from nengtan.collect.modbus_codec import encode
from nengtan.collect.points import now_us
from nengtan.services import query
from tests.collect.conftest import free_port

HOLDING, INPUT = 20, 10

#: A small three-phase meter: energy as float32 (ABCD), reactive energy as uint32 word-swapped
#: (CDAB) in 0.01 kvarh, power factor in 0.001, a status word with 0xFFFF = "not available",
#: energy again in Wh as float64 after a hole in the map, and an input-register temperature.
MODEL = {
    "points": {
        "kwh": {"address": 0, "type": "float32"},
        "kvarh": {"address": 2, "type": "uint32", "word_order": "little", "scale": 0.01},
        "pf": {"address": 4, "type": "int16", "scale": 0.001, "min": -1, "max": 1},
        "status": {"address": 5, "type": "uint16", "invalid": [0xFFFF]},
        "wh": {"address": 10, "type": "float64"},
        "temp": {"address": 0, "type": "int16", "table": "input", "scale": 0.1},
    },
}
#: How MODEL is read: holding 0..5, holding 10..13 (registers 6..9 are a hole), input 0.
READS = [("h", 0, 6), ("h", 10, 4), ("i", 0, 1)]


# -- the simulated devices --------------------------------------------------------------------

class Sim:
    """pymodbus TCP server with one simulated meter per unit id, on its own loop in a thread.

    Register contents live here (``regs``), so they survive a stop/start of the server.
    """

    def __init__(self, units=(1,), energy: float = 100.0, step: float = 2.5):
        self.port = free_port()
        self.units = units
        self.regs = {u: {"h": [0] * HOLDING, "i": [0] * INPUT} for u in units}
        self.energy = dict.fromkeys(units, energy)
        self.step = dict.fromkeys(units, step)  # 0: the energy register stands still
        #: unit → exception code it answers every read with (a gateway whose meter is gone)
        self.refuse: dict[int, ExcCodes] = {}
        self.reads: list[tuple[int, str, int, int]] = []
        self.connects = 0
        self.disconnects = 0
        self.server: ModbusTcpServer | None = None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.start()

    def set(self, unit: int, table: str, address: int, regs: list[int]) -> None:
        self.regs[unit][table][address:address + len(regs)] = regs

    def _device(self, unit: int) -> SimDevice:
        async def action(fc, start, address, count, registers, values):
            if values is not None or fc not in (3, 4):
                return  # no exception code: the request proceeds
            table = "h" if fc == 3 else "i"
            self.reads.append((unit, table, address, count))
            if unit in self.refuse:
                return self.refuse[unit]
            if table == "h" and address == 0 and self.step[unit]:
                self.energy[unit] += self.step[unit]
                self.set(unit, "h", 0, encode(self.energy[unit], "float32"))
                self.set(unit, "h", 10, encode(self.energy[unit] * 1000, "float64"))
            state = self.regs[unit][table]
            registers[:len(state)] = state

        bits = [SimData(0, count=16, values=False, datatype=DataType.BITS)]
        return SimDevice(unit, action=action, simdata=(
            bits, list(bits),
            [SimData(0, count=HOLDING, values=0, datatype=DataType.REGISTERS)],
            [SimData(0, count=INPUT, values=0, datatype=DataType.REGISTERS)]))

    def _trace(self, connected: bool) -> None:
        if connected:
            self.connects += 1
        else:
            self.disconnects += 1

    def call(self, coro, timeout: float = 30.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> None:
        async def go():
            self.server = ModbusTcpServer([self._device(u) for u in self.units],
                                          address=("127.0.0.1", self.port),
                                          trace_connect=self._trace)
            await self.server.serve_forever(background=True)
        self.call(go())

    def stop(self) -> None:
        self.call(self.server.shutdown())

    def close(self) -> None:
        try:
            self.stop()
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)

    def polls(self, unit: int = 1) -> int:
        return sum(1 for u, t, a, _ in self.reads if (u, t, a) == (unit, "h", 0))


@pytest.fixture
def sim():
    s = Sim(units=(1, 2))
    yield s
    s.close()


class RawDevice:
    """A TCP server on the adapter's loop that speaks just enough Modbus TCP to misbehave:
    ``silent`` reads requests and never answers; ``short`` answers one register short."""

    def __init__(self, mode: str):
        self.mode = mode
        self.connections = 0
        self.requests = 0

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader, writer) -> None:
        self.connections += 1
        try:
            while True:
                tid, _, length, unit = struct.unpack(">HHHB", await reader.readexactly(7))
                fc, _address, count = struct.unpack(">BHH", await reader.readexactly(length - 1))
                self.requests += 1
                if self.mode == "short":
                    body = struct.pack(">BB", fc, 2 * (count - 1)) + b"\x00\x07" * (count - 1)
                    writer.write(struct.pack(">HHHB", tid, 0, len(body) + 1, unit) + body)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()

    async def close(self) -> None:
        self.server.close()


class DroppingProxy:
    """Relays to a real server but swallows the first ``drop`` requests (whole MBAP frames)."""

    def __init__(self, target_port: int, drop: int):
        self.target_port = target_port
        self.drop = drop
        self.connections = 0
        self.tasks: list[asyncio.Task] = []

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _relay(self, reader, writer) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.tasks += [asyncio.create_task(self._requests(reader, up_writer)),
                       asyncio.create_task(self._pump(up_reader, writer))]

    async def _requests(self, reader, writer) -> None:
        try:
            while True:
                head = await reader.readexactly(6)
                frame = head + await reader.readexactly(struct.unpack(">H", head[4:6])[0])
                if self.drop > 0:
                    self.drop -= 1
                    continue
                writer.write(frame)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()

    async def _pump(self, reader, writer) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
        except (ConnectionError, asyncio.CancelledError):
            pass
        writer.close()

    async def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.server.close()


# -- the adapter with a recording sink ----------------------------------------------------------

class RecordingSink:
    def __init__(self):
        self.points: list[tuple] = []
        self.letters = []

    async def submit(self, ctx, points, device, ack, source, payload) -> None:
        assert points.quality is None
        for i in range(len(points)):
            self.points.append((device, points.tag[i], int(points.ts[i]), float(points.value[i]),
                                source))

    async def dead_letter(self, ctx, letter, ack) -> None:
        self.letters.append(letter)

    def rows(self, tag: str) -> list[tuple[int, float]]:
        return [(ts, v) for _, t, ts, v, _ in self.points if t == tag]

    def values(self, tag: str) -> list[float]:
        return [v for _, v in self.rows(tag)]


def make(devices: list[dict], model: dict = MODEL, **more):
    settings = ModbusSettings.model_validate({
        "type": "modbus", "name": "meters", "models": {"em": model}, "devices": devices,
        "poll_interval_s": 0.05, "align": False, "timeout_s": 1, "retries": 0,
        "offline_after": 2, **more})
    sink, events = RecordingSink(), []
    ctx = AdapterContext("test", "meters", "modbus", sink, None, AdapterStats(),
                         lambda **kw: events.append(kw))
    return ModbusAdapter(settings, ctx), sink, events


def dev(name: str, port: int, unit: int = 1, **more) -> dict:
    return {"name": name, "host": "127.0.0.1", "port": port, "unit_id": unit, "model": "em",
            **more}


async def until(predicate, what: str, timeout: float = 20.0) -> None:
    """Wait (without blocking the loop) until ``predicate()``; a bound, not a timing check."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError(f"waited {timeout} s for {what}")
        await asyncio.sleep(0.01)


async def stop(task: asyncio.Task) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def kinds(events: list[dict], device: str | None = None) -> list[str]:
    return [e["kind"] for e in events if device is None or e["device"] == device]


# -- tests ------------------------------------------------------------------------------------

def test_a_meter_is_read_in_three_requests_per_poll_and_its_energy_grows(sim):
    # kvarh: 123456 in 0.01 kvarh, low word first → 1234.56; pf: -850 ‰ → -0.85;
    # temperature 245 in 0.1 °C → 24.5.
    sim.set(1, "h", 2, encode(123456, "uint32", "little"))
    sim.set(1, "h", 4, encode(-850, "int16") + [3])
    sim.set(1, "i", 0, encode(245, "int16"))

    async def go():
        adapter, sink, events = make([dev("m1", sim.port)])
        before = now_us()
        task = asyncio.create_task(adapter.run())
        await until(lambda: len(sink.rows("m1/kwh")) >= 3, "three polls")
        await stop(task)
        after = now_us()
        await until(lambda: sim.disconnects >= 1, "the server to see the connection closed")
        return adapter, sink, events, before, after

    adapter, sink, events, before, after = asyncio.run(go())
    polls = len(sink.rows("m1/kwh"))
    # The energy register grows by 2.5 kWh per poll from 100 kWh: 102.5, 105.0, 107.5 ...
    assert sink.values("m1/kwh") == [100.0 + 2.5 * k for k in range(1, polls + 1)]
    assert sink.values("m1/wh") == [1000 * v for v in sink.values("m1/kwh")]
    assert sink.values("m1/kvarh") == [pytest.approx(1234.56)] * polls
    assert sink.values("m1/pf") == [pytest.approx(-0.85)] * polls
    assert sink.values("m1/status") == [3.0] * polls
    assert sink.values("m1/temp") == [pytest.approx(24.5)] * polls
    # One timestamp per poll (the poll's start), increasing, within the test's window.
    stamps = [ts for ts, _ in sink.rows("m1/kwh")]
    assert stamps == sorted(set(stamps)) and before <= stamps[0] and stamps[-1] <= after
    assert {ts for _, _, ts, _, _ in sink.points} == set(stamps)
    assert {(d, src) for d, _, _, _, src in sink.points} == {
        ("m1", f"modbus://127.0.0.1:{sim.port}/1")}
    # Six points in three requests per poll (and no request besides).
    assert sim.reads[:3 * polls] == [(1, *r) for r in READS] * polls
    assert adapter.ctx.stats.devices["m1"].received == 6 * polls
    assert kinds(events) == ["connected"]
    assert sink.letters == []
    assert sim.connects == sim.disconnects == 1  # one connection, closed at cancellation


def test_bad_values_become_dead_letters_with_their_registers(sim):
    sim.step[1] = 0  # the test sets every register itself
    sim.set(1, "h", 0, [0x7FC0, 0x0000])                 # kwh: float32 quiet NaN
    sim.set(1, "h", 4, encode(1500, "int16") + [0xFFFF])  # pf 1.5 > max 1; status "n/a"
    sim.set(1, "h", 10, encode(5000.0, "float64"))

    async def go():
        adapter, sink, events = make([dev("m1", sim.port)])
        task = asyncio.create_task(adapter.run())
        await until(lambda: len(sink.letters) >= 3, "one poll's letters")
        await stop(task)
        return adapter, sink, events

    adapter, sink, events = asyncio.run(go())
    first = sink.letters[:3]
    by = {lt.reason: lt for lt in first}
    assert sorted(by) == ["dead.modbus_no_value", "dead.modbus_not_finite",
                          "dead.modbus_out_of_range"]
    nan = by["dead.modbus_not_finite"]
    assert (nan.device, nan.source) == ("m1", f"modbus://127.0.0.1:{sim.port}/1")
    assert nan.detail == {"tag": "m1/kwh", "registers": "7FC0 0000", "value": "nan"}
    body = orjson.loads(nan.payload)
    assert (body["registers"], body["type"], body["address"], body["table"]) == (
        [0x7FC0, 0], "float32", 0, "holding")
    assert by["dead.modbus_out_of_range"].detail == {
        "tag": "m1/pf", "registers": "05DC", "value": 1.5, "min": -1.0, "max": 1.0}
    assert by["dead.modbus_no_value"].detail["registers"] == "FFFF"
    assert i18n.both(nan.reason, **nan.detail) == {
        "en": "The Modbus value of m1/kwh (registers 7FC0 0000) decodes to nan, "
              "not a finite number",
        "zh-CN": "Modbus 点 m1/kwh（寄存器 7FC0 0000）解码为 nan，不是有限数值"}
    assert "[-1.0, 1.0]" in i18n.t("dead.modbus_out_of_range", "en",
                                   **by["dead.modbus_out_of_range"].detail)
    # The good points of the same polls are stored; letters count as received.
    polls = len(sink.rows("m1/wh"))
    assert sink.values("m1/wh") == [5000.0] * polls
    assert {t for _, t, _, _, _ in sink.points} == {"m1/kvarh", "m1/wh", "m1/temp"}
    assert len(sink.letters) == 3 * polls
    assert adapter.ctx.stats.devices["m1"].received == 6 * polls
    assert kinds(events) == ["connected"]


def test_exception_responses_are_errors_not_offline_and_gateway_units_share_a_connection(sim):
    model = {"max_gap": 0, "points": {**MODEL["points"],
                                      "missing": {"address": 500, "type": "uint16"}}}

    async def go():
        adapter, sink, events = make([dev("m1", sim.port, 1), dev("m2", sim.port, 2)],
                                     model=model)
        task = asyncio.create_task(adapter.run())
        await until(lambda: len(sink.rows("m1/kwh")) >= 4 and len(sink.rows("m2/kwh")) >= 4,
                    "four polls of both units")
        await stop(task)
        return sink, events

    sink, events = asyncio.run(go())
    errors = [e for e in events if e["kind"] == "error"]
    # Once per device and block, not once per poll.
    assert sorted((e["device"], e["severity"]) for e in errors) == [
        ("m1", "warning"), ("m2", "warning")]
    assert errors[0]["detail"] == {"exception": "ILLEGAL DATA ADDRESS (0x02)",
                                   "table": "holding", "address": 500, "count": 1,
                                   "points": ["missing"]}
    assert "offline" not in kinds(events)
    assert not sink.rows("m1/missing")
    # Both units are polled over the one connection to the gateway's host:port.
    assert sim.connects == 1
    assert {u for u, *_ in sim.reads} == {1, 2}


def test_a_meter_silent_behind_its_gateway_is_offline_while_its_neighbour_is_read(sim):
    sim.refuse[2] = ExcCodes.GATEWAY_NO_RESPONSE

    async def go():
        adapter, sink, events = make([dev("m1", sim.port, 1), dev("m2", sim.port, 2)],
                                     retries=1, offline_after=2)
        task = asyncio.create_task(adapter.run())
        await until(lambda: "offline" in kinds(events, "m2"), "m2 offline")
        sim.refuse.clear()
        await until(lambda: "online" in kinds(events, "m2") and sink.rows("m2/kwh"),
                    "m2 answering again")
        await stop(task)
        return sink, events

    sink, events = asyncio.run(go())
    offline = next(e for e in events if e["kind"] == "offline")
    assert offline["detail"]["error"] == \
        "gateway: GATEWAY TARGET DEVICE FAILED TO RESPOND (0x0B)"
    assert offline["detail"]["failed_polls"] == 2
    # m2's polls were retried (retries=1) and stopped at its first block: 2 reads per poll.
    m2_reads = [(t, a) for u, t, a, _ in sim.reads[:40] if u == 2]
    assert m2_reads[:4] == [("h", 0)] * 4
    assert "error" not in kinds(events)  # 0x0B is "no answer", not a refusal
    assert "offline" not in kinds(events, "m1") and sink.rows("m1/kwh")
    assert sim.connects == 1  # the gateway's connection stayed up throughout


def test_a_device_that_goes_away_is_offline_and_online_again(sim):
    async def go():
        adapter, sink, events = make([dev("m1", sim.port)], offline_after=2)
        task = asyncio.create_task(adapter.run())
        await until(lambda: len(sink.rows("m1/kwh")) >= 2, "first polls")
        await asyncio.to_thread(sim.stop)
        try:
            await until(lambda: "offline" in kinds(events), "the offline event")
            polled = len(sink.rows("m1/kwh"))
            d = adapter.devices[0]
            await until(lambda: d.failures >= 4, "more failed polls")
            assert adapter.ctx.stats.state == "disconnected"
            assert len(sink.rows("m1/kwh")) == polled
        finally:
            await asyncio.to_thread(sim.start)
        await until(lambda: "online" in kinds(events), "the online event")
        await until(lambda: len(sink.rows("m1/kwh")) >= polled + 2, "polling resumed")
        await stop(task)
        return adapter, sink, events

    adapter, sink, events = asyncio.run(go())
    assert kinds(events) == ["connected", "offline", "disconnected", "online", "connected"]
    offline, online = events[1], events[3]
    assert (offline["device"], offline["severity"]) == ("m1", "warning")
    assert offline["detail"]["failed_polls"] == 2
    assert (offline["detail"]["host"], offline["detail"]["port"],
            offline["detail"]["unit_id"]) == ("127.0.0.1", sim.port, 1)
    # a request in flight when the server went away times out; later polls find no server
    error = offline["detail"]["error"]
    assert "cannot connect" in error or "no answer within 1 s" in error
    assert (online["device"], online["severity"]) == ("m1", "info")
    assert online["detail"]["failed_polls"] >= 4
    assert online["detail"]["since"] == offline["detail"]["since"]
    # The register kept counting in the meter: values go on increasing, none repeated.
    values = sink.values("m1/kwh")
    assert values == sorted(set(values))
    assert adapter.ctx.stats.state == "connected"


def test_a_silent_device_times_out_retries_and_delays_nobody(sim):
    async def go():
        silent, hung = RawDevice("silent"), RawDevice("silent")
        silent_port, hung_port = await silent.start(), await hung.start()
        adapter, sink, events = make([
            dev("m1", sim.port),
            # 3 attempts of 0.2 s, then offline after this one failed poll
            dev("dead", silent_port, timeout_s=0.2, retries=2, offline_after=1,
                poll_interval_s=3600),
            # a device whose first request waits 30 s for an answer
            dev("hung", hung_port, timeout_s=30)])
        task = asyncio.create_task(adapter.run())
        await until(lambda: "offline" in kinds(events, "dead"), "the silent device offline")
        seen = (silent.connections, silent.requests)
        await until(lambda: hung.requests == 1, "the hung device's request")
        polls_then = len(sink.rows("m1/kwh"))
        await until(lambda: len(sink.rows("m1/kwh")) >= polls_then + 5,
                    "five polls of m1 while the hung device waits")
        hung_failures = adapter.devices[2].failures
        await stop(task)
        await silent.close()
        await hung.close()
        return seen, hung_failures, events, hung

    (connections, requests), hung_failures, events, hung = asyncio.run(go())
    # Each attempt on a new connection: a late answer cannot be taken for the next request.
    assert (connections, requests) == (3, 3)
    offline = next(e for e in events if e["kind"] == "offline")
    assert offline["detail"]["error"] == "no answer within 0.2 s"
    assert offline["detail"]["failed_polls"] == 1
    assert hung_failures == 0 and hung.requests == 1  # still waiting for its first answer
    assert "offline" not in kinds(events, "m1")


def test_a_lost_request_is_retried_on_a_new_connection(sim):
    async def go():
        once, never = DroppingProxy(sim.port, drop=1), DroppingProxy(sim.port, drop=1)
        adapter, sink, events = make([
            dev("r1", await once.start(), retries=1, timeout_s=0.3),
            dev("r0", await never.start(), retries=0, timeout_s=0.3, offline_after=1)])
        task = asyncio.create_task(adapter.run())
        await until(lambda: sink.rows("r1/kwh") and sink.rows("r0/kwh"), "values of both")
        connections = (once.connections, never.connections)
        r1_failures = adapter.devices[0].failures
        await stop(task)
        await once.close()
        await never.close()
        return connections, r1_failures, events

    (once, never), r1_failures, events = asyncio.run(go())
    # r1: the first request vanished, the retry on a second connection was answered.
    assert once == 2 and r1_failures == 0 and kinds(events, "r1") == []
    # r0 has no retries: its first poll failed, the next one (new connection) worked.
    assert never == 2 and kinds(events, "r0") == ["offline", "online"]


def test_a_short_answer_is_a_dead_letter():
    async def go():
        device = RawDevice("short")
        port = await device.start()
        adapter, sink, events = make([dev("m1", port, points=["kwh", "kvarh"])])
        task = asyncio.create_task(adapter.run())
        await until(lambda: sink.letters, "a letter")
        await stop(task)
        await device.close()
        return sink, events

    sink, events = asyncio.run(go())
    letter = sink.letters[0]
    assert letter.reason == "dead.modbus_short_response"
    assert letter.detail == {"table": "holding", "address": 0, "expected": 4, "got": 3}
    assert orjson.loads(letter.payload)["registers"] == [7, 7, 7]
    assert sink.points == []
    assert kinds(events) == ["connected"]  # the device answered, so it is not offline


def test_next_poll_times():
    # aligned: the next multiple of the interval on the clock
    assert next_poll(started=118.0, now=118.2, interval=60, align=True) == 120.0
    assert next_poll(started=120.0, now=120.0, interval=60, align=True) == 180.0
    # not aligned: started + k × interval; an overrun skips the missed slots
    assert next_poll(started=100.0, now=100.3, interval=1, align=False) == 101.0
    assert next_poll(started=100.0, now=102.5, interval=1, align=False) == 103.0
    assert next_poll(started=100.0, now=100.0, interval=5, align=False) == 105.0


def test_configuration_errors_are_named():
    point = {"points": {"kwh": {"address": 0, "type": "float32"}}}
    with pytest.raises(collect_config.ConfigError) as err:
        collect_config.parse({"adapters": [
            {"type": "modbus", "name": "a", "models": {"em": point},
             "devices": [{"name": "x", "host": "h", "model": "nope"}]},
            {"type": "modbus", "name": "b", "models": {"em": point},
             "devices": [{"name": "x", "host": "h", "model": "em"},
                         {"name": "x", "host": "h", "model": "em"}]},
            {"type": "modbus", "name": "c", "models": {"em": {"points": {
                "kwh": {"address": 65535, "type": "float32"}, "t": {"address": 1,
                                                                    "type": "int24"}}}},
             "devices": [{"name": "x", "host": "h", "model": "em"}]},
            {"type": "modbus", "name": "d", "models": {"em": point},
             "devices": [{"name": "a/b", "host": "h", "model": "em", "unit_id": 256,
                          "points": ["kwh"]}]},
            {"type": "modbus", "name": "e", "models": {"em": point},
             "devices": [{"name": "x", "host": "h", "model": "em", "points": ["kvah"]}],
             "colour": "red"},
        ]})
    message = str(err.value)
    assert "adapters[0] (a)" in message and "unknown model 'nope'" in message
    assert "adapters[1] (b)" in message and "device 'x' appears twice" in message
    assert "adapters[2] (c).models.em.points.kwh" in message and "runs past" in message
    assert "adapters[2] (c).models.em.points.t.type" in message
    assert "adapters[3] (d).devices.0.name" in message and "must not contain '/'" in message
    assert "adapters[3] (d).devices.0.unit_id" in message
    assert "adapters[4] (e).colour" in message


def test_the_example_configuration_is_valid():
    cfg = collect_config.load(Path(__file__).parents[2] / "examples" / "collect" / "modbus.yaml")
    (cls, settings), = cfg.adapters
    assert cls is ModbusAdapter
    # Every polled point is mapped (an unmapped one would be dead-lettered on every poll),
    # and every mapping names a polled point.
    adapter = ModbusAdapter(settings, AdapterContext("c", settings.name, "modbus", None, None,
                                                     AdapterStats(), lambda **kw: None))
    polled = {p.tag for d in adapter.devices for p in d.points.values()}
    assert polled == set(settings.tags)
    # The three meters behind the gateway share one connection.
    assert len(adapter.links) == 2
    assert [len(d.blocks) for d in adapter.devices] == [1, 1, 1, 1]


def test_collector_stores_modbus_readings(engine, site, start_collector):
    meter = Sim(units=(1,), energy=1000.0, step=2.5)
    try:
        c = start_collector({"adapters": [{
            "type": "modbus", "name": "substation", "poll_interval_s": 0.05, "align": False,
            "timeout_s": 1, "models": {"em": MODEL},
            "devices": [dev("m1", meter.port, points=["kwh", "wh", "pf"])],
            "tags": {"m1/kwh": "E1", "m1/wh": {"meter": "E2", "unit": "Wh"}, "m1/pf": "E3"}}]})
        started = now_us()
        snap = c.wait_until(lambda s: s["totals"]["stored"] >= 9)
        snap = c.stop()
    finally:
        meter.close()
    stats = snap["adapters"]["substation"]
    assert stats["type"] == "modbus" and stats["rejected"] == 0
    assert stats["devices"]["m1"]["received"] == stats["stored"]
    polls = stats["stored"] // 3
    w = query.Window(started - 60_000_000, now_us() + 1)
    with engine.connect() as conn:
        e1 = query.raw_readings(conn, site["E1"], w)["readings"]
        e2 = query.raw_readings(conn, site["E2"], w)["readings"]
        e3 = query.raw_readings(conn, site["E3"], w)["readings"]
    # 1000 kWh growing by 2.5 kWh per poll; the Wh register converted to kWh by the tag map.
    assert [r["value"] for r in e1] == [1000.0 + 2.5 * k for k in range(1, polls + 1)]
    assert [r["value"] for r in e2] == pytest.approx([r["value"] for r in e1])
    assert [r["value"] for r in e3] == [0.0] * polls
    assert [r["ts"] for r in e1] == [r["ts"] for r in e2]
    assert all(r["quality"] == "measured" for r in e1)
