"""In headless Chromium: the TTO manager records income by hand, sees it split in the journal,
reverses it with a reason, and pays an inventor; the strict CSP holds on every ledger page."""

from __future__ import annotations

import os

import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import Role
from tests.ledger.factories import income_body, record, seed_policy, seed_result
from tests.support.browser import sign_in
from tests.support.world import World

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("LEDGER_SCREENSHOTS")  # a folder: keep a picture of each page to look at


async def shot(page: Page, name: str) -> None:
    if SHOTS:
        await page.keyboard.press("Home")
        await page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


async def test_the_tto_manager_records_reverses_and_pays_in_the_browser(page: Page, world: World, db: AsyncSession) -> None:
    manager = await world.principal(db, world.emails[Role.tto_manager])
    await seed_policy(db, manager)
    result = await seed_result(db, world.orgs["institution/own"].id)
    await record(db, manager, income_body(result.id, 5_000_000, source_ref="HT-2026-007"))
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)

    await sign_in(page, world.emails[Role.tto_manager], "/ledger/income")
    await expect(page.get_by_role("navigation", name="主导航").get_by_role("link", name="收益分配")).to_be_visible()
    main = page.locator("main")
    await main.get_by_label("合同编号").fill("HT-2026-088")
    await main.get_by_label("成果").select_option(str(result.id))
    await main.locator("#amount").fill("10,000.01")
    await main.locator('[name="cost_amount_0"]').fill("100")
    await main.locator('[name="cost_document_0"]').fill("发票 001")
    await main.get_by_role("button", name="登记并分配").click()
    await expect(page.get_by_role("status")).to_contain_text("收入已登记并分配")
    await expect(main.locator("tbody")).to_contain_text("¥9,900.01")
    await shot(page, "income")

    await page.locator(".ledger-tabs").get_by_role("link", name="分录账").click()
    newest = main.locator("article.entry").first
    await expect(newest).to_contain_text("¥4,158.00")
    await expect(newest).to_contain_text("¥1,485.01")
    await shot(page, "entries")
    await newest.get_by_text("冲销此分录").click()
    await newest.get_by_role("button", name="冲销").click()
    await expect(main.locator("#reason-error, .field-error").first).to_be_visible()
    await main.get_by_label("原因").fill("合同金额录错")
    await main.get_by_role("button", name="冲销").click()
    await expect(main.locator(".entry-link")).to_contain_text("合同金额录错")
    await shot(page, "reversal")

    await page.locator(".ledger-tabs").get_by_role("link", name="付款").click()
    await main.get_by_label("收款方").select_option("name:张晓华|CNY")
    await main.get_by_label("金额（元）").fill("30,000.01")
    await main.get_by_label("银行流水号").fill("转账-001")
    await main.get_by_role("button", name="登记付款").click()
    await expect(page.locator("#amount-error")).to_contain_text("¥21,000.00")
    await shot(page, "payout-refused")
    await main.get_by_label("金额（元）").fill("21,000")
    await main.get_by_role("button", name="登记付款").click()
    await expect(page.get_by_role("status")).to_have_text("付款已登记。")
    await shot(page, "payouts")

    await page.locator(".ledger-tabs").get_by_role("link", name="分配政策").click()
    await expect(main.locator(".policy-version")).to_contain_text("符合全部下限")
    await main.locator('[name="licence_inventors"]').fill("60")
    await main.locator('[name="licence_tto"]').fill("10")
    await main.locator('[name="licence_iit_fund"]').fill("10")
    await main.locator('[name="licence_institution"]').fill("20")
    await main.get_by_role("button", name="保存新版本").click()
    await expect(page.locator("#licence_inventors-error")).to_contain_text("shanghai-licence-inventors")
    await shot(page, "policies")
    assert not [e for e in console_errors if "Content Security Policy" in e], console_errors
