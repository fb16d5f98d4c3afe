"""In headless Chromium: the TTO drafts a pay-later licence from an agreed match on the form, the
TTO manager approves and signs it, the company's administrator signs on its page and sees it in
"我的许可"; the strict CSP holds on every agreement page."""

from __future__ import annotations

import os
import re

import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import Role
from tests.licensing.factories import agreed_match, published_result
from tests.support.browser import sign_in
from tests.support.world import World

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("LICENSING_SCREENSHOTS")  # a folder: keep a picture of each page to look at


async def shot(page: Page, name: str) -> None:
    if SHOTS:
        await page.keyboard.press("Home")
        await page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


async def test_a_pay_later_licence_is_drafted_approved_and_signed_in_the_browser(
    page: Page, world: World, db: AsyncSession
) -> None:
    result = await published_result(db, world)
    match = await agreed_match(db, world, result.id)
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    await page.set_viewport_size({"width": 1366, "height": 900})

    await sign_in(page, world.emails[Role.tto_staff], f"/match-requests/{match.id}")
    await page.locator("main").get_by_role("button", name="起草许可协议").click()
    main = page.locator("main")
    await expect(main).to_contain_text("本企业")
    await main.get_by_label("使用领域").fill("体外诊断试剂")
    await main.get_by_label("转化后许可费（元）").fill("abc")
    await main.get_by_label("使用期（月）").fill("12")
    await main.get_by_role("button", name="保存草稿").click()
    await expect(main.locator("#licence_fee-error")).to_contain_text("金额")
    await shot(page, "form-errors")
    await main.get_by_label("转化后许可费（元）").fill("300,000.00")
    await main.get_by_label("净销售额提成（%）").fill("3")
    for mode in ("一次性支付", "分期支付", "收入提成"):
        await main.get_by_label(mode).check()
    await main.get_by_role("button", name="保存草稿").click()
    await expect(page.get_by_role("status")).to_contain_text("草稿已保存")
    await expect(main).to_contain_text("¥300,000.00")
    agreement_url = page.url

    await sign_in(page, world.emails[Role.tto_manager], "/agreements")
    await expect(page.get_by_role("navigation", name="主导航").get_by_role("link", name="许可")).to_be_visible()
    await shot(page, "list-tto")
    await page.locator("main").get_by_role("link", name=result.title_zh).click()
    await page.locator("main").get_by_role("button", name="批准协议").click()
    await expect(page.get_by_role("status")).to_contain_text("已批准")
    sha = await page.locator("#document code").inner_text()
    assert re.fullmatch("[0-9a-f]{64}", sha)
    await page.locator("main").get_by_role("button", name="签署协议").click()
    await expect(page.get_by_role("status")).to_contain_text("签署已记录")
    await shot(page, "detail-approved")

    path = agreement_url.split("/", 3)[3]
    await sign_in(page, world.emails[Role.company_admin], f"/{path}")
    await page.locator("main").get_by_role("button", name="签署协议").click()
    await expect(page.locator("main .manage-status")).to_contain_text("使用期中")
    await expect(page.locator("main")).to_contain_text("使用期届满")
    await shot(page, "detail-in-use")
    await page.get_by_role("navigation", name="主导航").get_by_role("link", name="许可").click()
    await expect(page.locator("main h1")).to_have_text("我的许可")
    await expect(page.locator("main tbody")).to_contain_text("使用期届满")
    await shot(page, "list-company")
    # The form refused with a 422 on purpose (and the browser then asked for a favicon): only
    # script errors and CSP refusals count.
    assert [e for e in console_errors if not e.startswith("Failed to load resource")] == []
