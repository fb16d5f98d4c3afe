"""How often a listing's page was opened, for its owner: one row per listing and China day (the
owner's own visits left out), counted by CatalogService.open_page and, for the pages served from the
page cache (a visitor's or a signed-in session's), by VisitCounts; summed."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from datetime import date, timedelta

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import TTO_ROLES, Role
from marketplace.catalog.models import Listing, ListingViewDay, Status
from marketplace.db import china_today
from marketplace.tenancy import Principal

log = logging.getLogger(__name__)

RECENT_DAYS = 30


def one_more_view(listing_id: uuid.UUID):
    """The statement that counts a visit of a listing's page on today's China day."""
    return (
        insert(ListingViewDay)
        .values(listing_id=listing_id, day=china_today(), views=1)
        .on_conflict_do_update(index_elements=["listing_id", "day"], set_={"views": ListingViewDay.views + 1})
    )


# What one_more_view does, for the visits served from the visitors' page cache, added up.
ADD_VIEWS_SQL = (
    "insert into listing_view_days (listing_id, day, views) select v.* from unnest($1::uuid[], $2::date[], $3::int[]) "
    "as v(listing_id, day, views) join listings on listings.id = v.listing_id "  # one deleted meanwhile: skipped
    "on conflict (listing_id, day) do update set views = listing_view_days.views + excluded.views"
)
FLUSH_SECONDS = 0.5
# A failed write keeps its views for the next flush (the database restarting, a deadlock), but not for
# ever: a batch that can never be written (a count out of range) would hold back every listing's
# views with it. After this many failed flushes in a row (a minute), what is held is dropped.
FAILED_FLUSHES_KEPT = 120


class VisitCounts:
    """The views of pages served from the page cache (page_cache.py), added up in the
    process and written every FLUSH_SECONDS in one statement (and when the process stops), so a
    kept page costs no write of its own; the owner's figures lag by at most that."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[uuid.UUID, date]] = Counter()
        self._failed_flushes = 0

    def add(self, listing_id: uuid.UUID) -> None:
        self._counts[(listing_id, china_today())] += 1

    async def flush(self, pool) -> None:
        """Write the views added up so far; a database error is logged, never raised."""
        counts, self._counts = self._counts, Counter()
        if not counts:
            return
        keys = sorted(counts)  # rows locked in one order by every process: two flushes cannot deadlock
        try:
            await pool.execute(ADD_VIEWS_SQL, [k[0] for k in keys], [k[1] for k in keys], [counts[k] for k in keys])
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            self._failed_flushes += 1
            if self._failed_flushes < FAILED_FLUSHES_KEPT:
                self._counts.update(counts)
                log.warning("listing views of kept pages not written yet (%d failed flushes): %s", self._failed_flushes, error)
            else:
                self._failed_flushes = 0
                log.error("listing views of kept pages dropped after %d failed flushes: %s", FAILED_FLUSHES_KEPT, error)
            return
        self._failed_flushes = 0

    async def run(self, pool) -> None:
        """Until cancelled; then what is left is written."""
        try:
            while True:
                await asyncio.sleep(FLUSH_SECONDS)
                await self.flush(pool)
        finally:
            await self.flush(pool)


def count_cached_visit(listing_id: uuid.UUID):
    """What a visit served from the page cache still does: count the view."""

    async def count(state) -> None:
        state.visit_counts.add(listing_id)

    return count


class PageViews:
    session: AsyncSession

    @staticmethod
    def counts_view(principal: Principal, listing: Listing) -> bool:
        """A published listing's page opened by someone outside its institution is a view."""
        return listing.status == Status.published and principal.organization_id != listing.institution_id

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
