"""The error answers: every exception a request can end in becomes a field-level JSON error for
programs or an error page for people, in the request's language — never a bare 500 for the client's
own mistakes (a NUL in text, JSON nested too deep, a body that is not JSON)."""

from __future__ import annotations

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.response import Redirect
from litestar.types import Empty, ExceptionHandlersMap
from litestar.utils.scope.state import ScopeState
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from marketplace import forms, i18n
from marketplace.errors import DomainError, FieldError, NotAuthenticated, Throttled
from marketplace.search.api import unavailable_response
from marketplace.search.engine import SearchUnavailable
from marketplace.web import is_api, render_error, request_locale

# character_not_in_repertoire (a NUL in text), untranslatable_character (\u0000 in jsonb).
UNSTORABLE_TEXT = {"22021", "22P05"}


def _body_struct(request: Request) -> type | None:
    data = request.route_handler.parsed_data_field
    annotation = data.annotation if data else None
    return annotation if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct) else None


def validation_errors(request: Request, exc: ValidationException) -> list[FieldError]:
    """Litestar stops at the first bad body field; the body is walked again by the same mechanism
    as the pages (marketplace.forms), so every bad field is named, in the same shape."""
    items = [item for item in (exc.extra or []) if isinstance(item, dict)]
    struct = _body_struct(request)
    body = ScopeState.from_scope(request.scope).json
    if struct and body is not Empty and any(item.get("source") == "body" for item in items):
        # Litestar converts bodies leniently ("2" for 2); the walk must agree with it.
        errors = forms.field_errors(body, struct, strict=False)
        errors += [forms.leaf_error(str(i.get("key", "")), str(i.get("message", ""))) for i in items if i.get("source") != "body"]
        if errors:
            return errors
    return [forms.leaf_error(str(item.get("key", "")), str(item.get("message", ""))) for item in items] or [
        forms.leaf_error("", str(exc.detail))
    ]


def validation_error_handler(request: Request, exc: ValidationException) -> Response:
    """Litestar/msgspec validation (wrong types, unknown or missing fields) → field-level errors."""
    errors = [{"field": e.field, "message": i18n.gettext(e.message, **e.params)} for e in validation_errors(request, exc)]
    detail = i18n.gettext("The request has invalid fields.")
    if not is_api(request):
        return render_error(request, 400, detail)
    return Response({"status_code": 400, "detail": detail, "errors": errors}, status_code=400)


def domain_error_handler(request: Request, exc: DomainError) -> Response:
    if isinstance(exc, NotAuthenticated) and not is_api(request):
        return Redirect(f"/login?next={request.url.path}")
    detail = i18n.gettext(exc.message, **{k: i18n.gettext(v) if isinstance(v, str) else v for k, v in exc.params.items()})
    if not is_api(request):
        page = render_error(request, exc.status_code, detail)
        if isinstance(exc, Throttled):
            page.headers["Retry-After"] = str(exc.retry_after)
        return page
    body = {
        "status_code": exc.status_code,
        "detail": detail,
        "errors": [{"field": e.field, "message": i18n.gettext(e.message, **e.params)} for e in exc.errors],
    }
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    if isinstance(exc, Throttled):  # the token endpoint's refusal (the pages answer their own)
        headers = {"Retry-After": str(exc.retry_after)}
    return Response(body, status_code=exc.status_code, headers=headers)


def http_error_handler(request: Request, exc: HTTPException) -> Response:
    # The router's own 404 (no route) is raised outside the locale middleware.
    i18n.current_locale.set(request_locale(request))
    errors = []
    if isinstance(exc.__cause__, SerializationException):  # the body could not be decoded at all
        detail = i18n.gettext("The body is not valid JSON.")
        errors.append({"field": "body", "message": detail})
    else:
        detail = i18n.http_status_text(exc.status_code, str(exc.detail))
    if not is_api(request):
        return render_error(request, exc.status_code, detail)
    body = {"status_code": exc.status_code, "detail": detail, "errors": errors}
    return Response(body, status_code=exc.status_code, headers=exc.headers)


def unstorable_text_handler(request: Request, exc: DBAPIError) -> Response:
    """PostgreSQL refuses a NUL (or otherwise unstorable) character in text: the client's input, so a
    400; any other database error is the server's."""
    orig = exc.orig
    sqlstate = getattr(orig, "pgcode", None) or getattr(getattr(orig, "__cause__", None), "sqlstate", None)
    if sqlstate not in UNSTORABLE_TEXT:
        return server_error_handler(request, exc)
    detail = i18n.gettext("The request contains characters that cannot be stored.")
    if not is_api(request):
        return render_error(request, 400, detail)
    return Response({"status_code": 400, "detail": detail, "errors": [{"field": "", "message": detail}]}, status_code=400)


def too_deep_handler(request: Request, exc: RecursionError) -> Response:
    """msgspec refuses JSON nested past its recursion limit with a RecursionError while decoding the
    body: the client's input, so a 400 on the body; any other RecursionError is the server's."""
    if "deserializ" not in str(exc):
        return server_error_handler(request, exc)
    detail = i18n.gettext("The body is nested too deeply.")
    if not is_api(request):
        return render_error(request, 400, detail)
    return Response({"status_code": 400, "detail": detail, "errors": [{"field": "body", "message": detail}]}, status_code=400)


def search_unavailable_handler(request: Request, exc: SearchUnavailable) -> Response:
    """Meilisearch did not answer: 503 with Retry-After (a page for people)."""
    if not is_api(request):
        return render_error(request, 503, i18n.http_status_text(503, "Service Unavailable"))
    return unavailable_response()


# An overloaded process's answer: come back in a few seconds.
BUSY_RETRY_AFTER_SECONDS = 5


def busy_handler(request: Request, exc: PoolTimeout) -> Response:
    """Every database connection of this process stayed taken for DB_POOL_TIMEOUT_SECONDS: the
    process is overloaded, not broken, so 503 with Retry-After (a page for people)."""
    detail = i18n.gettext("The service is busy. Please try again in a few seconds.")
    headers = {"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)}
    if not is_api(request):
        page = render_error(request, 503, detail)
        page.headers.update(headers)
        return page
    return Response({"status_code": 503, "detail": detail, "errors": []}, status_code=503, headers=headers)


def server_error_handler(request: Request, exc: Exception) -> Response:
    """Anything unexpected: logged with its stack by Litestar; people get a page, programs JSON."""
    detail = i18n.http_status_text(500, "Internal Server Error")
    if not is_api(request):
        return render_error(request, 500, detail)
    return Response({"status_code": 500, "detail": detail, "errors": []}, status_code=500)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ValidationException: validation_error_handler,
    DomainError: domain_error_handler,
    HTTPException: http_error_handler,
    DBAPIError: unstorable_text_handler,
    PoolTimeout: busy_handler,
    SearchUnavailable: search_unavailable_handler,
    RecursionError: too_deep_handler,
    Exception: server_error_handler,
}
