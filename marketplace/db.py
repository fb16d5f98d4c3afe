"""Engine, session provider and the declarative base shared by every domain."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.types import Message, Scope
from sqlalchemy import CursorResult, DateTime, MetaData, Result, Table, func, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so hand-reviewed Alembic migrations and the models agree.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def in_values(column: str, values) -> str:
    """SQL for a CHECK that keeps `column` within an enum's values."""
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# ----- the one clock: every "now" and every China-time day comes from here -------------------------

# People live the product in China time, whatever the server's zone.
CHINA_TIME = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def china_day(moment: datetime) -> date:
    """The calendar day in China of a moment (deadlines count China's days)."""
    return moment.astimezone(CHINA_TIME).date()


def china_today() -> date:
    return china_day(utcnow())


def table_of(model: type[Base]) -> Table:
    """A mapped class's Table, for core statements (INSERT ... FROM SELECT, bulk DELETE): declarative
    annotates __table__ as FromClause, as it may be any selectable; ours are all tables."""
    table = model.__table__
    assert isinstance(table, Table), f"{model.__name__} is mapped to {table!r}, not a table"
    return table


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE, DELETE or INSERT touched: session.execute() answers a CursorResult for
    those, though it is annotated as answering a Result."""
    assert isinstance(result, CursorResult), f"{type(result).__name__} of a statement that is not DML"
    return result.rowcount


class UUIDPrimaryKey:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), onupdate=utcnow)


def libpq_dsn(database_url: str) -> str:
    """DATABASE_URL (SQLAlchemy's asyncpg form) as a plain postgresql:// URI for the connections made
    without SQLAlchemy (asyncpg's own, Procrastinate's psycopg). SQLAlchemy's `ssl` becomes libpq's
    `sslmode`, which both read: asyncpg would take an `ssl` parameter for a server setting."""
    url = make_url(database_url).set(drivername="postgresql")
    if "ssl" in url.query:
        url = url.update_query_dict({"sslmode": url.query["ssl"]}).difference_update_query(["ssl"])
    return url.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs) -> AsyncEngine:
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


_SESSION_KEY = "_marketplace_db_session"
# Handlers and providers ask for the request's session by this name and type.
DbSession = NamedDependency[AsyncSession]


def provide_db_session(state: State, scope: Scope) -> AsyncSession:
    """One session and transaction per request, finished by `finish_db_session`.

    Not a generator dependency: Litestar skips generator clean-up when a later dependency raises,
    which would leave a connection idle in its transaction.
    """
    # Litestar's Scope TypedDict has no key for our own per-request values.
    session = cast("AsyncSession | None", scope.get(_SESSION_KEY))
    if session is None:
        session = scope[_SESSION_KEY] = state.sessionmaker()  # type: ignore[literal-required]
    return session


async def finish_db_session(message: Message, scope: Scope) -> None:
    """before_send hook: commit when the answer is a success or a redirect, otherwise roll back,
    so a refused request changes nothing; then return the connection."""
    if message["type"] != "http.response.start":
        return
    session: AsyncSession | None = scope.pop(_SESSION_KEY, None)  # type: ignore[misc]
    if session is None:
        return
    try:
        if message["status"] < 400:
            await session.commit()
        else:
            await session.rollback()
    finally:
        await session.close()


async def add_unless_taken(session: AsyncSession, record: object, constraint: str) -> bool:
    """Insert `record`, or answer False when the unique `constraint` refuses it (the same form sent
    twice at once: one insert gets through); nothing is written then and the session stays usable.
    The record is added inside the savepoint, as begin_nested() first flushes what is pending."""
    try:
        async with session.begin_nested():
            session.add(record)
            await session.flush()
    except IntegrityError as error:
        if constraint in str(error.orig):
            return False
        raise
    return True


class SchemaAhead(RuntimeError):
    """The database was migrated by newer code. Serving it could misread or overwrite what that code
    wrote, and no downgrade is known here, so the process refuses to start."""


# Tables whose schema a library's migration brings (Procrastinate's job queue, revision 0026): not
# modelled here, so autogenerate must not propose dropping them.
LIBRARY_TABLE_PREFIXES = ("procrastinate_",)


def is_modelled(name: str | None, type_: str, _parent_names: dict) -> bool:
    """Alembic's include_name: leave the libraries' tables out of the comparison with the models."""
    return not (type_ == "table" and name is not None and name.startswith(LIBRARY_TABLE_PREFIXES))


def _alembic_config():
    from alembic.config import Config

    from marketplace.config import PROJECT_ROOT

    return Config(str(PROJECT_ROOT / "alembic.ini"))


@functools.cache
def code_revisions() -> tuple[frozenset[str], str]:
    """The revisions this code's migrations know, and their head."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config())
    head = script.get_current_head()
    assert head is not None, "the migrations have one head"
    return frozenset(revision.revision for revision in script.walk_revisions()), head


def refuse_unknown_revision(database_revisions: Iterable[str]) -> None:
    """Raise SchemaAhead, naming both revisions, when the database is at one this code lacks."""
    known, head = code_revisions()
    unknown = sorted(set(database_revisions) - known)
    if unknown:
        raise SchemaAhead(
            f"The database is at revision {', '.join(unknown)}, which this code does not know (its newest is {head}): "
            "a newer release has migrated it. Run that release, or restore a backup taken before its upgrade."
        )


async def database_revisions(conn: AsyncConnection) -> tuple[str, ...]:
    """The revisions the database is at (none before the first migration), read on `conn`, so
    inside its transaction's snapshot."""
    from alembic.migration import MigrationContext

    return await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_heads())


async def check_schema_revision(engine: AsyncEngine) -> None:
    """For the processes that serve or work without migrating (several app processes, workers)."""
    async with engine.connect() as conn:
        refuse_unknown_revision(await database_revisions(conn))


def run_migrations(database_url: str) -> None:
    """Apply Alembic migrations up to head (SchemaAhead if the database is past it). Synchronous:
    call it outside an event loop."""
    from alembic import command

    config = _alembic_config()
    config.attributes["database_url"] = database_url
    command.upgrade(config, "head")


async def ensure_database(server_url: str, name: str) -> str:
    """Create database `name` on the server if missing; returns its URL."""
    from sqlalchemy import text

    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            exists = await conn.scalar(text("select 1 from pg_database where datname = :n"), {"n": name})
            if not exists:
                await conn.execute(text(f'create database "{name}"'))
    finally:
        await engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)
