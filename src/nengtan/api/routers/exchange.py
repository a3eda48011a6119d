"""File import and export (CSV, Excel) of every kind of data, through ``nengtan.exchange``."""

from __future__ import annotations

from datetime import datetime, time
from typing import Literal

from fastapi import APIRouter, File, Query, Request, Response, UploadFile

from nengtan import exchange
from nengtan.api import models, tenancy
from nengtan.api.auth import PrincipalDep
from nengtan.api.deps import EngineDep
from nengtan.api.errors import language
from nengtan.api.params import END_DOC, START_DOC, period
from nengtan.api.schemas import ERRORS
from nengtan.errors import InputError, Issue, NotFound

router = APIRouter(tags=["import/export / 导入导出"], responses=ERRORS)

#: kinds that are measured data (the rest are the organisation's master data: ``org.read``)
DATA_KINDS = {"readings": "data.read", "meter_events": "data.read",
              "fuel_deliveries": "data.read"}

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.post("/api/import", response_model=models.ImportReport, summary="Import a file / 导入文件")
def import_file(engine: EngineDep,
                file: UploadFile = File(description="CSV or Excel file (.csv, .xlsx)"),
                kind: str | None = Query(None, description="what the file holds (nodes, "
                                                           "meters, readings, ...); default: "
                                                           "recognised from its columns"),
                dry_run: bool = Query(False, description="validate only, store nothing")):
    """Import a CSV or Excel file of one kind of data (template columns in zh-CN or en).  The
    whole file is validated first: any bad row rejects it with 422 naming every bad row
    (file rows: header = 1) and nothing is stored.  ``dry_run`` validates and reports what
    would be stored."""
    if kind is not None and kind not in exchange.KINDS:
        raise InputError([Issue("rule.choice", field="kind", value=kind,
                                params={"choices": ", ".join(exchange.KINDS)})])
    data = file.file.read()
    report = exchange.import_bytes(engine, data, file.filename or "upload", kind, dry_run)
    return report.as_dict()


@router.get("/api/export/{kind}", summary="Export / 导出",
            response_class=Response,
            responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()},
                             "description": "the file"}})
def export_file(kind: str, request: Request, engine: EngineDep, principal: PrincipalDep,
                format: Literal["csv", "xlsx"] = Query("csv", description="file format"),
                lang: Literal["en", "zh-CN"] | None = Query(
                    None, description="header language; default: Accept-Language"),
                template: bool = Query(False, description="an empty import template with the "
                                                          "bilingual headers"),
                meters: str | None = Query(None, description="readings: comma-separated meter "
                                                             "codes"),
                start: str | None = Query(None, description=START_DOC),
                end: str | None = Query(None, description=END_DOC)) -> Response:
    """Download one kind of data (or its empty template) as CSV or Excel, in the same
    columns the import reads, so an export can be edited and imported back.  An enterprise
    user gets their enterprise's records (references to objects they cannot see, such as the
    park above their enterprise, are left empty); park-wide users get the installation's."""
    if kind not in exchange.KINDS:
        raise NotFound("export kind", kind)
    # the exporter takes datetimes (naive: each meter's site timezone); a date is its midnight
    lo, hi = (v if v is None or isinstance(v, datetime) else datetime.combine(v, time())
              for v in period(start, end, required=False))
    codes = [c.strip() for c in meters.split(",") if c.strip()] if meters else None
    # the caller's records only: the tenants where they may read this kind
    perm = DATA_KINDS.get(kind, "org.read")
    data = exchange.export(engine, kind, format, lang or language(request), template=template,
                           meters=codes, start=lo, end=hi,
                           limit=lambda s: tenancy.bind(s, principal, perm))
    name = f"nengtan-{kind}{'-template' if template else ''}.{format}"
    return Response(data, media_type=MEDIA_TYPES[format],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
