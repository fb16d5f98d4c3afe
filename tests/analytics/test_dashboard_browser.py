"""Issue 14, point 9 (the admin's half), in headless Chromium: the platform admin filters the
dashboard to one city and one quarter, the charts are drawn inside their boxes (no CSP refusal)
and the tables change with the filter."""

from __future__ import annotations

import io
import re

import anyio
import pytest
from playwright.async_api import Page, expect
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import Role
from tests.analytics.fixed_data import build
from tests.support.browser import screenshot, sign_in
from tests.support.world import World

pytestmark = pytest.mark.browser


async def test_an_admin_filters_the_dashboard_to_a_city_and_a_quarter(page: Page, world: World, db: AsyncSession) -> None:
    await build(db, world)
    await db.commit()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if message.type == "error" else None)

    await sign_in(page, world.emails[Role.platform_admin], "/")
    await page.get_by_role("navigation", name="主导航").get_by_role("link", name="数据看板").click()
    await expect(page).to_have_url(re.compile(r"/analytics$"))
    main = page.locator("main")
    await main.locator("#year").fill("2026")
    await main.locator("#quarter").select_option("2")
    await main.get_by_role("button", name="查看").click()
    await expect(page).to_have_url(re.compile(r"year=2026&quarter=2"))
    by_institution = main.locator("#table-income_by_institution tbody")
    await expect(by_institution.locator("tr")).to_have_count(2)  # 本院 and 他院
    await expect(main.locator(".chart svg, .chart canvas").first).to_be_visible()
    await screenshot(page, "platform-q2")

    # One city: the other institution's income leaves the tables and the charts are drawn again.
    await main.locator("#city").select_option("上海")
    await main.get_by_role("button", name="查看").click()
    await expect(page).to_have_url(re.compile(r"city=%E4%B8%8A%E6%B5%B7"))
    await expect(by_institution.locator("tr")).to_have_count(1)
    await expect(by_institution).to_contain_text("本院")
    await expect(by_institution).not_to_contain_text("他院")
    await expect(main.locator("#table-income_by_month tbody tr")).to_have_count(1)  # May: AG1's upfront
    for chart in await main.locator("[data-chart-for]").all():
        await expect(chart.locator("svg, canvas").first).to_be_attached()
    await expect(main.locator(".dash-period")).to_contain_text("2026-04-01 至 2026-06-30")
    assert not [text for text in refused if "Content Security Policy" in text], refused
    await screenshot(page, "platform-shanghai-q2")

    # The year's annual report, downloaded from the dashboard: a PDF naming the platform's figures.
    async with page.expect_download() as waiting:
        await main.get_by_role("button", name="2026 年度报告（PDF）").click()
    download = await waiting.value
    content = await anyio.Path(await download.path()).read_bytes()
    assert content.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    assert "2026" in text and "本院" in text and "他院" in text


async def test_a_tto_sees_its_own_dashboard(page: Page, world: World, db: AsyncSession) -> None:
    await build(db, world)
    await db.commit()
    await sign_in(page, world.emails[Role.tto_manager], "/analytics")
    await page.goto("/analytics?year=2026&quarter=2")
    main = page.locator("main")
    await expect(main.locator("#card-inbox")).to_be_visible()
    await expect(main.locator("#table-income_by_institution tbody")).not_to_contain_text("他院")
    await screenshot(page, "institution-q2")
