"""Beds test data: a published research-ward listing with a ward, and allocations inserted as
rows (the services come with their own factories)."""

from __future__ import annotations

import uuid
from datetime import date

import msgspec

from marketplace.beds.models import AllocationState, BedAllocation, TrialEngagement, Ward
from marketplace.catalog.models import Listing, Status
from marketplace.catalog.schemas import ListingCreate
from tests.catalog.factories import resource_body, seed_listing
from tests.support.world import World


def ward_listing_body(**overrides) -> dict:
    return resource_body(**overrides)


async def ward_listing(db, world: World, relation: str = "own", **overrides) -> Listing:
    listing = await seed_listing(
        db,
        world.orgs[f"institution/{relation}"].id,
        msgspec.convert(ward_listing_body(**overrides), ListingCreate),
        status=Status.published,
    )
    await db.commit()
    return listing


async def seed_ward(db, world: World, beds: int = 10, relation: str = "own", opens_on: date = date(2026, 1, 1)) -> Ward:
    listing = await ward_listing(db, world, relation)
    ward = Ward(
        id=uuid.uuid4(),
        listing_id=listing.id,
        institution_id=listing.institution_id,
        name="一病区",
        specialty="肿瘤",
        beds=beds,
        opens_on=opens_on,
    )
    db.add(ward)
    await db.commit()
    return ward


def allocation_row(ward: Ward, company_id: uuid.UUID, beds: int, starts_on: date, ends_on: date) -> BedAllocation:
    return BedAllocation(
        id=uuid.uuid4(),
        ward_id=ward.id,
        institution_id=ward.institution_id,
        company_id=company_id,
        state=AllocationState.requested,
        beds=beds,
        starts_on=starts_on,
        ends_on=ends_on,
        trial_title="一项Ⅰ期临床试验",
        phase="I",
        sponsor="本企业",
        pi_name="张晓华",
    )


async def approved_allocation(db, world: World, relation: str = "own", fee_fen: int = 100_000) -> BedAllocation:
    """An approved allocation with an agreed fee on a fresh ward of the own (other) institution."""
    from datetime import timedelta

    from marketplace.db import china_today

    ward = await seed_ward(db, world, beds=10, relation=relation)
    start = china_today() + timedelta(days=10)
    allocation = allocation_row(ward, world.orgs[f"company/{relation}"].id, 2, start, start + timedelta(days=29))
    allocation.fee_fen = fee_fen
    db.add(allocation)
    await db.commit()
    allocation.state = AllocationState.approved
    await db.commit()
    return allocation


async def engagement_row(
    db, world: World, relation: str = "own", fee_fen: int = 500_000, listing: bool = True
) -> TrialEngagement:
    """A starting trial engagement at the own (other) institution, its trial site a published listing."""
    institution = world.orgs[f"institution/{relation}"].id
    listing_id = (await ward_listing(db, world, relation)).id if listing else None
    engagement = TrialEngagement(
        id=uuid.uuid4(),
        institution_id=institution,
        company_id=world.orgs[f"company/{relation}"].id,
        listing_id=listing_id,
        title="一项Ⅱ期临床试验",
        phase="II",
        sponsor="本企业",
        pi_name="王磊",
        fee_fen=fee_fen,
    )
    db.add(engagement)
    await db.commit()
    return engagement


async def matrix_allocation(db, world: World, role, relation: str) -> dict:
    """An approved allocation with a fee, once per test and relation (payments of 100 fen each)."""
    from tests.ledger.factories import ready_institutions

    key = f"allocation/{relation}"
    if key not in world.scratch:
        await ready_institutions(db, world)
        world.scratch[key] = (await approved_allocation(db, world, relation, fee_fen=100_000_000)).id
    return {"allocation": world.scratch[key]}


async def matrix_engagement(db, world: World, role, relation: str) -> dict:
    from tests.ledger.factories import ready_institutions

    key = f"engagement/{relation}"
    if key not in world.scratch:
        await ready_institutions(db, world)
        world.scratch[key] = (await engagement_row(db, world, relation, fee_fen=100_000_000)).id
    return {"engagement": world.scratch[key]}


def matrix_fee_payment(world: World, role, relation: str) -> dict:
    from marketplace.db import china_today

    return {"amount_fen": 100, "received_on": china_today().isoformat()}
