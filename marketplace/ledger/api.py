"""JSON API of the ledger: /api/v1/distribution-policies (versions, floor exceptions, 赋权
overrides), /api/v1/ledger (income, entries, reversals) and /api/v1/payouts."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from marketplace import api_docs
from marketplace.accounts.api import requires_bearer
from marketplace.ledger import schemas, statement_documents
from marketplace.ledger.models import (
    CostKind,
    DistributionPolicy,
    Entry,
    EntryKind,
    IncomeKind,
    PatentCostRecovery,
    Share,
)
from marketplace.ledger.services import Ledger, LedgerService
from marketplace.ledger.statement_documents import StatementFormat
from marketplace.tenancy import CurrentPrincipal
from marketplace.web import Page, PageSize, client_ip

# A plain string ("" when left out): the schema documents no null, and the service asks for it.
IdempotencyKeyHeader = Annotated[
    str,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        max_length=200,
        description="A key of the client's choosing: a retry with the same key and body answers the first income.",
    ),
]


async def policies_out(ledger: LedgerService, items: list[DistributionPolicy]) -> list[schemas.PolicyOut]:
    shares = await ledger.policies.shares_of([p.id for p in items])
    result = []
    for p in items:
        rows = shares[p.id]
        result.append(
            schemas.PolicyOut(
                id=p.id,
                institution_id=p.institution_id,
                version=p.version,
                effective_from=p.effective_from,
                shares=[
                    schemas.SharesOut(IncomeKind(s.income_kind), s.inventors_bp, s.tto_bp, s.iit_fund_bp, s.institution_bp)
                    for s in rows
                ],
                deductible_costs=[CostKind(c) for c in p.deductible_costs],
                remainder_share=Share(p.remainder_share),
                patent_cost_recovery=PatentCostRecovery(p.patent_cost_recovery),
                patent_cost_recovery_bp=p.patent_cost_recovery_bp,
                note=p.note,
                created_at=p.created_at,
                floors=await ledger.policies.floor_checks(p.institution_id, rows),
            )
        )
    return result


async def entries_out(ledger: LedgerService, items: list[Entry]) -> list[schemas.EntryOut]:
    ids = [e.id for e in items]
    postings = await ledger.postings_of(ids)
    reversed_by = await ledger.reversed_by(ids)
    return [
        schemas.EntryOut(
            id=e.id,
            sequence=e.sequence,
            institution_id=e.institution_id,
            kind=EntryKind(e.kind).value,
            income_id=e.income_id,
            payout_id=e.payout_id,
            reverses_entry_id=e.reverses_entry_id,
            reversed_by_entry_id=reversed_by.get(e.id),
            policy_id=e.policy_id,
            result_id=e.result_id,
            reason=e.reason,
            created_by_user_id=e.created_by_user_id,
            created_at=e.created_at,
            postings=[schemas.PostingOut(a.id, a.kind, a.user_id, a.holder_name, p.asset, p.amount) for p, a in postings[e.id]],
        )
        for e in items
    ]


STATEMENT_FILE = api_docs.download("The statement, as an attachment.", api_docs.CSV, api_docs.XLSX, "application/pdf")


class DistributionPoliciesApi(Controller):
    path = "/api/v1/distribution-policies"
    tags = ["ledger"]
    guards = [requires_bearer]

    @get("/")
    async def list_policies(
        self, principal: CurrentPrincipal, ledger: Ledger, institution_id: FromQuery[uuid.UUID | None] = None
    ) -> list[schemas.PolicyOut]:
        """Every version of the caller's institution's policy, newest first, each with the floors
        of its jurisdiction and whether it meets them (TTO manager; platform roles: all, or
        `institution_id`'s)."""
        return await policies_out(ledger, await ledger.policies.list_policies(principal, institution_id))

    @post("/", status_code=HTTP_201_CREATED)
    async def create_policy(
        self, request: Request, principal: CurrentPrincipal, ledger: Ledger, data: JSONBody[schemas.PolicyCreate]
    ) -> schemas.PolicyOut:
        """The TTO manager adds a version, in force from `effective_from`; a share below a floor of
        the law is a field error naming the rule, unless the platform admin recorded an exception."""
        policy = await ledger.policies.create(principal, data, ip=client_ip(request))
        return (await policies_out(ledger, [policy]))[0]

    @post("/floor-exceptions", status_code=HTTP_201_CREATED)
    async def record_exception(
        self, request: Request, principal: CurrentPrincipal, ledger: Ledger, data: JSONBody[schemas.FloorExceptionCreate]
    ) -> schemas.FloorExceptionOut:
        """The platform admin lets an institution's policy go below one floor, with the reason."""
        found = await ledger.policies.record_exception(principal, data, ip=client_ip(request))
        return schemas.FloorExceptionOut(found.id, found.institution_id, found.floor_code, found.reason, found.recorded_at)

    @post("/overrides", status_code=HTTP_201_CREATED)
    async def record_override(
        self, request: Request, principal: CurrentPrincipal, ledger: Ledger, data: JSONBody[schemas.OverrideCreate]
    ) -> schemas.OverrideOut:
        """赋权: the TTO manager records the researchers' own part of a result's net income."""
        found = await ledger.policies.create_override(principal, data, ip=client_ip(request))
        return schemas.OverrideOut(
            found.id, found.institution_id, found.result_id, found.researchers_bp, found.agreement_ref, found.created_at
        )


class LedgerApi(Controller):
    path = "/api/v1/ledger"
    tags = ["ledger"]
    guards = [requires_bearer]

    @post("/income", status_code=HTTP_201_CREATED)
    async def record_income(
        self,
        request: Request,
        principal: CurrentPrincipal,
        ledger: Ledger,
        data: JSONBody[schemas.IncomeCreate],
        idempotency_key: IdempotencyKeyHeader = "",
    ) -> schemas.IncomeOut:
        """The TTO records income for a result, with an `Idempotency-Key` header: it is split at
        once into one journal entry. The same key and body again answers the first income; the same
        key with another body is a 409."""
        income = await ledger.record_income(principal, data, idempotency_key, ip=client_ip(request))
        entry = (await entries_out(ledger, [await ledger.income_entry(income.id)]))[0]
        return schemas.IncomeOut(
            id=income.id,
            institution_id=income.institution_id,
            result_id=income.result_id,
            kind=IncomeKind(income.kind),
            source_kind=income.source_kind,
            source_ref=income.source_ref,
            asset=income.asset,
            amount=income.amount,
            received_on=income.received_on,
            costs_deducted=income.costs_deducted,
            net=income.amount - income.costs_deducted,
            idempotency_key=income.idempotency_key,
            entry=entry,
        )

    @get("/entries")
    async def list_entries(
        self,
        principal: CurrentPrincipal,
        ledger: Ledger,
        result_id: FromQuery[uuid.UUID | None] = None,
        institution_id: FromQuery[uuid.UUID | None] = None,
        page: Page = 1,
        page_size: PageSize = 50,
    ) -> schemas.EntryPage:
        """Journal entries, newest first: platform roles all; the TTO its institution's; an
        inventor those that post to their own payable."""
        items, total = await ledger.entries(
            principal, result_id=result_id, institution_id=institution_id, page=page, page_size=page_size
        )
        return schemas.EntryPage(await entries_out(ledger, items), total, page, page_size)

    @post("/entries/{entry_id:uuid}/reversal", status_code=HTTP_201_CREATED)
    async def reverse_entry(
        self,
        request: Request,
        principal: CurrentPrincipal,
        ledger: Ledger,
        entry_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.ReversalCreate],
    ) -> schemas.EntryOut:
        """The TTO manager corrects an entry by a reversing one, with the reason; record the right
        income again afterwards. 409 when already reversed or when it was paid out since."""
        entry = await ledger.reverse(principal, entry_id, data.reason, ip=client_ip(request))
        return (await entries_out(ledger, [entry]))[0]


