"""Free research beds in search (issue 13, point 8): a ward listing carries its free bed-days over
the next 90 days and, per number of beds, its longest free run; an approval changes both through
the outbox, and `free_beds` + `free_days` filter on them in real Meilisearch."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from marketplace.beds.availability import longest_run, summarise
from marketplace.beds.models import Ward
from marketplace.beds.services import BedsService
from marketplace.catalog.models import Listing
from marketplace.db import china_today, make_sessionmaker
from marketplace.search.engine import SearchEngine
from marketplace.search.outbox import OutboxRelay
from tests.beds.factories import allocation_row


async def relay(settings, engine) -> None:
    async with SearchEngine(settings.meili_url, settings.meili_master_key, settings.meili_index_prefix) as search:
        done = await OutboxRelay(make_sessionmaker(engine), search).drain()
    assert not done.failed, done


def test_runs_are_the_longest_stretches_with_enough_beds() -> None:
    free = [5, 5, 1, 4, 4, 4, 0, 16]
    assert longest_run(free, 4) == 3 and longest_run(free, 1) == 6 and longest_run(free, 16) == 1
    assert summarise(free) == {"free_bed_days_90": 39, "runs": {"1": 6, "2": 3, "4": 3, "8": 1, "16": 1}}


async def ids(client, query: str) -> set[str]:
    response = await client.get(f"/api/v1/search?{query}")
    assert response.status_code == 200, response.text
    return {hit["id"] for hit in response.json()["hits"]}


async def test_an_approval_changes_the_free_beds_search_finds(client, db, world, indexed, settings, engine) -> None:
    today = china_today()
    listing_id = uuid.UUID(indexed["ward"])
    listing = await db.get(Listing, listing_id)
    assert listing is not None
    ward = Ward(
        listing_id=listing_id,
        institution_id=listing.institution_id,
        name="肿瘤研究病房",
        specialty="肿瘤",
        beds=5,
        opens_on=today - timedelta(days=10),
    )
    db.add(ward)
    await db.flush()
    await BedsService(db).refresh_availability(listing_id, today=today)
    await db.commit()
    await relay(settings, engine)

    assert await ids(client, "free_beds=4&free_days=30") == {indexed["ward"]}
    assert await ids(client, "free_beds=8") == set()
    page = (await client.get("/api/v1/search?free_days=90")).json()
    assert [hit["free_bed_days_90"] for hit in page["hits"]] == [450]
    others = (await client.get("/api/v1/search")).json()["hits"]
    assert {hit["free_bed_days_90"] for hit in others if hit["id"] != indexed["ward"]} == {None}

    # 3 of the 5 beds from day 20 to day 79: at most 20 days in a row with 4 free.
    allocation = allocation_row(ward, world.orgs["company/own"].id, 3, today + timedelta(days=20), today + timedelta(days=79))
    db.add(allocation)
    await db.commit()
    allocation.state = "approved"
    await BedsService(db).refresh_availability(listing_id, today=today)
    await db.commit()
    await relay(settings, engine)

    stored = await db.scalar(select(Listing.bed_availability).where(Listing.id == listing_id))
    assert stored == {"free_bed_days_90": 450 - 180, "runs": {"1": 90, "2": 90, "4": 20, "8": 0, "16": 0}}
    assert await ids(client, "free_beds=4&free_days=30") == set()
    assert await ids(client, "free_beds=4&free_days=20") == {indexed["ward"]}
    assert await ids(client, "free_beds=2&free_days=90") == {indexed["ward"]}
    html = (await client.get("/search?free_beds=2&free_days=90")).text
    assert f"/listings/{indexed['ward']}" in html and '<option value="2" selected>' in html and "270" in html

    bad = await client.get("/api/v1/search?free_beds=3&free_days=91")
    assert bad.status_code == 400
    assert {error["field"] for error in bad.json()["errors"]} == {"free_beds", "free_days"}


async def test_an_unchanged_refresh_queues_nothing(db, world, indexed) -> None:
    from marketplace.search.models import OutboxEntry

    listing_id = uuid.UUID(indexed["ward"])
    await BedsService(db).refresh_availability(listing_id)  # no wards: stays None
    await db.commit()
    queued = await db.scalars(select(OutboxEntry).where(OutboxEntry.entity_id == listing_id, OutboxEntry.processed_at.is_(None)))
    assert list(queued) == []
