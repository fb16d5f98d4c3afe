"""Server-side sessions of the pages: a random token in an HttpOnly cookie, the session a row in
PostgreSQL (web_sessions) that the server can end.

Handlers keep using Litestar's `request.session` dict; the middleware here fills it from the row, and
`save_session` (a before_send hook, after the request's transaction) writes it back:
- a session whose user or organization changes (sign-in, organization switch) gets a new token, so a
  token known before sign-in is worth nothing after it; at a change of user it gets a new CSRF token too;
- an emptied session (sign-out) ends its row;
- a row idle longer than SESSION_IDLE_MINUTES or older than SESSION_ABSOLUTE_HOURS is not opened.

A session once read is kept in the process's page store (page_cache.py) for up to a minute, until it
would expire or until any session's row is written anywhere (page_cache_events.py), so a signed-in
page kept for it is given without the database.

The CSRF token is the session's: the middleware puts it in the request's `csrftoken` cookie before
Litestar's CSRF middleware compares it with the form's, so a form token is good for its own session only
and a planted cookie changes nothing. Anonymous visitors without a session keep Litestar's own
double-submit cookie (the sign-in form).

The API never reaches this: it authenticates by bearer token alone.
"""

from __future__ import annotations

import copy
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.csrf import generate_csrf_token
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from marketplace import page_cache
from marketplace.accounts import oidc
from marketplace.accounts.models import WebSession
from marketplace.accounts.passwords import digest
from marketplace.config import Settings
from marketplace.db import rowcount, utcnow

SESSION_COOKIE = "session"
# Litestar's CSRFConfig default cookie name.
CSRF_COOKIE = "csrftoken"
# Where no page is served: the API (bearer tokens), files, health and the OpenAPI document.
WITHOUT_SESSION = ("/api/", "/oauth/", "/static/", "/assets/", "/health", "/ready", "/metrics", "/schema")
# The scope key under which a request's open session is found (Principal.session_id).
SCOPE_KEY = "marketplace.session"
# last_seen_at is written at most this often, so reading pages does not write a row each time.
SEEN_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class OpenSession:
    id: uuid.UUID
    user_id: uuid.UUID | None
    data: dict[str, Any]
    csrf_token: str
    # Until when it may be used without reading its row again: its idle and absolute limits, and
    # SEEN_RESOLUTION, after which its last use is written again.
    kept_until: datetime


def _identity(data: dict[str, Any]) -> tuple[Any, Any]:
    return data.get("user_id"), data.get("org_id")


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


# ----- the rows ---------------------------------------------------------------------------------


async def open_session(db: AsyncConnection, token: str, settings: Settings) -> OpenSession | None:
    """The live session of a cookie's token, or None (unknown, ended, idle or too old). Every page
    asks this first, so it reads the columns on a plain connection, without an ORM session."""
    now = utcnow()
    row = (
        await db.execute(
            select(
                WebSession.id,
                WebSession.user_id,
                WebSession.data,
                WebSession.csrf_token,
                WebSession.last_seen_at,
                WebSession.created_at,
            ).where(
                WebSession.token_hash == digest(token),
                WebSession.ended_at.is_(None),
                WebSession.last_seen_at > now - timedelta(minutes=settings.session_idle_minutes),
                WebSession.created_at > now - timedelta(hours=settings.session_absolute_hours),
            )
        )
    ).first()
    if row is None:
        return None
    seen = row.last_seen_at
    if seen < now - SEEN_RESOLUTION:
        await db.execute(update(WebSession).where(WebSession.id == row.id).values(last_seen_at=now))
        seen = now
    kept_until = min(
        seen + SEEN_RESOLUTION,
        seen + timedelta(minutes=settings.session_idle_minutes),
        row.created_at + timedelta(hours=settings.session_absolute_hours),
    )
    return OpenSession(row.id, row.user_id, dict(row.data), row.csrf_token, kept_until)


async def start_session(db: AsyncSession, data: dict[str, Any], csrf_token: str) -> str:
    """A new session holding `data`; its token (only the token's digest is kept)."""
    token = secrets.token_urlsafe(32)
    user_id, org_id = _identity(data)
    db.add(
        WebSession(
            token_hash=digest(token),
            user_id=_uuid_or_none(user_id),
            organization_id=_uuid_or_none(org_id),
            data=data,
            csrf_token=csrf_token,
        )
    )
    await db.flush()
    return token


async def end_sessions(
    db: AsyncSession,
    *,
    session_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    keep: uuid.UUID | None = None,
) -> int:
    """End one session, or every open session of a user (acting for one organization, if given),
    except `keep`; how many ended."""
    if session_id is None and user_id is None:
        raise ValueError("end_sessions needs a session or a user")
    stmt = update(WebSession).where(WebSession.ended_at.is_(None)).values(ended_at=utcnow())
    if session_id is not None:
        stmt = stmt.where(WebSession.id == session_id)
    if user_id is not None:
        stmt = stmt.where(WebSession.user_id == user_id)
    if organization_id is not None:
        stmt = stmt.where(WebSession.organization_id == organization_id)
    if keep is not None:
        stmt = stmt.where(WebSession.id != keep)
    return rowcount(await db.execute(stmt))


async def open_sessions_of(db: AsyncSession, user_id: uuid.UUID, settings: Settings) -> list[WebSession]:
    """A user's live sessions, the most recently used first."""
    now = utcnow()
    rows = await db.scalars(
        select(WebSession)
        .where(
            WebSession.user_id == user_id,
            WebSession.ended_at.is_(None),
            WebSession.last_seen_at > now - timedelta(minutes=settings.session_idle_minutes),
            WebSession.created_at > now - timedelta(hours=settings.session_absolute_hours),
        )
        .order_by(WebSession.last_seen_at.desc())
    )
    return list(rows)


