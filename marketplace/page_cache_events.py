"""When the pages kept for visitors (page_cache.py) must be dropped: whenever a transaction changes
what they show — a listing and its areas, inventors and IP, an organization's public profile, the
therapeutic areas — or the search index changes (the outbox: a row written when a listing changes,
marked processed once Meilisearch has applied it).

Such a transaction also says `NOTIFY page_cache`, which PostgreSQL delivers on commit only (never
for a rollback) to every worker process's listener; the process that committed drops its pages at
once, without waiting for its own notification. A process whose listener connection is down keeps
no pages until it listens again, as it could miss another's changes meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg
from sqlalchemy import Delete, Insert, Update, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from marketplace import page_cache

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
_CHANGED = "page_cache.changed"  # Session.info: this transaction changed a watched table
RECONNECT_SECONDS = 2.0


def _notify(session: Session) -> None:
    # NOTIFY is transactional: the other processes hear it only if this transaction commits. Once
    # per transaction is enough (a rollback, savepoints' too, clears the mark).
    if session.info.get(_CHANGED):
        return
    session.connection().execute(text(f"notify {CHANNEL}"))
    session.info[_CHANGED] = True


async def announce_change(session: AsyncSession) -> None:
    """For a change the listeners cannot see (a search index rebuilt outside the outbox): the
    visitors' pages are dropped when this session's transaction commits, in every process."""
    await session.execute(text(f"notify {CHANNEL}"))
    session.sync_session.info[_CHANGED] = True


def _after_flush(session: Session, _context: Any) -> None:
    for instance in (*session.new, *session.dirty, *session.deleted):
        table = getattr(type(instance), "__tablename__", None)
        if table in WATCHED_TABLES and (instance in session.new or instance in session.deleted or session.is_modified(instance)):
            _notify(session)
            return


def _before_statement(state: ORMExecuteState) -> None:
    statement = state.statement
    if isinstance(statement, Insert | Update | Delete) and statement.table.name in WATCHED_TABLES:  # type: ignore[union-attr]
        _notify(state.session)


def _after_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        page_cache.invalidate()


def _after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)


def install_page_cache_listeners() -> None:
    """Observe every ORM session (idempotent), like the search outbox's listeners."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _before_statement)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", lambda session, _previous: _after_rollback(session))


def _dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


async def open_visit_pool(database_url: str) -> asyncpg.Pool:
    """The few connections on which kept pages still record what each visit does (a listing's
    view): one statement each, without SQLAlchemy's session. A counter lost in a crash's last
    moment is not worth a disk flush per visit, hence asynchronous commits on these alone."""
    return await asyncpg.create_pool(_dsn(database_url), min_size=1, max_size=4, server_settings={"synchronous_commit": "off"})


async def listen_for_changes(database_url: str, store: page_cache.PageStore) -> None:
    """The worker process's listener: drops the pages on every NOTIFY, and keeps none while its
    connection is down (it reconnects until cancelled)."""
    dsn = _dsn(database_url)
    while True:
        lost = asyncio.Event()
        try:
            connection = await asyncpg.connect(dsn)
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("page cache: no listener connection (%s); pages are not kept", error)
            await asyncio.sleep(RECONNECT_SECONDS)
            continue
        counted = False
        try:
            connection.add_termination_listener(lambda _connection, lost=lost: lost.set())
            await connection.add_listener(CHANNEL, lambda *_args: page_cache.invalidate())
            # Whatever changed while nobody listened.
            page_cache.invalidate()
            store.listeners += 1
            counted = True
            await lost.wait()
            log.warning("page cache: listener connection lost; reconnecting")
        finally:
            if counted:
                store.listeners -= 1
            if not connection.is_closed():
                await connection.close()
