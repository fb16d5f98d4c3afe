"""Beds and trials' one service for the controllers, the jobs and the demo data.

Its parts, by concept: wards.py (wards and the 10% rule), allocations.py (bed allocations),
calendar.py (a ward's days), availability.py (free beds for search), engagements.py (trial
engagements, who opens them, the PI workload, the first consent), reviews.py (the three tracks and
their shared documents), startup.py (the clock), projects.py (multi-centre projects and their
centres), fees.py (fees received, into the ledger). The only code that writes the tables of
marketplace/beds.
"""

from __future__ import annotations

from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.services import AccountService
from marketplace.beds.allocations import Allocations
from marketplace.beds.calendar import Calendar
from marketplace.beds.fees import Fees
from marketplace.beds.projects import Projects
from marketplace.beds.reviews import Reviews
from marketplace.beds.startup import StartupClock
from marketplace.catalog.services import CatalogService
from marketplace.db import DbSession


class BedsService(Allocations, Calendar, Projects, Reviews, StartupClock, Fees):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.catalog = CatalogService(session)
        self.accounts = AccountService(session)


Beds = NamedDependency[BedsService]


async def provide_beds(db_session: DbSession) -> BedsService:
    return BedsService(db_session)
