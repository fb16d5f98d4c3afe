"""The money forms of an agreement's page: the TTO records a payment received (a double submit of
the same form records it once), the licensee reports net sales (the first converts a pay-later
licence in its use period) and a milestone reached; refusals show beside the form."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.db import china_today
from marketplace.licensing.models import Payment
from tests.licensing.factories import in_force, licence_body, money_result, obligations, pay_later_body
from tests.support.web import error_of, login, post_form


def hidden_key(html: str) -> str:
    match = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', html)
    assert match, "the payment form carries an idempotency key"
    return match.group(1)


async def test_the_tto_records_a_payment_once_and_it_shows_on_the_agreement(client, db, world) -> None:
    result = await money_result(db, world)
    agreement = await in_force(db, world, licence_body("non_exclusive", result_ids=[str(result.id)]))
    upfront = next(item for item in await obligations(db, agreement.id) if item.kind == "upfront")
    await login(client, world.emails[Role.tto_staff])
    page = (await client.get(f"/agreements/{agreement.id}")).text
    assert "登记收到的付款" in page and "待付 ¥500,000.00" in page
    form = {
        "idempotency_key": hidden_key(page),
        "obligation_id": str(upfront.id),
        "amount": "12.345",
        "received_on": china_today().isoformat(),
        "reference": "银行流水 001",
    }
    wrong = await post_form(client, f"/agreements/{agreement.id}/payments", form)
    assert wrong.status_code == 422 and "金额" in error_of(wrong.text, "amount")
    form["amount"] = "500,000.00"
    for _ in range(2):  # a double click: the same form, the same key
        sent = await post_form(client, f"/agreements/{agreement.id}/payments", form)
        assert sent.status_code == 302, sent.text
    assert await db.scalar(select(func.count()).select_from(Payment)) == 1
    page = (await client.get(f"/agreements/{agreement.id}")).text
    assert "已收款项" in page and "银行流水 001" in page and "已付" in page
    await db.refresh(upfront)
    assert upfront.state == "paid" and upfront.paid_fen == 50_000_000

    await login(client, world.emails[Role.company_admin])
    page = (await client.get(f"/agreements/{agreement.id}")).text
    assert "银行流水 001" in page and f'action="/agreements/{agreement.id}/payments' not in page
    refused = await post_form(client, f"/agreements/{agreement.id}/payments", {**form, "idempotency_key": "other"})
    assert refused.status_code == 403


async def test_the_licensee_reports_first_revenue_and_a_milestone_on_the_page(client, db, world) -> None:
    result = await money_result(db, world)
    pay_later = await in_force(db, world, pay_later_body(result_ids=[str(result.id)]))
    await login(client, world.emails[Role.company_admin])
    page = (await client.get(f"/agreements/{pay_later.id}")).text
    assert "报告净销售额" in page and "首次报告销售额即将许可转为有偿许可" in page
    today = china_today().isoformat()
    wrong = await post_form(
        client, f"/agreements/{pay_later.id}/royalty-reports", {"period_start": today, "period_end": today, "net_sales": "x"}
    )
    assert wrong.status_code == 422 and error_of(wrong.text, "net_sales")
    sent = await post_form(
        client, f"/agreements/{pay_later.id}/royalty-reports", {"period_start": today, "period_end": today, "net_sales": "10,000"}
    )
    assert sent.status_code == 302, sent.text
    page = (await client.get(f"/agreements/{pay_later.id}")).text
    assert "已转为有偿许可" in page and "首笔收入" in page and "¥10,000.00" in page

    second = await money_result(db, world)
    licence = await in_force(db, world, licence_body("non_exclusive", result_ids=[str(second.id)]))
    milestone = next(item for item in await obligations(db, licence.id) if item.kind == "milestone")
    sent = await post_form(
        client, f"/agreements/{licence.id}/milestones", {"obligation_id": str(milestone.id), "reached_on": "2999-01-01"}
    )
    assert sent.status_code == 422 and error_of(sent.text, "reached_on")
    sent = await post_form(
        client, f"/agreements/{licence.id}/milestones", {"obligation_id": str(milestone.id), "reached_on": today}
    )
    assert sent.status_code == 302, sent.text
    await db.refresh(milestone)
    assert milestone.state == "due" and milestone.reached_on is not None
