"""A ward's calendar: each day of the next 12 months with beds held, requested and free, from one
query; and the wards themselves with the 10% rule."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import msgspec
import pytest
from sqlalchemy import select, update

from marketplace.accounts.models import Organization, Role
from marketplace.audit.models import AuditEvent
from marketplace.beds.models import BedAllocation
from marketplace.beds.schemas import WardIn, WardUpdate
from marketplace.beds.services import BedsService
from marketplace.db import china_today, make_sessionmaker
from marketplace.errors import Forbidden, InvalidInput
from tests.beds.factories import allocation_row, future, move_allocation, request_beds, seed_ward


async def test_each_day_shows_held_requested_and_free_beds(db, world) -> None:
    ward = await seed_ward(db, world, beds=10)
    approved = await request_beds(db, world, ward, future(3), future(5), beds=6)
    await request_beds(db, world, ward, future(4), future(6), beds=3)
    await move_allocation(db, world, approved.id, "approve")
    days = await BedsService(db).ward_days(ward)
    assert len(days) == 365 and days[0].day == china_today()
    by_day = {day.day: day for day in days}
    assert (by_day[future(3)].held, by_day[future(3)].requested, by_day[future(3)].free) == (6, 0, 4)
    assert (by_day[future(5)].held, by_day[future(5)].requested, by_day[future(5)].free) == (6, 3, 4)
    assert (by_day[future(6)].held, by_day[future(6)].requested, by_day[future(6)].free) == (0, 3, 10)


async def test_closed_days_have_no_beds(db, world) -> None:
    ward = await seed_ward(db, world, beds=10, opens_on=future(30))
    days = await BedsService(db).ward_days(ward)
    assert {day.capacity for day in days[:30]} == {0} and days[30].free == 10


async def test_the_calendar_of_2000_allocations_is_one_quick_query(db, world) -> None:
    ward = await seed_ward(db, world, beds=2000)
    company = world.orgs["company/own"].id
    rows = [allocation_row(ward, company, 1, future(i % 300), future(i % 300 + 20)) for i in range(2000)]
    db.add_all(rows)
    await db.commit()
    await db.execute(update(BedAllocation).where(BedAllocation.id.in_([row.id for row in rows[:1000]])).values(state="approved"))
    await db.commit()
    beds = BedsService(db)
    await beds.ward_days(ward)
    started = time.perf_counter()
    days = await beds.ward_days(ward)
    assert time.perf_counter() - started < 1.0  # generous for a shared machine; the bench script measures p95
    assert sum(day.held for day in days) == 1000 * 21 and sum(day.requested for day in days) == 1000 * 21


async def test_the_tto_adds_and_edits_wards_on_its_research_ward_listings(db, world) -> None:
    ward = await seed_ward(db, world, beds=10)
    tto = await world.principal(db, world.emails[Role.tto_staff])
    beds = BedsService(db)
    body = {
        "listing_id": str(ward.listing_id),
        "name": "二病区",
        "specialty": "心血管",
        "research_beds": 8,
        "opens_on": "2026-01-01",
    }
    created_id = (await beds.create_ward(tto, msgspec.convert(body, WardIn))).id
    ward_id = ward.id
    await db.commit()
    with pytest.raises(InvalidInput) as refused:
        await beds.create_ward(tto, msgspec.convert(body, WardIn))
    assert refused.value.errors[0].field == "name"
    company = await world.principal(db, world.emails[Role.company_admin])
    with pytest.raises(Forbidden):
        await beds.create_ward(company, msgspec.convert(body | {"name": "三病区"}, WardIn))
    held = await request_beds(db, world, ward, future(3), future(5), beds=6)
    await move_allocation(db, world, held.id, "approve")
    change = {"name": "一病区", "specialty": "肿瘤", "research_beds": 5, "opens_on": "2026-01-01"}
    with pytest.raises(InvalidInput) as refused:
        await beds.update_ward(tto, ward_id, msgspec.convert(change, WardUpdate))
    assert refused.value.errors[0].field == "research_beds"
    await db.rollback()
    updated = await beds.update_ward(
        tto, created_id, msgspec.convert(change | {"name": "二病区", "research_beds": 12}, WardUpdate)
    )
    assert updated.beds == 12


async def test_research_beds_over_10_percent_need_the_managers_acknowledgement(db, world) -> None:
    institution = world.orgs["institution/own"]
    approved_beds = await db.scalar(select(Organization.approved_beds).where(Organization.id == institution.id))
    ward = await seed_ward(db, world, beds=max(1, (approved_beds or 0) // 10))
    beds = BedsService(db)
    status = await beds.capacity_status(institution.id)
    assert not status.over and status.research_beds == ward.beds
    await seed_ward_more(db, ward, approved_beds)
    status = await beds.capacity_status(institution.id)
    assert status.over and not status.acknowledged
    staff = await world.principal(db, world.emails[Role.tto_staff])
    with pytest.raises(Forbidden):
        await beds.acknowledge_capacity(staff, "临床需求")
    manager = await world.principal(db, world.emails[Role.tto_manager])
    status = await beds.acknowledge_capacity(manager, "承接国家重点项目，经院务会批准")
    await db.commit()
    assert status.over and status.acknowledged and status.reason.startswith("承接")
    assert await db.scalar(select(AuditEvent.id).where(AuditEvent.action == "research_beds_acknowledged"))


async def seed_ward_more(db, ward, approved_beds) -> None:
    """A second ward taking the institution past 10%."""
    from marketplace.beds.models import Ward

    db.add(
        Ward(
            listing_id=ward.listing_id,
            institution_id=ward.institution_id,
            name="扩建病区",
            specialty="血液",
            beds=min(2000, (approved_beds or 0) // 10 + 5),
            opens_on=ward.opens_on - timedelta(days=1),
        )
    )
    await db.commit()


async def test_the_ward_form_sent_twice_at_once_answers_the_name_not_a_500(db, world, engine) -> None:
    # The first insert is flushed but not committed, so the second's name check cannot see it and its
    # insert waits on the unique constraint: it must come back as the name's field error.
    ward = await seed_ward(db, world)
    tto = await world.principal(db, world.emails[Role.tto_staff])
    body = msgspec.convert(
        {
            "listing_id": str(ward.listing_id),
            "name": "双击病区",
            "specialty": "肿瘤",
            "research_beds": 4,
            "opens_on": "2026-01-01",
        },
        WardIn,
    )
    sessions = make_sessionmaker(engine)
    async with sessions() as first, sessions() as second:
        await BedsService(first).create_ward(tto, body)
        twin = asyncio.create_task(BedsService(second).create_ward(tto, body))
        await asyncio.sleep(0.5)  # the twin is waiting on the constraint now
        await first.commit()
        with pytest.raises(InvalidInput) as refused:
            await twin
        assert [e.field for e in refused.value.errors] == ["name"]
        await second.rollback()
