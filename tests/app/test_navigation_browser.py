"""The header in headless Chromium: from 1024 px up no two of its elements overlap or hide one
another, for every role's navigation in both languages; the organization switcher only for people
in more than one organization; the person's own pages under their menu, which opens without
JavaScript; on a phone a menu button opens the whole navigation, and search shows its results
first with the filters in a panel whose button counts them."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Locator, Page, expect
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import Organization, Role
from tests.accounts.factories import seed_member
from tests.search.factories import index_samples
from tests.support.browser import screenshot, sign_in
from tests.support.world import PASSWORD, ROLE_KIND, World

pytestmark = pytest.mark.browser


async def has_focus(locator: Locator) -> None:
    """The element is the page's active one (Playwright's to_be_focused also wants the window to
    have the browser's focus, which one of several headless tabs may not)."""
    for _ in range(50):
        if await locator.evaluate("e => e === document.activeElement"):
            return
        await locator.page.wait_for_timeout(100)
    raise AssertionError(f"{locator} does not have the focus")


DESKTOP_WIDTHS = (1024, 1280, 1366)
PHONE = {"width": 390, "height": 844}
LONG_NAMES = {
    "platform": ("国家医学科技成果转化服务平台运营中心", "National Platform for Medical Technology Transfer Operations"),
    "institution": (
        "上海交通大学医学院附属瑞金医院临床研究中心",
        "Ruijin Hospital, Shanghai Jiao Tong University School of Medicine",
    ),
    "company": ("杭州远景精准医疗器械科技股份有限公司", "Hangzhou Vista Precision Medical Devices Co., Ltd."),
}

# Every element a person sees in the header, with a box and a short name for the failure message.
HEADER_BOXES = """header => {
  const wanted = '.brand, .mainnav a, .org-switcher select, .lang-switch button, .bell, .user-menu > summary, .signin-link, .nav-toggle';
  return [...header.querySelectorAll(wanted)].flatMap(element => {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || getComputedStyle(element).visibility === 'hidden') return [];
    // What is drawn at the box's centre must be the element itself: not something covering it,
    // and not cut away by a scrolling or clipping parent.
    const x = box.left + box.width / 2, y = box.top + box.height / 2;
    const hit = document.elementFromPoint(x, y);
    return [{
      name: `${element.tagName.toLowerCase()}.${element.className || ''} "${(element.textContent || '').trim().slice(0, 24)}"`,
      left: box.left, top: box.top, right: box.right, bottom: box.bottom,
      shown: !!hit && (element === hit || element.contains(hit)),
    }];
  });
}"""


def overlaps(a: dict, b: dict) -> bool:
    return (
        a["left"] < b["right"] - 0.5
        and b["left"] < a["right"] - 0.5
        and a["top"] < b["bottom"] - 0.5
        and b["top"] < a["bottom"] - 0.5
    )


async def header_problems(page: Page, width: int) -> list[str]:
    boxes = await page.locator("header").evaluate(HEADER_BOXES)
    problems = [f"{b['name']} is covered or cut off" for b in boxes if not b["shown"]]
    problems += [f"{b['name']} leaves the screen" for b in boxes if b["left"] < 0 or b["right"] > width]
    for i, a in enumerate(boxes):
        problems += [f"{a['name']} overlaps {b['name']}" for b in boxes[i + 1 :] if overlaps(a, b)]
    return problems


async def in_english(page: Page) -> None:
    await page.locator("header").get_by_role("button", name="English").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await page.wait_for_load_state("load")


async def with_second_organizations(db: AsyncSession, world: World) -> None:
    """Everyone in a second organization of their kind with a long name: the switcher at its widest."""
    for kind, (name_zh, name_en) in LONG_NAMES.items():
        other = world.orgs[f"{kind}/other"]
        await db.execute(update(Organization).where(Organization.id == other.id).values(name_zh=name_zh, name_en=name_en))
    for role, kind in ROLE_KIND.items():
        await seed_member(
            db, world.orgs[f"{kind}/other"], email=world.emails[role], name=role.value, role=role, password=PASSWORD
        )
    await db.commit()


async def test_nothing_in_the_header_overlaps_from_1024_px_for_any_role_in_either_language(
    page: Page, world: World, db: AsyncSession
) -> None:
    await with_second_organizations(db, world)
    problems: list[str] = []
    people: list[Role | None] = [None, *Role]
    for role in people:
        if role is None:
            await page.context.clear_cookies()
            await page.goto("/")
        else:
            await sign_in(page, world.emails[role], "/")
            await expect(page.locator("#organization_id option")).to_have_count(2)
        for language in ("zh", "en"):
            if language == "en":
                await in_english(page)
            for width in DESKTOP_WIDTHS:
                await page.set_viewport_size({"width": width, "height": 900})
                found = await header_problems(page, width)
                problems += [f"{role or 'visitor'} {language} {width}px: {p}" for p in found]
                if role in (None, Role.tto_manager, Role.company_member, Role.platform_admin):
                    await screenshot(page, f"header-{role or 'visitor'}-{language}-{width}", full_page=False)
    assert not problems, "\n".join(problems)


