"""What the pipeline needs to know about meters: spec, register events, timezone, formula."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from nengtan import units
from nengtan.config import get_settings
from nengtan.quality.normalize import MeterSpec, RegisterEvent
from nengtan.store.models import Carrier, Meter, MeterEvent, Node
from nengtan.store.types import to_us
from nengtan.timeseries import formula as formula_engine


@dataclass(frozen=True)
class MeterInfo:
    id: int
    code: str
    tenant_id: int
    node_id: int
    kind: str
    carrier_code: str
    carrier_unit: str
    unit: str
    spec: MeterSpec
    tz: ZoneInfo
    events: tuple[RegisterEvent, ...] = ()
    formula: formula_engine.Formula | None = None
    #: Virtual meters: operand meter id → factor from its carrier unit to this carrier unit.
    operands: dict[int, float] = field(default_factory=dict)
    #: Virtual meters: operand code → operand id, in formula order.
    operand_ids: dict[str, int] = field(default_factory=dict)

    @property
    def is_virtual(self) -> bool:
        return self.kind == "virtual"


def effective_timezones(conn: Connection, node_ids) -> dict[int, str]:
    """Timezone of each node: its own, else the nearest ancestor's, else the default."""
    node_ids = set(node_ids)
    if not node_ids:
        return {}
    paths = dict(conn.execute(select(Node.id, Node.path).where(Node.id.in_(node_ids))).all())
    ancestor_ids = {int(x) for p in paths.values() for x in p.strip("/").split("/") if x}
    own = dict(conn.execute(select(Node.id, Node.timezone).where(Node.id.in_(ancestor_ids))).all())
    default = get_settings().timezone
    out = {}
    for nid, path in paths.items():
        chain = [int(x) for x in path.strip("/").split("/") if x]
        out[nid] = next((own[a] for a in reversed(chain) if own.get(a)), default)
    return out


def load(conn: Connection, meter_ids) -> dict[int, MeterInfo]:
    """MeterInfo for the given meters (and, for virtual meters, what their formula names)."""
    meter_ids = {int(m) for m in meter_ids}
    if not meter_ids:
        return {}
    meters = conn.execute(select(Meter).where(Meter.id.in_(meter_ids))).all()
    carriers = dict(conn.execute(select(Carrier.code, Carrier.unit)).all())
    events: dict[int, list[RegisterEvent]] = {}
    for ev in conn.execute(select(MeterEvent).where(MeterEvent.meter_id.in_(meter_ids))
                           .order_by(MeterEvent.ts)).all():
        events.setdefault(ev.meter_id, []).append(RegisterEvent(
            to_us(ev.ts), ev.kind, ev.old_final_value, ev.new_initial_value, ev.new_multiplier))
    tzs = effective_timezones(conn, {m.node_id for m in meters})
    virtual_refs: dict[int, formula_engine.Formula] = {
        m.id: formula_engine.parse(m.formula) for m in meters if m.kind == "virtual" and m.formula
    }
    codes = {c for f in virtual_refs.values() for c in f.codes}
    by_code = {}
    if codes:
        by_code = {r.code: (r.id, r.carrier_code) for r in
                   conn.execute(select(Meter.id, Meter.code, Meter.carrier_code)
                                .where(Meter.code.in_(codes))).all()}
    out: dict[int, MeterInfo] = {}
    for m in meters:
        carrier_unit = carriers[m.carrier_code]
        spec = MeterSpec(
            register=m.register, interval_s=m.interval_s, multiplier=m.multiplier,
            unit_factor=units.factor(m.unit, carrier_unit), rollover_at=m.rollover_at,
            gap_threshold_s=m.gap_threshold_s, estimate_gaps=m.estimate_gaps,
        )
        f = virtual_refs.get(m.id)
        operands, operand_ids = {}, {}
        if f is not None:
            for code in f.codes:
                oid, ocarrier = by_code[code]
                operand_ids[code] = oid
                operands[oid] = units.factor(carriers[ocarrier], carrier_unit)
        out[m.id] = MeterInfo(
            id=m.id, code=m.code, tenant_id=m.tenant_id, node_id=m.node_id, kind=m.kind,
            carrier_code=m.carrier_code, carrier_unit=carrier_unit, unit=m.unit, spec=spec,
            tz=ZoneInfo(tzs[m.node_id]), events=tuple(events.get(m.id, ())), formula=f,
            operands=operands, operand_ids=operand_ids,
        )
    return out


def virtual_dependents(conn: Connection, meter_ids) -> list[int]:
    """Virtual meters whose formula depends, directly or through other virtual meters, on
    ``meter_ids``, in an order where every meter comes after the meters it uses."""
    rows = conn.execute(select(Meter.id, Meter.code, Meter.formula)
                        .where(Meter.kind == "virtual", Meter.formula.is_not(None))).all()
    if not rows:
        return []
    code_of = dict(conn.execute(select(Meter.id, Meter.code)).all())
    uses = {r.id: set(formula_engine.parse(r.formula).codes) for r in rows}
    changed_codes = {code_of[m] for m in meter_ids if m in code_of}
    result: list[int] = []
    done: set[str] = set()
    # Repeatedly add virtual meters whose operands include a changed (or newly added) code.
    frontier = set(changed_codes)
    while frontier:
        nxt = set()
        for vid, codes in uses.items():
            if vid not in result and codes & frontier:
                result.append(vid)
                nxt.add(code_of[vid])
        done |= frontier
        frontier = nxt - done
    return _topological(result, uses, code_of)


def _topological(ids: list[int], uses: dict[int, set[str]], code_of: dict[int, str]) -> list[int]:
    id_of = {code_of[i]: i for i in ids}
    order: list[int] = []
    seen: set[int] = set()

    def visit(i: int, stack: tuple[int, ...]) -> None:
        if i in seen:
            return
        if i in stack:
            raise ValueError(f"virtual meter {code_of[i]} depends on itself")
        for code in uses[i]:
            if code in id_of:
                visit(id_of[code], stack + (i,))
        seen.add(i)
        order.append(i)

    for i in ids:
        visit(i, ())
    return order
