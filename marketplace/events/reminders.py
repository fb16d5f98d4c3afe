"""The events' two reminder jobs, each sent once per meeting (its timestamp is set in the same
transaction, on the row locked for it; a second worker skips a locked row):

- before a meeting: both sides' people of a confirmed meeting starting within the next
  `event_reminder_minutes` (in-app and, unless turned off, an "event reminders" e-mail);
- follow-ups: a side that chose "follow up" and has not acted (no match request came of the
  meeting) is reminded 10 working days (China's calendar) after the meeting's day.

Each meeting is handled in its own transaction: one that fails is logged and the others go on.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import i18n
from marketplace.accounts.models import User
from marketplace.accounts.services import AccountService
from marketplace.config import Settings
from marketplace.db import china_day, utcnow
from marketplace.events.agendas import table_name
from marketplace.events.calendar_file import event_title, one_line
from marketplace.events.lifecycle import PARTICIPANT_ROLES
from marketplace.events.models import (
    Attendee,
    Event,
    EventState,
    Meeting,
    MeetingRequest,
    MeetingState,
    Outcome,
)
from marketplace.events.slots import slots_of
from marketplace.i18n import N_
from marketplace.matching.events import MatchEvents
from marketplace.notifications.services import EmailKind, NotificationService
from marketplace.working_days import add_working_days

log = logging.getLogger(__name__)

REMINDER_EMAIL = EmailKind(
    "event_reminders",
    N_("Events: meeting reminders"),
    N_("Before each of your meetings at a matchmaking event, and when a follow-up you chose is still open."),
    roles=PARTICIPANT_ROLES,
)
FOLLOW_UP_WORKING_DAYS = 10


@dataclass
class Run:
    sent: int = 0
    failed: list[uuid.UUID] = field(default_factory=list)


def agenda_link(event_id: uuid.UUID) -> str:
    return f"/events/{event_id}/agenda"


async def side_people(session: AsyncSession, meeting: Meeting, request: MeetingRequest, side: str) -> list[User]:
    """A side's people: its person on the request and, for the institution, its team's attendees."""
    asker_side = request.asked_by
    person = request.requested_by_user_id if side == asker_side else request.host_user_id
    ids = {person} if person else set()
    if side == "institution":
        registration_id = request.from_registration_id if asker_side == "institution" else request.to_registration_id
        ids |= set(await session.scalars(select(Attendee.user_id).where(Attendee.registration_id == registration_id)))
    if not ids:
        return []
    rows = await session.scalars(select(User).where(User.id.in_(ids), User.is_active).order_by(User.email))
    return list(rows)


async def _notify(
    session: AsyncSession,
    settings: Settings | None,
    event: Event,
    meeting: Meeting,
    people: Iterable[User],
    kind: str,
    texts: tuple[str, str, str],
    params: dict,
) -> None:
    people = list(people)
    if not people:
        return
    message, subject, lead = texts
    link = agenda_link(event.id)
    await NotificationService(session).notify(
        [p.id for p in people], kind, message, params=params, items=[{"label": one_line(event.title), "link": link}], link=link
    )
    orgs = await AccountService(session).public_organizations({meeting.institution_id, meeting.company_id})

    def values(locale: str) -> dict:
        return {
            **params,
            "event": one_line(event_title(event, locale)),
            "institution": one_line(orgs[meeting.institution_id].display_name(locale)),
            "company": one_line(orgs[meeting.company_id].display_name(locale)),
        }

    await MatchEvents(session, settings).email(
        people, REMINDER_EMAIL.key, link, subject, lead, values, open_label=N_("Open your agenda:")
    )


MEETING_TEXTS = (
    N_("A meeting at a matchmaking event starts at %(when)s."),
    N_("Reminder: your meeting at %(when)s, table %(table)s"),
    N_(
        "Your meeting between %(institution)s and %(company)s at “%(event)s” starts at %(when)s (China time) "
        "at table %(table)s. Check in at the table when you arrive."
    ),
)
FOLLOW_UP_TEXTS = (
    N_("You chose to follow up a meeting: nothing has come of it yet."),
    N_("Follow-up: your meeting at “%(event)s”"),
    N_(
        "After the meeting between %(institution)s and %(company)s at “%(event)s” your side chose to follow up, "
        "and no match request has come of it. Record what you want next, or open a match request."
    ),
)


async def remind_meetings(settings: Settings | None, sessionmaker, now: datetime | None = None) -> Run:
    now = now or utcnow()
    window = timedelta(minutes=settings.event_reminder_minutes if settings else 60)
    run = Run()
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                select(Meeting.id, Meeting.slot, Event)
                .join(Event, Event.id == Meeting.event_id)
                .where(Meeting.state == MeetingState.confirmed, Meeting.reminded_at.is_(None), Event.state == EventState.running)
            )
        ).all()
        due = []
        for meeting_id, slot, event in rows:
            slots = slots_of(event)
            if slot is not None and slot < len(slots) and now <= slots[slot].starts_at <= now + window:
                due.append(meeting_id)
    for meeting_id in due:
        try:
            async with sessionmaker() as session, session.begin():
                run.sent += await _remind_one(session, settings, meeting_id, now, window)
        except Exception:  # one bad meeting must not hold back the others: the next run retries it
            log.exception("event reminders: meeting %s failed", meeting_id)
            run.failed.append(meeting_id)
    return run


async def _locked(session: AsyncSession, meeting_id: uuid.UUID) -> Meeting | None:
    return await session.scalar(
        select(Meeting)
        .where(Meeting.id == meeting_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )


async def _remind_one(session: AsyncSession, settings: Settings | None, meeting_id: uuid.UUID, now: datetime, window) -> int:
    meeting = await _locked(session, meeting_id)
    if meeting is None or meeting.reminded_at is not None or meeting.state != MeetingState.confirmed or meeting.slot is None:
        return 0
    event = await session.get_one(Event, meeting.event_id)
    slot = slots_of(event)[meeting.slot]
    if not now <= slot.starts_at <= now + window:
        return 0
    request = await session.get_one(MeetingRequest, meeting.meeting_request_id)
    people = [
        *await side_people(session, meeting, request, "institution"),
        *await side_people(session, meeting, request, "company"),
    ]
    params = {"when": i18n.format_china_datetime(slot.starts_at), "table": one_line(table_name(event, meeting.table_no))}
    await _notify(
        session, settings, event, meeting, {p.id: p for p in people}.values(), "event_meeting_reminder", MEETING_TEXTS, params
    )
    meeting.reminded_at = now
    return 1


def meeting_day(event: Event, meeting: Meeting):
    """The day the meeting was (or would have been): its slot's, else the event's last day."""
    slots = slots_of(event)
    if meeting.slot is not None and meeting.slot < len(slots):
        return slots[meeting.slot].day
    return event.ends_on


async def remind_follow_ups(settings: Settings | None, sessionmaker, now: datetime | None = None) -> Run:
    now = now or utcnow()
    today = china_day(now)
    run = Run()
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                select(Meeting, Event)
                .join(Event, Event.id == Meeting.event_id)
                .where(
                    Meeting.follow_up_reminded_at.is_(None),
                    Meeting.match_request_id.is_(None),
                    or_(Meeting.institution_outcome == Outcome.follow_up, Meeting.company_outcome == Outcome.follow_up),
                )
            )
        ).all()
        due = [m.id for m, event in rows if add_working_days(meeting_day(event, m), FOLLOW_UP_WORKING_DAYS) <= today]
    for meeting_id in due:
        try:
            async with sessionmaker() as session, session.begin():
                run.sent += await _follow_up_one(session, settings, meeting_id, now)
        except Exception:  # as above: logged, retried by the next run
            log.exception("event follow-ups: meeting %s failed", meeting_id)
            run.failed.append(meeting_id)
    return run


async def _follow_up_one(session: AsyncSession, settings: Settings | None, meeting_id: uuid.UUID, now: datetime) -> int:
    meeting = await _locked(session, meeting_id)
    if meeting is None or meeting.follow_up_reminded_at is not None or meeting.match_request_id is not None:
        return 0
    event = await session.get_one(Event, meeting.event_id)
    if add_working_days(meeting_day(event, meeting), FOLLOW_UP_WORKING_DAYS) > china_day(now):
        return 0
    request = await session.get_one(MeetingRequest, meeting.meeting_request_id)
    people: list[User] = []
    for side in ("institution", "company"):
        if getattr(meeting, f"{side}_outcome") == Outcome.follow_up:
            people += await side_people(session, meeting, request, side)
    await _notify(session, settings, event, meeting, {p.id: p for p in people}.values(), "event_follow_up", FOLLOW_UP_TEXTS, {})
    meeting.follow_up_reminded_at = now
    return 1


async def meeting_reminder_job(settings: Settings, sessionmaker) -> None:
    run = await remind_meetings(settings, sessionmaker)
    if run.sent or run.failed:
        log.info("event meeting reminders: %s", run)


async def follow_up_job(settings: Settings, sessionmaker) -> None:
    run = await remind_follow_ups(settings, sessionmaker)
    if run.sent or run.failed:
        log.info("event follow-up reminders: %s", run)
