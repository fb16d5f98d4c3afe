"""The statement pages in headless Chromium: the chart draws, nothing breaks the CSP, and the
download links answer files. STATEMENT_SCREENSHOTS=<folder> keeps full-page screenshots to look at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from marketplace.accounts.models import Role
from tests.ledger.factories import INSTITUTION, ledger_with_two_inventors
from tests.support.browser import sign_in

pytestmark = pytest.mark.browser


async def test_statement_pages_in_a_browser(page: Page, db, world, tmp_path: Path) -> None:
    await ledger_with_two_inventors(db, world)
    shots = Path(os.environ.get("STATEMENT_SCREENSHOTS") or tmp_path)
    violations: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))

    await sign_in(page, world.emails[Role.inventor], "/statements/me")
    await expect(page.locator("h1")).to_have_text("我的收益分配对账单")
    await page.screenshot(path=shots / "inventor.png", full_page=True)
    async with page.expect_download() as download:
        await page.get_by_role("button", name="PDF").click()
    assert (await download.value).suggested_filename.endswith("-statement-inventor-all.pdf")

    await sign_in(page, world.emails[Role.tto_manager], "/")
    await page.get_by_role("navigation", name="主导航").get_by_role("link", name="对账单").click()
    await expect(page).to_have_url(f"{page.url.split('/statements')[0]}/statements/institutions/{world.orgs[INSTITUTION].id}")
    chart = page.locator("svg.bar-chart")
    await expect(chart).to_be_visible()
    box = await chart.locator(".bar-inventors").bounding_box()
    assert box is not None and box["width"] > 100  # 70% of the track
    await page.screenshot(path=shots / "institution.png", full_page=True)
    assert not violations, violations
