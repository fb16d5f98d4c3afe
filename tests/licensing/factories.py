"""Licensing test data: a published result, a match request agreed on it, agreement bodies of each
kind, and agreements drafted and moved through the service as a given member of the world."""

from __future__ import annotations

import uuid
from datetime import date

import msgspec
from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.catalog.models import Listing, Status
from marketplace.catalog.schemas import ListingCreate
from marketplace.db import china_today
from marketplace.licensing.models import Agreement, Obligation, OpenLicence
from marketplace.licensing.open_licence_schemas import OpenLicenceIn
from marketplace.licensing.schemas import AgreementCreate, TransitionIn
from marketplace.licensing.services import LicensingService
from tests.catalog.factories import result_body, seed_listing
from tests.matching.requests.factories import create as create_match
from tests.matching.requests.factories import move as move_match
from tests.support.world import World


async def published_result(db, world: World, relation: str = "own", **overrides) -> Listing:
    body = result_body(**{"ownership_model": "institution", **overrides})
    listing = await seed_listing(
        db, world.orgs[f"institution/{relation}"].id, msgspec.convert(body, ListingCreate), status=Status.published
    )
    await db.commit()
    return listing


async def agreed_match(db, world: World, listing_id: uuid.UUID):
    """A match request of the own company on the listing, taken to agreed by both sides."""
    request = await create_match(db, world, listing_id)
    await move_match(db, world, request.id, "accept", Role.tto_staff)
    await move_match(db, world, request.id, "start_negotiation", Role.company_member)
    await move_match(db, world, request.id, "agree", Role.tto_manager)
    return await move_match(db, world, request.id, "agree", Role.company_admin)


def pay_later_body(**overrides) -> dict:
    """A pay-later licence (先使用后付费): a year's free use, then a fee of 300,000 yuan or 3% of sales."""
    body = {
        "kind": "pay_later",
        "field_of_use": "体外诊断试剂",
        "starts_on": china_today().isoformat(),
        "term_months": 60,
        "use_period_months": 12,
        "licence_fee_fen": 30_000_000,
        "royalty_bp": 300,
        "payment_modes": ["lump_sum", "instalments", "deferred", "revenue_share"],
        "max_instalments": 4,
        "conversion_milestone": "产品获得医疗器械注册证",
        "default_liability": "逾期付款按日万分之五支付违约金。",
    }
    body.update(overrides)
    return body


def licence_body(kind: str = "exclusive", **overrides) -> dict:
    """A paid licence: upfront 500,000 yuan, two instalments, a milestone, 3% royalty."""
    start = china_today()
    body = {
        "kind": kind,
        "field_of_use": "体外诊断试剂",
        "starts_on": start.isoformat(),
        "term_months": 60,
        "upfront_fen": 50_000_000,
        "royalty_bp": 300,
        "annual_minimum_fen": 10_000_000,
        "instalments": [
            {"due_on": date(start.year + 1, start.month, 1).isoformat(), "amount_fen": 20_000_000},
            {"due_on": date(start.year + 2, start.month, 1).isoformat(), "amount_fen": 20_000_000},
        ],
        "milestones": [{"event": "产品获得医疗器械注册证", "amount_fen": 30_000_000, "due_days_after_event": 30}],
    }
    body.update(overrides)
    return body


async def draft(db, world: World, body: dict, role: Role = Role.tto_staff) -> Agreement:
    principal = await world.principal(db, world.emails[role])
    agreement = await LicensingService(db).create(principal, msgspec.convert(body, AgreementCreate))
    await db.commit()
    return agreement


async def move(db, world: World, agreement_id: uuid.UUID, action: str, role: Role, **fields) -> Agreement:
    principal = await world.principal(db, world.emails[role])
    service = LicensingService(db)
    if action == "sign" and "document_sha256" not in fields:
        fields["document_sha256"] = (await service.get(principal, agreement_id)).document_sha256
    moved = await service.transition(principal, agreement_id, msgspec.convert({"action": action, **fields}, TransitionIn))
    await db.commit()
    return moved


async def signed(db, world: World, agreement_id: uuid.UUID) -> Agreement:
    """Approved by the TTO manager and signed by both sides (in force if its day has come)."""
    await move(db, world, agreement_id, "approve", Role.tto_manager)
    await move(db, world, agreement_id, "sign", Role.tto_manager)
    return await move(db, world, agreement_id, "sign", Role.company_admin)


async def obligations(db, agreement_id: uuid.UUID) -> list[Obligation]:
    stmt = select(Obligation).where(Obligation.agreement_id == agreement_id).order_by(Obligation.sequence)
    return list((await db.scalars(stmt.execution_options(populate_existing=True))).all())


# ----- open licences (开放许可) ------------------------------------------------------------------------


def open_licence_body(listing_id: uuid.UUID, **overrides) -> dict:
    """An open licence: 50,000 yuan upfront and 3% of net sales, for three years in mainland China."""
    body = {
        "listing_id": str(listing_id),
        "fee_standard": "入门费5万元，另按年净销售额的3%提成",
        "upfront_fen": 5_000_000,
        "royalty_bp": 300,
        "payment_mode": "revenue_share",
        "term_months": 36,
        "territory": "中国大陆",
    }
    body.update(overrides)
    return body


async def declared(db, world: World, relation: str = "own", **overrides) -> OpenLicence:
    """An open licence declared on a fresh published result of the own (other) institution by its TTO."""
    listing = await published_result(db, world, relation)
    tto = world.emails[Role.tto_staff] if relation == "own" else "admin@institution.other.test"
    principal = await world.principal(db, tto)
    declaration = await LicensingService(db).declare(
        principal, msgspec.convert(open_licence_body(listing.id, **overrides), OpenLicenceIn)
    )
    await db.commit()
    return declaration


async def take(db, world: World, open_licence_id: uuid.UUID, email: str | None = None) -> Agreement:
    """The open licence taken by a company's administrator (the own company's by default)."""
    principal = await world.principal(db, email or world.emails[Role.company_admin])
    agreement = await LicensingService(db).take_open_licence(principal, open_licence_id)
    await db.commit()
    return agreement


# For the tenancy matrix: fresh records per role and organization.


async def matrix_open_licence(db, world: World, role: Role, relation: str) -> dict:
    """An active open licence on a fresh result of the own (other) institution."""
    return {"open_licence": (await declared(db, world, relation)).id}


async def matrix_result_to_declare(db, world: World, role: Role, relation: str) -> dict:
    """A fresh published result of the own (other) institution, its id in world.scratch for a body."""
    listing = await published_result(db, world, relation)
    world.scratch["listing"] = listing.id
    return {"listing": listing.id}


def open_licence_form() -> dict:
    return {
        "fee_standard": "入门费5万元，另按年净销售额的3%提成",
        "upfront": "5",
        "royalty": "3",
        "payment_mode": "revenue_share",
        "term_months": "36",
        "territory": "中国大陆",
    }
