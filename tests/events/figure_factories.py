"""Events for the dashboards' figures (tests/analytics/test_event_figures.py): meetings walked to a
state along the meeting machine's moves (placed with a slot and a table, then confirmed, held or
missed), outcomes, and match requests linked back to the meetings.

The story, Q2 2026 unless said (OI/XI own/other institution, OC/XC own/other company):
  E1 platform, starts 05-20, closed, oncology; OI, XI, OC, XC registered.
     q1 OC→OI accepted, held, both open a match request, taken to agreed;
     q2 XC→OI accepted, held, a match request submitted;
     q3 OC→XI accepted, held, no interest;  q4 XC→XI accepted, missed;
     q5 OI→OC declined;  q6 XI→XC declined.
  E2 platform, starts 08-10 (Q3), closed; OI, OC registered; q7 OC→OI accepted, held.
  E3 platform, starts 05-01, a draft (never counted); OC registered.
  E4 OI's own open day, starts 06-15, registration open, cardiovascular; XC registered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import update

from marketplace.events.models import EventState, Meeting, MeetingRequestState, MeetingState, Outcome
from tests.events.factories import meeting_of, seed_event, seed_meeting_request, seed_registration
from tests.licensing.factories import agreed_match, published_result
from tests.matching.requests.factories import create as create_match
from tests.support.world import World

# A meeting's moves from unplaced to each state it can end in (the trigger refuses any other).
MEETING_PATH = {
    MeetingState.placed: (MeetingState.placed,),
    MeetingState.confirmed: (MeetingState.placed, MeetingState.confirmed),
    MeetingState.held: (MeetingState.placed, MeetingState.confirmed, MeetingState.held),
    MeetingState.missed: (MeetingState.placed, MeetingState.confirmed, MeetingState.missed),
}


async def walk_meeting(db, meeting: Meeting, state: MeetingState, slot: int = 0, table_no: int = 0) -> None:
    """Move the meeting along MEETING_PATH to `state`; a seated or missed one has its slot and table."""
    for step in MEETING_PATH[state]:
        seated = step in (MeetingState.placed, MeetingState.confirmed, MeetingState.held, MeetingState.missed)
        meeting.state = step
        meeting.slot, meeting.table_no = (slot, table_no) if seated else (None, None)
        await db.flush()
    await db.commit()


@dataclass
class EventStory:
    events: dict[str, object] = field(default_factory=dict)
    match_requests: dict[str, object] = field(default_factory=dict)


async def build_events(db, world: World) -> EventStory:
    story = EventStory()
    orgs = world.orgs
    oi, xi, oc, xc = (orgs[k] for k in ("institution/own", "institution/other", "company/own", "company/other"))
    listing = await published_result(db, world)

    e1 = await seed_event(db, world, EventState.closed, starts_on=date(2026, 5, 20), areas=["oncology"])
    reg = {org.id: await seed_registration(db, e1, org) for org in (oi, xi, oc, xc)}
    # The declined ones first: a request is inserted as asked, and a pair has one live request.
    for asking, asked in ((oi, oc), (xi, xc)):
        await seed_meeting_request(db, e1, reg[asking.id], reg[asked.id], MeetingRequestState.declined)
    accepted = MeetingRequestState.accepted
    q1 = await seed_meeting_request(db, e1, reg[oc.id], reg[oi.id], accepted, listing_id=listing.id)
    q2 = await seed_meeting_request(db, e1, reg[xc.id], reg[oi.id], accepted)
    q3 = await seed_meeting_request(db, e1, reg[oc.id], reg[xi.id], accepted)
    q4 = await seed_meeting_request(db, e1, reg[xc.id], reg[xi.id], accepted)
    for table_no, (request, state) in enumerate(
        ((q1, MeetingState.held), (q2, MeetingState.held), (q3, MeetingState.held), (q4, MeetingState.missed))
    ):
        # Two meetings of the own institution's team are in different slots; the tables differ anyway.
        await walk_meeting(db, await meeting_of(db, request), state, slot=table_no, table_no=table_no % 3)

    agreed = await agreed_match(db, world, listing.id)
    second = await published_result(db, world)
    submitted = await create_match(db, world, second.id, "admin@company.other.test")
    story.match_requests = {"agreed": agreed.id, "submitted": submitted.id}
    for request, match_id in ((q1, agreed.id), (q2, submitted.id)):
        await db.execute(
            update(Meeting)
            .where(Meeting.meeting_request_id == request.id)
            .values(institution_outcome=Outcome.match_request, company_outcome=Outcome.match_request, match_request_id=match_id)
        )
    await db.execute(
        update(Meeting)
        .where(Meeting.meeting_request_id == q3.id)
        .values(institution_outcome=Outcome.no_interest, company_outcome=Outcome.no_interest)
    )
    await db.commit()

    e2 = await seed_event(db, world, EventState.closed, starts_on=date(2026, 8, 10))
    r_oi, r_oc = await seed_registration(db, e2, oi), await seed_registration(db, e2, oc)
    q7 = await seed_meeting_request(db, e2, r_oc, r_oi, accepted)
    await walk_meeting(db, await meeting_of(db, q7), MeetingState.held)

    e3 = await seed_event(db, world, EventState.draft, starts_on=date(2026, 5, 1))
    await seed_registration(db, e3, oc)

    e4 = await seed_event(
        db,
        world,
        EventState.registration_open,
        organizer="institution/own",
        starts_on=date(2026, 6, 15),
        areas=["cardiovascular"],
    )
    await seed_registration(db, e4, xc)
    story.events = {"E1": e1, "E2": e2, "E3": e3, "E4": e4}
    return story
