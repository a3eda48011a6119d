"""Device tags → where their values go.

An adapter's ``tags:`` section (and optional ``tags_file``) maps a tag to a meter::

    tags:
      "gw01/E101.kwh": ELE-E-101                    # meter code; value in the meter's unit
      "gw01/E101.wh": {meter: ELE-E-101, unit: Wh}  # converted to the meter's unit at ingest
      "gw01/F7.raw":  {meter: GAS-T-201, scale: 0.01, offset: 0}   # value × scale + offset
      "stack1/co2":   {cems: CEMS-KILN-1, param: co2}              # a CEMS monitor parameter

``tags_file`` is a CSV with header ``tag,meter`` and optional ``unit,scale,offset,cems,param``.
With ``meter_codes_as_tags: true`` a tag equal to a meter code maps to that meter (looked up
when first seen, and again at most every ``RELOOK_S`` seconds while unknown).

Explicit mappings are checked when the collector starts: the meter must exist, be physical or
manual (virtual meters are computed, never measured) and the unit must convert to the meter's.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import Connection, Engine, select

from nengtan import units
from nengtan.collect.adapter import AdapterSettings
from nengtan.store.models import Meter

RELOOK_S = 30.0
UNKNOWN = -1


@dataclass(frozen=True)
class Target:
    kind: str  # meter | cems
    meter_id: int | None = None
    unit: str | None = None
    scale: float = 1.0
    offset: float = 0.0
    cems: str | None = None
    param: str | None = None

    @property
    def linear(self) -> bool:
        return self.scale != 1.0 or self.offset != 0.0


class TagMapError(ValueError):
    pass


class TagMap:
    def __init__(self, targets: list[Target], index: dict[str, int], codes_as_tags: bool):
        self.targets = targets
        self._index = index
        self._codes_as_tags = codes_as_tags
        self._unknown_since: dict[str, float] = {}

    @classmethod
    def load(cls, conn: Connection, settings: AdapterSettings, base_dir: Path) -> TagMap:
        """Build and check the adapter's map; raises TagMapError listing every problem."""
        entries = dict(settings.tags)
        if settings.tags_file:
            entries.update(_read_file(base_dir / settings.tags_file))
        specs: dict[str, dict] = {}
        problems = []
        for tag, spec in entries.items():
            spec = {"meter": spec} if isinstance(spec, str) else dict(spec)
            unknown = set(spec) - {"meter", "unit", "scale", "offset", "cems", "param"}
            if unknown or ("meter" in spec) == ("cems" in spec) or ("cems" in spec) != ("param" in spec):
                problems.append(f"tag {tag!r}: give either meter (+ unit/scale/offset) or "
                                f"cems + param")
                continue
            specs[tag] = spec
        codes = {s["meter"] for s in specs.values() if "meter" in s}
        meters = {m.code: m for m in conn.execute(
            select(Meter.code, Meter.id, Meter.kind, Meter.unit).where(Meter.code.in_(codes)))}
        targets: list[Target] = []
        index: dict[str, int] = {}
        for tag, spec in specs.items():
            try:
                target = _target(tag, spec, meters)
            except TagMapError as exc:
                problems.append(str(exc))
                continue
            index[tag] = len(targets)
            targets.append(target)
        if problems:
            raise TagMapError(f"adapter {settings.name!r}: " + "; ".join(problems))
        return cls(targets, index, settings.meter_codes_as_tags)

    def resolve(self, engine: Engine, tags: list[str], qualifier: str | None = None) -> np.ndarray:
        """Index into ``targets`` for every tag (UNKNOWN where unmapped).  With a
        ``qualifier`` (an MQTT gateway), ``<qualifier>/<tag>`` is tried before ``<tag>``."""
        get = self._index.get
        if qualifier:
            out = [get(f"{qualifier}/{t}", get(t, UNKNOWN)) for t in tags]
        else:
            out = [get(t, UNKNOWN) for t in tags]
        idx = np.fromiter(out, np.int64, len(out))
        if self._codes_as_tags and (idx == UNKNOWN).any():
            missing = {tags[i] for i in np.flatnonzero(idx == UNKNOWN)}
            if self._learn(engine, missing):
                idx[idx == UNKNOWN] = [get(tags[i], UNKNOWN) for i in np.flatnonzero(idx == UNKNOWN)]
        return idx

    def _learn(self, engine: Engine, tags: set[str]) -> bool:
        now = time.monotonic()
        ask = [t for t in tags if now - self._unknown_since.get(t, -RELOOK_S) >= RELOOK_S]
        if not ask:
            return False
        with engine.connect() as conn:
            found = conn.execute(select(Meter.code, Meter.id).where(
                Meter.code.in_(ask), Meter.kind != "virtual")).all()
        for code, meter_id in found:
            self._index[code] = len(self.targets)
            self.targets.append(Target("meter", meter_id=meter_id))
            self._unknown_since.pop(code, None)
        for t in set(ask) - {c for c, _ in found}:
            self._unknown_since[t] = now
        return bool(found)


def _target(tag: str, spec: dict, meters: dict) -> Target:
    if "cems" in spec:
        return Target("cems", cems=str(spec["cems"]), param=str(spec["param"]))
    meter = meters.get(spec["meter"])
    if meter is None:
        raise TagMapError(f"tag {tag!r}: meter {spec['meter']!r} does not exist")
    if meter.kind == "virtual":
        raise TagMapError(f"tag {tag!r}: meter {spec['meter']!r} is virtual (computed, not measured)")
    unit = spec.get("unit") or None
    if unit:
        try:
            units.factor(unit, meter.unit)
        except units.UnitError:
            raise TagMapError(f"tag {tag!r}: unit {unit!r} does not convert to the meter's "
                              f"{meter.unit!r}") from None
    try:
        scale, offset = float(spec.get("scale", 1.0)), float(spec.get("offset", 0.0))
    except (TypeError, ValueError):
        raise TagMapError(f"tag {tag!r}: scale and offset must be numbers") from None
    return Target("meter", meter_id=meter.id, unit=unit, scale=scale, offset=offset)


def _read_file(path: Path) -> dict[str, dict]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise TagMapError(f"tags_file {path}: {exc}") from exc
    out = {}
    for i, row in enumerate(rows, start=2):
        tag = (row.get("tag") or "").strip()
        if not tag:
            raise TagMapError(f"tags_file {path} row {i}: tag is required")
        out[tag] = {k: v.strip() for k, v in row.items()
                    if k and k != "tag" and v is not None and v.strip()}
    return out
