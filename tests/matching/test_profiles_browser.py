"""Issue 16, point 7, in headless Chromium: the TTO manager writes the institution's profile (a file
that is not an image is refused beside the logo field, with what was typed kept), then a visitor
reads it in Chinese and in English, at desktop (1366×900) and phone (390×844) widths: the logo,
the description, the named contact, the response record and the listings by kind."""

from __future__ import annotations

import os
import re
import struct
import zlib
from datetime import UTC, datetime

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import Organization, Role
from marketplace.matching.requests.models import MatchRequest
from tests.catalog.factories import published
from tests.matching.requests.factories import create
from tests.support.browser import sign_in
from tests.support.world import World

pytestmark = pytest.mark.browser

# Set PROFILE_SCREENSHOTS to a folder to look at the pages as a person would.
SCREENSHOTS = os.environ.get("PROFILE_SCREENSHOTS")
SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


def logo_png(size: int = 96) -> bytes:
    """A real PNG (teal square with a white cross), written by hand so the test needs no imaging library."""
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            cross = (abs(x - size // 2) < size // 10 and size // 5 < y < size - size // 5) or (
                abs(y - size // 2) < size // 10 and size // 5 < x < size - size // 5
            )
            row += bytes((255, 255, 255) if cross else (11, 110, 110))
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b"")


async def answered_requests(db: AsyncSession, world: World) -> None:
    """Three answered requests on three results: 2, 3 and 6 working days, so "usually 3"."""
    submitted = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    for n, day in enumerate((4, 5, 10)):
        listing = await published(
            db, world, title_zh=f"外泌体肝癌早筛方法{n + 1}", title_en=f"Exosome liver cancer screening {n + 1}"
        )
        request = await create(db, world, listing)
        await db.execute(
            update(MatchRequest)
            .where(MatchRequest.id == request.id)
            .values(submitted_at=submitted, first_answered_at=datetime(2026, 11, day, 3, 0, tzinfo=UTC))
        )
    org = world.orgs["institution/own"]
    await db.execute(update(Organization).where(Organization.id == org.id).values(name_en="Own Hospital", district="徐汇区"))
    await db.commit()


async def test_the_tto_manager_writes_the_profile_and_visitors_read_it_in_both_languages(
    page: Page, world: World, db: AsyncSession
) -> None:
    await answered_requests(db, world)
    org = world.orgs["institution/own"]
    await page.set_viewport_size(SIZES["desktop"])
    await sign_in(page, world.emails[Role.tto_manager], f"/institutions/{org.id}")
    await page.get_by_role("button", name="编辑主页").click()  # a link styled as a button
    await expect(page.locator("h1")).to_have_text("编辑主页")

    main = page.locator("main")
    await main.get_by_label("中文简介", exact=True).fill(
        "本院成果转化办公室成立于2016年，负责专利许可、技术转让与临床研究合作。\n欢迎企业就已发布的成果提出对接申请。"
    )
    await main.get_by_label("英文简介").fill(
        "Our technology transfer office, founded in 2016, handles patent licences, transfers and clinical partnerships.\n"
        "Companies are welcome to request a match on any published result."
    )
    await main.get_by_label("姓名").fill("林晓雯")
    await main.get_by_label("职务").fill("成果转化办公室 主任")
    await main.get_by_label("电子邮箱").fill("tto@own-hospital.example")
    await main.get_by_label("电话").fill("021-6514 8606")
    # A text file named like a picture: refused by its content, beside the field, the rest kept.
    await main.get_by_label("上传标志").set_input_files({"name": "logo.png", "mimeType": "image/png", "buffer": b"not a picture"})
    await main.get_by_role("button", name="保存主页").click()
    await expect(page.locator("#logo-error")).to_have_text("标志必须是 PNG、JPEG 或 WebP 图片。")
    await expect(main.get_by_label("上传标志")).to_have_attribute("aria-invalid", "true")
    await expect(main.get_by_label("姓名")).to_have_value("林晓雯")
    await expect(main.get_by_label("英文简介")).to_have_value(re.compile("^Our technology transfer office"))
    if SCREENSHOTS:
        await page.screenshot(path=f"{SCREENSHOTS}/profile-form-error-zh-desktop.png", full_page=True)

    await main.get_by_label("上传标志").set_input_files({"name": "logo.png", "mimeType": "image/png", "buffer": logo_png()})
    await main.get_by_role("button", name="保存主页").click()
    await expect(page).to_have_url(re.compile(rf"/institutions/{org.id}$"))
    await expect(page.get_by_role("status")).to_contain_text("主页已保存")

    # A visitor who is not signed in, in Chinese and in English, at both widths.
    await page.context.clear_cookies()
    for lang in ("zh_CN", "en"):
        await page.context.add_cookies([{"name": "lang", "value": lang, "url": page.url}])
        for size, viewport in SIZES.items():
            await page.set_viewport_size(viewport)
            await page.goto(f"/institutions/{org.id}")
            logo = page.locator("img.profile-logo")
            await expect(logo).to_be_visible()
            assert await logo.evaluate("img => img.complete && img.naturalWidth") == 96
            contact = page.locator("#contact")
            await expect(contact).to_contain_text("林晓雯")
            await expect(contact.get_by_role("link", name="tto@own-hospital.example")).to_have_attribute(
                "href", "mailto:tto@own-hospital.example"
            )
            record = page.locator("#response-record")
            if lang == "en":
                await expect(page.locator("h1")).to_have_text("Own Hospital")
                await expect(page.locator(".page-head")).to_contain_text("Xuhui District, Shanghai")
                await expect(page.locator(".profile-description")).to_contain_text("Our technology transfer office")
                await expect(record).to_contain_text("Usually answers within 3 working days")
                await expect(page.locator("#section-result")).to_contain_text("Results")
            else:
                await expect(page.locator(".page-head")).to_contain_text("上海 · 徐汇区")
                await expect(page.locator(".profile-description")).to_contain_text("本院成果转化办公室成立于2016年")
                await expect(record).to_contain_text("通常在 3 个工作日内答复")
            await expect(page.locator('a.stat-value[href="#section-result"]')).to_have_text("3")
            # Nothing wider than the screen: the page does not scroll sideways.
            assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            if SCREENSHOTS:
                await page.screenshot(path=f"{SCREENSHOTS}/institution-{lang}-{size}.png", full_page=True)
