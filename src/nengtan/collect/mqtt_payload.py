"""MQTT payloads → points (pure, no I/O).

Topic scheme (the part before ``<gateway>`` is free, e.g. ``nengtan/<site>``)::

    .../<gateway>/batch          many points per message
    .../<gateway>/point/<tag>    one point; <tag> may contain further slashes

Batch payload (UTF-8 JSON)::

    {"ts": "2026-11-21T08:00:00+08:00",          # message time, used where a point has none
     "points": [{"tag": "E101.kwh", "v": 123456.7},
                {"tag": "E102.kwh", "v": 98.5, "ts": 1763683200000, "q": 0}]}

or, compactly, ``"points": {"E101.kwh": 123456.7, "E102.kwh": 98.5}`` (all at the message time).
Single-point payload: ``{"ts": ..., "v": 12.5}`` (``"q"`` optional) or a bare JSON number, which is
stamped with the time of receipt.  Times are ISO 8601 with an offset, or epoch milliseconds.
``q`` is a quality code 0-3 or name (measured, estimated, manual, rejected).

A point's tag is looked up as ``<gateway>/<tag>`` first and then as ``<tag>``, so tags only need
qualifying where two gateways reuse a name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import orjson

from nengtan.collect.points import Letter, Points
from nengtan.quality.flags import Quality

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Parsed:
    gateway: str
    points: Points | None
    letters: list[Letter] = field(default_factory=list)


class _BadTime(ValueError):
    pass


def topic_parts(topic: str) -> tuple[str, str | None] | None:
    """(gateway, tag) for a point topic, (gateway, None) for a batch topic, None otherwise."""
    levels = topic.split("/")
    if len(levels) >= 2 and levels[-1] == "batch":
        return levels[-2], None
    if "point" in levels[1:]:
        i = len(levels) - 1 - levels[::-1].index("point")
        if 1 <= i < len(levels) - 1:
            return levels[i - 1], "/".join(levels[i + 1:])
    return None


def parse(topic: str, payload: bytes, received_us: int, naive_tz: ZoneInfo | None = None) -> Parsed:
    """Points of one message, and letters for whatever in it cannot be used."""
    parts = topic_parts(topic)
    if parts is None:
        return Parsed("", None, [Letter("dead.bad_topic", payload, topic)])
    gateway, point_tag = parts
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        return Parsed(gateway, None, [Letter("dead.not_json", payload, topic, gateway,
                                             {"error": str(exc)[:200]})])
    if point_tag is not None:
        if isinstance(doc, dict):
            items = [{**doc, "tag": point_tag}]
            default_ts = None
        else:
            items = [{"tag": point_tag, "v": doc}]
            default_ts = received_us
    elif isinstance(doc, dict) and "points" in doc:
        raw_points = doc["points"]
        if isinstance(raw_points, dict):
            items = [{"tag": k, "v": v} for k, v in raw_points.items()]
        elif isinstance(raw_points, list):
            items = raw_points
        else:
            return Parsed(gateway, None, [Letter("dead.bad_shape", payload, topic, gateway,
                                                 {"field": "points"})])
        default_ts = None
    else:
        return Parsed(gateway, None, [Letter("dead.bad_shape", payload, topic, gateway,
                                             {"field": "points"})])
    if default_ts is None and isinstance(doc, dict) and "ts" in doc and point_tag is None:
        try:
            default_ts = _time(doc["ts"], naive_tz)
        except _BadTime as exc:
            return Parsed(gateway, None, [Letter("dead.bad_timestamp", payload, topic, gateway,
                                                 {"field": "ts", "value": str(doc["ts"])[:100],
                                                  "error": str(exc)})])
    return _points(gateway, topic, items, default_ts, naive_tz)


def _points(gateway: str, topic: str, items: list, default_ts: int | None,
            naive_tz: ZoneInfo | None) -> Parsed:
    n = len(items)
    tags: list[str] = []
    ts = np.empty(n, np.int64)
    values = np.empty(n, np.float64)
    quality = np.zeros(n, np.int16)
    bad: dict[str, list] = {}
    k = 0
    for i, item in enumerate(items):
        reason = None
        if not isinstance(item, dict):
            reason = "dead.bad_shape"
        else:
            tag, v = item.get("tag"), item.get("v", item.get("value"))
            if not isinstance(tag, str) or not tag:
                reason = "dead.bad_tag"
            elif isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                reason = "dead.bad_type"
            else:
                t = item.get("ts")
                try:
                    when = default_ts if t is None else _time(t, naive_tz)
                except _BadTime:
                    when = None
                if when is None:
                    reason = "dead.bad_timestamp"
                else:
                    q = item.get("q")
                    try:
                        qcode = 0 if q is None else int(Quality.parse(q))
                    except (KeyError, ValueError, TypeError):
                        qcode = None
                    if qcode is None:
                        reason = "dead.bad_quality"
                    else:
                        tags.append(tag)
                        ts[k], values[k], quality[k] = when, v, qcode
                        k += 1
                        continue
        bad.setdefault(reason, []).append((i, item))
    letters = [Letter(reason, orjson.dumps([it for _, it in found]), topic, gateway,
                      {"indices": [i for i, _ in found][:1000], "count": len(found)})
               for reason, found in bad.items()]
    points = None
    if k:
        points = Points(tags, ts[:k], values[:k], quality[:k] if quality[:k].any() else None)
    return Parsed(gateway, points, letters)


def _time(value, naive_tz: ZoneInfo | None) -> int:
    """µs UTC from epoch milliseconds or an ISO 8601 string."""
    if isinstance(value, bool):
        raise _BadTime("not a time")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise _BadTime("not finite")
        return round(value * 1000)
    if isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value)
        except ValueError as exc:
            raise _BadTime(str(exc)) from exc
        if dt.tzinfo is None:
            if naive_tz is None:
                raise _BadTime("a time without UTC offset")
            dt = dt.replace(tzinfo=naive_tz)
        delta = dt - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    raise _BadTime("not a time")
