"""A participant's agenda at an event: the roadshow, then the person's own one-to-one meetings
with their times, tables and the other organization; the organizer may open any registration's.

Whose meetings: a company's person meets as themselves (the asker, `requested_by_user_id`, or the
person who accepted, `host_user_id`); an institution's team meets as one, so each of its
attendees sees all of the team's meetings. The organizer's view of a registration lists every
meeting of that registration's organization.

The roadshow runs on the event's first day and ends when the meeting hours begin
(`day_starts_at`): the talks follow one another in their order, so the first starts the sum of
their minutes earlier.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import Organization
from marketplace.accounts.services import AccountService
from marketplace.catalog.models import Listing
from marketplace.db import CHINA_TIME
from marketplace.errors import NotFound
from marketplace.events.lifecycle import is_organizer, party_side
from marketplace.events.models import (
    SEATED_STATES,
    Attendee,
    Event,
    Meeting,
    MeetingRequest,
    MeetingState,
    Presentation,
    Registration,
    RegistrationState,
)
from marketplace.events.scoping import event_for, own_registration, sees_party_record
from marketplace.events.slots import Slot, slots_of
from marketplace.matching.needs.models import Need
from marketplace.tenancy import Principal

# The meetings an agenda lists: the called-off ones too, so calendars can drop them.
LISTED_STATES = frozenset({*SEATED_STATES, MeetingState.missed, MeetingState.cancelled, MeetingState.unplaced})


@dataclass
class Talk:
    presentation: Presentation
    listing: Listing
    institution: Organization
    starts_at: datetime
    ends_at: datetime


@dataclass
class AgendaMeeting:
    meeting: Meeting
    request: MeetingRequest
    side: str  # the agenda's side: institution or company
    other: Organization
    slot: Slot | None
    table: str | None
    listing: Listing | None = None
    need: Need | None = None


@dataclass
class Agenda:
    event: Event
    registration: Registration | None
    roadshow: list[Talk] = field(default_factory=list)
    meetings: list[AgendaMeeting] = field(default_factory=list)
    organizer_view: bool = False


def roadshow_times(event: Event, minutes: list[int]) -> list[tuple[datetime, datetime]]:
    """Back to back on the first day, the last talk ending at `day_starts_at` (China time)."""
    end = datetime.combine(event.starts_on, event.day_starts_at, tzinfo=CHINA_TIME)
    moment = end - timedelta(minutes=sum(minutes))
    result = []
    for length in minutes:
        result.append((moment, moment + timedelta(minutes=length)))
        moment += timedelta(minutes=length)
    return result


def table_name(event: Event, table_no: int | None) -> str | None:
    if table_no is None:
        return None
    return event.tables[table_no] if 0 <= table_no < len(event.tables) else str(table_no + 1)


async def roadshow(session: AsyncSession, event: Event) -> list[Talk]:
    rows = (
        await session.execute(
            select(Presentation, Listing, Registration)
            .join(Listing, Listing.id == Presentation.listing_id)
            .join(Registration, Registration.id == Presentation.registration_id)
            .where(Presentation.event_id == event.id, Registration.state == RegistrationState.registered)
            .order_by(Presentation.position, Presentation.id)
        )
    ).all()
    orgs = await AccountService(session).public_organizations({registration.organization_id for _, _, registration in rows})
    times = roadshow_times(event, [presentation.minutes for presentation, _, _ in rows])
    return [
        Talk(presentation, listing, orgs[registration.organization_id], starts, ends)
        for (presentation, listing, registration), (starts, ends) in zip(rows, times, strict=True)
    ]


async def agenda(
    session: AsyncSession, principal: Principal, event_id: uuid.UUID, registration_id: uuid.UUID | None = None
) -> Agenda:
    """The caller's agenda, or — for the organizer — the agenda of `registration_id`'s
    organization. A registration of another event, or asked for by anyone else, is not found."""
    principal.require()
    event = await event_for(session, principal, event_id)
    if registration_id is not None:
        registration = await session.scalar(
            select(Registration).where(Registration.id == registration_id, Registration.event_id == event.id)
        )
        if registration is None or not is_organizer(principal, event):
            raise NotFound()
        found = Agenda(event, registration, organizer_view=True)
        condition = (
            Meeting.institution_id == registration.organization_id
            if registration.organization_kind == "institution"
            else Meeting.company_id == registration.organization_id
        )
    else:
        registration = await own_registration(session, principal, event)
        found = Agenda(event, registration)
        condition = await _persons_meetings(session, principal, registration)
    found.roadshow = await roadshow(session, event)
    if condition is not None:
        found.meetings = await _meetings(session, event, condition, registration)
    return found


async def _persons_meetings(session: AsyncSession, principal: Principal, registration: Registration | None):
    """The WHERE clause of the person's meetings, or None when they have none to see."""
    if registration is None or principal.user_id is None:
        return None
    if registration.organization_kind == "institution":
        attends = await session.scalar(
            select(Attendee.user_id).where(Attendee.registration_id == registration.id, Attendee.user_id == principal.user_id)
        )
        if attends is not None:
            return Meeting.institution_id == registration.organization_id
    mine = or_(MeetingRequest.requested_by_user_id == principal.user_id, MeetingRequest.host_user_id == principal.user_id)
    side = Meeting.institution_id if registration.organization_kind == "institution" else Meeting.company_id
    return (side == registration.organization_id) & mine


