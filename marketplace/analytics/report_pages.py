"""The annual report's download for the pages (the dashboard links to it): the same PDF and the
same scoping as the API's /api/v1/reports/annual/{year}, for a signed-in session."""

from __future__ import annotations

import uuid

from litestar import Controller, Response, get
from litestar.di import Provide
from litestar.params import FromPath, FromQuery

from marketplace.analytics.report import Reports, provide_annual_reports, report_response
from marketplace.tenancy import CurrentPrincipal


class ReportPages(Controller):
    include_in_schema = False
    dependencies = {"reports": Provide(provide_annual_reports)}

    @get("/analytics/annual/{year:int}/report.pdf")
    async def annual(
        self, principal: CurrentPrincipal, reports: Reports, year: FromPath[int], institution: FromQuery[uuid.UUID | None] = None
    ) -> Response:
        """Platform roles: the platform's (or `institution`'s) year; a TTO: its own institution's."""
        return report_response(await reports.annual(principal, year, institution=institution))
