"""In headless Chromium, in Chinese and English, at a desktop (1366×900) and a phone (390×844)
width: a company member finds its pending request on the listing's page instead of "request a
match", shortlists the listing with a note, edits the note on /shortlist and removes it; the owning
TTO sees who has asked. Set SCREENSHOTS to a folder to keep a picture of each page."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import Role
from tests.catalog.factories import published
from tests.matching.requests.factories import create
from tests.support.browser import screenshot
from tests.support.world import PASSWORD, World

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
# The words the test looks for, in each language.
WORDS = {
    "zh": {
        "accept": "zh-CN",
        "yours": "贵公司的对接申请",
        "state": "待答复",
        "open": "查看申请与对话",
        "request": "申请对接",
        "note_label": "备注（仅您本人可见）",
        "add": "加入我的收藏清单",
        "added": "已加入您的收藏清单。",
        "on_list": "已在收藏清单",
        "save": "保存备注",
        "saved": "备注已保存。",
        "remove": "从收藏清单移除",
        "empty": "收藏清单还是空的",
        "asked": "已申请对接的企业",
    },
    "en": {
        "accept": "en-US",
        "yours": "Your company's request",
        "state": "Awaiting answer",
        "open": "Open the request and its conversation",
        "request": "Request a match",
        "note_label": "Note (only you see it)",
        "add": "Add to my shortlist",
        "added": "Added to your shortlist.",
        "on_list": "On your shortlist",
        "save": "Save the note",
        "saved": "Note saved.",
        "remove": "Remove from my shortlist",
        "empty": "Your shortlist is empty",
        "asked": "Who has asked",
    },
}


async def sign_in(page: Page, email: str, then: str) -> None:
    await page.context.clear_cookies()
    await page.goto(f"/login?next={then}")
    form = page.locator('main form[action="/login"]')  # not the single sign-on form below it
    await form.locator('input[name="email"]').fill(email)
    await form.locator('input[name="password"]').fill(PASSWORD)
    await form.locator("button[type=submit]").click()
    await expect(page).to_have_url(re.compile(re.escape(then) + "$"))
    await page.wait_for_load_state("load")


async def shot(page: Page, name: str) -> None:
    await screenshot(page, name)


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("lang", list(WORDS))
async def test_a_company_sees_its_pending_request_and_keeps_a_shortlist(
    browser: Browser, live_server, world: World, db: AsyncSession, lang: str, width: str
) -> None:
    words = WORDS[lang]
    listing_id = await published(db, world)
    request = await create(db, world, listing_id)
    context = await browser.new_context(base_url=live_server, locale=words["accept"], viewport=WIDTHS[width])
    context.set_default_timeout(5_000)
    page = await context.new_page()
    tag = f"{lang}-{width}"
    try:
        await sign_in(page, world.emails[Role.company_member], f"/listings/{listing_id}")
        card = page.locator("article.own-request")
        await expect(card.get_by_role("heading")).to_have_text(words["yours"])
        await expect(card).to_contain_text(words["state"])
        await expect(card.get_by_role("button", name=words["open"])).to_have_attribute("href", f"/match-requests/{request.id}")
        await expect(page.get_by_role("button", name=words["request"], exact=True)).to_have_count(0)
        await shot(page, f"listing-company-{tag}")

        await page.get_by_label(words["note_label"]).fill("周三前问清独占许可费用")
        await page.get_by_role("button", name=words["add"]).click()
        await expect(page.get_by_role("status").first).to_have_text(words["added"])
        await expect(page.locator(".shortlisted")).to_contain_text(words["on_list"])
        await expect(page.locator(".shortlisted")).to_contain_text("周三前问清独占许可费用")
        await shot(page, f"listing-shortlisted-{tag}")

        await page.goto("/shortlist")
        entry = page.locator(".shortlist-entry")
        await expect(entry).to_have_count(1)
        note = entry.get_by_role("textbox")
        await expect(note).to_have_value("周三前问清独占许可费用")
        await note.fill("已约周三电话")
        await entry.get_by_role("button", name=words["save"]).click()
        await expect(page.get_by_role("status").first).to_have_text(words["saved"])
        await expect(page.locator(".shortlist-entry").get_by_role("textbox")).to_have_value("已约周三电话")
        await shot(page, f"shortlist-{tag}")
        await page.locator(".shortlist-entry").get_by_role("button", name=words["remove"]).click()
        await expect(page.locator(".empty-state")).to_contain_text(words["empty"])
        await shot(page, f"shortlist-empty-{tag}")

        # The owning TTO sees who has asked, linked to the request.
        await sign_in(page, world.emails[Role.tto_manager], f"/listings/{listing_id}")
        asked = page.locator("article.asked-card")
        await expect(asked.get_by_role("heading")).to_have_text(words["asked"])
        await expect(asked.get_by_role("link", name=world.orgs["company/own"].display_name(lang))).to_have_attribute(
            "href", f"/match-requests/{request.id}"
        )
        await shot(page, f"listing-owner-{tag}")
    finally:
        await context.close()
