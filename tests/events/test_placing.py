"""Placing accepted meetings into slots and tables (placing.py) and what the event's steps do to
them (consequences.py): seats written and never double-booked, availability kept, confirmed
meetings left where they are unless the organizer asks, walk-ins placed at once, a violation
answered 409 with nothing written."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select, update

from marketplace.accounts.models import Role
from marketplace.audit.models import AuditEvent
from marketplace.db import utcnow
from marketplace.errors import Conflict, Forbidden
from marketplace.events.consequences import after_event_step
from marketplace.events.meeting_requests import MeetingRequestsService
from marketplace.events.meeting_schemas import MeetingRequestCreate, MeetingRequestTransitionIn
from marketplace.events.models import EventState, Meeting, MeetingRequestState, MeetingState, Registration, Seat
from marketplace.events.placing import NO_COMMON_SLOT, NO_ROOM, PlacingService, holders_of
from marketplace.events.slots import slot_count
from tests.events.factories import meeting_of, seed_event, seed_meeting_request, seed_registration
from tests.events.meeting_factories import meetings_of_event, principal, seats_of_event, teams

ACCEPTED = MeetingRequestState.accepted


async def admin(db, world):
    return await principal(db, world, Role.platform_admin)


async def check_no_double_booking(db, event) -> None:
    """Read back from the database: each seated meeting has one seat per holder in its slot, no
    (slot, table) twice, and its slot is free for both teams."""
    meetings = [m for m in await meetings_of_event(db, event.id) if m.state in ("placed", "confirmed", "held")]
    assert len({(m.slot, m.table_no) for m in meetings}) == len(meetings)
    seats = await seats_of_event(db, event.id)
    assert Counter((s.slot, s.holder_id) for s in seats).most_common(1)[0][1] == 1 if seats else True
    for meeting in meetings:
        assert {s.slot for s in seats if s.meeting_id == meeting.id} == {meeting.slot}
        assert 0 <= meeting.table_no < len(event.tables)


async def test_placing_writes_seats_and_never_double_books_a_team_or_a_table(db, world) -> None:
    t = await teams(db, world, EventState.scheduling, tables=["A1", "A2"])
    # The own institution meets both companies; the other institution meets both too.
    for asking, asked in (
        (t.company, t.institution),
        (t.other_company, t.institution),
        (t.company, t.other_institution),
        (t.other_company, t.other_institution),
    ):
        await seed_meeting_request(db, t.event, asking, asked, ACCEPTED)
    summary = await PlacingService(db).run(await admin(db, world), t.event.id)
    await db.commit()
    assert summary.placed == 4 and summary.unplaced == [] and summary.upper_bound >= 4
    await check_no_double_booking(db, t.event)
    seats = await seats_of_event(db, t.event.id)
    assert len(seats) == 12  # three holders per meeting
    meetings = await meetings_of_event(db, t.event.id)
    assert {m.state for m in meetings} == {MeetingState.placed}
    institution_slots = [s.slot for s in seats if s.holder_id == t.institution.id]
    assert len(institution_slots) == len(set(institution_slots)) == 2
    audit = await db.scalar(select(AuditEvent).where(AuditEvent.action == "event_schedule_run"))
    assert audit is not None


async def test_availability_is_kept_and_unplaced_meetings_say_why(db, world) -> None:
    event = await seed_event(db, world, EventState.scheduling, tables=["A1"])
    institution = await seed_registration(db, event, world.orgs["institution/own"], slots=[2, 3])
    company = await seed_registration(db, event, world.orgs["company/own"], slots=[3, 4])
    other = await seed_registration(db, event, world.orgs["company/other"], slots=[3])
    apart = await seed_registration(db, event, world.orgs["institution/other"], slots=[0])
    placed = await meeting_of(db, await seed_meeting_request(db, event, company, institution, ACCEPTED))
    crowded = await meeting_of(db, await seed_meeting_request(db, event, other, institution, ACCEPTED))
    never = await meeting_of(db, await seed_meeting_request(db, event, company, apart, ACCEPTED))
    ids = {placed.id, crowded.id, never.id}
    summary = await PlacingService(db).run(await admin(db, world), event.id)
    await db.commit()
    why = dict(summary.unplaced)
    assert why.pop(never.id) == NO_COMMON_SLOT
    # Slot 3 is the only one the institution shares with either company: one of them gets it.
    assert list(why.values()) == [NO_ROOM] and summary.placed == 1
    (seated,) = [m for m in await meetings_of_event(db, event.id) if m.id in ids and m.slot is not None]
    assert (seated.slot, seated.table_no) == (3, 0)


async def test_only_the_organizer_runs_it_and_only_while_scheduling_or_running(db, world) -> None:
    t = await teams(db, world, EventState.registration_open)
    event_id = t.event.id
    with pytest.raises(Conflict):
        await PlacingService(db).run(await admin(db, world), event_id)
    await db.rollback()
    with pytest.raises(Forbidden):
        await PlacingService(db).run(await principal(db, world, Role.tto_manager), event_id)


async def test_confirmed_meetings_stay_unless_the_organizer_lets_them_move(db, world) -> None:
    t = await teams(db, world, EventState.scheduling)
    first = await meeting_of(db, await seed_meeting_request(db, t.event, t.company, t.institution, ACCEPTED))
    event_id, first_id = t.event.id, first.id
    await PlacingService(db).run(await admin(db, world), event_id)
    await after_event_step(db, t.event, "start", await admin(db, world), utcnow())
    t.event.state = EventState.running
    await db.commit()
    (confirmed,) = await meetings_of_event(db, event_id)
    assert confirmed.state == MeetingState.confirmed
    where = (confirmed.slot, confirmed.table_no)
    # The teams are no longer free then; a run without leave keeps the meeting where it is.
    late = [s for s in range(slot_count(t.event)) if s != where[0]]
    await db.execute(update(Registration).where(Registration.event_id == event_id).values(available_slots=late))
    await db.commit()
    await PlacingService(db).run(await admin(db, world), event_id)
    await db.commit()
    (kept,) = await meetings_of_event(db, event_id)
    assert (kept.state, kept.slot, kept.table_no) == (MeetingState.confirmed, *where)
    summary = await PlacingService(db).run(await admin(db, world), event_id, move_confirmed=True)
    await db.commit()
    (moved,) = await meetings_of_event(db, event_id)
    assert moved.id == first_id and moved.state == MeetingState.confirmed and moved.slot in late
    assert summary.moved == 1
    await check_no_double_booking(db, t.event)


async def test_a_walk_in_is_placed_at_once_without_moving_confirmed_meetings(db, world, settings) -> None:
    t = await teams(db, world, EventState.scheduling, tables=["A1"])
    await seed_meeting_request(db, t.event, t.company, t.institution, ACCEPTED)
    event_id = t.event.id
    await PlacingService(db).run(await admin(db, world), event_id)
    await after_event_step(db, t.event, "start", await admin(db, world), utcnow())
    t.event.state = EventState.running
    await db.commit()
    (confirmed,) = await meetings_of_event(db, event_id)
    where = (confirmed.slot, confirmed.table_no)
    walk_in = MeetingRequestCreate(to_registration_id=t.institution.id, from_registration_id=t.other_company.id)
    created = await MeetingRequestsService(db, settings).create(await admin(db, world), event_id, walk_in)
    await db.commit()
    assert created.state == MeetingRequestState.accepted
    meetings = {m.meeting_request_id: m for m in await meetings_of_event(db, event_id)}
    new = meetings[created.id]
    assert new.state == MeetingState.confirmed and new.slot is not None and new.slot != where[0]
    assert (meetings[confirmed.meeting_request_id].slot, meetings[confirmed.meeting_request_id].table_no) == where
    await check_no_double_booking(db, t.event)


async def test_a_participant_cannot_book_a_walk_in_for_others(db, world, settings) -> None:
    t = await teams(db, world, EventState.running)
    walk_in = MeetingRequestCreate(to_registration_id=t.institution.id, from_registration_id=t.other_company.id)
    with pytest.raises(Forbidden):
        await MeetingRequestsService(db, settings).create(await principal(db, world, Role.company_admin), t.event.id, walk_in)


async def test_a_seat_taken_behind_the_solvers_back_answers_409_and_writes_nothing(db, world) -> None:
    t = await teams(db, world, EventState.scheduling)
    wanted = await meeting_of(db, await seed_meeting_request(db, t.event, t.company, t.institution, ACCEPTED))
    stray = await meeting_of(db, await seed_meeting_request(db, t.event, t.other_company, t.other_institution, ACCEPTED))
    event_id, wanted_id, count = t.event.id, wanted.id, slot_count(t.event)
    # The institution's team "sits" in every slot through a meeting the solver does not see as seated.
    db.add_all(Seat(event_id=event_id, slot=s, holder_id=t.institution.id, meeting_id=stray.id) for s in range(count))
    await db.commit()
    with pytest.raises(Conflict):
        await PlacingService(db).run(await admin(db, world), event_id)
    await db.rollback()
    meeting = await db.scalar(select(Meeting).where(Meeting.id == wanted_id).execution_options(populate_existing=True))
    assert meeting is not None and (meeting.state, meeting.slot) == (MeetingState.unplaced, None)
    assert len(await seats_of_event(db, event_id)) == count


async def test_start_confirms_close_marks_missed_cancel_calls_off(db, world) -> None:
    t = await teams(db, world, EventState.scheduling)
    await seed_meeting_request(db, t.event, t.company, t.institution, ACCEPTED)
    await seed_meeting_request(db, t.event, t.other_company, t.other_institution, ACCEPTED)
    event_id = t.event.id
    organizer = await admin(db, world)
    await PlacingService(db).run(organizer, event_id)
    await after_event_step(db, t.event, "start", organizer, utcnow())
    await db.commit()
    assert {m.state for m in await meetings_of_event(db, event_id)} == {MeetingState.confirmed}
    held, missed = await meetings_of_event(db, event_id)
    missed_slot = missed.slot
    held.state = MeetingState.held
    await db.commit()
    await after_event_step(db, t.event, "close", organizer, utcnow())
    await db.commit()
    states = {m.id: (m.state, m.slot) for m in await meetings_of_event(db, event_id)}
    assert (
        states[held.id][0] == MeetingState.held
        and states[missed.id] == (MeetingState.missed, missed_slot)
        and missed_slot is not None
    )
    assert {s.meeting_id for s in await seats_of_event(db, event_id)} == {held.id}
    # Cancelling an event calls off its meetings and frees their seats.
    other = await teams(db, world, EventState.scheduling)
    await seed_meeting_request(db, other.event, other.company, other.institution, ACCEPTED)
    await PlacingService(db).run(organizer, other.event.id)
    other.event.state_reason = "场地取消"
    await after_event_step(db, other.event, "cancel", organizer, utcnow())
    await db.commit()
    assert [m.state for m in await meetings_of_event(db, other.event.id)] == [MeetingState.cancelled]
    assert await seats_of_event(db, other.event.id) == []


def test_holders_are_both_people_and_the_institution_team() -> None:
    class R:
        asked_by = "company"
        from_registration_id, to_registration_id = "company-reg", "institution-reg"
        requested_by_user_id, host_user_id = "asker", None

    assert holders_of(R()) == frozenset({"asker", "institution-reg"})  # type: ignore[arg-type]


async def test_a_meeting_accepted_while_the_event_runs_is_placed_and_confirmed_at_once(db, world, settings) -> None:
    t = await teams(db, world, EventState.running)
    service = MeetingRequestsService(db, settings)
    asked = MeetingRequestCreate(to_registration_id=t.institution.id)
    created = await service.create(await principal(db, world, Role.company_admin), t.event.id, asked)
    accept = MeetingRequestTransitionIn(action="accept")
    await service.transition(await principal(db, world, Role.tto_manager), t.event.id, created.id, accept)
    await db.commit()
    (meeting,) = await meetings_of_event(db, t.event.id)
    assert meeting.state == MeetingState.confirmed and meeting.slot is not None
    assert len(await seats_of_event(db, t.event.id)) == 3
