"""The annual report: a year's figures, platform-wide or one institution's, gathered by the
analytics service and drawn as a PDF in Chinese (report_document.py) off the event loop."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from litestar import Response
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import forms
from marketplace.accounts.models import OrgKind
from marketplace.analytics import schemas
from marketplace.analytics.report_document import annual_report_pdf
from marketplace.analytics.report_labels import ReportData
from marketplace.analytics.services import AnalyticsService
from marketplace.db import DbSession, utcnow
from marketplace.errors import NotAuthenticated, NotFound
from marketplace.i18n import gettext
from marketplace.licensing.downloads import PDF
from marketplace.tenancy import Principal

TOP_DEALS = 20  # the report's deals table: the year's largest contracts


@dataclass(frozen=True)
class AnnualReport:
    year: int
    institution: str | None
    content: bytes

    @property
    def filename(self) -> str:
        scope = self.institution or gettext("Platform")
        return gettext("Annual report %(year)s – %(scope)s", year=self.year, scope=scope) + ".pdf"


class AnnualReports:
    def __init__(self, session: AsyncSession) -> None:
        self.analytics = AnalyticsService(session)

    async def data(
        self, principal: Principal, year: int, *, institution: uuid.UUID | None = None, today: date | None = None
    ) -> ReportData:
        """The year's figures for whom the caller may see: platform roles the platform or the
        institution named, a TTO its own institution whatever it names, anyone else 404."""
        if not principal.is_authenticated:
            raise NotAuthenticated()
        query = forms.convert({"year": year, "institution": institution}, schemas.DashboardQuery, strict=False)
        where = self.analytics.scope(principal, query, today=today)
        name = None
        if where.institution_id is not None:
            org = (await self.analytics.accounts.public_organizations({where.institution_id})).get(where.institution_id)
            if org is None or org.kind != OrgKind.institution:
                raise NotFound()
            name = org.name_zh
        figures = self.analytics.figures(where, today=today)
        return ReportData(
            year=year,
            institution=name,
            generated_at=utcnow(),
            summary=await self.analytics.summary(figures),
            funnel=await figures.funnel(),
            match_rates=await figures.match_rates(),
            times=await figures.times(),
            pay_later=await figures.pay_later(),
            income=await self.analytics.income(figures),
            beds=await self.analytics.beds(figures),
            events=await figures.events(),
            deals=await self.analytics.deals(figures, sort="value", per_page=TOP_DEALS),
        )

    async def annual(self, principal: Principal, year: int, *, institution: uuid.UUID | None = None) -> AnnualReport:
        data = await self.data(principal, year, institution=institution)
        # Drawing charts and tables is CPU work: a thread, so the event loop keeps serving.
        content = await asyncio.to_thread(annual_report_pdf, data)
        return AnnualReport(year=year, institution=data.institution, content=content)


def report_response(report: AnnualReport) -> Response:
    """The PDF as an attachment (RFC 6266's filename* for the Chinese name)."""
    plain = f"annual-report-{report.year}.pdf"
    disposition = f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(report.filename, safe='')}"
    return Response(
        report.content, media_type=PDF, headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"}
    )


Reports = NamedDependency[AnnualReports]


async def provide_annual_reports(db_session: DbSession) -> AnnualReports:
    return AnnualReports(db_session)
