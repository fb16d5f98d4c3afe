"""A company's performance record (企业履约信用档案) in the JSON API, and its page and the
institution's page of agreements in default. Who sees what is the service's to say."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Template

from marketplace.accounts.api import requires_bearer
from marketplace.ledger.statement_files import format_fen
from marketplace.licensing.performance import PerformanceRecord
from marketplace.licensing.reminders import ITEM_LABELS
from marketplace.licensing.services import Licensing
from marketplace.tenancy import CurrentPrincipal
from marketplace.web import render


class PerformanceApi(Controller):
    path = "/api/v1/companies"
    tags = ["licensing"]
    guards = [requires_bearer]

    @get("/{company_id:uuid}/performance")
    async def performance(
        self, principal: CurrentPrincipal, licensing: Licensing, company_id: FromPath[uuid.UUID]
    ) -> PerformanceRecord:
        """Per agreement of the company: items paid on time, paid late, late now and in default.
        The company's administrator (its own), any institution's TTO and the platform."""
        return await licensing.performance_record(principal, company_id)


class PerformancePages(Controller):
    include_in_schema = False

    @get("/companies/{company_id:uuid}/performance")
    async def performance(
        self, request: Request, principal: CurrentPrincipal, licensing: Licensing, company_id: FromPath[uuid.UUID]
    ) -> Template:
        record = await licensing.performance_record(principal, company_id)
        return render(request, "licensing/performance.html", principal, record=record, yuan=format_fen)

    @get("/agreements/defaults")
    async def defaults(self, request: Request, principal: CurrentPrincipal, licensing: Licensing) -> Template:
        agreements = await licensing.agreements_in_default(principal)
        return render(
            request, "licensing/defaults.html", principal, agreements=agreements, item_labels=ITEM_LABELS, yuan=format_fen
        )
