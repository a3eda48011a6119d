"""MQTT adapter (MQTT 3.1.1 and 5; Mosquitto or any compliant broker).

Delivery guarantees: subscriptions at QoS 1 on a persistent session (fixed client id, clean
session off / MQTT 5 session expiry), and *manual* acknowledgement — a message's PUBACK is sent
only after the sink has committed its points.  A collector that dies before that leaves the
message unacknowledged and the broker delivers it again to the next session; storing it again
changes nothing because readings are idempotent per (meter, ts).  A broker restart behaves the
same way (with broker persistence on, as Mosquitto's ``persistence true``).

The number of unacknowledged messages in flight is bounded by ``receive_maximum`` (MQTT 5) and
the broker's own limit (Mosquitto: ``max_inflight_messages``), which is also the back-pressure
that keeps a slow database from being flooded.  Payloads and topics: ``mqtt_payload``.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from functools import partial
from typing import Literal
from zoneinfo import ZoneInfo

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from pydantic import Field

from nengtan.collect import mqtt_payload
from nengtan.collect.adapter import Adapter, AdapterSettings
from nengtan.collect.points import now_us

log = logging.getLogger("nengtan.collect.mqtt")


class MqttSettings(AdapterSettings):
    host: str = "127.0.0.1"
    port: int = Field(1883, ge=1, le=65535)
    protocol: Literal["3.1.1", "5"] = "5"
    client_id: str | None = Field(None, description="Default: nengtan-<collector>-<adapter>. "
                                  "Must be stable: the broker keeps the session under it.")
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: str | None = None
    topics: list[str] = Field(default_factory=lambda: ["nengtan/#"])
    qos: Literal[0, 1, 2] = 1
    keepalive_s: int = Field(30, ge=5)
    session_expiry_s: int = Field(7 * 86_400, ge=0, description="MQTT 5 session expiry.")
    receive_maximum: int = Field(1000, ge=1, le=65_535, description="MQTT 5 in-flight limit.")
    connect_timeout_s: float = Field(10.0, gt=0)
    naive_timezone: str | None = Field(
        None, description="Timezone of ISO times sent without an offset (default: reject them).")


class MqttAdapter(Adapter):
    kind = "mqtt"
    Settings = MqttSettings
    qualify_tags = True

    async def run(self) -> None:
        s: MqttSettings = self.settings  # type: ignore[assignment]
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue = asyncio.Queue()
        lost: asyncio.Future = loop.create_future()
        connected: asyncio.Future = loop.create_future()
        subscribed: asyncio.Future = loop.create_future()
        naive_tz = ZoneInfo(s.naive_timezone) if s.naive_timezone else None
        client = self._client(s)
        getter: asyncio.Future | None = None

        def settle(fut: asyncio.Future, value) -> None:
            if not fut.done():
                fut.set_result(value)

        def on_connect(c, userdata, flags, reason, properties):
            loop.call_soon_threadsafe(settle, connected, reason)
            if not reason.is_failure:
                c.subscribe([(t, s.qos) for t in s.topics])

        def on_subscribe(c, userdata, mid, reasons, properties):
            loop.call_soon_threadsafe(settle, subscribed, reasons)

        def on_disconnect(c, userdata, flags, reason, properties):
            loop.call_soon_threadsafe(settle, lost, reason)

        def on_message(c, userdata, msg):
            loop.call_soon_threadsafe(inbox.put_nowait, (msg.topic, msg.payload, msg.mid, msg.qos))

        client.on_connect, client.on_disconnect, client.on_message = (
            on_connect, on_disconnect, on_message)
        client.on_subscribe = on_subscribe
        kwargs = {}
        if s.protocol == "5":
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = s.session_expiry_s
            props.ReceiveMaximum = s.receive_maximum
            kwargs = {"clean_start": False, "properties": props}
        try:
            await asyncio.wait_for(
                loop.run_in_executor(None, partial(client.connect, s.host, s.port,
                                                   s.keepalive_s, **kwargs)),
                s.connect_timeout_s)
            client.loop_start()
            reason = await asyncio.wait_for(connected, s.connect_timeout_s)
            if reason.is_failure:
                raise ConnectionError(f"broker refused the connection: {reason}")
            granted = await asyncio.wait_for(subscribed, s.connect_timeout_s)
            refused = [t for t, r in zip(s.topics, granted) if r.is_failure]
            if refused:
                raise ConnectionError(f"broker refused the subscription to {refused}")
            self.ctx.connected()
            while True:
                getter = asyncio.ensure_future(inbox.get())
                done, _ = await asyncio.wait({getter, lost}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    raise ConnectionError(f"connection to the broker lost: {lost.result()}")
                await self._handle(client, *getter.result(), naive_tz)
                while not inbox.empty():
                    await self._handle(client, *inbox.get_nowait(), naive_tz)
        finally:
            if getter is not None and not getter.done():
                getter.cancel()
            if not lost.done():
                # Acknowledge what is committed before saying goodbye; anything not yet
                # committed stays unacknowledged and comes back in the next session.
                try:
                    await asyncio.wait_for(self.ctx.sink.drain(), 30)
                except TimeoutError:
                    log.warning("%s: sink did not drain before disconnect", self.ctx.name)
                client.disconnect()
            await loop.run_in_executor(None, client.loop_stop)

    async def _handle(self, client, topic: str, payload: bytes, mid: int, qos: int,
                      naive_tz) -> None:
        ack = partial(client.ack, mid, qos) if qos else None
        parsed = mqtt_payload.parse(topic, payload, now_us(), naive_tz)
        device = parsed.gateway or None
        n = len(parsed.points) if parsed.points is not None else 0
        self.ctx.stats.count(device, received=n + (0 if n else 1))
        self.ctx.stats.last_data_at = asyncio.get_running_loop().time()
        # The message is acknowledged with its last part, so all of it is committed first.
        parts: list = [("letter", letter) for letter in parsed.letters]
        if parsed.points is not None:
            parts.append(("points", parsed.points))
        for i, (what, item) in enumerate(parts):
            last_ack = ack if i == len(parts) - 1 else None
            if what == "letter":
                await self.ctx.dead_letter(item, ack=last_ack)
            else:
                await self.ctx.submit(item, device=device, ack=last_ack, source=topic)

    def _client(self, s: MqttSettings) -> paho.Client:
        client_id = s.client_id or f"nengtan-{self.ctx.collector}-{self.ctx.name}"
        if s.protocol == "5":
            client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id,
                                 protocol=paho.MQTTv5, reconnect_on_failure=False, manual_ack=True)
        else:
            client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id,
                                 clean_session=False, protocol=paho.MQTTv311,
                                 reconnect_on_failure=False, manual_ack=True)
        if s.username:
            client.username_pw_set(s.username, s.password)
        if s.tls:
            client.tls_set_context(ssl.create_default_context(cafile=s.ca_file))
        client.max_queued_messages_set(0)
        return client
