"""Licensing test data: a published result, a match request agreed on it, agreement bodies of each
kind, and agreements drafted and moved through the service as a given member of the world."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import msgspec
from sqlalchemy import select

from marketplace import states
from marketplace.accounts.models import Role
from marketplace.catalog.models import Listing, Status
from marketplace.catalog.schemas import ListingCreate
from marketplace.db import china_today
from marketplace.licensing.lifecycle import OBLIGATION
from marketplace.licensing.models import Agreement, Obligation, OpenLicence
from marketplace.licensing.open_licence_schemas import OpenLicenceIn
from marketplace.licensing.schemas import AgreementCreate, PaymentIn, RoyaltyReportIn, TransitionIn
from marketplace.licensing.services import LicensingService
from tests.catalog.factories import result_body, seed_listing
from tests.ledger.factories import ready_institutions, seed_result
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


# ----- the tenancy matrix (tests/app/test_tenancy.py) ----------------------------------------------

OTHER_TTO = "admin@institution.other.test"


async def matrix_licence_result(db, world: World, role: Role, relation: str) -> dict:
    """A fresh published result of the own (other) institution, for a draft's body (world.scratch)."""
    world.scratch["result"] = (await published_result(db, world, relation)).id
    return {}


def matrix_body(world: World, role: Role, relation: str) -> dict:
    """A non-exclusive licence of the prepared result to the company of the same relation."""
    company = world.orgs[f"company/{relation}"].id
    return licence_body("non_exclusive", company_id=str(company), result_ids=[str(world.scratch["result"])])


def matrix_form(world: World, role: Role, relation: str) -> dict:
    """The draft form for the same licence: yuan and per cent, as typed."""
    return {
        "kind": "non_exclusive",
        "company_id": str(world.orgs[f"company/{relation}"].id),
        "result_ids": str(world.scratch["result"]),
        "territory": "中国大陆",
        "field_of_use": "体外诊断试剂",
        "starts_on": china_today().isoformat(),
        "term_months": "60",
        "upfront": "500,000.00",
        "royalty": "3",
    }


async def matrix_draft(db, world: World, role: Role, relation: str) -> dict:
    """A fresh draft of the own institution for the own company ("own"), or of the other
    institution for the other company."""
    await matrix_licence_result(db, world, role, relation)
    principal = await world.principal(db, world.emails[Role.tto_staff] if relation == "own" else OTHER_TTO)
    body = msgspec.convert(matrix_body(world, role, relation), AgreementCreate)
    agreement = await LicensingService(db).create(principal, body)
    await db.commit()
    return {"agreement": agreement.id}


async def matrix_approved(db, world: World, role: Role, relation: str) -> dict:
    """A fresh agreement approved by its TTO manager: it has a document."""
    values = await matrix_draft(db, world, role, relation)
    principal = await world.principal(db, world.emails[Role.tto_manager] if relation == "own" else OTHER_TTO)
    await LicensingService(db).transition(principal, values["agreement"], TransitionIn(action="approve"))
    await db.commit()
    return values


async def licence_in_force(db, world: World, title: str = "", **overrides) -> Agreement:
    """A non-exclusive licence of the own institution to the own company, signed and in force from
    today (or its `starts_on`): its upfront fee due today, two instalments next year."""
    result = await published_result(db, world, **({"title_zh": title} if title else {}))
    body = licence_body("non_exclusive", company_id=str(world.orgs["company/own"].id), result_ids=[str(result.id)])
    agreement = await draft(db, world, {**body, **overrides})
    return await signed(db, world, agreement.id)


async def settle(db, obligation: Obligation, paid_on: date) -> None:
    """The item paid in full on `paid_on`, as the payments service leaves it (no ledger income:
    the performance record reads only the items)."""
    agreement = await db.get(Agreement, obligation.agreement_id)
    obligation.paid_fen, obligation.paid_on = obligation.amount_fen, paid_on
    await states.apply(db, OBLIGATION, None, obligation, "settle", as_system=True, context=agreement)
    await db.commit()


async def matrix_record(db, world: World, role: Role, relation: str) -> dict:
    """The tenancy matrix: the own or other company (the own one with a licence in force)."""
    if relation == "own":
        await licence_in_force(db, world)
    return {"company": world.orgs[f"company/{relation}"].id}


# ----- money: agreements in force with a policy in the ledger, payments, reports ----------------

TTO_OF = {"own": None, "other": "admin@institution.other.test"}  # None: the world's own TTO manager
ADMIN_OF = {"own": None, "other": "admin@company.other.test"}


