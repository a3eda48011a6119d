"""OPC UA adapter: data-change subscriptions on an OPC UA server (asyncua client).

One adapter is one client session on one server (``endpoint``).  It subscribes to the
``Value`` attribute of each configured node (OPC 10000-4 v1.04 §5.12 MonitoredItem services, §5.13
Subscription services) and turns every data-change notification into a point:

* **tag** — the node id exactly as written in ``nodes`` (``ns=2;s=Kiln.CoalFeed.Total``), or
  the node's ``alias``; the adapter's ``tags:`` map sends tags to meters.
* **time** — the value's ``SourceTimestamp``, else its ``ServerTimestamp``, else the time it
  was received (OPC 10000-4 §7.7 DataValue); converted to µs UTC.  ``timestamp: server`` or
  ``receive`` skips the device clock where it cannot be trusted.
* **status** — Good: stored as measured.  Uncertain, or Bad with a value anyway: stored with
  quality REJECTED and a reason naming the status code.  Bad without a value (a server must
  null the value of a Bad DataValue, OPC 10000-4 §7.7.1) and any value that is not a finite
  number (text, Boolean, arrays, NaN) become dead letters.  Nothing is dropped silently.

Connection loss is detected by asyncua's watchdog (a read of ``Server_ServerStatus_State``
every ``watchdog_s``), by the socket closing and by a Bad subscription status (e.g. the
server's ``BadShutdown``/``BadTimeout``); ``run()`` then raises and the runtime reconnects with
back-off.  Every ``run()`` opens a new session and creates the subscription anew, so nothing
depends on the server remembering an old session.  With ``read_initial`` the current values
are read once right after subscribing.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlparse

import numpy as np
import orjson
from asyncua import Client, ua
from asyncua.crypto import security_policies, uacrypto
from cryptography import x509
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nengtan.collect.adapter import Adapter, AdapterSettings
from nengtan.collect.points import Letter, Points, now_us
from nengtan.quality.flags import Quality
from nengtan.store.types import to_us

log = logging.getLogger("nengtan.collect.opcua")

POLICIES = {
    "Basic256Sha256": security_policies.SecurityPolicyBasic256Sha256,
    "Aes128_Sha256_RsaOaep": security_policies.SecurityPolicyAes128Sha256RsaOaep,
    "Aes256_Sha256_RsaPss": security_policies.SecurityPolicyAes256Sha256RsaPss,
}
#: Tags (or nodes) named in one collector event; the event counts them all.
MAX_EVENT_TAGS = 100
#: OPC UA DateTime 0 (1601-01-01) means "no timestamp" (OPC 10000-6 §5.2.2.5).
_NO_TIME_YEAR = 1601


class OpcUaNode(BaseModel):
    model_config = ConfigDict(extra="forbid")
    node: str = Field(description="Node id: ns=2;s=Kiln.Coal, ns=3;i=1001, nsu=<uri>;s=...")
    alias: str | None = Field(None, min_length=1, description="Tag to use instead of the node id.")
    device: str | None = Field(None, min_length=1, description="Device for counters/dead letters.")


class OpcUaSettings(AdapterSettings):
    endpoint: str = Field(description="opc.tcp://host:port/path")
    nodes: list[str | OpcUaNode] = Field(min_length=1)
    device: str | None = Field(None, description="Default device of the nodes (default host:port).")
    publishing_interval_ms: float = Field(1000.0, gt=0)
    sampling_interval_ms: float | None = Field(
        None, ge=0, description="Server-side sampling; default = the publishing interval.")
    queue_size: int = Field(10, ge=1, description="Values the server queues per node between "
                            "publishes (more keep every sample of fast-changing nodes).")
    read_initial: bool = Field(True, description="Read the current values after subscribing.")
    timestamp: Literal["source", "server", "receive"] = "source"
    username: str | None = None
    password: str | None = None
    security_policy: Literal["None", "Basic256Sha256", "Aes128_Sha256_RsaOaep",
                             "Aes256_Sha256_RsaPss"] = "None"
    security_mode: Literal["Sign", "SignAndEncrypt"] = "SignAndEncrypt"
    certificate: str | None = Field(None, description="Client certificate (DER or PEM file).")
    private_key: str | None = Field(None, description="Client private key (PEM file).")
    private_key_password: str | None = None
    server_certificate: str | None = Field(
        None, description="Pin the server's certificate (default: taken from GetEndpoints).")
    application_uri: str | None = Field(
        None, description="Default: the URI in the client certificate, else urn:nengtan:...")
    timeout_s: float = Field(10.0, gt=0, description="Time limit of each request.")
    watchdog_s: float = Field(5.0, gt=0, description="Interval of the keep-alive probe.")
    session_timeout_s: float = Field(120.0, ge=1)
    buffer_max: int = Field(100_000, ge=1, description="Notifications waiting for the sink "
                            "before the adapter reconnects instead of dropping any.")
    node_retry_s: float = Field(60.0, gt=0, description="Retry nodes the server refused.")

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, v: str) -> str:
        if not v.startswith("opc.tcp://") or not urlparse(v).hostname:
            raise ValueError("must look like opc.tcp://host:port[/path]")
        return v

    @field_validator("nodes")
    @classmethod
    def _nodes(cls, items: list) -> list[OpcUaNode]:
        nodes = [OpcUaNode(node=n) if isinstance(n, str) else n for n in items]
        tags: set[str] = set()
        ids: set[str] = set()
        for n in nodes:
            try:
                ua.NodeId.from_string(n.node)
            except (ua.UaStringParsingError, ValueError):
                raise ValueError(f"{n.node!r} is not an OPC UA node id "
                                 "(e.g. ns=2;s=Kiln.Coal, ns=3;i=1001)") from None
            tag = n.alias or n.node
            if tag in tags or n.node in ids:
                raise ValueError(f"node or tag {tag!r} appears twice")
            tags.add(tag)
            ids.add(n.node)
        return nodes

    @model_validator(mode="after")
    def _security(self) -> OpcUaSettings:
        if self.security_policy != "None" and not (self.certificate and self.private_key):
            raise ValueError(f"security_policy {self.security_policy} needs certificate and "
                             "private_key")
        if self.password is not None and not self.username:
            raise ValueError("password without username")
        return self


@dataclass
class _Node:
    tag: str
    node: str
    device: str | None


class _Handler:
    """asyncua subscription callbacks: queue notifications, report a failed subscription."""

    def __init__(self, inbox: asyncio.Queue, fail, limit: int):
        self.inbox = inbox
        self.fail = fail
        self.limit = limit

    def datachange_notification(self, node, val, data) -> None:
        if self.inbox.qsize() >= self.limit:
            self.fail(ConnectionError(f"more than {self.limit} values wait for storage; "
                                      "reconnecting instead of dropping values"))
            return
        self.inbox.put_nowait((node.nodeid, data.monitored_item.Value, now_us()))

    def status_change_notification(self, status: ua.StatusChangeNotification) -> None:
        if not status.Status.is_good():
            self.fail(ConnectionError(f"subscription status {_status_name(status.Status)}"))


class OpcUaAdapter(Adapter):
    kind = "opcua"
    Settings = OpcUaSettings

    def __init__(self, settings: AdapterSettings, ctx):
        super().__init__(settings, ctx)
        s: OpcUaSettings = settings  # type: ignore[assignment]
        url = urlparse(s.endpoint)
        default_device = s.device or f"{url.hostname}:{url.port or 4840}"
        self.nodes = [_Node(n.alias or n.node, n.node, n.device or default_device)
                      for n in s.nodes]  # type: ignore[union-attr]
        #: Last status code value per tag, for status-change events.
        self._status: dict[str, int] = {}
        #: Last point submitted per tag: a repeated (ts, value, status) is not sent again.
        self._last: dict[str, tuple] = {}
        #: Nodes the server refused, with the status (an event is recorded once per status).
        self._refused: dict[str, str] = {}
        #: Node id → node, of the nodes monitored on the current connection.
        self._by_id: dict[ua.NodeId, _Node] = {}

    # -- connection ---------------------------------------------------------------------------

    async def run(self) -> None:
        s: OpcUaSettings = self.settings  # type: ignore[assignment]
        loop = asyncio.get_running_loop()
        lost: asyncio.Future = loop.create_future()
        inbox: asyncio.Queue = asyncio.Queue()

        def fail(exc: BaseException) -> None:
            if not lost.done():
                lost.set_exception(exc)
                lost.exception()  # retrieved here so an unawaited loss is never logged as lost

        async def on_lost(exc: Exception) -> None:
            fail(ConnectionError(f"connection to {s.endpoint} lost: {exc!r}"))

        client = await self._client(s, on_lost)
        getter: asyncio.Future | None = None
        opened = False
        try:
            try:
                await asyncio.wait_for(client.connect(), s.timeout_s * 3)
            except (OSError, TimeoutError, ua.UaError) as exc:
                raise ConnectionError(f"cannot connect to {s.endpoint}: {exc!r}") from exc
            opened = True
            sub = await client.create_subscription(s.publishing_interval_ms,
                                                   _Handler(inbox, fail, s.buffer_max))
            self._by_id = {}
            pending = await self._subscribe(client, sub, self.nodes)
            if not self._by_id:
                raise ConnectionError(f"{s.endpoint}: none of the nodes can be subscribed: "
                                      + ", ".join(f"{k} ({v})" for k, v in self._refused.items()))
            self.ctx.connected()
            retry_at = loop.time() + s.node_retry_s
            while True:
                getter = asyncio.ensure_future(inbox.get())
                timeout = max(0.0, retry_at - loop.time()) if pending else None
                done, _ = await asyncio.wait({getter, lost}, timeout=timeout,
                                             return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    batch = [getter.result()]
                    while not inbox.empty():
                        batch.append(inbox.get_nowait())
                    await self._store(batch)
                else:
                    getter.cancel()
                getter = None
                if lost.done():
                    lost.result()  # raises the loss
                if pending and loop.time() >= retry_at:
                    pending = await self._subscribe(client, sub, pending)
                    retry_at = loop.time() + s.node_retry_s
        finally:
            if getter is not None:
                getter.cancel()
            await self._close(client, inbox, opened, lost.done())

    async def _client(self, s: OpcUaSettings, on_lost) -> Client:
        client = Client(s.endpoint, timeout=s.timeout_s, watchdog_intervall=s.watchdog_s)
        client.session_timeout = int(s.session_timeout_s * 1000)
        client.name = client.description = f"nengtan {self.ctx.collector}/{self.ctx.name}"
        client.application_uri = s.application_uri or f"urn:nengtan:{self.ctx.collector}"
        client.connection_lost_callback = on_lost
        if s.username:
            client.set_user(s.username)
            client.set_password(s.password or "")
        if s.security_policy != "None":
            if not s.application_uri:
                # Servers compare the session's ApplicationUri with the certificate's
                # (OPC 10000-4 §5.6.2); take it from the certificate so they match.
                uri = await _certificate_uri(s.certificate)
                client.application_uri = uri or client.application_uri
            mode = getattr(ua.MessageSecurityMode, s.security_mode)
            try:
                await asyncio.wait_for(client.set_security(
                    POLICIES[s.security_policy], s.certificate, s.private_key,
                    s.private_key_password, s.server_certificate, mode), s.timeout_s * 3)
            except (OSError, TimeoutError, ua.UaError) as exc:
                raise ConnectionError(f"cannot set up {s.security_policy} with {s.endpoint}: "
                                      f"{exc!r}") from exc
        return client

    async def _subscribe(self, client: Client, sub, nodes: list[_Node]) -> list[_Node]:
        """Monitor ``nodes`` (and read their current values); return those the server refused."""
        s: OpcUaSettings = self.settings  # type: ignore[assignment]
        resolved, refused = await self._resolve(client, nodes)
        if resolved:
            sampling = (s.sampling_interval_ms if s.sampling_interval_ms is not None
                        else s.publishing_interval_ms)
            results = await sub.subscribe_data_change(
                [client.get_node(nid) for nid, _ in resolved], queuesize=s.queue_size,
                sampling_interval=sampling)
            ok = []
            for (nid, n), result in zip(resolved, results):
                if isinstance(result, ua.StatusCode):
                    refused.append((n, _status_name(result)))
                else:
                    self._by_id[nid] = n
                    ok.append((nid, n))
                    self._refused.pop(n.node, None)
            if s.read_initial and ok:
                values = await client.read_attributes([client.get_node(nid) for nid, _ in ok])
                received = now_us()
                await self._store([(nid, dv, received) for (nid, _), dv in zip(ok, values)])
        news: dict[tuple, list[str]] = {}
        for n, status in refused:
            if self._refused.get(n.node) != status:
                self._refused[n.node] = status
                news.setdefault((status, n.device), []).append(n.node)
        for (status, device), failed in news.items():
            self.ctx.event("error", device=device, severity="warning", status=status,
                           refused=failed[:MAX_EVENT_TAGS], count=len(failed))
        return [n for n, _ in refused]

    async def _resolve(self, client: Client, nodes: list[_Node]):
        """Node ids of ``nodes``; ``nsu=`` URIs are looked up in the server's namespace array
        on every connection, because namespace indexes may change when a server restarts."""
        resolved, refused = [], []
        namespaces: list[str] | None = None
        for n in nodes:
            nid = ua.NodeId.from_string(n.node)
            uri = getattr(nid, "NamespaceUri", None)
            if uri:
                if namespaces is None:
                    namespaces = await client.get_namespace_array()
                if uri not in namespaces:
                    refused.append((n, "BadNamespaceUnknown"))  # asyncua has no code for it
                    continue
                nid = ua.NodeId(nid.Identifier, namespaces.index(uri), nid.NodeIdType)
            resolved.append((nid, n))
        return resolved, refused

    async def _close(self, client: Client, inbox: asyncio.Queue, opened: bool,
                     lost: bool) -> None:
        # Values already received are handed to the sink even on shutdown (the runtime
        # commits everything submitted before it closes the sink).
        if not inbox.empty():
            batch = []
            while not inbox.empty():
                batch.append(inbox.get_nowait())
            try:
                await self._store(batch)
            except Exception:  # closing must not fail
                log.warning("%s: values received at shutdown not stored", self.ctx.name,
                            exc_info=True)
        if opened:
            # Close the session politely, but not waiting long for a server that went silent.
            try:
                await asyncio.wait_for(client.disconnect(), 1.0 if lost else 5.0)
            except Exception:  # the connection may already be gone
                log.debug("%s: disconnect failed", self.ctx.name, exc_info=True)
        # A loss found by the watchdog (asyncua then only marks the client disconnected) or a
        # connect cut short by its time limit leaves the socket open: close it here.
        protocol = client.uaclient.protocol
        transport = getattr(protocol, "transport", None)
        if transport is not None and not transport.is_closing():
            transport.close()

    # -- values -------------------------------------------------------------------------------

    async def _store(self, batch: list[tuple]) -> None:
        """Turn ``(node id, DataValue, received µs)`` into points per device, and letters."""
        s: OpcUaSettings = self.settings  # type: ignore[assignment]
        rows: dict[str | None, list] = {}
        changes: dict[tuple, list[str]] = {}
        for nid, dv, received in batch:
            n = self._by_id.get(nid)
            if n is None:
                continue  # a node of an earlier subscription
            status = dv.StatusCode if dv.StatusCode is not None else ua.StatusCode()
            before = self._status.get(n.tag)
            self._status[n.tag] = status.value
            if before != status.value and not (before is None and status.is_good()):
                change = ("online", None) if status.is_good() else ("error", _status_name(status))
                changes.setdefault((*change, n.device), []).append(n.tag)
            ts = _timestamp(dv, s.timestamp, received)
            value = dv.Value.Value if dv.Value is not None else None
            number = _number(value, dv.Value)
            key = (ts, number if number is not None else repr(value), status.value)
            if self._last.get(n.tag) == key:
                continue  # the initial read repeats the subscription's first sample
            self._last[n.tag] = key
            self.ctx.stats.count(n.device, received=1)
            if number is None:
                await self.ctx.dead_letter(self._letter(n, dv, ts, status))
                continue
            bad = not status.is_good()
            rows.setdefault(n.device, []).append(
                (n.tag, ts, number, Quality.REJECTED if bad else Quality.MEASURED,
                 f"OPC UA status {_status_name(status)}" if bad else None))
        # One event per status and device: a PLC going offline flips all its nodes at once.
        for (kind, status_name, device), tags in changes.items():
            extra = {"status": status_name} if status_name else {}
            self.ctx.event(kind, device=device, severity="warning" if status_name else "info",
                           tags=tags[:MAX_EVENT_TAGS], count=len(tags), **extra)
        for device, items in rows.items():
            tags, ts, values, quality, reasons = zip(*items)
            has_reason = any(r is not None for r in reasons)
            await self.ctx.submit(Points(
                list(tags), np.array(ts, np.int64), np.array(values, np.float64),
                np.array(quality, np.int16) if has_reason else None,
                list(reasons) if has_reason else None), device=device)
        if batch:
            self.ctx.stats.last_data_at = asyncio.get_running_loop().time()

    def _letter(self, n: _Node, dv: ua.DataValue, ts: int, status: ua.StatusCode) -> Letter:
        variant = dv.Value
        vtype = ("Null" if variant is None
                 else variant.VariantType.name + ("[]" if variant.is_array else ""))
        value = variant.Value if variant is not None else None
        if status.is_good():
            reason, detail = "dead.opcua_not_numeric", {"type": vtype}
        else:
            reason, detail = "dead.opcua_bad_status", {"status": _status_name(status)}
        payload = orjson.dumps({
            "node": n.node, "tag": n.tag, "value": value, "type": vtype,
            "status": _status_name(status), "ts": _iso(ts),
            "source_ts": _iso_dt(dv.SourceTimestamp), "server_ts": _iso_dt(dv.ServerTimestamp),
        }, default=repr, option=orjson.OPT_SERIALIZE_NUMPY)
        endpoint = self.settings.endpoint  # type: ignore[attr-defined]
        return Letter(reason, payload, endpoint, n.device, {"tag": n.tag, "node": n.node, **detail})


def _number(value: Any, variant: ua.Variant | None) -> float | None:
    """A finite float, or None: Booleans, text, arrays and NaN/inf are not readings."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if variant is not None and variant.is_array:
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _timestamp(dv: ua.DataValue, prefer: str, received: int) -> int:
    order = {"source": (dv.SourceTimestamp, dv.ServerTimestamp),
             "server": (dv.ServerTimestamp,), "receive": ()}[prefer]
    for dt in order:
        if dt is not None and dt.year > _NO_TIME_YEAR:
            # OPC UA DateTime is UTC by definition; asyncua may return it naive.
            return to_us(dt if dt.tzinfo else dt.replace(tzinfo=UTC))
    return received


def _status_name(status: ua.StatusCode) -> str:
    """Symbolic name and code; the low 16 bits (info bits) are ignored for the name."""
    name = ua.StatusCode(status.value & 0xFFFF0000).name
    return f"{name} (0x{status.value:08X})"


async def _certificate_uri(path: str | None) -> str | None:
    try:
        cert = await uacrypto.load_certificate(path)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except Exception:  # noqa: BLE001 - set_security reports unreadable certificates
        return None
    uris = san.value.get_values_for_type(x509.UniformResourceIdentifier)
    return uris[0] if uris else None


def _iso(us: int) -> str:
    return np.datetime64(int(us), "us").astype(str) + "Z"


def _iso_dt(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None
