"""The meeting pages in the app (test client) and in headless Chromium: a company asks an
institution from the form, the TTO accepts naming its host, the organizer runs the scheduling and
sees the grid and the summary; a refused form is shown again with its field; screenshots of each
page at 1366 and 390 px in Chinese and English when SCREENSHOTS is set."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.events.models import EventState, Meeting, MeetingRequest
from tests.events.meeting_factories import present, teams
from tests.support.browser import VIEWPORTS, screenshot, sign_in
from tests.support.web import login, post_form


async def test_ask_accept_and_schedule_through_the_pages(client, db, world) -> None:
    t = await teams(db, world)
    listing_id = await present(db, world, t.event, t.institution)
    event_id, institution_id = t.event.id, t.institution.id
    await login(client, world.emails[Role.company_admin])
    form = await client.get(f"/events/{event_id}/meeting-requests/new?to={institution_id}")
    assert form.status_code == 200 and f"listing:{listing_id}" in form.text
    sent = await post_form(
        client,
        f"/events/{event_id}/meeting-requests",
        {"to_registration_id": str(institution_id), "subject": f"listing:{listing_id}", "message": "想了解授权方式"},
    )
    assert sent.status_code == 302 and sent.headers["location"] == f"/events/{event_id}/meetings"
    mine = await client.get(f"/events/{event_id}/meetings")
    assert "待答复" in mine.text and "想了解授权方式" in mine.text and "撤回" in mine.text
    request = await db.scalar(select(MeetingRequest).where(MeetingRequest.event_id == event_id))
    assert request is not None and request.listing_id == listing_id

    await login(client, world.emails[Role.tto_manager])
    received = await client.get(f"/events/{event_id}/meetings")
    assert 'name="host_user_id"' in received.text
    accepted = await post_form(
        client,
        f"/events/{event_id}/meeting-requests/{request.id}/transitions",
        {"action": "accept", "host_user_id": str(t.institution.contact_user_id)},
    )
    assert accepted.status_code == 302
    assert await db.scalar(select(Meeting.state).where(Meeting.meeting_request_id == request.id)) == "unplaced"

    t.event.state = EventState.scheduling
    await db.commit()
    await login(client, world.emails[Role.platform_admin])
    grid = await client.get(f"/events/{event_id}/schedule")
    assert "运行排期" in grid.text and "等待排期" in grid.text
    ran = await post_form(client, f"/events/{event_id}/schedule", {"move_confirmed": ""})
    assert ran.status_code == 200 and "排期结果" in ran.text and "placed-bar" in ran.text
    assert "本院" in ran.text and "本企业" in ran.text
    # The company sees its own meeting with its time and table.
    await login(client, world.emails[Role.company_admin])
    own = await client.get(f"/events/{event_id}/schedule")
    assert "A1" in own.text and "运行排期" not in own.text


async def test_a_refused_form_is_shown_again_with_its_field(client, db, world) -> None:
    t = await teams(db, world)
    await login(client, world.emails[Role.company_admin])
    refused = await post_form(
        client, f"/events/{t.event.id}/meeting-requests", {"to_registration_id": str(t.other_company.id), "message": "你好"}
    )
    assert refused.status_code == 422
    assert 'id="to_registration_id-error"' in refused.text and "洽谈只在企业与机构之间进行" in refused.text
    declined = await post_form(client, f"/events/{t.event.id}/schedule", {})
    assert declined.status_code == 403


async def test_the_form_without_a_team_lists_the_teams_to_ask(client, db, world) -> None:
    t = await teams(db, world)
    await login(client, world.emails[Role.company_admin])
    page = await client.get(f"/events/{t.event.id}/meeting-requests/new")
    assert f"?to={t.institution.id}" in page.text and f"?to={t.other_company.id}" not in page.text
    assert (await client.get(f"/events/{t.event.id}/meeting-requests/new?to=nonsense")).status_code == 404


@pytest.mark.browser
async def test_the_pages_in_chromium_at_both_sizes_and_languages(page: Page, db, world, live_server) -> None:
    t = await teams(db, world)
    listing_id = await present(db, world, t.event, t.institution)
    event_id, institution_id = t.event.id, t.institution.id
    await sign_in(page, world.emails[Role.company_admin], f"/events/{event_id}/meeting-requests/new?to={institution_id}")
    await page.locator(f"input[value='listing:{listing_id}']").check()
    await page.get_by_label("留言").fill("想了解授权方式与临床数据")
    await page.get_by_role("button", name="提交申请").click()
    await expect(page).to_have_url(re.compile(f"/events/{event_id}/meetings$"))
    await expect(page.locator(".meeting-request")).to_contain_text("待答复")

    await sign_in(page, world.emails[Role.tto_manager], f"/events/{event_id}/meetings")
    await page.get_by_role("button", name="接受洽谈").click()
    await expect(page.locator(".meeting-request")).to_contain_text("已接受")
    t.event.state = EventState.scheduling
    await db.commit()

    await sign_in(page, world.emails[Role.platform_admin], f"/events/{event_id}/schedule")
    await page.get_by_role("button", name="运行排期").click()
    await expect(page.locator(".schedule-summary")).to_contain_text("已排定 1 场")
    await expect(page.locator(".schedule-cell.taken")).to_have_count(1)
    await screenshot(page, "events-schedule-run-zh_CN-desktop")
    await page.set_viewport_size(VIEWPORTS["phone"])
    await screenshot(page, "events-schedule-run-zh_CN-phone")

    shots = [
        (world.emails[Role.platform_admin], f"/events/{event_id}/schedule", "schedule"),
        (world.emails[Role.tto_manager], f"/events/{event_id}/meetings", "meetings"),
        (world.emails[Role.company_admin], f"/events/{event_id}/meeting-requests/new?to={institution_id}", "new"),
    ]
    for email, path, name in shots:
        await sign_in(page, email, path)
        for locale in ("zh_CN", "en"):
            await page.context.add_cookies([{"name": "lang", "value": locale, "url": live_server}])
            for size, viewport in VIEWPORTS.items():
                await page.set_viewport_size(viewport)
                await page.goto(path)
                await screenshot(page, f"events-{name}-{locale}-{size}")
