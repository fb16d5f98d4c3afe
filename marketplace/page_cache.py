"""Caches of whole pages, with ETags answered by 304 for visitors.

A page handler opts in with `cache_page`; two middlewares then keep the answer and serve the next
request for the same page without reaching the handler:

- for visitors not signed in (`page_cache_middleware`, before the session, the locale and Litestar's
  CSRF middleware): one page for every visitor, without a session or the database. Only GET, without
  a session cookie and without an Authorization header; only a 200 that sets no cookie but Litestar's
  CSRF cookie; the visitor's CSRF token in the page is kept as a placeholder and each visitor gets
  their own back. The ETag is the page's digest and the visitor's token's, weak because the bytes
  differ by the token; `Cache-Control: private, no-cache` keeps shared caches out and makes browsers
  ask each time.
- for a signed-in session (`member_page_cache_middleware`, after the session middleware has found the
  session live): that session's own pages, keyed by its cookie, its CSRF token and its data (a flash
  message is part of the key), so a page is never given to anyone else, nor after sign-out. A page
  whose handler changed the session is not kept. These stay `no-store` in the browser, without ETag.
- the key holds the path, the query, the language and the htmx headers the page varies on;
- the entries belong to generations: page_cache_events.py starts a new one for every page whenever
  what the visitors' pages show changes, and a new one for the signed-in pages whenever anything a
  member might see changes (in this process at once, in the other worker processes through
  PostgreSQL's NOTIFY); entries also expire after PAGE_CACHE_SECONDS (freshness badges age with time).

The store also keeps the live sessions the signed-in pages are given to (accounts/sessions.py reads a
session's row at most once a SESSION_SECONDS per process), so a kept page needs no database at all.
They are forgotten whenever a session's row is written (sign-in, sign-out, sign out everywhere, a
flash message): a session ended in any process is never served again from memory. And it keeps who
each signed-in user is (accounts/api.provide_principal: their memberships, their unread notices) with
the signed-in pages' generation, so a page not kept does not read them again either.

Last, it keeps Meilisearch's answers to the multi-searches the app sends (search/engine.py), by the
request's bytes, with every page's generation: a search not kept as a page (a signed-in one, the
API's) does not ask Meilisearch again while the listings stay as they are. The engine forgets them
itself after each of its own writes to an index. An answer forgotten so is only marked out of date:
the search page and the API may still be given it for SEARCH_STALE_SECONDS while the engine asks
Meilisearch again in the background (stale-while-revalidate); everything else asks at once.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
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
# Each kind of page (visitors', members') is held to this many bytes per process, however many
# different queries arrive; a page larger than MAX_PAGE_BYTES is never kept.
MAX_BYTES = 64 * 2**20
MAX_PAGE_BYTES = 2**20
# Live sessions kept per process, and for how long at most before their row is read again (the
# session middleware also writes the session's last use then: accounts/sessions.SEEN_RESOLUTION).
MAX_SESSIONS = 100_000
SESSION_SECONDS = 60

OnHit = Callable[[Any], Awaitable[None]]  # given the app's state


@dataclass(frozen=True)
class CachedPage:
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes  # with PLACEHOLDER where the visitor's CSRF token goes
    digest: str
    on_hit: OnHit | None


@dataclass
class KeptAnswer:
    answer: Any
    size: int  # its bytes
    out_of_date_since: float | None = None  # time.monotonic() of the first index change since it was asked


class PageStore:
    """The process's pages by key: the visitors' and the signed-in sessions', each with the
    generation they belong to."""

    def __init__(self, seconds: float) -> None:
        self.enabled = seconds > 0
        ttl = max(seconds, 1)
        self._pages = {
            members: TTLCache(maxsize=MAX_BYTES, ttl=ttl, getsizeof=lambda page: len(page.body)) for members in (False, True)
        }
        self._sessions: TTLCache = TTLCache(maxsize=MAX_SESSIONS, ttl=SESSION_SECONDS)
        self._principals: TTLCache = TTLCache(maxsize=MAX_SESSIONS, ttl=SESSION_SECONDS)
        self._answers: TTLCache = TTLCache(maxsize=MAX_BYTES, ttl=ttl, getsizeof=lambda kept: kept.size)
        self._lock = threading.Lock()  # tests arrange data from another thread than the app's
        self.generation = 0  # of every page
        self.member_generation = 0  # of the signed-in pages: moves with `generation` and on its own
        self.session_generation = 0  # of the kept sessions
        self.answer_generation = 0  # of the search answers: moves with `generation` and on the engine's writes
        # Listener connections up in this process (page_cache_events): each invalidates the whole
        # store, so one is enough. Several when several apps share the process (tests).
        self.listeners = 0

    @property
    def listening(self) -> bool:
        """Pages are kept only while this process hears the others' changes."""
        return self.listeners > 0

    def generation_of(self, members: bool) -> int:
        return self.member_generation if members else self.generation

    def get(self, key: tuple, *, members: bool = False) -> CachedPage | None:
        if not (self.enabled and self.listening):
            return None
        with self._lock:
            return self._pages[members].get(key)

    def put(self, key: tuple, page: CachedPage, generation: int, *, members: bool = False) -> None:
        """Kept only if nothing changed since the page was read (else it may show the old state)."""
        with self._lock:
            if self.enabled and self.listening and generation == self.generation_of(members) and len(page.body) <= MAX_PAGE_BYTES:
                self._pages[members][key] = page

    def invalidate(self) -> None:
        with self._lock:
            self.generation += 1
            self.member_generation += 1
            for pages in self._pages.values():
                pages.clear()
            self._principals.clear()
            self._answers_out_of_date()

    def invalidate_members(self) -> None:
        with self._lock:
            self.member_generation += 1
            self._pages[True].clear()
            self._principals.clear()

    def _read(self, kept: TTLCache, key: Any) -> Any | None:
        if not (self.enabled and self.listening):
            return None
        with self._lock:
            return kept.get(key)

    def _keep(self, kept: TTLCache, key: Any, value: Any, read_in: int, generation: str) -> None:
        """Kept only if `generation` has not moved since the value was read (`read_in`)."""
        with self._lock:
            if self.enabled and self.listening and read_in == getattr(self, generation):
                kept[key] = value

    def session(self, key: str) -> Any | None:
        """A live session kept under `key` (its token's digest), or None."""
        return self._read(self._sessions, key)

    def keep_session(self, key: str, session: Any, generation: int) -> None:
        """Kept only if no session's row was written since it was read."""
        self._keep(self._sessions, key, session, generation, "session_generation")

    def principal(self, key: tuple) -> Any | None:
        """Who a signed-in user is, acting for an organization (key: their ids), or None."""
        return self._read(self._principals, key)

    def keep_principal(self, key: tuple, principal: Any, generation: int) -> None:
        """Kept only if nothing a member might see changed since it was read."""
        self._keep(self._principals, key, principal, generation, "member_generation")

    def answer(self, key: bytes, out_of_date_for: float = 0) -> tuple[Any, bool] | None:
        """Meilisearch's answer kept for a request (key: the request's digest) and whether it is
        current; one out of date for at most `out_of_date_for` seconds is given too. Else None."""
        kept: KeptAnswer | None = self._read(self._answers, key)
        if kept is None:
            return None
        if kept.out_of_date_since is None:
            return kept.answer, True
        if time.monotonic() - kept.out_of_date_since <= out_of_date_for:
            return kept.answer, False
        return None

    def keep_answer(self, key: bytes, answer: Any, size: int, generation: int) -> None:
        """Kept only if no index was written since it was asked (`size`: its bytes)."""
        if size <= MAX_PAGE_BYTES:
            self._keep(self._answers, key, KeptAnswer(answer, size), generation, "answer_generation")

    def forget_answers(self) -> None:
        with self._lock:
            self._answers_out_of_date()

    def _answers_out_of_date(self) -> None:
        # Marked, not dropped: the search page may give one while it is asked again (search/engine.py).
        self.answer_generation += 1
        now = time.monotonic()
        with self._answers.timer:  # its clock stands still: nothing expires while it is walked
            for kept in self._answers.values():
                if kept.out_of_date_since is None:
                    kept.out_of_date_since = now

    def forget_sessions(self) -> None:
        with self._lock:
            self.session_generation += 1
            self._sessions.clear()

    def __len__(self) -> int:
        return sum(len(pages) for pages in self._pages.values())

    def count(self, *, members: bool) -> int:
        return len(self._pages[members])


