"""The start-up clock (Shanghai wants the first consent within 12 weeks of approval): calendar days
from the last of the three approvals to the first consent, or to today while none is recorded;
engagements past STARTUP_FLAG_DAYS are flagged to the TTO; median and p90 per institution for the
dashboards."""

from __future__ import annotations

import builtins
import math
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.beds.models import STARTUP_FLAG_DAYS, EngagementState, TrialEngagement
from marketplace.db import china_today


def startup_days(engagement: TrialEngagement, today: date) -> int | None:
    """None until all three reviews are approved."""
    if engagement.reviews_approved_on is None:
        return None
    end = engagement.first_consent_on or today
    return max(0, (end - engagement.reviews_approved_on).days)


def flagged(engagement: TrialEngagement, today: date) -> bool:
    """Still waiting for the first consent and past 12 weeks since the last approval."""
    days = startup_days(engagement, today)
    return (
        engagement.state == EngagementState.starting
        and engagement.first_consent_on is None
        and days is not None
        and days > STARTUP_FLAG_DAYS
    )


def percentile(values: builtins.list[int], share: float) -> float | None:
    """Nearest-rank percentile (p50 the median of an odd count; p90 of ten values the ninth)."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(share * len(ordered)) - 1)])


def median(values: builtins.list[int]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return float(ordered[middle]) if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


@dataclass(frozen=True)
class StartupStats:
    institution_id: uuid.UUID
    count: int  # engagements whose clock stopped (first consent recorded)
    median_days: float | None
    p90_days: float | None


class StartupClock:
    """Mixed into BedsService (services.py)."""

    session: AsyncSession

    async def startup_flags(self, institution_id: uuid.UUID, *, today: date | None = None) -> builtins.list[TrialEngagement]:
        """The institution's engagements past 12 weeks without a first consent, the longest first."""
        today = today or china_today()
        stmt = select(TrialEngagement).where(
            TrialEngagement.institution_id == institution_id,
            TrialEngagement.state == EngagementState.starting,
            TrialEngagement.reviews_approved_on.is_not(None),
        )
        found = [engagement for engagement in await self.session.scalars(stmt) if flagged(engagement, today)]
        return sorted(found, key=lambda engagement: startup_days(engagement, today) or 0, reverse=True)

    async def startup_stats(self, institution_id: uuid.UUID) -> StartupStats:
        """Median and p90 start-up days of the institution's engagements with a first consent."""
        stmt = select(TrialEngagement).where(
            TrialEngagement.institution_id == institution_id,
            TrialEngagement.reviews_approved_on.is_not(None),
            TrialEngagement.first_consent_on.is_not(None),
        )
        days = [startup_days(engagement, china_today()) or 0 for engagement in await self.session.scalars(stmt)]
        return StartupStats(institution_id, len(days), median(days), percentile(days, 0.9))
