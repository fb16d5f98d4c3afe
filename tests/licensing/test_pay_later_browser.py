"""Issue 12, point 9, in headless Chromium: a company's administrator signs a pay-later licence
drafted from an agreed match, reports its first revenue (which converts it) and chooses
instalments; the TTO records the first instalment; the inventor then finds their part of it, split
by the institution's policy, in their statement."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import Role
from marketplace.db import china_today
from marketplace.ledger.services import LedgerService
from marketplace.ledger.statement_files import format_fen
from tests.ledger.factories import ready_institutions, seed_result
from tests.licensing.factories import agreed_match, draft, move, obligations, pay_later_body
from tests.support.browser import sign_in
from tests.support.world import World

pytestmark = pytest.mark.browser


async def test_a_pay_later_licence_converts_on_first_revenue_and_its_first_instalment_reaches_the_inventor(
    page: Page, world: World, db: AsyncSession
) -> None:
    await ready_institutions(db, world)
    inventor = await world.principal(db, world.emails[Role.inventor])
    people = [{"name": "张晓华", "share_bp": 6000, "user_id": str(inventor.user_id)}, {"name": "李明", "share_bp": 4000}]
    result = await seed_result(db, world.orgs["institution/own"].id, people, ownership_model="institution")
    match = await agreed_match(db, world, result.id)
    start = china_today() - timedelta(days=40)
    body = pay_later_body(match_request_id=str(match.id), licence_fee_fen=30_000_000, starts_on=start.isoformat())
    agreement = await draft(db, world, body)
    agreement_id, url = agreement.id, f"/agreements/{agreement.id}"
    await move(db, world, agreement_id, "approve", Role.tto_manager)
    await move(db, world, agreement_id, "sign", Role.tto_manager)

    # The company's administrator signs: the use period starts, nothing is owed.
    await sign_in(page, world.emails[Role.company_admin], url)
    main = page.locator("main")
    await main.get_by_role("button", name="签署协议").click()
    await expect(main.locator(".manage-status")).to_contain_text("使用期中")

    # First revenue: net sales since the start, up to yesterday, convert the licence.
    await main.get_by_label("起始日期").fill(start.isoformat())
    await main.get_by_label("截止日期").fill((china_today() - timedelta(days=1)).isoformat())
    await main.get_by_label("净销售额（元）").fill("1,200,000")
    await main.get_by_role("button", name="报告净销售额").click()
    await expect(main.locator(".manage-status")).to_contain_text("已转为有偿许可")

    # Instalments: three, the fee split exactly.
    await main.get_by_label("付款方式").select_option("instalments")
    await main.get_by_label(re.compile("分期数")).fill("3")
    await main.locator("#payment-mode").get_by_role("button").click()
    await expect(main).to_contain_text("¥100,000.00")
    items = await obligations(db, agreement_id)
    assert [item.amount_fen for item in items] == [10_000_000] * 3

    # The TTO records the first instalment.
    await sign_in(page, world.emails[Role.tto_staff], url)
    await main.get_by_label("金额（元）").fill("100,000.00")
    await main.get_by_role("button", name="登记付款").click()
    await expect(main.locator("table.payment-table")).to_contain_text("¥100,000.00")

    # The inventor's statement shows their part of it.
    statement = await LedgerService(db).inventor_statement(inventor, inventor.user_id)
    accrued = sum(line.accrued for line in statement.lines if line.result_id == result.id)
    assert 0 < accrued < 10_000_000
    await sign_in(page, world.emails[Role.inventor], "/statements/me")
    await expect(page.locator("main")).to_contain_text(result.title_zh)
    await expect(page.locator("main")).to_contain_text(format_fen(accrued))
