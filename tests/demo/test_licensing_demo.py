"""The demo's licences (marketplace/demo/data/licensing.yaml): every kind and every state, the
pay-later licences the issue names (in use, converted, exited, in default), an open licence taken
twice, and payments that reached the ledger and the demo inventor's statement."""

from __future__ import annotations

from sqlalchemy import func, select

from marketplace.accounts.services import AccountService
from marketplace.db import china_today
from marketplace.demo import load_demo_data
from marketplace.ledger.models import Income
from marketplace.ledger.services import LedgerService
from marketplace.licensing.models import Agreement, Kind, Obligation, OpenLicence, Payment, State
from marketplace.licensing.standing import in_default


async def test_the_demo_licences_cover_every_kind_and_state_and_their_payments_reach_the_ledger(client, db) -> None:
    assert await load_demo_data(db) is True
    await db.commit()
    agreements = list((await db.scalars(select(Agreement))).all())
    assert {a.kind for a in agreements} == set(Kind)
    assert {a.state for a in agreements} == set(State)
    pay_later = {a.state for a in agreements if a.kind == Kind.pay_later}
    assert {State.in_use, State.converted, State.exited} <= pay_later

    today = china_today()
    by_id = {a.id: a for a in agreements}
    obligations = list((await db.scalars(select(Obligation))).all())
    defaulted = {o.agreement_id for o in obligations if in_default(o, by_id[o.agreement_id], today)}
    assert any(by_id[i].kind == Kind.pay_later for i in defaulted)

    takers = await db.scalar(select(func.count(Agreement.id)).join(OpenLicence, OpenLicence.id == Agreement.open_licence_id))
    assert takers == 2

    payments = list((await db.scalars(select(Payment))).all())
    assert len(payments) >= 3
    for payment in payments:
        incomes = list((await db.scalars(select(Income).where(Income.source_ref == str(payment.id)))).all())
        assert incomes and sum(i.amount for i in incomes) == payment.amount_fen
        assert {i.source_kind for i in incomes} == {"licensing_payment"}

    ledger, accounts = LedgerService(db), AccountService(db)
    inventor = await accounts.principal_for_user((await accounts.user_by_email("inventor@pujiang.example")).id)
    statement = await ledger.inventor_statement(inventor, inventor.user_id)
    paid_results = {i.result_id for i in await db.scalars(select(Income).where(Income.source_kind == "licensing_payment"))}
    assert paid_results & {line.result_id for line in statement.lines if line.accrued > 0}
