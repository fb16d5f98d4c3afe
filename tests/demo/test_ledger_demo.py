"""The demo ledger (marketplace/demo/data/ledger.yaml): it reconciles, every demo institution's
policy meets its city's floors and its statement shows income, every inventor with income has a
statement to read, and a correction by reversal is there to see."""

from __future__ import annotations

from sqlalchemy import func, select

from marketplace.accounts.services import AccountService
from marketplace.demo import load_demo_data
from marketplace.demo.ledger import INSTITUTIONS
from marketplace.demo.organizations import ALL_INSTITUTIONS
from marketplace.ledger.models import AccountKind, Entry, EntryKind, LedgerAccount
from marketplace.ledger.services import LedgerService


async def test_the_demo_ledger_reconciles_meets_the_floors_and_shows_every_statement(client, db) -> None:
    assert await load_demo_data(db) is True
    await db.commit()
    ledger = LedgerService(db)
    accounts = AccountService(db)
    checked, differences = await ledger.reconcile()
    assert checked > 20 and differences == [] and await ledger.unbalanced_entries() == []

    kinds = dict((await db.execute(select(Entry.kind, func.count()).group_by(Entry.kind))).all())
    assert kinds[EntryKind.reversal] >= 1 and kinds[EntryKind.income] >= 9 and kinds[EntryKind.payout] >= 6

    for item in INSTITUTIONS:
        manager = await accounts.principal_for_user((await accounts.user_by_email(item["manager"])).id)
        statement = await ledger.institution_statement(manager, manager.acting_organization_id)
        # One version, meeting every floor of the city's jurisdictions, for every kind it splits.
        assert len(statement.policies) == 1
        floors = statement.policies[0].floors
        assert statement.policies[0].met and floors and all(f.met and f.exception_reason is None for f in floors)
        categories = {c.category for c in statement.categories}
        assert {AccountKind.income_received, AccountKind.tto, AccountKind.inventor_payable} <= categories
        assert any(p.outstanding > 0 for p in statement.payables)

    # Every demo institution, with a TTO manager or not, has one policy version meeting its city's
    # floors (each a different few points above them) and income split on its statement.
    admin = await accounts.principal_for_user((await accounts.user_by_email("admin@demo.example")).id)
    assert admin is not None
    org_ids = {o.name_zh: o.id for o in await accounts.directory("institution")}
    assert set(org_ids) == {i.name_zh for i in ALL_INSTITUTIONS} and len(org_ids) > 20
    licence_bp = set()
    for name, org_id in org_ids.items():
        statement = await ledger.institution_statement(admin, org_id)
        [policy] = statement.policies
        assert policy.met and policy.floors and all(f.met and f.exception_reason is None for f in policy.floors), name
        licence_bp.add(next(f.policy_bp for f in policy.floors if f.code.endswith("licence-inventors")))
        categories = {c.category for c in statement.categories}
        assert {AccountKind.income_received, AccountKind.inventor_payable} <= categories, name
        assert any(p.outstanding > 0 for p in statement.payables), name
    assert len(licence_bp) > 1

    # Every inventor with an account and a payable reads a statement with income on it.
    holders = set(
        (
            await db.scalars(
                select(LedgerAccount.user_id).where(
                    LedgerAccount.kind == AccountKind.inventor_payable, LedgerAccount.user_id.is_not(None)
                )
            )
        ).all()
    )
    assert holders
    for user_id in holders:
        own = await accounts.principal_for_user(user_id)
        statement = await ledger.inventor_statement(own, user_id)
        assert statement.lines and all(line.accrued > 0 for line in statement.lines)
        assert {t.asset for t in statement.totals} >= {"CNY"}
        assert all(t.paid > 0 and t.outstanding >= 0 for t in statement.totals)
        assert statement == await ledger.inventor_statement(admin, user_id)
