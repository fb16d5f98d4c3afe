"""Issue 17, point 10: the demo's matchmaking events (marketplace/demo/data/events.yaml) — a past
event, closed, with its roadshow, meetings held and missed, outcomes, match requests opened from
meetings and one that reached an agreement with its licence; and an upcoming one open for
registration. No seat or table is double-booked, each meeting is in its participants' free slots,
and every state change is in the audit trail."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select, text

from marketplace.analytics.filters import resolve
from marketplace.analytics.schemas import DashboardQuery
from marketplace.analytics.services import AnalyticsService
from marketplace.db import china_today
from marketplace.demo import load_demo_data
from marketplace.demo.events import DATA, event_match_states
from marketplace.events.models import Event, Meeting, MeetingRequest, Presentation, Registration, Seat
from marketplace.licensing.models import Agreement
from marketplace.matching.requests.models import MatchRequest


async def test_the_demo_has_a_past_event_that_led_to_an_agreement_and_an_upcoming_one(client, db) -> None:
    assert await load_demo_data(db) is True
    await db.commit()
    events = {e.title: e for e in await db.scalars(select(Event))}
    past, upcoming = events[DATA["past"]["title"]], events[DATA["upcoming"]["title"]]
    today = china_today()

    assert past.state == "closed" and past.ends_on < today
    assert upcoming.state == "registration_open" and upcoming.starts_on > today
    assert upcoming.registration_deadline.date() > today
    assert upcoming.registered == len(DATA["upcoming"]["participants"]) >= 3

    # The roadshow: each institution presents its own listings, in one order without gaps.
    kinds = dict(
        (
            await db.execute(
                select(Registration.organization_kind, func.count())
                .where(Registration.event_id == past.id)
                .group_by(Registration.organization_kind)
            )
        ).all()
    )
    assert kinds["institution"] >= 4 and kinds["company"] >= 3
    positions = list(
        await db.scalars(select(Presentation.position).where(Presentation.event_id == past.id).order_by(Presentation.position))
    )
    assert positions == list(range(len(positions))) and len(positions) >= 6
    foreign = await db.scalar(
        text(
            "SELECT count(*) FROM event_presentations p JOIN event_registrations r ON r.id = p.registration_id"
            " JOIN listings l ON l.id = p.listing_id WHERE l.institution_id <> r.organization_id OR l.status <> 'published'"
        )
    )
    assert foreign == 0

    requests = dict(
        (
            await db.execute(
                select(MeetingRequest.state, func.count())
                .where(MeetingRequest.event_id == past.id)
                .group_by(MeetingRequest.state)
            )
        ).all()
    )
    assert requests.keys() >= {"accepted", "declined"}
    meetings = list(await db.scalars(select(Meeting).where(Meeting.event_id == past.id)))
    assert {m.state for m in meetings} == {"held", "missed"}
    outcomes = {m.institution_outcome for m in meetings} | {m.company_outcome for m in meetings}
    assert outcomes - {None} == {"no_interest", "follow_up", "match_request"}

    # Meetings became match requests, made by the companies through matching; one reached an
    # agreement and its licence was signed.
    opened = [m.match_request_id for m in meetings if m.match_request_id]
    assert len(opened) >= 3
    matches = {r.id: r for r in await db.scalars(select(MatchRequest).where(MatchRequest.id.in_(opened)))}
    assert all(matches[m.match_request_id].company_id == m.company_id for m in meetings if m.match_request_id)
    assert sum(r.state == "agreed" for r in matches.values()) == 1
    licences = list(await db.scalars(select(Agreement).where(Agreement.match_request_id.in_(opened))))
    assert len(licences) == 1 and licences[0].state in ("signed", "active")
    assert Counter(r.state for r in matches.values()) == event_match_states()

    # Seats: every held meeting holds one per holder (two people and the institution's team) in its
    # slot, no table twice in a slot, and the slot is free for both registrations.
    held = [m for m in meetings if m.state == "held"]
    seats = list(await db.scalars(select(Seat).where(Seat.event_id == past.id)))
    assert len(seats) == 3 * len(held) and {s.meeting_id for s in seats} == {m.id for m in held}
    assert len({(m.slot, m.table_no) for m in held}) == len(held)
    assert all(m.slot is not None for m in meetings if m.state == "missed")  # when it was to be
    unavailable = await db.scalar(
        text(
            "SELECT count(*) FROM event_meetings m JOIN event_meeting_requests q ON q.id = m.meeting_request_id"
            " JOIN event_registrations r ON r.id IN (q.from_registration_id, q.to_registration_id)"
            " WHERE m.slot IS NOT NULL AND NOT m.slot = ANY(r.available_slots)"
        )
    )
    assert unavailable == 0

    # The audit trail has each step at its own moment: the event's, the requests' and the meetings'.
    steps = dict(
        (
            await db.execute(
                text("SELECT action, count(*) FROM audit_events WHERE action LIKE 'event%' OR action LIKE 'meeting%' GROUP BY 1")
            )
        ).all()
    )
    for action in ("event_open_registration", "event_deadline_passed", "event_start", "event_close"):
        assert steps.get(action, 0) >= 1, action
    assert steps["meeting_place"] == steps["meeting_confirm"] == len(meetings)
    assert steps["meeting_check_in"] == len(held) and steps["meeting_request_accept"] >= len(meetings)
    last = await db.scalar(
        text("SELECT max(occurred_at) FROM audit_events WHERE action = 'event_close' AND subject_id = :id"), {"id": str(past.id)}
    )
    assert last is not None and last.date() > past.ends_on

    # The upcoming event: some requests waiting for an answer, one accepted and not yet placed.
    waiting = dict(
        (
            await db.execute(
                select(MeetingRequest.state, func.count())
                .where(MeetingRequest.event_id == upcoming.id)
                .group_by(MeetingRequest.state)
            )
        ).all()
    )
    assert waiting.get("requested", 0) >= 1 and waiting.get("accepted", 0) >= 1
    assert {m.state for m in await db.scalars(select(Meeting).where(Meeting.event_id == upcoming.id))} == {"unplaced"}

    # And the dashboard's events figures count the past event for the platform.
    where = resolve(DashboardQuery(start=past.starts_on, end=past.ends_on), today)
    figures = await AnalyticsService(db).figures(where).events()
    assert figures.events_held == 1
    assert {s.step: s.count for s in figures.steps}["agreement"] == 1
