"""Issue 14, point 9 (the TTO's half), in headless Chromium: a TTO's home page shows the overdue
request first, in the warning colour, and one click reaches it; with two overdue, the card leads to
the filtered list, which shows exactly those."""

from __future__ import annotations

import os
import re

import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import Role
from tests.analytics.factories import request_on
from tests.support.browser import sign_in
from tests.support.world import World

pytestmark = pytest.mark.browser

# Set HOME_SCREENSHOTS to a folder to look at the page as a person would (1366×900).
SCREENSHOTS = os.environ.get("HOME_SCREENSHOTS")


async def test_the_tto_reaches_the_overdue_request_in_one_click(page: Page, world: World, db: AsyncSession) -> None:
    overdue = await request_on(db, world, "逾期未答复的肝癌早筛专利", days_ago=40)
    await request_on(db, world, "新近收到申请的成果")
    await request_on(db, world, "他院逾期成果", days_ago=40, relation="other")
    await page.set_viewport_size({"width": 1366, "height": 900})
    await sign_in(page, world.emails[Role.tto_manager], "/")

    first = page.locator("main .queue-item").first
    await expect(first).to_have_attribute("data-queue", "overdue-requests")
    await expect(first.locator(".queue-count")).to_have_text("1")
    await expect(first.locator(".queue-label")).to_have_text("已逾期的对接申请")
    await expect(first).to_have_class(re.compile(r"\bqueue-warn\b"))
    assert await first.evaluate("e => getComputedStyle(e.querySelector('.queue-count')).color") == "rgb(180, 35, 24)"
    await expect(page.locator("[data-queue=requests-to-answer] .queue-count")).to_have_text("2")
    if SCREENSHOTS:
        await page.screenshot(path=f"{SCREENSHOTS}/tto-home.png", full_page=True)

    await first.click()
    await expect(page).to_have_url(re.compile(rf"/match-requests/{overdue.id}$"))
    await expect(page.locator("main")).to_contain_text("逾期未答复的肝癌早筛专利")

    # A second overdue request: the card leads to the list of exactly those two.
    second = await request_on(db, world, "第二项逾期成果", days_ago=35)
    await page.goto("/")
    card = page.locator("main .queue-item").first
    await expect(card.locator(".queue-count")).to_have_text("2")
    await card.click()
    await expect(page).to_have_url(re.compile(r"/match-requests\?overdue=1$"))
    rows = page.locator("table.match-table tbody tr")
    await expect(rows).to_have_count(2)
    await expect(page.locator("table.match-table")).not_to_contain_text("新近收到申请的成果")
    await expect(page.locator("table.match-table")).not_to_contain_text("他院逾期成果")
    await page.get_by_role("link", name="第二项逾期成果").click()
    await expect(page).to_have_url(re.compile(rf"/match-requests/{second.id}$"))
