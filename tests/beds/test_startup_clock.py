"""The start-up clock: from the last approval to the first consent; past 12 weeks flagged to the
TTO; median and p90 per institution."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from marketplace.beds.models import STARTUP_FLAG_DAYS, TrialEngagement
from marketplace.beds.services import BedsService
from marketplace.beds.startup import flagged, median, percentile, startup_days
from marketplace.beds.startup_notices import notify_overdue_startups
from marketplace.db import china_today, make_sessionmaker
from marketplace.notifications.models import Notification
from tests.beds.factories import all_approved, engagement


def test_days_run_to_the_first_consent_or_today() -> None:
    today = date(2026, 11, 30)
    waiting = TrialEngagement(state="starting", reviews_approved_on=date(2026, 9, 1), first_consent_on=None)
    assert startup_days(waiting, today) == 90 and flagged(waiting, today)
    stopped = TrialEngagement(state="active", reviews_approved_on=date(2026, 9, 1), first_consent_on=date(2026, 9, 21))
    assert startup_days(stopped, today) == 20 and not flagged(stopped, today)
    not_yet = TrialEngagement(state="starting", reviews_approved_on=None, first_consent_on=None)
    assert startup_days(not_yet, today) is None and not flagged(not_yet, today)
    edge = TrialEngagement(state="starting", reviews_approved_on=today - timedelta(days=STARTUP_FLAG_DAYS))
    assert not flagged(edge, today)


def test_median_and_p90() -> None:
    assert median([]) is None and percentile([], 0.9) is None
    assert median([10, 30, 20]) == 20 and median([10, 20, 30, 40]) == 25
    assert percentile(list(range(1, 11)), 0.9) == 9


async def test_flags_and_statistics_per_institution(db, world) -> None:
    beds = BedsService(db)
    institution = world.orgs["institution/own"].id
    late = await all_approved(db, world)
    late.reviews_approved_on = china_today() - timedelta(days=100)
    fresh = await all_approved(db, world)
    await engagement(db, world)  # reviews still running: no clock
    for days in (10, 20, 30):
        done = await all_approved(db, world)
        done.reviews_approved_on = china_today() - timedelta(days=days)
        done.first_consent_on = china_today()
        done.state = "active"
    await db.commit()
    assert [found.id for found in await beds.startup_flags(institution)] == [late.id]
    assert fresh.id not in {found.id for found in await beds.startup_flags(institution)}
    stats = await beds.startup_stats(institution)
    assert (stats.count, stats.median_days, stats.p90_days) == (3, 20.0, 30.0)
    assert (await beds.startup_stats(world.orgs["institution/other"].id)).count == 0


async def test_the_daily_job_tells_the_tto_once(db, world, engine) -> None:
    late = await all_approved(db, world)
    late.reviews_approved_on = china_today() - timedelta(days=STARTUP_FLAG_DAYS + 1)
    await all_approved(db, world)  # approved today: not late
    await db.commit()
    sessionmaker = make_sessionmaker(engine)
    assert await notify_overdue_startups(sessionmaker) == 1
    assert await notify_overdue_startups(sessionmaker) == 0
    notices = list(await db.scalars(select(Notification).where(Notification.kind == "trial_startup_overdue")))
    assert notices and {notice.link for notice in notices} == {f"/trial-engagements/{late.id}"}
