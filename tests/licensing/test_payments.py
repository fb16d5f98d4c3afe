"""Payments through the service: recorded once per Idempotency-Key (also by two requests at once),
never more than is owed nor on a pay-later licence before it converts (the service and the
database's trigger), and at once ledger income — split exactly over the agreement's results —
that reaches the inventors' statements."""

from __future__ import annotations

import asyncio
import uuid

import msgspec
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from marketplace.accounts.models import Role
from marketplace.db import china_today, make_sessionmaker
from marketplace.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from marketplace.ledger.models import Income
from marketplace.ledger.services import LedgerService
from marketplace.licensing.models import Payment
from marketplace.licensing.schemas import PaymentIn
from marketplace.licensing.services import LicensingService
from tests.licensing.factories import (
    in_force,
    licence_body,
    money_result,
    move,
    obligations,
    party,
    pay_later_body,
    record_payment,
)

YUAN = 100


def paid(obligation_id, amount: int = 100_001) -> dict:
    return {"obligation_id": str(obligation_id), "amount_fen": amount, "received_on": china_today().isoformat()}


async def licence_on_two_results(db, world):
    """A non-exclusive licence in force on two results (the first names our inventor): its upfront
    fee of ¥500,000 is due."""
    inventor = await world.principal(db, world.emails[Role.inventor])
    first = await money_result(db, world, inventors=[{"name": "发明人", "share_bp": 10_000, "user_id": str(inventor.user_id)}])
    second = await money_result(db, world)
    body = licence_body("non_exclusive", result_ids=[str(first.id), str(second.id)], instalments=[], milestones=[])
    agreement = await in_force(db, world, body)
    (upfront,) = await obligations(db, agreement.id)
    return agreement, upfront, first, second, inventor


async def incomes_of(db, payment_id) -> list[Income]:
    stmt = select(Income).where(Income.source_kind == "licensing_payment", Income.source_ref == str(payment_id))
    return list((await db.scalars(stmt.order_by(Income.amount.desc()))).all())


async def test_a_payment_becomes_income_per_result_and_reaches_the_inventors_statement(db, world) -> None:
    agreement, upfront, first, second, inventor = await licence_on_two_results(db, world)
    payment, new = await record_payment(db, world, agreement.id, paid(upfront.id))
    assert new and payment.amount_fen == 100_001

    incomes = await incomes_of(db, payment.id)
    assert [(income.result_id, income.amount, income.kind) for income in incomes] == [
        (first.id, 50_001, "licence"),  # the leftover fen to the first result
        (second.id, 50_000, "licence"),
    ]
    assert set(payment.income_ids) == {income.id for income in incomes}

    statement = await LedgerService(db).inventor_statement(inventor, inventor.user_id)
    (line,) = statement.lines
    assert line.result_id == first.id and line.accrued in (35_000, 35_001)  # Shanghai: 70% to the inventors

    (item,) = await obligations(db, agreement.id)
    assert item.paid_fen == 100_001 and item.state == "due"
    tto = await party(db, world, "institution")
    assert [found.id for found in await LicensingService(db).payments(tto, agreement.id)] == [payment.id]


async def test_the_same_key_answers_the_first_payment_and_another_body_is_a_conflict(db, world) -> None:
    agreement, upfront, *_ = await licence_on_two_results(db, world)
    agreement_id, upfront_id = agreement.id, upfront.id
    first, new = await record_payment(db, world, agreement.id, paid(upfront.id), key="key-1")
    again, new_again = await record_payment(db, world, agreement.id, paid(upfront.id), key="key-1")
    assert new and not new_again and again.id == first.id
    first_id = first.id
    with pytest.raises(Conflict) as other:
        await record_payment(db, world, agreement_id, paid(upfront_id, 5), key="key-1")
    assert [error.field for error in other.value.errors] == ["Idempotency-Key"]
    await db.rollback()
    tto = await party(db, world, "institution")
    with pytest.raises(DomainError) as missing:
        await LicensingService(db).record_payment(tto, agreement_id, msgspec.convert(paid(upfront_id), PaymentIn), None)
    assert missing.value.status_code == 400 and missing.value.errors[0].field == "Idempotency-Key"
    assert len(await incomes_of(db, first_id)) == 2
    assert list(await db.scalars(select(Payment.id).where(Payment.agreement_id == agreement_id))) == [first_id]


