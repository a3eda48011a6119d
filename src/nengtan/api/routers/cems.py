"""CEMS / 烟气在线监测: monitors, samples, hourly CO2 (measurement method, 实测法) and gaps."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from nengtan.api import tenancy
from nengtan.api.deps import PagingDep, SessionDep
from nengtan.api.errors import issues_response
from nengtan.api.params import END_DOC, START_DOC, period, resolve
from nengtan.api.schemas import (
    ERRORS,
    OPEN,
    ErrorBody,
    input_model,
    output_model,
    page_model,
    payload,
)
from nengtan.errors import InputError, Issue
from nengtan.services import cems, query
from nengtan.store.models import Node
from nengtan.store.models.cems import CemsMonitor

router = APIRouter(tags=["CEMS / 烟气在线监测"], responses=ERRORS)

MonitorIn = input_model("CemsMonitorIn", cems.MONITOR_FIELDS,
                        doc="A CEMS monitor on an emission-source node; `node` is its code.")
MonitorPatch = input_model("CemsMonitorPatch", cems.MONITOR_FIELDS, partial=True,
                           doc="Fields to change; a changed basis or interval recomputes "
                               "every stored hour.")
Monitor = output_model("CemsMonitor", cems.MONITOR_FIELDS, {
    "node_id": (int, "id of the emission-source node"),
    "tenant_id": (int, "enterprise (or park) the data belong to"),
    "required_params": (list[str], "parameters needed for the CO2 of a sample interval"),
}, doc="A CEMS monitor.")
MonitorPage = page_model(Monitor)
Param = Literal[tuple(cems.PARAMS)]  # type: ignore[valid-type]


class IngestOut(BaseModel):
    """What an upload stored."""

    model_config = OPEN
    batch_id: int = Field(description="ingest batch (GET /api/ingest-batches)")
    rows: int = Field(description="rows received")
    samples: int = Field(description="samples in the rows (one per parameter value)")
    inserted: int = Field(description="new samples")
    unchanged: int = Field(description="samples already stored with the same value and flag")
    revised: int = Field(description="samples that replaced a stored value (kept as revisions)")
    hours: int = Field(description="hours recomputed")
    monitors: list[str] = Field(description="monitors written")


class Summary(BaseModel):
    """Totals of the period's expected hours."""

    model_config = OPEN
    hours: int = Field(description="expected hours (after active_from, ended)")
    valid_hours: int
    invalid_hours: int
    missing_hours: int
    co2_t: float = Field(description="CO2 of the valid hours, t")
    partial_co2_t: float = Field(description="CO2 of the valid minutes of invalid hours, t; "
                                             "not part of co2_t")
    valid_minutes: float
    data_capture_pct: float | None = Field(description="valid hours / expected hours × 100")


class HourOut(BaseModel):
    model_config = OPEN
    start: datetime = Field(description="hour start, UTC")
    start_local: datetime = Field(description="hour start in the site's timezone")
    status: Literal["valid", "invalid", "missing"]
    co2_t: float | None = Field(description="CO2 of the hour, t (valid hours only)")
    measured_co2_t: float | None = Field(description="CO2 of the valid minutes, t")
    valid_minutes: float
    expected_minutes: float
    reasons: list[dict[str, Any]] = Field(description="why minutes were not counted: code "
                                                      "(no_samples, no_data, missing_param, "
                                                      "flag, out_of_range, too_few_minutes), "
                                                      "param, flag, minutes")
    averages: dict[str, float | None] = Field(description="means of the inputs over counted "
                                                          "minutes: co2, flow_m3_h, temp_c, "
                                                          "pressure_abs_kpa, moisture_pct, "
                                                          "co2_dry_pct, co2_dry_mg_m3, "
                                                          "flow_sd_m3_h")


class HoursOut(BaseModel):
    model_config = OPEN
    monitor: str
    monitor_id: int
    start: datetime
    end: datetime
    timezone: str
    summary: Summary
    hours: list[HourOut]
    lineage: dict[str, Any]


class GapOut(BaseModel):
    model_config = OPEN
    start: datetime
    end: datetime
    start_local: datetime
    end_local: datetime
    status: Literal["invalid", "missing"]
    hours: int
    valid_minutes: float
    partial_co2_t: float | None = Field(description="CO2 of the valid minutes in the run, t")
    reasons: list[dict[str, Any]] = Field(description="causes with minutes added up, and "
                                                      "message / message_zh")


class GapsOut(BaseModel):
    model_config = OPEN
    monitor: str
    monitor_id: int
    start: datetime
    end: datetime
    timezone: str
    summary: Summary
    gaps: list[GapOut]


class SampleOut(BaseModel):
    model_config = OPEN
    ts: datetime
    param: str
    value: float
    status: str
    batch_id: int
    ingested_at: datetime


