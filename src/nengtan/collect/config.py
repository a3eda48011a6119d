"""The collector's YAML configuration, validated whole before anything starts.

Errors name the adapter (by position and name) and the key, e.g.
``adapters[2] (substation-1).port: Input should be a valid integer``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nengtan.collect.adapter import Adapter, AdapterSettings

#: ``type:`` → adapter class, imported only when a config uses it.
REGISTRY = {
    "mqtt": "nengtan.collect.mqtt:MqttAdapter",
    "modbus": "nengtan.collect.modbus:ModbusAdapter",
    "opcua": "nengtan.collect.opcua:OpcUaAdapter",
    "http": "nengtan.collect.http_pull:HttpPullAdapter",
    "sql": "nengtan.collect.sql_pull:SqlPullAdapter",
}


class ConfigError(ValueError):
    """The configuration file is unusable; the message lists every problem."""


class Health(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str = "127.0.0.1"
    port: int = Field(8081, ge=0, le=65535, description="0 picks a free port (tests).")


class Flush(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_points: int = Field(50_000, ge=1, description="Commit when this many points are buffered.")
    max_delay_s: float = Field(0.5, gt=0, description="...or when the oldest buffered point is this old.")
    high_water: int = Field(1_000_000, ge=1, description="Adapters wait while this many are buffered.")
    writer: Literal["auto", "thread", "process"] = Field(
        "auto", description="Commit on a thread or in a process of its own (auto: a process "
        "on PostgreSQL, a thread on SQLite).")
    retry_initial_s: float = Field(0.5, gt=0)
    retry_max_s: float = Field(30.0, gt=0)


class Backoff(BaseModel):
    model_config = ConfigDict(extra="forbid")
    initial_s: float = Field(0.5, gt=0)
    max_s: float = Field(30.0, gt=0)
    #: A connection that stayed up this long resets the back-off to ``initial_s``.
    reset_after_s: float = Field(30.0, gt=0)


class CollectorSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field("collector", min_length=1, max_length=100)
    database: str | None = None
    health: Health = Field(default_factory=Health)
    flush: Flush = Field(default_factory=Flush)
    backoff: Backoff = Field(default_factory=Backoff)


@dataclass
class CollectConfig:
    collector: CollectorSettings
    adapters: list[tuple[type[Adapter], AdapterSettings]]
    #: Relative paths in the file (``tags_file``) are relative to the file's directory.
    base_dir: Path = field(default_factory=lambda: Path("."))


def adapter_class(kind: str) -> type[Adapter]:
    target = REGISTRY.get(kind)
    if target is None:
        raise ConfigError(f"unknown adapter type {kind!r}; known: {', '.join(sorted(REGISTRY))}")
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


def load(path: str | Path) -> CollectConfig:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return parse(raw, base_dir=path.parent)


def parse(raw: Any, base_dir: Path = Path(".")) -> CollectConfig:
    if not isinstance(raw, dict):
        raise ConfigError("the configuration must be a mapping with 'collector' and 'adapters'")
    problems: list[str] = []
    unknown = set(raw) - {"collector", "adapters"}
    if unknown:
        problems.append(f"unknown top-level key(s): {', '.join(sorted(unknown))}")
    try:
        collector = CollectorSettings.model_validate(raw.get("collector") or {})
    except ValidationError as exc:
        problems += _lines("collector", exc)
        collector = None
    adapters = []
    names: set[str] = set()
    items = raw.get("adapters") or []
    if not isinstance(items, list) or not items:
        problems.append("adapters: a non-empty list is required")
        items = []
    for i, item in enumerate(items):
        label = f"adapters[{i}]"
        if not isinstance(item, dict) or "type" not in item:
            problems.append(f"{label}: a mapping with 'type' is required")
            continue
        label += f" ({item.get('name', '?')})"
        try:
            cls = adapter_class(str(item["type"]))
            settings = cls.Settings.model_validate(item)
        except ConfigError as exc:
            problems.append(f"{label}.type: {exc}")
            continue
        except ValidationError as exc:
            problems += _lines(label, exc)
            continue
        if settings.name in names:
            problems.append(f"{label}.name: duplicate adapter name {settings.name!r}")
        names.add(settings.name)
        if settings.enabled:
            adapters.append((cls, settings))
    if problems:
        raise ConfigError("invalid collector configuration:\n  " + "\n  ".join(problems))
    return CollectConfig(collector=collector, adapters=adapters, base_dir=base_dir)


def _lines(label: str, exc: ValidationError) -> list[str]:
    return [f"{label}{'.' if err['loc'] else ''}{'.'.join(str(p) for p in err['loc'])}: "
            f"{err['msg']}" for err in exc.errors()]
