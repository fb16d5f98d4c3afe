"""Beds and trials' one service for the controllers, the jobs and the demo data.

Its parts, by concept: engagements.py (trial engagements and their three review tracks),
availability.py (free beds for search), fees.py (fees received, into the ledger). The only code that
writes the tables of marketplace/beds.
"""

from __future__ import annotations

import uuid
from datetime import date

from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.services import AccountService
from marketplace.beds.availability import listing_availability
from marketplace.beds.engagements import Engagements
from marketplace.beds.fees import Fees
from marketplace.catalog.services import CatalogService
from marketplace.db import DbSession


class BedsService(Engagements, Fees):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.catalog = CatalogService(session)
        self.accounts = AccountService(session)

    async def refresh_availability(self, listing_id: uuid.UUID, today: date | None = None) -> None:
        """Recompute the research ward listing's free beds for search; call it in the transaction that
        approved, cancelled or completed an allocation or changed a ward (the outbox then sends it)."""
        await self.catalog.set_bed_availability(listing_id, await listing_availability(self.session, listing_id, today))


Beds = NamedDependency[BedsService]


async def provide_beds(db_session: DbSession) -> BedsService:
    return BedsService(db_session)
