"""JSON API of an agreement's money: /api/v1/agreements/{id}/payments (the TTO records money
received, with an Idempotency-Key), /royalty-reports (net sales for a period) and /milestones (a
milestone reached). The rules are the licensing service's (payments.py, royalties.py)."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, HeaderParameter, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from marketplace.accounts.api import requires_bearer
from marketplace.accounts.scopes import Scope, needs
from marketplace.licensing import schemas
from marketplace.licensing.models import ObligationState, Payment, RoyaltyReport, State
from marketplace.licensing.services import Licensing, LicensingService
from marketplace.tenancy import CurrentPrincipal
from marketplace.web import client_ip

# A plain string ("" when left out): the schema documents no null, and the service asks for it.
IdempotencyKeyHeader = Annotated[
    str,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        max_length=200,
        description="A key of the client's choosing: a retry with the same key and body answers the first payment.",
    ),
]


def payment_out(payment: Payment) -> schemas.PaymentOut:
    return schemas.PaymentOut(
        id=payment.id,
        agreement_id=payment.agreement_id,
        obligation_id=payment.obligation_id,
        amount_fen=payment.amount_fen,
        received_on=payment.received_on,
        reference=payment.reference,
        income_ids=list(payment.income_ids),
        created_at=payment.created_at,
    )


async def reports_out(licensing: LicensingService, reports: list[RoyaltyReport]) -> list[schemas.RoyaltyReportOut]:
    items = await licensing.report_obligations({report.id for report in reports})
    return [
        schemas.RoyaltyReportOut(
            id=report.id,
            agreement_id=report.agreement_id,
            period_start=report.period_start,
            period_end=report.period_end,
            net_sales_fen=report.net_sales_fen,
            royalty_fen=report.royalty_fen,
            first_revenue=report.first_revenue,
            obligation_id=items.get(report.id),
            created_at=report.created_at,
        )
        for report in reports
    ]


class AgreementMoneyApi(Controller):
    path = "/api/v1/agreements/{agreement_id:uuid}"
    tags = ["licensing"]
    guards = [requires_bearer]

    @get("/payments", opt=needs(Scope.payments_read))
    async def list_payments(
        self, principal: CurrentPrincipal, licensing: Licensing, agreement_id: FromPath[uuid.UUID]
    ) -> list[schemas.PaymentOut]:
        """The agreement's payments, oldest first (either side of the agreement; platform roles)."""
        return [payment_out(payment) for payment in await licensing.payments(principal, agreement_id)]

    @post(
        "/payments",
        status_code=HTTP_201_CREATED,
        opt=needs(Scope.payments_write),
        responses={
            HTTP_200_OK: ResponseSpec(
                schemas.PaymentOut,
                description="The same Idempotency-Key and body again: the payment recorded the first time.",
                generate_examples=False,
            )
        },
    )
    async def record_payment(
        self,
        request: Request,
        principal: CurrentPrincipal,
        licensing: Licensing,
        agreement_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.PaymentIn],
        idempotency_key: IdempotencyKeyHeader = "",
    ) -> Response[schemas.PaymentOut]:
        """The institution's TTO records money received for one due item, with an
        `Idempotency-Key` header; it becomes ledger income (one per result) at once. The same key
        and body again answers the first payment (200); the same key with another body is a 409."""
        payment, new = await licensing.record_payment(principal, agreement_id, data, idempotency_key, ip=client_ip(request))
        return Response(payment_out(payment), status_code=HTTP_201_CREATED if new else HTTP_200_OK)

    @get("/royalty-reports", opt=needs(Scope.payments_read))
    async def list_royalty_reports(
        self, principal: CurrentPrincipal, licensing: Licensing, agreement_id: FromPath[uuid.UUID]
    ) -> list[schemas.RoyaltyReportOut]:
        """The agreement's royalty reports, by period."""
        return await reports_out(licensing, await licensing.royalty_reports(principal, agreement_id))

    @post("/royalty-reports", status_code=HTTP_201_CREATED, opt=needs(Scope.payments_write))
    async def report_royalties(
        self,
        request: Request,
        principal: CurrentPrincipal,
        licensing: Licensing,
        agreement_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.RoyaltyReportIn],
    ) -> schemas.RoyaltyReportOut:
        """The licensee's administrator (or the institution's TTO) reports net sales for a period:
        the royalty (rounded down to the fen) falls due; in a pay-later licence's use period the
        first sales convert the licence."""
        report = await licensing.report_royalties(principal, agreement_id, data, ip=client_ip(request))
        return (await reports_out(licensing, [report]))[0]

    @post("/milestones", status_code=HTTP_201_CREATED)
    async def reach_milestone(
        self,
        request: Request,
        principal: CurrentPrincipal,
        licensing: Licensing,
        agreement_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.MilestoneReachedIn],
    ) -> schemas.MilestoneReachedOut:
        """A milestone reached (the licensee's administrator or the TTO): the named milestone item
        falls due; without one, a pay-later licence in use converts at its conversion milestone."""
        agreement = await licensing.reach_milestone(principal, agreement_id, data, ip=client_ip(request))
        items = (await licensing.obligations_of({agreement.id}))[agreement.id]
        item = next((found for found in items if found.id == data.obligation_id), None)
        return schemas.MilestoneReachedOut(
            agreement_id=agreement.id,
            state=State(agreement.state),
            conversion_trigger=agreement.conversion_trigger,
            obligation_id=item.id if item else None,
            obligation_state=ObligationState(item.state) if item else None,
            reached_on=data.reached_on,
            due_on=item.due_on if item else None,
        )
