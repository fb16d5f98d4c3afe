"""Outcomes: each side once, not before the meeting's slot; the company's "open a match request"
creates the request through matching (with the NDA accepted in the same step) and links it; a
general meeting's request is about a listing the institution presents."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.events.models import EventState, MeetingState
from marketplace.matching.requests.models import MatchRequest
from tests.events.agenda_factories import scene
from tests.events.factories import fresh
from tests.matching.requests.factories import match_body, match_form
from tests.support.web import login, post_form

PAST = date.today() - timedelta(days=3)


def url(s) -> str:
    return f"/api/v1/events/{s.event.id}/meetings/{s.meeting.id}/outcome"


def request_body(**overrides) -> dict:
    body = {"outcome": "match_request", "note": "谈得不错", **match_body(None)}
    del body["listing_id"]
    body.update(overrides)
    return body


async def requests_count(db) -> int:
    return await db.scalar(select(func.count()).select_from(MatchRequest)) or 0


async def test_the_company_opens_a_match_request_from_the_meeting(client, db, world) -> None:
    s = await scene(db, world, EventState.closed, starts_on=PAST, meeting_state=MeetingState.held)
    answer = await client.post(url(s), json=request_body(), headers=world.bearer(Role.company_admin))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["company_outcome"] == "match_request" and body["match_request_id"]
    created = await db.get(MatchRequest, body["match_request_id"])
    assert created is not None and created.listing_id == s.listing_id and created.nda_version == 1
    assert created.nda_accepted_at is not None and s.event.title in created.message and "希望了解" in created.message
    # Once per side.
    again = await client.post(url(s), json={"outcome": "follow_up"}, headers=world.bearer(Role.company_admin))
    assert again.status_code == 409
    # The institution records its own, once.
    assert (await client.post(url(s), json={"outcome": "follow_up"}, headers=world.bearer(Role.tto_manager))).status_code == 200
    assert (await client.post(url(s), json={"outcome": "no_interest"}, headers=world.bearer(Role.tto_manager))).status_code == 409


async def test_the_nda_must_be_accepted_in_the_same_step(client, db, world) -> None:
    s = await scene(db, world, EventState.closed, starts_on=PAST, meeting_state=MeetingState.held)
    refused = await client.post(url(s), json=request_body(accept_nda=False), headers=world.bearer(Role.company_admin))
    assert refused.status_code in (400, 422) and "accept_nda" in refused.text
    stale = await client.post(url(s), json=request_body(nda_version=99), headers=world.bearer(Role.company_admin))
    assert stale.status_code in (400, 422) and "nda_version" in stale.text
    assert await requests_count(db) == 0
    await fresh(db, s.meeting)
    await db.refresh(s.meeting)
    assert s.meeting.company_outcome is None and s.meeting.match_request_id is None


async def test_no_outcome_before_the_slot_begins(client, db, world) -> None:
    s = await scene(db, world)  # a month ahead, confirmed
    answer = await client.post(url(s), json={"outcome": "follow_up"}, headers=world.bearer(Role.company_admin))
    assert answer.status_code == 409
    unplaced = await scene(db, world, EventState.closed, starts_on=PAST, meeting_state=MeetingState.unplaced)
    assert (
        await client.post(url(unplaced), json={"outcome": "follow_up"}, headers=world.bearer(Role.company_admin))
    ).status_code == 409


async def test_a_confirmed_meeting_whose_slot_has_passed_takes_an_outcome(client, db, world) -> None:
    s = await scene(db, world, EventState.running, starts_on=PAST)
    answer = await client.post(
        url(s), json={"outcome": "no_interest", "note": "方向不同"}, headers=world.bearer(Role.tto_manager)
    )
    assert answer.status_code == 200 and answer.json()["institution_outcome"] == "no_interest"


async def test_institutions_do_not_open_match_requests(client, db, world) -> None:
    s = await scene(db, world, EventState.closed, starts_on=PAST, meeting_state=MeetingState.held)
    answer = await client.post(url(s), json=request_body(), headers=world.bearer(Role.tto_manager))
    assert answer.status_code in (400, 422) and "outcome" in answer.text
    assert await requests_count(db) == 0


async def test_a_general_meeting_asks_which_presented_listing(client, db, world) -> None:
    s = await scene(db, world, EventState.closed, starts_on=PAST, meeting_state=MeetingState.held, general=True)
    missing = await client.post(url(s), json=request_body(), headers=world.bearer(Role.company_admin))
    assert missing.status_code in (400, 422) and "listing_id" in missing.text
    other = await scene(db, world, EventState.closed, starts_on=PAST, meeting_state=MeetingState.held)
    elsewhere = await client.post(
        url(s), json=request_body(listing_id=str(other.listing_id)), headers=world.bearer(Role.company_admin)
    )
    assert elsewhere.status_code in (400, 422) and "listing_id" in elsewhere.text
    answer = await client.post(url(s), json=request_body(listing_id=str(s.listing_id)), headers=world.bearer(Role.company_admin))
    assert answer.status_code == 200 and answer.json()["match_request_id"]


async def test_the_outcome_form_keeps_what_was_typed_and_links_the_request(client, db, world) -> None:
    s = await scene(db, world, EventState.closed, starts_on=PAST, meeting_state=MeetingState.held)
    await login(client, world.emails[Role.company_admin])
    page = await client.get(f"/events/{s.event.id}/agenda")
    assert f"/meetings/{s.meeting.id}/outcome" in page.text and 'value="match_request"' in page.text

    form = {**match_form(), "outcome": "match_request", "nda_version": "1", "purpose": "", "timeline": "明年三月前"}
    form.pop("accept_nda", None)
    refused = await post_form(client, f"/events/{s.event.id}/meetings/{s.meeting.id}/outcome", form)
    assert refused.status_code in (400, 422)
    assert "明年三月前" in refused.text and 'id="purpose-error"' in refused.text and 'id="accept_nda-error"' in refused.text

    form.update(purpose="用于体外诊断产品开发", accept_nda="on")
    answer = await post_form(client, f"/events/{s.event.id}/meetings/{s.meeting.id}/outcome", form)
    assert answer.status_code == 302, answer.text
    await fresh(db, s.meeting)
    await db.refresh(s.meeting)
    page = await client.get(f"/events/{s.event.id}/agenda")
    assert f"/match-requests/{s.meeting.match_request_id}" in page.text
    assert f"/meetings/{s.meeting.id}/outcome" not in page.text
