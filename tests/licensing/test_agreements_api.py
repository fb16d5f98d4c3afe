"""/api/v1/agreements: a pay-later licence drafted from an agreed match and taken through its
steps in JSON, the shapes the API answers (names, schedule labels, what is due next), the list by
next due day, the document with its SHA-256, and the refusals: 404 outside the caller's scope,
field errors for bad terms."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import update

from marketplace.accounts.models import Role
from marketplace.db import china_today
from marketplace.licensing.models import Obligation
from tests.licensing.factories import agreed_match, draft, licence_body, pay_later_body, published_result, signed


async def test_a_pay_later_licence_in_json_from_draft_to_its_schedule(client, db, world) -> None:
    result = await published_result(db, world)
    match = await agreed_match(db, world, result.id)
    tto, manager, company = (world.bearer(role) for role in (Role.tto_staff, Role.tto_manager, Role.company_admin))

    created = await client.post("/api/v1/agreements", json=pay_later_body(match_request_id=str(match.id)), headers=tto)
    assert created.status_code == 201, created.text
    body = created.json()
    agreement_id = body["id"]
    assert body["company_name"] == "本企业" and body["institution_name"] == "本院"
    assert body["results"] == [{"id": str(result.id), "title": result.title_zh}]
    assert body["state"] == "draft" and body["state_label"] == "草稿" and body["obligations"] == []
    assert body["licence_fee_fen"] == 30_000_000 and body["next_due"] is None
    assert body["actions"] == ["cancel"]  # staff drafts; the manager approves

    changed = await client.patch(
        f"/api/v1/agreements/{agreement_id}", json={**pay_later_body(use_period_months=24), "kind": None}, headers=tto
    )
    assert changed.status_code == 400  # the terms have no kind: it is set when drafted
    terms = {k: v for k, v in pay_later_body(use_period_months=24).items() if k != "kind"}
    changed = await client.patch(f"/api/v1/agreements/{agreement_id}", json=terms, headers=tto)
    assert changed.status_code == 200 and changed.json()["use_period_months"] == 24

    approved = await client.post(f"/api/v1/agreements/{agreement_id}/transitions", json={"action": "approve"}, headers=manager)
    assert approved.status_code == 200, approved.text
    sha = approved.json()["document_sha256"]
    document = await client.get(f"/api/v1/agreements/{agreement_id}/document", headers=company)
    assert document.status_code == 200 and document.headers["content-type"] == "application/pdf"
    assert document.headers["x-document-sha256"] == sha == hashlib.sha256(document.content).hexdigest()
    assert (
        "attachment" in document.headers["content-disposition"] and "filename*=UTF-8''" in document.headers["content-disposition"]
    )

    for headers in (manager, company):
        signed_now = await client.post(
            f"/api/v1/agreements/{agreement_id}/transitions", json={"action": "sign", "document_sha256": sha}, headers=headers
        )
        assert signed_now.status_code == 200, signed_now.text
    in_use = signed_now.json()
    assert in_use["state"] == "in_use" and in_use["next_due"]["kind"] == "use_period_end"
    assert in_use["next_due"]["due_on"] == in_use["use_ends_on"] and in_use["next_due"]["label"] == "使用期届满"

    await client.post(f"/api/v1/agreements/{agreement_id}/transitions", json={"action": "convert"}, headers=company)
    chosen = await client.post(
        f"/api/v1/agreements/{agreement_id}/transitions",
        json={"action": "choose_payment_mode", "payment_mode": "instalments", "instalments": 3},
        headers=company,
    )
    assert chosen.status_code == 200, chosen.text
    items = chosen.json()["obligations"]
    assert [item["label"] for item in items] == ["第 1/3 期", "第 2/3 期", "第 3/3 期"]
    assert [item["amount_fen"] for item in items] == [10_000_000] * 3 and {item["state_label"] for item in items} == {"待付"}
    assert chosen.json()["next_due"] == {
        "kind": "obligation",
        "due_on": items[0]["due_on"],
        "label": "第 1/3 期",
        "amount_fen": 10_000_000,
    }


async def test_the_list_puts_the_nearest_due_first_and_flags_lateness_and_default(client, db, world) -> None:
    company = str(world.orgs["company/own"].id)
    first = await published_result(db, world)
    second = await published_result(db, world)
    later = await draft(
        db, world, licence_body("non_exclusive", company_id=company, result_ids=[str(first.id)], territory="美国")
    )
    sooner = await draft(db, world, licence_body("non_exclusive", company_id=company, result_ids=[str(second.id)]))
    for agreement in (later, sooner):
        await signed(db, world, agreement.id)
    today = china_today()
    # The sooner one's upfront fee fell due 40 days ago (past the 30 days' grace); the other's yesterday.
    await db.execute(
        update(Obligation)
        .where(Obligation.agreement_id == sooner.id, Obligation.kind == "upfront")
        .values(due_on=today - timedelta(days=40))
    )
    await db.execute(
        update(Obligation)
        .where(Obligation.agreement_id == later.id, Obligation.kind == "upfront")
        .values(due_on=today - timedelta(days=1))
    )
    await db.commit()

    page = (await client.get("/api/v1/agreements", headers=world.bearer(Role.tto_manager))).json()
    assert [item["id"] for item in page["items"]] == [str(sooner.id), str(later.id)] and page["total"] == 2
    assert [(item["late"], item["in_default"]) for item in page["items"]] == [(True, True), (True, False)]
    assert page["items"][0]["next_due"]["label"] == "首付款" and page["items"][0]["next_due"]["amount_fen"] == 50_000_000

    mine = (
        await client.get("/api/v1/agreements?state=active&kind=non_exclusive", headers=world.bearer(Role.company_admin))
    ).json()
    assert mine["total"] == 2
    assert (await client.get("/api/v1/agreements?kind=exclusive", headers=world.bearer(Role.company_admin))).json()["total"] == 0
    other = await client.get("/api/v1/agreements", headers=world.bearer(Role.company_member))
    assert other.status_code == 403  # licences are the company administrator's

    detail = (await client.get(f"/api/v1/agreements/{sooner.id}", headers=world.bearer(Role.tto_staff))).json()
    assert detail["in_default"] is True
    labels = [(item["label"], item["late"], item["in_default"]) for item in detail["obligations"]]
    assert labels[0] == ("首付款", True, True) and ("产品获得医疗器械注册证", False, False) in labels


async def test_out_of_scope_is_404_and_bad_terms_are_field_errors(client, db, world) -> None:
    result = await published_result(db, world)
    agreement = await draft(db, world, licence_body(company_id=str(world.orgs["company/own"].id), result_ids=[str(result.id)]))
    await draft_approved(client, world, agreement.id)
    for role in (Role.company_member, Role.inventor):
        for path in (f"/api/v1/agreements/{agreement.id}", f"/api/v1/agreements/{agreement.id}/document"):
            assert (await client.get(path, headers=world.bearer(role))).status_code == 404
    wrong = await client.post(
        "/api/v1/agreements",
        json=pay_later_body(
            company_id=str(world.orgs["company/own"].id), result_ids=[str(result.id)], upfront_fen=100, starts_on="2999-01-01"
        ),
        headers=world.bearer(Role.tto_staff),
    )
    assert wrong.status_code == 422 and [e["field"] for e in wrong.json()["errors"]] == ["starts_on"]
    wrong = await client.post(
        "/api/v1/agreements",
        json=pay_later_body(
            company_id=str(world.orgs["company/own"].id), result_ids=[str(result.id)], upfront_fen=100, royalty_bp=-1
        ),
        headers=world.bearer(Role.tto_staff),
    )
    assert wrong.status_code == 400 and [e["field"] for e in wrong.json()["errors"]] == ["royalty_bp"]
    wrong = await client.post(
        "/api/v1/agreements",
        json=pay_later_body(company_id=str(world.orgs["company/own"].id), result_ids=[str(result.id)], upfront_fen=100),
        headers=world.bearer(Role.tto_staff),
    )
    assert wrong.status_code == 422 and "upfront_fen" in {e["field"] for e in wrong.json()["errors"]}
    draft_document = await client.get(
        f"/api/v1/agreements/{(await draft(db, world, licence_body(company_id=str(world.orgs['company/own'].id), result_ids=[str(result.id)], territory='美国'))).id}/document",
        headers=world.bearer(Role.tto_staff),
    )
    assert draft_document.status_code == 404  # no document before approval


async def draft_approved(client, world, agreement_id) -> None:
    moved = await client.post(
        f"/api/v1/agreements/{agreement_id}/transitions", json={"action": "approve"}, headers=world.bearer(Role.tto_manager)
    )
    assert moved.status_code == 200, moved.text
