"""Invariants of the journal over random histories against the real PostgreSQL: random policies,
inventor shares, incomes with costs, payouts and reversals (refused ones included). After each
history every entry balances per asset, each income's parts sum to its amount, no paying account
is negative, and replaying the postings from nothing reproduces every kept balance."""

from __future__ import annotations

import uuid
from collections import defaultdict

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from marketplace.accounts.models import Role
from marketplace.errors import DomainError
from marketplace.ledger import schemas
from marketplace.ledger.models import Entry, Income, LedgerAccount, LedgerBalance, Posting
from marketplace.ledger.services import LedgerService
from tests.ledger.factories import income_body, policy_body, seed_result

LEDGER_TABLES = (
    "ledger_postings, ledger_entries, ledger_payouts, ledger_incomes, ledger_balances, ledger_accounts, "
    "distribution_result_overrides, distribution_policy_shares, distribution_policies"
)


@st.composite
def policies(draw) -> dict:
    # Shanghai: the inventors at least 70% of licence income.
    inventors = draw(st.integers(7000, 10_000))
    tto = draw(st.integers(0, 10_000 - inventors))
    iit = draw(st.integers(0, 10_000 - inventors - tto))
    shares = {"income_kind": "licence", "inventors_bp": inventors, "tto_bp": tto, "iit_fund_bp": iit}
    shares["institution_bp"] = 10_000 - inventors - tto - iit
    recovery = draw(st.sampled_from(["all_first", "percentage"]))
    return policy_body(
        shares=[shares],
        remainder_share=draw(st.sampled_from(["inventors", "tto", "iit_fund", "institution"])),
        patent_cost_recovery=recovery,
        patent_cost_recovery_bp=draw(st.integers(1, 10_000)) if recovery == "percentage" else None,
    )


COSTS = st.lists(
    st.fixed_dictionaries(
        {
            "kind": st.sampled_from(["taxes_fees", "ip_maintenance"]),
            "amount_fen": st.integers(1, 50_000),
            "document": st.just("发票"),
        }
    ),
    max_size=2,
)
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("income"), st.integers(1, 10_000_000), COSTS),
        st.tuples(st.just("payout"), st.integers(0, 3), st.integers(1, 5_000_000)),
        st.tuples(st.just("reverse"), st.integers(0, 20)),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(policy=policies(), inventor_bp=st.lists(st.integers(1, 5000), min_size=1, max_size=4), operations=OPERATIONS)
async def test_random_histories_keep_the_journal_sound(db, world, policy, inventor_bp, operations) -> None:
    await db.execute(text(f"TRUNCATE {LEDGER_TABLES} CASCADE"))
    await db.commit()
    boss = await world.principal(db, world.emails[Role.tto_manager])
    ledger = LedgerService(db)
    await ledger.policies.create(boss, msgspec.convert(policy, schemas.PolicyCreate))
    total = sum(inventor_bp)
    shares = [b * 10_000 // total for b in inventor_bp]
    shares[0] += 10_000 - sum(shares)
    if min(shares) < 1:
        return
    names = [f"发明人{i}" for i in range(len(shares))]
    result = await seed_result(
        db, boss.acting_organization_id, [{"name": n, "share_bp": s} for n, s in zip(names, shares, strict=True)]
    )
    result_id = result.id
    entries: list[uuid.UUID] = []
    for operation in operations:
        try:
            if operation[0] == "income":
                body = income_body(result_id, operation[1], costs=operation[2])
                income = await ledger.record_income(boss, msgspec.convert(body, schemas.IncomeCreate), uuid.uuid4().hex)
                entries.append((await ledger.income_entry(income.id)).id)
            elif operation[0] == "payout":
                index = operation[1] % len(names)
                payout = {"payee": "inventor", "inventor_name": names[index], "amount": operation[2]}
                payout |= {"paid_on": "2026-05-01", "reference": "付款"}
                _paid, entry = await ledger.pay(boss, msgspec.convert(payout, schemas.PayoutCreate))
                entries.append(entry.id)
            elif entries:
                reversal = await ledger.reverse(boss, entries[operation[1] % len(entries)], "更正")
                entries.append(reversal.id)
            await db.commit()
        except DomainError:
            await db.rollback()

    # Every entry balances per asset (PostgreSQL refused anything else at commit).
    unbalanced = select(Posting.entry_id).group_by(Posting.entry_id, Posting.asset).having(func.sum(Posting.amount) != 0)
    assert (await db.scalars(unbalanced)).all() == []
    # Each income's entry hands out exactly its amount.
    for income_id, amount in (await db.execute(select(Income.id, Income.amount))).all():
        entry = await ledger.income_entry(income_id)
        given_out = await db.scalar(select(func.sum(Posting.amount)).where(Posting.entry_id == entry.id, Posting.amount > 0))
        assert given_out == amount
    # No paying account below zero.
    kinds = dict((await db.execute(select(LedgerAccount.id, LedgerAccount.kind))).all())
    for account_id, _asset, balance in (
        await db.execute(select(LedgerBalance.account_id, LedgerBalance.asset, LedgerBalance.balance))
    ).all():
        assert kinds[account_id] == "income_received" or balance >= 0
    # Replaying the journal from nothing, entry by entry, reproduces every kept balance.
    replayed: dict[tuple, int] = defaultdict(int)
    rows = await db.execute(
        select(Posting.account_id, Posting.asset, Posting.amount).join(Entry).order_by(Entry.sequence, Posting.id)
    )
    for account_id, asset, amount in rows.all():
        replayed[(account_id, asset)] += amount
    kept = {
        (a, s): b
        for a, s, b in (await db.execute(select(LedgerBalance.account_id, LedgerBalance.asset, LedgerBalance.balance))).all()
    }
    assert dict(replayed) == kept
    assert (await ledger.reconcile())[1] == []