async def _meetings(session: AsyncSession, event: Event, condition, registration: Registration | None) -> list[AgendaMeeting]:
    rows = (
        await session.execute(
            select(Meeting, MeetingRequest)
            .join(MeetingRequest, MeetingRequest.id == Meeting.meeting_request_id)
            .where(Meeting.event_id == event.id, Meeting.state.in_(sorted(LISTED_STATES)), condition)
        )
    ).all()
    return await describe(session, event, rows, registration.organization_kind if registration else None)


async def describe(session: AsyncSession, event: Event, rows, side: str | None) -> list[AgendaMeeting]:
    """Meetings with what a page shows of them, by time (unscheduled last)."""
    slots = slots_of(event)
    org_ids = {m.company_id if side == "institution" else m.institution_id for m, _ in rows}
    orgs = await AccountService(session).public_organizations(org_ids)
    listing_ids = {r.listing_id for _, r in rows if r.listing_id}
    need_ids = {r.need_id for _, r in rows if r.need_id}
    listings = {x.id: x for x in await session.scalars(select(Listing).where(Listing.id.in_(listing_ids)))} if listing_ids else {}
    needs = {x.id: x for x in await session.scalars(select(Need).where(Need.id.in_(need_ids)))} if need_ids else {}
    result = []
    for meeting, request in rows:
        own_side = side or "company"
        other_id = meeting.company_id if own_side == "institution" else meeting.institution_id
        slot = slots[meeting.slot] if meeting.slot is not None and meeting.slot < len(slots) else None
        result.append(
            AgendaMeeting(
                meeting,
                request,
                own_side,
                orgs[other_id],
                slot,
                table_name(event, meeting.table_no),
                listings.get(request.listing_id) if request.listing_id else None,
                needs.get(request.need_id) if request.need_id else None,
            )
        )
    result.sort(key=lambda item: (item.slot is None, item.slot.number if item.slot else 0, str(item.meeting.id)))
    return result


async def meeting_for(
    session: AsyncSession, principal: Principal, event: Event, meeting_id: uuid.UUID, *, for_update: bool = False
) -> Meeting:
    """A meeting of the event that the caller may see (its two sides, the organizer, the
    platform's people), or 404."""
    query = select(Meeting).where(Meeting.id == meeting_id, Meeting.event_id == event.id)
    if for_update:
        query = query.with_for_update()
    meeting = await session.scalar(query)
    if meeting is None or not sees_party_record(principal, event, meeting):
        raise NotFound()
    return meeting


async def one_meeting(session: AsyncSession, principal: Principal, event_id: uuid.UUID, meeting_id: uuid.UUID) -> AgendaMeeting:
    """One meeting as an agenda shows it, from the caller's side (the organizer's: the company's)."""
    principal.require()
    event = await event_for(session, principal, event_id)
    meeting = await meeting_for(session, principal, event, meeting_id)
    request = await session.get_one(MeetingRequest, meeting.meeting_request_id)
    return (await describe(session, event, [(meeting, request)], party_side(principal, meeting)))[0]
