"""CEMS monitors, sample ingestion and hourly CO2 (measurement method, 实测法).

* Monitors are created on an emission-source node with the bases their analysers report
  (:data:`MONITOR_FIELDS`).  Changing a basis or the interval recomputes every stored hour.
* :func:`ingest_points` stores one parameter's samples — the collector sink calls it for tags
  mapped as ``{cems: CODE, param: co2}`` — and :func:`ingest_rows` stores wide rows (``ts, co2,
  flow, temp, pressure, moisture, status``) from files and the API.  Both validate everything
  before writing anything and raise :class:`~nengtan.errors.InputError` naming row, field and
  rule.  A resent identical sample is a no-op; a different value or flag for a stored
  (monitor, param, ts) replaces it and the old one is kept in ``cems_sample_revisions``.
* Every ingest recomputes the hours it touched with :func:`nengtan.carbon.cems.hourly`, in the
  same transaction, into ``cems_hours``.
* :func:`hours` reports a period hour by hour (stored hours plus the *missing* ones, which
  have no row) with the summary; :func:`gaps` lists the runs of invalid and missing hours.

Concurrency: ingestion for one monitor is serialised by a transaction advisory lock on
PostgreSQL (SQLite serialises all writers), which keeps (monitor, param, ts) unique.
"""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Connection, bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from nengtan import __version__
from nengtan.carbon import cems as engine
from nengtan.errors import InputError, Issue, NotFound
from nengtan.i18n import LANGUAGES, t
from nengtan.services import meter_specs
from nengtan.services.fields import FieldSpec, coerce, coerce_record, is_empty, parse_datetime
from nengtan.services.ingest import MAX_FUTURE_US, MAX_ISSUES, MIN_TS_US
from nengtan.store.models import Node
from nengtan.store.models.cems import CemsHour, CemsMonitor, CemsSample, CemsSampleRevision
from nengtan.store.readings_store import store_for
from nengtan.store.types import from_us, to_us

HOUR_US = engine.HOUR_US
PARAMS = engine.PARAMS
_LOCK = 7_391_005  # advisory lock class of CEMS monitors (7_391_001-3: partitions, tenants, audit)
#: Settings that change how hours are computed: changing one recomputes the monitor's hours.
METHOD_SETTINGS = ("co2_basis", "co2_unit", "flow_basis", "pressure_basis", "barometric_kpa",
                   "interval_s")
_FLAG = re.compile(r"^[A-Z]{1,4}$")
#: Longest period recomputed in one pass (bounds memory on a full recompute).
_CHUNK_US = 31 * 24 * HOUR_US

MONITOR_FIELDS = [
    FieldSpec("code", "str", "编码", "code", required=True, max_length=64,
              help_en="the name collectors use in tag maps ({cems: CODE, param: co2})"),
    FieldSpec("name_zh", "str", "名称", "name (Chinese)", required=True, max_length=200),
    FieldSpec("name_en", "str", "英文名称", "name (English)", max_length=200),
    FieldSpec("node", "str", "排放源节点", "emission source node", required=True, ref="node"),
    FieldSpec("co2_basis", "choice", "CO2浓度基准", "CO2 basis", default="dry",
              choices=engine.CO2_BASES, help_en="dry or wet flue gas"),
    FieldSpec("co2_unit", "choice", "CO2浓度单位", "CO2 unit", default="pct",
              choices=engine.CO2_UNITS,
              help_en="pct = vol-%; mg/m3 at 273.15 K and 101.325 kPa"),
    FieldSpec("flow_basis", "choice", "流量基准", "flow basis", default="actual",
              choices=engine.FLOW_BASES,
              help_en="actual = m3/h at stack conditions (wet); std_dry = m3/h at 273.15 K, "
                      "101.325 kPa, dry"),
    FieldSpec("pressure_basis", "choice", "压力基准", "pressure basis", default="absolute",
              choices=engine.PRESSURE_BASES,
              help_en="absolute kPa, or gauge static pressure (kPa) added to barometric_kpa"),
    FieldSpec("barometric_kpa", "float", "大气压", "barometric pressure", default=engine.P0_KPA,
              exclusive_minimum=0, maximum=120, unit="kPa"),
    FieldSpec("interval_s", "int", "采样间隔(秒)", "sample interval (s)", default=60, minimum=1,
              maximum=3600, unit="s", help_en="a divisor of 3600; HJ 76-2017 minute data: 60"),
    FieldSpec("active_from", "datetime", "启用时间", "active from",
              help_en="hours before it are not expected (not reported missing); without an "
                      "offset: the site's timezone"),
    FieldSpec("active", "bool", "启用", "active", default=True),
    FieldSpec("description", "str", "说明", "description"),
]

#: Columns of the wide sample format (files and API), with the Chinese headers accepted.
SAMPLE_COLUMNS = {
    "monitor": "监测点编码", "ts": "时间", "co2": "二氧化碳", "flow": "烟气流量", "temp": "烟气温度",
    "pressure": "烟气压力", "moisture": "烟气湿度", "status": "状态",
    **{f"{p}_status": f"{name}状态" for p, name in (
        ("co2", "二氧化碳"), ("flow", "烟气流量"), ("temp", "烟气温度"), ("pressure", "烟气压力"),
        ("moisture", "烟气湿度"))},
}
_HEADER_ALIASES = {**{k: k for k in SAMPLE_COLUMNS}, **{v: k for k, v in SAMPLE_COLUMNS.items()}}