# One store per process: every app built in it shares it, as they share its database's changes.
STORE = PageStore(0)


def configure(seconds: float) -> PageStore:
    global STORE
    if STORE.enabled != (seconds > 0) or STORE._pages[False].ttl != max(seconds, 1):
        STORE = PageStore(seconds)
    return STORE


def invalidate() -> None:
    """What the visitors' pages show changed: every kept page is dropped (page_cache_events calls this)."""
    STORE.invalidate()


def invalidate_members() -> None:
    """Something only signed-in pages may show changed: those are dropped."""
    STORE.invalidate_members()


def forget_answers() -> None:
    """An index was written: the search answers kept in this process are out of date."""
    STORE.forget_answers()


def forget_sessions() -> None:
    """A session's row was written: every kept session is read again from the database."""
    STORE.forget_sessions()


def cache_page(scope: Scope, on_hit: OnHit | None = None) -> None:
    """A page handler's consent: this answer may be given again — to the next visitor not signed in,
    or to the same signed-in session — until what it shows changes; `on_hit` is what each later visit
    must still do (count the view). Only for a page that shows nothing but rows the ORM writes."""
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


def _page_key(scope: Scope, headers: Headers, cookies: dict[str, str]) -> tuple:
    locale = i18n.pick_locale(cookies.get(i18n.LANG_COOKIE), headers.get("accept-language"))
    return (scope["path"], scope["query_string"], locale, *(headers.get(name) for name in VARY_ON))