class SamplesOut(BaseModel):
    model_config = OPEN
    monitor: str
    monitor_id: int
    truncated: bool
    samples: list[SampleOut]


_CSV_EXAMPLE = ("monitor,ts,co2,flow,temp,pressure,moisture,status\n"
                "CEMS-KILN-1,2025-01-01 08:00,21.8,486000,112.5,99.1,9.2,N\n"
                "CEMS-KILN-1,2025-01-01 08:01,21.9,485200,112.4,99.1,9.2,C\n")
_SAMPLE_ROW = {"monitor": "CEMS-KILN-1", "ts": "2025-01-01T08:00:00+08:00", "co2": 21.8,
               "flow": 486000, "temp": 112.5, "pressure": 99.1, "moisture": 9.2, "status": "N"}
_INGEST_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {
        "schema": {"type": "object", "required": ["samples"], "properties": {
            "source": {"type": "string", "maxLength": 40},
            "detail": {"type": "string", "maxLength": 400},
            "monitor": {"type": "string", "description": "default monitor code of the rows"},
            "samples": {"type": "array", "items": {"type": "object", "properties": {
                name: ({"type": "string"} if name in ("monitor", "ts") or name.endswith("status")
                       else {"type": "number"}) for name in cems.SAMPLE_COLUMNS}}}}},
        "example": {"source": "api", "samples": [_SAMPLE_ROW]}},
    "text/csv": {"schema": {"type": "string", "description": "wide format with a header: "
                                                             "monitor,ts,co2,flow,temp,pressure,"
                                                             "moisture,status"},
                 "example": _CSV_EXAMPLE},
}}}
_BODY_KEYS = ("source", "detail", "monitor", "samples")


async def _raw_body(request: Request) -> bytes:
    # JSON and CSV share the endpoint and every row's problems are reported together, which
    # request-model validation would not do: the body is parsed by hand.
    return await request.body()


@router.get("/api/cems/monitors", response_model=MonitorPage,
            summary="List CEMS monitors / 烟气在线监测点列表")
def list_monitors(session: SessionDep, paging: PagingDep,
                  node: str | None = Query(None, description="code of the emission-source "
                                                             "node / 排放源节点编码"),
                  active: bool | None = Query(None)):
    """Monitors, ordered by code."""
    n = resolve(session, Node, node, "node", "node")
    rows = cems.list_monitors(session, n, active)
    page = rows[paging.offset:paging.offset + paging.limit]
    return paging.answer([cems.monitor_dict(session, m) for m in page], len(rows))


@router.post("/api/cems/monitors", response_model=Monitor, status_code=201,
             summary="Create a CEMS monitor / 新建烟气在线监测点")
def create_monitor(body: MonitorIn, session: SessionDep):
    """Create a monitor on an emission-source node, with the bases its analysers report:
    CO2 ``dry``/``wet`` in ``pct`` (vol-%) or ``mg/m3``; flow ``actual`` (stack conditions,
    wet) or ``std_dry``; pressure ``absolute`` or ``gauge`` (+ ``barometric_kpa``)."""
    return cems.monitor_dict(session, cems.create_monitor(session, payload(body)))


@router.get("/api/cems/monitors/{monitor_id}", response_model=Monitor,
            summary="Get a CEMS monitor / 查询烟气在线监测点")
def get_monitor(monitor_id: int, session: SessionDep):
    """One monitor with its node and the parameters its configuration needs."""
    return cems.monitor_dict(session, cems.get_monitor(session, monitor_id))


@router.patch("/api/cems/monitors/{monitor_id}", response_model=Monitor,
              summary="Change a CEMS monitor / 修改烟气在线监测点")
def update_monitor(monitor_id: int, body: MonitorPatch, session: SessionDep):
    """Change fields of a monitor.  Changing a basis, the barometric pressure or the interval
    recomputes every stored hour from the samples."""
    return cems.monitor_dict(session, cems.update_monitor(session, monitor_id, payload(body)))


@router.post("/api/cems/samples", response_model=IngestOut, openapi_extra=_INGEST_BODY,
             responses={415: {"model": ErrorBody, "description": "neither JSON nor CSV"}},
             summary="Upload CEMS samples / 上传烟气监测数据")
