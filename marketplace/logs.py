"""Structured logs: one line per event, JSON in production (LOG_FORMAT=json) and readable in
development, every line of a request carrying its request id.

The standard library's loggers (ours, Litestar's, uvicorn's) all go through structlog's formatter,
so a module keeps using `logging.getLogger(__name__)` and still gets the request id and the JSON."""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from typing import IO, Literal

import structlog
import structlog.typing
from litestar.types import ASGIApp, Message, Receive, Scope, Send

LogFormat = Literal["console", "json"]
REQUEST_ID_HEADER = "x-request-id"
# A caller's (or a proxy's) id is kept when it looks like one, so a trace crosses systems; anything
# else (control characters, megabytes) is replaced rather than written into the logs.
_GOOD_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
access_log = logging.getLogger("marketplace.access")
# Bound by the request's code for its access line: a page given from the cache (page_cache.py), where
# a search's answer came from and Meilisearch's round trip (search/engine.py).
ACCESS_DETAILS = ("page", "search_answer", "search_ms")


def configure_logging(log_format: LogFormat = "console", level: int = logging.INFO, stream: IO[str] | None = None) -> None:
    """Route every logger through structlog's formatter on stderr (once per process)."""
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer = structlog.processors.JSONRenderer(ensure_ascii=False) if log_format == "json" else structlog.dev.ConsoleRenderer()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def current_request_id() -> str | None:
    """The id of the request this code runs for (None outside one): jobs it queues carry it on."""
    return structlog.contextvars.get_contextvars().get("request_id")


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Give each HTTP request an id (the caller's X-Request-ID when well-formed), bind it to every log
    line of the request, answer it in X-Request-ID, and log the request once when it is answered."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == REQUEST_ID_HEADER.encode()), "")
        request_id = given if _GOOD_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER.encode(), request_id.encode())]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await app(scope, receive, send_with_id)
            finally:
                route = scope.get("path_template", scope["path"])
                access_log.info(
                    "%s %s %s",
                    scope.get("method", ""),
                    scope["path"],
                    status,
                    extra={"route": route, "status": status, "ms": round((time.perf_counter() - started) * 1000, 1)},
                )
                # What the request's code added for this line (page_cache.py, search/engine.py) ends with it.
                structlog.contextvars.unbind_contextvars(*ACCESS_DETAILS)

    return middleware
