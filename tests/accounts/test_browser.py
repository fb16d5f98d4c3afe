"""A person in headless Chromium: signs in through the form, reads the dashboard, switches the
language and the organization from the header, and gets field errors in their language."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import Invitation, Membership, Role
from tests.accounts.factories import seed_member
from tests.support.world import PASSWORD, World

pytestmark = pytest.mark.browser


async def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Through the login form, in Chinese, as a person would."""
    await page.goto("/login")
    await page.get_by_label("电子邮箱").fill(email)
    await page.get_by_label("密码").fill(password)
    await page.locator("main").get_by_role("button", name="登录").click()
    await expect(page).to_have_url(re.compile(r"/$"))
    await page.wait_for_load_state("load")  # app.js listens before the switcher is used


async def test_sign_in_dashboard_and_language_switch(page: Page, world: World) -> None:
    await page.goto("/")
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    sign_in_link = page.locator("header").get_by_role("button", name="登录")  # a link styled as a button
    await expect(sign_in_link).to_be_visible()
    await expect(page.locator("h1")).to_contain_text("医院科技成果与临床资源")

    await sign_in_link.click()
    await expect(page).to_have_url(re.compile(r"/login"))
    await page.get_by_label("电子邮箱").fill(world.emails[Role.tto_manager])
    await page.get_by_label("密码").fill("wrong-password")
    await page.locator("main").get_by_role("button", name="登录").click()
    await expect(page.get_by_role("alert")).to_have_text("电子邮箱或密码错误。")

    await page.get_by_label("密码").fill(PASSWORD)
    await page.locator("main").get_by_role("button", name="登录").click()
    await expect(page).to_have_url(re.compile(r"/$"))
    await expect(page.locator("h1")).to_have_text("本院")
    head = page.locator(".page-head")
    await expect(head).to_contain_text("转化办负责人")
    await expect(head).to_contain_text("医疗机构")
    nav = page.get_by_role("navigation", name="主导航")
    await expect(nav.get_by_role("link", name="工作台")).to_be_visible()
    await expect(nav.get_by_role("link", name="成员管理")).to_be_visible()

    await page.locator("header").get_by_role("button", name="English").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    nav = page.get_by_role("navigation", name="Main navigation")
    await expect(nav.get_by_role("link", name="Dashboard")).to_be_visible()
    await expect(nav.get_by_role("link", name="Members")).to_be_visible()
    await expect(page.locator("h1")).to_have_text("本院")  # no English name: the Chinese one stays
    await expect(head).to_contain_text("TTO manager")
    await expect(page.locator("main")).not_to_contain_text("转化办负责人")
    await page.locator("header details.user-menu summary").click()  # sign-out sits in the person's menu
    await expect(page.locator("header").get_by_role("button", name="Sign out")).to_be_visible()
    await page.keyboard.press("Escape")

    # The choice sticks: another page is English too.
    await nav.get_by_role("link", name="Members").click()
    await expect(page.locator("h1")).to_have_text("Members")

    await page.locator("header").get_by_role("button", name="中文").click()
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await expect(page).to_have_url(re.compile(r"/members$"))  # back on the same page
    await expect(page.locator("h1")).to_have_text("成员管理")
    await expect(page.get_by_role("navigation", name="主导航").get_by_role("link", name="工作台")).to_be_visible()


async def test_switch_organization_from_the_header(page: Page, world: World, db: AsyncSession) -> None:
    company = world.orgs["company/own"]
    email = world.emails[Role.tto_manager]
    await seed_member(db, company, email=email, name="tto_manager", role=Role.company_admin, password=PASSWORD)
    await db.commit()

    await sign_in(page, email)
    await expect(page.locator("h1")).to_have_text("本院")
    switcher = page.locator("header").get_by_label("机构")
    await expect(switcher.locator("option")).to_have_count(2)

    await switcher.select_option(str(company.id))  # submits on change
    await expect(page.locator("h1")).to_have_text("本企业")
    await expect(page.locator(".page-head")).to_contain_text("企业管理员")
    await expect(switcher).to_have_value(str(company.id))
    # Still there after a reload: the choice is in the session, not only in the page.
    await page.reload()
    await expect(page.locator("h1")).to_have_text("本企业")

    await switcher.select_option(str(world.orgs["institution/own"].id))
    await expect(page.locator("h1")).to_have_text("本院")
    await expect(page.locator(".page-head")).to_contain_text("转化办负责人")


async def test_invite_with_an_invalid_email_shows_a_chinese_field_error(page: Page, world: World, db: AsyncSession) -> None:
    org_id = world.orgs["institution/own"].id  # read now: the rollback below expires the object

    async def counts() -> tuple[int, int]:
        members = await db.scalar(select(func.count()).select_from(Membership).where(Membership.organization_id == org_id))
        invitations = await db.scalar(select(func.count()).select_from(Invitation).where(Invitation.organization_id == org_id))
        await db.rollback()  # end the read so the next count sees fresh data
        return members, invitations

    before = await counts()
    await sign_in(page, world.emails[Role.tto_manager])
    await page.get_by_role("navigation", name="主导航").get_by_role("link", name="成员管理").click()
    rows = page.locator("table").first.locator("tbody tr")
    await expect(rows).to_have_count(before[0])

    form = page.locator("form[action='/members'][method='post']")
    await form.get_by_label("电子邮箱").fill("not-an-email")
    await form.get_by_label("姓名").fill("新成员")
    await form.get_by_role("button", name="发送邀请").click()

    email_input = form.get_by_label("电子邮箱")
    await expect(email_input).to_have_attribute("aria-invalid", "true")
    await expect(email_input).to_have_value("not-an-email")  # kept, to correct
    await expect(form.locator("#email-error")).to_have_text("请输入有效的电子邮箱地址。")
    await expect(email_input).to_have_attribute("aria-describedby", "email-error")
    await expect(form.get_by_label("姓名")).to_have_value("新成员")
    await expect(page.get_by_text("邀请已发送。")).to_have_count(0)
    await expect(rows).to_have_count(before[0])
    assert await counts() == before