async def test_the_switcher_only_for_several_organizations_and_own_pages_under_the_menu(
    page: Page, world: World, db: AsyncSession
) -> None:
    await sign_in(page, world.emails[Role.company_member], "/")
    header = page.locator("header")
    await expect(header.locator("#organization_id")).to_have_count(0)  # one organization: nothing to switch
    nav = page.get_by_role("navigation", name="主导航")
    await expect(nav.get_by_role("link", name="API 令牌")).to_have_count(0)
    menu = header.locator("details.user-menu")
    await expect(menu.get_by_role("link", name="API 令牌")).to_be_hidden()
    await menu.locator("summary").click()
    for name, href in (("个人资料", "/profile"), ("邮件设置", "/settings/notifications"), ("API 令牌", "/tokens")):
        await expect(menu.get_by_role("link", name=name)).to_have_attribute("href", href)
    await expect(menu.get_by_role("button", name="退出")).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(menu.get_by_role("link", name="API 令牌")).to_be_hidden()

    await menu.locator("summary").click()
    await menu.get_by_role("link", name="API 令牌").click()
    await expect(page).to_have_url(re.compile(r"/tokens$"))
    await page.locator("main").click()  # a click elsewhere closes the menu
    await expect(menu.get_by_role("link", name="API 令牌")).to_be_hidden()

    await seed_member(
        db,
        world.orgs["company/other"],
        email=world.emails[Role.company_member],
        name="x",
        role="company_member",
        password=PASSWORD,
    )
    await db.commit()
    await sign_in(page, world.emails[Role.company_member], "/")
    await expect(header.locator("#organization_id option")).to_have_count(2)


async def test_the_user_menu_opens_without_javascript(browser: Browser, live_server, world: World) -> None:
    context = await browser.new_context(base_url=live_server, locale="zh-CN", java_script_enabled=False)
    context.set_default_timeout(5_000)
    try:
        page = await context.new_page()
        await page.goto("/login")
        await page.get_by_label("电子邮箱").fill(world.emails[Role.tto_staff])
        await page.get_by_label("密码").fill(PASSWORD)
        await page.locator("main").get_by_role("button", name="登录").click()
        await expect(page).to_have_url(re.compile(r"/$"))
        menu = page.locator("header details.user-menu")
        await menu.locator("summary").click()
        await menu.get_by_role("button", name="退出").click()
        await expect(page.locator("header").get_by_role("button", name="登录")).to_be_visible()
        # Without JavaScript the phone's navigation is simply open: no dead menu button.
        await page.set_viewport_size(PHONE)
        await page.goto("/")
        await expect(page.locator(".nav-toggle")).to_be_hidden()
        await expect(page.get_by_role("navigation", name="主导航").get_by_role("link", name="检索")).to_be_visible()
    finally:
        await context.close()


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_on_a_phone_the_menu_button_opens_the_whole_navigation(page: Page, world: World, language: str) -> None:
    await page.set_viewport_size(PHONE)
    for role in (None, Role.tto_manager, Role.company_admin, Role.platform_admin):
        if role is None:
            await page.context.clear_cookies()
            await page.goto("/")
        else:
            await sign_in(page, world.emails[role], "/")
        if language == "en":
            await in_english(page)
        name = "Main navigation" if language == "en" else "主导航"
        links = page.get_by_role("navigation", name=name).get_by_role("link")
        toggle = page.locator("header").get_by_role("button", name="Menu" if language == "en" else "菜单")
        await expect(toggle).to_have_attribute("aria-expanded", "false")
        await expect(links.first).to_be_hidden()
        await screenshot(page, f"phone-{role or 'visitor'}-{language}", full_page=False)
        await toggle.click()
        await expect(toggle).to_have_attribute("aria-expanded", "true")
        count = await links.count()
        assert count >= 2
        for i in range(count):
            await expect(links.nth(i)).to_be_in_viewport()
        problems = await header_problems(page, PHONE["width"])
        assert not problems, f"{role} {language}: {problems}"
        await screenshot(page, f"phone-{role or 'visitor'}-{language}-menu", full_page=False)


@pytest.fixture
async def indexed(settings, engine, db, world):
    async for ids in index_samples(settings, engine, db, world):
        yield ids


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_on_a_phone_search_results_come_first_and_the_filters_open_in_a_panel(
    page: Page, world: World, indexed: dict[str, str], language: str
) -> None:
    await page.set_viewport_size(PHONE)
    await sign_in(page, world.emails[Role.company_member], "/search")
    if language == "en":
        await in_english(page)
    english = language == "en"
    hits = page.locator("article.search-hit")
    await expect(hits).to_have_count(4)
    await expect(hits.first).to_be_in_viewport()  # the first result on the first screen
    facets = page.locator("#search-facets")
    await expect(facets).to_be_hidden()
    toggle = page.locator(".filters-toggle")
    await expect(toggle).to_have_text(re.compile(r"Filters\s+4 results" if english else r"筛选\s+4 条结果"))
    await screenshot(page, f"phone-search-{language}", full_page=False)

    await toggle.click()
    await expect(facets).to_be_visible()
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    await facets.locator('input[name="kind"][value="resource"]').check()
    # The results follow behind the panel, which stays open, and its buttons count them.
    await expect(hits).to_have_count(2)
    await expect(facets).to_be_visible()
    await has_focus(facets.locator('input[name="kind"][value="resource"]'))
    done = facets.locator("[data-filters-close]")
    await expect(done).to_have_text("Show 2 results" if english else "查看 2 条结果")
    await screenshot(page, f"phone-search-{language}-filters", full_page=False)
    await done.click()
    await expect(facets).to_be_hidden()
    await expect(toggle).to_have_text(re.compile(r"2 results" if english else r"2 条结果"))
    await has_focus(toggle)
    await expect(hits.first).to_be_in_viewport()