def ingest_samples(request: Request, session: SessionDep, data: bytes = Depends(_raw_body),
                   monitor: str | None = Query(None, description="CSV: monitor code when the "
                                                                 "file has no monitor column"),
                   source: str | None = Query(None, description="CSV: source of the upload"),
                   detail: str | None = Query(None, description="CSV: detail of the upload")):
    """Store samples in the wide format: one row per time with any of ``co2`` (the monitor's
    unit), ``flow`` (m³/h), ``temp`` (°C), ``pressure`` (kPa), ``moisture`` (vol-%), the
    analyser ``status`` flag of the row (HJ 212-2017: N normal, C calibration, M maintenance,
    D fault, F stopped, ...) and optional per-parameter ``<param>_status``.  A ``ts`` without
    an offset is read in the site's timezone.

    JSON ``{"samples": [...]}`` (rows numbered from 0) or ``text/csv`` (header = row 1).  Any
    invalid row rejects the whole upload with 422 and nothing is stored.  A resent identical
    sample is a no-op; a different value or flag replaces it and keeps the old one as a
    revision.  The hours touched are recomputed in the same transaction."""
    ctype = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if ctype in ("text/csv", "application/csv"):
        rows = cems.parse_csv(data)
    elif ctype in ("application/json", "") or ctype.endswith("+json"):
        rows, monitor, source, detail = _json_rows(data)
    else:
        return issues_response(request, [Issue("rule.media_type", field="content-type",
                                               value=ctype, params={
                                                   "expected": "application/json, text/csv"})],
                               status=415)
    result = cems.ingest_rows(session.connection(), rows, source or "api", detail,
                              monitor_code=monitor)
    ids = session.connection().execute(select(CemsMonitor.id).where(
        CemsMonitor.code.in_(result["monitors"]))).scalars()
    tenancy.refuse_hidden(session, CemsMonitor, ids, field="monitor")
    return result


def _json_rows(data: bytes):
    try:
        body = json.loads(data or b"null")
    except (ValueError, UnicodeDecodeError):
        raise InputError([Issue("rule.type_json")]) from None
    if not isinstance(body, dict):
        raise InputError([Issue("rule.type_object")])
    issues = [Issue("rule.unknown_field", field=k) for k in body if k not in _BODY_KEYS]
    for key, limit in (("source", 40), ("detail", 400), ("monitor", 64)):
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            issues.append(Issue("rule.type_str", field=key, value=value))
        elif value is not None and len(value) > limit:
            issues.append(Issue("rule.max_length", field=key, value=value,
                                params={"max": limit}))
    samples = body.get("samples")
    rows = []
    if samples is None:
        issues.append(Issue("rule.required", field="samples"))
    elif not isinstance(samples, list):
        issues.append(Issue("rule.type_list", field="samples"))
    else:
        for i, r in enumerate(samples):
            if isinstance(r, dict):
                rows.append((i, r))
            else:
                issues.append(Issue("rule.type_object", row=i))
    if issues:
        raise InputError(issues)
    return rows, body.get("monitor"), body.get("source"), body.get("detail")


def _window(session, monitor_id: int, start: str, end: str) -> query.Window:
    conn = session.connection()
    lo, hi = period(start, end)
    return query.window(lo, hi, cems.monitor_tz(conn, monitor_id))


@router.get("/api/cems/monitors/{monitor_id}/samples", response_model=SamplesOut,
            summary="CEMS samples / 烟气监测原始数据")
def list_samples(monitor_id: int, session: SessionDep,
                 start: str = Query(description=START_DOC), end: str = Query(description=END_DOC),
                 param: Annotated[Param | None, Query(description="one parameter only")] = None,
                 limit: int = Query(10_000, ge=1, le=100_000, description="most samples")):
    """Samples as received (value, analyser flag, batch, ingestion time), oldest first."""
    w = _window(session, monitor_id, start, end)
    return cems.samples(session.connection(), monitor_id, w.start_us, w.end_us, param, limit)


@router.get("/api/cems/monitors/{monitor_id}/hours", response_model=HoursOut,
            summary="Hourly CO2 / 小时二氧化碳排放量")
def hours(monitor_id: int, session: SessionDep,
          start: str = Query(description=START_DOC), end: str = Query(description=END_DOC)):
    """Every expected clock hour of the period (after ``active_from``, already ended) with its
    CO2 (t) and status: *valid* with at least 45 minutes of valid data (HJ 76-2017 Annex B),
    *invalid* (``co2_t`` null, the mass of its valid minutes in ``measured_co2_t``) or
    *missing* (no sample).  Nothing is filled in.  The summary adds up the valid hours only
    and gives the data capture (valid / expected hours)."""
    w = _window(session, monitor_id, start, end)
    return cems.hours(session.connection(), monitor_id, w.start_us, w.end_us)


@router.get("/api/cems/monitors/{monitor_id}/gaps", response_model=GapsOut,
            summary="Invalid and missing hours / 无效与缺失小时")
def gaps(monitor_id: int, session: SessionDep,
         start: str = Query(description=START_DOC), end: str = Query(description=END_DOC)):
    """Runs of consecutive invalid or missing hours with their causes (analyser flags,
    parameters not reported, values out of range, silent minutes), minutes added up, and a
    message in English and Chinese."""
    w = _window(session, monitor_id, start, end)
    return cems.gaps(session.connection(), monitor_id, w.start_us, w.end_us)

