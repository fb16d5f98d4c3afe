"""Beds tests' fixtures: the search page's small catalogue (its research ward is the own institution's)."""

from __future__ import annotations

import pytest

from tests.search.factories import index_samples


@pytest.fixture
async def indexed(settings, engine, db, world):
    async for ids in index_samples(settings, engine, db, world):
        yield ids
