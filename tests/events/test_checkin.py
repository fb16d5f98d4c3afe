"""The check-in at the table: either side checks its own side in (the first one marks the meeting
held), the organizer checks both, only while the event runs, only a confirmed meeting, once per side."""

from __future__ import annotations

from marketplace.accounts.models import Role
from marketplace.audit import services as audit
from marketplace.events.models import EventState, MeetingState
from tests.events.agenda_factories import scene
from tests.events.factories import fresh
from tests.support.web import login, post_form


def url(s) -> str:
    return f"/api/v1/events/{s.event.id}/meetings/{s.meeting.id}/check-in"


async def test_each_side_checks_in_once_and_the_first_marks_the_meeting_held(client, db, world) -> None:
    s = await scene(db, world)
    first = await client.post(url(s), headers=world.bearer(Role.company_admin))
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["state"] == MeetingState.held and body["company_checked_in_at"] and body["institution_checked_in_at"] is None
    assert (await client.post(url(s), headers=world.bearer(Role.company_admin))).status_code == 409

    second = await client.post(url(s), headers=world.bearer(Role.tto_manager))
    assert second.status_code == 200 and second.json()["institution_checked_in_at"]
    actions = [e.action for e in await audit.events(db, subject_id=s.meeting.id)]
    assert "meeting_check_in" in actions and "meeting_side_checked_in" in actions


async def test_the_organizer_checks_both_sides_in(client, db, world) -> None:
    s = await scene(db, world)
    answer = await client.post(url(s), headers=world.bearer(Role.platform_admin))
    assert answer.status_code == 200
    assert answer.json()["company_checked_in_at"] and answer.json()["institution_checked_in_at"]
    # The analyst reads meetings but does not check them in.
    s2 = await scene(db, world)
    assert (await client.post(url(s2), headers=world.bearer(Role.platform_analyst))).status_code == 403


async def test_no_check_in_unless_the_event_runs_and_the_meeting_is_confirmed(client, db, world) -> None:
    scheduling = await scene(db, world, EventState.scheduling)
    assert (await client.post(url(scheduling), headers=world.bearer(Role.company_admin))).status_code == 409
    await fresh(db, scheduling.meeting)
    assert scheduling.meeting.state == MeetingState.confirmed and scheduling.meeting.company_checked_in_at is None

    draft_placement = await scene(db, world, meeting_state=MeetingState.placed)
    assert (await client.post(url(draft_placement), headers=world.bearer(Role.company_admin))).status_code == 409


async def test_the_agenda_page_has_the_check_in_button(client, db, world) -> None:
    s = await scene(db, world)
    await login(client, world.emails[Role.company_admin])
    page = await client.get(f"/events/{s.event.id}/agenda")
    assert f"/meetings/{s.meeting.id}/check-in" in page.text
    answer = await post_form(client, f"/events/{s.event.id}/meetings/{s.meeting.id}/check-in")
    assert answer.status_code == 302
    page = await client.get(f"/events/{s.event.id}/agenda")
    assert f"/meetings/{s.meeting.id}/check-in" not in page.text
    again = await post_form(client, f"/events/{s.event.id}/meetings/{s.meeting.id}/check-in")
    assert again.status_code == 409 and "field-error" in again.text


async def test_the_organizer_checks_in_from_a_teams_agenda(client, db, world) -> None:
    s = await scene(db, world)
    await login(client, world.emails[Role.platform_admin])
    page = await client.get(f"/events/{s.event.id}/agenda?registration={s.company.id}")
    action = f"/events/{s.event.id}/meetings/{s.meeting.id}/check-in?registration={s.company.id}"
    assert action in page.text
    answer = await post_form(client, action)
    assert answer.status_code == 302 and f"agenda?registration={s.company.id}" in answer.headers["location"]
    await fresh(db, s.meeting)
    await db.refresh(s.meeting)
    assert s.meeting.state == MeetingState.held and s.meeting.institution_checked_in_at and s.meeting.company_checked_in_at
