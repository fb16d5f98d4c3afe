"""Search tests' fixtures: the small indexed catalogue and a session factory for the relay."""

from __future__ import annotations

import pytest

from marketplace.db import make_sessionmaker
from tests.search.factories import index_samples


@pytest.fixture
async def indexed(settings, engine, db, world):
    async for ids in index_samples(settings, engine, db, world):
        yield ids


@pytest.fixture
def sessionmaker(engine):
    return make_sessionmaker(engine)
