"""Forgot password and request access in headless Chromium, in Chinese and English, on a desktop and
a phone: the e-mailed link leads to a new password and a sign-in with it; an application with a bad
credit code keeps what was typed and names the field; the platform admin approves it.
SCREENSHOTS=<folder> keeps a picture of each page."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from marketplace.db import make_sessionmaker
from marketplace.notifications.services import send_queued_emails
from tests.accounts.factories import credit_code
from tests.support.browser import VIEWPORTS, page_in, screenshot
from tests.support.live_server import LiveServer
from tests.support.world import PASSWORD

pytestmark = pytest.mark.browser

TEXT = {
    "zh_CN": {
        "forgot": "忘记密码？",
        "email": "电子邮箱",
        "send": "发送链接",
        "new": "新密码",
        "repeat": "再次输入密码",
        "set": "设置密码",
        "password": "密码",
        "sign_in": "登录",
        "request": "为本机构申请入驻",
        "company": "企业",
        "name_zh": "名称（中文）",
        "code": "统一社会信用代码",
        "city": "城市",
        "contact": "联系人",
        "phone": "电话",
        "apply": "提交申请",
        "done": "新密码已设置",
    },
    "en": {
        "forgot": "Forgot password?",
        "email": "E-mail",
        "send": "Send the link",
        "new": "New password",
        "repeat": "Repeat the password",
        "set": "Set the password",
        "password": "Password",
        "sign_in": "Sign in",
        "request": "Request access for your organization",
        "company": "a company",
        "name_zh": "Name (Chinese)",
        "code": "Unified social credit code",
        "city": "City",
        "contact": "Contact person",
        "phone": "Telephone",
        "apply": "Send the application",
        "done": "Your new password is set",
    },
}


@pytest.mark.parametrize("size", list(VIEWPORTS))
@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_reset_by_the_mailed_link_then_sign_in(
    browser: Browser, live_server: LiveServer, engine, settings, mailbox, world, locale: str, size: str
) -> None:
    t, email, new_password = TEXT[locale], world.emails["company_admin"], "my-new-password-42"
    page = await page_in(browser, live_server, locale, size)
    try:
        await page.goto("/login")
        await screenshot(page, f"login-{locale}-{size}")
        await page.get_by_role("link", name=t["forgot"]).click()
        await page.get_by_label(t["email"]).fill(email)
        await page.get_by_role("button", name=t["send"]).click()
        await expect(page.locator("#reset-sent")).to_contain_text(email)
        await screenshot(page, f"forgot-sent-{locale}-{size}")

        mailbox.messages.clear()
        assert await send_queued_emails(settings, make_sessionmaker(engine)) == 1
        link = re.search(r"/reset-password/\S+", mailbox.only().get_body(("plain",)).get_content()).group(0)
        await page.goto(link)
        await page.get_by_label(t["new"]).fill(new_password)
        await page.get_by_label(t["repeat"]).fill(new_password)
        await screenshot(page, f"reset-{locale}-{size}")
        await page.get_by_role("button", name=t["set"]).click()
        await expect(page).to_have_url(re.compile(r"/login$"))
        await expect(page.get_by_role("status")).to_contain_text(t["done"])

        await page.get_by_label(t["email"]).fill(email)
        await page.get_by_label(t["password"], exact=True).fill(PASSWORD)  # the old one no longer works
        await page.locator("main").get_by_role("button", name=t["sign_in"]).click()
        await expect(page.get_by_role("alert")).to_be_visible()
        await page.get_by_label(t["password"], exact=True).fill(new_password)
        await page.locator("main").get_by_role("button", name=t["sign_in"]).click()
        await expect(page).to_have_url(re.compile(r"/$"))
        await expect(page.locator(".user-chip")).to_be_visible()

        await page.goto(link)  # used up
        await expect(page.locator("h1")).not_to_have_text(re.compile(t["new"]))
    finally:
        await page.context.close()


@pytest.mark.parametrize("size", list(VIEWPORTS))
@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_a_company_applies_and_the_platform_admin_sees_it(
    browser: Browser, live_server: LiveServer, world, locale: str, size: str
) -> None:
    t = TEXT[locale]
    page = await page_in(browser, live_server, locale, size)
    try:
        await page.goto("/login")
        await page.get_by_role("link", name=t["request"]).click()
        await page.get_by_role("radio", name=t["company"]).check()
        await page.get_by_label(t["name_zh"]).fill("杭州新检测科技有限公司")
        await page.get_by_label(t["code"]).fill("91330100MA2AAAAAA0")  # wrong check character
        await page.get_by_label(t["city"]).fill("杭州")
        await page.get_by_label(t["contact"]).fill("陈经理")
        await page.get_by_label(t["email"]).fill(f"chen-{locale}-{size}@newtest.test")
        await page.get_by_label(t["phone"]).fill("0571-8888 0000")
        await page.get_by_role("button", name=t["apply"]).click()
        await expect(page.locator("#credit_code-error")).to_be_visible()
        await expect(page.get_by_label(t["name_zh"])).to_have_value("杭州新检测科技有限公司")
        await expect(page.get_by_label(t["code"])).to_have_attribute("aria-invalid", "true")
        await screenshot(page, f"request-access-error-{locale}-{size}")
        await page.get_by_label(t["code"]).fill(credit_code())
        await page.get_by_role("button", name=t["apply"]).click()
        await expect(page.locator("#access-sent")).to_contain_text("杭州新检测科技有限公司")

        await page.goto("/login")
        await page.get_by_label(t["email"]).fill(world.emails["platform_admin"])
        await page.get_by_label(t["password"], exact=True).fill(PASSWORD)
        await page.locator("main").get_by_role("button", name=t["sign_in"]).click()
        await expect(page).to_have_url(re.compile(r"/$"))
        await page.goto("/access-requests")
        await expect(page.locator("article.access-request")).to_contain_text("杭州新检测科技有限公司")
        await screenshot(page, f"access-requests-{locale}-{size}")
    finally:
        await page.context.close()
