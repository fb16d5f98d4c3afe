"""Issue 16, point 6, in headless Chromium: a visitor who chose English reads the catalogue, a
listing and a company's profile in English at desktop (1366×900) and phone (390×844) widths: the
English title leads, a Chinese-only listing says so, places are English; in Chinese the same pages
lead with the Chinese title and show no "Chinese only" note."""

from __future__ import annotations

import os

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import Organization, Role
from marketplace.accounts.profiles import ProfileInput
from marketplace.accounts.services import AccountService
from tests.catalog.factories import published
from tests.support.world import World

pytestmark = pytest.mark.browser

# Set PROFILE_SCREENSHOTS to a folder to look at the pages as a person would.
SCREENSHOTS = os.environ.get("PROFILE_SCREENSHOTS")
SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


async def test_english_pages_lead_with_english_and_say_when_a_listing_is_chinese_only(
    page: Page, world: World, db: AsyncSession
) -> None:
    institution, company = world.orgs["institution/own"], world.orgs["company/own"]
    await db.execute(
        update(Organization).where(Organization.id == institution.id).values(name_en="Own Hospital", district="徐汇区")
    )
    await db.execute(
        update(Organization).where(Organization.id == company.id).values(name_en="Own Biopharma Co., Ltd.", district="滨江区")
    )
    admin = await world.principal(db, world.emails[Role.platform_admin])
    await AccountService(db).update_organization_profile(
        admin,
        company.id,
        ProfileInput(
            description_zh="一家专注于体外诊断的创新企业，寻求与医院合作开发早筛产品。",
            description_en="An in-vitro diagnostics company looking for hospital partners on early screening products.",
            contact_name="Zhao Qiming",
            contact_title="Business development director",
            contact_email="bd@own-biopharma.example",
            contact_phone="0571-8110 1331",
        ),
    )
    await db.commit()
    bilingual = await published(db, world, summary_en="Detects early liver cancer from exosomal miRNA in a blood sample.")
    chinese_only = await published(db, world, title_zh="一种新型可降解冠脉支架", title_en=None, summary_en=None)

    for lang in ("en", "zh_CN"):
        english = lang == "en"
        for size, viewport in SIZES.items():
            await page.set_viewport_size(viewport)
            await page.goto("/listings")  # a first page, so the cookie has an address
            await page.context.add_cookies([{"name": "lang", "value": lang, "url": page.url}])
            await page.goto("/listings")
            card = page.locator(".listing-card").filter(has=page.locator(f'a[href="/listings/{chinese_only}"]'))
            if english:
                await expect(card.locator(".lang-note")).to_have_text("Chinese only")
                await expect(card.locator(".card-owner")).to_have_text("Own Hospital")
                await expect(page.locator(f'a[href="/listings/{bilingual}"]')).to_have_text(
                    "Exosome-based early liver cancer detection"
                )
            else:
                await expect(page.locator(".lang-note")).to_have_count(0)
                await expect(page.locator(f'a[href="/listings/{bilingual}"]')).to_have_text("基于外泌体的早期肝癌检测方法")
            if SCREENSHOTS:
                await page.screenshot(path=f"{SCREENSHOTS}/catalogue-{lang}-{size}.png", full_page=True)

            await page.goto(f"/listings/{chinese_only}")
            if english:
                await expect(page.locator("h1")).to_have_attribute("lang", "zh-CN")
                await expect(page.locator(".listing-head .lang-note")).to_have_text("Chinese only")
                await expect(page.locator(".listing-owner")).to_contain_text("Xuhui District, Shanghai")
            await page.goto(f"/listings/{bilingual}")
            await expect(page).to_have_title(
                ("Exosome-based early liver cancer detection" if english else "基于外泌体的早期肝癌检测方法")
                + " · "
                + ("MedTech Transfer" if english else "医企转化平台")
            )
            if SCREENSHOTS:
                await page.screenshot(path=f"{SCREENSHOTS}/listing-{lang}-{size}.png")

            await page.goto(f"/companies/{company.id}")
            if english:
                await expect(page.locator("h1")).to_have_text("Own Biopharma Co., Ltd.")
                await expect(page.locator(".profile-description")).to_contain_text("An in-vitro diagnostics company")
                await expect(page.locator("main")).to_contain_text("Binjiang District, Hangzhou")
            else:
                await expect(page.locator(".profile-description")).to_contain_text("一家专注于体外诊断的创新企业")
            await expect(page.locator("#contact")).to_contain_text("Zhao Qiming")
            assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            if SCREENSHOTS:
                await page.screenshot(path=f"{SCREENSHOTS}/company-{lang}-{size}.png", full_page=True)
