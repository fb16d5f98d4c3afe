"""An institution's TTO manager in headless Chromium registers an integration, copies the secret
shown once, rotates it and revokes the client; the page passes axe in both languages."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect

from marketplace.accounts.models import Role
from tests.support.browser import page_in, screenshot, sign_in
from tests.support.world import World

pytestmark = pytest.mark.browser


async def test_a_tto_manager_registers_rotates_and_revokes_an_integration(page: Page, world: World) -> None:
    await sign_in(page, world.emails[Role.tto_manager], "/")
    await page.locator("nav").get_by_role("link", name="系统集成").first.click()
    await expect(page).to_have_url(re.compile(r"/integrations$"))
    await expect(page.get_by_text("尚无集成。")).to_be_visible()

    # No scope chosen: a field error beside the checkboxes, the name kept.
    await page.get_by_label("集成名称").fill("科研管理系统")
    await page.get_by_role("button", name="注册集成").click()
    await expect(page.locator("#scopes-error")).to_have_text("请至少选择一个权限范围。")
    await expect(page.get_by_label("集成名称")).to_have_value("科研管理系统")
    await screenshot(page, "integrations-error")

    await page.get_by_role("checkbox", name=re.compile("listings:write")).check()
    await page.get_by_role("checkbox", name=re.compile("listings:read")).check()
    await page.get_by_role("button", name="注册集成").click()
    notice = page.get_by_role("status").filter(has_text="请立即复制密钥")
    await expect(notice).to_be_visible()
    secret = await page.locator("#new-client-secret").inner_text()
    client_id = await page.locator("#new-client-id").inner_text()
    assert secret.startswith("mks_") and client_id.startswith("mkc_")
    await screenshot(page, "integrations-secret-once")

    # Shown once: a reload no longer has it.
    await page.reload()
    await expect(page.locator("#new-client-secret")).to_have_count(0)
    row = page.locator("tr", has_text="科研管理系统")
    await expect(row).to_contain_text("listings:read")
    await expect(row).to_contain_text("有效")

    await row.get_by_role("button", name="轮换“科研管理系统”的密钥").click()
    rotated = await page.locator("#new-client-secret").inner_text()
    assert rotated != secret
    await page.reload()
    await page.locator("tr", has_text="科研管理系统").get_by_role("button", name="吊销“科研管理系统”").click()
    await expect(page.get_by_text("集成已吊销，其令牌已失效。")).to_be_visible()
    await expect(page.locator("tr", has_text="科研管理系统")).to_contain_text("已吊销")
    await screenshot(page, "integrations-revoked")


@pytest.mark.parametrize("size", ["desktop", "phone"])
async def test_the_page_in_english_and_on_a_phone(browser: Browser, live_server, world: World, size: str) -> None:
    page = await page_in(browser, live_server, "zh_CN", size)
    try:
        await sign_in(page, world.emails[Role.company_admin], "/integrations")
        await page.context.add_cookies([{"name": "lang", "value": "en", "url": str(live_server)}])
        await page.reload()
        await page.get_by_label("Integration name").fill("CRM")
        await page.get_by_role("checkbox", name=re.compile("requests:read")).check()
        await page.get_by_role("button", name="Register integration").click()
        await expect(page.get_by_text("Copy the secret now. It will not be shown again.")).to_be_visible()
        await screenshot(page, f"integrations-en-{size}")
    finally:
        await page.context.close()
