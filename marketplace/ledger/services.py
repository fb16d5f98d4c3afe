"""The ledger's one service for the controllers: the journal, income, payouts and the policies.

Its parts, by concept: policies.py (versions, floors, exceptions, 赋权 overrides), journal.py
(accounts, posting, reversal, reading, reconciling), income.py (recording income), payouts.py,
allocation.py (the pure arithmetic of a split), statements.py (statement data). The only code that writes the ledger's tables.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from litestar.di import NamedDependency
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import PLATFORM_ROLES, TTO_ROLES, Role
from marketplace.accounts.services import AccountService
from marketplace.catalog.services import CatalogService
from marketplace.db import DbSession
from marketplace.ledger.income import IncomeRecording
from marketplace.ledger.models import Entry
from marketplace.ledger.payouts import Payouts
from marketplace.ledger.policies import PolicyService
from marketplace.ledger.statements import Statements
from marketplace.tenancy import Principal

MANAGER = frozenset({Role.tto_manager})
RIGHTS: dict[str, frozenset[Role]] = {
    "reads_policies": MANAGER | PLATFORM_ROLES,
    "edits_policies": MANAGER,
    "records_income": TTO_ROLES,
    "reverses": MANAGER,
    "pays": MANAGER,
}


@dataclass(frozen=True)
class DeskRights:
    """What the ledger's pages offer the caller (each service call checks again)."""

    reads_policies: bool
    edits_policies: bool
    records_income: bool
    reverses: bool
    pays: bool


class LedgerService(IncomeRecording, Payouts, Statements):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.catalog = CatalogService(session)
        self.accounts = AccountService(session)
        self.policies = PolicyService(session)

    @staticmethod
    def rights(principal: Principal) -> DeskRights:
        """The TTO manager edits policies, reverses and pays; TTO staff record income; platform
        roles read."""
        return DeskRights(**{right: principal.role in roles for right, roles in RIGHTS.items()})

    @staticmethod
    def require_right(principal: Principal, right: str) -> Principal:
        """Before a form is read: not signed in is a 401, another role a 403, whatever was typed."""
        return principal.require(*RIGHTS[right])

    async def entries_by_id(self, principal: Principal, ids: set[uuid.UUID]) -> list[Entry]:
        """The entries among `ids` the caller may read (what a reversal points to, and back)."""
        self.require_entry_reader(principal)
        if not ids:
            return []
        stmt = select(Entry).where(Entry.id.in_(ids), self.entries_visible(principal))
        return list((await self.session.scalars(stmt)).all())


Ledger = NamedDependency[LedgerService]


async def provide_ledger(db_session: DbSession) -> LedgerService:
    return LedgerService(db_session)
