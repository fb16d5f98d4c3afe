"""What PostgreSQL itself keeps for events, whatever the code does: capacity, no table and no
person or team in two meetings at once, one live request per pair, slots that are times."""

from __future__ import annotations

import uuid
from datetime import date, time

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from marketplace.events.models import Event, Meeting, MeetingRequestState, MeetingState, Registration, RegistrationState, Seat
from marketplace.events.slots import slot_count, slots_of
from tests.events.factories import meeting_of, seed_event, seed_meeting_request, seed_registration


async def test_registrations_stop_at_the_capacity_and_a_cancellation_frees_a_place(db, world) -> None:
    event = await seed_event(db, world, capacity=2)
    first_id = (await seed_registration(db, event, world.orgs["institution/own"])).id
    await seed_registration(db, event, world.orgs["company/own"])
    await db.refresh(event)
    assert event.registered == 2
    with pytest.raises(IntegrityError, match="registered_within_capacity"):
        await seed_registration(db, event, world.orgs["company/other"])
    await db.rollback()
    await db.execute(update(Registration).where(Registration.id == first_id).values(state=RegistrationState.cancelled))
    await db.commit()
    await seed_registration(db, event, world.orgs["company/other"])
    await db.refresh(event)
    assert event.registered == 2


async def test_a_table_and_a_holder_take_one_meeting_per_slot(db, world) -> None:
    event = await seed_event(db, world)
    institution = await seed_registration(db, event, world.orgs["institution/own"])
    company = await seed_registration(db, event, world.orgs["company/own"])
    other = await seed_registration(db, event, world.orgs["company/other"])
    first = await meeting_of(db, await seed_meeting_request(db, event, company, institution, MeetingRequestState.accepted))
    second = await meeting_of(db, await seed_meeting_request(db, event, other, institution, MeetingRequestState.accepted))
    event_id, team, first_id, second_id = event.id, institution.id, first.id, second.id
    placed = {"state": MeetingState.placed, "slot": 0, "table_no": 0}
    await db.execute(update(Meeting).where(Meeting.id == first_id).values(**placed))
    await db.commit()
    with pytest.raises(IntegrityError, match="uq_event_meetings_table"):
        await db.execute(update(Meeting).where(Meeting.id == second_id).values(**placed))
    await db.rollback()
    # The institution's team is the holder both meetings share.
    db.add(Seat(event_id=event_id, slot=0, holder_id=team, meeting_id=first_id))
    await db.commit()
    db.add(Seat(event_id=event_id, slot=0, holder_id=team, meeting_id=second_id))
    with pytest.raises(IntegrityError, match="pk_event_meeting_seats"):
        await db.commit()


async def test_a_seated_meeting_has_its_slot_and_table_and_an_unplaced_one_has_none(db, world) -> None:
    event = await seed_event(db, world)
    institution = await seed_registration(db, event, world.orgs["institution/own"])
    company = await seed_registration(db, event, world.orgs["company/own"])
    meeting = await meeting_of(db, await seed_meeting_request(db, event, company, institution, MeetingRequestState.accepted))
    meeting_id = meeting.id
    with pytest.raises(IntegrityError, match="seated_has_slot"):
        await db.execute(update(Meeting).where(Meeting.id == meeting_id).values(state=MeetingState.placed))
    await db.rollback()
    with pytest.raises(IntegrityError, match="slot_with_table"):
        await db.execute(update(Meeting).where(Meeting.id == meeting_id).values(state=MeetingState.placed, slot=1, table_no=None))
    await db.rollback()
    # An unplaced meeting has no cell (a missed one keeps the cell it was to be held in).
    with pytest.raises(IntegrityError, match="seated_has_slot"):
        await db.execute(update(Meeting).where(Meeting.id == meeting_id).values(slot=1, table_no=0))


async def test_one_live_request_per_pair_whichever_side_asks(db, world) -> None:
    event = await seed_event(db, world)
    institution = await seed_registration(db, event, world.orgs["institution/own"])
    company = await seed_registration(db, event, world.orgs["company/own"])
    await seed_meeting_request(db, event, company, institution)
    event_id, institution_id = event.id, institution.id
    with pytest.raises(IntegrityError, match="uq_event_meeting_requests_live_pair"):
        await seed_meeting_request(db, event, institution, company)
    await db.rollback()
    # A request cannot name a registration of another event.
    event = await db.get(Event, event_id)
    institution = await db.get(Registration, institution_id)
    later = await seed_event(db, world)
    stranger = await seed_registration(db, later, world.orgs["company/other"])
    with pytest.raises(IntegrityError, match="fk_event_meeting_requests"):
        await seed_meeting_request(db, event, stranger, institution)


def test_slots_are_numbered_across_the_days_in_china_time() -> None:
    event = Event(
        id=uuid.uuid4(),
        starts_on=date(2026, 12, 10),
        ends_on=date(2026, 12, 11),
        day_starts_at=time(9, 0),
        day_ends_at=time(11, 50),
        slot_minutes=20,
    )
    slots = slots_of(event)
    assert slot_count(event) == len(slots) == 16  # 8 a day: the ninth would end at 11:60
    assert [s.number for s in slots] == list(range(16))
    assert slots[8].day == date(2026, 12, 11) and slots[8].starts_at.strftime("%H:%M %z") == "09:00 +0800"
    assert slots[7].ends_at.strftime("%H:%M") == "11:40"