async def test_two_identical_requests_at_once_record_one_payment(db, world, engine) -> None:
    agreement, upfront, *_ = await licence_on_two_results(db, world)
    body = msgspec.convert(paid(upfront.id), PaymentIn)
    sessions = make_sessionmaker(engine)

    async def attempt():
        async with sessions() as session:
            tto = await party(session, world, "institution")
            payment, new = await LicensingService(session).record_payment(tto, agreement.id, body, "same-key")
            await session.commit()
            return payment.id, new

    answers = await asyncio.gather(attempt(), attempt())
    assert answers[0][0] == answers[1][0] and sorted(new for _, new in answers) == [False, True]
    payments = (await db.scalars(select(Payment).where(Payment.agreement_id == agreement.id))).all()
    assert len(payments) == 1 and len(await incomes_of(db, payments[0].id)) == 2
    (item,) = await obligations(db, agreement.id)
    assert item.paid_fen == 100_001


async def test_no_more_than_is_owed_and_the_last_fen_settles_the_item(db, world) -> None:
    agreement, upfront, *_ = await licence_on_two_results(db, world)
    agreement_id, upfront_id = agreement.id, upfront.id
    with pytest.raises(InvalidInput) as over:
        await record_payment(db, world, agreement_id, paid(upfront_id, 50_000_001))
    assert [error.field for error in over.value.errors] == ["amount_fen"]
    await db.rollback()
    await record_payment(db, world, agreement_id, paid(upfront_id, 49_000_000))
    await record_payment(db, world, agreement_id, paid(upfront_id, 1_000_000))
    (item,) = await obligations(db, agreement_id)
    assert item.state == "paid" and item.paid_fen == item.amount_fen and item.paid_on == china_today()
    with pytest.raises(Conflict):
        await record_payment(db, world, agreement_id, paid(upfront_id, 1))  # nothing is due any more
    await db.rollback()


async def test_who_records_a_payment(db, world) -> None:
    agreement, upfront, *_ = await licence_on_two_results(db, world)
    service = LicensingService(db)
    body = msgspec.convert(paid(upfront.id), PaymentIn)
    admin = await party(db, world, "company")
    with pytest.raises(Forbidden):
        await service.record_payment(admin, agreement.id, body, "k")
    other_tto = await party(db, world, "institution", "other")
    with pytest.raises(NotFound):
        await service.record_payment(other_tto, agreement.id, body, "k")


async def test_a_pay_later_licence_takes_no_payment_before_it_converts(db, world) -> None:
    result = await money_result(db, world)
    agreement = await in_force(db, world, pay_later_body(result_ids=[str(result.id)]))
    assert agreement.state == "in_use" and await obligations(db, agreement.id) == []
    other = await in_force(db, world, licence_body("non_exclusive", result_ids=[str(result.id)], instalments=[], milestones=[]))
    (foreign,) = await obligations(db, other.id)
    agreement_id, foreign_id = agreement.id, foreign.id

    # The service: nothing of the licence is due, so there is nothing to pay.
    with pytest.raises(InvalidInput) as refused:
        await record_payment(db, world, agreement_id, paid(foreign_id))
    assert [error.field for error in refused.value.errors] == ["obligation_id"]
    await db.rollback()
    # The database: no payment row for the licence, whatever item it names.
    with pytest.raises(DBAPIError, match="only for an item due on an agreement in force"):
        await db.execute(
            text(
                "INSERT INTO licensing_payments (id, agreement_id, obligation_id, amount_fen, received_on,"
                " idempotency_key, request_hash) VALUES (:id, :agreement, :obligation, 100, current_date, 'k', 'h')"
            ),
            {"id": uuid.uuid4(), "agreement": agreement_id, "obligation": foreign_id},
        )
    await db.rollback()

    # Converted, with the fee in one payment: now it is due and paid like any other.
    await move(db, world, agreement_id, "convert", Role.company_admin)
    await move(db, world, agreement_id, "choose_payment_mode", Role.company_admin, payment_mode="lump_sum")
    with pytest.raises(Conflict):  # once: a second choice would add a second schedule
        await move(db, world, agreement_id, "choose_payment_mode", Role.company_admin, payment_mode="deferred")
    await db.rollback()
    (fee,) = await obligations(db, agreement_id)
    payment, _ = await record_payment(db, world, agreement_id, paid(fee.id, fee.amount_fen))
    assert sum(income.amount for income in await incomes_of(db, payment.id)) == fee.amount_fen
    (fee,) = await obligations(db, agreement_id)
    assert fee.state == "paid"
