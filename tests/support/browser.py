"""Steps in headless Chromium that several browser tests take: signing in, sending a message."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.support.world import PASSWORD


async def sign_in(page: Page, email: str, then: str) -> None:
    await page.context.clear_cookies()
    await page.goto(f"/login?next={then}")
    await page.get_by_label("电子邮箱").fill(email)
    await page.get_by_label("密码").fill(PASSWORD)
    await page.locator("main").get_by_role("button", name="登录").click()
    await expect(page).to_have_url(re.compile(re.escape(then) + "$"))
    # A click only waits for the navigation to start: wait until the page's deferred scripts
    # (htmx, app.js) have run, or the next keystrokes land before anything listens to them.
    await page.wait_for_load_state("load")


async def send_message(page: Page, text: str, file_name: str, content: bytes, mime: str) -> None:
    thread = page.locator("#thread")
    await thread.get_by_label("留言").fill(text)
    await thread.get_by_label("附件").set_input_files({"name": file_name, "mimeType": mime, "buffer": content})
    await thread.get_by_role("button", name="发送消息").click()
    await expect(page.locator("#thread .thread-message").filter(has_text=text)).to_be_visible()
