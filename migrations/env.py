"""Alembic environment: async engine, URL from the caller (config.attributes) or DATABASE_URL."""

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from marketplace.db import is_modelled, refuse_unknown_revision
from marketplace.models import metadata

config = context.config


def _url() -> str:
    url = config.attributes.get("database_url")
    if not url:
        from marketplace.config import Settings

        url = Settings().database_url
    if not url:
        raise SystemExit("No database URL: set DATABASE_URL or run `marketplace migrate`.")
    return url


# A migration waits at most this long for a lock, so one stuck behind a long transaction fails
# instead of queueing every query on the table behind it; the statement limit stops a runaway one.
# Re-run the deploy when traffic is lower. (squawk, in the suite, checks that migrations set both.)
TIMEOUTS = ("SET LOCAL lock_timeout = '10s'", "SET LOCAL statement_timeout = '15min'")


def _migrate() -> None:
    with context.begin_transaction():
        for statement in TIMEOUTS:
            context.execute(statement)
        context.run_migrations()


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True, include_name=is_modelled)
    # Never migrate (or stamp) a database that newer code has already taken further.
    refuse_unknown_revision(context.get_context().get_current_heads())
    _migrate()


async def _run_async() -> None:
    engine = create_async_engine(_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    _migrate()
else:
    asyncio.run(_run_async())
