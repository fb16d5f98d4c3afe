"""When the pages kept by page_cache.py must be dropped.

- Every page, when a transaction changes what the visitors' pages show — a listing and its areas,
  inventors and IP, an organization's public profile, the therapeutic areas — or the search index
  changes (the outbox: a row written when a listing changes, marked processed once Meilisearch has
  applied it).
- The signed-in pages, when a transaction writes anything else through the ORM (a match request, a
  notification, a membership…): a member's page may show any of it. Not for the views of a listing
  (shown only on its owners' pages, which are not kept), nor for a session's row, which no page shows.
- The kept sessions (not the pages), when a session's row is written through the ORM: started,
  ended, its data changed. (Its last use, written on a plain connection once a minute, is not a
  change: the process that wrote it reads the row afresh anyway.)

Such a transaction says `NOTIFY page_cache` (with the payload `members` for the signed-in pages
alone, `sessions` for the sessions), once per payload, which PostgreSQL delivers on commit only (never for a rollback, nor for a savepoint
rolled back) to every worker process's listener; the process that committed drops its pages at
once, without waiting for its own notification. A process whose listener connection is down keeps
no pages until it listens again, as it could miss another's changes meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from typing import Any

import asyncpg
from sqlalchemy import Delete, Insert, Update, event, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from marketplace import metrics, page_cache
from marketplace.db import libpq_dsn

log = logging.getLogger(__name__)

CHANNEL = "page_cache"
# What the visitors' pages show. Not the view counters, shortlists or grants: no visitor sees them.
WATCHED_TABLES = frozenset(
    {
        "listings",
        "listing_areas",
        "listing_inventors",
        "ip_assets",
        "organizations",
        "organization_logos",
        "therapeutic_areas",
        "outbox",  # the search index: a change queued, then applied
    }
)
# Rows page views write, which no kept page shows: not a change to announce.
NOT_SHOWN_ON_KEPT_PAGES = frozenset({"listing_view_days"})
SESSIONS_TABLE = "web_sessions"
EVERY_PAGE, MEMBERS_ONLY, SESSIONS = "", "members", "sessions"  # the NOTIFY's payloads
_CHANGED = "page_cache.changed"  # Session.info: {payload: the (nested) transaction that sent it}
_DIRTY = "page_cache.dirty"  # Session.info: the payloads of the rows a flush is about to update
RECONNECT_SECONDS = 2.0
PROBE_SECONDS = 15.0


def _reach(table: str | None) -> str | None:
    """Which pages a write to `table` may change."""
    if table in WATCHED_TABLES:
        return EVERY_PAGE
    if table == SESSIONS_TABLE:
        return SESSIONS
    if table is None or table in NOT_SHOWN_ON_KEPT_PAGES:
        return None
    return MEMBERS_ONLY


def _notify(session: Session, reach: str) -> None:
    # NOTIFY is transactional: the other processes hear it only if this transaction commits. Once
    # per transaction is enough; every page's covers the members'.
    current = session.get_nested_transaction() or session.get_transaction()
    sent = {reach: by for reach, by in session.info.get(_CHANGED, {}).items() if _within(current, by)}
    if reach in sent or (reach == MEMBERS_ONLY and EVERY_PAGE in sent):
        return
    session.connection().execute(text("select pg_notify(:channel, :reach)"), {"channel": CHANNEL, "reach": reach})
    session.info[_CHANGED] = {**sent, reach: current}


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction | None) -> bool:
    """`transaction` is `ancestor` or nested in it: a NOTIFY sent by `ancestor` still stands there (a
    mark left by a transaction that ended some other way than commit or rollback does not)."""
    while transaction is not None and transaction is not ancestor:
        transaction = transaction.parent
    return transaction is not None


async def announce_change(session: AsyncSession) -> None:
    """For a change the listeners cannot see (a search index rebuilt outside the outbox): every kept
    page is dropped when this session's transaction commits, in every process."""
    await session.run_sync(_notify, EVERY_PAGE)


