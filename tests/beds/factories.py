"""Beds test data: a published research-ward listing with a ward, and allocations inserted as
rows (the services come with their own factories)."""

from __future__ import annotations

import uuid
from datetime import date

import msgspec

from marketplace.accounts.models import Role
from marketplace.beds.engagement_schemas import EngagementCreate, ReviewTransitionIn
from marketplace.beds.models import AllocationState, BedAllocation, Ward
from marketplace.beds.services import BedsService
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


# ----- trial engagements -------------------------------------------------------------------------

OTHER_TTO = "admin@institution.other.test"
OTHER_COMPANY = "admin@company.other.test"


def engagement_body(world: World, relation: str = "own", **overrides) -> dict:
    """The TTO opens an engagement directly for the company of the same relation."""
    body = {
        "company_id": str(world.orgs[f"company/{relation}"].id),
        "title": "一项Ⅱ期肿瘤临床试验",
        "phase": "II",
        "sponsor": "本企业",
        "pi_name": f"PI{uuid.uuid4().hex[:6]}",
        "fee_fen": 30_000_000,
    }
    body.update(overrides)
    return body


async def tto_of(db, world: World, relation: str = "own"):
    return await world.principal(db, world.emails[Role.tto_manager] if relation == "own" else OTHER_TTO)


async def company_of(db, world: World, relation: str = "own"):
    return await world.principal(db, world.emails[Role.company_admin] if relation == "own" else OTHER_COMPANY)


async def engagement(db, world: World, relation: str = "own", **overrides):
    """An engagement of the own (other) institution with the company of the same relation."""
    body = msgspec.convert(engagement_body(world, relation, **overrides), EngagementCreate)
    found = await BedsService(db).create_engagement(await tto_of(db, world, relation), body)
    await db.commit()
    return found


async def review_step(db, world: World, engagement_id, track: str, action: str, relation: str = "own", **fields):
    principal = await tto_of(db, world, relation)
    review = await BedsService(db).transition_review(principal, engagement_id, track, ReviewTransitionIn(action=action, **fields))
    await db.commit()
    return review


async def all_approved(db, world: World, relation: str = "own", **overrides):
    """An engagement whose three reviews are approved: its start-up clock runs."""
    found = await engagement(db, world, relation, **overrides)
    for track in ("approval", "ethics", "contract"):
        for action in ("submit", "start_review"):
            await review_step(db, world, found.id, track, action, relation)
        await review_step(db, world, found.id, track, "approve", relation, reference=f"{track}-001")
    return found


async def matrix_engagement(db, world: World, role, relation: str) -> dict:
    """A fresh engagement of the own (other) pair."""
    return {"engagement": (await engagement(db, world, relation)).id}


async def matrix_engagement_document(db, world: World, role, relation: str) -> dict:
    """An engagement of the own (other) pair with one document."""
    found = await engagement(db, world, relation)
    document = await BedsService(db).upload_document(await tto_of(db, world, relation), found.id, "材料.txt", "方案摘要".encode())
    await db.commit()
    return {"engagement": found.id, "document": document.id}


def matrix_engagement_body(world: World, role, relation: str) -> dict:
    return engagement_body(world, relation)


async def matrix_review(db, world: World, role, relation: str) -> dict:
    """A fresh engagement of the own (other) pair and its ethics track."""
    return {**(await matrix_engagement(db, world, role, relation)), "track": "ethics"}


def matrix_document_file() -> dict:
    return {"file": ("材料.txt", "研究方案摘要".encode(), "text/plain")}
