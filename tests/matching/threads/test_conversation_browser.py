"""One conversation per deal in headless Chromium, in Chinese and English, at desktop (1366×900)
and phone (390×844) widths: the TTO asks for information and the question is in the conversation
with its step; the company answers from the conversation; the TTO reads the answer there and the
request is back with it. And a refused form (a missing reason, an empty message, a bad file) keeps
the page, the form and what was typed, the error beside its field. SCREENSHOTS=<folder> keeps a
picture of each page."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from marketplace.accounts.models import Role
from tests.matching.threads.factories import new_request
from tests.support.browser import screenshot, sign_in
from tests.support.world import World

pytestmark = pytest.mark.browser

DESKTOP, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}
QUESTION = {
    "zh_CN": "请说明贵公司的注册经验与生产资质。",
    "en": "Please describe your registration record and manufacturing licences.",
}
ANSWER = {
    "zh_CN": "已取得三类医疗器械生产许可证，有两项 IVD 注册经验。",
    "en": "We hold a class III device manufacturing licence and two IVD registrations.",
}
WORDS = {
    "zh_CN": {
        "reason": "理由或说明",
        "ask": "要求补充信息",
        "asked": "要求补充信息",
        "message": "留言",
        "answer": "提交补充信息",
        "answered": "已提交补充信息",
        "awaiting": "待答复",
        "accept": "接受申请",
        "decline": "婉拒申请",
        "send": "发送消息",
    },
    "en": {
        "reason": "Reason or note",
        "ask": "Ask for information",
        "asked": "Asked for information",
        "message": "Message",
        "answer": "Send the information",
        "answered": "Information sent",
        "awaiting": "Awaiting answer",
        "accept": "Accept the request",
        "decline": "Decline the request",
        "send": "Send message",
    },
}
CASES = [("zh_CN", DESKTOP), ("en", DESKTOP), ("zh_CN", PHONE), ("en", PHONE)]
IDS = ["zh-desktop", "en-desktop", "zh-phone", "en-phone"]


async def open_as(page: Page, email: str, url: str, locale: str) -> None:
    """Signed in (the sign-in page in Chinese), then the page in the chosen language."""
    await sign_in(page, email, "/")  # not the page itself: a first look would mark it read
    if locale != "zh_CN":
        await page.context.add_cookies([{"name": "lang", "value": locale, "url": page.url}])
    await page.goto(url)
    await expect(page.locator("html")).to_have_attribute("lang", "en" if locale == "en" else "zh-CN")


async def shot(page: Page, name: str, locale: str, viewport: dict) -> None:
    await page.evaluate("window.scrollTo(0, 0)")  # the sticky header at the top of a full-page shot
    await screenshot(page, f"{name}-{locale}-{viewport['width']}")


@pytest.mark.parametrize(("locale", "viewport"), CASES, ids=IDS)
async def test_the_question_and_its_answer_are_one_conversation(page: Page, db, world: World, locale, viewport) -> None:
    words = WORDS[locale]
    await page.set_viewport_size(viewport)
    request = await new_request(db, world)
    url = f"/match-requests/{request.id}"
    thread = page.locator("#thread")

    # The TTO asks; the question is in the conversation, named by its step.
    await open_as(page, world.emails[Role.tto_staff], url, locale)
    await page.get_by_label(words["reason"]).fill(QUESTION[locale])
    await page.get_by_role("button", name=words["ask"], exact=True).click()
    await expect(page.get_by_role("status").first).to_be_visible()
    asked = thread.locator(".thread-step-request_info")
    await expect(asked).to_contain_text(QUESTION[locale])
    await expect(asked.locator(".thread-step-label")).to_have_text(words["asked"])

    # The company reads it there, new to it, and answers from the conversation (no reason box).
    await open_as(page, world.emails[Role.company_member], url, locale)
    await expect(thread.locator(".thread-step-request_info.is-unread")).to_contain_text(QUESTION[locale])
    await expect(page.locator(".listing-side textarea")).to_have_count(0)
    await shot(page, "company-asked", locale, viewport)
    await thread.get_by_label(words["message"]).fill(ANSWER[locale])
    await thread.get_by_role("button", name=words["answer"]).click()
    await expect(page.get_by_role("status").first).to_be_visible()
    await expect(thread.locator(".thread-step-provide_info")).to_contain_text(ANSWER[locale])
    # Answered: the form is an ordinary message form again.
    await expect(thread.get_by_role("button", name=words["send"])).to_be_visible()

    # The TTO sees the answer after its question, and the request back for its answer.
    await open_as(page, world.emails[Role.tto_staff], url, locale)
    steps = thread.locator(".thread-step .thread-step-label")
    await expect(steps).to_have_text([words["asked"], words["answered"]])
    await expect(thread.locator(".thread-step-provide_info.is-unread")).to_contain_text(ANSWER[locale])
    await expect(page.locator(".manage-status")).to_contain_text(words["awaiting"])
    await expect(page.get_by_role("button", name=words["accept"], exact=True)).to_be_visible()
    await shot(page, "tto-answered", locale, viewport)


@pytest.mark.parametrize(("locale", "viewport"), [CASES[0], CASES[3]], ids=[IDS[0], IDS[3]])
async def test_a_refused_form_keeps_the_page_and_what_was_typed(page: Page, db, world: World, locale, viewport) -> None:
    words = WORDS[locale]
    await page.set_viewport_size(viewport)
    request = await new_request(db, world)
    url = f"/match-requests/{request.id}"
    thread = page.locator("#thread")
    await open_as(page, world.emails[Role.tto_staff], url, locale)

    # Declining without a reason: the error beside the reason box; the conversation's form stays.
    await page.get_by_role("button", name=words["decline"], exact=True).click()
    await expect(page.locator("#step-reason-error")).to_be_visible()
    await expect(page.get_by_label(words["reason"])).to_have_attribute("aria-invalid", "true")
    await expect(thread.get_by_label(words["message"])).to_be_visible()

    # A message with a file that is not what its name says: the text typed (markup and all) is
    # kept, the error beside the files, the step form still on the page.
    typed = "<script>alert(1)</script> " + QUESTION[locale]
    await thread.get_by_label(words["message"]).fill(typed)
    await thread.locator("#thread-files").set_input_files(
        {"name": "plan.pdf", "mimeType": "application/pdf", "buffer": b"not a pdf"}
    )
    await thread.get_by_role("button", name=words["send"]).click()
    await expect(page.locator("#thread-files-error")).to_contain_text("plan.pdf")
    await expect(thread.get_by_label(words["message"])).to_have_value(typed)
    await expect(page.get_by_label(words["reason"])).to_be_visible()
    await expect(page.get_by_role("button", name=words["ask"], exact=True)).to_be_visible()
    await shot(page, "refused-file", locale, viewport)

    # An empty message: the error beside the message box, and the form is still there to try again.
    await thread.get_by_label(words["message"]).fill("   ")
    await thread.get_by_role("button", name=words["send"]).click()
    await expect(page.locator("#thread-text-error")).to_be_visible()
    await thread.get_by_label(words["message"]).fill(QUESTION[locale])
    await thread.get_by_role("button", name=words["send"]).click()
    await expect(thread.locator(".thread-message").filter(has_text=QUESTION[locale])).to_be_visible()
    await expect(page.locator("script", has_text="alert(1)")).to_have_count(0)
