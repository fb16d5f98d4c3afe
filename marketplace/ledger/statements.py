"""Statement data from the journal: per inventor (accrued by result, paid, outstanding), per
institution (income, costs, distribution by category, payables outstanding, each policy version's
compliance with its floors) and per result (its income, costs, distribution and each inventor's
part), over a period.

A posting's day is its source's: the income's day received, the payout's day paid, a reversal's
day made (China time). A reversal counts with what it reverses: a reversed income lowers what was
accrued, a reversed payout what was paid. Outstanding is the balance at the end of the period.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Date, and_, case, cast, func, literal, select
from sqlalchemy.orm import aliased

from marketplace.accounts.models import Role
from marketplace.accounts.services import AccountService
from marketplace.catalog.models import ListingKind
from marketplace.catalog.services import CatalogService
from marketplace.errors import NotFound
from marketplace.ledger import schemas
from marketplace.ledger.journal import Journal
from marketplace.ledger.models import CNY, AccountKind, Entry, EntryKind, Income, LedgerAccount, Payout, Posting
from marketplace.ledger.policies import PolicyService
from marketplace.tenancy import Principal

Original = aliased(Entry)


def _day():
    made = cast(func.timezone("Asia/Shanghai", Entry.created_at), Date)
    return func.coalesce(Income.received_on, Payout.paid_on, made)


def _source_kind():
    """income or payout: a reversal counts as the kind of what it reverses."""
    return func.coalesce(Original.kind, Entry.kind)


def _postings(condition, start: date | None, end: date | None, *columns):
    day = _day()
    stmt = (
        select(*columns)
        .select_from(Posting)
        .join(Entry, Entry.id == Posting.entry_id)
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .outerjoin(Original, Original.id == Entry.reverses_entry_id)
        .outerjoin(Income, Income.id == func.coalesce(Original.income_id, Entry.income_id))
        .outerjoin(Payout, Payout.id == func.coalesce(Original.payout_id, Entry.payout_id))
        .where(condition)
    )
    if start is not None:
        stmt = stmt.where(day >= start)
    if end is not None:
        stmt = stmt.where(day <= end)
    return stmt


class Statements(Journal):
    accounts: AccountService
    catalog: CatalogService
    policies: PolicyService

    async def inventor_statement(
        self, principal: Principal, user_id: uuid.UUID, start: date | None = None, end: date | None = None
    ) -> schemas.InventorStatement:
        """The inventor's own; a TTO manager's for their institution's payables; platform roles all."""
        condition, name = await self._inventor_scope(principal, user_id)
        # One pass over the inventor's postings, by result and kind of source: the lines are its
        # income rows, the totals its sums (bench/ledger.py: three passes missed 100 ms at 10,000 entries).
        kind = _source_kind()
        rows = (
            await self.session.execute(
                _postings(
                    condition, start, end, Entry.institution_id, Entry.result_id, Posting.asset, kind, func.sum(Posting.amount)
                ).group_by(Entry.institution_id, Entry.result_id, Posting.asset, kind)
            )
        ).all()
        lines = [
            schemas.InventorStatementLine(institution_id=i, result_id=r, asset=a, accrued=int(total))
            for i, r, a, k, total in rows
            if k == EntryKind.income
        ]
        titles = await self.catalog.listing_refs({line.result_id for line in lines if line.result_id})
        for line in lines:
            found = titles.get(line.result_id) if line.result_id else None
            line.result_title = found.title_zh if found else ""
        lines.sort(key=lambda line: (str(line.institution_id), line.result_title, line.asset))
        totals: dict[str, schemas.StatementTotal] = {}
        outstanding: dict[str, int] = {}
        for _i, _r, asset, k, total in rows:
            item = totals.setdefault(asset, schemas.StatementTotal(asset=asset, accrued=0, paid=0, outstanding=0))
            if k == EntryKind.income:
                item.accrued += int(total)
            elif k == EntryKind.payout:
                item.paid -= int(total)
            outstanding[asset] = outstanding.get(asset, 0) + int(total)
        if start is not None:  # the balance at the end counts what came before the period too
            outstanding = await self._balances(condition, end)
        for asset, balance in outstanding.items():
            totals.setdefault(asset, schemas.StatementTotal(asset=asset, accrued=0, paid=0, outstanding=0)).outstanding = balance
        return schemas.InventorStatement(
            user_id=user_id,
            name=name,
            period_from=start,
            period_to=end,
            lines=lines,
            totals=sorted(totals.values(), key=lambda t: t.asset),
        )

    async def _inventor_scope(self, principal: Principal, user_id: uuid.UUID):
        """The postings an inventor's statement reads, and the inventor's name; 404 out of scope."""
        principal.require(Role.inventor, Role.tto_manager, Role.platform_admin, Role.platform_analyst)
        condition = and_(LedgerAccount.kind == AccountKind.inventor_payable, LedgerAccount.user_id == user_id)
        if principal.role == Role.inventor and user_id != principal.user_id:
            raise NotFound()
        if principal.role == Role.tto_manager:
            condition = and_(condition, LedgerAccount.institution_id == principal.organization_id)
            if not await self.accounts.member_ids(principal.acting_organization_id, {user_id}):
                raise NotFound()
        names = await self.accounts.user_names({user_id})
        if user_id not in names:
            raise NotFound()
        return condition, names[user_id]

    async def _institution_scope(self, principal: Principal, organization_id: uuid.UUID):
        principal.require(Role.tto_manager, Role.platform_admin, Role.platform_analyst)
        if not principal.is_platform and organization_id != principal.organization_id:
            raise NotFound()
        return await self.accounts.public_organization(organization_id, "institution")

    async def _categories(self, condition, start: date | None, end: date | None) -> list[schemas.CategoryTotal]:
        """Income received (gross), deductible costs and each part of the distribution, by asset."""
        by_kind = await self.session.execute(
            _postings(
                and_(condition, _source_kind() == EntryKind.income),
                start,
                end,
                LedgerAccount.kind,
                Posting.asset,
                func.sum(Posting.amount),
            ).group_by(LedgerAccount.kind, Posting.asset)
        )
        categories = [
            schemas.CategoryTotal(category=k, asset=a, amount=-int(t) if k == AccountKind.income_received else int(t))
            for k, a, t in by_kind
        ]
        return sorted(categories, key=lambda c: (c.asset, c.category))

    async def _balances(self, condition, end: date | None) -> dict[str, int]:
        rows = await self.session.execute(
            _postings(condition, None, end, Posting.asset, func.sum(Posting.amount)).group_by(Posting.asset)
        )
        return {asset: int(total) for asset, total in rows}

    async def institution_statement(
        self, principal: Principal, organization_id: uuid.UUID, start: date | None = None, end: date | None = None
    ) -> schemas.InstitutionStatement:
        """The TTO manager's own institution; platform roles any."""
        org = await self._institution_scope(principal, organization_id)
        mine = LedgerAccount.institution_id == organization_id
        categories = await self._categories(mine, start, end)
        payables = await self.session.execute(
            _postings(
                and_(mine, LedgerAccount.kind.in_([AccountKind.inventor_payable, AccountKind.tto])),
                None,
                end,
                LedgerAccount.kind,
                LedgerAccount.user_id,
                LedgerAccount.holder_name,
                Posting.asset,
                func.sum(Posting.amount),
            ).group_by(LedgerAccount.id, LedgerAccount.kind, LedgerAccount.user_id, LedgerAccount.holder_name, Posting.asset)
        )
        outstanding = [
            schemas.PayableOut(kind=k, user_id=u, holder_name=n, asset=a, outstanding=int(t)) for k, u, n, a, t in payables if t
        ]
        by_result = await self.session.execute(
            _postings(
                and_(mine, LedgerAccount.kind == AccountKind.income_received, _source_kind() == EntryKind.income),
                start,
                end,
                Entry.result_id,
                Posting.asset,
                func.sum(Posting.amount),
            ).group_by(Entry.result_id, Posting.asset)
        )
        results = [schemas.ResultIncome(result_id=r, result_title="", asset=a, income=-int(t)) for r, a, t in by_result]
        titles = await self.catalog.listing_refs({r.result_id for r in results if r.result_id})
        for item in results:
            found = titles.get(item.result_id) if item.result_id else None
            item.result_title = found.title_zh if found else ""
        policies = await self.policies.list_policies(principal, organization_id)
        compliance = []
        shares = await self.policies.shares_of([p.id for p in policies])
        for policy in policies:
            checks = await self.policies.floor_checks(organization_id, shares[policy.id])
            compliance.append(
                schemas.PolicyCompliance(
                    policy_id=policy.id,
                    version=policy.version,
                    effective_from=policy.effective_from,
                    met=all(c.met or c.exception_reason is not None for c in checks if c.policy_bp is not None),
                    floors=checks,
                )
            )
        return schemas.InstitutionStatement(
            institution_id=org.id,
            name=org.name_zh,
            period_from=start,
            period_to=end,
            categories=categories,
            payables=outstanding,
            policies=compliance,
            results=sorted(results, key=lambda r: (r.asset, -r.income, r.result_title)),
        )

    async def _result_scope(self, principal: Principal, listing_id: uuid.UUID):
        """A result's postings at its institution, the result and its institution; the TTO manager's
        own institution's, platform roles any, an inventor only those naming them; 404 otherwise."""
        principal.require(Role.inventor, Role.tto_manager, Role.platform_admin, Role.platform_analyst)
        result = (await self.catalog.listing_refs({listing_id})).get(listing_id)
        if result is None or result.kind != ListingKind.result:
            raise NotFound()
        if principal.role == Role.tto_manager and result.institution_id != principal.organization_id:
            raise NotFound()
        if principal.role == Role.inventor and not await self.catalog.names_inventor(listing_id, principal.signed_in_user_id):
            raise NotFound()
        org = await self.accounts.public_organization(result.institution_id, "institution")
        condition = and_(Entry.result_id == listing_id, LedgerAccount.institution_id == result.institution_id)
        return condition, result, org

    async def result_statement(
        self, principal: Principal, listing_id: uuid.UUID, start: date | None = None, end: date | None = None
    ) -> schemas.ResultStatement:
        """One result's income (gross), costs and distribution by category over the period, and each
        inventor's part of it. An inventor named on the result sees the totals and their own line only."""
        condition, result, org = await self._result_scope(principal, listing_id)
        payable = LedgerAccount.kind == AccountKind.inventor_payable
        if principal.role == Role.inventor:
            payable = and_(payable, LedgerAccount.user_id == principal.signed_in_user_id)
        accrued = (
            await self.session.execute(
                _postings(
                    and_(condition, payable, _source_kind() == EntryKind.income),
                    start,
                    end,
                    LedgerAccount.id,
                    LedgerAccount.user_id,
                    LedgerAccount.holder_name,
                    Posting.asset,
                    func.sum(Posting.amount),
                ).group_by(LedgerAccount.id, LedgerAccount.user_id, LedgerAccount.holder_name, Posting.asset)
            )
        ).all()
        # Payouts are by payable (an inventor at an institution), not by result: what was paid and is
        # outstanding is the inventor's payable at the result's institution.
        accounts = {account_id for account_id, *_rest in accrued}
        mine = LedgerAccount.id.in_(accounts)
        paid = await self._by_account(and_(mine, _source_kind() == EntryKind.payout), start, end)
        balance = await self._by_account(mine, None, end)
        lines = [
            schemas.ResultInventorLine(
                user_id=u,
                holder_name=n,
                asset=a,
                accrued=int(t),
                paid=-paid.get((i, a), 0),
                outstanding=balance.get((i, a), 0),
            )
            for i, u, n, a, t in accrued
        ]
        return schemas.ResultStatement(
            result_id=result.id,
            title=result.title_zh,
            institution_id=org.id,
            institution_name=org.name_zh,
            period_from=start,
            period_to=end,
            categories=await self._categories(condition, start, end),
            inventors=sorted(lines, key=lambda line: (line.asset, -line.accrued, line.holder_name)),
        )

    async def _by_account(self, condition, start: date | None, end: date | None) -> dict[tuple[uuid.UUID, str], int]:
        rows = await self.session.execute(
            _postings(condition, start, end, LedgerAccount.id, Posting.asset, func.sum(Posting.amount)).group_by(
                LedgerAccount.id, Posting.asset
            )
        )
        return {(account_id, asset): int(total) for account_id, asset, total in rows}

    # ----- for the pages and the files ---------------------------------------------------------

    async def statement_landing(self, principal: Principal) -> StatementLanding:
        """Where "Statements" leads: an inventor to their own, a TTO manager to their institution's,
        platform roles to a choice of institutions; other roles may see none."""
        principal.require(Role.inventor, Role.tto_manager, Role.platform_admin, Role.platform_analyst)
        if principal.role == Role.inventor:
            return StatementLanding(mine=True)
        if principal.role == Role.tto_manager:
            return StatementLanding(institution_id=principal.acting_organization_id)
        return StatementLanding(institutions=await self.accounts.list_organizations(principal, kind="institution"))

    async def my_statement(
        self, principal: Principal, start: date | None = None, end: date | None = None
    ) -> schemas.InventorStatement:
        """The signed-in inventor's own statement."""
        principal.require(Role.inventor)
        return await self.inventor_statement(principal, principal.signed_in_user_id, start, end)

    async def my_balance(self, principal: Principal) -> int:
        """What the signed-in inventor's statement shows as owed to them now, in CNY fen."""
        principal.require(Role.inventor)
        condition, _name = await self._inventor_scope(principal, principal.signed_in_user_id)
        return (await self._balances(condition, None)).get(CNY, 0)

    async def inventor_entries(
        self, principal: Principal, user_id: uuid.UUID, start: date | None = None, end: date | None = None
    ) -> list[StatementEntry]:
        """The inventor's statement entry by entry, in CNY: what each income (or its reversal) added
        to their payables, what each payout took off."""
        condition, _name = await self._inventor_scope(principal, user_id)
        kind = _source_kind()
        accrued = func.sum(case((kind == EntryKind.income, Posting.amount), else_=0))
        paid = func.sum(case((kind == EntryKind.payout, -Posting.amount), else_=0))
        return await self._entries(and_(condition, Posting.asset == CNY), start, end, accrued, paid)

    async def institution_entries(
        self, principal: Principal, organization_id: uuid.UUID, start: date | None = None, end: date | None = None
    ) -> list[StatementEntry]:
        """The institution's statement entry by entry, in CNY: each income received (gross), each payout."""
        await self._institution_scope(principal, organization_id)
        kind = _source_kind()
        received = and_(kind == EntryKind.income, LedgerAccount.kind == AccountKind.income_received)
        paid_out = and_(kind == EntryKind.payout, LedgerAccount.kind == AccountKind.cash_paid_out)
        accrued = func.sum(case((received, -Posting.amount), else_=0))
        paid = func.sum(case((paid_out, Posting.amount), else_=0))
        condition = and_(LedgerAccount.institution_id == organization_id, Posting.asset == CNY)
        return await self._entries(condition, start, end, accrued, paid)

    async def result_entries(
        self, principal: Principal, listing_id: uuid.UUID, start: date | None = None, end: date | None = None
    ) -> list[StatementEntry]:
        """The result's statement entry by entry, in CNY: each income received (gross) or its reversal."""
        condition, _result, _org = await self._result_scope(principal, listing_id)
        received = and_(_source_kind() == EntryKind.income, LedgerAccount.kind == AccountKind.income_received)
        accrued = func.sum(case((received, -Posting.amount), else_=0))
        return await self._entries(and_(condition, Posting.asset == CNY), start, end, accrued, literal(0))

    async def _entries(self, condition, start: date | None, end: date | None, accrued, paid) -> list[StatementEntry]:
        day = _day()
        reference = func.coalesce(Income.source_ref, Payout.reference, "")
        rows = (
            await self.session.execute(
                _postings(condition, start, end, day, Entry.kind, Entry.result_id, reference, accrued, paid)
                .group_by(Entry.id, day, Entry.kind, Entry.result_id, reference, Entry.sequence)
                .order_by(day, Entry.sequence)
            )
        ).all()
        titles = await self.catalog.listing_refs({r[2] for r in rows if r[2]})
        entries = []
        for on, kind, result_id, ref, acc, out in rows:
            if not acc and not out:
                continue
            found = titles.get(result_id) if result_id else None
            entries.append(StatementEntry(on, EntryKind(kind), found.title_zh if found else "", ref, int(acc), int(out)))
        return entries


@dataclass(frozen=True)
class StatementEntry:
    day: date
    kind: EntryKind
    result_title: str
    reference: str
    accrued: int  # fen
    paid: int  # fen


@dataclass(frozen=True)
class StatementLanding:
    mine: bool = False
    institution_id: uuid.UUID | None = None
    institutions: list = field(default_factory=list)
