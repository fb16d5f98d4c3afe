"""Issue 17, point 7, in headless Chromium: the dashboard draws the events' funnel from its table
(ECharts' funnel, no CSP refusal), in Chinese and, switched, in English."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import Role
from tests.events.figure_factories import build_events
from tests.support.browser import screenshot, sign_in
from tests.support.world import World

pytestmark = pytest.mark.browser


async def test_the_dashboard_draws_the_events_funnel(page: Page, world: World, db: AsyncSession) -> None:
    await build_events(db, world)
    await db.commit()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if message.type == "error" else None)

    await sign_in(page, world.emails[Role.platform_admin], "/analytics")
    await page.goto(page.url + "?year=2026&quarter=2")
    card = page.locator("#card-event_funnel")
    await card.scroll_into_view_if_needed()
    chart = card.locator(".chart-funnel svg")
    await expect(chart).to_be_visible()
    # The funnel's steps are the table's rows, labelled with their counts.
    await expect(chart).to_contain_text("转为对接申请: 2")
    await expect(chart).to_contain_text("达成协议: 1")
    await expect(card.locator("#table-event_funnel tbody tr")).to_have_count(6)
    await expect(page.locator("#table-event_participants")).to_contain_text("报名企业")
    assert not [text for text in refused if "Content Security Policy" in text], refused
    await screenshot(page, "events-funnel")
