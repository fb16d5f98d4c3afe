"""China's working days (工作日): statutory holidays and make-up days, for answer deadlines."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache

import holidays

from marketplace.db import china_day


@cache
def china_calendar() -> holidays.HolidayBase:
    """China's statutory public holidays and the weekend make-up working days (调休), from the
    `holidays` package (which follows each year's State Council notice); years load on demand."""
    return holidays.China(categories=(holidays.PUBLIC,))


def add_working_days(day: date, n: int) -> date:
    """The n-th working day after `day` (before it for negative n)."""
    return china_calendar().get_nth_working_day(day, n)


def response_due_on(submitted_at: datetime, working_days: int) -> date:
    """The last day to answer: the N-th working day after the day of submission (China time), so
    the day a request arrives does not count, whatever the hour."""
    return add_working_days(china_day(submitted_at), working_days)


def working_days_late(due: date, today: date) -> int:
    """Working days past the due day, today included (0 while not late)."""
    if today <= due:
        return 0
    return china_calendar().get_working_days_count(due + timedelta(days=1), today)
