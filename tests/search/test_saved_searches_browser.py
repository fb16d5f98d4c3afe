"""A company member in headless Chromium saves the search they are looking at and finds it listed."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from marketplace.accounts.models import Role
from tests.support.browser import sign_in
from tests.support.world import World

pytestmark = pytest.mark.browser


async def test_a_company_member_saves_a_search_from_the_search_page(page: Page, world: World) -> None:
    await sign_in(page, world.emails[Role.company_member], "/search")

    # The query as it stands after typing and sorting, without a reload, is what gets saved.
    await page.locator("#search-q").press_sequentially("肝癌", delay=30)
    await page.get_by_label("排序").select_option("newest")
    await expect(page).to_have_url(re.compile(r"/search\?q=%E8%82%9D%E7%99%8C&sort=newest$"))
    await page.get_by_role("button", name="保存此搜索").click()
    await page.get_by_label("搜索名称").fill("肝癌 · 最新")
    await page.locator("#save-search").get_by_role("button", name="保存", exact=True).click()

    await expect(page).to_have_url(re.compile(r"/saved-searches#saved-"))
    card = page.locator("article.saved-search")
    await expect(card).to_have_count(1)
    await expect(card.locator("h2")).to_have_text("肝癌 · 最新")
    await expect(card.locator(".query-chips")).to_contain_text("关键词 肝癌")
    await expect(card.locator(".query-chips")).to_contain_text("排序 最新发布")
    await expect(card.get_by_role("button", name="执行搜索")).to_have_attribute(
        "href", "/search?q=%E8%82%9D%E7%99%8C&sort=newest"
    )
