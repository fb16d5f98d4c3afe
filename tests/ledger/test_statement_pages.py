"""The statements as pages and files: an inventor sees exactly their own split, to the fen, and no
one else's; the TTO manager sees the institution's distribution and each policy's compliance; each
download (CSV, XLSX, PDF) carries the same totals."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from marketplace.accounts.models import Role
from marketplace.ledger.services import LedgerService
from tests.ledger.factories import (
    INSTITUTION,
    amounts,
    file_text,
    income_body,
    ledger_with_two_inventors,
    record,
    seed_policy,
    seed_result,
)
from tests.support.web import login


async def test_the_inventor_sees_exactly_their_own_split(client, db, world) -> None:
    inventor = await ledger_with_two_inventors(db, world)
    await login(client, world.emails[Role.inventor])
    landing = await client.get("/statements", follow_redirects=False)
    assert landing.status_code == 302 and landing.headers["location"] == "/statements/me"
    page = await client.get("/statements/me")
    assert page.status_code == 200, page.text
    # 70% of ¥12,000.01 to the team is ¥8,400.00 (the leftover fen to the institution); 75% of it ours.
    assert "¥6,300.00" in page.text and "¥1,000.00" in page.text and "¥5,300.00" in page.text
    assert "外院合作者" not in page.text and "¥2,100.00" not in page.text
    assert "基于外泌体的早期肝癌检测方法" in page.text
    assert ">对账单</a>" in page.text  # the menu item
    march = await client.get("/statements/me?period_from=2026-03-01&period_to=2026-03-31")
    assert amounts(march.text)[:3] == ["¥5,250.00", "¥0.00", "¥5,250.00"]
    assert "period_from=2026-03-01&amp;period_to=2026-03-31" in march.text  # the downloads keep the period

    # Someone else's statement is not found, by page and by file.
    other = await world.principal(db, "target@institution.other.test")
    for path in (f"/statements/inventors/{other.user_id}", f"/statements/inventors/{other.user_id}/download?format=csv"):
        assert (await client.get(path)).status_code == 404
    assert (await client.get(f"/statements/inventors/{inventor.user_id}")).status_code == 200
    assert (await client.get(f"/statements/institutions/{world.orgs[INSTITUTION].id}")).status_code == 403


async def test_the_tto_manager_sees_the_distribution_and_compliance(client, db, world) -> None:
    inventor = await ledger_with_two_inventors(db, world)
    institution = world.orgs[INSTITUTION].id
    await login(client, world.emails[Role.tto_manager])
    landing = await client.get("/statements", follow_redirects=False)
    assert landing.headers["location"] == f"/statements/institutions/{institution}"
    page = await client.get(landing.headers["location"])
    assert page.status_code == 200, page.text
    html = page.text
    assert "<svg" in html and 'class="bar bar-inventors"' in html
    # inventors 70%, TTO 10%, IIT fund 5%, the institution 15% and the leftover fen.
    for shown in ("¥12,000.01", "¥8,400.00", "¥1,200.00", "¥600.00", "¥1,800.01", "70.0%"):
        assert shown in html, shown
    assert "¥5,300.00" in html and "¥2,100.00" in html  # payables outstanding, per inventor
    assert "符合全部下限" in html and "上海" in html
    assert f"/statements/inventors/{inventor.user_id}" in html
    theirs = await client.get(f"/statements/inventors/{inventor.user_id}")
    assert theirs.status_code == 200 and "¥6,300.00" in theirs.text
    assert (await client.get(f"/statements/institutions/{world.orgs['institution/other'].id}")).status_code == 404
    assert (await client.get("/statements/me")).status_code == 403


async def test_platform_roles_choose_an_institution(client, db, world) -> None:
    await login(client, world.emails[Role.platform_analyst])
    page = await client.get("/statements")
    assert page.status_code == 200
    assert f"/statements/institutions/{world.orgs[INSTITUTION].id}" in page.text


@pytest.mark.parametrize(
    ("fmt", "media"),
    [
        ("csv", "text/csv; charset=utf-8"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("pdf", "application/pdf"),
    ],
)
async def test_each_download_carries_the_exact_totals(client, db, world, fmt, media) -> None:
    await ledger_with_two_inventors(db, world)
    await login(client, world.emails[Role.inventor])
    answer = await client.get(f"/statements/me/download?format={fmt}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == media
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="statement-inventor-all.{fmt}"')
    assert unquote(disposition.split("filename*=UTF-8''")[1]).endswith(f"-statement-inventor-all.{fmt}")
    text = file_text(answer.content, fmt)
    # Accrued ¥6,300.00 in two incomes, paid ¥1,000.00, outstanding ¥5,300.00.
    for figure in ("6300.00", "5250.00", "1050.00", "1000.00", "5300.00"):
        assert figure in text.replace(",", ""), (figure, text)
    assert "HT-2026-002" in text and "转账-001" in text

    await login(client, world.emails[Role.tto_manager])
    institution = await client.get(f"/statements/institutions/{world.orgs[INSTITUTION].id}/download?format={fmt}")
    assert institution.status_code == 200 and institution.headers["content-type"] == media
    # An ASCII name for every client, the institution's own (Chinese) name for those that read filename*.
    full = unquote(institution.headers["content-disposition"].split("filename*=UTF-8''")[1])
    assert full == f"{world.orgs[INSTITUTION].name_zh}-statement-institution-all.{fmt}"
    text = file_text(institution.content, fmt).replace(",", "")
    for figure in ("12000.01", "8400.00", "1200.00", "600.00", "1800.01", "8600.00"):
        assert figure in text, (figure, text)


async def test_the_api_answers_the_same_files(client, db, world) -> None:
    inventor = await ledger_with_two_inventors(db, world)
    path = f"/api/v1/statements/inventors/{inventor.user_id}/download?format=csv&period_to=2026-04-30"
    answer = await client.get(path, headers=world.bearer(Role.inventor))
    assert answer.status_code == 200 and answer.headers["content-type"] == "text/csv; charset=utf-8"
    text = answer.content.decode("utf-8-sig")
    assert '"5250.00"' in text and "HT-2026-002" not in text
    assert (await client.get(path.replace("csv", "doc"), headers=world.bearer(Role.inventor))).status_code == 400
    other = world.orgs["institution/other"].id
    refused = await client.get(f"/api/v1/statements/institutions/{other}/download", headers=world.bearer(Role.tto_manager))
    assert refused.status_code == 404


async def test_a_reversal_shows_as_its_own_negative_line(client, db, world) -> None:
    boss = await world.principal(db, world.emails[Role.tto_manager])
    await seed_policy(db, boss)
    inventor = await world.principal(db, world.emails[Role.inventor])
    result = await seed_result(
        db, world.orgs[INSTITUTION].id, [{"name": "发明人", "share_bp": 10000, "user_id": str(inventor.user_id)}]
    )
    income = await record(db, boss, income_body(result.id, 100_000))
    ledger = LedgerService(db)
    await ledger.reverse(boss, (await ledger.income_entry(income.id)).id, "金额录入错误")
    await db.commit()
    await login(client, world.emails[Role.inventor])
    page = await client.get("/statements/me")
    assert "冲销" in page.text and "-¥700.00" in page.text
    assert amounts(page.text)[:3] == ["¥0.00", "¥0.00", "¥0.00"]
    text = (await client.get("/statements/me/download?format=csv")).content.decode("utf-8-sig")
    assert '"700.00"' in text and '"-700.00"' in text
