"""The schema comes from hand-reviewed Alembic migrations, and they agree with the models."""

from __future__ import annotations

import asyncio
import os

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import text

from marketplace.config import PROJECT_ROOT
from marketplace.db import is_modelled, make_engine
from marketplace.models import metadata
from tests.support.database import recreate_database


async def test_the_migrated_schema_matches_the_models(engine) -> None:
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True, "include_name": is_modelled}), metadata
            )
        )
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_migrations_go_down_and_up_again(worker_id: str) -> None:
    server = os.environ["MARKETPLACE_TEST_SERVER_URL"]
    url = asyncio.run(recreate_database(server, f"marketplace_updown_{worker_id}", template="template0"))
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    command.upgrade(config, "head")

    async def tables() -> set[str]:
        engine = make_engine(url)
        async with engine.connect() as conn:
            names = set((await conn.execute(text("select tablename from pg_tables where schemaname='public'"))).scalars())
        await engine.dispose()
        return names

    assert {"organizations", "users", "memberships", "api_tokens", "invitations", "audit_events"} <= asyncio.run(tables())
