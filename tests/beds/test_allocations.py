"""Bed allocations through the service: a company asks, the TTO approves, waitlists or declines,
PostgreSQL refuses a day over the ward's beds (a 409 naming the day), freed beds promote the
waiting list, and 50 concurrent approvals leave exactly the ones that fit approved."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import msgspec
import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.audit.models import AuditEvent
from marketplace.beds.models import BedAllocation, WardDayUsage
from marketplace.beds.schemas import AllocationIn, TransitionIn
from marketplace.beds.services import BedsService
from marketplace.db import make_engine, make_sessionmaker
from marketplace.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from tests.beds.factories import allocation_body, future, move_allocation, request_beds, seed_ward
from tests.catalog.factories import published
from tests.matching.requests.factories import create as create_match
from tests.matching.requests.factories import move as move_match


async def test_a_request_is_approved_used_and_completed_with_every_step_audited(db, world) -> None:
    ward = await seed_ward(db, world, beds=10)
    allocation = await request_beds(db, world, ward, future(10), future(19), beds=4, fee_fen=1_200_000)
    assert allocation.state == "requested" and allocation.fee_fen == 1_200_000
    for action in ("approve", "start", "complete"):
        await move_allocation(db, world, allocation.id, action)
    assert (await db.get(BedAllocation, allocation.id, populate_existing=True)).state == "completed"
    actions = set(await db.scalars(select(AuditEvent.action).where(AuditEvent.subject_id == str(allocation.id))))
    assert actions >= {
        "bed_allocation_requested",
        "bed_allocation_approve",
        "bed_allocation_start",
        "bed_allocation_complete",
    }
    held = await db.scalar(select(func.max(WardDayUsage.held)).where(WardDayUsage.ward_id == ward.id))
    assert held == 0  # completed beds are free again


async def test_an_approval_past_the_wards_beds_is_a_409_naming_the_first_full_day(db, world) -> None:
    ward = await seed_ward(db, world, beds=10)
    first = await request_beds(db, world, ward, future(10), future(20), beds=7)
    second = await request_beds(db, world, ward, future(5), future(15), beds=4)
    second_id = second.id
    await move_allocation(db, world, first.id, "approve")
    with pytest.raises(Conflict) as refused:
        await move_allocation(db, world, second_id, "approve")
    await db.rollback()
    assert refused.value.params["day"] == future(10).isoformat()
    assert refused.value.errors[0].field == "bed_count"
    assert (await db.get(BedAllocation, second_id, populate_existing=True)).state == "requested"


async def test_freed_beds_promote_the_waiting_list_oldest_first(db, world) -> None:
    ward = await seed_ward(db, world, beds=10)
    holding = await request_beds(db, world, ward, future(10), future(20), beds=8)
    older = await request_beds(db, world, ward, future(12), future(14), beds=6)
    newer = await request_beds(db, world, ward, future(12), future(14), beds=5)
    await move_allocation(db, world, holding.id, "approve")
    for waiting in (older, newer):
        await move_allocation(db, world, waiting.id, "waitlist")
    await move_allocation(db, world, holding.id, "cancel", Role.company_admin, reason="试验推迟")
    states = dict((await db.execute(select(BedAllocation.id, BedAllocation.state))).all())
    assert states[holding.id] == "cancelled"
    assert states[older.id] == "approved"  # 6 fit, then 6 + 5 do not
    assert states[newer.id] == "waitlisted"
    promoted = await db.scalar(select(AuditEvent).where(AuditEvent.action == "bed_allocation_promote"))
    assert promoted is not None and promoted.subject_id == str(older.id) and promoted.actor_user_id is None


async def test_bad_requests_name_the_field_and_only_companies_ask(db, world) -> None:
    ward = await seed_ward(db, world, beds=10)
    company = await world.principal(db, world.emails[Role.company_admin])
    beds = BedsService(db)
    cases = [
        ({"ends_on": future(1).isoformat()}, "ends_on"),
        ({"starts_on": (future(0) - timedelta(days=3)).isoformat()}, "starts_on"),
        ({"bed_count": 11}, "bed_count"),
        ({"ward_id": "00000000-0000-0000-0000-000000000000"}, "ward_id"),
    ]
    for change, field in cases:
        body = allocation_body(ward.id, future(5), future(8)) | change
        with pytest.raises(InvalidInput) as refused:
            await beds.request_allocation(company, msgspec.convert(body, AllocationIn))
        assert field in {error.field for error in refused.value.errors}
    tto = await world.principal(db, world.emails[Role.tto_manager])
    with pytest.raises(Forbidden):
        await beds.request_allocation(tto, msgspec.convert(allocation_body(ward.id, future(5), future(8)), AllocationIn))


async def test_each_side_sees_and_moves_only_its_own(db, world) -> None:
    ward = await seed_ward(db, world, beds=10)
    allocation_id = (await request_beds(db, world, ward, future(5), future(8))).id
    with pytest.raises(Forbidden):
        await move_allocation(db, world, allocation_id, "approve", Role.company_admin)
    await db.rollback()
    other_tto = await world.principal(db, "admin@institution.other.test")
    with pytest.raises(NotFound):
        await BedsService(db).get_allocation(other_tto, allocation_id)


async def test_an_accepted_clinical_trial_match_request_asks_for_its_wards_beds(db, world) -> None:
    ward = await seed_ward(db, world, beds=10)
    match = await create_match(db, world, ward.listing_id, engagement_type="clinical_trial")
    body = allocation_body(ward.id, future(5), future(8), match_request_id=str(match.id))
    company = await world.principal(db, world.emails[Role.company_member])
    with pytest.raises(InvalidInput):  # not accepted yet
        await BedsService(db).request_allocation(company, msgspec.convert(body, AllocationIn))
    await move_match(db, world, match.id, "accept", Role.tto_staff)
    allocation = await BedsService(db).request_allocation(company, msgspec.convert(body, AllocationIn))
    assert allocation.match_request_id == match.id
    elsewhere = await published(db, world, "own")
    assert elsewhere != ward.listing_id


async def test_fifty_concurrent_approvals_leave_exactly_the_ones_that_fit(db, world, database_url) -> None:
    ward = await seed_ward(db, world, beds=20)
    # 50 requests of 1..3 beds over overlapping weeks: together far past 20 beds a day.
    requests = [await request_beds(db, world, ward, future(10 + i % 7), future(20 + i % 5), beds=1 + i % 3) for i in range(50)]
    tto = await world.principal(db, world.emails[Role.tto_manager])
    engine = make_engine(database_url, pool_size=50, max_overflow=0)

    async def approve(allocation_id):
        async with make_sessionmaker(engine)() as session:
            try:
                await BedsService(session).transition_allocation(tto, allocation_id, TransitionIn(action="approve"))
                await session.commit()
                return "approved"
            except DomainError as refused:
                await session.rollback()
                return refused

    try:
        answers = await asyncio.gather(*(approve(request.id) for request in requests))
    finally:
        await engine.dispose()
    refused = [answer for answer in answers if answer != "approved"]
    assert refused and all(isinstance(answer, Conflict) and answer.status_code == 409 for answer in refused)
    approved = {request.id for request, answer in zip(requests, answers, strict=True) if answer == "approved"}
    rows = (await db.execute(select(BedAllocation.id, BedAllocation.state, BedAllocation.beds))).all()
    assert {row.id for row in rows if row.state == "approved"} == approved
    usage = list(await db.scalars(select(WardDayUsage).where(WardDayUsage.ward_id == ward.id)))
    assert max(day.held for day in usage) <= 20
    # The per-day rows agree with the approved allocations, and each refused one did not fit.
    by_id = {request.id: request for request in requests}
    held = {day.day: day.held for day in usage}
    for day, count in held.items():
        assert count == sum(by_id[i].beds for i in approved if by_id[i].starts_on <= day <= by_id[i].ends_on)
    for request, answer in zip(requests, answers, strict=True):
        if answer != "approved":
            days = [request.starts_on + timedelta(days=n) for n in range((request.ends_on - request.starts_on).days + 1)]
            assert any(held.get(day, 0) + request.beds > 20 for day in days)


async def test_the_api_answers_an_overfull_day_with_a_translated_409(client, db, world) -> None:
    ward = await seed_ward(db, world, beds=4)
    first = await request_beds(db, world, ward, future(3), future(6), beds=3)
    await move_allocation(db, world, first.id, "approve")
    asked = await client.post(
        "/api/v1/bed-allocations",
        json=allocation_body(ward.id, future(5), future(8), beds=2),
        headers=world.bearer(Role.company_admin),
    )
    assert asked.status_code == 201 and asked.json()["state"] == "requested"
    assert asked.json()["actions"] == ["cancel"]
    answer = await client.post(
        f"/api/v1/bed-allocations/{asked.json()['id']}/transitions",
        json={"action": "approve"},
        headers=world.bearer(Role.tto_manager),
    )
    assert answer.status_code == 409
    assert future(5).isoformat() in answer.json()["detail"] and "空余床位不足" in answer.json()["detail"]
    calendar = await client.get(f"/api/v1/wards/{ward.id}/calendar", headers=world.bearer(Role.company_admin))
    days = {day["day"]: day for day in calendar.json()["days"]}
    assert days[future(5).isoformat()] == {
        "day": future(5).isoformat(),
        "capacity": 4,
        "held": 3,
        "requested": 2,
        "free": 1,
    }
