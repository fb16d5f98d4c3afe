"""A need response's conversation in headless Chromium: the poster's member opens the response
from the need page and writes with a file; the institution's TTO finds the new message flagged
on the need page, downloads the file and answers with one of its own."""

from __future__ import annotations

import re

import msgspec
import pytest
from playwright.async_api import Page, expect

from marketplace.accounts.models import Role
from marketplace.catalog.schemas import ListingCreate
from marketplace.matching.needs.schemas import NeedCreate, ResponseCreate
from marketplace.matching.needs.services import NeedService
from tests.catalog.factories import result_body, seed_listing
from tests.matching.needs.factories import need_body, response_body
from tests.support.browser import send_message, sign_in
from tests.support.files import PDF
from tests.support.world import World

pytestmark = pytest.mark.browser


async def test_the_poster_and_the_institution_talk_over_a_response(page: Page, db, world: World, tmp_path) -> None:
    member, tto = world.emails[Role.company_member], world.emails[Role.tto_manager]
    needs = NeedService(db)
    poster = await world.principal(db, member)
    need = await needs.create(poster, msgspec.convert(need_body(), NeedCreate))
    await needs.transition(poster, need.id, "publish")
    listing = await seed_listing(
        db, world.orgs["institution/own"].id, msgspec.convert(result_body(), ListingCreate), status="published"
    )
    response = await needs.respond(
        await world.principal(db, tto), need.id, msgspec.convert(response_body(listing.id), ResponseCreate)
    )
    await db.commit()
    response_page = f"/needs/{need.id}/responses/{response.id}"

    await sign_in(page, member, f"/needs/{need.id}")
    await page.locator(f"#response-{response.id}").get_by_role("button", name=re.compile("沟通记录")).click()
    await expect(page).to_have_url(re.compile(re.escape(response_page) + "#thread$"))
    await expect(page.get_by_role("heading", name="本院的响应")).to_be_visible()
    await send_message(page, "请提供伦理批件和样本来源说明。", "需求说明.pdf", PDF, "application/pdf")

    await sign_in(page, tto, f"/needs/{need.id}")
    await expect(page.locator(f"#response-{response.id}").get_by_text("新消息：1")).to_be_visible()
    await page.locator(f"#response-{response.id}").get_by_role("button", name=re.compile("沟通记录")).click()
    async with page.expect_download() as download_info:
        await page.locator("#thread").get_by_role("link", name=re.compile("需求说明.pdf")).click()
    saved = tmp_path / "downloaded.pdf"
    await (await download_info.value).save_as(saved)
    assert saved.read_bytes() == PDF
    await send_message(page, "伦理批件见附件。", "伦理批件.pdf", PDF, "application/pdf")
    await expect(page.locator("#thread .thread-message")).to_have_count(2)
