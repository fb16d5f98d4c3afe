"""Test session: real PostgreSQL and Meilisearch, started once, a database per xdist worker.

With DATABASE_URL / MEILI_URL (+ MEILI_MASTER_KEY) set, the tests use those servers instead.
The controller process starts the services and a migrated template database; each worker
clones the template into its own database and uses its own Meilisearch index prefix.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from marketplace.accounts.oidc_flow import forget_provider_caches
from marketplace.app import create_app
from marketplace.config import Settings
from marketplace.db import make_engine, make_sessionmaker, run_migrations
from marketplace.wiring import wire
from tests.support.database import TEMPLATE_DB, recreate_database, truncate_all
from tests.support.mailbox import Mailbox
from tests.support.oidc import OidcProvider
from tests.support.world import World, build_world

# Tables whose rows the migrations seed (vocabularies): kept between tests.
_started: list = []

# The browser tests' live server and Chromium: one of each for the session, started only when used.
pytest_plugins = ["tests.support.live_server"]

# The registries as the app, the worker and the command fill them: tests call services and jobs directly too.
wire()


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    if _is_worker(config) or os.environ.get("MARKETPLACE_TEST_SERVER_URL"):
        return
    from marketplace.db import ensure_database
    from marketplace.embedded import EmbeddedMeilisearch, EmbeddedPostgres

    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url or not os.environ.get("MEILI_URL"):
        data_dir = Path(tempfile.mkdtemp(prefix="mkt-"))
        _started.append(data_dir)
    if not server_url:
        postgres = EmbeddedPostgres(data_dir)
        postgres.start()
        _started.append(postgres)
        server_url = postgres.url()
    if not os.environ.get("MEILI_URL"):
        meili = EmbeddedMeilisearch(data_dir)
        meili.start()
        _started.append(meili)
        os.environ["MARKETPLACE_TEST_MEILI_URL"] = meili.url
        os.environ["MARKETPLACE_TEST_MEILI_KEY"] = meili.master_key()
    else:
        os.environ["MARKETPLACE_TEST_MEILI_URL"] = os.environ["MEILI_URL"]
        os.environ["MARKETPLACE_TEST_MEILI_KEY"] = os.environ["MEILI_MASTER_KEY"]
    asyncio.run(recreate_database(server_url, TEMPLATE_DB))
    run_migrations(asyncio.run(ensure_database(server_url, TEMPLATE_DB)))
    os.environ["MARKETPLACE_TEST_SERVER_URL"] = server_url


def pytest_unconfigure(config: pytest.Config) -> None:
    if _is_worker(config):
        return
    for item in reversed(_started):
        if isinstance(item, Path):
            shutil.rmtree(item, ignore_errors=True)
        else:
            item.stop()
    _started.clear()


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


@pytest.fixture(scope="session")
async def database_url(worker_id: str) -> str:
    return await recreate_database(
        os.environ["MARKETPLACE_TEST_SERVER_URL"], f"marketplace_test_{worker_id}", template=TEMPLATE_DB
    )


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[Mailbox]:
    mailbox = Mailbox()
    from marketplace.embedded.postgres import free_port

    mailbox.port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    yield mailbox
    controller.stop()


@pytest.fixture(scope="session")
def oidc_server() -> Iterator[OidcProvider]:
    """The real OpenID provider (npm oidc-provider) on loopback, for the whole session."""
    provider = OidcProvider(
        redirect_uris=["http://testserver.local/login/sso/callback"],
        post_logout_redirect_uris=["http://testserver.local/"],
    )
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture
def oidc_provider(oidc_server: OidcProvider) -> Iterator[OidcProvider]:
    """The session's provider, back to its first key, default user and honest tokens after each test;
    the app's memory of providers (discovery, keys, the time of the last key refetch) starts afresh."""
    forget_provider_caches()
    yield oidc_server
    oidc_server.reset()


@pytest.fixture(scope="session")
def settings(database_url: str, worker_id: str, smtp_server: Mailbox, tmp_path_factory) -> Settings:
    return Settings(
        data_dir=tmp_path_factory.mktemp("data"),
        database_url=database_url,
        meili_url=os.environ["MARKETPLACE_TEST_MEILI_URL"],
        meili_master_key=os.environ["MARKETPLACE_TEST_MEILI_KEY"],
        meili_index_prefix=f"test_{worker_id}_",
        secret_key="test-secret-key",
        base_url="http://testserver.local",
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        demo_data=False,
        password_hash_profile="CHEAPEST",
        run_worker_in_app=False,  # tests run jobs themselves, when they choose
        search_stale_seconds=0,  # a search after an index change sees it (test_search_page_cache.py tries both)
    )


@pytest.fixture(scope="session")
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture(scope="session")
async def session_client(app: Litestar) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        yield client


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The tests' own engine: the app runs in the test client's thread, on another event loop."""
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def client(session_client: AsyncTestClient, engine: AsyncEngine) -> AsyncIterator[AsyncTestClient]:
    """The app with a fresh cookie jar; every table (sessions and sign-in attempts too) is emptied after the test."""
    session_client.cookies.clear()
    session_client.headers.pop("authorization", None)
    yield session_client
    session_client.cookies.clear()
    await truncate_all(engine)


@pytest.fixture
async def db(client: AsyncTestClient, engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session on the test's database, for arranging data and checking what was written."""
    async with make_sessionmaker(engine)() as session:
        yield session


@pytest.fixture
def mailbox(smtp_server: Mailbox) -> Mailbox:
    smtp_server.messages.clear()
    return smtp_server


@pytest.fixture
async def world(db: AsyncSession) -> World:
    return await build_world(db)