# -- monitors ------------------------------------------------------------------------------
def get_monitor(session: Session, monitor_id: int) -> CemsMonitor:
    monitor = session.get(CemsMonitor, monitor_id)
    if monitor is None:
        raise NotFound("cems monitor", monitor_id)
    return monitor


def list_monitors(session: Session, node: Node | None = None,
                  active: bool | None = None) -> list[CemsMonitor]:
    query = select(CemsMonitor).order_by(CemsMonitor.code)
    if node is not None:
        query = query.where(CemsMonitor.node_id == node.id)
    if active is not None:
        query = query.where(CemsMonitor.active == active)
    return list(session.scalars(query))


def create_monitor(session: Session, payload: dict, row: int | None = None) -> CemsMonitor:
    data = coerce_record(MONITOR_FIELDS, payload, row)
    issues: list[Issue] = []
    if session.scalar(select(CemsMonitor.id).where(CemsMonitor.code == data["code"])):
        issues.append(Issue("rule.duplicate", row=row, field="code", value=data["code"]))
    node = _node(session, data, row, issues)
    _check_interval(data, row, issues)
    if issues:
        raise InputError(issues)
    values = {k: v for k, v in data.items() if k != "node"}
    values["active_from"] = _aware(session, values.get("active_from"), node)
    monitor = CemsMonitor(node_id=node.id, tenant_id=_tenant(node), **values)
    session.add(monitor)
    session.flush()
    return monitor


def update_monitor(session: Session, monitor_id: int, payload: dict) -> CemsMonitor:
    """Change fields; a changed basis or interval recomputes every stored hour of the monitor,
    a changed node moves its data to the node's tenant."""
    monitor = get_monitor(session, monitor_id)
    data = coerce_record(MONITOR_FIELDS, payload, None, partial=True)
    issues: list[Issue] = []
    if "code" in data and data["code"] != monitor.code and session.scalar(
            select(CemsMonitor.id).where(CemsMonitor.code == data["code"])):
        issues.append(Issue("rule.duplicate", field="code", value=data["code"]))
    for name in ("code", "name_zh", "node") + METHOD_SETTINGS:
        if name in data and data[name] is None:
            issues.append(Issue("rule.required", field=name))
    node = _node(session, data, None, issues) if data.get("node") else None
    _check_interval(data, None, issues)
    if issues:
        raise InputError(issues)
    recompute_needed = any(k in data and data[k] != getattr(monitor, k) for k in METHOD_SETTINGS)
    if node is not None and node.id != monitor.node_id:
        monitor.node_id, monitor.tenant_id = node.id, _tenant(node)
        conn = session.connection()
        for model in (CemsSample, CemsSampleRevision, CemsHour):
            conn.execute(update(model).where(model.monitor_id == monitor.id)
                         .values(tenant_id=monitor.tenant_id))
    for key, value in data.items():
        if key == "node":
            continue
        if key == "active_from":
            value = _aware(session, value, session.get(Node, monitor.node_id))
        setattr(monitor, key, value)
    session.flush()
    if recompute_needed:
        recompute_all(session.connection(), monitor.id)
    return monitor


def monitor_dict(session: Session, monitor: CemsMonitor) -> dict:
    node_code = session.scalar(select(Node.code).where(Node.id == monitor.node_id))
    out = {s.name: getattr(monitor, s.name) for s in MONITOR_FIELDS if s.name != "node"}
    out.update(id=monitor.id, node=node_code, node_id=monitor.node_id,
               tenant_id=monitor.tenant_id, required_params=list(config_of(monitor).required))
    return out


def config_of(monitor) -> engine.MonitorConfig:
    return engine.MonitorConfig(
        co2_basis=monitor.co2_basis, co2_unit=monitor.co2_unit, flow_basis=monitor.flow_basis,
        pressure_basis=monitor.pressure_basis, barometric_kpa=monitor.barometric_kpa,
        interval_s=monitor.interval_s)


def _node(session: Session, data: dict, row, issues: list[Issue]) -> Node | None:
    node = session.scalar(select(Node).where(Node.code == data["node"]))
    if node is None:
        issues.append(Issue("rule.ref_unknown", row=row, field="node", value=data["node"],
                            params={"ref": "node"}))
    return node


def _tenant(node: Node) -> int:
    return node.tenant_id if node.tenant_id is not None else node.id


def _check_interval(data: dict, row, issues: list[Issue]) -> None:
    interval = data.get("interval_s")
    if interval is not None and 3600 % interval:
        issues.append(Issue("rule.cems_interval", row=row, field="interval_s", value=interval))


