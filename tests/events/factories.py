"""Events test data inserted as rows (the services' own tests go through the services): an event
walked to a state along its machine's moves, registrations with their people and free slots, and
meeting requests with the meeting an accepted one becomes."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

from sqlalchemy import inspect, select

from marketplace.accounts.models import Membership, Organization, User
from marketplace.db import CHINA_TIME, utcnow
from marketplace.events.models import (
    Attendee,
    Event,
    EventState,
    Meeting,
    MeetingRequest,
    MeetingRequestState,
    Registration,
)
from marketplace.events.slots import slot_count
from tests.support.world import World

# The order a factory walks an event through (the trigger allows only declared moves).
EVENT_PATH = (EventState.registration_open, EventState.scheduling, EventState.running, EventState.closed)


def event_row(organizer: Organization, **overrides) -> Event:
    """A two-day event a month ahead, 09:00–12:00 in 30-minute slots (6 a day), three tables."""
    starts_on = overrides.pop("starts_on", date.today() + timedelta(days=30))
    values = {
        "id": uuid.uuid4(),
        "organizer_id": organizer.id,
        "title": "医企融合对接会（测试）",
        "title_en": "Hospital–industry matchmaking (test)",
        "description": "肿瘤与体外诊断专场",
        "starts_on": starts_on,
        "ends_on": starts_on + timedelta(days=1),
        "day_starts_at": time(9, 0),
        "day_ends_at": time(12, 0),
        "slot_minutes": 30,
        "talk_minutes": 8,
        "venue": "上海国际会议中心",
        "areas": ["oncology"],
        "tables": ["A1", "A2", "A3"],
        "registration_deadline": datetime.combine(starts_on - timedelta(days=7), time(18, 0), tzinfo=CHINA_TIME),
        "capacity": 50,
        "request_limit": 10,
    }
    values.update(overrides)
    return Event(**values)


async def seed_event(
    db, world: World, state: EventState = EventState.registration_open, organizer: str = "platform/own", **overrides
) -> Event:
    await fresh(db, world.orgs[organizer])
    event = event_row(world.orgs[organizer], **overrides)
    db.add(event)
    await db.flush()
    await walk(db, event, state)
    await db.commit()
    return event


async def walk(db, event: Event, state: EventState) -> None:
    """Move the event along EVENT_PATH up to `state` (as the organizer's steps would)."""
    if state == EventState.cancelled:
        event.state = EventState.cancelled
        await db.flush()
        return
    for step in EVENT_PATH[: EVENT_PATH.index(state) + 1] if state != EventState.draft else ():
        event.state = step
        event.state_changed_at = utcnow()
        await db.flush()


async def fresh(db, *rows) -> None:
    """Reload what a test's rollback expired (the world's organizations live in the same session)."""
    for row in rows:
        if inspect(row).expired_attributes:
            await db.refresh(row)


async def members_of(db, organization: Organization) -> list[User]:
    """The organization's people, oldest first."""
    await fresh(db, organization)
    rows = await db.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == organization.id)
        .order_by(User.created_at)
    )
    return list(rows)


async def seed_registration(
    db, event: Event, organization: Organization, people: list[User] | None = None, slots: list[int] | None = None
) -> Registration:
    """The organization registered with `people` (default: its first member) free in `slots`
    (default: every slot)."""
    await fresh(db, organization, event)
    people = people if people is not None else (await members_of(db, organization))[:1]
    registration = Registration(
        id=uuid.uuid4(),
        event_id=event.id,
        organization_id=organization.id,
        organization_kind=organization.kind,
        contact_user_id=people[0].id if people else None,
        available_slots=list(range(slot_count(event))) if slots is None else slots,
        registered_by_user_id=people[0].id if people else None,
    )
    db.add(registration)
    await db.flush()
    for person in people:
        db.add(Attendee(registration_id=registration.id, user_id=person.id))
    await db.commit()
    await db.refresh(event)
    return registration


async def seed_meeting_request(
    db,
    event: Event,
    asking: Registration,
    asked: Registration,
    state: MeetingRequestState = MeetingRequestState.requested,
    listing_id: uuid.UUID | None = None,
) -> MeetingRequest:
    """`asking` asks `asked`; an accepted request comes with its (unplaced) meeting."""
    await fresh(db, event, asking, asked)
    institution, company = (asking, asked) if asking.organization_kind == "institution" else (asked, asking)
    request = MeetingRequest(
        id=uuid.uuid4(),
        event_id=event.id,
        from_registration_id=asking.id,
        to_registration_id=asked.id,
        institution_id=institution.organization_id,
        company_id=company.organization_id,
        asked_by=asking.organization_kind,
        listing_id=listing_id,
        message="想了解合作方式",
        requested_by_user_id=asking.contact_user_id,
        host_user_id=asked.contact_user_id if state == MeetingRequestState.accepted else None,
    )
    db.add(request)
    await db.flush()
    if state != MeetingRequestState.requested:
        request.state = state
        await db.flush()
    if state == MeetingRequestState.accepted:
        db.add(
            Meeting(
                id=uuid.uuid4(),
                event_id=event.id,
                meeting_request_id=request.id,
                institution_id=institution.organization_id,
                company_id=company.organization_id,
            )
        )
    await db.commit()
    return request


async def meeting_of(db, request: MeetingRequest) -> Meeting:
    meeting = await db.scalar(select(Meeting).where(Meeting.meeting_request_id == request.id))
    assert meeting is not None
    return meeting
