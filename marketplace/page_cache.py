"""A cache of whole pages for visitors who are not signed in, with ETags answered by 304.

A page handler opts in with `cache_for_visitors` (only for an anonymous principal); this middleware,
which runs before the session, the locale and Litestar's CSRF middleware, then keeps the answer and
serves the next request for the same page without reaching the handler, the session or the
database. What makes a page reusable across visitors, and what does not:

- only GET, without a session cookie and without an Authorization header (a signed-in page, or a
  visitor whose session may hold a flash message, always goes the whole way and stays `no-store`);
- only a 200 that sets no cookie but Litestar's CSRF cookie; the visitor's CSRF token in the page
  (the language switch's form) is kept as a placeholder and each visitor gets their own back;
- the key holds the path, the query, the language and the htmx headers the page varies on;
- the entries belong to a generation: page_cache_events.py starts a new one whenever what these
  pages show changes (in this process at once, in the other worker processes through PostgreSQL's
  NOTIFY), and entries also expire after PAGE_CACHE_SECONDS (freshness badges age with time).

The ETag is the page's digest and the visitor's CSRF token's, weak because the bytes differ by the
token; `Cache-Control: private, no-cache` keeps shared caches out and makes browsers ask each time.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache
from litestar.datastructures import Headers
from litestar.middleware.csrf import CSRFMiddleware, generate_csrf_token
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from marketplace import i18n

SESSION_COOKIE = "session"  # accounts/sessions.py
CSRF_COOKIE = "csrftoken"
# Where a page handler leaves its consent (and what a cached answer must still do on each visit).
SCOPE_KEY = "marketplace.page_cache"
# Litestar's tokens: 32 random bytes and their HMAC, in hex. Anything else is never echoed back.
WELL_FORMED_TOKEN = re.compile(r"[0-9a-f]{128}")
PLACEHOLDER = b"\x00csrf-token\x00"  # cannot occur in a page: NULs are refused everywhere
# The request headers a page's bytes depend on, beside the language.
VARY_ON = ("hx-request", "hx-history-restore-request")
# Response headers never kept: per request or per visitor.
NOT_KEPT = {b"set-cookie", b"content-length", b"etag", b"cache-control", b"x-request-id"}
CACHE_CONTROL = b"private, no-cache"
MAX_PAGES = 2000

OnHit = Callable[[Any], Awaitable[None]]  # given the app's state


@dataclass(frozen=True)
class CachedPage:
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes  # with PLACEHOLDER where the visitor's CSRF token goes
    digest: str
    on_hit: OnHit | None


class PageStore:
    """The process's pages by key, and the generation they belong to."""

    def __init__(self, seconds: float) -> None:
        self.enabled = seconds > 0
        self._pages: TTLCache = TTLCache(maxsize=MAX_PAGES, ttl=max(seconds, 1))
        self._lock = threading.Lock()  # tests arrange data from another thread than the app's
        self.generation = 0
        # Listener connections up in this process (page_cache_events): each invalidates the whole
        # store, so one is enough. Several when several apps share the process (tests).
        self.listeners = 0

    @property
    def listening(self) -> bool:
        """Pages are kept only while this process hears the others' changes."""
        return self.listeners > 0

    def get(self, key: tuple) -> CachedPage | None:
        if not (self.enabled and self.listening):
            return None
        with self._lock:
            return self._pages.get(key)

    def put(self, key: tuple, page: CachedPage, generation: int) -> None:
        """Kept only if nothing changed since the page was read (else it may show the old state)."""
        with self._lock:
            if self.enabled and self.listening and generation == self.generation:
                self._pages[key] = page

    def invalidate(self) -> None:
        with self._lock:
            self.generation += 1
            self._pages.clear()

    def __len__(self) -> int:
        return len(self._pages)


# One store per process: every app built in it shares it, as they share its database's changes.
STORE = PageStore(0)


def configure(seconds: float) -> PageStore:
    global STORE
    if STORE.enabled != (seconds > 0) or STORE._pages.ttl != max(seconds, 1):
        STORE = PageStore(seconds)
    return STORE


def invalidate() -> None:
    """What the pages show changed: every kept page is dropped (page_cache_events calls this)."""
    STORE.invalidate()


def cache_for_visitors(scope: Scope, principal: Any, on_hit: OnHit | None = None) -> None:
    """A page handler's consent: this answer, given to a visitor not signed in, may be given to the
    next one; `on_hit` is what each later visit must still do (count the view)."""
    if not principal.is_authenticated:
        scope[SCOPE_KEY] = on_hit or True  # type: ignore[literal-required]


def _cookies(headers: Headers) -> dict[str, str]:
    return dict(part.strip().split("=", 1) for part in headers.get("cookie", "").split(";") if "=" in part)