def _aware(session: Session, value: datetime | None, node: Node | None) -> datetime | None:
    if value is None or value.tzinfo is not None or node is None:
        return value
    tz = meter_specs.effective_timezones(session.connection(), [node.id])[node.id]
    return value.replace(tzinfo=ZoneInfo(tz))


# -- ingestion -----------------------------------------------------------------------------
class _Monitor:
    """What ingestion needs of a monitor row."""

    def __init__(self, row):
        self.id = row.id
        self.code = row.code
        self.tenant_id = row.tenant_id
        self.node_id = row.node_id


def _monitors_by_code(conn: Connection, codes) -> dict[str, _Monitor]:
    codes = sorted({c for c in codes if c})
    if not codes:
        return {}
    rows = conn.execute(select(CemsMonitor).where(CemsMonitor.code.in_(codes))).all()
    return {r.code: _Monitor(r) for r in rows}


def ingest_points(conn: Connection, monitor_code: str, param: str, ts_us: np.ndarray,
                  values: np.ndarray, status: list[str] | None = None) -> dict:
    """Store samples of one parameter of one monitor and recompute the hours they touch.

    ``ts_us`` int64 µs UTC, ``values`` in the parameter's unit (:data:`engine.PARAM_UNITS`;
    CO2 in the monitor's unit), ``status`` the analyser flags (None: all ``N``).  Rows in
    issues are indices into the arrays (0-based).  Returns the counts (rows, inserted,
    unchanged, revised, hours) and the ingest batch id.
    """
    ts = np.asarray(ts_us, np.int64)
    vals = np.asarray(values, np.float64)
    if len(ts) != len(vals) or (status is not None and len(status) != len(ts)):
        raise ValueError("ts_us, values and status must have the same length")
    issues: list[Issue] = []
    monitor = _monitors_by_code(conn, [monitor_code]).get(monitor_code)
    if monitor is None:
        issues.append(Issue("rule.ref_unknown", field="monitor", value=monitor_code,
                            params={"ref": "cems_monitor"}))
    if param not in PARAMS:
        issues.append(Issue("rule.choice", field="param", value=param,
                            params={"choices": ", ".join(PARAMS)}))
    rows = np.arange(len(ts))
    flags = _check_samples(ts, vals, status, rows, param, issues)
    if issues:
        raise InputError(issues[:MAX_ISSUES])
    return _store_all(conn, {(monitor.code, param): (ts, vals, flags)}, {monitor.code: monitor},
                      "collect", f"cems {monitor_code}/{param}")


def ingest_columns(conn: Connection, monitor_code: str,
                   columns: dict[str, tuple[np.ndarray, np.ndarray, list[str] | None]],
                   source: str = "import", detail: str | None = None) -> dict:
    """Store several parameters of one monitor at once (``param → (ts_us, values, status)``),
    recomputing the touched hours once — the bulk path for files and generated data.  Rows in
    issues are indices into each parameter's arrays."""
    issues: list[Issue] = []
    monitor = _monitors_by_code(conn, [monitor_code]).get(monitor_code)
    if monitor is None:
        raise InputError([Issue("rule.ref_unknown", field="monitor", value=monitor_code,
                                params={"ref": "cems_monitor"})])
    arrays = {}
    for param, (ts, vals, status) in columns.items():
        if param not in PARAMS:
            issues.append(Issue("rule.choice", field="param", value=param,
                                params={"choices": ", ".join(PARAMS)}))
            continue
        ts, vals = np.asarray(ts, np.int64), np.asarray(vals, np.float64)
        flags = _check_samples(ts, vals, status, np.arange(len(ts)), param, issues,
                               value_field=param)
        arrays[(monitor_code, param)] = (ts, vals, flags)
    if issues:
        raise InputError(issues[:MAX_ISSUES])
    return _store_all(conn, arrays, {monitor_code: monitor}, source, detail)


def _store_all(conn: Connection, arrays: dict, monitors: dict[str, _Monitor], source: str,
               detail: str | None) -> dict:
    """Store validated arrays ``(code, param) → (ts, values, flags)`` as one batch and
    recompute the hours they changed."""
    n = sum(len(a[0]) for a in arrays.values())
    batch = _Batch(conn, source, detail, n)
    _lock(conn, [monitors[code].id for code, _ in arrays])
    touched: dict[int, list[np.ndarray]] = {}
    for (code, p), (ts, vals, flags) in arrays.items():
        monitor = monitors[code]
        touched.setdefault(monitor.id, []).append(batch.store(monitor, p, ts, vals, flags))
    recomputed = sum(recompute(conn, mid, np.concatenate(h)) for mid, h in touched.items())
    out = batch.finish(recomputed)
    out["monitors"] = sorted({code for code, _ in arrays})
    return out


