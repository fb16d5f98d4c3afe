"""The double-entry journal: accounts, posting an entry with its balances, reversals, reading
entries in scope, and reconciling the balances with the postings.

Posting locks the balance rows it touches in one fixed order (account id, asset), so concurrent
entries wait for each other rather than deadlock, and refuses with a 409 anything that would take
a paying account below zero; the CHECK on ledger_balances is the backstop. PostgreSQL refuses
unbalanced entries at commit and any change to a posted one (migration 0013).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import TTO_ROLES, Role
from marketplace.audit import services as audit
from marketplace.db import rowcount
from marketplace.errors import Conflict, NotFound
from marketplace.i18n import N_
from marketplace.ledger.models import AccountKind, Entry, EntryKind, LedgerAccount, LedgerBalance, Posting
from marketplace.tenancy import Principal

Line = tuple[LedgerAccount, str, int]  # account, asset, signed amount


def holder_key(kind: AccountKind, user_id: uuid.UUID | None, name: str) -> str:
    if kind != AccountKind.inventor_payable:
        return ""
    return str(user_id) if user_id else f"name:{name}"


@dataclass
class Difference:
    account_id: uuid.UUID
    asset: str
    kept: int
    from_postings: int


class Journal:
    session: AsyncSession

    # ----- accounts ---------------------------------------------------------------------------

    async def account(
        self, institution_id: uuid.UUID, kind: AccountKind, *, user_id: uuid.UUID | None = None, name: str = ""
    ) -> LedgerAccount:
        """The institution's account of the kind (the inventor's payable), opened on first use."""
        holder = holder_key(kind, user_id, name)
        # Nearly always already open: one read then (bench/ledger.py: a third of posting's time went here).
        found = await self.find_account(institution_id, kind, user_id=user_id, name=name)
        if found is not None:
            return found
        await self.session.execute(
            insert(LedgerAccount)
            .values(id=uuid.uuid4(), institution_id=institution_id, kind=kind, holder=holder, user_id=user_id, holder_name=name)
            .on_conflict_do_nothing(constraint="uq_ledger_accounts_holder")
        )
        found = await self.session.scalar(
            select(LedgerAccount).where(
                LedgerAccount.institution_id == institution_id, LedgerAccount.kind == kind, LedgerAccount.holder == holder
            )
        )
        assert found is not None, "the account was inserted or already there"
        return found

    async def find_account(
        self, institution_id: uuid.UUID, kind: AccountKind, *, user_id: uuid.UUID | None = None, name: str = ""
    ) -> LedgerAccount | None:
        return await self.session.scalar(
            select(LedgerAccount).where(
                LedgerAccount.institution_id == institution_id,
                LedgerAccount.kind == kind,
                LedgerAccount.holder == holder_key(kind, user_id, name),
            )
        )

    async def account_by_id(self, account_id: uuid.UUID) -> LedgerAccount:
        found = await self.session.get(LedgerAccount, account_id)
        assert found is not None, "postings and payouts point to existing accounts"
        return found

    async def balance(self, account_id: uuid.UUID, asset: str) -> int:
        value = await self.session.scalar(
            select(LedgerBalance.balance).where(LedgerBalance.account_id == account_id, LedgerBalance.asset == asset)
        )
        return int(value or 0)

    # ----- posting ----------------------------------------------------------------------------

    async def post(self, entry: Entry, lines: Sequence[Line]) -> Entry:
        """Write the entry and its postings (lines on one account and asset are added up, zeros
        left out) and move the balances; nothing is written when a paying account would go negative."""
        totals: dict[tuple[uuid.UUID, str], int] = defaultdict(int)
        accounts = {}
        for account, asset, amount in lines:
            totals[(account.id, asset)] += amount
            accounts[account.id] = account
        moves = sorted((key, amount) for key, amount in totals.items() if amount)
        for (account_id, asset), amount in moves:
            kept = await self.session.scalar(
                select(LedgerBalance.balance)
                .where(LedgerBalance.account_id == account_id, LedgerBalance.asset == asset)
                .with_for_update()
            )
            after = int(kept or 0) + amount
            if after < 0 and accounts[account_id].kind != AccountKind.income_received:
                raise Conflict(
                    N_("Not enough on the account: %(balance)d outstanding, %(amount)d asked for."),
                    balance=int(kept or 0),
                    amount=-amount,
                )
        self.session.add(entry)
        await self.session.flush()
        self.session.add_all(
            Posting(entry_id=entry.id, account_id=account_id, asset=asset, amount=amount) for (account_id, asset), amount in moves
        )
        for (account_id, asset), amount in moves:
            moved = await self.session.execute(
                update(LedgerBalance)
                .where(LedgerBalance.account_id == account_id, LedgerBalance.asset == asset)
                .values(balance=LedgerBalance.balance + amount)
            )
            if rowcount(moved):
                continue
            # A first balance (PostgreSQL checks the proposed row, so only here an insert).
            stmt = insert(LedgerBalance).values(
                account_id=account_id, asset=asset, kind=accounts[account_id].kind, balance=amount
            )
            await self.session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["account_id", "asset"], set_={"balance": LedgerBalance.balance + stmt.excluded.balance}
                )
            )
        await self.session.flush()
        return entry

    # ----- reversal ---------------------------------------------------------------------------

    async def reverse(self, principal: Principal, entry_id: uuid.UUID, reason: str, *, ip: str | None = None) -> Entry:
        """The TTO manager corrects an entry of the institution by an entry of opposite postings
        that points to it, with who and why; an entry is reversed once, a reversal never."""
        principal.require(Role.tto_manager)
        original = await self.session.scalar(
            select(Entry)
            .where(Entry.id == entry_id, Entry.institution_id == principal.acting_organization_id)
            .with_for_update()  # concurrent reversals of one entry queue here (a lock, not an update)
        )
        if original is None:
            raise NotFound()
        if original.kind == EntryKind.reversal:
            raise Conflict(N_("A reversal cannot be reversed; record the entry again instead."))
        if await self.session.scalar(select(exists().where(Entry.reverses_entry_id == original.id))):
            raise Conflict(N_("This entry is already reversed."))
        postings = (await self.session.scalars(select(Posting).where(Posting.entry_id == original.id))).all()
        accounts = {
            a.id: a
            for a in await self.session.scalars(
                select(LedgerAccount).where(LedgerAccount.id.in_({p.account_id for p in postings}))
            )
        }
        entry = Entry(
            id=uuid.uuid4(),
            institution_id=original.institution_id,
            kind=EntryKind.reversal,
            reverses_entry_id=original.id,
            policy_id=original.policy_id,
            result_id=original.result_id,
            reason=reason,
            created_by_user_id=principal.user_id,
        )
        await self.post(entry, [(accounts[p.account_id], p.asset, -p.amount) for p in postings])
        await audit.record(
            self.session,
            "ledger_entry_reversed",
            actor_user_id=principal.user_id,
            organization_id=entry.institution_id,
            subject=entry,
            ip=ip,
            reverses=original.id,
            reason=reason,
        )
        return entry

    # ----- reading ----------------------------------------------------------------------------

    @staticmethod
    def require_entry_reader(principal: Principal) -> Principal:
        return principal.require(*TTO_ROLES, Role.inventor, Role.platform_admin, Role.platform_analyst)

    @staticmethod
    def entries_visible(principal: Principal):
        """Platform roles read every entry; the TTO its institution's; an inventor the entries that
        post to their own payable."""
        if principal.is_platform:
            return true()
        if principal.role in TTO_ROLES:
            return Entry.institution_id == principal.organization_id
        mine = (
            select(Posting.entry_id)
            .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
            .where(LedgerAccount.user_id == principal.user_id, LedgerAccount.institution_id == principal.organization_id)
        )
        return Entry.id.in_(mine)

    async def entries(
        self,
        principal: Principal,
        *,
        result_id: uuid.UUID | None = None,
        institution_id: uuid.UUID | None = None,
        page: int = 1,
        page_size: int = 50,
    ) -> tuple[list[Entry], int]:
        self.require_entry_reader(principal)
        condition = self.entries_visible(principal)
        if result_id is not None:
            condition = and_(condition, Entry.result_id == result_id)
        if institution_id is not None:
            condition = and_(condition, Entry.institution_id == institution_id)
        total = int(await self.session.scalar(select(func.count()).select_from(Entry).where(condition)) or 0)
        stmt = select(Entry).where(condition).order_by(Entry.sequence.desc()).offset((page - 1) * page_size).limit(page_size)
        return list((await self.session.scalars(stmt)).all()), total

    async def entry(self, principal: Principal, entry_id: uuid.UUID) -> Entry:
        self.require_entry_reader(principal)
        found = await self.session.scalar(select(Entry).where(Entry.id == entry_id, self.entries_visible(principal)))
        if found is None:
            raise NotFound()
        return found

    async def postings_of(self, entry_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[tuple[Posting, LedgerAccount]]]:
        found: dict[uuid.UUID, list[tuple[Posting, LedgerAccount]]] = {i: [] for i in entry_ids}
        rows = await self.session.execute(
            select(Posting, LedgerAccount)
            .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
            .where(Posting.entry_id.in_(entry_ids))
            .order_by(Posting.id)
        )
        for posting, account in rows:
            found[posting.entry_id].append((posting, account))
        return found

    async def reversed_by(self, entry_ids: list[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        rows = await self.session.execute(select(Entry.reverses_entry_id, Entry.id).where(Entry.reverses_entry_id.in_(entry_ids)))
        return {original: reversal for original, reversal in rows if original is not None}

    # ----- reconciling ------------------------------------------------------------------------

    async def unbalanced_entries(self) -> list[uuid.UUID]:
        """Entries whose postings do not sum to zero in some asset (PostgreSQL refuses them at commit)."""
        stmt = select(Posting.entry_id).group_by(Posting.entry_id, Posting.asset).having(func.sum(Posting.amount) != 0)
        return list(dict.fromkeys((await self.session.scalars(stmt)).all()))

    async def reconcile(self) -> tuple[int, list[Difference]]:
        """Every balance recomputed from the postings, against the kept one: (balances checked, differences)."""
        sums = (
            select(Posting.account_id, Posting.asset, func.sum(Posting.amount).label("total"))
            .group_by(Posting.account_id, Posting.asset)
            .subquery()
        )
        rows = await self.session.execute(
            select(
                func.coalesce(LedgerBalance.account_id, sums.c.account_id),
                func.coalesce(LedgerBalance.asset, sums.c.asset),
                func.coalesce(LedgerBalance.balance, 0),
                func.coalesce(sums.c.total, 0),
            ).select_from(
                LedgerBalance.__table__.join(
                    sums,
                    and_(LedgerBalance.account_id == sums.c.account_id, LedgerBalance.asset == sums.c.asset),
                    full=True,
                )
            )
        )
        checked, differences = 0, []
        for account_id, asset, kept, total in rows:
            checked += 1
            if int(kept) != int(total):
                differences.append(Difference(account_id, asset, int(kept), int(total)))
        return checked, differences
