"""Listing pages opened by people outside the owning institution count as views of that China day
(the dashboards' funnel starts there); the owner's own visits and unpublished listings do not."""

from __future__ import annotations

from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.catalog.models import ListingViewDay
from marketplace.db import china_today
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
