"""A small, fixed history for the dashboards' figures, made through the domains' services with a
clock in the past (Q2 2026 unless said), so each figure has a value worked out by hand.

Listings: A (own institution, 上海, oncology+digestive, inventors), B (own, cardiovascular),
C (other institution, 北京, oncology+digestive), D (own, draft).
Views: A 3 on 04-10, B 2 on 05-01, C 5 on 04-15 (Q2: 3 listings, 10 views); A 4 on 07-01.
Requests (submitted at 10:00 China time):
  R1 own company on A, 04-01: accepted 04-03, negotiating 04-10, agreed 04-21; agreement AG1
     (exclusive, upfront 500,000 yuan + milestone 300,000 yuan) signed 05-02, upfront paid 05-10;
  R2 other company on A, 04-05: declined 04-06;
  R3 own company on B, 05-01: accepted 05-11, then nothing;
  R4 own company on C, 06-01: never answered;
  R5 other company on B, 08-01: never answered (outside Q2).
AG2: pay-later licence of B to the other company (licence fee 300,000 yuan), signed 06-02, in use.
Income (CNY): AG1's upfront 50,000,000 fen on 05-10 (own, Shanghai shares: 70/10/5/15); a manual
contract of the other institution, 10,000,000 fen on 06-15 (Beijing shares: 70/5/20/5); a manual
contract of the own one, 2,000,000 fen on 07-20 (outside Q2).
Beds: a ward of 10 beds of the own institution open all year, 2 beds held 05-01..05-10 (20
bed-days); a trial centre opened 05-01, its reviews all approved that day and its first consent
06-10 (a start-up of 40 days).
A need of the own company opened 04-20, the own institution's response selected.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time

import msgspec
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import Organization, Role
from marketplace.analytics.services import AnalyticsService
from marketplace.beds.models import BedAllocation, TrialEngagement
from marketplace.catalog.models import ListingViewDay, Status
from marketplace.catalog.schemas import ListingCreate
from marketplace.db import CHINA_TIME
from marketplace.licensing.models import Obligation
from marketplace.licensing.schemas import AgreementCreate, PaymentIn, TransitionIn
from marketplace.licensing.services import LicensingService
from marketplace.matching.needs.models import Need, NeedResponse
from marketplace.matching.requests.schemas import MatchRequestCreate
from marketplace.matching.requests.services import MatchingService
from tests.beds.factories import allocation_row, seed_ward
from tests.catalog.factories import result_body, seed_listing
from tests.ledger.factories import income_body, ready_institutions, record, result_with_inventor
from tests.licensing.factories import licence_body, money_result, pay_later_body, published_result
from tests.matching.requests.factories import match_body
from tests.support.world import World

OTHER_COMPANY = "admin@company.other.test"
OTHER_TTO = "admin@institution.other.test"
OWN_TECHNICIANS = 2000


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime.combine(date(2026, month, day), time(hour), CHINA_TIME)


@dataclass
class Story:
    listings: dict[str, uuid.UUID] = field(default_factory=dict)
    requests: dict[str, uuid.UUID] = field(default_factory=dict)
    agreements: dict[str, uuid.UUID] = field(default_factory=dict)


async def build(db: AsyncSession, world: World) -> Story:
    story = Story()
    await ready_institutions(db, world)
    own = world.orgs["institution/own"]
    await db.execute(update(Organization).where(Organization.id == own.id).values(health_technicians=OWN_TECHNICIANS))
    story.listings["A"] = (await money_result(db, world)).id
    story.listings["B"] = (await published_result(db, world, therapeutic_areas=["cardiovascular"])).id
    story.listings["C"] = (await published_result(db, world, "other")).id
    draft = await seed_listing(db, own.id, msgspec.convert(result_body(), ListingCreate), status=Status.draft)
    story.listings["D"] = draft.id
    for name, day, views in (
        ("A", date(2026, 4, 10), 3),
        ("B", date(2026, 5, 1), 2),
        ("C", date(2026, 4, 15), 5),
        ("A", date(2026, 7, 1), 4),
    ):
        db.add(ListingViewDay(listing_id=story.listings[name], day=day, views=views))
    await db.commit()
    await _requests(db, world, story)
    await _agreements(db, world, story)
    other_result = await result_with_inventor(db, world, "other")
    await record(db, await world.principal(db, OTHER_TTO), income_body(other_result.id, 10_000_000, received_on="2026-06-15"))
    manager = await world.principal(db, world.emails[Role.tto_manager])
    await record(db, manager, income_body(story.listings["A"], 2_000_000, received_on="2026-07-20"))
    await _beds_and_need(db, world, story)
    await AnalyticsService(db).refresh()
    await db.commit()
    return story


async def _requests(db: AsyncSession, world: World, story: Story) -> None:
    service = MatchingService(db)

    async def person(email_or_role):
        return await world.principal(db, world.emails[email_or_role] if isinstance(email_or_role, Role) else email_or_role)

    async def send(name: str, who, listing: str, month: int, day: int) -> None:
        body = msgspec.convert(match_body(story.listings[listing]), MatchRequestCreate)
        story.requests[name] = (await service.create(await person(who), body, now=at(month, day))).id

    async def step(name: str, who, action: str, month: int, day: int, reason: str = "") -> None:
        await service.transition(await person(who), story.requests[name], action, reason, now=at(month, day))

    await send("R1", Role.company_member, "A", 4, 1)
    await step("R1", Role.tto_staff, "accept", 4, 3)
    await step("R1", Role.company_member, "start_negotiation", 4, 10)
    await step("R1", Role.tto_manager, "agree", 4, 20)
    await step("R1", Role.company_admin, "agree", 4, 21)
    await send("R2", OTHER_COMPANY, "A", 4, 5)
    await step("R2", Role.tto_staff, "decline", 4, 6, "不在本院许可范围内")
    await send("R3", Role.company_member, "B", 5, 1)
    await step("R3", Role.tto_staff, "accept", 5, 11)
    await send("R4", Role.company_member, "C", 6, 1)
    await send("R5", OTHER_COMPANY, "B", 8, 1)
    await db.commit()


async def _agreements(db: AsyncSession, world: World, story: Story) -> None:
    service = LicensingService(db)
    staff = await world.principal(db, world.emails[Role.tto_staff])
    manager = await world.principal(db, world.emails[Role.tto_manager])

    async def sign_through(agreement_id: uuid.UUID, company_admin, approve: datetime, signed: tuple[datetime, datetime]) -> None:
        agreement = await service.transition(manager, agreement_id, TransitionIn(action="approve"), now=approve)
        for who, moment in ((manager, signed[0]), (company_admin, signed[1])):
            sign = TransitionIn(action="sign", document_sha256=agreement.document_sha256)
            agreement = await service.transition(who, agreement_id, sign, now=moment)

    body = licence_body(
        "exclusive",
        match_request_id=str(story.requests["R1"]),
        result_ids=[str(story.listings["A"])],
        starts_on="2026-05-01",
        instalments=[],
        annual_minimum_fen=None,
    )
    ag1 = await service.create(staff, msgspec.convert(body, AgreementCreate), now=at(4, 25))
    await sign_through(ag1.id, await world.principal(db, world.emails[Role.company_admin]), at(4, 28), (at(5, 1), at(5, 2)))
    story.agreements["AG1"] = ag1.id
    upfront = await db.scalar(select(Obligation.id).where(Obligation.agreement_id == ag1.id, Obligation.kind == "upfront"))
    assert upfront is not None
    payment = PaymentIn(obligation_id=upfront, amount_fen=50_000_000, received_on=date(2026, 5, 10), reference="首付款")
    await service.record_payment(manager, ag1.id, payment, "fixed-ag1-upfront", now=at(5, 10, 15))

    other_company = world.orgs["company/other"].id
    body = pay_later_body(company_id=str(other_company), result_ids=[str(story.listings["B"])], starts_on="2026-06-01")
    ag2 = await service.create(staff, msgspec.convert(body, AgreementCreate), now=at(5, 25))
    await sign_through(ag2.id, await world.principal(db, OTHER_COMPANY), at(5, 28), (at(6, 1), at(6, 2)))
    story.agreements["AG2"] = ag2.id
    await db.commit()


async def _beds_and_need(db: AsyncSession, world: World, story: Story) -> None:
    ward = await seed_ward(db, world, beds=10, opens_on=date(2026, 1, 1))
    allocation = allocation_row(ward, world.orgs["company/own"].id, 2, date(2026, 5, 1), date(2026, 5, 10))
    db.add(allocation)
    await db.flush()
    await db.execute(update(BedAllocation).where(BedAllocation.id == allocation.id).values(state="approved"))
    db.add(
        TrialEngagement(
            institution_id=ward.institution_id,
            company_id=world.orgs["company/own"].id,
            listing_id=ward.listing_id,
            title="一项Ⅱ期临床试验",
            phase="II",
            sponsor="本企业",
            pi_name="张晓华",
            reviews_approved_on=date(2026, 5, 1),
            first_consent_on=date(2026, 6, 10),
            created_at=at(5, 1),
        )
    )
    need = Need(
        kind="need",
        organization_id=world.orgs["company/own"].id,
        organization_kind="company",
        title="寻找肝癌早筛技术",
        problem="希望引进一项肝癌早筛技术。",
        areas=["oncology"],
        wanted=["result"],
        deadline=date(2026, 6, 30),
        opened_at=at(4, 20),
    )
    db.add(need)
    await db.flush()
    response = NeedResponse(
        need_id=need.id,
        institution_id=world.orgs["institution/own"].id,
        proposal="本院的外泌体肝癌早筛方法。",
        listing_ids=[story.listings["A"]],
        submitted_at=at(4, 22),
        state_changed_at=at(5, 5),
    )
    db.add(response)
    await db.flush()
    # Rows start in their machines' first states (the database's guard); then the moves.
    await db.execute(update(Need).where(Need.id == need.id).values(state="open"))
    await db.execute(update(NeedResponse).where(NeedResponse.id == response.id).values(state="selected"))
    await db.commit()
