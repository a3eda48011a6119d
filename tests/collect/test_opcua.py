"""OPC UA adapter against a real asyncua server on 127.0.0.1 (one server per module).

The server runs on its own event loop in a thread; each test runs the adapter on a loop of
its own, with a recording sink (what the adapter submits) or, end to end, inside a real
collector writing into SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import socket
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asyncua import Server, ua
from asyncua.crypto import cert_gen
from asyncua.crypto.permission_rules import User, UserRole
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from sqlalchemy import text

from nengtan import i18n
from nengtan.collect import config as collect_config
from nengtan.collect.adapter import AdapterContext, AdapterStats
from nengtan.collect.opcua import OpcUaAdapter, OpcUaSettings, _timestamp
from nengtan.collect.points import now_us
from nengtan.quality.flags import Quality
from nengtan.services import query
from nengtan.store.types import to_us
from tests.collect.conftest import free_port

NS_URI = "urn:nengtan:test:kiln"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
Q = timedelta(minutes=15)


def us(dt: datetime) -> int:
    return to_us(dt)


# -- the simulated device ------------------------------------------------------------------

class _Users:
    """Anonymous sessions, or user ``nengtan`` with password ``secret``."""

    def __init__(self):
        self.seen: list[str | None] = []

    def get_user(self, iserver, username=None, password=None, certificate=None):
        self.seen.append(username)
        if username is None or (username, password) == ("nengtan", "secret"):
            return User(role=UserRole.User)
        return None


def _certificate(folder: Path, name: str, uri: str, usage) -> tuple[Path, Path]:
    key = cert_gen.generate_private_key()
    cert = cert_gen.generate_self_signed_app_certificate(
        key, name, {}, [x509.UniformResourceIdentifier(uri), x509.DNSName(socket.gethostname()),
                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))], [usage])
    (folder / f"{name}.der").write_bytes(cert.public_bytes(serialization.Encoding.DER))
    (folder / f"{name}.pem").write_bytes(cert_gen.dump_private_key_as_pem(key))
    return folder / f"{name}.der", folder / f"{name}.pem"


class OpcServer:
    """An asyncua server (no security and Basic256Sha256/SignAndEncrypt endpoints) on its own
    event loop in a thread; variables are added per test so tests never share a node."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.url = f"opc.tcp://127.0.0.1:{self.port}/nengtan/"
        self.users = _Users()
        self.server_cert, self.server_key = _certificate(
            folder, "server", "urn:nengtan:test:server", ExtendedKeyUsageOID.SERVER_AUTH)
        self.client_cert, self.client_key = _certificate(
            folder, "client", "urn:nengtan:test:client", ExtendedKeyUsageOID.CLIENT_AUTH)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.call(self._start())

    def call(self, coro, timeout: float = 30.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def acall(self, coro):
        """From another event loop (the adapter's)."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    async def _start(self) -> None:
        self.server = Server(user_manager=self.users)
        await self.server.init()
        self.server.set_endpoint(self.url)
        await self.server.set_application_uri("urn:nengtan:test:server")
        self.server.set_security_policy([ua.SecurityPolicyType.NoSecurity,
                                         ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt])
        self.server.set_identity_tokens([ua.AnonymousIdentityToken, ua.UserNameIdentityToken])
        await self.server.load_certificate(str(self.server_cert))
        await self.server.load_private_key(str(self.server_key))
        self.ns = await self.server.register_namespace(NS_URI)
        self.kiln = await self.server.nodes.objects.add_object(ua.NodeId("Kiln", self.ns), "Kiln")
        await self.server.start()

    def add(self, name: str, value, vtype: ua.VariantType = ua.VariantType.Double,
            ts: datetime | None = None) -> str:
        """A new variable with ``value`` (source time ``ts``); returns its node id string."""
        ident = f"Kiln.{name}.{uuid.uuid4().hex[:6]}"

        async def go():
            var = await self.kiln.add_variable(ua.NodeId(ident, self.ns), ident,
                                               ua.Variant(value, vtype))
            if ts is not None:
                await var.write_value(ua.DataValue(ua.Variant(value, vtype), SourceTimestamp=ts,
                                                   ServerTimestamp=ts))
        self.call(go())
        return f"ns={self.ns};s={ident}"

    async def write(self, node: str, value, vtype: ua.VariantType = ua.VariantType.Double,
                    source: datetime | None = None, status: int = ua.StatusCodes.Good) -> None:
        async def go():
            variant = ua.Variant(value, vtype) if value is not None else ua.Variant()
            await self.server.get_node(node).write_value(ua.DataValue(
                variant, StatusCode=ua.StatusCode(status), SourceTimestamp=source))
        await self.acall(go())

    def stop(self) -> None:
        self.call(self.server.stop())

    def start(self) -> None:
        self.call(self.server.start())

    def close(self) -> None:
        async def cancel_rest():
            # Session tasks of clients that went away while the server was down.
            rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in rest:
                t.cancel()
            await asyncio.gather(*rest, return_exceptions=True)
        try:
            self.stop()
            self.call(cancel_rest())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)


@pytest.fixture(scope="module")
def opc(tmp_path_factory):
    server = OpcServer(tmp_path_factory.mktemp("opcua"))
    yield server
    server.close()


# -- the adapter with a recording sink -------------------------------------------------------

class RecordingSink:
    def __init__(self):
        self.points: list[tuple] = []
        self.letters = []

    async def submit(self, ctx, points, device, ack, source, payload) -> None:
        for i in range(len(points)):
            q = int(points.quality[i]) if points.quality is not None else 0
            reason = points.reason[i] if points.reason is not None else None
            self.points.append((device, points.tag[i], int(points.ts[i]),
                                float(points.value[i]), q, reason))

    async def dead_letter(self, ctx, letter, ack) -> None:
        self.letters.append(letter)

    def rows(self, tag: str) -> list[tuple]:
        return [(ts, v) for _, t, ts, v, _, _ in self.points if t == tag]


def make(opc: OpcServer, nodes: list, **more):
    settings = OpcUaSettings.model_validate({
        "type": "opcua", "name": "kiln", "endpoint": opc.url, "nodes": nodes,
        "publishing_interval_ms": 50, "watchdog_s": 0.5, "timeout_s": 5, **more})
    sink, events = RecordingSink(), []
    ctx = AdapterContext("test", "kiln", "opcua", sink, None, AdapterStats(),
                         lambda **kw: events.append(kw))
    return OpcUaAdapter(settings, ctx), sink, events


async def until(predicate, what: str, timeout: float = 15.0) -> None:
    """Wait (without blocking the loop) until ``predicate()``; a bound, not a timing check."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError(f"waited {timeout} s for {what}")
        await asyncio.sleep(0.02)


async def stop(task: asyncio.Task) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


# -- tests -----------------------------------------------------------------------------------

def test_values_arrive_with_their_source_timestamps(opc):
    energy = opc.add("Energy", 100.0, ts=T0)
    coal = opc.add("Coal", 5, vtype=ua.VariantType.UInt32, ts=T0)
    async def go():
        adapter, sink, events = make(opc, [energy, {"node": coal, "alias": "kiln.coal"}])
        task = asyncio.create_task(adapter.run())
        await until(lambda: sink.rows(energy) and sink.rows("kiln.coal"), "initial values")
        for i in (1, 2, 3):  # an energy counter increasing by 2.5 kWh per quarter hour
            await opc.write(energy, 100.0 + 2.5 * i, source=T0 + i * Q)
        # No source timestamp: the server's (the server stamps its own time on a write).
        before = now_us()
        await opc.write(coal, 6, vtype=ua.VariantType.UInt32)
        after = now_us()
        await until(lambda: len(sink.rows(energy)) == 4 and len(sink.rows("kiln.coal")) == 2,
                    "the changes")
        await stop(task)
        return adapter, sink, events, (before, after)

    adapter, sink, events, (before, after) = asyncio.run(go())
    # The initial read and the subscription's first sample are the same value: sent once.
    assert sink.rows(energy) == [(us(T0 + i * Q), 100.0 + 2.5 * i) for i in range(4)]
    (first, second) = sink.rows("kiln.coal")
    assert first == (us(T0), 5.0)
    assert before <= second[0] <= after and second[1] == 6.0
    device = f"127.0.0.1:{opc.port}"
    assert {p[0] for p in sink.points} == {device}
    assert all(q == Quality.MEASURED and r is None for *_, q, r in sink.points)
    assert adapter.ctx.stats.devices[device].received == 6
    assert [e["kind"] for e in events] == ["connected"]
    assert sink.letters == []


def test_status_not_good_is_stored_rejected_or_dead_lettered(opc):
    node = opc.add("Temp", 1.0, ts=T0)

    async def go():
        adapter, sink, events = make(opc, [node], read_initial=False)
        task = asyncio.create_task(adapter.run())
        await until(lambda: sink.rows(node), "first sample")
        await opc.write(node, 7.0, source=T0 + Q, status=ua.StatusCodes.UncertainLastUsableValue)
        # A server nulls the value of a Bad DataValue (OPC 10000-4 §7.7.1).
        await opc.write(node, None, source=T0 + 2 * Q, status=ua.StatusCodes.BadSensorFailure)
        await opc.write(node, 8.0, source=T0 + 3 * Q)
        await until(lambda: len(sink.rows(node)) == 3 and sink.letters, "all changes")
        await stop(task)
        return sink, events

    sink, events = asyncio.run(go())
    assert [(ts, v, q) for _, _, ts, v, q, _ in sink.points] == [
        (us(T0), 1.0, Quality.MEASURED), (us(T0 + Q), 7.0, Quality.REJECTED),
        (us(T0 + 3 * Q), 8.0, Quality.MEASURED)]
    assert sink.points[1][5] == "OPC UA status UncertainLastUsableValue (0x40900000)"
    (letter,) = sink.letters
    assert letter.reason == "dead.opcua_bad_status"
    assert letter.detail == {"tag": node, "node": node,
                             "status": "BadSensorFailure (0x808C0000)"}
    assert b'"ts":"2026-01-01T00:30:00.000000Z"' in letter.payload
    assert [(e["kind"], e["detail"]) for e in events] == [
        ("connected", None),
        ("error", {"status": "UncertainLastUsableValue (0x40900000)", "tags": [node], "count": 1}),
        ("error", {"status": "BadSensorFailure (0x808C0000)", "tags": [node], "count": 1}),
        ("online", {"tags": [node], "count": 1})]


def test_values_that_are_not_numbers_are_dead_lettered_and_the_rest_flows(opc):
    good = opc.add("Good", 1.0, ts=T0)
    word = opc.add("Word", "running", vtype=ua.VariantType.String, ts=T0)
    flag = opc.add("Flag", True, vtype=ua.VariantType.Boolean, ts=T0)
    nan = opc.add("NaN", 1.0, ts=T0)
    array = opc.add("Array", [1.0, 2.0], ts=T0)

    async def go():
        adapter, sink, _ = make(opc, [good, word, flag, nan, array])
        task = asyncio.create_task(adapter.run())
        await until(lambda: len(sink.letters) == 3 and sink.rows(nan), "initial values")
        await opc.write(nan, math.nan, source=T0 + Q)
        await opc.write(good, 2.0, source=T0 + Q)
        await until(lambda: len(sink.letters) == 4 and len(sink.rows(good)) == 2, "changes")
        await stop(task)
        return sink

    sink = asyncio.run(go())
    assert sink.rows(good) == [(us(T0), 1.0), (us(T0 + Q), 2.0)]
    assert sink.rows(nan) == [(us(T0), 1.0)]
    got = sorted((lt.detail["node"], lt.detail["type"]) for lt in sink.letters)
    assert got == sorted([(word, "String"), (flag, "Boolean"), (nan, "Double"),
                          (array, "Double[]")])
    assert {lt.reason for lt in sink.letters} == {"dead.opcua_not_numeric"}
    assert all(lt.source == opc.url for lt in sink.letters)
    text_of_word = next(lt for lt in sink.letters if lt.detail["node"] == word)
    assert b'"value":"running"' in text_of_word.payload
    message = i18n.both(text_of_word.reason, **text_of_word.detail)
    assert message["en"] == (f"The OPC UA value of {word} ({word}) is not a finite number "
                             "(type String); only numeric values are stored")
    assert message["zh-CN"].startswith(f"OPC UA 节点 {word}（{word}）的值不是有限数值")


def test_refused_nodes_are_reported_and_namespace_uris_are_resolved(opc):
    node = opc.add("ByUri", 3.0, ts=T0)
    by_uri = node.replace(f"ns={opc.ns};", f"nsu={NS_URI};")
    missing = f"ns={opc.ns};s=Kiln.DoesNotExist"

    async def go():
        adapter, sink, events = make(opc, [by_uri, missing, "nsu=urn:nowhere;s=X"])
        task = asyncio.create_task(adapter.run())
        await until(lambda: sink.rows(by_uri), "the value of the node given by URI")
        await stop(task)
        nothing, _, _ = make(opc, [missing])
        with pytest.raises(ConnectionError, match="none of the nodes"):
            await asyncio.wait_for(nothing.run(), 20)
        return sink, events

    sink, events = asyncio.run(go())
    assert sink.rows(by_uri) == [(us(T0), 3.0)]
    refused = sorted((e["detail"]["status"], e["detail"]["refused"]) for e in events
                     if e["kind"] == "error")
    assert refused == [("BadNamespaceUnknown", ["nsu=urn:nowhere;s=X"]),
                       ("BadNodeIdUnknown (0x80340000)", [missing])]


def test_server_restart_makes_run_raise_and_the_next_run_resubscribes(opc):
    node = opc.add("Counter", 10.0, ts=T0)

    async def go():
        adapter, sink, events = make(opc, [node])
        task = asyncio.create_task(adapter.run())
        await until(lambda: sink.rows(node), "first value")
        try:
            await asyncio.to_thread(opc.stop)
            with pytest.raises(ConnectionError):
                await asyncio.wait_for(task, 20)
            # The counter moves on while nobody is connected.
            await opc.write(node, 12.0, source=T0 + Q)
        finally:
            await asyncio.to_thread(opc.start)
        adapter.ctx.stats.state = "backoff"          # what the runtime does after a failure,
        task = asyncio.create_task(adapter.run())   # and after the back-off: run() again
        await until(lambda: len(sink.rows(node)) == 2, "the value read on reconnect")
        await opc.write(node, 13.0, source=T0 + 2 * Q)
        await until(lambda: len(sink.rows(node)) == 3, "a change on the new subscription")
        await stop(task)
        return sink, events

    sink, events = asyncio.run(go())
    assert sink.rows(node) == [(us(T0), 10.0), (us(T0 + Q), 12.0), (us(T0 + 2 * Q), 13.0)]
    assert [e["kind"] for e in events] == ["connected", "connected"]


class FreezingProxy:
    """A TCP relay to the server that can stop relaying while keeping both sockets open: to
    the client the connection looks fine, but nothing answers (a cable pulled behind a switch)."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.open = 0
        self.tasks: list[asyncio.Task] = []

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return f"opc.tcp://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/nengtan/"

    async def _relay(self, reader, writer) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.open += 1
        self.tasks += [asyncio.create_task(self._pump(reader, up_writer)),
                       asyncio.create_task(self._pump(up_reader, writer, client_side=True))]

    async def _pump(self, reader, writer, client_side: bool = False) -> None:
        try:
            while data := await reader.read(65536):
                if self.flowing.is_set():  # else the bytes vanish, as into a black hole
                    writer.write(data)
                    await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
        if not client_side:  # the client closed its end
            self.open -= 1

    async def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.server.close()


def test_a_silent_connection_loss_is_found_by_the_watchdog(opc):
    node = opc.add("Silent", 1.0, ts=T0)

    async def go():
        proxy = FreezingProxy(opc.port)
        adapter, sink, _ = make(opc, [node], endpoint=await proxy.start())
        task = asyncio.create_task(adapter.run())
        await until(lambda: sink.rows(node), "first value")
        proxy.flowing.clear()  # packets vanish; no FIN, no RST
        with pytest.raises(ConnectionError, match="lost"):
            await asyncio.wait_for(task, 20)
        await until(lambda: proxy.open == 0, "the adapter to close its socket")
        await proxy.close()

    asyncio.run(go())


def test_basic256sha256_with_username_and_password(opc):
    node = opc.add("Secure", 42.0, ts=T0)
    secure = {"security_policy": "Basic256Sha256", "security_mode": "SignAndEncrypt",
              "certificate": str(opc.client_cert), "private_key": str(opc.client_key),
              "server_certificate": str(opc.server_cert), "username": "nengtan"}

    async def go():
        adapter, sink, _ = make(opc, [node], password="secret", **secure)
        task = asyncio.create_task(adapter.run())
        await until(lambda: sink.rows(node), "a value over the secure channel")
        await stop(task)
        intruder, _, _ = make(opc, [node], password="guess", **secure)
        with pytest.raises(ConnectionError, match="BadUserAccessDenied"):
            await asyncio.wait_for(intruder.run(), 20)
        return sink

    sink = asyncio.run(go())
    assert sink.rows(node) == [(us(T0), 42.0)]
    assert opc.users.seen[-2:] == ["nengtan", "nengtan"]


def test_timestamp_choice_and_fallbacks():
    src, srv = T0, T0 + Q
    null = datetime(1601, 1, 1, tzinfo=UTC)  # OPC UA DateTime 0: no timestamp
    dv = ua.DataValue(ua.Variant(1.0), SourceTimestamp=src, ServerTimestamp=srv)
    assert _timestamp(dv, "source", 7) == us(src)
    assert _timestamp(dv, "server", 7) == us(srv)
    assert _timestamp(dv, "receive", 7) == 7
    no_source = ua.DataValue(ua.Variant(1.0), SourceTimestamp=null, ServerTimestamp=srv)
    assert _timestamp(no_source, "source", 7) == us(srv)
    naive = ua.DataValue(ua.Variant(1.0), SourceTimestamp=datetime(2026, 1, 1, 8))
    assert _timestamp(naive, "source", 7) == us(datetime(2026, 1, 1, 8, tzinfo=UTC))
    assert _timestamp(ua.DataValue(ua.Variant(1.0)), "source", 7) == 7


def test_configuration_errors_are_named():
    with pytest.raises(collect_config.ConfigError) as err:
        collect_config.parse({"adapters": [
            {"type": "opcua", "name": "a", "endpoint": "http://x", "nodes": ["ns=2;s=A"]},
            {"type": "opcua", "name": "b", "endpoint": "opc.tcp://h:4840", "nodes": ["nonsense"]},
            {"type": "opcua", "name": "c", "endpoint": "opc.tcp://h:4840",
             "nodes": ["ns=2;s=A", {"node": "ns=2;s=B", "alias": "ns=2;s=A"}]},
            {"type": "opcua", "name": "d", "endpoint": "opc.tcp://h:4840", "nodes": ["i=2258"],
             "security_policy": "Basic256Sha256", "colour": "red"},
        ]})
    message = str(err.value)
    assert "adapters[0] (a).endpoint" in message
    assert "adapters[1] (b).nodes" in message and "'nonsense' is not an OPC UA node id" in message
    assert "adapters[2] (c).nodes" in message and "appears twice" in message
    assert "adapters[3] (d).colour" in message


def test_the_example_configuration_is_valid():
    cfg = collect_config.load(Path(__file__).parents[2] / "examples" / "collect" / "opcua.yaml")
    plc, substation = (settings for _, settings in cfg.adapters)
    assert [n.alias or n.node for n in plc.nodes] == [
        "ns=2;s=Kiln.CoalFeed.Total", "kiln.main.kwh", "mill.kwh"]
    assert set(plc.tags) == {"ns=2;s=Kiln.CoalFeed.Total", "kiln.main.kwh", "mill.kwh"}
    assert (substation.security_policy, substation.timestamp) == ("Basic256Sha256", "server")


def test_collector_stores_opcua_readings(engine, site, start_collector, opc):
    e1 = opc.add("E1", 1000.0, ts=T0)
    e2 = opc.add("E2", 500_000.0, ts=T0)  # Wh

    c = start_collector({"adapters": [{
        "type": "opcua", "name": "kiln", "endpoint": opc.url, "publishing_interval_ms": 50,
        "watchdog_s": 0.5, "nodes": [e1, {"node": e2, "alias": "kiln.e2.wh"}],
        "tags": {e1: "E1", "kiln.e2.wh": {"meter": "E2", "unit": "Wh"}}}]})
    c.wait_until(lambda s: s["totals"]["stored"] >= 2)

    async def change():
        for i in (1, 2):
            await opc.write(e1, 1000.0 + 10 * i, source=T0 + i * Q)
            await opc.write(e2, 500_000.0 + 2500 * i, source=T0 + i * Q)
        await opc.write(e1, 1025.0, source=T0 + 3 * Q,
                        status=ua.StatusCodes.UncertainSensorNotAccurate)
        await opc.write(e2, None, source=T0 + 3 * Q, status=ua.StatusCodes.BadNoCommunication)

    asyncio.run(change())
    snap = c.wait_until(lambda s: s["totals"]["stored"] >= 7 and s["totals"]["dead_lettered"])
    c.stop()
    assert snap["adapters"]["kiln"]["rejected"] == 1
    w = query.Window(us(T0), us(T0 + 4 * Q))
    with engine.connect() as conn:
        r1 = query.raw_readings(conn, site["E1"], w)["readings"]
        r2 = query.raw_readings(conn, site["E2"], w)["readings"]
        n = conn.execute(text("SELECT count(*) FROM readings")).scalar()
        letters = conn.execute(text("SELECT reason, source FROM dead_letters")).all()
        kinds = [k for (k,) in conn.execute(text(
            "SELECT kind FROM collector_events WHERE adapter = 'kiln' ORDER BY id"))]
    assert n == 7
    assert [tuple(r) for r in letters] == [("dead.opcua_bad_status", opc.url)]
    assert kinds == ["connected", "error", "error"]  # Uncertain on E1, Bad on E2
    assert [(r["ts"], r["value"], r["quality"]) for r in r1] == [
        ("2026-01-01T00:00:00Z", 1000.0, "measured"), ("2026-01-01T00:15:00Z", 1010.0, "measured"),
        ("2026-01-01T00:30:00Z", 1020.0, "measured"), ("2026-01-01T00:45:00Z", 1025.0, "rejected")]
    assert r1[3]["reason"] == "OPC UA status UncertainSensorNotAccurate (0x40930000)"
    assert [r["value"] for r in r2] == [500.0, 502.5, 505.0]  # Wh → kWh