def _table(instance: Any) -> str | None:
    return getattr(type(instance), "__tablename__", None)


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    # An attribute set to an SQL expression (read_at = now()) is expired by the flush: after it,
    # is_modified no longer sees the change.
    session.info[_DIRTY] = {_reach(_table(instance)) for instance in session.dirty if session.is_modified(instance)}


def _after_flush(session: Session, _context: Any) -> None:
    reaches = session.info.pop(_DIRTY, set())
    for instance in (*session.new, *session.dirty, *session.deleted):
        if instance in session.new or instance in session.deleted or session.is_modified(instance):
            reaches.add(_reach(_table(instance)))
    for reach in sorted(reaches - {None}):  # every page's first: it covers the members'
        _notify(session, reach)


def _before_statement(state: ORMExecuteState) -> None:
    statement = state.statement
    if isinstance(statement, Insert | Update | Delete):
        reach = _reach(statement.table.name)  # type: ignore[union-attr]
        if reach is not None:
            _notify(state.session, reach)


def _after_commit(session: Session) -> None:
    for reach in session.info.pop(_CHANGED, {}):
        _heard(None, 0, CHANNEL, reach)


def _after_rollback(session: Session, rolled_back: SessionTransaction) -> None:
    # PostgreSQL drops the notifications of what was rolled back: a savepoint's, or the whole
    # transaction's. Those sent before the savepoint still stand.
    sent = session.info.get(_CHANGED, {})
    session.info[_CHANGED] = {reach: by for reach, by in sent.items() if not _within(by, rolled_back)}


def install_page_cache_listeners() -> None:
    """Observe every ORM session (idempotent), like the search outbox's listeners."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _before_statement)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_rollback)


def _heard(_connection: Any, _pid: int, _channel: str, reach: str) -> None:
    if reach == SESSIONS:
        page_cache.forget_sessions()
    elif reach == MEMBERS_ONLY:
        page_cache.invalidate_members()
    else:
        page_cache.invalidate()


def _listened(connection: Any, pid: int, channel: str, reach: str) -> None:
    metrics.PAGE_CACHE_DROPS.labels(reach=reach or "all").inc()
    _heard(connection, pid, channel, reach)


async def open_visit_pool(database_url: str) -> asyncpg.Pool:
    """The connection on which kept pages' views are written (catalog/page_views.VisitCounts, one
    batch at a time), without SQLAlchemy's session. A counter lost in a crash's last moment is not
    worth a disk flush per batch, hence asynchronous commits on it alone."""
    return await asyncpg.create_pool(
        libpq_dsn(database_url), min_size=1, max_size=1, server_settings={"synchronous_commit": "off"}
    )


async def listen_for_changes(database_url: str, store: page_cache.PageStore) -> None:
    """The worker process's listener: drops the pages on every NOTIFY, and keeps none while its
    connection is down or silent (it asks every PROBE_SECONDS, and reconnects until cancelled)."""
    dsn = libpq_dsn(database_url)
    while True:
        lost = asyncio.Event()
        connection = None
        counted = False
        try:
            connection = await asyncpg.connect(dsn, timeout=PROBE_SECONDS)
            connection.add_termination_listener(lambda _connection, lost=lost: lost.set())
            await connection.add_listener(CHANNEL, _listened)
            # Whatever changed while nobody listened.
            page_cache.invalidate()
            page_cache.forget_sessions()
            store.listeners += 1
            counted = True
            # A half-open connection hears nothing and says nothing: a probe it cannot answer in
            # time ends it, as a closed one does.
            while not lost.is_set():
                with suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), PROBE_SECONDS)
                if not lost.is_set():
                    await connection.fetchval("select 1", timeout=PROBE_SECONDS)
            log.warning("page cache: listener connection lost; reconnecting")
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.warning("page cache: no listener connection (%s); pages are not kept", error)
            await asyncio.sleep(RECONNECT_SECONDS)
        finally:
            if counted:
                store.listeners -= 1
            if connection is not None and not connection.is_closed():
                connection.terminate()
