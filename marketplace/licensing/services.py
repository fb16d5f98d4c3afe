"""Licensing's one service for the controllers, the jobs and the demo data.

Its parts, by concept: agreements.py (drafting, reading, the lifecycle), open_licences.py
(开放许可: declared by the TTO, taken by a company in one action), exclusivity.py (what
approval refuses), documents.py and document_files.py (the generated, signed document),
schedule.py (obligations from the terms and on conversion), terms.py (the rules of the terms),
payments.py (money received, which becomes ledger income), royalties.py (royalty reports, the
annual minimum, milestones reached), performance.py (a company's performance record, an
institution's agreements in default), views.py (what the API and the pages show of an agreement).
The only code that writes licensing's tables.
"""

from __future__ import annotations

from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.services import AccountService
from marketplace.catalog.services import CatalogService
from marketplace.db import DbSession
from marketplace.licensing.open_licences import OpenLicences
from marketplace.licensing.payments import Payments
from marketplace.licensing.performance import Performance
from marketplace.licensing.royalties import Royalties
from marketplace.licensing.views import Views
from marketplace.matching.requests.services import MatchingService


class LicensingService(Views, OpenLicences, Payments, Royalties, Performance):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.catalog = CatalogService(session)
        self.accounts = AccountService(session)
        self.matching = MatchingService(session)


Licensing = NamedDependency[LicensingService]


async def provide_licensing(db_session: DbSession) -> LicensingService:
    return LicensingService(db_session)
