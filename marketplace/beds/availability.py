"""A research ward listing's free beds over the next 90 days, for search (issue 13, point 8).

The summary lives on the listing (a catalogue column set through CatalogService.set_bed_availability,
so search filters by it without importing beds): the free bed-days of the window, and for k free
beds (k in RUN_BEDS) the longest run of consecutive days with at least k beds free across the
listing's wards. It is recomputed when allocations or wards change, and daily as the window moves.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.beds.models import Ward
from marketplace.catalog.services import CatalogService
from marketplace.config import Settings
from marketplace.db import china_today

log = logging.getLogger(__name__)

WINDOW_DAYS = 90
RUN_BEDS = (1, 2, 4, 8, 16)  # the search filter offers these; a document field each

# Free beds per day of the window: each ward open that day gives its beds less those held.
FREE_PER_DAY = text(
    """
SELECT d.day::date AS day,
       COALESCE(SUM(w.beds - COALESCE(u.held, 0)) FILTER (WHERE w.id IS NOT NULL), 0) AS free
FROM generate_series(CAST(:start AS date), CAST(:start AS date) + (:days - 1), interval '1 day') AS d(day)
LEFT JOIN wards AS w
       ON w.listing_id = :listing_id AND w.opens_on <= d.day AND (w.closes_on IS NULL OR d.day <= w.closes_on)
LEFT JOIN ward_day_usage AS u ON u.ward_id = w.id AND u.day = d.day
GROUP BY d.day
ORDER BY d.day
"""
)


def longest_run(free: list[int], beds: int) -> int:
    """The most consecutive days with at least `beds` free."""
    best = run = 0
    for value in free:
        run = run + 1 if value >= beds else 0
        best = max(best, run)
    return best


def summarise(free: list[int]) -> dict:
    return {
        "free_bed_days_90": sum(max(0, value) for value in free),
        "runs": {str(k): longest_run(free, k) for k in RUN_BEDS},
    }


async def free_per_day(session: AsyncSession, listing_id: uuid.UUID, start: date, days: int = WINDOW_DAYS) -> list[int]:
    rows = await session.execute(FREE_PER_DAY, {"listing_id": listing_id, "start": start, "days": days})
    return [int(free) for _, free in rows]


async def listing_availability(session: AsyncSession, listing_id: uuid.UUID, today: date | None = None) -> dict | None:
    """The listing's summary for the 90 days from today (China time); None when it has no wards."""
    has_wards = await session.scalar(select(Ward.id).where(Ward.listing_id == listing_id).limit(1))
    if has_wards is None:
        return None
    return summarise(await free_per_day(session, listing_id, today or china_today()))


class Availability:
    """Mixed into BedsService through Wards: keeps a research ward listing's summary current."""

    session: AsyncSession
    catalog: CatalogService

    async def refresh_availability(self, listing_id: uuid.UUID, today: date | None = None) -> None:
        """Recompute the listing's free beds for search, in the transaction that approved, cancelled,
        completed or promoted an allocation or changed a ward (the outbox then sends it)."""
        await self.catalog.set_bed_availability(listing_id, await listing_availability(self.session, listing_id, today))


async def refresh_all(sessionmaker, today: date | None = None) -> int:
    """Every listing with wards, one transaction each (one failure does not hold back the others)."""
    today = today or china_today()
    async with sessionmaker() as session:
        listing_ids = list(await session.scalars(select(Ward.listing_id).distinct()))
    done = 0
    for listing_id in listing_ids:
        try:
            async with sessionmaker() as session, session.begin():
                summary = await listing_availability(session, listing_id, today)
                await CatalogService(session).set_bed_availability(listing_id, summary)
            done += 1
        except Exception:  # the next run retries it
            log.exception("bed availability: listing %s failed", listing_id)
    return done


async def availability_job(settings: Settings, sessionmaker) -> None:
    """The worker's job: hourly, so the 90-day window moves soon after midnight China time (an
    unchanged summary is not written, so it queues nothing for search)."""
    await refresh_all(sessionmaker)
