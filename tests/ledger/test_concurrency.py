"""The journal under concurrent requests against the real PostgreSQL: separate sessions, started
together (asyncio.gather), as two app processes would."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import msgspec
import pytest

from marketplace.accounts.models import Role
from marketplace.db import make_sessionmaker
from marketplace.errors import Conflict, DomainError, InvalidInput
from marketplace.ledger import schemas
from marketplace.ledger.services import LedgerService
from tests.ledger.factories import income_body, policy_body, record, seed_policy, seed_result


async def attempt(engine, action):
    """Run `action(service)` in its own session and transaction: its answer, or the refusal."""
    async with make_sessionmaker(engine)() as session:
        try:
            answer = await action(LedgerService(session))
            await session.commit()
            return answer
        except DomainError as refused:
            await session.rollback()
            return refused


async def clean(db) -> None:
    checked, differences = await LedgerService(db).reconcile()
    assert checked and not differences


@pytest.fixture
async def setup(db, world):
    boss = await world.principal(db, world.emails[Role.tto_manager])
    inventor = await world.principal(db, world.emails[Role.inventor])
    await seed_policy(db, boss)
    result = await seed_result(
        db, world.orgs["institution/own"].id, [{"name": "发明人", "share_bp": 10000, "user_id": str(inventor.user_id)}]
    )
    return boss, inventor, result


async def test_two_incomes_for_one_result_at_once_both_post(engine, db, setup) -> None:
    boss, inventor, result = setup
    bodies = [msgspec.convert(income_body(result.id, amount), schemas.IncomeCreate) for amount in (100_000, 300_001)]
    answers = await asyncio.gather(*(attempt(engine, lambda s, b=b: s.record_income(boss, b, uuid.uuid4().hex)) for b in bodies))
    assert not any(isinstance(a, DomainError) for a in answers)
    ledger = LedgerService(db)
    payable = await ledger.find_account(result.institution_id, "inventor_payable", user_id=inventor.user_id)
    assert payable is not None
    assert await ledger.balance(payable.id, "CNY") == 70_000 + 210_000
    await clean(db)


async def test_the_same_key_twice_at_once_records_once(engine, db, setup) -> None:
    boss, _inventor, result = setup
    body = msgspec.convert(income_body(result.id), schemas.IncomeCreate)
    answers = await asyncio.gather(*(attempt(engine, lambda s: s.record_income(boss, body, "same-key")) for _ in range(2)))
    assert answers[0].id == answers[1].id
    await clean(db)


async def test_income_while_its_policy_changes_uses_the_policy_that_stays(engine, db, setup) -> None:
    boss, _inventor, result = setup
    body = msgspec.convert(income_body(result.id, received_on="2026-06-01"), schemas.IncomeCreate)
    new = msgspec.convert(policy_body(effective_from="2026-06-01"), schemas.PolicyCreate)
    income, policy = await asyncio.gather(
        attempt(engine, lambda s: s.record_income(boss, body, "during-change")),
        attempt(engine, lambda s: s.policies.create(boss, new)),
    )
    assert not isinstance(income, DomainError)
    entry = await LedgerService(db).income_entry(income.id)
    in_force, _shares = await LedgerService(db).policies.in_force(result.institution_id, date(2026, 6, 1), "licence")
    if isinstance(policy, InvalidInput):
        # The income came first: the new version may not start on a day with income recorded.
        assert policy.errors[0].field == "effective_from" and in_force.version == 1
    else:
        assert in_force.id == policy.id
    assert entry.policy_id == in_force.id


async def test_two_payouts_racing_for_one_balance_the_loser_gets_a_conflict(engine, db, setup) -> None:
    boss, inventor, result = setup
    await record(db, boss, income_body(result.id, 100_000))  # the inventor is owed 70,000
    body = msgspec.convert(
        {"payee": "inventor", "user_id": str(inventor.user_id), "amount": 50_000, "paid_on": "2026-04-01", "reference": "付"},
        schemas.PayoutCreate,
    )
    answers = await asyncio.gather(*(attempt(engine, lambda s: s.pay(boss, body)) for _ in range(2)))
    refused = [a for a in answers if isinstance(a, DomainError)]
    assert len(refused) == 1 and isinstance(refused[0], Conflict)
    ledger = LedgerService(db)
    payable = await ledger.find_account(result.institution_id, "inventor_payable", user_id=inventor.user_id)
    assert payable is not None and await ledger.balance(payable.id, "CNY") == 20_000
    await clean(db)


async def test_payouts_race_over_http_the_loser_gets_409(client, db, world, setup) -> None:
    boss, inventor, result = setup
    await record(db, boss, income_body(result.id, 100_000))
    payout = {"payee": "inventor", "user_id": str(inventor.user_id), "amount": 40_000, "paid_on": "2026-04-01", "reference": "付"}
    answers = await asyncio.gather(
        *(client.post("/api/v1/payouts", json=payout, headers=world.bearer(Role.tto_manager)) for _ in range(2))
    )
    assert sorted(a.status_code for a in answers) == [201, 409]
    await clean(db)
