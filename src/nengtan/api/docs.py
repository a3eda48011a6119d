"""The OpenAPI page at ``/docs``, served entirely from this machine.

FastAPI's default page loads Swagger UI from a CDN, which an air-gapped industrial network
cannot reach; here the assets come from the installed ``swagger_ui_bundle`` package.  That
bundle is Swagger UI 4, which renders OpenAPI 3.0 documents only ("Unable to render this
definition" for 3.1), so the page reads a 3.0 rendering of the schema at
``/docs/openapi-3.0.json``; ``/openapi.json`` stays the authoritative OpenAPI 3.1 document.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

STATIC = "/static/swagger"
OPENAPI_30 = "/docs/openapi-3.0.json"

_PARAMETERS = {
    # Swagger UI otherwise shows a badge image fetched from validator.swagger.io
    "validatorUrl": None,
    "docExpansion": "none",
    "tryItOutEnabled": True,
    "displayRequestDuration": True,
}


def install(app: FastAPI) -> None:
    app.mount(STATIC, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_30, title="能碳 nengtan API",
            swagger_js_url=f"{STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC}/favicon-32x32.png",
            swagger_ui_parameters=_PARAMETERS)

    @app.get(OPENAPI_30, include_in_schema=False)
    def openapi_30() -> JSONResponse:
        return JSONResponse(downgrade(app.openapi()))


def downgrade(document: dict) -> dict:
    """An OpenAPI 3.1 document rewritten in OpenAPI 3.0 terms (for Swagger UI 4).

    Handles what FastAPI and pydantic emit: ``type`` lists and ``anyOf`` with ``null``
    (→ ``nullable``), ``null`` in ``enum``, ``const``, numeric ``exclusiveMinimum`` /
    ``exclusiveMaximum``, schema ``examples`` lists and ``contentMediaType`` uploads.
    """
    out = _schema(document)
    out["openapi"] = "3.0.3"
    return out


def _schema(node: Any) -> Any:
    if isinstance(node, list):
        return [_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _schema(v) for k, v in node.items()}
    kind = node.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        if len(kinds) < len(kind):
            node["nullable"] = True
        if len(kinds) == 1:
            node["type"] = kinds[0]
        else:
            node.pop("type")
            node["anyOf"] = [{"type": k} for k in kinds]
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            node.pop(key)
            node["nullable"] = True
            if len(rest) == 1 and "$ref" in rest[0]:
                node["allOf"] = rest  # a $ref cannot carry siblings in 3.0
            elif len(rest) == 1:
                node = {**rest[0], **node}
            else:
                node[key] = rest
    if isinstance(node.get("enum"), list) and None in node["enum"]:
        node["enum"] = [v for v in node["enum"] if v is not None]
        node["nullable"] = True
    if "const" in node and not isinstance(node["const"], dict):
        node["enum"] = [node.pop("const")]
    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(bound), (int, float)) and not isinstance(node[bound], bool):
            node[plain] = node[bound]
            node[bound] = True
    if isinstance(node.get("examples"), list):  # a map elsewhere in 3.0, a list in schemas
        examples = node.pop("examples")
        if examples:
            node["example"] = examples[0]
    if "contentMediaType" in node:
        node.pop("contentMediaType")
        node["format"] = "binary"
    return node
