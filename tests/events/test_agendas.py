"""A participant's agenda: only the person's own meetings (an institution's attendees see their
team's), with the slot times and table, the roadshow before the meeting hours, the organizer's
view of any registration, the .ics file that calendars read back, and 404 for outsiders."""

from __future__ import annotations

from datetime import UTC, datetime, time

from icalendar import Calendar
from sqlalchemy import update

from marketplace.accounts.models import Role
from marketplace.accounts.services import AccountService
from marketplace.db import CHINA_TIME
from marketplace.events.models import Event, MeetingRequestState
from tests.events.agenda_factories import cancel, place, scene
from tests.events.factories import members_of, seed_meeting_request, seed_registration
from tests.support.web import login
from tests.support.world import PASSWORD


async def test_the_agenda_lists_the_persons_meetings_with_their_times(client, db, world) -> None:
    s = await scene(db, world)
    other = await seed_registration(db, s.event, world.orgs["company/other"])
    theirs = await place(
        db, s.event, await seed_meeting_request(db, s.event, other, s.institution, MeetingRequestState.accepted), 3, 0
    )

    company = (await client.get(f"/api/v1/events/{s.event.id}/agenda", headers=world.bearer(Role.company_admin))).json()
    assert [m["id"] for m in company["meetings"]] == [str(s.meeting.id)]
    mine = company["meetings"][0]
    # Slot 1 of a day from 09:00 in 30 minutes: 09:30–10:00 China time, table A2 (index 1).
    starts = datetime.fromisoformat(mine["starts_at"])
    assert starts == datetime.combine(s.event.starts_on, time(9, 30), tzinfo=CHINA_TIME)
    assert datetime.fromisoformat(mine["ends_at"]) == datetime.combine(s.event.starts_on, time(10, 0), tzinfo=CHINA_TIME)
    assert mine["table"] == "A2" and mine["other_organization"] == "本院" and mine["listing_id"] == str(s.listing_id)
    # The roadshow's one 10-minute talk ends when the meetings begin.
    talk = company["roadshow"][0]
    assert datetime.fromisoformat(talk["starts_at"]) == datetime.combine(s.event.starts_on, time(8, 50), tzinfo=CHINA_TIME)
    assert datetime.fromisoformat(talk["ends_at"]) == datetime.combine(s.event.starts_on, time(9, 0), tzinfo=CHINA_TIME)

    # The institution's attendee sees the team's two meetings, in time order.
    team = (await client.get(f"/api/v1/events/{s.event.id}/agenda", headers=world.bearer(Role.tto_manager))).json()
    assert [m["id"] for m in team["meetings"]] == [str(s.meeting.id), str(theirs.id)]
    # A colleague of the company who does not attend has no meetings; the roadshow is there.
    colleague = (await client.get(f"/api/v1/events/{s.event.id}/agenda", headers=world.bearer(Role.company_member))).json()
    assert colleague["meetings"] == [] and len(colleague["roadshow"]) == 1
    # The institution's staff who does not attend: neither.
    staff = (await client.get(f"/api/v1/events/{s.event.id}/agenda", headers=world.bearer(Role.tto_staff))).json()
    assert staff["meetings"] == []


async def test_the_organizer_opens_any_registrations_agenda_and_nobody_else(client, db, world) -> None:
    s = await scene(db, world)
    url = f"/api/v1/events/{s.event.id}/agenda?registration_id={s.company.id}"
    answer = await client.get(url, headers=world.bearer(Role.platform_admin))
    assert answer.status_code == 200 and [m["id"] for m in answer.json()["meetings"]] == [str(s.meeting.id)]
    for role in (Role.company_admin, Role.tto_manager, Role.platform_analyst):
        assert (await client.get(url, headers=world.bearer(role))).status_code == 404

    await login(client, world.emails[Role.platform_admin])
    page = await client.get(f"/events/{s.event.id}/agenda?registration={s.company.id}")
    assert page.status_code == 200 and "本院" in page.text


