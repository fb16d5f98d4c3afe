"""The whole match in headless Chromium: a company member finds a listing on /search and requests
a match accepting the NDA; the TTO asks for information, the company answers in the conversation,
the TTO accepts; the company now reads the confidential details; both sides exchange a message with
a file (uploaded and downloaded); the request moves to negotiating, then to agreed once both sides
confirm."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from marketplace.accounts.models import Role
from tests.support.browser import send_message, sign_in
from tests.support.files import PDF
from tests.support.world import World

pytestmark = pytest.mark.browser

SECRET = "MKT-SECRET-7731"  # in the liver listing's confidential details (tests/catalog/factories.py)


async def take_step(page: Page, button: str, note: str = "") -> None:
    if note:
        await page.get_by_label("理由或说明").fill(note)
    await page.get_by_role("button", name=button, exact=True).click()
    await expect(page.get_by_role("status").first).to_be_visible()


async def test_a_match_from_search_to_agreement(page: Page, world: World, indexed) -> None:
    member, tto = world.emails[Role.company_member], world.emails[Role.tto_manager]

    # The company member finds the result on /search and requests a match, accepting the NDA.
    await sign_in(page, member, "/search")
    await page.locator("#search-q").press_sequentially("外泌体", delay=30)
    hit = page.locator("article.search-hit").filter(has_text="基于外泌体的早期肝癌检测方法")
    await expect(hit).to_have_count(1)
    await hit.locator("a").first.click()
    await expect(page).to_have_url(re.compile(rf"/listings/{indexed['liver']}$"))
    await expect(page.get_by_text(SECRET)).to_have_count(0)
    await page.get_by_role("button", name="申请对接").click()
    await page.get_by_label("合作方式").select_option("licence")
    await page.get_by_label("对接目的").fill("开发早期肝癌血液检测试剂盒，申报三类医疗器械注册。")
    await page.get_by_label("时间安排").fill("2027年一季度完成评估")
    await page.get_by_label("我已阅读本协议，并代表本企业接受。").check()
    await page.get_by_role("button", name="提交申请").click()
    await expect(page).to_have_url(re.compile(r"/match-requests/[0-9a-f-]{36}$"))
    request_url = page.url.removeprefix(page.url.split("/match-requests/")[0])

    # The TTO asks for information; the company answers; the TTO accepts.
    await sign_in(page, tto, "/match-requests/inbox")
    await page.locator("table.match-table a").filter(has_text="基于外泌体的早期肝癌检测方法").first.click()
    await take_step(page, "要求补充信息", "请说明贵公司的注册经验与生产资质。")
    await sign_in(page, member, "/match-requests")
    await page.locator("table.match-table a").filter(has_text="基于外泌体的早期肝癌检测方法").first.click()
    await expect(page.locator("#thread .thread-step-request_info")).to_contain_text("请说明贵公司的注册经验与生产资质。")
    # The company answers in the conversation: its message takes the step.
    await page.locator("#thread").get_by_label("留言").fill("已取得三类医疗器械生产许可证，有两项 IVD 注册经验。")
    await page.locator("#thread").get_by_role("button", name="提交补充信息").click()
    await expect(page.locator(".manage-status")).to_contain_text("待答复")
    await sign_in(page, tto, request_url)
    await take_step(page, "接受申请")

    # The company now reads the confidential details on the listing page.
    await sign_in(page, member, f"/listings/{indexed['liver']}")
    await expect(page.locator("section.confidential")).to_contain_text(SECRET)

    # Both sides exchange a message with a file; each downloads the other's.
    await page.goto(request_url)
    await send_message(page, "我方评估计划见附件，请审阅。", "评估计划.pdf", PDF, "application/pdf")
    await sign_in(page, tto, "/match-requests/inbox")
    row = page.locator("table.match-table tr").filter(has_text="基于外泌体的早期肝癌检测方法")
    await expect(row.locator(".badge-new")).to_have_text("新消息：1")
    await row.locator("a").first.click()
    thread = page.locator("#thread")
    await expect(thread.locator(".thread-message.is-unread")).to_have_count(1)
    async with page.expect_download() as download_info:
        await thread.get_by_role("link", name=re.compile("评估计划.pdf")).click()
    download = await download_info.value
    assert download.suggested_filename == "评估计划.pdf"
    assert (await download.path()).read_bytes() == PDF
    await send_message(page, "已阅，许可条款草案见附件。", "条款.txt", "独占许可，入门费50万元。".encode(), "text/plain")
    await take_step(page, "进入洽谈")
    await expect(page.locator(".manage-status")).to_contain_text("洽谈中")

    # Agreed once both sides confirm: the TTO, then the company's administrator.
    await take_step(page, "确认达成合作")
    await sign_in(page, world.emails[Role.company_admin], request_url)
    async with page.expect_download() as download_info:
        await page.locator("#thread").get_by_role("link", name=re.compile("条款.txt")).click()
    assert (await (await download_info.value).path()).read_text() == "独占许可，入门费50万元。"
    await take_step(page, "确认达成合作")
    await expect(page.locator(".manage-status")).to_contain_text("已达成合作")
    # The conversation stays open after the agreement, for the signed papers.
    await expect(page.locator("#thread").get_by_role("button", name="发送消息")).to_be_visible()
