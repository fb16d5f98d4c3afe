"""Pages of the revenue-sharing statements: the inventor's own, an inventor's for their TTO manager,
the institution's and a result's with their distribution chart, and each as CSV, XLSX or PDF. Who sees which is the
ledger service's to say (out of scope is 404); these handlers only ask and show."""

from __future__ import annotations

import uuid
from datetime import date
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from marketplace.ledger import schemas, statement_documents
from marketplace.ledger.services import Ledger
from marketplace.ledger.statement_documents import StatementFormat
from marketplace.ledger.statements import StatementEntry
from marketplace.tenancy import CurrentPrincipal
from marketplace.web import render

PeriodFrom = FromQuery[date | None]
PeriodTo = FromQuery[date | None]


def period_query(start: date | None, end: date | None) -> str:
    """The period as the query the download links carry along."""
    shown = {k: v.isoformat() for k, v in (("period_from", start), ("period_to", end)) if v}
    return urlencode(shown)


def _inventor_page(
    request: Request, principal, statement: schemas.InventorStatement, entries: list[StatementEntry], base: str, own: bool
) -> Template:
    return render(
        request,
        "ledger/statement_inventor.html",
        principal,
        statement=statement,
        entries=entries,
        entry_labels=statement_documents.ENTRY_LABELS,
        own=own,
        base=base,
        query=period_query(statement.period_from, statement.period_to),
        cny=statement_documents.cny_total(statement.totals),
        money=statement_documents.money,
        asset_label=statement_documents.asset_label,
    )


def _distribution_context(statement: schemas.InstitutionStatement | schemas.ResultStatement, base: str) -> dict:
    """What the distribution's chart and table (ledger/_statement_distribution.html) show."""
    income, bars = statement_documents.distribution(statement)
    return {
        "statement": statement,
        "base": base,
        "query": period_query(statement.period_from, statement.period_to),
        "income": income,
        "bars": bars,
        "bar_width": statement_documents.BAR_WIDTH,
        "others": [c for c in statement.categories if c.asset != statement_documents.CNY],
        "categories": statement_documents.CATEGORIES,
        "money": statement_documents.money,
        "asset_label": statement_documents.asset_label,
    }


class StatementPages(Controller):
    path = "/statements"
    include_in_schema = False

    @get("/")
    async def landing(self, request: Request, principal: CurrentPrincipal, ledger: Ledger) -> Redirect | Template:
        """ "Statements" in the menu: to one's own, or the institution's, or a choice of institutions."""
        landing = await ledger.statement_landing(principal)
        if landing.mine:
            return Redirect("/statements/me")
        if landing.institution_id:
            return Redirect(f"/statements/institutions/{landing.institution_id}")
        return render(request, "ledger/statement_choose.html", principal, institutions=landing.institutions)

    @get("/me")
    async def mine(
        self,
        request: Request,
        principal: CurrentPrincipal,
        ledger: Ledger,
        period_from: PeriodFrom = None,
        period_to: PeriodTo = None,
    ) -> Template:
        statement = await ledger.my_statement(principal, period_from, period_to)
        entries = await ledger.inventor_entries(principal, statement.user_id, period_from, period_to)
        return _inventor_page(request, principal, statement, entries, "/statements/me", own=True)

    @get("/me/download")
    async def download_mine(
        self,
        principal: CurrentPrincipal,
        ledger: Ledger,
        format: FromQuery[StatementFormat] = "pdf",
        period_from: PeriodFrom = None,
        period_to: PeriodTo = None,
    ) -> Response:
        statement = await ledger.my_statement(principal, period_from, period_to)
        entries = await ledger.inventor_entries(principal, statement.user_id, period_from, period_to)
        return await statement_documents.file_response(statement_documents.inventor_file(statement, entries), format)

    @get("/inventors/{user_id:uuid}")
    async def inventor(
        self,
        request: Request,
        principal: CurrentPrincipal,
        ledger: Ledger,
        user_id: FromPath[uuid.UUID],
        period_from: PeriodFrom = None,
        period_to: PeriodTo = None,
    ) -> Template:
        statement = await ledger.inventor_statement(principal, user_id, period_from, period_to)
        entries = await ledger.inventor_entries(principal, user_id, period_from, period_to)
        own = statement.user_id == principal.user_id
        return _inventor_page(request, principal, statement, entries, f"/statements/inventors/{user_id}", own=own)

    @get("/inventors/{user_id:uuid}/download")
    async def download_inventor(
        self,
        principal: CurrentPrincipal,
        ledger: Ledger,
        user_id: FromPath[uuid.UUID],
        format: FromQuery[StatementFormat] = "pdf",
        period_from: PeriodFrom = None,
        period_to: PeriodTo = None,
    ) -> Response:
        return await statement_documents.inventor_download(ledger, principal, user_id, period_from, period_to, format)

    @get("/institutions/{org_id:uuid}")
    async def institution(
        self,
        request: Request,
        principal: CurrentPrincipal,
        ledger: Ledger,
        org_id: FromPath[uuid.UUID],
        period_from: PeriodFrom = None,
        period_to: PeriodTo = None,
    ) -> Template:
        statement = await ledger.institution_statement(principal, org_id, period_from, period_to)
        return render(
            request,
            "ledger/statement_institution.html",
            principal,
            **_distribution_context(statement, f"/statements/institutions/{org_id}"),
            payables_total=statement_documents.payables_outstanding(statement),
            percent_bp=statement_documents.percent_bp,
            income_kinds=statement_documents.INCOME_KINDS,
            shares=statement_documents.SHARES,
            jurisdictions=statement_documents.JURISDICTIONS,
        )

    @get("/institutions/{org_id:uuid}/download")
    async def download_institution(
        self,
        principal: CurrentPrincipal,
        ledger: Ledger,
        org_id: FromPath[uuid.UUID],
        format: FromQuery[StatementFormat] = "pdf",
        period_from: PeriodFrom = None,
        period_to: PeriodTo = None,
    ) -> Response:
        return await statement_documents.institution_download(ledger, principal, org_id, period_from, period_to, format)

    @get("/results/{listing_id:uuid}")
    async def result(
        self,
        request: Request,
        principal: CurrentPrincipal,
        ledger: Ledger,
        listing_id: FromPath[uuid.UUID],
        period_from: PeriodFrom = None,
        period_to: PeriodTo = None,
    ) -> Template:
        statement = await ledger.result_statement(principal, listing_id, period_from, period_to)
        entries = await ledger.result_entries(principal, listing_id, period_from, period_to)
        return render(
            request,
            "ledger/statement_result.html",
            principal,
            **_distribution_context(statement, f"/statements/results/{listing_id}"),
            entries=entries,
            entry_labels=statement_documents.ENTRY_LABELS,
        )

    @get("/results/{listing_id:uuid}/download")
    async def download_result(
        self,
        principal: CurrentPrincipal,
        ledger: Ledger,
        listing_id: FromPath[uuid.UUID],
        format: FromQuery[StatementFormat] = "pdf",
        period_from: PeriodFrom = None,
        period_to: PeriodTo = None,
    ) -> Response:
        return await statement_documents.result_download(ledger, principal, listing_id, period_from, period_to, format)
