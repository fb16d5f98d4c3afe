"""Analytics' one service: who may see which dashboard, the filter they get, the figures, and the
refresh of the reporting views. It changes no table but its own refresh row; other domains' data
is read through the reporting views (migration 0016) and, for names, accounts' services."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from litestar.di import NamedDependency
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.accounts.models import PLATFORM_ROLES, TTO_ROLES, Organization, OrgKind
from marketplace.accounts.services import AccountService
from marketplace.analytics import schemas
from marketplace.analytics.figures import Figures
from marketplace.analytics.filters import DashboardFilter, resolve
from marketplace.analytics.models import MATERIALISED_VIEWS, Refresh
from marketplace.analytics.tables import DEAL_SORTS
from marketplace.config import Settings
from marketplace.db import DbSession, china_today, utcnow
from marketplace.errors import NotAuthenticated, NotFound, invalid
from marketplace.tenancy import Principal

MAX_DEALS_PAGE = 200


class AnalyticsService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.accounts = AccountService(session)

    # ----- who sees what --------------------------------------------------------------------------

    @staticmethod
    def sees_platform(principal: Principal) -> bool:
        return principal.role in PLATFORM_ROLES

    @staticmethod
    def sees_institution(principal: Principal) -> bool:
        return principal.role in TTO_ROLES

    def scope(self, principal: Principal, query: schemas.DashboardQuery, *, today: date | None = None) -> DashboardFilter:
        """The filter a person gets: the platform's people any; a TTO its own institution, whatever
        the query names; anyone else has no dashboard (404, like any record out of scope)."""
        if not principal.is_authenticated:
            raise NotAuthenticated()
        where = resolve(query, today or china_today())
        if self.sees_platform(principal):
            return where
        if self.sees_institution(principal):
            return where.for_institution(principal.acting_organization_id)
        raise NotFound()

    def figures(self, where: DashboardFilter, *, today: date | None = None) -> Figures:
        return Figures(self.session, where, today or china_today())

    # ----- figures that name organizations --------------------------------------------------------

    async def _organizations(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, Organization]:
        return await self.accounts.public_organizations(ids) if ids else {}

    async def income(self, figures: Figures) -> schemas.Income:
        # Every institution's name (a small table, names are public) rather than another pass over the
        # period's incomes to find which ones had any.
        orgs = {org.id: org for org in await self.accounts.directory(OrgKind.institution)}
        return await figures.income({i: (o.name_zh, o.health_technicians) for i, o in orgs.items()})

    async def beds(self, figures: Figures) -> schemas.Beds:
        ids = set(await self.session.scalars(text("SELECT DISTINCT institution_id FROM wards")))
        orgs = await self._organizations(ids)
        return await figures.beds({i: o.name_zh for i, o in orgs.items()}, {i: o.approved_beds for i, o in orgs.items()})

    async def deals(self, figures: Figures, *, sort: str = "signed", page: int = 1, per_page: int = 50) -> schemas.Deals:
        if sort not in DEAL_SORTS:
            raise invalid("sort", "Not one of the allowed values: %(allowed)s.", allowed=", ".join(DEAL_SORTS))
        if not 1 <= per_page <= MAX_DEALS_PAGE:
            raise invalid("per_page", "Between %(min)d and %(max)d.", min=1, max=MAX_DEALS_PAGE)
        if not 1 <= page <= 100_000:
            raise invalid("page", "Between %(min)d and %(max)d.", min=1, max=100_000)
        deals = await figures.deals(sort=sort, limit=per_page, offset=(page - 1) * per_page)
        orgs = await self._organizations({org for row in deals.rows for org in (row.institution_id, row.company_id)})
        for row in deals.rows:
            row.institution = orgs[row.institution_id].name_zh if row.institution_id in orgs else ""
            row.company = orgs[row.company_id].name_zh if row.company_id in orgs else ""
        return deals

    async def summary(self, figures: Figures) -> schemas.Summary:
        return await figures.summary(await self.refreshed_at())

    # ----- the reporting views --------------------------------------------------------------------

    async def refreshed_at(self) -> datetime | None:
        return await self.session.scalar(select(Refresh.refreshed_at).where(Refresh.id == 1))

    async def refresh(self) -> None:
        """Recompute the materialised views (readers are not blocked) and note when."""
        # Statistics can lag far behind the rows (a demo load, a bulk import in the same transaction):
        # planned as nested loops, a refresh then runs for minutes; hash joins stay linear.
        await self.session.execute(text("SET LOCAL enable_nestloop = off"))
        for view in MATERIALISED_VIEWS:
            await self.session.execute(text(f"REFRESH MATERIALIZED VIEW CONCURRENTLY {view}"))
        now = utcnow()
        await self.session.execute(
            insert(Refresh)
            .values(id=1, refreshed_at=now)
            .on_conflict_do_update(index_elements=["id"], set_={"refreshed_at": now})
        )


async def refresh_job(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The worker's job: the dashboards' figures are at most this job's interval old."""
    async with sessionmaker() as session, session.begin():
        await AnalyticsService(session).refresh()


Analytics = NamedDependency[AnalyticsService]


async def provide_analytics(db_session: DbSession) -> AnalyticsService:
    return AnalyticsService(db_session)
