"""A dashboard's filter: the period as China days and moments, and the dimensions as SQL conditions
on a fact view's columns (institution_id, city, listing_kind, areas)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from marketplace.analytics.schemas import DashboardQuery, Period
from marketplace.db import CHINA_TIME
from marketplace.errors import FieldError, InvalidInput

MAX_YEARS = 10


@dataclass(frozen=True)
class DashboardFilter:
    start: date
    end: date  # inclusive
    city: str | None = None
    institution_id: uuid.UUID | None = None
    area: str | None = None
    kind: str | None = None

    @property
    def period(self) -> Period:
        return Period(start=self.start, end=self.end)

    @property
    def since(self) -> datetime:
        """The period's first moment (midnight in China)."""
        return datetime.combine(self.start, time(), CHINA_TIME)

    @property
    def until(self) -> datetime:
        """The first moment after the period."""
        return datetime.combine(self.end + timedelta(days=1), time(), CHINA_TIME)

    def for_institution(self, institution_id: uuid.UUID) -> DashboardFilter:
        return replace(self, institution_id=institution_id)

    def dimensions(
        self, alias: str, *, areas: bool = True, kind: bool = True, institution: str | None = None, city: str | None = None
    ) -> tuple[str, dict[str, Any]]:
        """` AND …` conditions on `alias`'s dimension columns for the filters that are set, and their
        parameters (a view without a kind or areas column passes False: those filters then match nothing
        there only if set, which the caller decides). A live table whose institution or city lives in
        another joined table names those columns (`institution="e.institution_id"`, `city="o.city"`)."""
        conditions: list[str] = []
        params: dict[str, Any] = {}
        if self.institution_id is not None:
            conditions.append(f"{institution or f'{alias}.institution_id'} = :institution_id")
            params["institution_id"] = self.institution_id
        if self.city is not None:
            conditions.append(f"{city or f'{alias}.city'} = :city")
            params["city"] = self.city
        if kind and self.kind is not None:
            conditions.append(f"{alias}.listing_kind = :kind")
            params["kind"] = self.kind
        if areas and self.area is not None:
            conditions.append(f":area = ANY({alias}.areas)")
            params["area"] = self.area
        return "".join(f" AND {c}" for c in conditions), params

    def query_string(self) -> dict[str, str]:
        """The filter as query parameters (links to exports and the API keep the filters applied)."""
        params = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        for name, value in (("city", self.city), ("institution", self.institution_id), ("area", self.area), ("kind", self.kind)):
            if value is not None:
                params[name] = str(value)
        return params


def quarter_bounds(year: int, quarter: int | None) -> tuple[date, date]:
    if quarter is None:
        return date(year, 1, 1), date(year, 12, 31)
    first = date(year, 3 * quarter - 2, 1)
    following = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return first, following - timedelta(days=1)


def resolve(query: DashboardQuery, today: date) -> DashboardFilter:
    """The filter a query asks for, or every field error at once."""
    errors: list[FieldError] = []
    if query.quarter is not None and query.year is None:
        errors.append(FieldError("quarter", "Choose a year for the quarter."))
    if query.year is not None and (query.start is not None or query.end is not None):
        errors.append(FieldError("year", "Give either a year or a start and end, not both."))
    if query.year is not None:
        start, end = quarter_bounds(query.year, query.quarter)
    else:
        end = query.end or today
        start = query.start or date(end.year - 1, end.month, 1) + timedelta(days=32)
        if query.start is None:
            start = start.replace(day=1)  # the first day of the month eleven months back
    if end < start:
        errors.append(FieldError("end", "The end comes before the start."))
    elif (end - start).days > 366 * MAX_YEARS:
        errors.append(FieldError("start", "At most %(years)d years at a time.", {"years": MAX_YEARS}))
    if errors:
        raise InvalidInput(*errors)
    return DashboardFilter(
        start=start,
        end=end,
        city=query.city,
        institution_id=query.institution,
        area=query.area,
        kind=str(query.kind) if query.kind else None,
    )
