"""Issue 17, point 9, in headless Chromium, from registration to follow-up: the platform admin
opens an event; an institution registers with two listings; a company asks it for a meeting about
one of them and the institution accepts; the admin closes registration, runs the scheduling and
publishes the schedule; both sides find the meeting in their agendas; after it the company opens a
match request from the meeting, with the NDA step, and the meeting links to it."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.db import CHINA_TIME, china_today, utcnow
from marketplace.events.models import EventState, Meeting, MeetingState
from marketplace.matching.requests.models import MatchRequest
from tests.catalog.factories import published, result_body
from tests.events.factories import seed_event
from tests.support.browser import sign_in
from tests.support.world import World

pytestmark = pytest.mark.browser


async def test_an_event_from_registration_to_a_match_request(page: Page, world: World, db) -> None:
    # Today's event from midnight (China time), so its first slot has begun by the time the
    # company records the outcome; registration stays open until tomorrow.
    event = await seed_event(
        db,
        world,
        EventState.draft,
        starts_on=china_today(),
        ends_on=china_today(),
        day_starts_at=time(0, 0),
        day_ends_at=time(2, 0),
        registration_deadline=utcnow().astimezone(CHINA_TIME) + timedelta(days=1),
    )
    first = await published(db, world, body=result_body(title_zh="外泌体肝癌早筛试剂盒"))
    await published(db, world, body=result_body(title_zh="术后认知障碍评估软件"))
    url = f"/events/{event.id}"
    main = page.locator("main")

    # The admin opens registration.
    await sign_in(page, world.emails[Role.platform_admin], url)
    await main.get_by_role("button", name="开放报名").click()
    await expect(main.locator(".card-badges")).to_contain_text("报名中")

    # The institution registers, free in the first slot only, presenting both listings.
    await sign_in(page, world.emails[Role.tto_manager], f"{url}/register")
    for box in await main.locator('input[name="slots"]').all():
        await box.uncheck()
    await main.locator('input[name="slots"][value="0"]').check()
    await main.get_by_label("外泌体肝癌早筛试剂盒").check()
    await main.get_by_label("术后认知障碍评估软件").check()
    await main.get_by_role("button", name="报名").click()
    await expect(page).to_have_url(re.compile(rf"{url}$"))
    await expect(main.locator(".event-teams")).to_contain_text("外泌体肝癌早筛试剂盒")

    # The company registers too, and asks the institution about the first listing.
    await sign_in(page, world.emails[Role.company_member], f"{url}/register")
    for box in await main.locator('input[name="slots"]').all():
        await box.uncheck()
    await main.locator('input[name="slots"][value="0"]').check()
    await main.get_by_role("button", name="报名").click()
    await expect(page).to_have_url(re.compile(rf"{url}$"))
    await main.locator(".event-teams li", has_text="本院").get_by_role("link", name="邀约洽谈").click()
    await main.locator(f'input[name="subject"][value="listing:{first}"]').check()
    await main.locator('textarea[name="message"]').fill("想了解试剂盒的许可方式")
    await main.get_by_role("button", name="提交申请").click()
    await expect(page).to_have_url(re.compile(rf"{url}/meetings"))

    # The institution accepts.
    await sign_in(page, world.emails[Role.tto_manager], f"{url}/meetings")
    await main.get_by_role("button", name="接受洽谈").click()
    await expect(main).to_contain_text("已接受")

    # The admin closes registration, runs the scheduling and publishes the schedule.
    await sign_in(page, world.emails[Role.platform_admin], url)
    await main.get_by_role("button", name="截止报名").click()
    await expect(main.locator(".card-badges")).to_contain_text("排期中")
    await page.goto(f"{url}/schedule")
    await main.get_by_role("button", name="运行排期").click()
    await expect(main.locator(".schedule-grid, table").first).to_contain_text("本企业")
    await page.goto(url)
    await main.get_by_role("button", name="发布日程并开始").click()
    await expect(main.locator(".card-badges")).to_contain_text("进行中")
    meeting = await db.scalar(select(Meeting).where(Meeting.event_id == event.id))
    assert meeting is not None and (meeting.state, meeting.slot, meeting.table_no) == (MeetingState.confirmed, 0, 0)

    # Both sides see the meeting, at table A1 at 00:00, in their agendas.
    for email, other in ((world.emails[Role.tto_manager], "本企业"), (world.emails[Role.company_member], "本院")):
        await sign_in(page, email, f"{url}/agenda")
        row = main.locator(".meetings-table tbody tr", has_text=other).first
        await expect(row).to_contain_text("00:00–00:30")
        await expect(row).to_contain_text("A1")

    # After it, the company opens a match request from the meeting, accepting the NDA.
    await main.get_by_text("记录本场洽谈的结果").click()
    await main.locator("input[name=outcome][value=match_request]").check()
    await main.locator('select[name="engagement_type"]').select_option(index=1)
    await main.locator('textarea[name="purpose"]').fill("在华东地区独家许可生产")
    await main.locator('input[name="timeline"]').fill("三个月内签约")
    await main.locator('input[name="accept_nda"]').check()
    await main.get_by_role("button", name="记录结果").click()
    await expect(main.locator('a[href^="/match-requests/"]').first).to_be_visible()
    request = await db.scalar(select(MatchRequest).where(MatchRequest.listing_id == first))
    assert request is not None and request.nda_accepted_at is not None
    await db.refresh(meeting)
    assert meeting.company_outcome == "match_request" and meeting.match_request_id == request.id
    await expect(main.locator(f'a[href="/match-requests/{request.id}"]')).to_be_visible()
