"""Record kinds (everything but readings): parse rows, then apply them through the services.

Parsing coerces every cell with the field specs and refuses keys repeated in the file.
Applying goes through the same service functions as the API (``org.create``,
``meters.update``, ``production.upsert_*`` ...), so a file obeys exactly the rules of a form;
the importer runs it inside a transaction that is committed only if no row of the whole file
raised an issue.  Only the columns present in a file are changed on existing records: a file
without an ``address`` column leaves addresses alone.

Rows that refer to another row of the same file which failed (a meter on a node whose row is
invalid) are skipped without a second message: fixing the first row fixes them.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from nengtan import units
from nengtan.errors import InputError, Issue
from nengtan.exchange import cells
from nengtan.exchange.issues import Issues, relabel
from nengtan.exchange.kinds import HeaderMatch, Kind
from nengtan.exchange.tables import Sheet
from nengtan.services import meters as meter_service
from nengtan.services import org, production
from nengtan.services.fields import coerce_record, to_utc
from nengtan.services.meter_specs import effective_timezones
from nengtan.store.models import (
    EconomicRecord,
    FuelDelivery,
    Meter,
    MeterEvent,
    Node,
    Product,
    ProductionRecord,
)
from nengtan.store.types import to_us
from nengtan.timeseries import formula as formula_engine


@dataclass
class Record:
    """One valid row: its place in the file and its coerced values (present columns only)."""

    sheet: str | None
    row: int
    data: dict[str, Any]
    #: Field name → column header as the file writes it (or would, for absent columns).
    headers: dict[str, str]


@dataclass
class Counts:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict:
        return self.__dict__.copy()


@dataclass
class Context:
    """State shared while one file is applied."""

    session: Session
    issues: Issues
    #: Codes of rows that failed, by what they are ("node", "meter", "product").
    failed: dict[str, set[str]] = field(default_factory=lambda: {"node": set(), "meter": set(),
                                                                 "product": set()})

    def fail(self, record: Record, issues: list[Issue], ref: str | None = None,
             code: str | None = None) -> None:
        self.issues.extend(relabel(issues, record.sheet, record.headers, record.row))
        if ref and code:
            self.failed[ref].add(code)

    def skipped(self, record: Record, refs: dict[str, list[str]]) -> bool:
        """True if ``record`` refers to a failed row of the file (``refs``: ref → codes)."""
        return any(code in self.failed[ref]
                   for ref, codes in refs.items() for code in codes if code)


#: What the code column of a kind identifies, for kinds that other rows refer to.
_REF_OF_KIND = {"nodes": "node", "meters": "meter", "products": "product"}


# -- parsing -------------------------------------------------------------------------------
def read(kind: Kind, sheet: Sheet, match: HeaderMatch, ctx_issues: Issues,
         failed: dict[str, set[str]]) -> tuple[list[Record], int]:
    """Valid records of a sheet, and the number of data rows read; issues of invalid rows go
    to ``ctx_issues`` and their codes to ``failed``."""
    headers = {f: sheet.header[i] for i, f in match.columns.items()}
    for spec in kind.fields:
        headers.setdefault(spec.name, spec.label_zh if match.chinese else spec.name)
    unlabelled = cells.Unlabelled(sheet.header, sheet.name)
    ref = _REF_OF_KIND.get(kind.name)
    specs = list(kind.fields)
    records: list[Record] = []
    seen: dict[tuple, int] = {}
    count = 0
    for numbers, rows in sheet.chunks:
        ctx_issues.extend(unlabelled.check(numbers, rows))
        for number, row in zip(numbers, rows):
            count += 1
            raw = {f: (row[i] if i < len(row) else None) for i, f in match.columns.items()}
            try:
                data = coerce_record(specs, raw, number, partial=True)
            except InputError as exc:
                ctx_issues.extend(relabel(exc.issues, sheet.name, headers))
                if ref:
                    failed[ref].add(cells.text(raw.get("code")))
                continue
            key = _key(kind, data)
            if key in seen:
                ctx_issues.add(Issue("rule.duplicate_in_file", row=number,
                                     field=headers[kind.key[0]], value=_key_text(key),
                                     params={"first_row": seen[key]}, sheet=sheet.name))
                continue
            seen[key] = number
            records.append(Record(sheet.name, number, data, headers))
    return records, count


def _key(kind: Kind, data: dict) -> tuple:
    return tuple(data.get(k, kind.specs[k].default) for k in kind.key)


def _key_text(key: tuple) -> str:
    return " | ".join("" if v is None else str(v) for v in key)


def merge_duplicates(kind: Kind, records: list[Record], issues: Issues) -> list[Record]:
    """Records of several sheets of one kind, with keys repeated across sheets refused."""
    seen: dict[tuple, Record] = {}
    out = []
    for r in records:
        key = _key(kind, r.data)
        if key in seen:
            issues.add(Issue("rule.duplicate_in_file", row=r.row, field=r.headers[kind.key[0]],
                             value=_key_text(key), sheet=r.sheet))
            continue
        seen[key] = r
        out.append(r)
    return out


# -- ordering within a file ----------------------------------------------------------------
def _dependency_order(records: list[Record], deps: Callable[[Record], list[str]],
                      ctx: Context, field_name: str, ref: str) -> list[Record]:
    """Records with every record they depend on (by code, within the file) first, otherwise in
    file order.  Rows on a dependency cycle get ``rule.cycle``; rows that only depend on such
    rows are left out silently (they fail with them)."""
    by_code = {r.data["code"]: r for r in records}
    needs: dict[str, set[str]] = {}
    users: dict[str, list[str]] = {}
    for code, r in by_code.items():
        needs[code] = {d for d in deps(r) if d in by_code}
        for d in needs[code]:
            users.setdefault(d, []).append(code)
    waiting = {code: len(n) for code, n in needs.items()}
    heap = [(r.row, code) for code, r in by_code.items() if not waiting[code]]
    heapq.heapify(heap)
    ordered: list[Record] = []
    while heap:
        _, code = heapq.heappop(heap)
        ordered.append(by_code[code])
        for user in users.get(code, ()):
            waiting[user] -= 1
            if not waiting[user]:
                heapq.heappush(heap, (by_code[user].row, user))
    blocked = {code for code, n in waiting.items() if n}
    for code in sorted(blocked, key=lambda c: by_code[c].row):
        r = by_code[code]
        if _reaches(code, code, needs, blocked):
            ctx.fail(r, [Issue("rule.cycle", row=r.row, field=field_name,
                               value=r.data.get(field_name))], ref, code)
        else:
            ctx.failed[ref].add(code)
    return ordered


def _reaches(start: str, target: str, needs: dict[str, set[str]], within: set[str]) -> bool:
    """True if following dependencies from ``start`` leads back to ``target``."""
    stack, seen = list(needs[start] & within), set()
    while stack:
        code = stack.pop()
        if code == target:
            return True
        if code not in seen:
            seen.add(code)
            stack.extend(needs[code] & within)
    return False


# -- nodes ---------------------------------------------------------------------------------
def apply_nodes(ctx: Context, records: list[Record]) -> Counts:
    s = ctx.session
    counts = Counts(rows=len(records))
    existing = {n.code: n for n in s.scalars(select(Node))}
    codes = {n.id: n.code for n in existing.values()}
    ordered = _dependency_order(records, lambda r: [r.data.get("parent")], ctx, "parent", "node")
    for r in ordered:
        code = r.data["code"]
        if ctx.skipped(r, {"node": [r.data.get("parent")]}):
            ctx.failed["node"].add(code)
            continue
        try:
            node = _create_or_update(
                r, existing.get(code), counts, lambda: org.create(s, r.data, r.row),
                lambda n: org.as_dict(s, n, codes), lambda n, diff: org.update(s, n.id, diff, r.row))
        except InputError as exc:
            ctx.fail(r, exc.issues, "node", code)
            continue
        existing[code] = node
        codes[node.id] = code
    return counts


def _create_or_update(r: Record, obj, counts: Counts, create, current, update):
    """Create the object of a record, or update the fields that differ; count which."""
    if obj is None:
        obj = create()
        counts.created += 1
        return obj
    now = current(obj)
    diff = {k: v for k, v in r.data.items() if now.get(k) != v}
    if diff:
        update(obj, diff)
        counts.updated += 1
    else:
        counts.unchanged += 1
    return obj


# -- meters --------------------------------------------------------------------------------
def _meter_deps(r: Record) -> list[str]:
    deps = [r.data.get("parent_meter")]
    if r.data.get("formula"):
        try:
            deps += list(formula_engine.parse(r.data["formula"]).codes)
        except formula_engine.FormulaError:
            pass  # the meter service reports the formula itself
    return [d for d in deps if d]


def apply_meters(ctx: Context, records: list[Record]) -> Counts:
    s = ctx.session
    counts = Counts(rows=len(records))
    existing = {m.code: m for m in s.scalars(select(Meter))}
    codes = meter_service.reference_codes(s)
    ordered = _dependency_order(records, _meter_deps, ctx, "parent_meter", "meter")
    for r in ordered:
        code = r.data["code"]
        refs = {"node": [r.data.get(k) for k in ("node", "flow_from", "flow_to")],
                "meter": _meter_deps(r)}
        if ctx.skipped(r, refs):
            ctx.failed["meter"].add(code)
            continue
        try:
            meter = _create_or_update(
                r, existing.get(code), counts, lambda: meter_service.create(s, r.data, r.row),
                lambda m: meter_service.as_dict(s, m, codes),
                lambda m, diff: meter_service.update(s, m.id, diff, r.row))
        except InputError as exc:
            ctx.fail(r, exc.issues, "meter", code)
            continue
        existing[code] = meter
        codes["meter"][meter.id] = code
    return counts


# -- meter events --------------------------------------------------------------------------
_EVENT_VALUES = ("old_final_value", "new_initial_value", "new_multiplier", "note")


def apply_events(ctx: Context, records: list[Record]) -> Counts:
    """Add events; an identical event (same meter, instant, kind and values) is unchanged, and
    one of the same kind at the same instant with other values is refused, not duplicated."""
    s = ctx.session
    counts = Counts(rows=len(records))
    wanted = {r.data["meter"] for r in records}
    by_code = {m.code: m for m in s.scalars(select(Meter).where(Meter.code.in_(wanted)))}
    zones = effective_timezones(s.connection(), {m.node_id for m in by_code.values()})
    stored: dict[tuple, MeterEvent] = {}
    if by_code:
        for ev in s.scalars(select(MeterEvent).where(
                MeterEvent.meter_id.in_([m.id for m in by_code.values()]))):
            stored[(ev.meter_id, to_us(ev.ts), ev.kind)] = ev
    for r in sorted(records, key=lambda r: r.row):
        if ctx.skipped(r, {"meter": [r.data["meter"]]}):
            continue
        meter = by_code.get(r.data["meter"])
        try:
            if meter is not None:
                ts = to_utc(r.data["ts"], ZoneInfo(zones[meter.node_id]))
                key = (meter.id, to_us(ts), r.data["kind"])
                event = stored.get(key)
                if event is not None:
                    if all(getattr(event, k) == r.data.get(k) for k in _EVENT_VALUES):
                        counts.unchanged += 1
                    else:
                        ctx.fail(r, [Issue("rule.event_conflict", row=r.row, field="ts",
                                           value=r.data["ts"])])
                    continue
            event = meter_service.add_event(s, r.data, r.row, created_by="import")
            stored[(event.meter_id, to_us(event.ts), event.kind)] = event
            counts.created += 1
        except InputError as exc:
            ctx.fail(r, exc.issues)
    return counts


# -- products ------------------------------------------------------------------------------
def apply_products(ctx: Context, records: list[Record]) -> Counts:
    s = ctx.session
    counts = Counts(rows=len(records))
    existing = {p.code: p for p in s.scalars(select(Product))}
    names = [f.name for f in production.PRODUCT_FIELDS]
    for r in records:
        product = existing.get(r.data["code"])
        current = {k: getattr(product, k) for k in names} if product is not None else {}
        merged = {**current, **r.data}
        if product is not None and merged == current:
            counts.unchanged += 1
            continue
        try:
            existing[r.data["code"]] = production.upsert_product(s, merged, r.row)
        except InputError as exc:
            ctx.fail(r, exc.issues, "product", r.data["code"])
            continue
        if product is None:
            counts.created += 1
        else:
            counts.updated += 1
    return counts


# -- production ----------------------------------------------------------------------------
def _upsert(ctx: Context, counts: Counts, r: Record, record, current: dict, merged: dict,
            upsert) -> None:
    """Count an unchanged record, or save it through the service and count what happened."""
    if record is not None and all(merged.get(k) == v for k, v in current.items()):
        counts.unchanged += 1
        return
    try:
        upsert(ctx.session, merged, r.row)
    except InputError as exc:
        ctx.fail(r, exc.issues)
        return
    if record is None:
        counts.created += 1
    else:
        counts.updated += 1


def apply_production(ctx: Context, records: list[Record]) -> Counts:
    s = ctx.session
    counts = Counts(rows=len(records))
    nodes = {n.code: n for n in s.scalars(select(Node))}
    products = {p.code: p for p in s.scalars(select(Product))}
    for r in records:
        d = r.data
        if ctx.skipped(r, {"node": [d["node"]], "product": [d["product"]]}):
            continue
        node, product = nodes.get(d["node"]), products.get(d["product"])
        record = None
        if node is not None and product is not None:
            record = s.scalar(select(ProductionRecord).where(
                ProductionRecord.node_id == node.id, ProductionRecord.product_id == product.id,
                ProductionRecord.period_start == d["period_start"],
                ProductionRecord.period_end == d["period_end"]))
        current = ({k: getattr(record, k) for k in ("quantity", "unit", "source", "note")}
                   if record is not None else {})
        merged = {**current, **d}
        if not merged.get("unit") and product is not None:
            merged["unit"] = product.unit  # what the service would store
        _upsert(ctx, counts, r, record, current, merged, production.upsert_production)
    return counts


# -- economic data -------------------------------------------------------------------------
_MONEY = ("output_value", "added_value")


def apply_economics(ctx: Context, records: list[Record]) -> Counts:
    """Money is stored in CNY: values given in 10^4 CNY are compared and merged in CNY."""
    s = ctx.session
    counts = Counts(rows=len(records))
    nodes = {n.code: n for n in s.scalars(select(Node))}
    for r in records:
        d = dict(r.data)
        if ctx.skipped(r, {"node": [d["node"]]}):
            continue
        basis = d.get("price_basis") or "current"
        node = nodes.get(d["node"])
        record = None
        if node is not None:
            record = s.scalar(select(EconomicRecord).where(
                EconomicRecord.node_id == node.id,
                EconomicRecord.period_start == d["period_start"],
                EconomicRecord.period_end == d["period_end"],
                EconomicRecord.price_basis == basis))
        try:
            scale = units.factor(d.get("unit") or "CNY", "CNY")
        except units.UnitError:
            scale = None  # the service reports the unit
        if scale is not None:
            for k in _MONEY:
                if d.get(k) is not None:
                    d[k] = d[k] * scale
            d["unit"] = "CNY"
        current = ({k: getattr(record, k) for k in (*_MONEY, "source", "note")}
                   if record is not None else {})
        merged = {**current, **d, "price_basis": basis}
        _upsert(ctx, counts, r, record, current, merged, production.upsert_economic)
    return counts


# -- fuel deliveries -----------------------------------------------------------------------
_FUEL_STORED = [f.name for f in production.FUEL_DELIVERY_FIELDS
                if f.name not in ("node", "carrier")]


def apply_fuel_deliveries(ctx: Context, records: list[Record]) -> Counts:
    """Add deliveries; one identical in every column to a stored delivery is unchanged."""
    s = ctx.session
    counts = Counts(rows=len(records))
    nodes = {n.code: n for n in s.scalars(select(Node))}
    defaults = {f.name: f.default for f in production.FUEL_DELIVERY_FIELDS}
    for r in records:
        full = {**defaults, **r.data}
        if ctx.skipped(r, {"node": [full["node"]]}):
            continue
        node = nodes.get(full["node"])
        if node is not None:
            stored = s.scalars(select(FuelDelivery).where(
                FuelDelivery.node_id == node.id, FuelDelivery.carrier_code == full["carrier"],
                FuelDelivery.delivered_on == full["delivered_on"])).all()
            if any(all(getattr(fd, k) == full[k] for k in _FUEL_STORED) for fd in stored):
                counts.unchanged += 1
                continue
        try:
            production.add_fuel_delivery(s, full, r.row)
        except InputError as exc:
            ctx.fail(r, exc.issues)
            continue
        counts.created += 1
    return counts


APPLY = {
    "nodes": apply_nodes,
    "meters": apply_meters,
    "meter_events": apply_events,
    "products": apply_products,
    "production": apply_production,
    "economics": apply_economics,
    "fuel_deliveries": apply_fuel_deliveries,
}
