"""Issue 16, point 5 in headless Chromium: a TTO uploads a spreadsheet written in Chinese with
mistakes and sees every problem of every row in a table (row, column, problem) that names the
allowed values; the same in English. Set SHEETS_SCREENSHOTS to a folder to look at the page at
desktop and phone widths."""

from __future__ import annotations

import os

import pytest
from playwright.async_api import Page, expect

from marketplace.accounts.models import Role
from marketplace.catalog.spreadsheets import write
from tests.support.browser import sign_in
from tests.support.world import World

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("SHEETS_SCREENSHOTS")

ROWS = [
    {
        "kind": "科技成果",
        "type": "研究型病房",
        "title_zh": "外泌体肝癌检测",
        "summary_zh": "血液外泌体检测早期肝癌。",
        "therapeutic_areas": "肿瘤; 占星",
        "stage": "二期",
        "trl": "10",
        "inventors": "张晓华: 50; 李明: 40",
        "details.beds": "10",
    },
    {
        "type": "研究型病房",
        "title_zh": "肿瘤研究型病房",
        "summary_zh": "40张研究型床位。",
        "details.beds": "四十",
        "details.sample_count": "500",
        "pricing_model": "按天",
    },
]


async def shoot(page: Page, name: str) -> None:
    if SHOTS:
        for width, height in ((1366, 900), (390, 844)):
            await page.set_viewport_size({"width": width, "height": height})
            await page.wait_for_timeout(300)
            await page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
        await page.set_viewport_size({"width": 1280, "height": 800})


async def upload(page: Page, button: str) -> None:
    content = write(ROWS, "xlsx")
    mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    await page.locator('input[type="file"][name="file"]').set_input_files(
        {"name": "成果清单.xlsx", "mimeType": mime, "buffer": content}
    )
    await page.locator("main").get_by_role("button", name=button, exact=True).click()


async def test_a_tto_sees_every_problem_of_a_chinese_spreadsheet_in_a_table(page: Page, world: World) -> None:
    await sign_in(page, world.emails[Role.tto_staff], "/listings/import")
    await upload(page, "上传")
    table = page.locator("table.report-table")
    await expect(table).to_be_visible()
    await expect(page.locator("main")).to_contain_text("共 10 个问题，涉及 2 行。")
    body = table.locator("tbody tr")
    await expect(body).to_have_count(10)
    first = body.nth(0).locator("td")
    await expect(first.nth(0)).to_have_text("2")
    await expect(first.nth(1)).to_have_text("类别")
    await expect(first.nth(2)).to_contain_text("“研究型病房”不是允许的值。允许的值：专利、软件")
    stage = body.filter(has_text="研发阶段")
    await expect(stage).to_contain_text("“二期”不是允许的值。允许的值：发现阶段、临床前")
    await expect(body.filter(has_text="“四十”不是整数。")).to_have_count(1)
    await expect(body.filter(has_text="样本数量")).to_contain_text("研究型病房不使用此列，请留空。")
    await expect(body.filter(has_text="计价方式")).to_contain_text("“按天”不是允许的值。允许的值：按项目")
    await shoot(page, "import-errors-zh")

    # The same file with the page in English: English columns and messages, the same problems.
    await page.context.add_cookies([{"name": "lang", "value": "en", "url": page.url}])
    await page.goto("/listings/import")
    await upload(page, "Upload")
    await expect(page.locator("main")).to_contain_text("10 problems in 2 rows.")
    body = page.locator("table.report-table tbody tr")
    await expect(body).to_have_count(10)
    await expect(body.nth(0).locator("td").nth(1)).to_have_text("Type")
    await expect(body.filter(has_text="Development stage")).to_contain_text(
        '"二期" is not one of the allowed values: Discovery, Preclinical'
    )
    await shoot(page, "import-errors-en")
