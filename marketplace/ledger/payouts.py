"""Payouts to inventors and the TTO against their payables: never more than the balance, also when
two are recorded at once (Journal.post locks the balance row; the loser gets a 409)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from marketplace.accounts.models import PLATFORM_ROLES, TTO_ROLES, Role
from marketplace.accounts.services import AccountService
from marketplace.audit import services as audit
from marketplace.errors import FieldError, InvalidInput, NotFound, invalid
from marketplace.i18n import N_
from marketplace.ledger import schemas
from marketplace.ledger.journal import Journal
from marketplace.ledger.models import PAYABLE, AccountKind, Entry, EntryKind, LedgerAccount, LedgerBalance, Payout
from marketplace.tenancy import Principal


class Payouts(Journal):
    accounts: AccountService

    async def pay(self, principal: Principal, data: schemas.PayoutCreate, *, ip: str | None = None) -> tuple[Payout, Entry]:
        """The TTO manager records money (or shares) paid from a payable of the institution."""
        principal.require(Role.tto_manager)
        institution_id = principal.acting_organization_id
        if data.payee == "inventor" and (data.user_id is None) == (data.inventor_name is None):
            raise invalid("user_id", N_("Name the inventor by user or, for one without an account, by name."))
        if data.payee == "tto" and (data.user_id or data.inventor_name):
            raise InvalidInput(FieldError("payee", N_("A payout to the TTO names no inventor.")))
        if data.user_id is not None and not await self.accounts.member_ids(institution_id, {data.user_id}):
            raise NotFound()  # somebody of another organization: as if unknown
        if data.payee == "tto":
            account = await self.find_account(institution_id, AccountKind.tto)
        else:
            account = await self.find_account(
                institution_id, AccountKind.inventor_payable, user_id=data.user_id, name=data.inventor_name or ""
            )
        if account is None:
            raise invalid("user_id" if data.payee == "inventor" else "payee", N_("Nothing was ever owed to this payee."))
        payout = Payout(
            id=uuid.uuid4(),
            institution_id=institution_id,
            account_id=account.id,
            asset=data.asset,
            amount=data.amount,
            paid_on=data.paid_on,
            reference=data.reference,
            created_by_user_id=principal.user_id,
        )
        self.session.add(payout)
        await self.session.flush()
        cash = await self.account(institution_id, AccountKind.cash_paid_out)
        entry = Entry(
            id=uuid.uuid4(),
            institution_id=institution_id,
            kind=EntryKind.payout,
            payout_id=payout.id,
            created_by_user_id=principal.user_id,
        )
        await self.post(entry, [(account, data.asset, -data.amount), (cash, data.asset, data.amount)])
        await audit.record(
            self.session,
            "ledger_payout_recorded",
            actor_user_id=principal.user_id,
            organization_id=institution_id,
            subject=payout,
            ip=ip,
            amount=data.amount,
            asset=data.asset,
            payee=data.payee,
            entry_id=entry.id,
        )
        return payout, entry

    async def payouts(self, principal: Principal) -> list[tuple[Payout, LedgerAccount, Entry]]:
        """Platform roles: all; the TTO: the institution's; an inventor: their own."""
        principal.require(*TTO_ROLES, Role.inventor, Role.platform_admin, Role.platform_analyst)
        stmt = (
            select(Payout, LedgerAccount, Entry)
            .join(LedgerAccount, LedgerAccount.id == Payout.account_id)
            .join(Entry, Entry.payout_id == Payout.id)
            .order_by(Payout.paid_on.desc(), Payout.created_at.desc())
            .limit(500)
        )
        if principal.role in TTO_ROLES:
            stmt = stmt.where(Payout.institution_id == principal.organization_id)
        elif principal.role == Role.inventor:
            stmt = stmt.where(LedgerAccount.user_id == principal.user_id, Payout.institution_id == principal.organization_id)
        return [(p, a, e) for p, a, e in await self.session.execute(stmt)]

    async def payables(self, principal: Principal) -> list[tuple[LedgerAccount, str, int]]:
        """What is owed and not yet paid (inventors' payables, the TTO's part), by account and asset:
        the TTO its institution's; platform roles all."""
        principal.require(*TTO_ROLES, *PLATFORM_ROLES)
        stmt = (
            select(LedgerAccount, LedgerBalance.asset, LedgerBalance.balance)
            .join(LedgerBalance, LedgerBalance.account_id == LedgerAccount.id)
            .where(LedgerAccount.kind.in_(PAYABLE), LedgerBalance.balance != 0)
            .order_by(LedgerAccount.institution_id, LedgerAccount.kind.desc(), LedgerAccount.holder_name, LedgerBalance.asset)
        )
        if not principal.is_platform:
            stmt = stmt.where(LedgerAccount.institution_id == principal.organization_id)
        return [(account, asset, int(balance)) for account, asset, balance in await self.session.execute(stmt)]
