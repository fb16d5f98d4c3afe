"""The landing page in headless Chromium, in Chinese and English, on a desktop and a phone: suggestions
appear under the search box as one types (htmx, no inline script), the figures are shown, and the
arrow keys reach the suggestions. SCREENSHOTS=<folder> keeps a picture of each page."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from tests.analytics.front_door_factories import landing_samples
from tests.support.browser import VIEWPORTS, page_in, screenshot
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.browser

WORDS = {
    "zh_CN": {"search": "搜索", "institutions": "医疗机构", "matches": "成功对接", "featured": "最受关注"},
    "en": {"search": "Search", "institutions": "institutions", "matches": "matches made", "featured": "Most requested"},
}


@pytest.fixture
async def landing(settings, engine, db, world):
    async for ids in landing_samples(settings, engine, db, world):
        yield ids


@pytest.mark.parametrize("size", list(VIEWPORTS))
@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_suggestions_appear_as_one_types_and_the_figures_show(
    browser: Browser, live_server: LiveServer, landing, locale: str, size: str
) -> None:
    page = await page_in(browser, live_server, locale, size)
    words = WORDS[locale]
    try:
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        await page.goto("/")
        figures = page.get_by_role("region", name=re.compile("平台数据|The platform in figures"))
        await expect(figures.locator('[data-figure="institutions"]')).to_have_text("2")
        await expect(figures.locator('[data-figure="matches"]')).to_have_text("1")
        await expect(figures).to_contain_text(words["institutions"])
        await expect(figures).to_contain_text(words["matches"])
        await expect(page.get_by_role("heading", name=words["featured"])).to_be_visible()
        await screenshot(page, f"landing-{locale}-{size}")

        box = page.get_by_role("searchbox")
        await box.press_sequentially("肝癌", delay=40)
        suggestions = page.locator("#suggestions a.suggestion:not(.suggestion-all)")
        await expect(suggestions).to_have_count(2)
        await expect(suggestions.first.locator("mark")).to_be_visible()
        await expect(page.locator(f'#suggestions a[href="/listings/{landing["liver"]}"]')).to_be_visible()
        await screenshot(page, f"landing-suggest-{locale}-{size}")

        await box.press("ArrowDown")
        await expect(suggestions.first).to_be_focused()
        await page.keyboard.press("Escape")
        await expect(suggestions).to_have_count(0)
        await expect(box).to_be_focused()

        await box.press_sequentially("样本库", delay=40)  # 肝癌样本库: the biobank alone
        await expect(suggestions).to_have_count(1)
        await suggestions.first.click()
        await expect(page).to_have_url(re.compile(f"/listings/{landing['bank']}$"))
        assert not [e for e in errors if "Content Security Policy" in e], errors
    finally:
        await page.context.close()
