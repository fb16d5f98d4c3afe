"""An institution's response record for its profile: how many working days it usually takes to give
a match request its first answer, from the requests it really answered (not the promise it set)."""

from __future__ import annotations

import math
import statistics
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.db import china_day
from marketplace.matching.requests.models import MatchRequest
from marketplace.working_days import china_calendar

# Fewer answered requests than this say nothing about a habit: the profile stays silent.
MIN_ANSWERED = 3
# The most recent answers only, so a changed habit shows within a season.
RECENT = 200


@dataclass(frozen=True)
class ResponseRecord:
    working_days: int  # the median, rounded up, at least 1
    answered: int  # how many answered requests it is drawn from


def working_days_between(submitted_day: date, answered_day: date) -> int:
    """Working days after the day of submission up to the day of the answer (the day it arrived does
    not count, as for the due day): 0 for an answer the same day."""
    if answered_day <= submitted_day:
        return 0
    return china_calendar().get_working_days_count(submitted_day + timedelta(days=1), answered_day)


async def response_record(session: AsyncSession, institution_id: uuid.UUID) -> ResponseRecord | None:
    """The median working days from submission to the institution's first answer, or None while
    fewer than MIN_ANSWERED requests have been answered."""
    rows = (
        await session.execute(
            select(MatchRequest.submitted_at, MatchRequest.first_answered_at)
            .where(MatchRequest.institution_id == institution_id, MatchRequest.first_answered_at.is_not(None))
            .order_by(MatchRequest.first_answered_at.desc())
            .limit(RECENT)
        )
    ).all()
    if len(rows) < MIN_ANSWERED:
        return None
    days = [
        working_days_between(china_day(submitted), china_day(answered)) for submitted, answered in rows if answered is not None
    ]
    return ResponseRecord(max(1, math.ceil(statistics.median(days))), len(rows))