async def party(db, world: World, side: str, relation: str = "own"):
    """The institution's TTO manager or the company's administrator, of the own or other pair."""
    email = (TTO_OF if side == "institution" else ADMIN_OF)[relation]
    role = Role.tto_manager if side == "institution" else Role.company_admin
    return await world.principal(db, email or world.emails[role])


async def in_force(db, world: World, body: dict, relation: str = "own") -> Agreement:
    """Drafted, approved and signed by both sides of the own (other) institution and company:
    in force (or in its use period) when its day has come."""
    service = LicensingService(db)
    tto, admin = await party(db, world, "institution", relation), await party(db, world, "company", relation)
    body = {"company_id": str(world.orgs[f"company/{relation}"].id), **body}
    agreement = await service.create(tto, msgspec.convert(body, AgreementCreate))
    for who, action in ((tto, "approve"), (tto, "sign"), (admin, "sign")):
        fields = {"document_sha256": agreement.document_sha256} if action == "sign" else {}
        agreement = await service.transition(who, agreement.id, msgspec.convert({"action": action, **fields}, TransitionIn))
    await db.commit()
    return agreement


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


async def money_result(db, world: World, relation: str = "own", inventors: list[dict] | None = None) -> Listing:
    """A published result of the own (other) institution naming inventors, both institutions with
    a distribution policy in force."""
    await ready_institutions(db, world)
    return await seed_result(db, world.orgs[f"institution/{relation}"].id, inventors, ownership_model="institution")


async def record_payment(db, world: World, agreement_id, body: dict, key: str | None = None, relation: str = "own"):
    tto = await party(db, world, "institution", relation)
    found = await LicensingService(db).record_payment(
        tto, agreement_id, msgspec.convert(body, PaymentIn), key or uuid.uuid4().hex
    )
    await db.commit()
    return found


async def report(db, world: World, agreement_id, body: dict, relation: str = "own"):
    admin = await party(db, world, "company", relation)
    found = await LicensingService(db).report_royalties(admin, agreement_id, msgspec.convert(body, RoyaltyReportIn))
    await db.commit()
    return found


# ----- for the tenancy matrix (tests/app/test_tenancy.py) -----------------------------------------


def matrix_licence_body(result_id, *, milestones: int = 0) -> dict:
    """A non-exclusive licence that started two years ago: the upfront fee is due, a 3% royalty."""
    start = china_today() - timedelta(days=730)
    return licence_body(
        "non_exclusive",
        result_ids=[str(result_id)],
        starts_on=start.isoformat(),
        instalments=[],
        annual_minimum_fen=None,
        milestones=[
            {"event": f"里程碑{number}", "amount_fen": 1_000_000, "due_days_after_event": 30} for number in range(milestones)
        ],
    )


async def matrix_agreement(db, world: World, role, relation: str) -> dict:
    """The own (other) pair's licence in force, made once per test and kept in world.scratch."""
    key = f"agreement/{relation}"
    if key not in world.scratch:
        result = await money_result(db, world, relation)
        agreement = await in_force(db, world, matrix_licence_body(result.id, milestones=20), relation)
        items = await obligations(db, agreement.id)
        world.scratch[key] = agreement.id
        world.scratch[f"upfront/{relation}"] = next(item.id for item in items if item.kind == "upfront")
        world.scratch[f"milestones/{relation}"] = [item.id for item in items if item.kind == "milestone"]
        world.scratch[f"period/{relation}"] = 0
    return {"agreement": world.scratch[key]}


def matrix_payment(world: World, role, relation: str) -> dict:
    return {
        "obligation_id": str(world.scratch[f"upfront/{relation}"]),
        "amount_fen": 100,
        "received_on": china_today().isoformat(),
    }


def matrix_report(world: World, role, relation: str) -> dict:
    """A one-day period not reported yet (each call the next day from the agreement's start)."""
    day = china_today() - timedelta(days=730) + timedelta(days=world.scratch[f"period/{relation}"])
    world.scratch[f"period/{relation}"] += 1
    return {"period_start": day.isoformat(), "period_end": day.isoformat(), "net_sales_fen": 1_000_000}


def matrix_milestone(world: World, role, relation: str) -> dict:
    """A milestone of the schedule not reached yet (each call the next one)."""
    return {"obligation_id": str(world.scratch[f"milestones/{relation}"].pop()), "reached_on": china_today().isoformat()}


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