def _etag(digest: str, token: str) -> bytes:
    return f'W/"{digest}-{hashlib.blake2b(token.encode(), digest_size=6).hexdigest()}"'.encode()


def _matches(if_none_match: str | None, etag: bytes) -> bool:
    if not if_none_match:
        return False
    tags = {tag.strip() for tag in if_none_match.split(",")}
    return "*" in tags or etag.decode() in tags or etag.decode().removeprefix("W/") in tags


def page_cache_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        store = STORE
        if scope["type"] != "http" or scope.get("method") != "GET" or not store.enabled:
            await app(scope, receive, send)
            return
        headers = Headers.from_scope(scope)
        cookies = _cookies(headers)
        if SESSION_COOKIE in cookies or "authorization" in headers:
            await app(scope, receive, send)
            return
        locale = i18n.pick_locale(cookies.get(i18n.LANG_COOKIE), headers.get("accept-language"))
        key = (scope["path"], scope["query_string"], locale, *(headers.get(name) for name in VARY_ON))
        token = cookies.get(CSRF_COOKIE)
        token = token if token and WELL_FORMED_TOKEN.fullmatch(token) else None
        page = store.get(key)
        if page is not None:
            if page.on_hit is not None:
                await page.on_hit(scope["app"].state)
            await _send_page(scope, send, page, token, headers.get("if-none-match"))
            return
        await _render_and_keep(app, scope, receive, send, store, key, headers.get("if-none-match"))

    return middleware


async def _render_and_keep(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, store: PageStore, key: tuple, if_none_match: str | None
) -> None:
    generation = store.generation
    start: dict | None = None
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        nonlocal start
        forward: Any = send
        if start is None and message["type"] == "http.response.start":
            if not scope.get(SCOPE_KEY) or message["status"] != 200:
                start = {}  # not a page to keep: passed on as it comes
                await forward(message)
                return
            start = dict(message)
            return
        if start == {} or message["type"] != "http.response.body":
            await forward(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        await _finish(scope, send, store, key, generation, start or {}, b"".join(chunks), if_none_match)

    await app(scope, receive, capture)


async def _finish(
    scope: Scope,
    send: Any,
    store: PageStore,
    key: tuple,
    generation: int,
    start: dict,
    body: bytes,
    if_none_match: str | None,
) -> None:
    raw_headers = list(start.get("headers", []))
    set_cookies = [value for name, value in raw_headers if name.lower() == b"set-cookie"]
    used = ScopeState.from_scope(scope).csrf_token
    token = used if isinstance(used, str) and WELL_FORMED_TOKEN.fullmatch(used) else ""
    keepable = bool(token) and all(value.startswith(CSRF_COOKIE.encode() + b"=") for value in set_cookies)
    if not keepable:  # answered as it is, never kept nor validated
        await send(start)
        await send({"type": "http.response.body", "body": body})
        return
    kept = tuple((name, value) for name, value in raw_headers if name.lower() not in NOT_KEPT)
    template = body.replace(token.encode(), PLACEHOLDER)
    digest = hashlib.blake2b(template, digest_size=10).hexdigest()
    on_hit = scope.get(SCOPE_KEY)
    store.put(key, CachedPage(kept, template, digest, on_hit if callable(on_hit) else None), generation)
    etag = _etag(digest, token)
    extra = [(b"cache-control", CACHE_CONTROL), (b"etag", etag), *((b"set-cookie", value) for value in set_cookies)]
    if _matches(if_none_match, etag):
        await _send_not_modified(send, kept, extra)
        return
    headers = [*kept, *extra, (b"content-length", str(len(body)).encode())]
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send_page(scope: Scope, send: Any, page: CachedPage, token: str | None, if_none_match: str | None) -> None:
    extra = [(b"cache-control", CACHE_CONTROL)]
    if token is None:  # a visitor without the cookie gets one, set by Litestar's CSRF middleware's own code
        config = scope["app"].csrf_config
        assert config is not None  # the app's pages all have CSRF protection
        token = generate_csrf_token(secret=config.secret)
        send = CSRFMiddleware(scope["app"], config).create_send_wrapper(send, token, csrf_cookie=None)
    etag = _etag(page.digest, token)
    extra.append((b"etag", etag))
    if _matches(if_none_match, etag):
        await _send_not_modified(send, page.headers, extra)
        return
    body = page.body.replace(PLACEHOLDER, token.encode())
    headers = [*page.headers, *extra, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send_not_modified(send: Any, kept: tuple | list, extra: list) -> None:
    # A 304 carries the validators and what the 200 would have said about caching, no body.
    same = [(name, value) for name, value in kept if name.lower() in (b"vary", b"content-language")]
    await send({"type": "http.response.start", "status": 304, "headers": [*same, *extra]})
    await send({"type": "http.response.body", "body": b""})
