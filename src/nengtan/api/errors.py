"""HTTP answers for errors: 422 invalid input, 404 unknown object, 409 conflict.

Every error body has the same shape, whatever raised it (a service's ``InputError``,
FastAPI's own request validation, a database constraint)::

    {"message": "<summary in the caller's language>",
     "detail": [{"row": 3, "field": "ts", "rule": "ts_range", "value": "...",
                 "message": "<en>", "message_zh": "<zh-CN>"}, ...]}

``row`` is the index in a JSON list (0-based) or the row of an uploaded file (header = 1).
The summary's language follows ``Accept-Language`` (zh-CN by default, en).
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from nengtan.errors import InputError, Issue, NotFound
from nengtan.i18n import DEFAULT_LANGUAGE, t


def language(request: Request) -> str:
    """``en`` or ``zh-CN`` from ``Accept-Language`` (highest q first; zh-CN by default)."""
    header = request.headers.get("accept-language", "")
    ranked = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, position, tag.strip().lower()))
    for _q, _pos, tag in sorted(ranked):
        if tag.startswith("en"):
            return "en"
        if tag.startswith("zh"):
            return "zh-CN"
    return DEFAULT_LANGUAGE


def issues_response(request: Request, issues: list[Issue], status: int = 422,
                    summary: str = "api.invalid") -> JSONResponse:
    lang = language(request)
    detail = [i.as_dict() for i in issues]
    for d in detail:
        if isinstance(d["value"], float) and not math.isfinite(d["value"]):
            d["value"] = str(d["value"])  # JSON has no NaN or Infinity
    return JSONResponse({"message": t(summary, lang, count=len(issues)), "detail": detail},
                        status_code=status)


#: pydantic error type → (nengtan rule, how to turn the error's ctx into message params)
_RULES: dict[str, tuple[str, Any]] = {
    "missing": ("rule.required", None),
    "int_parsing": ("rule.type_int", None),
    "int_type": ("rule.type_int", None),
    "int_from_float": ("rule.type_int", None),
    "float_parsing": ("rule.type_float", None),
    "float_type": ("rule.type_float", None),
    "bool_parsing": ("rule.type_bool", None),
    "bool_type": ("rule.type_bool", None),
    "string_type": ("rule.type_str", None),
    "date_parsing": ("rule.type_date", None),
    "date_from_datetime_parsing": ("rule.type_date", None),
    "date_type": ("rule.type_date", None),
    "datetime_parsing": ("rule.type_datetime", None),
    "datetime_from_date_parsing": ("rule.type_datetime", None),
    "datetime_type": ("rule.type_datetime", None),
    "json_invalid": ("rule.type_json", None),
    "json_type": ("rule.type_json", None),
    "model_type": ("rule.type_object", None),
    "model_attributes_type": ("rule.type_object", None),
    "dict_type": ("rule.type_object", None),
    "list_type": ("rule.type_list", None),
    "extra_forbidden": ("rule.unknown_field", None),
    "literal_error": ("rule.choice", lambda c: {"choices": c.get("expected", "")}),
    "enum": ("rule.choice", lambda c: {"choices": c.get("expected", "")}),
    "string_too_long": ("rule.max_length", lambda c: {"max": c.get("max_length")}),
    "greater_than_equal": ("rule.minimum", lambda c: {"min": c.get("ge")}),
    "greater_than": ("rule.exclusive_minimum", lambda c: {"min": c.get("gt")}),
    "less_than_equal": ("rule.maximum", lambda c: {"max": c.get("le")}),
    "less_than": ("rule.maximum", lambda c: {"max": c.get("lt")}),
}
_LOCATIONS = ("body", "query", "path", "header", "cookie")


def pydantic_issues(errors: list[dict]) -> list[Issue]:
    """pydantic/FastAPI errors as issues: the first list index in ``loc`` is the row, the
    other parts (dotted) the field."""
    issues = []
    for err in errors:
        loc = list(err.get("loc") or ())
        if loc and loc[0] in _LOCATIONS:
            loc = loc[1:]
        kind = err.get("type", "")
        if kind == "json_invalid":
            loc = []  # its loc is the character position of the syntax error, not a row
        row = next((p for p in loc if isinstance(p, int)), None)
        field = ".".join(str(p) for p in loc if not isinstance(p, int)) or None
        rule, params = _RULES.get(kind, ("rule.invalid", None))
        ctx = err.get("ctx") or {}
        values = params(ctx) if params else ({"detail": err.get("msg", kind)}
                                             if rule == "rule.invalid" else None)
        value = err.get("input")
        if kind in ("missing", "json_invalid") or isinstance(value, (dict, list)):
            value = None  # the enclosing object, not a value the caller typed in this field
        issues.append(Issue(rule, row=row, field=field, value=value, params=values))
    return issues


def _not_found(request: Request, exc: NotFound) -> JSONResponse:
    lang = language(request)
    kind_key = f"object.{exc.kind}"
    key = exc.key if isinstance(exc.key, (int, str)) else str(exc.key)
    detail = {
        "row": None, "field": "id", "rule": "not_found", "value": key, "kind": exc.kind,
        "message": t("rule.not_found", "en", kind=t(kind_key, "en"), value=key),
        "message_zh": t("rule.not_found", "zh-CN", kind=t(kind_key, "zh-CN"), value=key),
    }
    return JSONResponse({"message": t("api.not_found", lang, kind=t(kind_key, lang), value=key),
                         "detail": [detail]}, status_code=404)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> JSONResponse:
        return issues_response(request, exc.issues)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return issues_response(request, pydantic_issues(list(exc.errors())))

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> JSONResponse:
        return _not_found(request, exc)

    @app.exception_handler(IntegrityError)
    async def conflict(request: Request, exc: IntegrityError) -> JSONResponse:
        # A constraint the services did not anticipate (or a concurrent change): the
        # transaction was rolled back, so say "conflict" rather than fail with a 500.
        issue = Issue("rule.conflict", value=None)
        return issues_response(request, [issue], status=409, summary="api.conflict")
