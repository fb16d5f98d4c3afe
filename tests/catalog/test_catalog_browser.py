"""A TTO in headless Chromium creates a result through the form, publishes it and confirms it from
the review page; then a visitor who is not signed in reads the summary but not the confidential
details."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import Role
from marketplace.catalog.models import Listing
from tests.support.world import PASSWORD, World

pytestmark = pytest.mark.browser

SECRET = "未公开数据：关键引物序列 MKT-SECRET-7731"


async def test_a_tto_creates_publishes_and_confirms_a_result_that_the_public_sees_without_secrets(
    page: Page, world: World, db: AsyncSession
) -> None:
    await page.goto("/login")
    await page.get_by_label("电子邮箱").fill(world.emails[Role.tto_staff])
    await page.get_by_label("密码").fill(PASSWORD)
    await page.locator("main").get_by_role("button", name="登录").click()
    await expect(page).to_have_url(re.compile(r"/$"))

    nav = page.get_by_role("navigation", name="主导航")
    await nav.get_by_role("link", name="成果与资源").click()
    await page.get_by_role("button", name="新建条目").click()  # a link styled as a button
    await page.get_by_role("link", name="专利", exact=True).click()
    await expect(page.locator("h1")).to_have_text("新建条目")

    main = page.locator("main")
    await main.get_by_label("标题（中文）").fill("基于外泌体的早期肝癌检测方法")
    await main.get_by_label("标题（英文）").fill("Exosome-based early liver cancer detection")
    await main.get_by_label("简介（中文）").fill("利用血液外泌体miRNA组合检测早期肝癌，灵敏度高。")
    await main.get_by_role("checkbox", name="肿瘤", exact=True).check()
    await main.get_by_label("研发阶段").select_option("preclinical")
    await main.get_by_label("技术成熟度（TRL）").select_option("4")
    await main.get_by_label("权属模式").select_option("institution")
    await main.get_by_label("优势").fill("较AFP检测灵敏度提高30%。")
    await main.get_by_role("checkbox", name="独占许可").check()
    await main.locator('[name="licence_terms.exclusive"]').fill("入门费50万元，销售提成3%")
    await main.locator('[name="inventors[0].name"]').fill("张晓华")
    await main.locator('[name="inventors[0].share"]').fill("60")
    await main.locator('[name="inventors[1].name"]').fill("李明")
    await main.locator('[name="inventors[1].share"]').fill("30")  # 90% in all: refused first
    await main.get_by_label("保密信息").fill(SECRET)
    await main.get_by_role("button", name="保存为草稿").click()

    await expect(page.locator("#inventors-error")).to_contain_text("100%")
    await expect(page.get_by_role("alert")).to_contain_text("请修改标出的字段")
    await expect(main.locator('[name="inventors[0].name"]')).to_have_value("张晓华")  # kept, to correct
    await main.locator('[name="inventors[1].share"]').fill("40")
    await main.get_by_role("button", name="保存为草稿").click()

    await expect(page.get_by_role("status")).to_have_text("条目已保存为草稿。")
    await expect(page.locator("h1")).to_have_text("基于外泌体的早期肝癌检测方法")
    await expect(page.locator(".confidential")).to_contain_text("MKT-SECRET-7731")
    listing_url = page.url
    await page.get_by_role("button", name="发布", exact=True).click()
    await expect(page.get_by_role("status")).to_have_text("已发布。")
    await expect(page.locator(".manage-status")).to_contain_text("已发布")

    # Half a year later the listing is due: the review page offers the one-click confirmation.
    listing_id = listing_url.rsplit("/", 1)[1]
    await db.execute(update(Listing).where(Listing.id == listing_id).values(confirmed_at=datetime.now(UTC) - timedelta(days=175)))
    await db.commit()
    await nav.get_by_role("link", name="审核与更新").click()
    due = page.locator("section", has=page.get_by_role("heading", name="待确认有效")).locator("tbody tr")
    await expect(due).to_have_count(1)
    await expect(due).to_contain_text("基于外泌体的早期肝癌检测方法")
    await expect(due).to_contain_text("5 天后过期")
    await due.get_by_role("button", name="确认信息有效").click()
    await expect(page.get_by_role("status")).to_have_text("已确认信息有效。")
    await expect(page).to_have_url(re.compile(r"/review$"))
    await expect(due).to_contain_text("所有已发布条目近期都已确认有效")
    confirmed_at = await db.scalar(select(Listing.confirmed_at).where(Listing.id == listing_id))
    await db.rollback()
    assert confirmed_at > datetime.now(UTC) - timedelta(minutes=5)

    # A visitor who is not signed in.
    await page.locator("header details.user-menu summary").click()  # sign-out sits in the person's menu
    await page.locator("header").get_by_role("button", name="退出").click()
    await page.goto("/")
    await page.get_by_role("navigation", name="主导航").get_by_role("link", name="成果与资源").click()
    card = page.locator(".listing-card", has_text="基于外泌体的早期肝癌检测方法")
    await expect(card).to_contain_text("本院")
    await card.get_by_role("link", name="基于外泌体的早期肝癌检测方法").click()
    await expect(page).to_have_url(listing_url)
    await expect(page.locator("h1")).to_have_text("基于外泌体的早期肝癌检测方法")
    await expect(page.locator("main")).to_contain_text("利用血液外泌体miRNA组合检测早期肝癌")
    await expect(page.locator("main")).to_contain_text("独占许可")
    await expect(page.locator("main")).not_to_contain_text("MKT-SECRET-7731")
    await expect(page.locator(".confidential")).to_have_count(0)
    await expect(page.get_by_role("button", name="发布", exact=True)).to_have_count(0)
