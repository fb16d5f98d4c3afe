"""How often a listing's page was opened, for its owner: the days counted by CatalogService.open_page
(one row per listing and China day, the owner's own visits left out), summed."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import TTO_ROLES, Role
from marketplace.catalog.models import Listing, ListingViewDay
from marketplace.db import china_today
from marketplace.tenancy import Principal

RECENT_DAYS = 30


def one_more_view(listing_id: uuid.UUID):
    """The statement that counts a visit of a listing's page on today's China day."""
    return (
        insert(ListingViewDay)
        .values(listing_id=listing_id, day=china_today(), views=1)
        .on_conflict_do_update(index_elements=["listing_id", "day"], set_={"views": ListingViewDay.views + 1})
    )


# one_more_view for a visit served from the visitors' page cache, on its pool (asyncpg's own).
ONE_MORE_VIEW_SQL = (
    "insert into listing_view_days (listing_id, day, views) values ($1, $2, 1) "
    "on conflict (listing_id, day) do update set views = listing_view_days.views + 1"
)


def count_cached_visit(listing_id: uuid.UUID):
    """What a visit served from the visitors' page cache still does (page_cache.py): count the
    view, as the page's own request would have, in one statement."""

    async def count(state) -> None:
        await state.visit_pool.execute(ONE_MORE_VIEW_SQL, listing_id, china_today())

    return count


class PageViews:
    session: AsyncSession

    @staticmethod
    def sees_view_counts(principal: Principal, listing: Listing) -> bool:
        """The owning institution's TTO and the platform admin; nobody else learns the figures."""
        if principal.role == Role.platform_admin:
            return True
        return principal.role in TTO_ROLES and listing.institution_id == principal.organization_id

    async def view_counts(self, principal: Principal, listing: Listing) -> dict[str, int] | None:
        """Views in all and in the last RECENT_DAYS China days, or None for those not told."""
        if not self.sees_view_counts(principal, listing):
            return None
        since = china_today() - timedelta(days=RECENT_DAYS - 1)
        total, recent = (
            await self.session.execute(
                select(
                    func.coalesce(func.sum(ListingViewDay.views), 0),
                    func.coalesce(func.sum(ListingViewDay.views).filter(ListingViewDay.day >= since), 0),
                ).where(ListingViewDay.listing_id == listing.id)
            )
        ).one()
        return {"total": int(total), "recent": int(recent), "days": RECENT_DAYS}
