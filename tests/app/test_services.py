"""How the app meets its services: configured URLs start nothing, start-up waits for health and
warms the Chinese segmenter, /ready tells when search is down."""

from __future__ import annotations

from datetime import UTC

import asyncpg
import httpx
import psutil
import pytest
from sqlalchemy import make_url

from marketplace.cli import services
from marketplace.config import Settings
from marketplace.db import libpq_dsn
from marketplace.embedded.postgres import free_port
from marketplace.search.engine import SearchEngine


def test_configured_urls_start_nothing(settings: Settings, tmp_path) -> None:
    configured = settings.model_copy(update={"data_dir": tmp_path})
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with services(configured) as used:
        during = {p.pid for p in psutil.Process().children(recursive=True)}
        assert used.database_url == settings.database_url and used.meili_url == settings.meili_url
    assert during == before
    assert not (tmp_path / "pgdata").exists() and not (tmp_path / "meili").exists()


def test_a_database_url_becomes_a_libpq_uri_keeping_its_tls_mode_and_password() -> None:
    dsn = libpq_dsn("postgresql+asyncpg://app:p%40ss%2Fw%3Ard@db.example:6432/market?ssl=require")
    assert dsn == "postgresql://app:p%40ss%2Fw%3Ard@db.example:6432/market?sslmode=require"
    assert make_url(dsn).password == "p@ss/w:rd"


async def test_asyncpg_connects_with_the_tls_mode_of_a_database_url(database_url: str) -> None:
    """asyncpg takes an `ssl` parameter it does not know for a server setting, and PostgreSQL refuses it."""
    connection = await asyncpg.connect(libpq_dsn(f"{database_url}?ssl=prefer"))
    try:
        assert await connection.fetchval("select 1") == 1
    finally:
        await connection.close()


async def test_waiting_for_an_unreachable_search_engine_fails_clearly() -> None:
    engine = SearchEngine(f"http://127.0.0.1:{free_port()}", "key")
    with pytest.raises(RuntimeError, match="not healthy"):
        await engine.wait_healthy(timeout=0.5)
    await engine.aclose()


async def test_start_up_sent_a_chinese_query(client, settings: Settings) -> None:
    response = httpx.get(  # noqa: ASYNC210  (one request to Meilisearch's stats, not the app's loop)
        f"{settings.meili_url}/indexes/{settings.meili_index_prefix}warmup/stats",
        headers={"Authorization": f"Bearer {settings.meili_master_key}"},
    )
    assert response.status_code == 200, "the start-up warm-up creates its index and queries it"


async def test_ready_says_when_search_is_down_while_health_stays_up(client, app) -> None:
    real = app.state.search
    app.state.search = SearchEngine(f"http://127.0.0.1:{free_port()}", "key")
    try:
        response = await client.get("/ready")
        alive = await client.get("/health")
    finally:
        app.state.search = real
    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "database": "ok", "search": "unavailable", "migrations": "ok"}
    assert alive.status_code == 200 and alive.json() == {"status": "ok"}


async def test_ready_says_draining_once_serve_has_its_sigterm(client, tmp_path, monkeypatch) -> None:
    """`marketplace serve` drains by creating the file its processes find in MARKETPLACE_DRAIN_FILE."""
    from marketplace.serving import DRAIN_FILE_VARIABLE

    flag = tmp_path / "serve.draining"
    monkeypatch.setenv(DRAIN_FILE_VARIABLE, str(flag))
    assert (await client.get("/ready")).status_code == 200
    flag.touch()
    response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json() == {"status": "draining", "database": "ok", "search": "ok", "migrations": "ok"}
    assert (await client.get("/health")).status_code == 200  # alive: nothing for an orchestrator to restart


async def test_the_worker_runs_its_jobs_until_stopped(settings: Settings, db, world) -> None:
    """The stale-listing job runs on the worker's first round."""
    import asyncio
    from datetime import datetime, timedelta

    import msgspec
    from sqlalchemy import select

    from marketplace.catalog.models import Listing
    from marketplace.catalog.schemas import ListingCreate
    from marketplace.worker import run_worker
    from tests.catalog.factories import result_body, seed_listing

    old = datetime.now(UTC) - timedelta(days=200)
    listing = await seed_listing(
        db,
        world.orgs["institution/own"].id,
        msgspec.convert(result_body(), ListingCreate),
        status="published",
        published_at=old,
        confirmed_at=old,
    )
    listing.is_stale = False
    listing_id = listing.id
    await db.commit()
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(settings, stop))
    for _ in range(100):
        await asyncio.sleep(0.05)
        db.expire_all()
        if await db.scalar(select(Listing.is_stale).where(Listing.id == listing_id)):
            break
    stop.set()
    await asyncio.wait_for(task, 5)
    assert await db.scalar(select(Listing.is_stale).where(Listing.id == listing_id)) is True
