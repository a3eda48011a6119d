"""Publishing to the real broker from tests and benchmarks."""

from __future__ import annotations

import uuid

import orjson
import paho.mqtt.client as paho

BROKER = ("127.0.0.1", 1883)


def unique_prefix() -> str:
    """A topic root of its own, so tests running in parallel never see each other's messages."""
    return f"nt-test/{uuid.uuid4().hex[:10]}"


class Publisher:
    """A QoS 1 publisher that waits for the broker's PUBACK of every message."""

    def __init__(self, host: str = BROKER[0], port: int = BROKER[1]):
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2,
                                  client_id=f"nt-pub-{uuid.uuid4().hex[:8]}",
                                  protocol=paho.MQTTv311)
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.connect(host, port, 30)
        self.client.loop_start()

    def publish(self, topic: str, payload, qos: int = 1, wait: bool = True):
        data = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        info = self.client.publish(topic, data, qos=qos)
        if wait:
            info.wait_for_publish(10)
        return info

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def batch(points: list[tuple[str, int, float]]) -> dict:
    """A gateway batch payload from (tag, epoch ms, value)."""
    return {"points": [{"tag": t, "ts": ms, "v": v} for t, ms, v in points]}
