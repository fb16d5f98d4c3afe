"""The daily start-up job: an engagement past 12 weeks from its last approval without a first
consent is told to its institution's TTO in the app, once (the engagement row, locked, keeps when
it was told, so two workers never tell twice)."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import select

from marketplace.accounts.models import TTO_ROLES
from marketplace.accounts.services import AccountService
from marketplace.audit import services as audit
from marketplace.beds.models import STARTUP_FLAG_DAYS, EngagementState, TrialEngagement
from marketplace.config import Settings
from marketplace.db import china_today, utcnow
from marketplace.i18n import N_
from marketplace.notifications.services import NotificationService

log = logging.getLogger(__name__)

FLAG_NOTICE = N_("“%(title)s” has waited more than 12 weeks for its first consent since its reviews were approved.")


def _overdue(today: date):
    return select(TrialEngagement).where(
        TrialEngagement.state == EngagementState.starting,
        TrialEngagement.first_consent_on.is_(None),
        TrialEngagement.reviews_approved_on < today - timedelta(days=STARTUP_FLAG_DAYS),
        TrialEngagement.startup_flag_notified_at.is_(None),
    )


async def notify_overdue_startups(sessionmaker, today: date | None = None, now: datetime | None = None) -> int:
    """Tell each flagged engagement's TTO once, one transaction per engagement (one that fails is
    logged and retried next run instead of holding back every other institution's notice);
    answers how many were told."""
    today = today or china_today()
    now = now or utcnow()
    async with sessionmaker() as session:
        candidates = list(
            await session.scalars(_overdue(today).with_only_columns(TrialEngagement.id).order_by(TrialEngagement.id))
        )
    told = 0
    for engagement_id in candidates:
        try:
            async with sessionmaker() as session, session.begin():
                # Locked and checked again: another worker may have told it since the list was read.
                engagement = await session.scalar(
                    _overdue(today).where(TrialEngagement.id == engagement_id).with_for_update(skip_locked=True)
                )
                if engagement is None:
                    continue
                await _tell(session, engagement, now)
            told += 1
        except Exception:  # the next run retries it
            log.exception("start-up job: engagement %s failed", engagement_id)
    if told:
        log.info("start-up job %s: %s engagements flagged to their TTO", today, told)
    return told


async def _tell(session, engagement: TrialEngagement, now: datetime) -> None:
    engagement.startup_flag_notified_at = now
    people = await AccountService(session).member_contacts(engagement.institution_id, TTO_ROLES)
    link = f"/trial-engagements/{engagement.id}"
    await NotificationService(session).notify(
        [person.id for person in people],
        "trial_startup_overdue",
        FLAG_NOTICE,
        params={"title": engagement.title},
        items=[{"label": engagement.title, "link": link}],
        link=link,
    )
    await audit.record(
        session,
        "trial_engagement_startup_flagged",
        organization_id=engagement.institution_id,
        subject=engagement,
        reviews_approved_on=engagement.reviews_approved_on.isoformat() if engagement.reviews_approved_on else None,
    )


async def startup_job(settings: Settings, sessionmaker) -> None:
    """The worker's job: cheap when nothing is overdue, so it runs hourly."""
    await notify_overdue_startups(sessionmaker)
