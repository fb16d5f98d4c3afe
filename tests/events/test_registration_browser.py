"""Issue 17, points 1–2, in headless Chromium: an institution's TTO registers for an event — its
people, a day's slots by "select all", a listing with its minutes — and finds its talk in the
roadshow; the events pages at both sizes in both languages (screenshots when SCREENSHOTS is set)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.events.models import EventState, Registration
from tests.catalog.factories import published, result_body
from tests.events.factories import seed_event, seed_registration
from tests.events.registration_factories import add_talk
from tests.support.browser import VIEWPORTS, page_in, screenshot, sign_in
from tests.support.live_server import LiveServer
from tests.support.world import PASSWORD, World

pytestmark = pytest.mark.browser


async def test_a_tto_registers_with_a_days_slots_and_a_talk(page: Page, world: World, db) -> None:
    event = await seed_event(db, world)
    listing = await published(db, world, body=result_body(title_zh="外泌体肝癌早筛"))
    await sign_in(page, world.emails[Role.tto_manager], f"/events/{event.id}")
    await page.locator("main").get_by_role("button", name="报名", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/register$"))
    main = page.locator("main")
    for box in await main.locator('input[name="slots"]').all():
        await box.uncheck()
    await main.locator("fieldset.slot-day").nth(1).get_by_label("全选").check()
    await main.get_by_label("外泌体肝癌早筛").check()
    await main.locator(f'input[name="minutes_{listing}"]').fill("10")
    await main.get_by_role("button", name="报名").click()
    await expect(page).to_have_url(re.compile(rf"/events/{event.id}$"))
    await expect(main.locator("table")).to_contain_text("08:50–09:00")
    registration = await db.scalar(select(Registration).where(Registration.event_id == event.id))
    assert registration is not None and registration.available_slots == list(range(6, 12))


async def _signed_in(browser: Browser, live_server: LiveServer, email: str, locale: str, size: str) -> Page:
    page = await page_in(browser, live_server, locale, size)
    await page.goto("/login")
    form = page.locator('main form[action="/login"]')  # not the single sign-on form below it
    await form.locator('input[name="email"]').fill(email)
    await form.locator('input[name="password"]').fill(PASSWORD)
    await form.locator("button[type=submit]").click()
    await page.wait_for_load_state("load")
    return page


@pytest.mark.parametrize("size", list(VIEWPORTS))
@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_the_events_pages_at_each_size(browser: Browser, live_server: LiveServer, world: World, db, locale, size) -> None:
    event = await seed_event(db, world, organizer="platform/own", areas=["oncology", "cardiovascular"])
    await seed_event(db, world, EventState.draft, title="秋季对接会（草稿）", title_en="Autumn matchmaking (draft)")
    team = await seed_registration(db, event, world.orgs["institution/own"])
    await seed_registration(db, event, world.orgs["company/own"])
    await add_talk(db, world, event, team, "外泌体肝癌早筛")
    page = await _signed_in(browser, live_server, world.emails[Role.platform_admin], locale, size)
    try:
        for name, path in (
            ("list", "/events"),
            ("detail", f"/events/{event.id}"),
            ("new", "/events/new"),
            ("edit", f"/events/{event.id}/edit"),
        ):
            response = await page.goto(path)
            assert response is not None and response.status == 200, path
            await screenshot(page, f"events-{name}-{locale}-{size}")
        await page.goto("/events/new")
        await page.locator("main form button[type=submit]").click()
        await expect(page.locator(".field-error").first).to_be_visible()
        await screenshot(page, f"events-new-errors-{locale}-{size}")
    finally:
        await page.context.close()
    page = await _signed_in(browser, live_server, world.emails[Role.company_admin], locale, size)
    try:
        await page.goto(f"/events/{event.id}/register")
        await expect(page.locator("fieldset.slot-day")).to_have_count(2)
        await screenshot(page, f"events-register-{locale}-{size}")
        await page.goto(f"/events/{event.id}")
        await screenshot(page, f"events-detail-company-{locale}-{size}")
    finally:
        await page.context.close()