def ingest_rows(conn: Connection, rows: list[tuple[int, dict]], source: str = "api",
                detail: str | None = None, monitor_code: str | None = None) -> dict:
    """Store wide rows ``{monitor, ts, co2, flow, temp, pressure, moisture, status,
    <param>_status}`` (``monitor_code`` for rows without a monitor); ``rows`` are
    ``(row number, row)`` as the caller numbers them.  A ``ts`` without an offset is read in
    the monitor site's timezone; empty cells are absent samples; ``status`` applies to every
    value of the row unless ``<param>_status`` says otherwise.  All-or-nothing."""
    issues: list[Issue] = []
    codes = [monitor_code] + [
        str(r.get("monitor")).strip() for _, r in rows if not is_empty(r.get("monitor"))]
    monitors = _monitors_by_code(conn, codes)
    tzs = _timezones(conn, monitors.values())
    parsed: dict[str, dict[str, list]] = {}
    for row, data in rows:
        unknown = [k for k in data if k not in SAMPLE_COLUMNS]
        issues += [Issue("rule.unknown_field", row=row, field=k) for k in unknown]
        code = monitor_code if is_empty(data.get("monitor")) else data.get("monitor")
        if is_empty(code):
            issues.append(Issue("rule.required", row=row, field="monitor"))
            continue
        code = str(code).strip()
        monitor = monitors.get(code)
        if monitor is None:
            issues.append(Issue("rule.ref_unknown", row=row, field="monitor", value=code,
                                params={"ref": "cems_monitor"}))
            continue
        ts = _row_ts(data.get("ts"), tzs[monitor.node_id], row, issues)
        present = [p for p in PARAMS if not is_empty(data.get(p))]
        if not present:
            issues.append(Issue("rule.cems_row_empty", row=row, field=None))
        for p in present:
            try:
                value = coerce(_VALUE_SPEC, data[p], row)
            except InputError:
                issues.append(Issue("rule.type_float", row=row, field=p, value=data[p]))
                continue
            flag = data.get(f"{p}_status")
            if is_empty(flag):
                flag = data.get("status")
            field = f"{p}_status" if not is_empty(data.get(f"{p}_status")) else "status"
            if ts is None:
                continue
            bucket = parsed.setdefault(code, {}).setdefault(p, [[], [], [], [], []])
            for target, v in zip(bucket, (ts, value, flag, row, field)):
                target.append(v)
    if len(issues) >= MAX_ISSUES:
        raise InputError(issues[:MAX_ISSUES])
    arrays = {}
    for code, by_param in parsed.items():
        for p, (ts, vals, flags, rownums, fields) in by_param.items():
            ts_a, v_a = np.array(ts, np.int64), np.array(vals, np.float64)
            checked = _check_samples(ts_a, v_a, flags, np.array(rownums), p, issues,
                                     flag_fields=fields, value_field=p)
            arrays[(code, p)] = (ts_a, v_a, checked)
    if issues:
        # a row's status is checked with each of its values: report it once
        unique = list({(i.row, i.field, i.rule): i for i in issues}.values())
        raise InputError(sorted(unique, key=lambda i: (i.row or 0))[:MAX_ISSUES])
    out = _store_all(conn, arrays, monitors, source, detail)
    out["samples"], out["rows"] = out["rows"], len(rows)
    return out


_VALUE_SPEC = FieldSpec("value", "float", "数值", "value")


def _timezones(conn: Connection, monitors) -> dict[int, ZoneInfo]:
    node_ids = {m.node_id for m in monitors}
    return {nid: ZoneInfo(tz) for nid, tz in
            meter_specs.effective_timezones(conn, node_ids).items()}


def _row_ts(raw, tz: ZoneInfo, row: int, issues: list[Issue]) -> int | None:
    if is_empty(raw):
        issues.append(Issue("rule.required", row=row, field="ts"))
        return None
    try:
        value = parse_datetime(raw)
    except (TypeError, ValueError):
        issues.append(Issue("rule.type_datetime", row=row, field="ts", value=raw))
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return to_us(value.astimezone(UTC))


def _check_samples(ts: np.ndarray, vals: np.ndarray, status, rows: np.ndarray, param: str,
                   issues: list[Issue], flag_fields=None, value_field: str = "value"
                   ) -> np.ndarray:
    """The flags as an object array (upper case); issues for bad times, values and flags."""
    def bad(mask, rule, field_of, value_of):
        for i in np.flatnonzero(mask)[:MAX_ISSUES]:
            issues.append(Issue(rule, row=int(rows[i]), field=field_of(i), value=value_of(i)))

    latest = time.time_ns() // 1000 + MAX_FUTURE_US
    bad((ts < MIN_TS_US) | (ts > latest), "rule.ts_range", lambda i: "ts",
        lambda i: _iso(int(ts[i])))
    bad(~np.isfinite(vals), "rule.not_finite", lambda i: value_field, lambda i: float(vals[i]))
    flags = np.full(len(ts), engine.VALID_FLAG, dtype=object)
    if status is None:
        return flags
    keys = [r if isinstance(r, str) else None if is_empty(r) else str(r) for r in status]
    normal: dict = {}  # each distinct flag checked once (minute data repeat a few flags)
    for raw in set(keys):
        flag = engine.VALID_FLAG if is_empty(raw) else raw.strip().upper()
        normal[raw] = flag if _FLAG.match(flag) else None
    flags[:] = [normal[k] for k in keys]
    for i in np.flatnonzero(np.equal(flags, None))[:MAX_ISSUES]:
        field = flag_fields[i] if flag_fields is not None else "status"
        issues.append(Issue("rule.cems_status", row=int(rows[i]), field=field, value=keys[i]))
    return flags


