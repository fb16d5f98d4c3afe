"""Beds test data: a published research-ward listing with a ward, and allocations inserted as
rows (the services come with their own factories)."""

from __future__ import annotations

import uuid
from datetime import date

import msgspec

from marketplace.beds.models import AllocationState, BedAllocation, Ward
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