async def purge_sessions(db: AsyncSession, settings: Settings) -> int:
    """Delete sessions ended or expired more than a day ago (the audit trail keeps sign-ins and -outs)."""
    before = utcnow() - timedelta(days=1)
    stale = or_(
        WebSession.ended_at < before,
        WebSession.last_seen_at < before - timedelta(minutes=settings.session_idle_minutes),
        WebSession.created_at < before - timedelta(hours=settings.session_absolute_hours),
    )
    return rowcount(await db.execute(delete(WebSession).where(stale)))


async def purge_job(settings: Settings, sessionmaker) -> None:
    """Hourly housekeeping of sign-ins: old page sessions and single sign-ons never finished."""
    async with sessionmaker() as db, db.begin():
        await purge_sessions(db, settings)
        await oidc.purge_sign_in_states(db)


def current_session_id(scope: Scope) -> uuid.UUID | None:
    request: _Request | None = cast("dict[str, Any]", scope).get(SCOPE_KEY)
    return request.opened.id if request and request.opened else None


# ----- the middleware ---------------------------------------------------------------------------


def _cookies(scope: Scope) -> dict[str, str]:
    # Read from the raw headers: Headers.from_scope would cache them before _with_csrf_cookie changes them.
    header = "; ".join(v.decode("latin-1") for k, v in scope["headers"] if k == b"cookie")
    cookies = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            cookies[name] = value
    return cookies


def _with_csrf_cookie(scope: Scope, csrf_token: str) -> None:
    """Make the session's CSRF token the one Litestar's CSRF middleware compares the form's with."""
    cookies = {**_cookies(scope), CSRF_COOKIE: csrf_token}
    header = "; ".join(f"{name}={value}" for name, value in cookies.items()).encode("latin-1")
    scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"cookie"] + [(b"cookie", header)]


def session_middleware(app: ASGIApp) -> ASGIApp:
    """Opens the request's session (and puts its CSRF token in the request's cookie)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(WITHOUT_SESSION):
            await app(scope, receive, send)
            return
        state = scope["app"].state
        token = _cookies(scope).get(SESSION_COOKIE)
        opened = await _live_session(state, token) if token else None
        scope[SCOPE_KEY] = _Request(opened, had_cookie=bool(token))  # type: ignore[literal-required]
        # A copy all the way down: the session read may be the one kept for the next requests.
        scope["session"] = copy.deepcopy(opened.data) if opened else {}
        if opened:
            _with_csrf_cookie(scope, opened.csrf_token)
        await app(scope, receive, send)

    return middleware


async def _live_session(state: Any, token: str) -> OpenSession | None:
    """The token's live session: kept in this process, else read (and then kept)."""
    store, key = page_cache.STORE, digest(token)
    kept: OpenSession | None = store.session(key)
    if kept is not None and utcnow() < kept.kept_until:
        return kept
    generation = store.session_generation
    async with state.engine.begin() as connection:
        opened = await open_session(connection, token, state.settings)
    if opened is not None:
        store.keep_session(key, opened, generation)
    return opened


async def save_session(message: Message, scope: Scope) -> None:
    """before_send hook, after the request's own transaction has committed (finish_db_session): writes
    the session back, so it never waits on a row that transaction changed (sign out everywhere)."""
    request: _Request | None = cast("dict[str, Any]", scope).get(SCOPE_KEY)
    if message["type"] != "http.response.start" or request is None:
        return
    state = scope["app"].state
    headers = MutableScopeHeaders.from_message(message)
    for cookie in await _settle(scope, request.opened, request.had_cookie, state.settings, state.sessionmaker):
        headers.add("Set-Cookie", cookie.to_header(header=""))


@dataclass(frozen=True)
class _Request:
    opened: OpenSession | None
    had_cookie: bool


def _cookie(settings: Settings, key: str, value: str, max_age: int) -> Cookie:
    return Cookie(key=key, value=value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=settings.https)


async def _settle(scope: Scope, opened: OpenSession | None, had_cookie: bool, settings: Settings, sessionmaker) -> list[Cookie]:
    """Write the request's session back; the cookies that say so."""
    data = scope.get("session")
    lifetime = settings.session_absolute_hours * 3600
    if not isinstance(data, dict) or not data:  # Empty after clear_session()
        if opened:
            async with sessionmaker() as db, db.begin():
                await end_sessions(db, session_id=opened.id)
        return [_cookie(settings, SESSION_COOKIE, "", 0)] if had_cookie else []
    data = dict(data)
    if opened and _identity(data) == _identity(opened.data):
        if data != opened.data:
            async with sessionmaker() as db, db.begin():
                await db.execute(update(WebSession).where(WebSession.id == opened.id).values(data=data))
        return []
    # A new session, or the user or organization changed: a new token; for a new user a new CSRF token.
    csrf_token = generate_csrf_token(settings.resolved_secret_key())
    if opened is not None and opened.user_id is not None and str(opened.user_id) == str(data.get("user_id")):
        csrf_token = opened.csrf_token
    async with sessionmaker() as db, db.begin():
        if opened:
            await end_sessions(db, session_id=opened.id)
        token = await start_session(db, data, csrf_token)
    return [_cookie(settings, SESSION_COOKIE, token, lifetime), _cookie(settings, CSRF_COOKIE, csrf_token, lifetime)]
