"""Pydantic models of the REST API, generated from the field specs.

:class:`nengtan.services.fields.FieldSpec` lists are the single source of truth for every
entity's fields.  From one list this module builds

* an *input* model (``POST``/``PUT`` bodies, and ``PATCH`` bodies with ``partial=True``).  It
  accepts any JSON value in every field: the services coerce and validate, and report every
  problem at once as row/field/rule issues, which a strict pydantic model would pre-empt with
  its own, differently shaped errors.  The model only *documents* the field (type, unit,
  choices, limits, default, bilingual label) in the OpenAPI page;
* an *output* model with real types, the entity's id and the ids behind every code it
  references.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, create_model

from nengtan.services.fields import FieldSpec

_JSON_TYPES = {
    "str": {"type": "string"},
    "choice": {"type": "string"},
    "unit": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "json": {},
}
_PY_TYPES = {"str": str, "choice": str, "unit": str, "int": int, "float": float, "bool": bool,
             "date": date, "datetime": datetime, "json": Any}


def input_schema(spec: FieldSpec, nullable: bool = True) -> dict:
    """JSON Schema documenting one field of a request body."""
    schema = dict(_JSON_TYPES[spec.kind])
    if nullable and "type" in schema:
        # null clears an optional field (PATCH) or takes its default
        schema["type"] = [schema["type"], "null"]
    if spec.choices:
        schema["enum"] = list(spec.choices) + ([None] if nullable else [])
    if spec.max_length is not None:
        schema["maxLength"] = spec.max_length
    if spec.minimum is not None:
        schema["minimum"] = spec.minimum
    if spec.exclusive_minimum is not None:
        schema["exclusiveMinimum"] = spec.exclusive_minimum
    if spec.maximum is not None:
        schema["maximum"] = spec.maximum
    if spec.unit:
        schema["x-unit"] = spec.unit
    if spec.ref:
        schema["x-ref"] = spec.ref
    return schema


def input_model(name: str, specs: list[FieldSpec], *, partial: bool = False,
                doc: str | None = None, **nested: Any) -> type[BaseModel]:
    """A permissive request-body model for ``specs``.

    Every field is optional for pydantic and unknown fields are kept, so the service sees the
    body as sent (``model_dump(exclude_unset=True)``) and reports missing, unknown and invalid
    fields itself.  Unless ``partial``, the schema still marks the spec's required fields.
    ``nested`` adds fields such as a tariff's ``bands``: name → (annotation, Field).
    """
    required = [] if partial else [s.name for s in specs if s.required and s.default is None]

    defaults = {s.name: s.default for s in specs}

    def document(schema: dict, _model: type) -> None:
        if required:
            schema["required"] = required
        # the services reject unknown fields (rule unknown_field), so say so
        schema["additionalProperties"] = False
        for name, prop in schema.get("properties", {}).items():
            # pydantic's default is None for every field; show the service's default instead
            prop.pop("default", None)
            if defaults.get(name) is not None:
                prop["default"] = defaults[name]

    fields: dict[str, Any] = {
        _py_name(s.name): (
            Annotated[Any, WithJsonSchema(input_schema(s, nullable=s.name not in required))],
            Field(None, description=s.describe(), title=s.label_en, alias=s.name))
        for s in specs
    }
    fields.update(nested)
    return create_model(name, __config__=ConfigDict(extra="allow", json_schema_extra=document),
                        __doc__=doc or f"{name} (fields as in the import templates).", **fields)


def _py_name(name: str) -> str:
    """Attribute name for a field: ``register`` would shadow ``BaseModel.register``, so such
    fields get a trailing underscore and keep their JSON name as the alias."""
    return f"{name}_" if hasattr(BaseModel, name) else name


def payload(body: BaseModel) -> dict:
    """The body as sent (JSON names, only the fields present), for a service."""
    return body.model_dump(exclude_unset=True, by_alias=True)


def _closed_schema(schema: dict, _model: type) -> None:
    # extra keys pass through at run time, but the contract documents the declared fields
    schema.pop("additionalProperties", None)


#: Config of response models: unknown keys of a service's dict are passed through, so that a
#: field a service adds later is never silently dropped from the answer.
OPEN = ConfigDict(extra="allow", json_schema_extra=_closed_schema)


def output_type(spec: FieldSpec) -> Any:
    if spec.kind == "choice" and spec.choices:
        return Literal[tuple(spec.choices)] | None  # type: ignore[valid-type]
    return _PY_TYPES[spec.kind] | None


def output_model(name: str, specs: list[FieldSpec], extra: dict[str, tuple[Any, str]] | None = None,
                 *, id_type: Any = int, doc: str | None = None) -> type[BaseModel]:
    """A response model: ``id``, the spec's fields, then ``extra`` (name → (type, description))."""
    fields: dict[str, Any] = {}
    if id_type is not None:
        fields["id"] = (id_type, Field(description="database id"))
    for s in specs:
        fields[_py_name(s.name)] = (output_type(s), Field(None, description=s.describe(),
                                                          title=s.label_en, alias=s.name))
    for key, (annotation, description) in (extra or {}).items():
        fields[key] = (annotation, Field(None, description=description))
    return create_model(name, __config__=OPEN, __doc__=doc or name, **fields)


def page_model(item: type[BaseModel]) -> type[BaseModel]:
    """``{"items": [...], "total": n, "limit": l, "offset": o}`` of ``item``."""
    return create_model(
        f"{item.__name__}Page",
        __doc__=f"One page of {item.__name__} objects.",
        items=(list[item], Field(description="objects on this page")),  # type: ignore[valid-type]
        total=(int, Field(description="number of objects matching the filters")),
        limit=(int, Field(description="page size asked for")),
        offset=(int, Field(description="objects skipped before this page")),
    )


class Problem(BaseModel):
    """One violated rule, as in every 422 answer."""

    row: int | None = Field(None, description="index in a JSON list (0-based) or file row "
                                              "(header = 1); null for a single object")
    field: str | None = Field(None, description="field, column or parameter")
    rule: str = Field(description="rule key, e.g. required, ref_unknown, unit_mismatch")
    value: Any = Field(None, description="the offending value as sent")
    message: str = Field(description="English message")
    message_zh: str = Field(description="Chinese message")
    sheet: str | None = Field(None, description="sheet name (Excel imports)")


class ErrorBody(BaseModel):
    """Body of 404, 409 and 422 answers."""

    message: str = Field(description="summary in the language of Accept-Language "
                                     "(zh-CN default, en)")
    detail: list[Problem]


ERRORS = {
    404: {"model": ErrorBody, "description": "Unknown id / 对象不存在"},
    422: {"model": ErrorBody, "description": "Invalid input, nothing changed / 输入无效，未做更改"},
}


def inline_schema(model: type[BaseModel]) -> dict:
    """``model``'s JSON Schema with its ``$defs`` substituted in place, for request bodies
    documented by hand (``openapi_extra``), where ``#/$defs/...`` would not resolve."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node):
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)
