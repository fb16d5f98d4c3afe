"""Fees (issue 13, point 7): money received for a bed allocation's or trial engagement's agreed fee
becomes clinical-trial service income in the ledger, received for the ward's or trial site's
listing, so the IIT fund's share applies; idempotent as every income, never above the fee."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.db import china_today
from marketplace.ledger.models import AccountKind, Entry, Income, LedgerAccount, Posting
from tests.beds.factories import approved_allocation, engagement_row, seed_ward
from tests.ledger.factories import ready_institutions


def pay(amount: int) -> dict:
    return {"amount_fen": amount, "received_on": china_today().isoformat()}


async def iit_fund_part(db, income_id) -> int:
    stmt = (
        select(Posting.amount)
        .join(Entry, Entry.id == Posting.entry_id)
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(Entry.income_id == income_id, LedgerAccount.kind == AccountKind.iit_fund)
    )
    return int(await db.scalar(stmt) or 0)


async def test_an_allocation_fee_becomes_clinical_service_income_once(client, db, world) -> None:
    await ready_institutions(db, world)
    allocation = await approved_allocation(db, world, fee_fen=100_000)
    url = f"/api/v1/bed-allocations/{allocation.id}/payments"
    headers = {**world.bearer(Role.tto_manager), "Idempotency-Key": "fee-1"}

    first = await client.post(url, json=pay(60_000), headers=headers)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["kind"] == "allocation" and body["fee_fen"] == 100_000 and body["received_fen"] == 60_000
    income = await db.get(Income, uuid.UUID(body["income_id"]))
    assert income is not None
    assert (income.kind, income.source_kind, income.source_ref) == ("clinical_service", "bed_allocation", str(allocation.id))
    ward_listing = await db.scalar(select(Income.result_id).where(Income.id == income.id))
    assert ward_listing is not None
    assert await iit_fund_part(db, income.id) == 6_000  # the Shanghai policy: 10% to the IIT fund

    again = await client.post(url, json=pay(60_000), headers=headers)
    assert again.status_code == 200 and again.json()["income_id"] == body["income_id"]
    other_body = await client.post(url, json=pay(50_000), headers=headers)
    assert other_body.status_code == 409
    over = await client.post(url, json=pay(40_001), headers={**headers, "Idempotency-Key": "fee-2"})
    assert over.status_code == 422 and over.json()["errors"][0]["field"] == "amount_fen"
    rest = await client.post(url, json=pay(40_000), headers={**headers, "Idempotency-Key": "fee-2"})
    assert rest.status_code == 201 and rest.json()["received_fen"] == 100_000
    missing_key = await client.post(url, json=pay(1), headers=world.bearer(Role.tto_manager))
    assert missing_key.status_code == 400 and missing_key.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_an_engagement_fee_goes_to_its_trial_site(client, db, world) -> None:
    await ready_institutions(db, world)
    engagement = await engagement_row(db, world, fee_fen=500_000)
    response = await client.post(
        f"/api/v1/trial-engagements/{engagement.id}/payments",
        json=pay(500_000),
        headers={**world.bearer(Role.tto_manager), "Idempotency-Key": "e-1"},
    )
    assert response.status_code == 201, response.text
    income = await db.get(Income, uuid.UUID(response.json()["income_id"]))
    assert income is not None and income.result_id == engagement.listing_id and income.source_kind == "trial_engagement"
    assert await iit_fund_part(db, income.id) == 50_000

    without_site = await engagement_row(db, world, listing=False)
    refused = await client.post(
        f"/api/v1/trial-engagements/{without_site.id}/payments",
        json=pay(100),
        headers={**world.bearer(Role.tto_manager), "Idempotency-Key": "e-2"},
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "engagement_id"


async def test_fees_only_for_agreed_beds_and_only_by_their_tto(client, db, world) -> None:
    from tests.beds.factories import allocation_row

    await ready_institutions(db, world)
    ward = await seed_ward(db, world)
    requested = allocation_row(ward, world.orgs["company/own"].id, 1, china_today(), china_today())
    requested.fee_fen = 1_000
    db.add(requested)
    await db.commit()
    headers = {**world.bearer(Role.tto_manager), "Idempotency-Key": "r-1"}
    response = await client.post(f"/api/v1/bed-allocations/{requested.id}/payments", json=pay(100), headers=headers)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "allocation_id"

    others = await approved_allocation(db, world, relation="other")
    response = await client.post(f"/api/v1/bed-allocations/{others.id}/payments", json=pay(100), headers=headers)
    assert response.status_code == 404
    company = await client.post(
        f"/api/v1/bed-allocations/{requested.id}/payments",
        json=pay(100),
        headers={**world.bearer(Role.company_admin), "Idempotency-Key": "x"},
    )
    assert company.status_code == 403