def _lock(conn: Connection, monitor_ids) -> None:
    if conn.dialect.name == "postgresql":
        for mid in sorted(set(monitor_ids)):  # a fixed order: no deadlocks between ingests
            conn.execute(text("SELECT pg_advisory_xact_lock(:k, :m)"), {"k": _LOCK, "m": mid})


class _Batch:
    """One act of ingestion (a row of ``ingest_batches``) and its counts."""

    def __init__(self, conn: Connection, source: str, detail: str | None, rows: int):
        self.conn = conn
        self.readings = store_for(conn)
        self.id = self.readings.new_batch(source[:40], (detail or None) and detail[:400], None,
                                       rows)
        self.rows = rows
        self.inserted = self.revised = 0

    def store(self, monitor: _Monitor, param: str, ts: np.ndarray, vals: np.ndarray,
              flags: np.ndarray) -> np.ndarray:
        """Insert, skip or revise the samples; the UTC hour starts whose data changed."""
        ts, vals, flags, dup_old, dup_new = _last_wins(ts, vals, flags)
        old_ts, old_value, old_flag, old_batch = _existing(self.conn, monitor.id, param, ts)
        now = time.time_ns() // 1000
        at = np.searchsorted(old_ts, ts)
        known = at < len(old_ts)
        known[known] = old_ts[at[known]] == ts[known]
        new_rows = np.flatnonzero(~known)
        k = np.flatnonzero(known)
        j = at[k]
        differs = (old_value[j] != vals[k]) | (old_flag[j] != flags[k])
        changed, j = k[differs], j[differs]
        revisions = [(int(ts[i]), float(old_value[o]), old_flag[o], int(old_batch[o]),
                      float(vals[i]), flags[i]) for i, o in zip(changed, j)]
        # earlier rows of a (monitor, param, ts) repeated in this batch: the last one won
        revisions += [(int(ts[i]), v, f, self.id, float(vals[i]), flags[i])
                      for (v, f), i in zip(dup_old, dup_new)]
        _insert_samples(self.conn, monitor, param, ts[new_rows], vals[new_rows],
                        flags[new_rows], self.id, now)
        if len(changed):
            self.conn.execute(
                update(CemsSample).where(
                    CemsSample.monitor_id == monitor.id, CemsSample.param == param,
                    CemsSample.ts == bindparam("k_ts")).values(
                    value=bindparam("k_v"), status=bindparam("k_s"), batch_id=self.id,
                    ingested_at=from_us(now)),
                [{"k_ts": from_us(int(ts[i])), "k_v": float(vals[i]), "k_s": flags[i]}
                 for i in changed])
        if revisions:
            self.conn.execute(insert(CemsSampleRevision), [{
                "tenant_id": monitor.tenant_id, "monitor_id": monitor.id, "param": param,
                "ts": from_us(k), "old_value": ov, "old_status": of, "old_batch_id": ob,
                "new_value": nv, "new_status": nf, "new_batch_id": self.id,
                "revised_at": from_us(now)} for k, ov, of, ob, nv, nf in revisions])
        self.inserted += len(new_rows)
        self.revised += len(revisions)
        touched = ts[np.r_[new_rows, changed]]
        return np.unique(touched - touched % HOUR_US)

    def finish(self, hours: int) -> dict:
        self.unchanged = self.rows - self.inserted - self.revised
        self.readings.finish_batch(self.id, self.inserted, self.unchanged, self.revised)
        return {"batch_id": self.id, "rows": self.rows, "inserted": self.inserted,
                "unchanged": self.unchanged, "revised": self.revised, "hours": hours}


def _last_wins(ts, vals, flags):
    """Sorted unique samples (the last of each repeated ts) and the earlier, different ones
    as ((value, flag), index of the winner) pairs."""
    order = np.argsort(ts, kind="stable")
    ts, vals, flags = ts[order], vals[order], flags[order]
    last = np.ones(len(ts), bool)
    last[:-1] = ts[:-1] != ts[1:]
    if last.all():
        return ts, vals, flags, [], []
    winner = np.flatnonzero(last)
    owner = np.searchsorted(winner, np.arange(len(ts)))  # the winner of each row's group
    keep = np.flatnonzero(last)
    dup_old, dup_new = [], []
    for i in np.flatnonzero(~last):
        j = winner[owner[i]]
        if vals[i] != vals[j] or flags[i] != flags[j]:
            dup_old.append((float(vals[i]), flags[i]))
            dup_new.append(int(np.searchsorted(keep, j)))
    return ts[keep], vals[keep], flags[keep], dup_old, dup_new


