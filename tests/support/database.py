"""The suite's databases: the migrated template each worker clones, and emptying every table
between tests (the seeded vocabularies stay)."""

from __future__ import annotations

import asyncio
import warnings

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from marketplace import page_cache
from marketplace.analytics.models import MATERIALISED_VIEWS

TEMPLATE_DB = "marketplace_template"


TRUNCATE_ATTEMPTS = 5
SEEDED_TABLES = ("alembic_version", "therapeutic_areas", "nda_versions", "distribution_floors")


async def recreate_database(server_url: str, name: str, template: str | None = None) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'drop database if exists "{name}" with (force)'))
            if template:
                await conn.execute(text(f'create database "{name}" template "{template}"'))
    finally:
        await engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def truncate_all(engine: AsyncEngine) -> None:
    """Empty every table. A live server may still be answering the last test's page (an htmx
    fragment the browser asked for as the test ended); when PostgreSQL picks the truncation as a
    deadlock's victim, it is tried again once that request is done. A connection left idle in a
    transaction would make it wait for ever (the suite hung so once, at 93%): after LOCK_WAIT it is
    ended, and its last statement named in a warning of the run's summary."""
    for attempt in range(1, TRUNCATE_ATTEMPTS + 1):
        try:
            await _truncate(engine)
            page_cache.invalidate()  # the pages kept for visitors showed the emptied rows
            page_cache.forget_sessions()  # and the sessions were emptied
            return
        except DBAPIError as error:
            if attempt == TRUNCATE_ATTEMPTS:
                raise
            if "lock timeout" in str(error):
                await _end_idle_transactions(engine)
            elif "deadlock detected" not in str(error):
                raise
            await asyncio.sleep(0.2 * attempt)


LOCK_WAIT = "20s"


async def _end_idle_transactions(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        stuck = (
            await conn.execute(
                text(
                    "select pid, left(query, 400) as query, now() - state_change as idle from pg_stat_activity "
                    "where datname = current_database() and state = 'idle in transaction' and pid <> pg_backend_pid() "
                    "and now() - state_change > interval '5 seconds'"
                )
            )
        ).all()
        for row in stuck:
            warnings.warn(f"a connection was left idle in a transaction for {row.idle}, ended: {row.query}", stacklevel=1)
            await conn.execute(text("select pg_terminate_backend(:pid)"), {"pid": row.pid})
        await conn.commit()


async def _truncate(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(f"set local lock_timeout = '{LOCK_WAIT}'"))
        tables = (
            await conn.execute(
                text("select tablename from pg_tables where schemaname = 'public' and tablename <> all(:keep)"),
                {"keep": list(SEEDED_TABLES)},
            )
        ).scalars()
        await conn.execute(text(f"truncate {', '.join(tables)} restart identity cascade"))
        # NDA versions a test published (the migration seeds version 1).
        await conn.execute(text("delete from nda_versions where version > 1"))
        # The dashboards' materialised views: empty again, as after the migrations.
        for view in MATERIALISED_VIEWS:
            await conn.execute(text(f"refresh materialized view {view}"))
