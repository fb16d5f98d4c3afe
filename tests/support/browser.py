"""Steps in headless Chromium that several browser tests take: signing in, sending a message,
opening a page in a language at a size, keeping a screenshot to look at."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

from playwright.async_api import Browser, Page, expect

from tests.support.world import PASSWORD

# A folder: the browser tests keep there a picture of each page they draw, to look at; unset, none.
SCREENSHOTS = os.environ.get("SCREENSHOTS")
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


async def screenshot(page: Page, name: str, *, full_page: bool = True) -> None:
    if SCREENSHOTS:
        folder = Path(SCREENSHOTS)
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        await page.screenshot(path=folder / f"{name}.png", full_page=full_page)


async def page_in(browser: Browser, base_url: str, locale: str, size: str) -> Page:
    """A new visitor's page in `locale` (zh_CN or en) at one of VIEWPORTS."""
    context = await browser.new_context(
        base_url=base_url, locale="zh-CN" if locale == "zh_CN" else "en-GB", viewport=VIEWPORTS[size]
    )
    await context.add_cookies([{"name": "lang", "value": locale, "url": base_url}])
    context.set_default_timeout(5_000)
    return await context.new_page()


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
