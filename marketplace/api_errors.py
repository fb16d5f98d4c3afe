"""The error answers every JSON API operation can give, documented once for the OpenAPI schema.

The exception handlers in app.py give every refused API call the same body; Litestar documents
only the responses a handler declares, so the shared ones are added here to each /api/ operation
(a handler's own `responses=` for the same status wins), with the headers they always carry.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
from litestar import Litestar
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import (
    OAuthFlow,
    OAuthFlows,
    OpenAPIHeader,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Schema,
    SecurityRequirement,
    SecurityScheme,
)
from litestar.openapi.spec.reference import Reference
from litestar.routes import HTTPRoute

from marketplace.accounts.scopes import SCOPE_DESCRIPTIONS, SCOPE_OPT

API_PREFIX = "/api/"
# The API takes a bearer token (Authorization: Bearer <token>, see /tokens); an operation that
# serves anyone too declares OPTIONAL_TOKEN itself. An integration client's token (OAuth 2 client
# credentials from /oauth/token) is a bearer token too, limited to the operations whose scope it
# holds: each such operation lists the `oauth2` requirement with its scope (accounts/scopes.py).
OAUTH2 = "oauth2"
TOKEN_URL = "/oauth/token"
SECURITY_SCHEMES: dict[str, SecurityScheme | Reference] = {
    "bearer": SecurityScheme(type="http", scheme="bearer", description="A personal API token from /tokens."),
    OAUTH2: SecurityScheme(
        type="oauth2",
        description="An integration client's token (client credentials; register clients at /integrations). "
        "It acts for the client's organization and calls only the operations whose scope it holds; "
        "any other answers 403 naming the scope.",
        flows=OAuthFlows(
            client_credentials=OAuthFlow(
                token_url=TOKEN_URL, scopes={scope.value: text for scope, text in SCOPE_DESCRIPTIONS.items()}
            )
        ),
    ),
}
TOKEN: SecurityRequirement = {"bearer": []}
OPTIONAL_TOKEN: list[SecurityRequirement] = [TOKEN, {}]


class FieldErrorOut(msgspec.Struct):
    field: str  # "" when the error is not about one field
    message: str


class ErrorOut(msgspec.Struct):
    status_code: int
    detail: str
    errors: list[FieldErrorOut]


def _spec(description: str) -> ResponseSpec:
    return ResponseSpec(data_container=ErrorOut, description=description, generate_examples=False)


EVERY_OPERATION = {
    400: "The request is malformed or has invalid fields (listed in `errors`).",
    401: "No valid bearer token.",
    403: "The token's role does not allow this.",
    404: "No such record, or it is outside the caller's organization.",
    409: "The record's state does not allow this change.",
    422: "The fields are well-formed but break a rule (listed in `errors`).",
}
WITH_BODY = {413: "The request body is too large."}
BODY_METHODS = {"POST", "PUT", "PATCH"}
# Operations that depend on Meilisearch answering (app.search_unavailable_handler).
UNAVAILABLE = {503: "The search engine is unavailable; retry after `Retry-After` seconds."}
# Operations that take files and check their type (catalog.spreadsheets, matching.threads.files).
UPLOAD = {415: "The uploaded file's type is not accepted."}
BY_OPERATION = {
    ("GET", "/api/v1/search"): UNAVAILABLE,
    ("GET", "/api/v1/needs"): UNAVAILABLE,
    ("GET", "/api/v1/recommendations"): UNAVAILABLE,
    ("POST", "/api/v1/listings/import"): UPLOAD,
    ("POST", "/api/v1/match-requests/{request_id:uuid}/messages"): UPLOAD,
    ("POST", "/api/v1/needs/{need_id:uuid}/responses/{response_id:uuid}/messages"): UPLOAD,
    ("POST", "/api/v1/trial-engagements/{engagement_id:uuid}/documents"): UPLOAD,
}
# Headers every such answer carries (app.domain_error_handler, search.api.unavailable_response).
_TEXT = Schema(type=OpenAPIType.STRING)
ERROR_HEADERS = {
    "401": {"WWW-Authenticate": OpenAPIHeader(schema=_TEXT, required=True, description="`Bearer`")},
    "503": {"Retry-After": OpenAPIHeader(schema=_TEXT, required=True, description="Seconds to wait.")},
}


def document_api_errors(app: Litestar) -> None:
    """Adds the shared error responses, and the token they are about, to every API operation of the
    app (before its schema is built)."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(API_PREFIX):
            continue
        for handler in route.route_handlers:
            codes = dict(EVERY_OPERATION)
            if handler.http_methods & BODY_METHODS:
                codes.update(WITH_BODY)
            for method in handler.http_methods:
                codes.update(BY_OPERATION.get((method, route.path), {}))
            shared = {status: _spec(text) for status, text in codes.items()}
            handler.responses = {**shared, **(handler.responses or {})}
            handler.operation_class = _with_error_headers(handler.operation_class)
            # Only handlers declare security (OPTIONAL_TOKEN); the rest take a token.
            security = list(handler.security or [TOKEN])
            scope = handler.opt.get(SCOPE_OPT)
            if scope:
                # The alternatives: a person's token, or a client's token holding the scope.
                security.insert(security.index(TOKEN) + 1 if TOKEN in security else 0, {OAUTH2: [scope]})
            handler.security = security


def _with_error_headers(operation_class: type[Operation]) -> type[Operation]:
    """The handler's Operation class, adding the headers of its error answers (ResponseSpec has none)."""

    @dataclass
    class WithErrorHeaders(operation_class):  # type: ignore[valid-type,misc]
        def __post_init__(self) -> None:
            if hasattr(super(), "__post_init__"):
                super().__post_init__()
            for status, headers in ERROR_HEADERS.items():
                response = (self.responses or {}).get(status)
                if isinstance(response, OpenAPIResponse):
                    response.headers = {**(response.headers or {}), **headers}

    return WithErrorHeaders
