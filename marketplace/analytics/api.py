"""JSON API of the dashboards' figures (/api/v1/analytics/…) and the annual report's PDF
(/api/v1/reports/annual/{year}). Every figure takes the dashboard's filters as query parameters;
who sees which institution is the service's rule (AnalyticsService.scope)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from litestar import Controller, Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, QueryParameter

from marketplace import api_docs
from marketplace.accounts.api import requires_bearer
from marketplace.analytics import schemas
from marketplace.analytics.filters import MAX_YEARS
from marketplace.analytics.report import Reports, provide_annual_reports, report_response
from marketplace.analytics.services import MAX_DEALS_PAGE, Analytics
from marketplace.analytics.tables import DEAL_SORTS
from marketplace.catalog.models import ListingKind
from marketplace.forms import convert
from marketplace.licensing.downloads import PDF
from marketplace.tenancy import CurrentPrincipal
from marketplace.web import Page

Year = Annotated[int | None, QueryParameter(ge=2000, le=2100, description="A calendar year (with `quarter`: one quarter of it).")]
Quarter = Annotated[int | None, QueryParameter(ge=1, le=4, description="1–4; needs `year`.")]
Day = Annotated[date | None, QueryParameter(description=f"Inclusive China day; with the other, at most {MAX_YEARS} years.")]
City = Annotated[str | None, QueryParameter(min_length=1, max_length=40)]
Area = Annotated[str | None, QueryParameter(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")]
Institution = Annotated[uuid.UUID | None, QueryParameter(description="Platform roles only: a TTO always gets its own.")]


async def provide_dashboard_query(
    year: Year = None,
    quarter: Quarter = None,
    start: Day = None,
    end: Day = None,
    city: City = None,
    institution: Institution = None,
    area: Area = None,
    kind: FromQuery[ListingKind | None] = None,
) -> schemas.DashboardQuery:
    """The filters as the pages read them: one Struct through the shared input mechanism, so a bad
    value is a field error named as the page would name it."""
    given: dict[str, object] = {"year": year, "quarter": quarter, "start": start, "end": end, "city": city}
    given |= {"institution": institution, "area": area, "kind": kind}
    return convert({k: v for k, v in given.items() if v is not None}, schemas.DashboardQuery, strict=False)


Filters = NamedDependency[schemas.DashboardQuery]
ANNUAL_REPORT = api_docs.download("The annual report (PDF, in Chinese), as an attachment.", PDF)


class AnalyticsApi(Controller):
    """Platform roles see the platform (any filter); a TTO its own institution, whatever
    `institution` it names; anyone else 404."""

    path = "/api/v1/analytics"
    tags = ["analytics"]
    guards = [requires_bearer]
    dependencies = {"filters": Provide(provide_dashboard_query)}

    @get("/summary")
    async def summary(self, principal: CurrentPrincipal, analytics: Analytics, filters: Filters) -> schemas.Summary:
        """HI-CLIP's headline figures (companies, projects, hospitals, project centres) and the
        platform's own (listings published, agreements signed, income) for the period."""
        return await analytics.summary(analytics.figures(analytics.scope(principal, filters)))

    @get("/funnel")
    async def funnel(self, principal: CurrentPrincipal, analytics: Analytics, filters: Filters) -> schemas.Funnel:
        """Listings viewed → requests → accepted → negotiating → agreements → first payment for the
        requests submitted in the period, with conversion between steps and where deals stall."""
        return await analytics.figures(analytics.scope(principal, filters)).funnel()

    @get("/match-rates")
    async def match_rates(self, principal: CurrentPrincipal, analytics: Analytics, filters: Filters) -> schemas.MatchRates:
        """对接率 (institutions with a published listing that had a request accepted), needs with a
        selected response, requests answered by their due day; rates in basis points."""
        return await analytics.figures(analytics.scope(principal, filters)).match_rates()

    @get("/times")
    async def times(self, principal: CurrentPrincipal, analytics: Analytics, filters: Filters) -> schemas.Times:
        """Median and p90 days to first response, acceptance and agreement; trial start-up; overdue now."""
        return await analytics.figures(analytics.scope(principal, filters)).times()

    @get("/pay-later")
    async def pay_later(self, principal: CurrentPrincipal, analytics: Analytics, filters: Filters) -> schemas.PayLater:
        """Pay-later licences signed in the period by their state now, and the conversion rate."""
        return await analytics.figures(analytics.scope(principal, filters)).pay_later()

    @get("/income")
    async def income(self, principal: CurrentPrincipal, analytics: Analytics, filters: Filters) -> schemas.Income:
        """Income received (fen) by month, institution (with per 100 health technicians), deal kind
        and distribution category, and signed contracts by value band."""
        return await analytics.income(analytics.figures(analytics.scope(principal, filters)))

    @get("/beds")
    async def beds(self, principal: CurrentPrincipal, analytics: Analytics, filters: Filters) -> schemas.Beds:
        """Research-bed utilisation by institution and ward; institutions over the 10% line."""
        return await analytics.beds(analytics.figures(analytics.scope(principal, filters)))

    @get("/events")
    async def events(self, principal: CurrentPrincipal, analytics: Analytics, filters: Filters) -> schemas.EventFigures:
        """Matchmaking events starting in the period: how many were held, who registered, and their
        meeting requests → accepted → scheduled → held → match requests → agreements."""
        return await analytics.figures(analytics.scope(principal, filters)).events()

    @get("/deals")
    async def deals(
        self,
        principal: CurrentPrincipal,
        analytics: Analytics,
        filters: Filters,
        sort: Annotated[str, api_docs.enum_query(DEAL_SORTS)] = "signed",
        page: Page = 1,
        per_page: Annotated[int, QueryParameter(ge=1, le=MAX_DEALS_PAGE)] = 50,
    ) -> schemas.Deals:
        """Agreements signed in the period, sorted (`signed`, newest first, by default)."""
        figures = analytics.figures(analytics.scope(principal, filters))
        return await analytics.deals(figures, sort=sort, page=page, per_page=per_page)


class ReportsApi(Controller):
    path = "/api/v1/reports"
    tags = ["analytics"]
    guards = [requires_bearer]
    dependencies = {"reports": Provide(provide_annual_reports)}

    @get("/annual/{year:int}", operation_class=api_docs.documented(responses={"200": ANNUAL_REPORT}))
    async def annual(
        self, principal: CurrentPrincipal, reports: Reports, year: FromPath[int], institution: Institution = None
    ) -> Response:
        """The annual report for a year as a PDF in Chinese: platform-wide (or one `institution`'s)
        for platform roles, the TTO's own institution's for a TTO."""
        report = await reports.annual(principal, year, institution=institution)
        return report_response(report)