def _well_formed(token: Any) -> str | None:
    return token if isinstance(token, str) and WELL_FORMED_TOKEN.fullmatch(token) else None


def page_cache_middleware(app: ASGIApp) -> ASGIApp:
    """Visitors' pages: before the session."""

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
        key = _page_key(scope, headers, cookies)
        token = _well_formed(cookies.get(CSRF_COOKIE))
        page = store.get(key)
        if page is not None:
            if page.on_hit is not None:
                await page.on_hit(scope["app"].state)
            await _send_page(scope, send, page, token, headers.get("if-none-match"))
            return
        await _render_and_keep(app, scope, receive, send, store, key, headers.get("if-none-match"))

    return middleware


def _fingerprint(session: Any) -> str:
    return json.dumps(session, sort_keys=True, default=str)


def member_page_cache_middleware(app: ASGIApp) -> ASGIApp:
    """Signed-in pages, per session: after the session middleware, which has found the session live
    (else `scope["session"]` is empty) and put the session's CSRF token in the request's cookie."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        store = STORE
        out: Any = send  # the messages here are built as plain dicts
        session = scope.get("session")
        if scope["type"] != "http" or scope.get("method") != "GET" or not store.enabled or not session:
            await app(scope, receive, send)
            return
        headers = Headers.from_scope(scope)
        cookies = _cookies(headers)
        token = _well_formed(cookies.get(CSRF_COOKIE))
        if token is None or "authorization" in headers:
            await app(scope, receive, send)
            return
        fingerprint = _fingerprint(session)
        key = (cookies.get(SESSION_COOKIE), token, fingerprint, *_page_key(scope, headers, cookies))
        page = store.get(key, members=True)
        if page is not None:
            if page.on_hit is not None:
                await page.on_hit(scope["app"].state)
            await _send_kept(out, page, token)  # no validators: these stay no-store in the browser
            return
        generation = store.member_generation

        async def keep(start: dict, body: bytes) -> None:
            # Not kept: a page that set a cookie or changed the session (a flash message shown).
            if not _cookie_set(start) and _fingerprint(scope.get("session") or {}) == fingerprint:
                store.put(key, _cached(scope, start, body, token), generation, members=True)
            await out(start)
            await out({"type": "http.response.body", "body": body})

        await _capture(app, scope, receive, send, keep)

    return middleware


def _length(body: bytes) -> tuple[bytes, bytes]:
    return (b"content-length", str(len(body)).encode())


def _cookie_set(start: dict) -> bool:
    return any(name.lower() == b"set-cookie" for name, _value in start.get("headers", []))


def _cached(scope: Scope, start: dict, body: bytes, token: str) -> CachedPage:
    kept = tuple((name, value) for name, value in start.get("headers", []) if name.lower() not in NOT_KEPT)
    template = body.replace(token.encode(), PLACEHOLDER)
    on_hit = scope.get(SCOPE_KEY)
    return CachedPage(kept, template, hashlib.blake2b(template, digest_size=10).hexdigest(), on_hit if callable(on_hit) else None)


async def _capture(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, keep: Callable[[dict, bytes], Awaitable[None]]
) -> None:
    """Run the page; a 200 its handler consented to keep goes to `keep` whole (start and body),
    anything else passes on as it comes."""
    out: Any = send
    start: dict | None = None
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        nonlocal start
        if start is None and message["type"] == "http.response.start":
            if not scope.get(SCOPE_KEY) or message["status"] != 200:
                start = {}  # not a page to keep: passed on as it comes
                await out(message)
                return
            start = dict(message)
            return
        if start == {} or message["type"] != "http.response.body":
            await out(message)
            return
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            await keep(start or {}, b"".join(chunks))

    await app(scope, receive, capture)


async def _render_and_keep(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, store: PageStore, key: tuple, if_none_match: str | None
) -> None:
    generation = store.generation
    out: Any = send  # the messages here are built as plain dicts

    async def keep(start: dict, body: bytes) -> None:
        raw_headers = list(start.get("headers", []))
        set_cookies = [value for name, value in raw_headers if name.lower() == b"set-cookie"]
        token = _well_formed(ScopeState.from_scope(scope).csrf_token)
        if token is None or not all(value.startswith(CSRF_COOKIE.encode() + b"=") for value in set_cookies):
            await out(start)  # answered as it is, never kept nor validated
            await out({"type": "http.response.body", "body": body})
            return
        page = _cached(scope, start, body, token)
        store.put(key, page, generation)
        etag = _etag(page.digest, token)
        extra = [(b"cache-control", CACHE_CONTROL), (b"etag", etag), *((b"set-cookie", value) for value in set_cookies)]
        if _matches(if_none_match, etag):
            await _send_not_modified(send, page.headers, extra)
            return
        await out({**start, "headers": [*page.headers, *extra, _length(body)]})
        await out({"type": "http.response.body", "body": body})

    await _capture(app, scope, receive, send, keep)


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
    await _send_kept(send, page, token, extra)


async def _send_kept(send: Any, page: CachedPage, token: str, extra: list | None = None) -> None:
    """A kept page as a 200, with the asker's CSRF token back in it."""
    structlog.contextvars.bind_contextvars(page="kept")  # on the request's log line
    body = page.body.replace(PLACEHOLDER, token.encode())
    await send({"type": "http.response.start", "status": 200, "headers": [*page.headers, *(extra or []), _length(body)]})
    await send({"type": "http.response.body", "body": body})


async def _send_not_modified(send: Any, kept: tuple | list, extra: list) -> None:
    structlog.contextvars.bind_contextvars(page="not modified")
    # A 304 carries the validators and what the 200 would have said about caching, no body.
    same = [(name, value) for name, value in kept if name.lower() in (b"vary", b"content-language")]
    await send({"type": "http.response.start", "status": 304, "headers": [*same, *extra]})
    await send({"type": "http.response.body", "body": b""})
