"""Policies against the floors, income split to the fen with an idempotency key, reversals,
payouts against their balances, and what PostgreSQL itself refuses."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from marketplace.accounts.models import Role
from marketplace.audit.models import AuditEvent
from marketplace.ledger.models import LedgerAccount, LedgerBalance
from marketplace.ledger.policies import jurisdictions_of
from marketplace.ledger.services import LedgerService
from tests.ledger.factories import BEIJING_SHARES, MANAGER_OTHER, income_body, pay, policy_body, record, seed_policy, seed_result
from tests.support.cli import run_cli


async def manager(db, world):
    return await world.principal(db, world.emails[Role.tto_manager])


def test_jurisdictions_come_from_the_city() -> None:
    assert jurisdictions_of("上海") == ["national", "shanghai"]
    assert jurisdictions_of("北京市") == ["national", "beijing"]
    assert jurisdictions_of("杭州") == ["national", "zhejiang", "hangzhou"]
    assert jurisdictions_of("宁波") == ["national", "zhejiang"]
    assert jurisdictions_of("广州") == ["national"]


async def test_a_policy_below_the_floor_is_refused_naming_the_rule_unless_excepted(client, db, world) -> None:
    low = [{"income_kind": "licence", "inventors_bp": 6000, "tto_bp": 1000, "iit_fund_bp": 1000, "institution_bp": 2000}]
    tto = world.bearer(Role.tto_manager)
    refused = await client.post("/api/v1/distribution-policies", json=policy_body(shares=low), headers=tto)
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["errors"]
    assert error["field"] == "shares[0].inventors_bp"
    assert "shanghai-licence-inventors" in error["message"] and "第三十四条" in error["message"]

    bad_sum = [{**low[0], "institution_bp": 1000}]
    summed = await client.post("/api/v1/distribution-policies", json=policy_body(shares=bad_sum), headers=tto)
    assert summed.status_code == 422 and summed.json()["errors"][0]["field"] == "shares[0]"

    institution = world.orgs["institution/own"].id
    exception = {"institution_id": str(institution), "floor_code": "shanghai-licence-inventors", "reason": "市科委批复同意试点"}
    assert (await client.post("/api/v1/distribution-policies/floor-exceptions", json=exception, headers=tto)).status_code == 403
    admin = world.bearer(Role.platform_admin)
    made = await client.post("/api/v1/distribution-policies/floor-exceptions", json=exception, headers=admin)
    assert made.status_code == 201, made.text
    again = await client.post("/api/v1/distribution-policies/floor-exceptions", json=exception, headers=admin)
    assert again.status_code == 409

    accepted = await client.post("/api/v1/distribution-policies", json=policy_body(shares=low), headers=tto)
    assert accepted.status_code == 201, accepted.text
    policy = accepted.json()
    assert policy["version"] == 1
    floor = next(f for f in policy["floors"] if f["code"] == "shanghai-licence-inventors")
    assert floor == {**floor, "met": False, "policy_bp": 6000, "exception_reason": "市科委批复同意试点"}
    listed = await client.get("/api/v1/distribution-policies", headers=tto)
    assert [p["id"] for p in listed.json()] == [policy["id"]]
    assert await db.scalar(select(func.count()).where(AuditEvent.action == "distribution_policy_created")) == 1


async def test_the_platform_admin_records_a_policy_for_an_institution_a_tto_manager_only_for_its_own(client, db, world) -> None:
    institution = world.orgs["institution/own"].id
    admin = world.bearer(Role.platform_admin)
    unnamed = await client.post("/api/v1/distribution-policies", json=policy_body(), headers=admin)
    assert unnamed.status_code == 422 and unnamed.json()["errors"][0]["field"] == "institution_id"
    company = await client.post(
        "/api/v1/distribution-policies",
        json=policy_body(institution_id=str(world.orgs["company/own"].id)),
        headers=admin,
    )
    assert company.status_code == 404
    made = await client.post("/api/v1/distribution-policies", json=policy_body(institution_id=str(institution)), headers=admin)
    assert made.status_code == 201, made.text
    assert made.json()["institution_id"] == str(institution) and made.json()["version"] == 1
    event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "distribution_policy_created"))
    assert event is not None and event.organization_id == institution
    assert event.actor_user_id == (await world.principal(db, world.emails[Role.platform_admin])).user_id

    tto = world.bearer(Role.tto_manager)
    other = str(world.orgs["institution/other"].id)
    elsewhere = await client.post("/api/v1/distribution-policies", json=policy_body(institution_id=other), headers=tto)
    assert elsewhere.status_code == 404
    own = await client.post("/api/v1/distribution-policies", json=policy_body(institution_id=str(institution)), headers=tto)
    assert own.status_code == 201 and own.json()["version"] == 2
    staff = await client.post(
        "/api/v1/distribution-policies", json=policy_body(institution_id=str(institution)), headers=world.bearer(Role.tto_staff)
    )
    assert staff.status_code == 403
    analyst = await client.post(
        "/api/v1/distribution-policies",
        json=policy_body(institution_id=str(institution)),
        headers=world.bearer(Role.platform_analyst),
    )
    assert analyst.status_code == 403


async def test_the_platform_admin_records_income_for_any_institutions_result(client, db, world) -> None:
    institution = world.orgs["institution/own"].id
    admin = world.bearer(Role.platform_admin)
    policy = await client.post("/api/v1/distribution-policies", json=policy_body(institution_id=str(institution)), headers=admin)
    assert policy.status_code == 201, policy.text
    result = await seed_result(db, institution)
    headers = {**admin, "Idempotency-Key": "admin-1"}
    made = await client.post("/api/v1/ledger/income", json=income_body(result.id), headers=headers)
    assert made.status_code == 201, made.text
    assert made.json()["institution_id"] == str(institution)
    missing = await client.post(
        "/api/v1/ledger/income", json=income_body(uuid.uuid4()), headers=headers | {"Idempotency-Key": "2"}
    )
    assert missing.status_code == 404
    analyst = {**world.bearer(Role.platform_analyst), "Idempotency-Key": "admin-3"}
    assert (await client.post("/api/v1/ledger/income", json=income_body(result.id), headers=analyst)).status_code == 403
    event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "ledger_income_recorded"))
    assert event is not None and event.organization_id == institution
    assert event.actor_user_id == (await world.principal(db, world.emails[Role.platform_admin])).user_id


async def test_income_is_split_to_the_fen_and_recorded_once_per_key(client, db, world) -> None:
    boss = await manager(db, world)
    await seed_policy(db, boss)
    result = await seed_result(db, world.orgs["institution/own"].id)
    body = income_body(result.id, 1_000_001, costs=[{"kind": "taxes_fees", "amount_fen": 10_000, "document": "发票 001"}])
    headers = {**world.bearer(Role.tto_staff), "Idempotency-Key": "payment-1"}
    first = await client.post("/api/v1/ledger/income", json=body, headers=headers)
    assert first.status_code == 201, first.text
    income = first.json()
    assert income["costs_deducted"] == 10_000 and income["net"] == 990_001
    parts = {(p["account_kind"], p["holder_name"]): p["amount"] for p in income["entry"]["postings"]}
    # 70% / 10% / 5% / 15% of 990,001 rounded down, the one leftover fen to the remainder share
    # (the institution); the team's 693,000 by 60/40.
    assert parts == {
        ("income_received", ""): -1_000_001,
        ("deductible_costs", ""): 10_000,
        ("tto", ""): 99_000,
        ("iit_fund", ""): 49_500,
        ("institution_retained", ""): 148_501,
        ("inventor_payable", "张晓华"): 415_800,
        ("inventor_payable", "李明"): 277_200,
    }
    assert sum(parts.values()) == 0

    again = await client.post("/api/v1/ledger/income", json=body, headers=headers)
    assert again.status_code == 201 and again.json() == income
    other = await client.post("/api/v1/ledger/income", json={**body, "amount": 5}, headers=headers)
    assert other.status_code == 409, other.text
    keyless = await client.post("/api/v1/ledger/income", json=body, headers=world.bearer(Role.tto_staff))
    assert keyless.status_code == 400 and keyless.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await db.scalar(select(func.count()).where(AuditEvent.action == "ledger_income_recorded")) == 1


async def test_costs_the_policy_does_not_deduct_and_income_without_a_policy_are_field_errors(client, db, world) -> None:
    boss = await manager(db, world)
    result = await seed_result(db, world.orgs["institution/own"].id)
    headers = {**world.bearer(Role.tto_manager), "Idempotency-Key": "k1"}
    none = await client.post("/api/v1/ledger/income", json=income_body(result.id), headers=headers)
    assert none.status_code == 422 and none.json()["errors"][0]["field"] == "received_on"
    await seed_policy(db, boss, deductible_costs=["taxes_fees"])
    cost = {"kind": "negotiation", "amount_fen": 100, "document": "发票"}
    refused = await client.post("/api/v1/ledger/income", json=income_body(result.id, costs=[cost]), headers=headers)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "costs[0].kind"
    too_much = {"kind": "taxes_fees", "amount_fen": 2_000_000, "document": "发票"}
    refused = await client.post("/api/v1/ledger/income", json=income_body(result.id, costs=[too_much]), headers=headers)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "costs"


async def test_an_entry_is_reversed_once_and_payouts_never_exceed_the_balance(client, db, world) -> None:
    boss = await manager(db, world)
    await seed_policy(db, boss)
    inventor = await world.principal(db, world.emails[Role.inventor])
    result = await seed_result(
        db, world.orgs["institution/own"].id, [{"name": "发明人", "share_bp": 10000, "user_id": str(inventor.user_id)}]
    )
    income = await record(db, boss, income_body(result.id, 100_000))
    ledger = LedgerService(db)
    payable = await ledger.find_account(income.institution_id, "inventor_payable", user_id=inventor.user_id)
    assert payable is not None and await ledger.balance(payable.id, "CNY") == 70_000
    payable_id = payable.id

    tto = world.bearer(Role.tto_manager)
    payout = {
        "payee": "inventor",
        "user_id": str(inventor.user_id),
        "amount": 70_001,
        "paid_on": "2026-04-01",
        "reference": "转账1",
    }
    assert (await client.post("/api/v1/payouts", json=payout, headers=tto)).status_code == 409
    paid = await client.post("/api/v1/payouts", json={**payout, "amount": 20_000}, headers=tto)
    assert paid.status_code == 201, paid.text
    mine = await client.get("/api/v1/payouts", headers=world.bearer(Role.inventor))
    assert [p["amount"] for p in mine.json()] == [20_000]

    entries = (await client.get("/api/v1/ledger/entries", headers=world.bearer(Role.inventor))).json()
    assert entries["total"] == 2
    income_entry = next(e for e in entries["items"] if e["kind"] == "income")
    # Paid out since: reversing the income would take the payable below zero.
    path = f"/api/v1/ledger/entries/{income_entry['id']}/reversal"
    assert (await client.post(path, json={"reason": "合同金额录错"}, headers=tto)).status_code == 409
    payout_entry = next(e for e in entries["items"] if e["kind"] == "payout")
    back = await client.post(f"/api/v1/ledger/entries/{payout_entry['id']}/reversal", json={"reason": "退票"}, headers=tto)
    assert back.status_code == 201, back.text
    assert back.json()["reverses_entry_id"] == payout_entry["id"]
    reversed_income = await client.post(path, json={"reason": "合同金额录错"}, headers=tto)
    assert reversed_income.status_code == 201, reversed_income.text
    assert (await client.post(path, json={"reason": "再来一次"}, headers=tto)).status_code == 409
    again = f"/api/v1/ledger/entries/{reversed_income.json()['id']}/reversal"
    assert (await client.post(again, json={"reason": "撤销冲销"}, headers=tto)).status_code == 409
    db.expire_all()
    assert await ledger.balance(payable_id, "CNY") == 0
    assert await db.scalar(select(func.count()).where(AuditEvent.action == "ledger_entry_reversed")) == 2


async def test_postgres_refuses_unbalanced_entries_and_any_change_to_the_journal(db, world) -> None:
    boss = await manager(db, world)
    await seed_policy(db, boss)
    result = await seed_result(db, world.orgs["institution/own"].id)
    income_id = (await record(db, boss, income_body(result.id))).id
    for statement in (
        "UPDATE ledger_postings SET amount = amount + 1",
        "DELETE FROM ledger_postings",
        "UPDATE ledger_entries SET reason = 'x'",
        "DELETE FROM ledger_entries",
    ):
        with pytest.raises(DBAPIError, match="never changed or deleted"):
            await db.execute(text(statement))
        await db.rollback()
    account = await db.scalar(select(LedgerAccount.id).where(LedgerAccount.kind == "tto"))
    entry = uuid.uuid4()
    await db.execute(
        text(
            "INSERT INTO ledger_entries (id, institution_id, kind, reverses_entry_id, reason) "
            "SELECT :id, institution_id, 'reversal', id, 'x' FROM ledger_entries WHERE income_id = :income"
        ),
        {"id": entry, "income": income_id},
    )
    await db.execute(
        text("INSERT INTO ledger_postings (entry_id, account_id, asset, amount) VALUES (:e, :a, 'CNY', 5)"),
        {"e": entry, "a": account},
    )
    with pytest.raises(DBAPIError, match="does not balance"):
        await db.commit()
    await db.rollback()
    with pytest.raises(DBAPIError, match="not_negative"):
        await db.execute(text("UPDATE ledger_balances SET balance = -1 WHERE kind = 'tto'"))
    await db.rollback()
    assert await db.scalar(select(func.count()).select_from(LedgerBalance)) == 6


async def test_another_institutions_records_are_not_found(client, db, world) -> None:
    await seed_policy(db, await world.principal(db, MANAGER_OTHER), shares=BEIJING_SHARES)
    result = await seed_result(db, world.orgs["institution/other"].id)
    headers = {**world.bearer(Role.tto_manager), "Idempotency-Key": "k"}
    assert (await client.post("/api/v1/ledger/income", json=income_body(result.id), headers=headers)).status_code == 404


async def test_reconcile_exits_1_when_a_kept_balance_differs_from_the_postings(db, world, settings, tmp_path) -> None:
    boss = await manager(db, world)
    await seed_policy(db, boss)
    result = await seed_result(db, world.orgs["institution/own"].id)
    await record(db, boss, income_body(result.id))
    code, output = await run_cli(settings, "reconcile_", tmp_path, "ledger", "reconcile")
    assert code == 0, output
    assert "6 balance(s) recomputed" in output and "Every balance matches" in output
    await db.execute(text("UPDATE ledger_balances SET balance = balance + 1 WHERE kind = 'tto'"))
    await db.commit()
    code, output = await run_cli(settings, "reconcile_", tmp_path, "ledger", "reconcile")
    assert code == 1 and "kept 100001, from the postings 100000" in output, output


async def test_statements_show_accrued_paid_outstanding_and_compliance(client, db, world) -> None:
    boss = await manager(db, world)
    await seed_policy(db, boss)
    inventor = await world.principal(db, world.emails[Role.inventor])
    people = [{"name": "发明人", "share_bp": 7500, "user_id": str(inventor.user_id)}, {"name": "外院合作者", "share_bp": 2500}]
    result = await seed_result(db, world.orgs["institution/own"].id, people)
    await record(db, boss, income_body(result.id, 1_000_000, received_on="2026-03-01"))
    await record(db, boss, income_body(result.id, 200_000, received_on="2026-05-01"))
    await pay(db, boss, user_id=str(inventor.user_id), amount=100_000, paid_on="2026-05-02")

    path = f"/api/v1/statements/inventors/{inventor.user_id}"
    mine = await client.get(path, headers=world.bearer(Role.inventor))
    assert mine.status_code == 200, mine.text
    statement = mine.json()
    # 70% of 1,200,000 to the team, 75% of that to this inventor.
    assert statement["totals"] == [{"asset": "CNY", "accrued": 630_000, "paid": 100_000, "outstanding": 530_000}]
    assert [line["accrued"] for line in statement["lines"]] == [630_000]
    assert statement["lines"][0]["result_title"] == "基于外泌体的早期肝癌检测方法"
    march = await client.get(f"{path}?period_from=2026-03-01&period_to=2026-03-31", headers=world.bearer(Role.inventor))
    assert march.json()["totals"] == [{"asset": "CNY", "accrued": 525_000, "paid": 0, "outstanding": 525_000}]
    assert (await client.get(path, headers=world.bearer(Role.tto_staff))).status_code == 403

    institution = world.orgs["institution/own"].id
    found = await client.get(f"/api/v1/statements/institutions/{institution}", headers=world.bearer(Role.tto_manager))
    assert found.status_code == 200, found.text
    body = found.json()
    categories = {c["category"]: c["amount"] for c in body["categories"]}
    assert categories == {
        "income_received": 1_200_000,
        "inventor_payable": 840_000,
        "tto": 120_000,
        "iit_fund": 60_000,
        "institution_retained": 180_000,
    }
    owed = {(p["kind"], p["holder_name"]): p["outstanding"] for p in body["payables"]}
    assert owed == {("inventor_payable", "发明人"): 530_000, ("inventor_payable", "外院合作者"): 210_000, ("tto", ""): 120_000}
    assert [p["met"] for p in body["policies"]] == [True]


async def test_a_granted_result_pays_the_researchers_part_and_no_reward_share(client, db, world) -> None:
    boss = await manager(db, world)
    await seed_policy(db, boss)
    result = await seed_result(db, world.orgs["institution/own"].id, ownership_model="researchers_ownership")
    tto = world.bearer(Role.tto_manager)
    override = {"result_id": str(result.id), "researchers_bp": 4000, "agreement_ref": "赋权协议 2026-01"}
    assert (await client.post("/api/v1/distribution-policies/overrides", json=override, headers=tto)).status_code == 201
    owned = await seed_result(db, world.orgs["institution/own"].id, ownership_model="institution")
    refused = await client.post(
        "/api/v1/distribution-policies/overrides", json={**override, "result_id": str(owned.id)}, headers=tto
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "result_id"

    answer = await client.post(
        "/api/v1/ledger/income", json=income_body(result.id, 100_000), headers={**tto, "Idempotency-Key": "g"}
    )
    assert answer.status_code == 201, answer.text
    parts = {(p["account_kind"], p["holder_name"]): p["amount"] for p in answer.json()["entry"]["postings"]}
    # The researchers own 40%: 40,000 by their 60/40 shares; the institution's 60,000 split by the
    # policy with the inventors' 70% going to the institution: TTO 10%, IIT fund 5%, institution 85%.
    assert parts == {
        ("income_received", ""): -100_000,
        ("inventor_payable", "张晓华"): 24_000,
        ("inventor_payable", "李明"): 16_000,
        ("tto", ""): 6_000,
        ("iit_fund", ""): 3_000,
        ("institution_retained", ""): 51_000,
    }


async def test_equity_income_is_split_in_share_units_and_patent_costs_by_percentage(client, db, world) -> None:
    boss = await manager(db, world)
    await seed_policy(db, boss, patent_cost_recovery="percentage", patent_cost_recovery_bp=1000)
    result = await seed_result(db, world.orgs["institution/own"].id)
    tto = world.bearer(Role.tto_manager)
    equity = income_body(result.id, 1_000_001, kind="equity", company="某生物科技有限公司")
    answer = await client.post("/api/v1/ledger/income", json=equity, headers={**tto, "Idempotency-Key": "e"})
    assert answer.status_code == 201, answer.text
    postings = answer.json()["entry"]["postings"]
    assert {p["asset"] for p in postings} == {"SHARES:某生物科技有限公司"}
    assert sum(p["amount"] for p in postings) == 0
    no_company = await client.post(
        "/api/v1/ledger/income", json=income_body(result.id, kind="equity"), headers={**tto, "Idempotency-Key": "e2"}
    )
    assert no_company.status_code == 422 and no_company.json()["errors"][0]["field"] == "company"

    patents = [{"kind": "ip_maintenance", "amount_fen": 50_000, "document": "年费发票"}]
    licence = await client.post(
        "/api/v1/ledger/income", json=income_body(result.id, 100_000, costs=patents), headers={**tto, "Idempotency-Key": "l"}
    )
    # At most 10% of this payment recovers patent costs.
    assert licence.json()["costs_deducted"] == 10_000 and licence.json()["net"] == 90_000


async def test_an_inventor_without_an_account_is_paid_by_name_and_a_new_version_cannot_rewrite_recorded_income(
    client, db, world
) -> None:
    boss = await manager(db, world)
    await seed_policy(db, boss)
    result = await seed_result(db, world.orgs["institution/own"].id)
    await record(db, boss, income_body(result.id, 100_000, received_on="2026-03-01"))
    tto = world.bearer(Role.tto_manager)
    payout = {"payee": "inventor", "inventor_name": "李明", "amount": 28_000, "paid_on": "2026-04-01", "reference": "转账"}
    assert (await client.post("/api/v1/payouts", json=payout, headers=tto)).status_code == 201
    to_tto = {"payee": "tto", "amount": 10_000, "paid_on": "2026-04-01", "reference": "绩效"}
    assert (await client.post("/api/v1/payouts", json=to_tto, headers=tto)).status_code == 201
    assert (await client.post("/api/v1/payouts", json={**to_tto, "amount": 1}, headers=tto)).status_code == 409

    earlier = await client.post("/api/v1/distribution-policies", json=policy_body(effective_from="2026-03-01"), headers=tto)
    assert earlier.status_code == 422 and earlier.json()["errors"][0]["field"] == "effective_from"
    later = await client.post("/api/v1/distribution-policies", json=policy_body(effective_from="2026-03-02"), headers=tto)
    assert later.status_code == 201 and later.json()["version"] == 2
