"""A ward's calendar: for each day of the next 12 months, the beds approved (held), requested
(requests not yet answered) and free — in one query, whatever the number of allocations: the
held beds come from ward_day_usage (the trigger's per-day rows), the requested ones from one
aggregate over the pending requests joined to generate_series."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.beds.models import Ward
from marketplace.beds.schemas import CalendarDay, CalendarOut
from marketplace.beds.wards import Wards
from marketplace.db import china_today
from marketplace.tenancy import Principal

DAYS = 365

CALENDAR_SQL = text(
    """
    WITH days AS (
        SELECT d::date AS day FROM generate_series(CAST(:first AS date), CAST(:last AS date), interval '1 day') AS d
    ),
    pending AS (
        SELECT days.day, sum(a.beds) AS beds
        FROM bed_allocations a
        JOIN days ON days.day BETWEEN a.starts_on AND a.ends_on
        WHERE a.ward_id = :ward_id AND a.state IN ('requested', 'waitlisted')
          AND a.ends_on >= :first AND a.starts_on <= :last
        GROUP BY days.day
    )
    SELECT days.day,
           CASE WHEN days.day >= :opens_on AND (CAST(:closes_on AS date) IS NULL OR days.day <= :closes_on)
                THEN :beds ELSE 0 END AS capacity,
           coalesce(u.held, 0) AS held,
           coalesce(pending.beds, 0) AS requested
    FROM days
    LEFT JOIN ward_day_usage u ON u.ward_id = :ward_id AND u.day = days.day
    LEFT JOIN pending ON pending.day = days.day
    ORDER BY days.day
    """
)


class Calendar(Wards):
    """Mixed into BedsService (services.py)."""

    session: AsyncSession

    async def calendar_of(self, principal: Principal, ward_id: uuid.UUID, *, first: date | None = None) -> CalendarOut:
        ward = await self.get_ward(principal, ward_id)
        return CalendarOut(ward=self.ward_out(ward), days=await self.ward_days(ward, first=first))

    async def ward_days(self, ward: Ward, *, first: date | None = None, days: int = DAYS) -> list[CalendarDay]:
        first = first or china_today()
        rows = await self.session.execute(
            CALENDAR_SQL,
            {
                "first": first,
                "last": first + timedelta(days=days - 1),
                "ward_id": ward.id,
                "opens_on": ward.opens_on,
                "closes_on": ward.closes_on,
                "beds": ward.beds,
            },
        )
        return [
            CalendarDay(
                day=row.day,
                capacity=row.capacity,
                held=row.held,
                requested=int(row.requested),
                free=max(row.capacity - row.held, 0),
            )
            for row in rows
        ]


@dataclass(frozen=True)
class GridCell:
    day: date
    capacity: int
    held: int
    requested: int
    free: int
    level: str  # the CSS class's suffix: closed, full, low, mid, high


@dataclass(frozen=True)
class GridMonth:
    first: date
    cells: list[GridCell | None]  # days 1..31; None where the month has no such day or it is outside the window


def level_of(day: CalendarDay) -> str:
    if day.capacity == 0:
        return "closed"
    if day.free == 0:
        return "full"
    if day.free * 4 <= day.capacity:
        return "low"
    if day.free * 2 <= day.capacity:
        return "mid"
    return "high"


def calendar_grid(days: list[CalendarDay]) -> list[GridMonth]:
    """The days as months × days 1..31, for the heat-map page."""
    months: dict[date, list[GridCell | None]] = {}
    for day in days:
        cells = months.setdefault(day.day.replace(day=1), [None] * 31)
        cells[day.day.day - 1] = GridCell(day.day, day.capacity, day.held, day.requested, day.free, level_of(day))
    return [GridMonth(first, cells) for first, cells in months.items()]
