"""Listing pages opened by people outside the owning institution count as views of that China day
(the dashboards' funnel starts there); the owner's own visits and unpublished listings do not."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, select

from marketplace.accounts.models import Role
from marketplace.catalog.models import Listing, ListingViewDay
from marketplace.catalog.page_views import FAILED_FLUSHES_KEPT, FLUSH_SECONDS, VisitCounts
from marketplace.db import china_today
from marketplace.page_cache_events import open_visit_pool
from tests.catalog.factories import published
from tests.support.page_cache import views_written
from tests.support.web import login


async def views(db, listing_id) -> list[tuple]:
    rows = await db.execute(select(ListingViewDay.day, ListingViewDay.views).where(ListingViewDay.listing_id == listing_id))
    return [tuple(row) for row in rows]


async def test_outside_visits_count_per_day_and_the_owners_do_not(client, db, world) -> None:
    listing_id = await published(db, world)
    await login(client, world.emails[Role.tto_staff])
    assert (await client.get(f"/listings/{listing_id}")).status_code == 200
    assert await views(db, listing_id) == []
    await login(client, world.emails[Role.company_member])
    for _ in range(2):
        assert (await client.get(f"/listings/{listing_id}")).status_code == 200
    await views_written(db, listing_id, 2)  # the second from the page kept for this session
    assert await views(db, listing_id) == [(china_today(), 2)]
    client.cookies.clear()
    assert (await client.get(f"/listings/{listing_id}")).status_code == 200  # anonymous visitors count too
    assert await views(db, listing_id) == [(china_today(), 3)]


@pytest.fixture
async def pool(settings):
    pool = await open_visit_pool(settings.database_url)
    yield pool
    await pool.close()


async def closed_pool(settings):
    """A real pool whose every statement fails, as when the database is down."""
    pool = await open_visit_pool(settings.database_url)
    await pool.close()
    return pool


async def test_kept_pages_views_of_a_deleted_listing_do_not_hold_back_the_others(db, world, pool) -> None:
    kept, deleted = await published(db, world), await published(db, world)
    counts = VisitCounts()
    counts.add(kept)
    counts.add(deleted)
    await db.execute(delete(Listing).where(Listing.id == deleted))
    await db.commit()
    await counts.flush(pool)
    assert await views(db, kept) == [(china_today(), 1)]
    assert await views(db, deleted) == []


async def test_kept_pages_views_outlast_a_database_outage(db, world, settings, pool) -> None:
    listing_id = await published(db, world)
    counts = VisitCounts()
    counts.add(listing_id)
    running = asyncio.create_task(counts.run(await closed_pool(settings)))
    await asyncio.sleep(FLUSH_SECONDS * 2)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):  # its last flush failed too, and said so only in the log
        await running
    await counts.flush(pool)
    assert await views(db, listing_id) == [(china_today(), 1)]


async def test_kept_pages_views_that_keep_failing_are_dropped_in_the_end(db, world, settings, pool) -> None:
    """Else a batch that can never be written would hold back every later view of the process."""
    listing_id = await published(db, world)
    counts = VisitCounts()
    counts.add(listing_id)
    down = await closed_pool(settings)
    for _ in range(FAILED_FLUSHES_KEPT):
        await counts.flush(down)
    await counts.flush(pool)
    assert await views(db, listing_id) == []
    counts.add(listing_id)
    await counts.flush(pool)
    assert await views(db, listing_id) == [(china_today(), 1)]
