"""Accessibility in headless Chromium: axe-core (from the npm registry, node_modules/axe-core) finds
no serious or critical violation on the main pages of each role, in Chinese and in English; and
the sign-in form and a search work from the keyboard alone."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from marketplace.accounts.models import Role
from marketplace.app import NODE_MODULES
from tests.events.agenda_factories import scene
from tests.matching.requests.factories import create
from tests.search.factories import index_samples
from tests.support.browser import sign_in
from tests.support.world import PASSWORD, World

pytestmark = pytest.mark.browser


async def has_focus(locator: Locator) -> None:
    """The element is the page's active one (Playwright's to_be_focused also wants the window to
    have the browser's focus, which one of several headless tabs may not)."""
    for _ in range(50):
        if await locator.evaluate("e => e === document.activeElement"):
            return
        await locator.page.wait_for_timeout(100)
    raise AssertionError(f"{locator} does not have the focus")


AXE = NODE_MODULES / "axe-core" / "axe.min.js"

# Serious and critical violations only, each with the first few elements it names.
RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ['violations'] });
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 4).map(n => n.target.join(' ')).join(' | ')}`);
}"""


@pytest.fixture
async def indexed(settings, engine, db, world):
    async for ids in index_samples(settings, engine, db, world):
        yield ids


@pytest.fixture
async def axe_page(browser: Browser, live_server) -> AsyncIterator[Page]:
    """A tab that may inject axe: the site's CSP forbids inline script, and Playwright adds the
    file's text as one, so this context alone bypasses the policy (test_csp_browser keeps it honest)."""
    context = await browser.new_context(
        base_url=live_server, locale="zh-CN", viewport={"width": 1280, "height": 800}, bypass_csp=True
    )
    context.set_default_timeout(10_000)
    tab = await context.new_page()
    try:
        yield tab
    finally:
        await context.close()


async def violations_on(page: Page, url: str) -> list[str]:
    response = await page.goto(url)
    assert response is not None and response.status == 200, url
    await expect(page.locator(".htmx-request")).to_have_count(0)
    await page.add_script_tag(path=AXE)
    return [f"{url}: {v}" for v in await page.evaluate(RUN_AXE)]


async def test_axe_finds_no_serious_violation_on_the_main_pages_of_each_role(
    axe_page: Page, world: World, db, indexed: dict[str, str], live_server
) -> None:
    page = axe_page
    request = await create(db, world, indexed["liver"])
    listing = f"/listings/{indexed['liver']}"
    event = f"/events/{(await scene(db, world)).event.id}"  # running, with a confirmed meeting
    pages: dict[Role | None, list[str]] = {
        None: ["/", "/login", "/search?q=肝癌", listing],
        Role.company_member: ["/", "/search?q=肝癌", listing, "/match-requests", f"/match-requests/{request.id}"],
        Role.company_admin: [
            "/",
            "/needs/mine",
            "/settings/notifications",
            "/events",
            event,
            f"{event}/meetings",
            f"{event}/agenda",
        ],
        Role.tto_manager: [
            "/",
            "/listings",
            "/match-requests/inbox",
            f"/match-requests/{request.id}",
            "/review",
            "/integrations",
        ],
        Role.tto_staff: ["/", "/notifications", "/tokens", "/profile"],
        Role.platform_admin: ["/", "/analytics", "/organizations", "/events/new", f"{event}/schedule"],
        Role.platform_analyst: ["/", "/analytics"],
    }
    found: list[str] = []
    for role, urls in pages.items():
        if role is None:
            await page.context.clear_cookies()
        else:
            await sign_in(page, world.emails[role], "/")
        for language in ("zh_CN", "en"):
            await page.context.add_cookies([{"name": "lang", "value": language, "url": live_server}])
            for url in urls:
                found += [f"{role or 'visitor'} {language} {v}" for v in await violations_on(page, url)]
    assert not found, "\n".join(found)


async def test_a_phone_page_and_an_open_menu_pass_axe_too(axe_page: Page, world: World) -> None:
    page = axe_page
    await page.set_viewport_size({"width": 390, "height": 844})
    await sign_in(page, world.emails[Role.tto_manager], "/")
    await page.locator(".nav-toggle").click()
    await page.locator("details.user-menu summary").click()
    await page.add_script_tag(path=AXE)
    assert await page.evaluate(RUN_AXE) == []


async def test_signing_in_and_searching_by_keyboard_alone(page: Page, world: World, indexed: dict[str, str]) -> None:
    # A visitor's page: the first Tab reaches the skip link, which leads past the header.
    await page.goto("/search")
    await page.keyboard.press("Tab")
    await has_focus(page.get_by_role("link", name="跳到正文"))
    await page.keyboard.press("Enter")
    await has_focus(page.locator("main"))
    await page.keyboard.press("Tab")
    await has_focus(page.locator("main").locator("a, button, input, select").first)

    # The sign-in form starts in its first field.
    await page.goto("/login")
    email = page.get_by_label("电子邮箱")
    await has_focus(email)
    await page.keyboard.type(world.emails[Role.company_member])
    await page.keyboard.press("Tab")
    await has_focus(page.get_by_label("密码"))
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/$"))
    await page.wait_for_load_state("load")

    # The person's menu opens from the keyboard too.
    summary = page.locator("details.user-menu summary")
    await summary.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("details.user-menu").get_by_role("link", name="API 令牌")).to_be_visible()
    await page.keyboard.press("Escape")
    await has_focus(summary)

    nav_search = page.get_by_role("navigation", name="主导航").get_by_role("link", name="检索")
    await nav_search.focus()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/search$"))
    await page.wait_for_load_state("load")
    query = page.locator("#search-q")
    await query.focus()
    await page.keyboard.type("外泌体")
    await page.keyboard.press("Enter")
    await expect(page.locator("article.search-hit")).to_have_count(1)
    await expect(page).to_have_url(re.compile(r"q=%E5%A4%96%E6%B3%8C%E4%BD%93"))
    link = page.locator("article.search-hit h2 a")
    await link.focus()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/listings/"))
