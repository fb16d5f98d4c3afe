"""What the OpenAPI document says that Litestar cannot read from the handlers' types.

Litestar documents a Struct's fields but not that it refuses unknown ones, a handler that reads its
own body (a thread message: JSON or multipart) as taking none, and a download as JSON. The pieces
here say the truth at the source: a schema plugin for Structs, query parameters whose values are a
fixed set that the handler checks itself, and Operation classes for bodies and answers that are
not JSON (`operation_class=` on the handler).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

import msgspec
from litestar import Litestar

# Litestar's own plugin for msgspec Structs, extended below (it has no public name).
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.enums import ParamType
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    RequestBody,
    Schema,
)
from litestar.params import QueryParameter
from litestar.routes import HTTPRoute
from litestar.typing import FieldDefinition

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
BINARY = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """A Struct declared with `forbid_unknown_fields` (every request body, marketplace.accounts.schemas.Input)
    is documented with `additionalProperties: false`: the API answers an unknown field with a 400."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        if field_definition.type_.__struct_config__.forbid_unknown_fields:
            schema.additional_properties = False
        return schema


def enum_query(values: Iterable[str], *, many: bool = False) -> QueryParameter:
    """A query parameter that the handler (or the service) checks against a fixed set itself,
    documented as that enum; `many`: it may be repeated."""
    enum = sorted(str(v) for v in values)
    # The whole schema: Litestar makes an optional one `oneOf [T, null]`, and the enum belongs to T.
    if many:
        return QueryParameter(
            schema_extra={"one_of": None, "type": OpenAPIType.ARRAY, "items": Schema(type=OpenAPIType.STRING, enum=enum)}
        )
    return QueryParameter(schema_extra={"one_of": None, "type": OpenAPIType.STRING, "enum": enum})


def documented(
    *, request_body: RequestBody | None = None, responses: dict[str, OpenAPIResponse] | None = None
) -> type[Operation]:
    """An Operation class (a handler's `operation_class=`) whose request body and the given answers
    are replaced by these, for what Litestar cannot infer from the handler's types."""

    @dataclass
    class DocumentedOperation(Operation):
        def __post_init__(self) -> None:
            if request_body is not None:
                self.request_body = request_body
            if responses:
                self.responses = {**(self.responses or {}), **responses}

    return DocumentedOperation


def download(description: str, *media_types: str) -> OpenAPIResponse:
    """A file answered as an attachment, in one of `media_types`."""
    return OpenAPIResponse(
        description=description,
        content={media: OpenAPIMediaType(schema=BINARY) for media in media_types},
        headers={"Content-Disposition": OpenAPIHeader(schema=Schema(type=OpenAPIType.STRING), required=True)},
    )


def multipart(properties: dict[str, Any], required: list[str], *, also_json: dict[str, Any] | None = None) -> RequestBody:
    """A multipart/form-data body of these parts (Schemas, or JSON schemas as dicts; files as binary
    strings); `also_json`: the JSON body (a JSON schema) the operation takes too."""
    content = {
        "multipart/form-data": OpenAPIMediaType(
            schema=Schema(type=OpenAPIType.OBJECT, properties=dict(properties), required=required or None)
        )
    }
    if also_json is not None:
        # The document's writer copies a dict as it is.
        content["application/json"] = OpenAPIMediaType(schema=cast(Schema, also_json))
    return RequestBody(content=content, required=True)


def flat_struct_schema(struct: type[msgspec.Struct]) -> dict[str, Any]:
    """The JSON schema of a Struct without nested Structs, inlined, as msgspec writes it (with
    `additionalProperties: false` when it refuses unknown fields)."""
    (_,), components = msgspec.json.schema_components([struct])
    (schema,) = components.values()
    return schema


def files() -> Schema:
    """A repeated file part."""
    return Schema(type=OpenAPIType.ARRAY, items=BINARY)


def document_query_parameters(app: Litestar) -> None:
    """Query parameters are documented as what they are: strings on the wire, never null. Litestar
    writes an optional one as `oneOf [T, null]` (or a type list with "null"), which no query can send."""
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                handler.operation_class = _without_null_queries(handler.operation_class)


def _without_null_queries(operation_class: type[Operation]) -> type[Operation]:
    @dataclass
    class WithoutNullQueries(operation_class):  # type: ignore[valid-type,misc]
        def __post_init__(self) -> None:
            if hasattr(super(), "__post_init__"):
                super().__post_init__()
            for parameter in self.parameters or []:
                if isinstance(parameter, Parameter) and parameter.param_in == ParamType.QUERY:
                    parameter.schema = _not_null(parameter.schema)

    return WithoutNullQueries


def _not_null(schema: Any) -> Any:
    if not isinstance(schema, Schema):
        return schema
    if schema.one_of:
        rest = [s for s in schema.one_of if not (isinstance(s, Schema) and s.type == OpenAPIType.NULL)]
        if len(rest) == 1 and len(rest) < len(schema.one_of):
            return rest[0]
    if isinstance(schema.type, list) and OpenAPIType.NULL in schema.type:
        types = [t for t in schema.type if t != OpenAPIType.NULL]
        schema.type = types[0] if len(types) == 1 else types
        if schema.enum:
            schema.enum = [v for v in schema.enum if v is not None]
    return schema