def _existing(conn: Connection, monitor_id: int, param: str, ts: np.ndarray):
    """Stored samples in the span of ``ts``: sorted arrays of ts, value, flag and batch."""
    rows = [] if not len(ts) else conn.execute(
        select(CemsSample.ts, CemsSample.value, CemsSample.status, CemsSample.batch_id).where(
            CemsSample.monitor_id == monitor_id, CemsSample.param == param,
            CemsSample.ts >= from_us(int(ts[0])), CemsSample.ts <= from_us(int(ts[-1])))
        .order_by(CemsSample.ts)).all()
    return (np.array([to_us(r.ts) for r in rows], np.int64),
            np.array([r.value for r in rows], np.float64),
            np.array([r.status for r in rows], dtype=object),
            np.array([r.batch_id for r in rows], np.int64))


def _insert_samples(conn: Connection, monitor: _Monitor, param: str, ts, vals, flags,
                    batch_id: int, now_us: int) -> None:
    if not len(ts):
        return
    if conn.dialect.name == "postgresql":
        # COPY in text format, written at once: minute data of a stack add up to millions of
        # rows a year.  Every field is safe as text (flags are checked letters, param a name).
        stamps = np.datetime_as_string(ts.astype("datetime64[us]"), unit="us")
        head = f"{monitor.id}\t{param}\t"
        tail = f"\t{batch_id}\t{_iso(now_us)}\n"
        data = "".join(f"{head}{s}Z\t{monitor.tenant_id}\t{v!r}\t{f}{tail}"
                       for s, v, f in zip(stamps.tolist(), vals.tolist(), flags.tolist()))
        cur = conn.connection.driver_connection.cursor()
        with cur.copy("COPY cems_samples (monitor_id, param, ts, tenant_id, value, status, "
                      "batch_id, ingested_at) FROM STDIN") as copy:
            copy.write(data)
        return
    conn.exec_driver_sql(
        "INSERT INTO cems_samples (monitor_id, param, ts, tenant_id, value, status, batch_id, "
        "ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(monitor.id, param, k, monitor.tenant_id, v, f, batch_id, now_us)
         for k, v, f in zip(ts.tolist(), vals.tolist(), flags.tolist())])


# -- hours ---------------------------------------------------------------------------------
def recompute(conn: Connection, monitor_id: int, hours_us: np.ndarray) -> int:
    """Recompute and store the given UTC hours of a monitor; returns how many were stored."""
    hours_us = np.unique(np.asarray(hours_us, np.int64))
    if not len(hours_us):
        return 0
    monitor = conn.execute(select(CemsMonitor).where(CemsMonitor.id == monitor_id)).one()
    config = config_of(monitor)
    stored = 0
    # contiguous runs of hours, each computed from one read of its samples
    breaks = np.flatnonzero(np.diff(hours_us) != HOUR_US) + 1
    for run in np.split(hours_us, breaks):
        for lo in range(int(run[0]), int(run[-1]) + HOUR_US, _CHUNK_US):
            hi = min(lo + _CHUNK_US, int(run[-1]) + HOUR_US)
            stored += _compute_range(conn, monitor, config, lo, hi)
    return stored


def recompute_all(conn: Connection, monitor_id: int) -> int:
    """Recompute every hour of a monitor from its samples (after a change of method)."""
    conn.execute(delete(CemsHour).where(CemsHour.monitor_id == monitor_id))
    lo, hi = conn.execute(select(func.min(CemsSample.ts), func.max(CemsSample.ts))
                          .where(CemsSample.monitor_id == monitor_id)).one()
    if lo is None:
        return 0
    first, last = to_us(lo), to_us(hi)
    return recompute(conn, monitor_id, np.arange(first - first % HOUR_US, last + 1, HOUR_US))


def _compute_range(conn: Connection, monitor, config, lo: int, hi: int) -> int:
    samples = _load(conn, monitor.id, lo, hi)
    results = [h for h in engine.hourly(config, samples, lo, hi) if h.status != "missing"]
    conn.execute(delete(CemsHour).where(CemsHour.monitor_id == monitor.id,
                                        CemsHour.hour >= from_us(lo), CemsHour.hour < from_us(hi)))
    if results:
        now = datetime.now(UTC)
        conn.execute(insert(CemsHour), [{
            "monitor_id": monitor.id, "hour": from_us(h.start_us), "tenant_id": monitor.tenant_id,
            "status": h.status, "co2_t": h.co2_t, "measured_co2_t": h.measured_co2_t,
            "valid_minutes": h.valid_minutes, "reasons": h.reasons, "averages": h.averages,
            "method_version": engine.METHOD_VERSION, "computed_at": now} for h in results])
    return len(results)


def _load(conn: Connection, monitor_id: int, lo: int, hi: int) -> dict[str, engine.Samples]:
    # The DBAPI cursor directly: rows become arrays, not Row objects (minute data of weeks).
    cur = conn.connection.driver_connection.cursor()
    if conn.dialect.name == "sqlite":
        cur.execute("SELECT param, ts, value, status FROM cems_samples WHERE monitor_id = ? "
                    "AND ts >= ? AND ts < ?", (monitor_id, lo, hi))
    else:
        cur.execute("SELECT param, (extract(epoch FROM ts) * 1000000)::int8, value, status "
                    "FROM cems_samples WHERE monitor_id = %s AND ts >= %s AND ts < %s",
                    (monitor_id, from_us(lo), from_us(hi)))
    rows = cur.fetchall()
    out: dict[str, engine.Samples] = {}
    if not rows:
        return out
    params, ts, vals, flags = zip(*rows)
    params = np.array(params, dtype=object)
    ts, vals = np.array(ts, np.int64), np.array(vals, np.float64)
    flags = np.array(flags, dtype=object)
    for p in PARAMS:
        sel = params == p
        if sel.any():
            out[p] = engine.Samples(ts[sel], vals[sel], flags[sel])
    return out


