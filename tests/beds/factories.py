"""Beds test data: a published research-ward listing with a ward, allocations inserted as rows,
and multi-centre projects with their centres for the tenancy matrix."""

from __future__ import annotations

import uuid
from datetime import date

import msgspec

from marketplace.beds.engagements import EngagementTerms
from marketplace.beds.models import AllocationState, BedAllocation, CentreRole, Project, ProjectState, Ward
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
