"""Search tests' fixtures: the small indexed catalogue, a session factory for the relay, and an
empty listings index searched by words and meaning (`hybrid`)."""

from __future__ import annotations

import pytest

from marketplace.db import make_sessionmaker
from marketplace.search.engine import search_engine_for
from tests.search.factories import index_samples


@pytest.fixture
async def indexed(settings, engine, db, world):
    async for ids in index_samples(settings, engine, db, world):
        yield ids


@pytest.fixture
def sessionmaker(engine):
    return make_sessionmaker(engine)


@pytest.fixture
async def hybrid(settings, engine):
    search = search_engine_for(settings)
    assert search.embedder is not None and search.embedder.available
    await search.ensure_index()
    await search.wait(await search.client.index(search.listings_index).delete_all_documents())
    yield search
    await search.wait(await search.client.index(search.listings_index).delete_all_documents())
    await search.aclose()
