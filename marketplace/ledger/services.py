"""The ledger's one service for the controllers: the journal, income, payouts and the policies.

Its parts, by concept: policies.py (versions, floors, exceptions, 赋权 overrides), journal.py
(accounts, posting, reversal, reading, reconciling), income.py (recording income), payouts.py,
allocation.py (the pure arithmetic of a split), statements.py (statement data). The only code that writes the ledger's tables.
"""

from __future__ import annotations

from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.services import AccountService
from marketplace.catalog.services import CatalogService
from marketplace.db import DbSession
from marketplace.ledger.income import IncomeRecording
from marketplace.ledger.payouts import Payouts
from marketplace.ledger.policies import PolicyService
from marketplace.ledger.statements import Statements


class LedgerService(IncomeRecording, Payouts, Statements):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.catalog = CatalogService(session)
        self.accounts = AccountService(session)
        self.policies = PolicyService(session)


Ledger = NamedDependency[LedgerService]


async def provide_ledger(db_session: DbSession) -> LedgerService:
    return LedgerService(db_session)
