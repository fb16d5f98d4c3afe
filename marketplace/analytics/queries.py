"""What every figure query needs: the session, the filter, the China day "now" questions are asked
on, and one-row and many-row SQL helpers."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.analytics.filters import DashboardFilter
from marketplace.analytics.schemas import Duration, Rate


def rate(numerator: int, denominator: int) -> Rate:
    return Rate(numerator=numerator, denominator=denominator, rate_bp=numerator * 10_000 // denominator if denominator else None)


def duration(row: Any) -> Duration:
    count, median, p90 = row
    return Duration(
        count=count,
        median_days=None if median is None else round(float(median), 1),
        p90_days=None if p90 is None else round(float(p90), 1),
    )


def percentiles(expression: str) -> str:
    """count, median and p90 of an expression, for duration()."""
    return (
        f"count({expression}), percentile_cont(0.5) WITHIN GROUP (ORDER BY {expression}), "
        f"percentile_cont(0.9) WITHIN GROUP (ORDER BY {expression})"
    )


def days_between(later: str, earlier: str) -> str:
    return f"extract(epoch FROM ({later} - {earlier})) / 86400"


class Queries:
    def __init__(self, session: AsyncSession, where: DashboardFilter, today: date) -> None:
        self.session = session
        self.where = where
        self.today = today

    async def _one(self, sql: str, **params: Any) -> Any:
        return (await self.session.execute(text(sql), params)).one()

    async def _all(self, sql: str, **params: Any) -> list[Any]:
        return list((await self.session.execute(text(sql), params)).all())

    def _period(self) -> dict[str, Any]:
        return {"since": self.where.since, "until": self.where.until, "start": self.where.start, "end": self.where.end}
