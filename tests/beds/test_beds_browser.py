"""Issue 13, point 10, in headless Chromium: a company picks a free day on a ward's calendar and
asks for beds; the TTO approves them; the centre's three reviews run side by side (ethics by
recognising the lead site's approval); the first consent stops the start-up clock; the calendar
and search then show fewer free beds."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import Role
from marketplace.beds.engagements import EngagementTerms
from marketplace.beds.models import Project
from marketplace.beds.schemas import WardIn
from marketplace.beds.services import BedsService
from marketplace.db import china_today, make_sessionmaker
from marketplace.search.engine import SearchEngine
from marketplace.search.outbox import OutboxRelay
from tests.beds.factories import review_step
from tests.support.browser import sign_in
from tests.support.world import World

pytestmark = pytest.mark.browser


async def relay(settings, engine) -> None:
    async with SearchEngine(settings.meili_url, settings.meili_master_key, settings.meili_index_prefix) as search:
        done = await OutboxRelay(make_sessionmaker(engine), search).drain()
    assert not done.failed, done


async def test_from_free_beds_to_a_trial_with_its_start_up_clock_stopped(
    page: Page, world: World, db: AsyncSession, indexed, settings, engine
) -> None:
    today = china_today()
    beds = BedsService(db)
    manager = await world.principal(db, world.emails[Role.tto_manager])
    ward_data = WardIn(listing_id=uuid.UUID(indexed["ward"]), name="一病区", specialty="肿瘤", research_beds=10, opens_on=today)
    ward = await beds.create_ward(manager, ward_data)
    company_id = world.orgs["company/own"].id
    project = Project(id=uuid.uuid4(), company_id=company_id, title="多中心Ⅲ期研究", phase="III", sponsor="本企业")
    db.add(project)
    await db.flush()
    terms = {"company_id": company_id, "title": "多中心Ⅲ期研究", "phase": "III", "sponsor": "本企业", "project_id": project.id}
    lead = await beds.open_engagement(
        None, EngagementTerms(institution_id=world.orgs["institution/other"].id, pi_name="王", centre_role="lead", **terms)
    )
    centre = await beds.open_engagement(
        None, EngagementTerms(institution_id=world.orgs["institution/own"].id, pi_name="赵", centre_role="participating", **terms)
    )
    await db.commit()
    ward_id, lead_id, centre_id = ward.id, lead.id, centre.id
    for action in ("submit", "start_review"):
        await review_step(db, world, lead_id, "ethics", action, "other")
    await review_step(db, world, lead_id, "ethics", "approve", "other", reference="组长伦审-07")
    await relay(settings, engine)

    # The company picks a free day ten days from now and asks for 4 beds for 30 days.
    start, end = today + timedelta(days=10), today + timedelta(days=39)
    await sign_in(page, world.emails[Role.company_member], f"/wards/{ward_id}")
    day = page.locator(f'a[href="/wards/{ward_id}/request?starts_on={start.isoformat()}"]')
    await expect(day).to_have_text("10")
    await day.click()
    main = page.locator("main")
    await expect(main.locator("#starts_on")).to_have_value(start.isoformat())
    await main.locator("#ends_on").fill(end.isoformat())
    await main.locator("#bed_count").fill("4")
    await main.locator("#trial_title").fill("多中心Ⅲ期研究")
    await main.locator("#phase").select_option("III")
    await main.locator("#sponsor").fill("本企业")
    await main.locator("#pi_name").fill("赵")
    await main.locator("form button[type=submit]").last.click()
    await expect(page).to_have_url(re.compile(r"/bed-allocations/"))

    # The TTO approves them on the ward's page.
    await sign_in(page, world.emails[Role.tto_manager], f"/wards/{ward_id}")
    await page.locator("main").get_by_role("button", name="批准床位").click()
    await expect(page.get_by_role("status")).to_be_visible()
    await page.goto(f"/wards/{ward_id}")
    await expect(page.locator(f'[aria-label*="{start.isoformat()}"]').first).to_have_text("6")

    # The centre's three reviews, side by side: ethics by recognition, the other two reviewed.
    await page.goto(f"/trial-engagements/{centre_id}")
    ethics = page.locator("#track-ethics")
    await ethics.get_by_role("button", name=re.compile("伦理互认")).click()
    await expect(page.locator("#track-ethics")).to_contain_text("组长伦审-07")
    for track in ("approval", "contract"):
        for step in ("提交材料", "开始审核"):
            await page.locator(f"#track-{track}").get_by_role("button", name=step).click()
        await page.locator(f"#track-{track}").get_by_label(re.compile("编号|Reference")).fill(f"{track}-001")
        await page.locator(f"#track-{track}").get_by_role("button", name="批准", exact=True).click()
        await expect(page.locator(f"#track-{track}")).to_contain_text(f"{track}-001")

    # The first consent stops the clock.
    await page.get_by_role("button", name="登记首例知情同意").click()
    await expect(page.locator("main")).to_contain_text(today.isoformat())
    stopped = await beds.engagement(manager, centre_id)
    assert stopped.first_consent_on == today and stopped.state == "active"

    # Search shows fewer free bed-days: 10 beds × 90 days, less 4 beds × 30 days.
    await relay(settings, engine)
    await page.goto("/search?free_days=30&free_beds=4")
    await expect(page.locator("main")).to_contain_text("未来 90 天空余床日：780")
