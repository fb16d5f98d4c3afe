"""Match request tests' fixtures: the browser test starts from the search page's small catalogue."""

from __future__ import annotations

import pytest

from tests.search.factories import index_samples


@pytest.fixture
async def indexed(settings, engine, db, world):
    async for ids in index_samples(settings, engine, db, world):
        yield ids
