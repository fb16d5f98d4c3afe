"""Reminders: both sides once, only for confirmed meetings starting within the window, with an
e-mail a person may turn off; follow-ups not acted on, once, 10 working days after the meeting."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select, update

from marketplace.db import CHINA_TIME, make_sessionmaker
from marketplace.events.models import EventState, Meeting, MeetingState, Outcome
from marketplace.events.reminders import remind_follow_ups, remind_meetings
from marketplace.notifications.models import EmailPreference, Notification, OutgoingEmail
from marketplace.working_days import add_working_days
from tests.events.agenda_factories import scene, slot_start
from tests.events.factories import fresh


async def notified(db, kind: str) -> set[str]:
    rows = await db.execute(select(Notification.user_id, Notification.kind).where(Notification.kind == kind))
    return {str(user_id) for user_id, _ in rows.all()}


async def test_both_sides_are_reminded_once_within_the_window(db, world, engine, settings) -> None:
    s = await scene(db, world)
    later = await scene(db, world, slot=4)  # 11:00, outside an hour from 09:00
    sessionmaker = make_sessionmaker(engine)
    now = slot_start(s.event, 1) - timedelta(minutes=30)

    run = await remind_meetings(settings, sessionmaker, now=now)
    assert run.sent == 1 and run.failed == []
    people = await notified(db, "event_meeting_reminder")
    assert people == {str(s.request.requested_by_user_id), str(s.request.host_user_id)}
    emails = list(await db.scalars(select(OutgoingEmail).where(OutgoingEmail.kind == "event_reminders")))
    assert len(emails) == 2 and all("\n" not in e.subject for e in emails)
    await fresh(db, s.meeting, later.meeting)
    await db.refresh(s.meeting)
    await db.refresh(later.meeting)
    assert s.meeting.reminded_at is not None and later.meeting.reminded_at is None

    assert (await remind_meetings(settings, sessionmaker, now=now + timedelta(minutes=5))).sent == 0


async def test_no_reminder_for_a_meeting_not_confirmed_or_already_begun(db, world, engine, settings) -> None:
    placed = await scene(db, world, meeting_state=MeetingState.placed)
    sessionmaker = make_sessionmaker(engine)
    assert (await remind_meetings(settings, sessionmaker, now=slot_start(placed.event, 1) - timedelta(minutes=30))).sent == 0
    confirmed = await scene(db, world, slot=2)
    assert (await remind_meetings(settings, sessionmaker, now=slot_start(confirmed.event, 2) + timedelta(minutes=1))).sent == 0


async def test_a_person_may_turn_the_reminder_emails_off(db, world, engine, settings) -> None:
    s = await scene(db, world)
    for user_id in (s.request.requested_by_user_id, s.request.host_user_id):
        db.add(EmailPreference(user_id=user_id, kind="event_reminders", enabled=False, unsubscribe_token=f"t-{user_id}"))
    await db.commit()
    run = await remind_meetings(settings, make_sessionmaker(engine), now=slot_start(s.event, 1) - timedelta(minutes=10))
    assert run.sent == 1
    assert list(await db.scalars(select(OutgoingEmail).where(OutgoingEmail.kind == "event_reminders"))) == []
    assert len(await notified(db, "event_meeting_reminder")) == 2


async def test_follow_ups_are_reminded_after_ten_working_days_once(db, world, engine, settings) -> None:
    past = date.today() - timedelta(days=40)
    s = await scene(db, world, EventState.closed, starts_on=past, meeting_state=MeetingState.held)
    acted = await scene(db, world, EventState.closed, starts_on=past, meeting_state=MeetingState.held)
    await db.execute(update(Meeting).where(Meeting.id == s.meeting.id).values(company_outcome=Outcome.follow_up))
    await db.execute(update(Meeting).where(Meeting.id == acted.meeting.id).values(institution_outcome=Outcome.no_interest))
    await db.commit()
    sessionmaker = make_sessionmaker(engine)
    day = add_working_days(past, 10)
    before = datetime.combine(add_working_days(past, 9), time(12), tzinfo=CHINA_TIME)
    assert (await remind_follow_ups(settings, sessionmaker, now=before)).sent == 0

    run = await remind_follow_ups(settings, sessionmaker, now=datetime.combine(day, time(9), tzinfo=CHINA_TIME))
    assert run.sent == 1
    assert await notified(db, "event_follow_up") == {str(s.request.requested_by_user_id)}  # the company side only
    assert (await remind_follow_ups(settings, sessionmaker, now=datetime.combine(day, time(18), tzinfo=CHINA_TIME))).sent == 0


async def test_a_follow_up_that_became_a_request_is_not_reminded(client, db, world, engine, settings) -> None:
    from marketplace.accounts.models import Role
    from tests.matching.requests.factories import match_body

    past = date.today() - timedelta(days=40)
    s = await scene(db, world, EventState.closed, starts_on=past, meeting_state=MeetingState.held)
    await db.execute(update(Meeting).where(Meeting.id == s.meeting.id).values(institution_outcome=Outcome.follow_up))
    await db.commit()
    body = {"outcome": "match_request", **match_body(s.listing_id)}
    answer = await client.post(
        f"/api/v1/events/{s.event.id}/meetings/{s.meeting.id}/outcome", json=body, headers=world.bearer(Role.company_admin)
    )
    assert answer.status_code == 200, answer.text
    run = await remind_follow_ups(settings, make_sessionmaker(engine))
    assert run.sent == 0


async def test_one_failing_meeting_does_not_stop_the_others(db, world, engine, settings, monkeypatch) -> None:
    from marketplace.events import reminders

    bad = await scene(db, world)
    good = await scene(db, world)
    real = reminders.side_people

    async def failing(session, meeting, request, side):
        if meeting.id == bad.meeting.id:
            raise RuntimeError("a broken row")
        return await real(session, meeting, request, side)

    monkeypatch.setattr(reminders, "side_people", failing)
    run = await remind_meetings(settings, make_sessionmaker(engine), now=slot_start(good.event, 1) - timedelta(minutes=30))
    assert run.sent == 1 and run.failed == [bad.meeting.id]
    await fresh(db, bad.meeting, good.meeting)
    await db.refresh(bad.meeting)
    await db.refresh(good.meeting)
    assert good.meeting.reminded_at is not None and bad.meeting.reminded_at is None
