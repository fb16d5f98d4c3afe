"""The daily job refreshes every research ward listing's free beds (the 90-day window moves), one
transaction per listing, and writes nothing for a listing whose summary did not change."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from marketplace.beds.availability import refresh_all
from marketplace.catalog.models import Listing
from marketplace.db import make_sessionmaker
from tests.beds.factories import allocation_row, seed_ward


async def test_the_daily_job_moves_the_window(db, world, engine) -> None:
    ward = await seed_ward(db, world, beds=3, opens_on=date(2026, 1, 1))
    listing_id = ward.listing_id
    allocation = allocation_row(ward, world.orgs["company/own"].id, 3, date(2026, 12, 1), date(2026, 12, 10))
    db.add(allocation)
    await db.commit()
    allocation.state = "approved"
    await db.commit()

    sessionmaker = make_sessionmaker(engine)
    assert await refresh_all(sessionmaker, today=date(2026, 11, 22)) == 1
    stored = await db.scalar(select(Listing.bed_availability).where(Listing.id == listing_id))
    # From 22 November: nine free days, the allocation's ten full ones, then 71 free.
    assert stored == {"free_bed_days_90": 3 * 80, "runs": {"1": 71, "2": 71, "4": 0, "8": 0, "16": 0}}

    await refresh_all(sessionmaker, today=date(2026, 11, 22) + timedelta(days=19))  # past the allocation
    db.expire_all()
    stored = await db.scalar(select(Listing.bed_availability).where(Listing.id == listing_id))
    assert stored == {"free_bed_days_90": 270, "runs": {"1": 90, "2": 90, "4": 0, "8": 0, "16": 0}}
