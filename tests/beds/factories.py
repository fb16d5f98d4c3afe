"""Beds test data: a published research-ward listing with a ward, and allocations inserted as
rows (the services come with their own factories)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import msgspec
from sqlalchemy import select

from marketplace.accounts.models import Organization, Role
from marketplace.beds.engagement_schemas import EngagementCreate, ReviewTransitionIn
from marketplace.beds.engagements import EngagementTerms
from marketplace.beds.models import AllocationState, BedAllocation, CentreRole, Project, ProjectState, TrialEngagement, Ward
from marketplace.beds.schemas import AllocationIn, TransitionIn
from marketplace.beds.services import BedsService
from marketplace.catalog.models import Listing, Status
from marketplace.catalog.schemas import ListingCreate
from marketplace.db import china_today
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


def allocation_body(ward_id, starts_on: date, ends_on: date, beds: int = 2, **overrides) -> dict:
    """A company's bed request, as the API takes it."""
    body = {
        "ward_id": str(ward_id),
        "bed_count": beds,
        "starts_on": starts_on.isoformat(),
        "ends_on": ends_on.isoformat(),
        "trial_title": "一项抗肿瘤新药Ⅰ期临床试验",
        "phase": "I",
        "sponsor": "本企业",
        "pi_name": "张晓华",
        "protocol_summary": "剂量递增，单中心。",
    }
    body.update(overrides)
    return body


async def request_beds(db, world: World, ward: Ward, starts_on: date, ends_on: date, beds: int = 2, **overrides):
    """A request made through the service by the own company's member."""
    principal = await world.principal(db, world.emails[Role.company_member])
    allocation = await BedsService(db).request_allocation(
        principal, msgspec.convert(allocation_body(ward.id, starts_on, ends_on, beds, **overrides), AllocationIn)
    )
    await db.commit()
    return allocation


async def move_allocation(db, world: World, allocation_id, action: str, role: Role = Role.tto_manager, reason: str = ""):
    principal = await world.principal(db, world.emails[role])
    moved = await BedsService(db).transition_allocation(principal, allocation_id, TransitionIn(action=action, reason=reason))
    await db.commit()
    return moved


def future(days: int) -> date:
    return china_today() + timedelta(days=days)


# ----- the tenancy matrix (tests/app/test_tenancy.py) ---------------------------------------------

OTHER_COMPANY_ADMIN = "admin@company.other.test"


async def matrix_ward(db, world: World, role: Role, relation: str) -> dict:
    """A fresh ward of the own (other) institution's published research-ward listing."""
    ward = await seed_ward(db, world, relation=relation)
    world.scratch["ward"] = ward.id
    world.scratch["listing"] = ward.listing_id
    return {"ward": ward.id}


def matrix_ward_body(world: World, role: Role, relation: str) -> dict:
    return {
        "listing_id": str(world.scratch["listing"]),
        "name": f"病区{uuid.uuid4().hex[:6]}",
        "specialty": "肿瘤",
        "research_beds": 12,
        "opens_on": "2026-01-01",
    }


def matrix_allocation_body(world: World, role: Role, relation: str) -> dict:
    return allocation_body(world.scratch["ward"], future(10), future(20))


async def matrix_allocation(db, world: World, role: Role, relation: str) -> dict:
    """A fresh request by the own (other) company on a ward of the own (other) institution."""
    values = await matrix_ward(db, world, role, relation)
    principal = await world.principal(db, world.emails[Role.company_member] if relation == "own" else OTHER_COMPANY_ADMIN)
    body = msgspec.convert(allocation_body(values["ward"], future(10), future(20)), AllocationIn)
    allocation = await BedsService(db).request_allocation(principal, body)
    await db.commit()
    return {**values, "allocation": allocation.id}


async def matrix_over_capacity(db, world: World, role: Role, relation: str) -> dict:
    """A ward that takes the own institution's research beds past 10% of its approved beds."""
    institution = world.orgs["institution/own"]
    approved = await db.scalar(select(Organization.approved_beds).where(Organization.id == institution.id))
    await seed_ward(db, world, beds=min(2000, (approved or 0) // 10 + 1))
    return {}


def matrix_request_form(world: World, role: Role, relation: str) -> dict:
    body = allocation_body(world.scratch["ward"], future(10), future(20))
    body.pop("ward_id")
    return {key: str(value) for key, value in body.items()}


# ----- multi-centre projects --------------------------------------------------------------------


def project_body(**overrides) -> dict:
    body = {
        "title": "抗PD-1单抗联合化疗一线治疗晚期胃癌Ⅲ期多中心研究",
        "phase": "III",
        "sponsor": "本企业",
        "protocol_summary": "随机、双盲、安慰剂对照；计划入组600例。",
    }
    body.update(overrides)
    return body


async def seed_project(db, world: World, relation: str = "own", *, lead: bool = True) -> Project:
    """The company's project (own or other) with the same-relation institution as its lead site
    (or no centre), opened through the service as the system."""
    beds = BedsService(db)
    project = Project(
        id=uuid.uuid4(),
        company_id=world.orgs[f"company/{relation}"].id,
        title=project_body()["title"],
        phase="III",
        sponsor="本企业",
        state=ProjectState.forming,
    )
    db.add(project)
    await db.flush()
    if lead:
        await beds.open_engagement(
            None,
            EngagementTerms(
                institution_id=world.orgs[f"institution/{relation}"].id,
                company_id=project.company_id,
                title=project.title,
                phase=project.phase,
                sponsor=project.sponsor,
                pi_name="张晓华",
                project_id=project.id,
                centre_role=CentreRole.lead,
            ),
        )
    await db.commit()
    return project


async def matrix_project(db, world: World, role, relation: str) -> dict:
    """The own (other) company's project led by the own (other) institution, made once per test."""
    key = f"project/{relation}"
    if key not in world.scratch:
        world.scratch[key] = (await seed_project(db, world, relation)).id
    return {"project": world.scratch[key]}


async def matrix_fresh_project(db, world: World, role, relation: str) -> dict:
    """A fresh project each call (for steps that consume it), led as matrix_project's."""
    return {"project": (await seed_project(db, world, relation)).id}


async def matrix_project_without_centres(db, world: World, role, relation: str) -> dict:
    """A fresh project with no centre yet; the body adds the same-relation institution."""
    project = await seed_project(db, world, relation, lead=False)
    world.scratch["centre_institution"] = world.orgs[f"institution/{relation}"].id
    return {"project": project.id}


def centre_body(world: World, role, relation: str) -> dict:
    return {"institution_id": str(world.scratch["centre_institution"]), "centre_role": "lead", "pi_name": "李明"}


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


async def matrix_paid_allocation(db, world: World, role, relation: str) -> dict:
    """An approved allocation with a fee, once per test and relation (payments of 100 fen each)."""
    from tests.ledger.factories import ready_institutions

    key = f"allocation/{relation}"
    if key not in world.scratch:
        await ready_institutions(db, world)
        world.scratch[key] = (await approved_allocation(db, world, relation, fee_fen=100_000_000)).id
    return {"allocation": world.scratch[key]}


async def matrix_paid_engagement(db, world: World, role, relation: str) -> dict:
    from tests.ledger.factories import ready_institutions

    key = f"engagement/{relation}"
    if key not in world.scratch:
        await ready_institutions(db, world)
        world.scratch[key] = (await engagement_row(db, world, relation, fee_fen=100_000_000)).id
    return {"engagement": world.scratch[key]}


def matrix_fee_payment(world: World, role, relation: str) -> dict:
    from marketplace.db import china_today

    return {"amount_fen": 100, "received_on": china_today().isoformat()}
