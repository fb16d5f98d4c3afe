"""An agenda as an iCalendar file (RFC 5545, the `icalendar` package): one VEVENT per confirmed or
held meeting, one for the roadshow, and a CANCELLED one for each called-off meeting so a calendar
that imported it drops it.

- UID: stable per meeting (`meeting-<id>@<host>`), so a re-import updates rather than duplicates.
- SEQUENCE: the number of audited steps of the meeting — it grows whenever it is placed, moved,
  confirmed or called off, which is what tells a calendar that the copy it holds is older.
- Times are in UTC (DTSTART/DTEND with a Z), which every calendar reads without a VTIMEZONE.
- A called-off meeting no longer has a slot: its VEVENT carries the event's first meeting hour
  as a placeholder time; calendars match it by UID and remove it.
- Text (organization names, titles, venue) is stripped of line breaks and control characters
  before it goes in, so nothing can add a property of its own.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from icalendar import Calendar
from icalendar import Event as VEvent
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import i18n
from marketplace.audit.models import AuditEvent
from marketplace.db import CHINA_TIME
from marketplace.events.agendas import Agenda, AgendaMeeting
from marketplace.events.models import MeetingState

CALENDAR_STATES = frozenset({MeetingState.confirmed, MeetingState.held})
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(text: str | None, limit: int = 300) -> str:
    """Text for a calendar property or an e-mail header: one line, no control characters."""
    return re.sub(r" {2,}", " ", _UNSAFE.sub(" ", text or "")).strip()[:limit]


def event_title(event, locale: str) -> str:
    return event.title_en if locale.startswith("en") and event.title_en else event.title


async def sequences(session: AsyncSession, meeting_ids: list[uuid.UUID]) -> dict[str, int]:
    if not meeting_ids:
        return {}
    rows = await session.execute(
        select(AuditEvent.subject_id, func.count())
        .where(AuditEvent.subject_id.in_([str(m) for m in meeting_ids]))
        .group_by(AuditEvent.subject_id)
    )
    return {str(subject): count for subject, count in rows.all()}


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _subject(item: AgendaMeeting, locale: str) -> str:
    if item.listing is not None:
        return item.listing.title_en if locale.startswith("en") and item.listing.title_en else item.listing.title_zh
    if item.need is not None:
        return item.need.title
    return ""


def build(agenda: Agenda, host: str, locale: str, counts: dict[str, int], now: datetime) -> bytes:
    event = agenda.event
    title = one_line(event_title(event, locale))
    calendar = Calendar()
    calendar.add("prodid", "-//MedTech Transfer//Event agenda//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", one_line(title))
    if agenda.roadshow:
        vevent = VEvent()
        vevent.add("uid", f"roadshow-{event.id}@{host}")
        vevent.add("dtstamp", _utc(now))
        vevent.add("dtstart", _utc(agenda.roadshow[0].starts_at))
        vevent.add("dtend", _utc(agenda.roadshow[-1].ends_at))
        vevent.add("summary", one_line(i18n.gettext("Roadshow: %(event)s", event=title)))
        vevent.add("location", one_line(event.venue or event.online_url))
        talks = [
            f"{talk.starts_at.astimezone(CHINA_TIME):%H:%M} {one_line(talk.institution.display_name(locale))} — "
            f"{one_line(talk.listing.title_en if locale.startswith('en') and talk.listing.title_en else talk.listing.title_zh)}"
            for talk in agenda.roadshow
        ]
        vevent.add("description", "\n".join(talks))
        vevent.add("status", "CONFIRMED")
        calendar.add_component(vevent)
    first_hour = datetime.combine(event.starts_on, event.day_starts_at, tzinfo=CHINA_TIME)
    for item in agenda.meetings:
        meeting = item.meeting
        cancelled = meeting.state == MeetingState.cancelled
        if not cancelled and (meeting.state not in CALENDAR_STATES or item.slot is None):
            continue
        other = one_line(item.other.display_name(locale))
        vevent = VEvent()
        vevent.add("uid", f"meeting-{meeting.id}@{host}")
        vevent.add("dtstamp", _utc(now))
        vevent.add("sequence", counts.get(str(meeting.id), 0))
        starts, ends = (item.slot.starts_at, item.slot.ends_at) if item.slot else (first_hour, first_hour)
        vevent.add("dtstart", _utc(starts))
        vevent.add("dtend", _utc(ends))
        vevent.add("summary", one_line(i18n.gettext("Meeting with %(organization)s", organization=other)))
        place = ", ".join(part for part in (one_line(item.table), one_line(event.venue)) if part)
        if item.table:
            place = one_line(i18n.gettext("Table %(table)s", table=item.table)) + (
                f", {one_line(event.venue)}" if event.venue else ""
            )
        vevent.add("location", place or one_line(event.online_url))
        lines = [title]
        if subject := _subject(item, locale):
            lines.append(one_line(subject))
        vevent.add("description", "\n".join(lines))
        vevent.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        calendar.add_component(vevent)
    return calendar.to_ical()


def filename(event) -> str:
    return f"agenda-{event.id}.ics"
