"""The search page in headless Chromium: results and facet counts follow typing and ticking
without a reload, and the URL holds the query, so a reload shows the same search."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

pytestmark = pytest.mark.browser


async def test_results_follow_typing_and_ticking_and_the_url_holds_the_query(page: Page, indexed) -> None:
    await page.goto("/search")
    hits = page.locator("article.search-hit")
    await expect(hits).to_have_count(4)
    await page.evaluate("window.__sameDocument = true")

    await page.locator("#search-q").press_sequentially("肝癌", delay=30)
    await expect(hits).to_have_count(2)
    await expect(page).to_have_url(re.compile(r"q=%E8%82%9D%E7%99%8C"))
    await expect(page.locator("article.search-hit mark").first).to_be_visible()

    resource = page.locator('input[name="kind"][value="resource"]')
    await expect(resource.locator("xpath=..").locator(".facet-count")).to_have_text("1")
    await resource.check()
    await expect(hits).to_have_count(1)
    # The server's canonical URL: the whole query, nothing empty or default.
    await expect(page).to_have_url(re.compile(r"/search\?q=%E8%82%9D%E7%99%8C&kind=resource$"))
    await expect(hits.first.locator("a").first).to_have_attribute("href", f"/listings/{indexed['bank']}")
    assert await page.evaluate("window.__sameDocument === true"), "the page must not reload"

    await page.reload()
    await expect(hits).to_have_count(1)
    await expect(page.locator("#search-q")).to_have_value("肝癌")
    await expect(page.locator('input[name="kind"][value="resource"]')).to_be_checked()