async def test_outsiders_get_404_for_a_meeting(client, db, world) -> None:
    s = await scene(db, world)
    outsider = await world.principal(db, "admin@company.other.test")
    _, token = await AccountService(db).create_token(outsider, "outsider")
    await db.commit()
    headers = {"Authorization": f"Bearer {token}"}
    base = f"/api/v1/events/{s.event.id}/meetings/{s.meeting.id}"
    assert (await client.get(base, headers=headers)).status_code == 404
    assert (await client.post(f"{base}/check-in", headers=headers)).status_code == 404
    assert (await client.post(f"{base}/outcome", json={"outcome": "follow_up"}, headers=headers)).status_code == 404
    assert (await client.get(base, headers=world.bearer(Role.company_admin))).status_code == 200
    # The agenda page of an unregistered company: the roadshow, no meetings.
    await login(client, "admin@company.other.test", PASSWORD)
    page = await client.get(f"/events/{s.event.id}/agenda")
    assert page.status_code == 200 and f"meeting-{s.meeting.id}" not in page.text
    assert (
        await client.post(f"/events/{s.event.id}/meetings/{s.meeting.id}/check-in", headers={"x-csrftoken": ""})
    ).status_code in (403, 404)


async def test_the_calendar_file_parses_back_with_stable_uids_times_and_a_cancelled_meeting(client, db, world) -> None:
    s = await scene(db, world)
    other_institution = await seed_registration(
        db, s.event, world.orgs["institution/other"], people=(await members_of(db, world.orgs["institution/other"]))[:1]
    )
    called_off = await place(
        db, s.event, await seed_meeting_request(db, s.event, s.company, other_institution, MeetingRequestState.accepted), 4, 0
    )
    await cancel(db, called_off)
    # Text with a line break cannot add a property of its own.
    await db.execute(update(Event).where(Event.id == s.event.id).values(title="对接会\r\nATTENDEE:mailto:evil@example.com"))
    await db.commit()

    await login(client, world.emails[Role.company_admin])
    answer = await client.get(f"/events/{s.event.id}/agenda.ics")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "attachment" in answer.headers["content-disposition"] and ".ics" in answer.headers["content-disposition"]
    assert "\nATTENDEE" not in answer.text

    calendar = Calendar.from_ical(answer.content)
    events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
    host = "testserver.local"
    meeting = events[f"meeting-{s.meeting.id}@{host}"]
    assert meeting.decoded("dtstart") == datetime.combine(s.event.starts_on, time(9, 30), tzinfo=CHINA_TIME).astimezone(UTC)
    assert meeting.decoded("dtend") == datetime.combine(s.event.starts_on, time(10, 0), tzinfo=CHINA_TIME).astimezone(UTC)
    assert str(meeting["status"]) == "CONFIRMED" and "本院" in str(meeting["summary"]) and "A2" in str(meeting["location"])
    assert str(events[f"meeting-{called_off.id}@{host}"]["status"]) == "CANCELLED"
    roadshow = events[f"roadshow-{s.event.id}@{host}"]
    assert roadshow.decoded("dtend") == datetime.combine(s.event.starts_on, time(9, 0), tzinfo=CHINA_TIME).astimezone(UTC)
    assert "\n" not in str(meeting["summary"]) and "\r" not in str(roadshow["summary"])

    # The same file again: the same UIDs (a calendar updates, not duplicates).
    again = Calendar.from_ical((await client.get(f"/events/{s.event.id}/agenda.ics")).content)
    assert {str(e["uid"]) for e in again.walk("VEVENT")} == set(events)


async def test_the_sequence_grows_when_the_meeting_moves(client, db, world) -> None:
    from marketplace import states
    from marketplace.events.lifecycle import MEETING

    s = await scene(db, world)
    await login(client, world.emails[Role.company_admin])

    async def sequence() -> int:
        calendar = Calendar.from_ical((await client.get(f"/events/{s.event.id}/agenda.ics")).content)
        return next(int(e["sequence"]) for e in calendar.walk("VEVENT") if str(s.meeting.id) in str(e["uid"]))

    before = await sequence()
    meeting = s.meeting
    await db.refresh(meeting)
    await states.apply(db, MEETING, None, meeting, "release", as_system=True)
    await states.apply(db, MEETING, None, meeting, "confirm", as_system=True)
    await db.commit()
    assert await sequence() == before + 2


async def test_the_agenda_page_prints(client, db, world) -> None:
    s = await scene(db, world)
    await login(client, world.emails[Role.company_admin])
    page = await client.get(f"/events/{s.event.id}/agenda")
    assert page.status_code == 200
    assert "/static/agenda.css" in page.text and "data-print" in page.text
    assert f"/events/{s.event.id}/agenda.ics" in page.text
    assert "09:30–10:00" in page.text and "A2" in page.text
