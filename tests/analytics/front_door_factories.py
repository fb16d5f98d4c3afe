"""The landing page's world: the search tests' four indexed listings (two results, two resources),
requests on two of them — three on the liver result, one accepted, and one on the biobank — and the
reporting views refreshed, so the figures and "most requested" have something to say."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from marketplace.accounts.models import Role
from marketplace.analytics.services import AnalyticsService
from tests.matching.requests.factories import OTHER_COMPANY_ADMIN, create, move
from tests.search.factories import index_samples


async def landing_samples(settings, engine, db, world) -> AsyncIterator[dict[str, str]]:
    async for ids in index_samples(settings, engine, db, world):
        liver, bank = uuid.UUID(ids["liver"]), uuid.UUID(ids["bank"])
        accepted = await create(db, world, liver)
        await create(db, world, liver, email=OTHER_COMPANY_ADMIN)
        await create(db, world, bank, engagement_type="resource_use", budget_min_fen=None)
        await move(db, world, accepted.id, "accept", Role.tto_manager)
        await AnalyticsService(db).refresh()
        await db.commit()
        yield ids
