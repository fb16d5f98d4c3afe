"""Security headers on every answer: a strict Content-Security-Policy, no framing, no sniffing, a
same-origin referrer, HSTS in production and `Cache-Control: no-store` on everything not static
(but the pages kept for visitors not signed in, which say `private, no-cache`: page_cache.py).

It is a `before_send` hook rather than an entry of the middleware list: Litestar runs that list
only around matched routes, so the router's own 404 and 405 answers would go out without them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from marketplace.config import Settings

# No inline script or style anywhere: templates load /static/app.js and /static/app.css, and htmx is
# configured (htmx-config meta in base.html) not to inject its indicator <style> nor to eval.
STRICT_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# The API documentation pages under /schema are Litestar's renderers (ReDoc, Swagger UI, Elements,
# RapiDoc): third-party code from CDNs with inline script and style. They show only the public API
# description, no user data and no forms of ours, so they get what those renderers need rather than
# being broken; they still cannot be framed. /schema/openapi.json itself is not HTML: strict.
SCHEMA_CDNS = "https://cdn.jsdelivr.net https://unpkg.com https://cdn.redoc.ly"
SCHEMA_UI_POLICY = "; ".join(
    [
        "default-src 'self'",
        f"script-src 'self' 'unsafe-inline' {SCHEMA_CDNS}",
        f"style-src 'self' 'unsafe-inline' {SCHEMA_CDNS} https://fonts.googleapis.com",
        "font-src 'self' data: https://fonts.gstatic.com",
        "img-src 'self' data: https:",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# Files that are the same for everyone and may be cached; every other answer may be personal
# (a signed-in page, a token shown once, an API answer), so it is not stored anywhere.
STATIC_PREFIXES = ("/static/", "/assets/")

HSTS = "max-age=31536000; includeSubDomains"


def _is_schema_page(path: str, content_type: str) -> bool:
    return (path == "/schema" or path.startswith("/schema/")) and content_type.startswith("text/html")


def security_headers(settings: Settings) -> Callable[[Message, Scope], Awaitable[None]]:
    """The hook for `Litestar(before_send=...)`; HSTS only when the app is served over HTTPS."""
    https = settings.https

    async def add_security_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        path = scope.get("path", "")
        schema_page = _is_schema_page(path, headers.get("content-type") or "")
        headers["Content-Security-Policy"] = SCHEMA_UI_POLICY if schema_page else STRICT_POLICY
        headers["X-Frame-Options"] = "DENY"  # frame-ancestors for browsers that predate it
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        if https:
            headers["Strict-Transport-Security"] = HSTS
        if not path.startswith(STATIC_PREFIXES) and "cache-control" not in headers:
            headers["Cache-Control"] = "no-store"

    return add_security_headers
