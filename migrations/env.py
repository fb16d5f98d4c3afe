"""Alembic environment: async engine, URL from the caller (config.attributes) or DATABASE_URL."""

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

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


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
