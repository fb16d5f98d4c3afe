"""The dashboards read materialised views: what happens after a refresh is not in the figures until
the worker's `refresh_analytics` job runs again, and each run notes when."""

from __future__ import annotations

from datetime import date

from marketplace.analytics.filters import resolve
from marketplace.analytics.schemas import DashboardQuery
from marketplace.analytics.services import AnalyticsService, refresh_job
from marketplace.db import make_sessionmaker
from tests.catalog.factories import published


async def published_count(db) -> int:
    service = AnalyticsService(db)
    figures = service.figures(resolve(DashboardQuery(year=2026), date(2026, 11, 30)))
    return (await service.summary(figures)).listings_published


async def test_the_job_brings_the_figures_up_to_date(db, world, engine, settings) -> None:
    await refresh_job(settings, make_sessionmaker(engine))
    before = await AnalyticsService(db).refreshed_at()
    assert await published_count(db) == 0
    await published(db, world)
    assert await published_count(db) == 0  # not refreshed yet
    await refresh_job(settings, make_sessionmaker(engine))
    assert await published_count(db) == 1
    after = await AnalyticsService(db).refreshed_at()
    assert before is not None and after is not None and after > before