class PayoutsApi(Controller):
    path = "/api/v1/payouts"
    tags = ["ledger"]
    guards = [requires_bearer]

    @get("/")
    async def list_payouts(self, principal: CurrentPrincipal, ledger: Ledger) -> list[schemas.PayoutOut]:
        """Payouts, newest first: platform roles all; the TTO its institution's; an inventor their own."""
        return [payout_out(p, a, e) for p, a, e in await ledger.payouts(principal)]

    @post("/", status_code=HTTP_201_CREATED)
    async def record_payout(
        self, request: Request, principal: CurrentPrincipal, ledger: Ledger, data: JSONBody[schemas.PayoutCreate]
    ) -> schemas.PayoutOut:
        """The TTO manager records a payment to an inventor or the TTO; never more than is
        outstanding (409, also when two payouts race for one balance)."""
        payout, entry = await ledger.pay(principal, data, ip=client_ip(request))
        account = await ledger.account_by_id(payout.account_id)
        return payout_out(payout, account, entry)


class StatementsApi(Controller):
    path = "/api/v1/statements"
    tags = ["ledger"]
    guards = [requires_bearer]

    @get("/inventors/{user_id:uuid}")
    async def inventor_statement(
        self,
        principal: CurrentPrincipal,
        ledger: Ledger,
        user_id: FromPath[uuid.UUID],
        period_from: FromQuery[date | None] = None,
        period_to: FromQuery[date | None] = None,
    ) -> schemas.InventorStatement:
        """An inventor's accrued (by result), paid and outstanding over the period: the inventor's
        own; a TTO manager's for their institution; platform roles any."""
        return await ledger.inventor_statement(principal, user_id, period_from, period_to)

    @get("/inventors/{user_id:uuid}/download", operation_class=api_docs.documented(responses={"200": STATEMENT_FILE}))
    async def download_inventor_statement(
        self,
        principal: CurrentPrincipal,
        ledger: Ledger,
        user_id: FromPath[uuid.UUID],
        format: FromQuery[StatementFormat] = "pdf",
        period_from: FromQuery[date | None] = None,
        period_to: FromQuery[date | None] = None,
    ) -> Response:
        """The inventor's statement as a file, entry by entry in CNY: CSV, XLSX or a PDF with Chinese text."""
        return await statement_documents.inventor_download(ledger, principal, user_id, period_from, period_to, format)

    @get("/institutions/{org_id:uuid}")
    async def institution_statement(
        self,
        principal: CurrentPrincipal,
        ledger: Ledger,
        org_id: FromPath[uuid.UUID],
        period_from: FromQuery[date | None] = None,
        period_to: FromQuery[date | None] = None,
    ) -> schemas.InstitutionStatement:
        """An institution's income, costs and distribution by category over the period, payables
        outstanding at its end, and each policy version's compliance with its floors: the TTO
        manager's own institution; platform roles any."""
        return await ledger.institution_statement(principal, org_id, period_from, period_to)

    @get("/institutions/{org_id:uuid}/download", operation_class=api_docs.documented(responses={"200": STATEMENT_FILE}))
    async def download_institution_statement(
        self,
        principal: CurrentPrincipal,
        ledger: Ledger,
        org_id: FromPath[uuid.UUID],
        format: FromQuery[StatementFormat] = "pdf",
        period_from: FromQuery[date | None] = None,
        period_to: FromQuery[date | None] = None,
    ) -> Response:
        """The institution's statement as a file: its summary (income, distribution by category,
        payables outstanding) and each income and payout in CNY; CSV, XLSX or PDF."""
        return await statement_documents.institution_download(ledger, principal, org_id, period_from, period_to, format)

    @get("/results/{listing_id:uuid}")
    async def result_statement(
        self,
        principal: CurrentPrincipal,
        ledger: Ledger,
        listing_id: FromPath[uuid.UUID],
        period_from: FromQuery[date | None] = None,
        period_to: FromQuery[date | None] = None,
    ) -> schemas.ResultStatement:
        """One result's income (gross), costs and distribution by category over the period, and each
        inventor's part: the TTO manager's own institution's results; platform roles any; an
        inventor named on the result sees the totals and their own line only."""
        return await ledger.result_statement(principal, listing_id, period_from, period_to)

    @get("/results/{listing_id:uuid}/download", operation_class=api_docs.documented(responses={"200": STATEMENT_FILE}))
    async def download_result_statement(
        self,
        principal: CurrentPrincipal,
        ledger: Ledger,
        listing_id: FromPath[uuid.UUID],
        format: FromQuery[StatementFormat] = "pdf",
        period_from: FromQuery[date | None] = None,
        period_to: FromQuery[date | None] = None,
    ) -> Response:
        """The result's statement as a file: its summary (income, distribution by category, each
        inventor's part) and each income in CNY; CSV, XLSX or PDF."""
        return await statement_documents.result_download(ledger, principal, listing_id, period_from, period_to, format)


def payout_out(payout, account, entry) -> schemas.PayoutOut:
    return schemas.PayoutOut(
        id=payout.id,
        institution_id=payout.institution_id,
        account_id=account.id,
        payee="tto" if account.kind == "tto" else "inventor",
        user_id=account.user_id,
        holder_name=account.holder_name,
        asset=payout.asset,
        amount=payout.amount,
        paid_on=payout.paid_on,
        reference=payout.reference,
        created_at=payout.created_at,
        entry_id=entry.id,
    )
