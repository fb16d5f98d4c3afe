"""Agreements through the pages: the TTO's list by next due day and the company's licences, the
draft form (from an agreed match or a deal made elsewhere) with its errors beside the fields and
money typed in yuan kept to the fen, and an agreement's terms, schedule, document and steps for
each side."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select, update

from marketplace.accounts.models import Role
from marketplace.db import china_today
from marketplace.licensing.models import Agreement, Obligation
from tests.licensing.factories import (
    agreed_match,
    draft,
    licence_body,
    matrix_form,
    move,
    obligations,
    pay_later_body,
    published_result,
    signed,
)
from tests.support.web import error_of, login, post_form


async def count(db) -> int:
    return int(await db.scalar(select(func.count()).select_from(Agreement)) or 0)


def pay_later_form(**changes) -> dict:
    form = {
        "kind": "pay_later",
        "territory": "中国大陆",
        "field_of_use": "体外诊断试剂",
        "starts_on": china_today().isoformat(),
        "term_months": "60",
        "use_period_months": "12",
        "licence_fee": "300,000.01",
        "royalty": "2.75",
        "payment_modes": ["lump_sum", "revenue_share"],
        "default_liability": "逾期付款按日万分之五支付违约金。",
        "guarantor": "tto",
    }
    form.update(changes)
    return form


async def test_the_tto_drafts_from_an_agreed_match_on_the_form(client, db, world) -> None:
    result = await published_result(db, world)
    match = await agreed_match(db, world, result.id)
    await login(client, world.emails[Role.tto_staff])
    request_page = (await client.get(f"/match-requests/{match.id}")).text
    assert f"/agreements/new?match_request_id={match.id}" in request_page and "起草许可协议" in request_page

    form_page = await client.get(f"/agreements/new?match_request_id={match.id}")
    assert form_page.status_code == 200 and "本企业" in form_page.text and result.title_zh in form_page.text
    assert f'name="match_request_id" value="{match.id}"' in form_page.text

    # Every problem at once, beside its field, and nothing written.
    wrong = await post_form(
        client,
        "/agreements",
        pay_later_form(match_request_id=str(match.id), licence_fee="12.345", royalty="101", use_period_months="", upfront="5"),
    )
    assert wrong.status_code == 422 and await count(db) == 0
    assert "金额" in error_of(wrong.text, "licence_fee") and error_of(wrong.text, "royalty")
    assert "aria-invalid" in wrong.text and "请修改标出的字段" in wrong.text
    wrong = await post_form(
        client, "/agreements", pay_later_form(match_request_id=str(match.id), upfront="5", use_period_months="")
    )
    assert wrong.status_code == 422 and await count(db) == 0
    assert "零门槛" in error_of(wrong.text, "upfront") and error_of(wrong.text, "use_period_months")
    assert 'value="体外诊断试剂"' in wrong.text  # what was typed stays

    sent = await post_form(client, "/agreements", pay_later_form(match_request_id=str(match.id)))
    assert sent.status_code == 302, sent.text
    agreement = await db.scalar(select(Agreement))
    assert sent.headers["location"] == f"/agreements/{agreement.id}"
    assert (agreement.licence_fee_fen, agreement.royalty_bp, agreement.company_id) == (
        30_000_001,
        275,
        world.orgs["company/own"].id,
    )
    assert agreement.payment_modes == ["lump_sum", "revenue_share"] and agreement.guarantor == "tto"
    again = await post_form(client, "/agreements", pay_later_form(match_request_id=str(match.id)))
    assert again.status_code == 302 and again.headers["location"] == f"/agreements/{agreement.id}"  # a double submit

    page = (await client.get(f"/agreements/{agreement.id}")).text
    for shown in ("先使用后付费", "¥300,000.01", "2.75%", "草稿", "技术转移机构（三方协议）", "起草协议", "修改草稿"):
        assert shown in page, shown


async def test_a_deal_made_elsewhere_with_milestones_and_instalments_and_its_edit(client, db, world) -> None:
    result = await published_result(db, world)
    world.scratch["result"] = result.id
    await login(client, world.emails[Role.tto_manager])
    form = {
        **matrix_form(world, Role.tto_manager, "own"),
        "milestone_event_1": "产品获得注册证",
        "milestone_amount_1": "1,000",
        "milestone_days_1": "30",
        "instalment_due_on_0": (china_today() + timedelta(days=400)).isoformat(),
        "instalment_amount_0": "abc",
    }
    wrong = await post_form(client, "/agreements", form)
    assert wrong.status_code == 422 and error_of(wrong.text, "instalment_amount_0")
    form["instalment_amount_0"] = "20,000.5"
    form["instalment_due_on_1"] = "2099-01-01"  # beyond the term
    form["instalment_amount_1"] = "1"
    wrong = await post_form(client, "/agreements", form)
    assert wrong.status_code == 422 and "期限" in error_of(wrong.text, "instalment_due_on_1")
    del form["instalment_due_on_1"], form["instalment_amount_1"]
    sent = await post_form(client, "/agreements", form)
    assert sent.status_code == 302, sent.text
    agreement = await db.scalar(select(Agreement))
    items = await obligations(db, agreement.id)
    assert [(item.kind, item.amount_fen) for item in items] == [
        ("upfront", 50_000_000),
        ("instalment", 2_000_050),
        ("milestone", 100_000),
    ]

    edit = await client.get(f"/agreements/{agreement.id}/edit")
    assert edit.status_code == 200 and 'value="500,000.00"' in edit.text and 'value="产品获得注册证"' in edit.text
    changed = await post_form(client, f"/agreements/{agreement.id}", {**form, "upfront": "", "royalty": "4"})
    assert changed.status_code == 302
    await db.refresh(agreement)
    assert agreement.upfront_fen == 0 and agreement.royalty_bp == 400
    await move(db, world, agreement.id, "approve", Role.tto_manager)
    assert (await client.get(f"/agreements/{agreement.id}/edit")).status_code == 409  # approved: return it to draft first


async def test_each_side_sees_its_steps_and_the_list_by_next_due_day(client, db, world) -> None:
    company = str(world.orgs["company/own"].id)
    result = await published_result(db, world)
    second = await published_result(db, world)
    licence = await draft(db, world, licence_body("non_exclusive", company_id=company, result_ids=[str(result.id)]))
    pay_later = await draft(db, world, pay_later_body(company_id=company, result_ids=[str(second.id)]))
    await signed(db, world, licence.id)
    await move(db, world, pay_later.id, "approve", Role.tto_manager)
    late = china_today() - timedelta(days=40)
    await db.execute(
        update(Obligation).where(Obligation.agreement_id == licence.id, Obligation.kind == "upfront").values(due_on=late)
    )
    await db.commit()

    await login(client, world.emails[Role.tto_manager])
    listed = (await client.get("/agreements")).text
    assert "许可协议" in listed and "起草许可协议" in listed
    assert listed.index(f"/agreements/{licence.id}") < listed.index(f"/agreements/{pay_later.id}")
    assert "已违约" in listed and "首付款" in listed and "¥500,000.00" in listed
    assert f"/agreements/{pay_later.id}" not in (await client.get("/agreements?state=active")).text
    assert f"/agreements/{licence.id}" not in (await client.get("/agreements?kind=pay_later")).text

    page = (await client.get(f"/agreements/{licence.id}")).text
    for shown in ("首付款", "第 1/2 期", "产品获得医疗器械注册证", "已违约", "下载协议", "终止协议", "已生效"):
        assert shown in page, shown
    sha = re.search(r"<code>([0-9a-f]{64})</code>", page)
    assert sha and sha.group(1) == licence.document_sha256

    await login(client, world.emails[Role.company_admin])
    mine = (await client.get("/agreements")).text
    assert "我的许可" in mine and "起草许可协议" not in mine
    page = (await client.get(f"/agreements/{pay_later.id}")).text
    assert 'name="document_sha256"' in page and 'value="sign"' in page and 'value="approve"' not in page
    # Signing names the document shown; an old one is refused beside the form.
    stale = await post_form(client, f"/agreements/{pay_later.id}/transitions", {"action": "sign", "document_sha256": "0" * 64})
    assert stale.status_code == 422 and "当前的协议文本" in stale.text
    exit_without_reason = await post_form(client, f"/agreements/{licence.id}/transitions", {"action": "cancel"})
    assert exit_without_reason.status_code in (409, 422)
    document = await client.get(f"/agreements/{pay_later.id}/document")
    assert document.status_code == 200 and document.headers["content-type"] == "application/pdf"

    await login(client, world.emails[Role.platform_analyst])
    page = (await client.get(f"/agreements/{pay_later.id}")).text
    assert "您可以查看本协议" in page and 'value="sign"' not in page
    for role in (Role.company_member, Role.inventor):
        await login(client, world.emails[role])
        assert (await client.get("/agreements")).status_code == 403
        assert (await client.get(f"/agreements/{licence.id}")).status_code == 404