def expected_hours(monitor, start_us: int, end_us: int, now_us: int | None = None
                   ) -> tuple[int, int]:
    """[first, end) of the whole hours of [start, end) a monitor is expected to report:
    not before ``active_from``, and only hours that have ended."""
    now_us = time.time_ns() // 1000 if now_us is None else now_us
    lo = -(-start_us // HOUR_US) * HOUR_US if start_us % HOUR_US else start_us
    if monitor.active_from is not None:
        af = to_us(monitor.active_from)
        lo = max(lo, -(-af // HOUR_US) * HOUR_US)
    hi = min(end_us - end_us % HOUR_US, now_us - now_us % HOUR_US)
    return lo, max(lo, hi)


def stored_hours(conn: Connection, monitor_id: int, lo: int, hi: int) -> list[engine.Hour]:
    rows = conn.execute(select(CemsHour).where(
        CemsHour.monitor_id == monitor_id, CemsHour.hour >= from_us(lo),
        CemsHour.hour < from_us(hi)).order_by(CemsHour.hour)).all()
    by_start = {to_us(r.hour): engine.Hour(
        to_us(r.hour), r.status, r.co2_t, r.measured_co2_t, r.valid_minutes,
        reasons=r.reasons or [], averages=r.averages or {}) for r in rows}
    return [by_start.get(h) or engine.Hour(h, "missing", None, None, 0.0,
                                           reasons=[{"code": "no_samples"}])
            for h in range(lo, hi, HOUR_US)]


def hours(conn: Connection, monitor_id: int, start_us: int, end_us: int,
          now_us: int | None = None) -> dict:
    """Every expected hour of [start, end) with its CO2 and validity, the summary and the
    lineage.  Hours with no stored row are *missing*."""
    monitor = _monitor_row(conn, monitor_id)
    lo, hi = expected_hours(monitor, start_us, end_us, now_us)
    items = stored_hours(conn, monitor_id, lo, hi)
    tz = _timezones(conn, [monitor])[monitor.node_id]
    return {
        "monitor": monitor.code, "monitor_id": monitor.id,
        "start": _iso(lo), "end": _iso(hi), "timezone": str(tz),
        "summary": engine.summarise(items).as_dict(),
        "hours": [hour_dict(h, tz) for h in items],
        "lineage": lineage(monitor),
    }


def gaps(conn: Connection, monitor_id: int, start_us: int, end_us: int,
         now_us: int | None = None) -> dict:
    """Runs of consecutive invalid or missing hours of [start, end), with why."""
    monitor = _monitor_row(conn, monitor_id)
    lo, hi = expected_hours(monitor, start_us, end_us, now_us)
    items = stored_hours(conn, monitor_id, lo, hi)
    tz = _timezones(conn, [monitor])[monitor.node_id]
    runs: list[dict] = []
    for h in items:
        if h.status == "valid":
            continue
        last = runs[-1] if runs else None
        if last and last["status"] == h.status and last["_end"] == h.start_us:
            last["_end"] = h.start_us + HOUR_US
            last["_hours"].append(h)
        else:
            runs.append({"status": h.status, "_start": h.start_us, "_end": h.start_us + HOUR_US,
                         "_hours": [h]})
    out = []
    for run in runs:
        hs = run.pop("_hours")
        start, end = run.pop("_start"), run.pop("_end")
        reasons = merge_reasons(hs)
        partial = [h.measured_co2_t for h in hs if h.measured_co2_t is not None]
        out.append({
            "start": _iso(start), "end": _iso(end), "start_local": _local(start, tz),
            "end_local": _local(end, tz), "status": run["status"], "hours": len(hs),
            "valid_minutes": float(sum(h.valid_minutes for h in hs)),
            "partial_co2_t": float(sum(partial)) if partial else None,
            "reasons": reasons,
        })
    return {"monitor": monitor.code, "monitor_id": monitor.id, "start": _iso(lo),
            "end": _iso(hi), "timezone": str(tz),
            "summary": engine.summarise(items).as_dict(), "gaps": out}


def merge_reasons(items: list[engine.Hour]) -> list[dict]:
    """The reasons of several hours, minutes added up per (code, param, flag), with their
    messages (``too_few_minutes`` is the verdict, not a cause, and is left out)."""
    merged: dict[tuple, dict] = {}
    for h in items:
        for r in h.reasons:
            if r["code"] == "too_few_minutes":
                continue
            key = (r["code"], r.get("param"), r.get("flag"))
            into = merged.setdefault(key, {k: v for k, v in r.items() if k != "minutes"})
            if "minutes" in r:
                into["minutes"] = into.get("minutes", 0.0) + r["minutes"]
            elif r["code"] == "no_samples":
                into["hours"] = into.get("hours", 0) + 1
    return [{**r, **messages(r)} for r in merged.values()]


def messages(reason: dict) -> dict:
    """``message`` (en) and ``message_zh`` of a reason."""
    texts = {}
    for lang in LANGUAGES:
        params = {k: v for k, v in reason.items() if k != "code"}
        if "param" in params:
            params["param"] = t(f"cems.param.{params['param']}", lang)
        if "flag" in params:
            key = f"cems.flag.{params['flag']}"
            name = t(key, lang)
            params["flag_name"] = t("cems.flag.unknown", lang) if name == key else name
        texts[lang] = t(f"cems.reason.{reason['code']}", lang, **params)
    return {"message": texts["en"], "message_zh": texts["zh-CN"]}


def hour_dict(h: engine.Hour, tz) -> dict:
    return {"start": _iso(h.start_us), "start_local": _local(h.start_us, tz),
            "status": h.status, "co2_t": h.co2_t, "measured_co2_t": h.measured_co2_t,
            "valid_minutes": h.valid_minutes, "expected_minutes": h.expected_minutes,
            "reasons": h.reasons, "averages": h.averages}


def lineage(monitor) -> dict:
    return {
        "monitor": monitor.code,
        "method": "measurement method (实测法): CO2 mass per sample = C_dry[mg/m3] × Q_sd[m3/h] "
                  "× Δt[h] × 1e-9; hour valid with ≥ 45 min of valid data",
        "method_version": engine.METHOD_VERSION,
        "standards": ["HJ 76-2017 附录B (≥45 min valid data per hour)",
                      "HJ 212-2017 6.6.4 数据标记 (only N counts)",
                      "GB/T 16157-1996 (standard dry flow)", "HJ 75-2017"],
        "config": {k: getattr(monitor, k) for k in METHOD_SETTINGS},
        "engine": f"nengtan {__version__}",
    }


def samples(conn: Connection, monitor_id: int, start_us: int, end_us: int,
            param: str | None = None, limit: int = 100_000) -> dict:
    """Samples as received in [start, end), oldest first (``truncated`` if more exist)."""
    monitor = _monitor_row(conn, monitor_id)
    if param is not None and param not in PARAMS:
        raise InputError([Issue("rule.choice", field="param", value=param,
                                params={"choices": ", ".join(PARAMS)})])
    query = select(CemsSample).where(
        CemsSample.monitor_id == monitor_id, CemsSample.ts >= from_us(start_us),
        CemsSample.ts < from_us(end_us)).order_by(CemsSample.ts, CemsSample.param).limit(limit + 1)
    if param:
        query = query.where(CemsSample.param == param)
    rows = conn.execute(query).all()
    return {"monitor": monitor.code, "monitor_id": monitor.id, "truncated": len(rows) > limit,
            "samples": [{"ts": _iso(to_us(r.ts)), "param": r.param, "value": r.value,
                         "status": r.status, "batch_id": r.batch_id,
                         "ingested_at": r.ingested_at} for r in rows[:limit]]}


def _monitor_row(conn: Connection, monitor_id: int):
    row = conn.execute(select(CemsMonitor).where(CemsMonitor.id == monitor_id)).first()
    if row is None:
        raise NotFound("cems monitor", monitor_id)
    return row


def monitor_tz(conn: Connection, monitor_id: int) -> ZoneInfo:
    monitor = _monitor_row(conn, monitor_id)
    return _timezones(conn, [monitor])[monitor.node_id]


def _iso(us: int) -> str:
    return from_us(us).isoformat().replace("+00:00", "Z")


def _local(us: int, tz) -> str:
    return from_us(us).astimezone(tz).isoformat()


# -- files ---------------------------------------------------------------------------------
def parse_csv(data: bytes) -> list[tuple[int, dict]]:
    """Wide CSV with a header (English or Chinese column names, :data:`SAMPLE_COLUMNS`) →
    ``(file row, row)`` with the header as row 1; unknown or repeated columns are issues."""
    try:
        textual = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError([Issue("rule.file_format", value=None)]) from None
    reader = csv.reader(io.StringIO(textual))
    header = next(reader, None)
    if not header:
        raise InputError([Issue("rule.file_empty", row=1)])
    issues, names = [], []
    for cell in header:
        name = _HEADER_ALIASES.get(cell.strip(), _HEADER_ALIASES.get(cell.strip().lower()))
        if name is None:
            issues.append(Issue("rule.header_unknown", row=1, field=cell.strip()))
        elif name in names:
            issues.append(Issue("rule.header_duplicate", row=1, field=cell.strip()))
        names.append(name)
    if "ts" not in names:
        issues.append(Issue("rule.header_missing", row=1, field="ts"))
    if issues:
        raise InputError(issues)
    rows = []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(names):
            issues.append(Issue("rule.no_header", row=number, field=None))
            continue
        rows.append((number, {n: c for n, c in zip(names, cells) if n is not None}))
    if issues:
        raise InputError(issues[:MAX_ISSUES])
    return rows
