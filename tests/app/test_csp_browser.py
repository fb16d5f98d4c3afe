"""No Content-Security-Policy violation in headless Chromium on the main pages of every role, and
the behaviours moved out of inline handlers into /static/app.js still work: the organization
switcher and a member's role submit on change, deleting a saved search asks first.

Violations are collected from the page's `securitypolicyviolation` events (reported through a
binding, which the CSP does not govern) and from console messages about the policy."""

from __future__ import annotations

import re

import pytest
from litestar.testing import AsyncTestClient
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import Role
from tests.accounts.factories import seed_member
from tests.search.factories import index_samples
from tests.support.browser import sign_in
from tests.support.world import PASSWORD, World

pytestmark = pytest.mark.browser

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(`${event.violatedDirective} blocked ${event.blockedURI} at ${event.sourceFile}:${event.lineNumber}`);
});
"""


@pytest.fixture
async def indexed(settings, engine, db, world):
    async for ids in index_samples(settings, engine, db, world):
        yield ids


async def watch_csp(page: Page) -> list[str]:
    """Every CSP violation on this page from now on, as text, with the address it happened at."""
    violations: list[str] = []
    await page.expose_function("reportCspViolation", lambda text: violations.append(f"{page.url}: {text}"))
    await page.add_init_script(REPORT_VIOLATIONS)
    page.on(
        "console", lambda message: "Content Security Policy" in message.text and violations.append(f"{page.url}: {message.text}")
    )
    return violations


async def open_page(page: Page, url: str) -> None:
    """Open a page, and let htmx swap in what it loads by itself (a listing's recommended needs)."""
    response = await page.goto(url)
    assert response is not None and response.status == 200, url
    await expect(page.locator('[hx-trigger="load"]')).to_have_count(0)
    await expect(page.locator(".htmx-request")).to_have_count(0)


async def test_no_csp_violation_on_the_main_pages_of_each_role(page: Page, world: World, indexed: dict[str, str]) -> None:
    violations = await watch_csp(page)
    for role in Role:
        await sign_in(page, world.emails[role], "/")
        nav = page.get_by_role("navigation", name="主导航").get_by_role("link")
        pages: list[str] = await nav.evaluate_all("links => links.map(link => link.getAttribute('href'))")
        pages += [
            "/profile",
            "/tokens",
            "/settings/notifications",
            "/notifications",
            f"/listings/{indexed['liver']}",
            "/search?q=肝癌",
        ]
        for url in pages:
            await open_page(page, url)
        # Typing on /search swaps the results in through htmx.
        await page.locator("#search-q").fill("")
        await page.locator("#search-q").press_sequentially("外泌体", delay=20)
        await expect(page.locator("article.search-hit")).to_have_count(1)
        assert not violations, f"{role}: {violations}"


async def test_a_broken_policy_would_be_seen(page: Page, live_server) -> None:
    """The watch itself works: an inline handler put into a page by hand is reported."""
    violations = await watch_csp(page)
    await open_page(page, "/login")
    await page.evaluate("document.body.setAttribute('onclick', 'void 0'); document.body.click()")
    for _ in range(50):  # the report comes back through the binding, a moment later
        if violations:
            break
        await page.wait_for_timeout(100)
    assert violations and "script-src" in violations[0], violations


async def test_the_organization_switcher_submits_on_change(page: Page, world: World, db: AsyncSession) -> None:
    email = world.emails[Role.company_member]
    await seed_member(
        db, world.orgs["company/other"], email=email, name="company_member", role="company_member", password=PASSWORD
    )
    await db.commit()
    violations = await watch_csp(page)
    await sign_in(page, email, "/")
    switcher = page.locator("#organization_id")
    await expect(switcher.locator("option:checked")).to_contain_text("本企业")
    await switcher.select_option(str(world.orgs["company/other"].id))  # no button: app.js submits
    await expect(switcher.locator("option:checked")).to_contain_text("他企业")
    await expect(page.locator("h1")).to_have_text("他企业")
    assert not violations, violations


async def test_a_members_role_changes_on_select_and_a_saved_search_is_deleted_only_when_confirmed(
    page: Page, world: World, client: AsyncTestClient
) -> None:
    violations = await watch_csp(page)
    await sign_in(page, world.emails[Role.company_admin], "/members")
    target = page.locator("tr").filter(has_text="target@company.own.test").locator("select[name=role]")
    await expect(target).to_have_value("company_member")
    await target.select_option("company_admin")
    await expect(page.get_by_role("status")).to_be_visible()  # the page came back with a notice
    await expect(target).to_have_value("company_admin")

    created = await client.post(
        "/api/v1/saved-searches", json={"name": "肝癌检测", "query": "q=肝癌"}, headers=world.bearer(Role.company_member)
    )
    assert created.status_code == 201, created.text
    await sign_in(page, world.emails[Role.company_member], "/saved-searches")
    saved = page.locator("article").filter(has_text="肝癌检测")
    await expect(saved).to_have_count(1)
    questions: list[str] = []

    async def answer(dialog, accept: bool) -> None:
        questions.append(dialog.message)
        await (dialog.accept() if accept else dialog.dismiss())

    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    await saved.get_by_role("button", name="删除").click()
    await expect(saved).to_have_count(1)
    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    await saved.get_by_role("button", name="删除").click()
    await expect(saved).to_have_count(0)
    assert len(questions) == 2 and re.search("删除", questions[0]), questions
    assert not violations, violations
