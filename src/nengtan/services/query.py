"""Read side of the meter-data pipeline: raw readings, interval values, rollups, findings.

Every series answer carries ``unit`` and ``lineage`` (which meter and readings, which
multiplier and unit conversion, which method and version), so a figure can always say where
it came from.  Times go in and out as µs since the Unix epoch internally and ISO 8601 at the
API; day and month periods are local dates in the meter's site timezone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy import Connection, func, select

from nengtan import __version__
from nengtan.errors import InputError, Issue, NotFound
from nengtan.quality.flags import Quality, flag_names
from nengtan.quality.normalize import Intervals, to_intervals
from nengtan.services import meter_specs
from nengtan.services.meter_specs import MeterInfo
from nengtan.store.models import (
    GapSpan,
    IngestBatch,
    Meter,
    Node,
    QualityEvent,
    Reading,
    ReadingRevision,
    RollupDay,
    RollupHour,
    RollupMonth,
)
from nengtan.store.readings_store import store_for
from nengtan.store.types import from_us, to_us
from nengtan.timeseries.calendar import DAY_US, HOUR_US, utc_day
from nengtan.timeseries.rollup import bucketize

GRAINS = ("interval", "hour", "day", "month")
METHOD = {
    "cumulative": "register difference between consecutive valid readings × multiplier × unit "
                  "factor; crossing intervals split pro rata by time; gaps kept whole",
    "interval": "interval value × multiplier × unit factor",
    "virtual": "formula evaluated on aligned hourly values of its operands",
}
MAX_RAW_ROWS = 100_000


@dataclass(frozen=True)
class Window:
    start_us: int
    end_us: int

    def iso(self) -> dict:
        return {"start": iso(self.start_us), "end": iso(self.end_us)}


def iso(us: int) -> str:
    return from_us(us).isoformat().replace("+00:00", "Z")


def local_iso(us: int, tz) -> str:
    return from_us(us).astimezone(tz).isoformat()


def window(start: datetime | date, end: datetime | date, tz) -> Window:
    """[start, end) in µs; dates and naive times are read in ``tz``."""
    def to(v) -> int:
        if isinstance(v, datetime):
            return to_us(v if v.tzinfo else v.replace(tzinfo=tz))
        return to_us(datetime(v.year, v.month, v.day, tzinfo=tz))

    w = Window(to(start), to(end))
    if w.end_us <= w.start_us:
        raise InputError([Issue("rule.period", field="end", value=str(end))])
    return w


def meter_info(conn: Connection, meter_id: int) -> MeterInfo:
    infos = meter_specs.load(conn, [meter_id])
    if meter_id not in infos:
        raise NotFound("meter", meter_id)
    return infos[meter_id]


def lineage(info: MeterInfo, **extra) -> dict:
    out = {
        "meter": info.code,
        "carrier": info.carrier_code,
        "method": METHOD["virtual" if info.is_virtual else info.spec.register],
        "engine": f"nengtan {__version__}",
    }
    if info.is_virtual:
        out["formula"] = info.formula.text if info.formula else None
        out["operands"] = {code: {"meter_id": mid, "unit_factor": info.operands[mid]}
                           for code, mid in info.operand_ids.items()}
    else:
        out["conversion"] = {"meter_unit": info.unit, "carrier_unit": info.carrier_unit,
                             "unit_factor": info.spec.unit_factor,
                             "multiplier": info.spec.multiplier}
        out["events"] = [{"ts": iso(e.ts_us), "kind": e.kind, "old_final": e.old_final,
                          "new_initial": e.new_initial, "new_multiplier": e.new_multiplier}
                         for e in info.events]
    out.update(extra)
    return out


# -- raw readings --------------------------------------------------------------------------
def raw_readings(conn: Connection, meter_id: int, w: Window, limit: int = MAX_RAW_ROWS) -> dict:
    info = meter_info(conn, meter_id)
    rows = conn.execute(
        select(Reading.ts, Reading.value, Reading.quality, Reading.reason, Reading.batch_id,
               IngestBatch.source, IngestBatch.received_at)
        .join(IngestBatch, IngestBatch.id == Reading.batch_id)
        .where(Reading.tenant_id == info.tenant_id, Reading.meter_id == meter_id,
               Reading.ts >= from_us(w.start_us), Reading.ts < from_us(w.end_us))
        .order_by(Reading.ts).limit(limit + 1)).all()
    truncated = len(rows) > limit
    return {
        "meter": info.code, "unit": info.unit, "window": w.iso(), "truncated": truncated,
        "readings": [{"ts": iso(to_us(r.ts)), "value": r.value,
                      "quality": Quality(r.quality).name.lower(), "reason": r.reason,
                      "batch_id": r.batch_id, "source": r.source,
                      "ingested_at": iso(to_us(r.received_at))} for r in rows[:limit]],
    }


# -- interval values -----------------------------------------------------------------------
def _physical_intervals(conn: Connection, info: MeterInfo, w: Window) -> tuple[Intervals, list]:
    # Intervals near the window's edges depend on a few readings beyond it (previous reading,
    # glitch neighbours), so read a margin of context on both sides.
    margin = max(2 * DAY_US, 8 * info.spec.gap_threshold_us)
    store = store_for(conn)
    raw, _ = store.fetch(np.array([info.id]), np.array([w.start_us - margin]),
                         np.array([w.end_us + margin]))
    iv, findings = to_intervals(raw.ts, raw.value, raw.quality, info.spec, info.events)
    keep = (iv.start >= w.start_us) & (iv.start < w.end_us)
    return iv.select(keep), [f for f in findings if w.start_us <= f.start_us < w.end_us]


def _virtual_intervals(conn: Connection, info: MeterInfo, w: Window) -> Intervals:
    """A virtual meter's formula on the grid of its coarsest operand (aligned intervals)."""
    ops = meter_specs.load(conn, info.operands)
    step = max(o.spec.interval_s for o in ops.values()) * 1_000_000
    t0 = (w.start_us // step) * step
    n = int(-(-(w.end_us - t0) // step))
    values, coverage, flags = {}, [], np.zeros(n, np.int32)
    for code, oid in info.operand_ids.items():
        oinfo = ops[oid]
        iv = (_virtual_intervals(conn, oinfo, Window(t0, t0 + n * step)) if oinfo.is_virtual
              else _physical_intervals(conn, oinfo, Window(t0 - step, t0 + (n + 1) * step))[0])
        b = bucketize(iv, t0, step, n)
        values[code] = b.value * info.operands[oid]
        coverage.append(b.coverage_us)
        flags |= b.flags
    value = info.formula.evaluate(values)
    cov = np.min(np.stack(coverage), axis=0)
    ok = (cov > 0) & ~np.isnan(value)
    starts = t0 + np.arange(n, dtype=np.int64) * step
    return Intervals(starts[ok], starts[ok] + step, value[ok], flags[ok],
                     np.zeros(int(ok.sum()), bool))


def interval_values(conn: Connection, info: MeterInfo, w: Window) -> Intervals:
    """Interval values of a meter (physical or virtual) starting in ``w``, as arrays: the bulk
    form of :func:`intervals` for analyses (cost, demand, load profiles)."""
    if info.is_virtual:
        return _virtual_intervals(conn, info, w)
    return _physical_intervals(conn, info, w)[0]


def intervals(conn: Connection, meter_id: int, w: Window) -> dict:
    info = meter_info(conn, meter_id)
    findings = []
    if info.is_virtual:
        iv = _virtual_intervals(conn, info, w)
    else:
        iv, findings = _physical_intervals(conn, info, w)
    return {
        "meter": info.code, "unit": info.carrier_unit, "window": w.iso(),
        "intervals": [{"start": iso(int(s)), "end": iso(int(e)), "value": float(v),
                       "flags": flag_names(int(f)), "gap": bool(g)}
                      for s, e, v, f, g in zip(iv.start, iv.end, iv.value, iv.flags, iv.gap)],
        "findings": [{"rule": f.rule, "severity": f.severity, "start": iso(f.start_us),
                      "end": iso(f.end_us), "detail": f.detail} for f in findings],
        "lineage": lineage(info),
    }


# -- rollups -------------------------------------------------------------------------------
def hourly_matrix(conn: Connection, meter_ids, first_day: int, last_day: int,
                  parallel: int = 1):
    """Hourly values of many meters as matrices (meters × hours) for UTC days
    [first_day, last_day]: ``(meter_ids, hour_start_us, value, coverage_s)``; NaN = no data.

    This is the bulk path (benchmarks, forecasting, exports): one query per connection, no
    per-row objects.  With ``parallel > 1`` on PostgreSQL the meters are split over that many
    extra connections that share one exported snapshot, so the answer is as consistent as a
    single query; they do not see uncommitted changes of ``conn``'s transaction.
    """
    meter_ids = np.asarray(sorted({int(m) for m in meter_ids}), np.int64)
    tenants = dict(conn.execute(select(Meter.id, Meter.tenant_id)
                                .where(Meter.id.in_(meter_ids.tolist()))).all())
    missing = [int(m) for m in meter_ids if int(m) not in tenants]
    if missing:
        raise NotFound("meter", missing[0])
    tenant_of = [tenants[int(i)] for i in meter_ids]
    if parallel > 1 and conn.dialect.name == "postgresql" and len(meter_ids) > 1:
        m, d, v, c = _parallel_hour_values(conn.engine, tenant_of, meter_ids, first_day, last_day,
                                           parallel)
    else:
        m, d, v, c = store_for(conn).hour_values(tenant_of, meter_ids, first_day, last_day)
    ndays = last_day - first_day + 1
    value = np.full((len(meter_ids), ndays * 24), np.nan)
    cov = np.zeros((len(meter_ids), ndays * 24), np.int16)
    # Whole days at a time: row r of the (meters × days, 24) views is one meter-day.
    at = np.searchsorted(meter_ids, m) * ndays + (d - first_day)
    value.reshape(-1, 24)[at] = v
    cov.reshape(-1, 24)[at] = c
    hours = (first_day * 24 + np.arange(ndays * 24, dtype=np.int64)) * HOUR_US
    return meter_ids, hours, value, cov


def _parallel_hour_values(engine, tenant_of, meter_ids, first_day, last_day, workers):
    from concurrent.futures import ThreadPoolExecutor

    conns = [engine.connect() for _ in range(workers)]
    try:
        for c in conns:
            c.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conns[0].exec_driver_sql("SELECT pg_export_snapshot()").scalar()
        for c in conns[1:]:
            c.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        parts = [np.arange(i, len(meter_ids), workers) for i in range(workers)]

        def read(i):
            sel = parts[i]
            return store_for(conns[i]).hour_values([tenant_of[j] for j in sel], meter_ids[sel],
                                                   first_day, last_day)

        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(read, range(workers)))
    finally:
        for c in conns:
            c.exec_driver_sql("ROLLBACK")
            c.close()
    return tuple(np.concatenate([r[k] for r in results]) for k in range(4))


def _hour_points(conn, info: MeterInfo, w: Window) -> list[dict]:
    first, last = utc_day(w.start_us), utc_day(w.end_us - 1)
    store = store_for(conn)
    m, d, v, c, f = store.read_hours([info.tenant_id], [info.id], first, last)
    points = []
    for day, vals, covs, fls in zip(d, v, c, f):
        base = int(day) * DAY_US
        for h in range(24):
            t = base + h * HOUR_US
            if t < w.start_us or t >= w.end_us or covs[h] == 0:
                continue
            points.append(_point(local_iso(t, info.tz), float(vals[h]), int(covs[h]), 3600,
                                 int(fls[h])))
    return points


def _point(key: str, value: float | None, coverage_s: int, expected_s: int, flags: int) -> dict:
    complete = coverage_s >= expected_s
    has = value is not None and not (isinstance(value, float) and np.isnan(value))
    return {
        "period": key,
        "value": value if complete and has else None,
        "partial_value": None if complete or not has else value,
        "coverage": round(min(coverage_s / expected_s, 1.0), 6) if expected_s else 0.0,
        "complete": bool(complete),
        "flags": flag_names(flags),
    }


def _period_points(conn, info: MeterInfo, model, key_col: str, first: date, last: date) -> list[dict]:
    key = getattr(model, key_col)
    rows = conn.execute(select(model).where(model.tenant_id == info.tenant_id,
                                            model.meter_id == info.id, key >= first, key <= last)
                        .order_by(key)).all()
    return [_point(getattr(r, key_col).isoformat(), r.value, r.coverage_s, r.expected_s,
                   r.flags) for r in rows]


def rollups(conn: Connection, meter_id: int, grain: str, start, end) -> dict:
    """Hourly, daily or monthly values of a meter in its carrier's unit.

    ``start``/``end`` are datetimes or dates; for ``day`` and ``month`` they are local dates,
    ``end`` exclusive.
    """
    info = meter_info(conn, meter_id)
    if grain == "hour":
        w = window(start, end, info.tz)
        points = _hour_points(conn, info, w)
        win = w.iso()
    elif grain in ("day", "month"):
        first = start.date() if isinstance(start, datetime) else start
        last = (end.date() if isinstance(end, datetime) else end) - timedelta(days=1)
        if last < first:
            raise InputError([Issue("rule.period", field="end", value=str(end))])
        if grain == "day":
            points = _period_points(conn, info, RollupDay, "day", first, last)
        else:
            points = _period_points(conn, info, RollupMonth, "month", first.replace(day=1), last)
        win = {"start": first.isoformat(), "end": (last + timedelta(days=1)).isoformat()}
    else:
        raise InputError([Issue("rule.choice", field="grain", value=grain,
                                params={"choices": "hour, day, month"})])
    complete = [p["value"] for p in points if p["complete"]]
    return {
        "meter": info.code, "meter_id": info.id, "grain": grain, "unit": info.carrier_unit,
        "timezone": info.tz.key, "window": win, "points": points,
        "summary": {"complete_periods": len(complete), "periods": len(points),
                    "sum_complete": float(np.sum(complete)) if complete else 0.0},
        "lineage": lineage(info, rollup_table={"hour": "rollup_hour", "day": "rollup_day",
                                               "month": "rollup_month"}[grain]),
    }


def node_rollups(conn: Connection, node_id: int, grain: str, start, end,
                 carrier: str | None = None, subtree: bool = True) -> dict:
    """Rollups of every meter of a node (and its subtree), grouped by carrier."""
    # a Core row (id, code, path): on a Connection, select(Node).scalar() is just the id
    node = conn.execute(select(Node.id, Node.code, Node.path).where(Node.id == node_id)).first()
    if node is None:
        raise NotFound("node", node_id)
    query = select(Meter.id, Meter.carrier_code).join(Node, Node.id == Meter.node_id)
    query = query.where(Node.path.startswith(node.path)) if subtree else query.where(
        Meter.node_id == node_id)
    if carrier:
        query = query.where(Meter.carrier_code == carrier)
    groups: dict[str, list] = {}
    for mid, code in conn.execute(query.order_by(Meter.carrier_code, Meter.id)).all():
        groups.setdefault(code, []).append(rollups(conn, mid, grain, start, end))
    return {"node": node.code, "node_id": node.id, "grain": grain, "subtree": subtree,
            "carriers": [{"carrier": c, "meters": series} for c, series in groups.items()]}


# -- audit and findings --------------------------------------------------------------------
def revisions(conn: Connection, meter_id: int, w: Window) -> list[dict]:
    info = meter_info(conn, meter_id)
    rows = conn.execute(select(ReadingRevision).where(
        ReadingRevision.meter_id == meter_id, ReadingRevision.ts >= from_us(w.start_us),
        ReadingRevision.ts < from_us(w.end_us)).order_by(ReadingRevision.ts,
                                                         ReadingRevision.id)).all()
    return [{"meter": info.code, "ts": iso(to_us(r.ts)), "old_value": r.old_value,
             "old_quality": Quality(r.old_quality).name.lower(), "old_batch_id": r.old_batch_id,
             "old_reason": r.old_reason, "new_value": r.new_value,
             "new_quality": Quality(r.new_quality).name.lower(), "new_batch_id": r.new_batch_id,
             "revised_at": iso(to_us(r.revised_at))} for r in rows]


def quality_events(conn: Connection, meter_id: int | None = None, tenant_id: int | None = None,
                   rule: str | None = None, w: Window | None = None, limit: int = 1000,
                   tenants=None) -> list[dict]:
    """Pipeline findings (of ``tenants``, ids, when given)."""
    query = select(QualityEvent, Meter.code.label("meter_code")).join(
        Meter, Meter.id == QualityEvent.meter_id)
    if tenants is not None:
        query = query.where(QualityEvent.tenant_id.in_(sorted(tenants)))
    if meter_id is not None:
        query = query.where(QualityEvent.meter_id == meter_id)
    if tenant_id is not None:
        query = query.where(QualityEvent.tenant_id == tenant_id)
    if rule:
        query = query.where(QualityEvent.rule == rule)
    if w is not None:
        query = query.where(QualityEvent.start_ts < from_us(w.end_us),
                            QualityEvent.end_ts >= from_us(w.start_us))
    rows = conn.execute(query.order_by(QualityEvent.start_ts, QualityEvent.id).limit(limit)).all()
    return [{"id": e.id, "meter": e.meter_code, "meter_id": e.meter_id, "rule": e.rule,
             "severity": e.severity, "start": iso(to_us(e.start_ts)), "end": iso(to_us(e.end_ts)),
             "status": e.status, "origin": e.origin, "detail": e.detail} for e in rows]


def gap_spans(conn: Connection, meter_id: int, w: Window) -> list[dict]:
    info = meter_info(conn, meter_id)
    rows = conn.execute(select(GapSpan).where(
        GapSpan.tenant_id == info.tenant_id, GapSpan.meter_id == meter_id,
        GapSpan.start_ts < from_us(w.end_us), GapSpan.end_ts > from_us(w.start_us))
        .order_by(GapSpan.start_ts)).all()
    return [{"start": iso(to_us(g.start_ts)), "end": iso(to_us(g.end_ts)), "value": g.value,
             "unit": info.carrier_unit, "flags": flag_names(g.flags)} for g in rows]


def batches(conn: Connection, limit: int = 100) -> list[dict]:
    rows = conn.execute(select(IngestBatch).order_by(IngestBatch.id.desc()).limit(limit)).all()
    return [{"id": b.id, "source": b.source, "source_detail": b.source_detail,
             "received_at": iso(to_us(b.received_at)), "rows": b.rows, "inserted": b.inserted,
             "unchanged": b.unchanged, "revised": b.revised, "sha256": b.sha256} for b in rows]


def status(conn: Connection, tenants: frozenset[int] | None = None) -> dict:
    """Counts and time span of the stored data (fast: read from rollup metadata); with
    ``tenants``, of those tenants' nodes and meters only (what an enterprise user may know)."""
    nodes_q = select(func.count()).select_from(Node)
    meters_q = select(func.count()).select_from(Meter)
    readings_q = select(func.coalesce(func.sum(RollupHour.raw_count), 0),
                        func.min(RollupHour.first_ts), func.max(RollupHour.last_ts))
    if tenants is not None:
        mine = sorted(tenants)
        nodes_q = nodes_q.where(Node.tenant_id.in_(mine))
        meters_q = meters_q.where(Meter.tenant_id.in_(mine))
        readings_q = readings_q.where(RollupHour.meter_id.in_(
            select(Meter.id).where(Meter.tenant_id.in_(mine))))
    nodes = conn.execute(nodes_q).scalar()
    meters = conn.execute(meters_q).scalar()
    readings, first, last = conn.execute(readings_q).one()
    return {
        "nodes": int(nodes), "meters": int(meters), "readings": int(readings),
        "first_reading": iso(to_us(first)) if first else None,
        "last_reading": iso(to_us(last)) if last else None,
        "database": conn.dialect.name, "version": __version__,
    }

