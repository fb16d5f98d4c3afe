"""Agenda test data: meetings placed and confirmed at a slot and table (rows walked along the
meeting machine's moves, with their seats), and a whole scene — an event, the own institution's
team presenting a published listing, the own company's person, and their meeting."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import msgspec
from sqlalchemy import delete

from marketplace.catalog.schemas import ListingCreate
from marketplace.events.models import (
    Event,
    EventState,
    Meeting,
    MeetingRequest,
    MeetingRequestState,
    MeetingState,
    Presentation,
    Registration,
    Seat,
)
from marketplace.events.slots import slots_of
from tests.catalog.factories import result_body, seed_listing
from tests.events.factories import fresh, meeting_of, members_of, seed_event, seed_meeting_request, seed_registration
from tests.support.world import World

# The path of a meeting to each state the factories make (the trigger allows only declared moves).
PATHS = {
    MeetingState.placed: (MeetingState.placed,),
    MeetingState.confirmed: (MeetingState.placed, MeetingState.confirmed),
    MeetingState.held: (MeetingState.placed, MeetingState.confirmed, MeetingState.held),
}


async def place(
    db, event: Event, request: MeetingRequest, slot: int, table_no: int = 0, state: MeetingState = MeetingState.confirmed
) -> Meeting:
    """The request's unplaced meeting, walked to `state` at (slot, table) with its seats."""
    await fresh(db, event, request)
    meeting = await meeting_of(db, request)
    for step in PATHS[state]:
        if step == MeetingState.placed:
            meeting.slot, meeting.table_no = slot, table_no
        meeting.state = step
        await db.flush()
    institution_registration = request.from_registration_id if request.asked_by == "institution" else request.to_registration_id
    holders = {request.requested_by_user_id, request.host_user_id, institution_registration} - {None}
    for holder in holders:
        db.add(Seat(event_id=event.id, slot=slot, holder_id=holder, meeting_id=meeting.id))
    await db.commit()
    return meeting


async def cancel(db, meeting: Meeting) -> Meeting:
    """Called off (as a cancelled request does): the seats go, the slot with them."""
    await fresh(db, meeting)
    await db.execute(delete(Seat).where(Seat.meeting_id == meeting.id))
    meeting.state = MeetingState.cancelled
    meeting.slot = meeting.table_no = None
    await db.commit()
    return meeting


@dataclass
class Scene:
    event: Event
    institution: Registration
    company: Registration
    listing_id: uuid.UUID
    request: MeetingRequest
    meeting: Meeting


async def scene(
    db,
    world: World,
    state: EventState = EventState.running,
    starts_on: date | None = None,
    slot: int = 1,
    meeting_state: MeetingState = MeetingState.confirmed,
    general: bool = False,
) -> Scene:
    """The own institution (its TTO manager attends) presents a published result; the own company
    (its administrator attends) asked for a meeting about it (or in general), accepted and placed
    at `slot`, table A2."""
    event = await seed_event(db, world, state, starts_on=starts_on or date.today() + timedelta(days=30))
    tto = [m for m in await members_of(db, world.orgs["institution/own"]) if m.email == "tto_manager@own.test"]
    admin = [m for m in await members_of(db, world.orgs["company/own"]) if m.email == "company_admin@own.test"]
    institution = await seed_registration(db, event, world.orgs["institution/own"], people=tto)
    company = await seed_registration(db, event, world.orgs["company/own"], people=admin)
    listing = await seed_listing(
        db, world.orgs["institution/own"].id, msgspec.convert(result_body(), ListingCreate), status="published"
    )
    db.add(Presentation(event_id=event.id, registration_id=institution.id, listing_id=listing.id, position=0, minutes=10))
    await db.commit()
    request = await seed_meeting_request(
        db, event, company, institution, MeetingRequestState.accepted, listing_id=None if general else listing.id
    )
    meeting = await place(db, event, request, slot, 1, meeting_state) if meeting_state in PATHS else await meeting_of(db, request)
    return Scene(event, institution, company, listing.id, request, meeting)


def slot_start(event: Event, slot: int):
    return slots_of(event)[slot].starts_at
