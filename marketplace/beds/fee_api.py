"""JSON API of fees received: POST /api/v1/bed-allocations/{id}/payments and
/api/v1/trial-engagements/{id}/payments (the institution's TTO, with an Idempotency-Key). The
rules are the beds service's (fees.py); the money becomes clinical-trial service income in the ledger."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, Response, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from marketplace.accounts.api import requires_bearer
from marketplace.accounts.scopes import Scope, needs
from marketplace.beds.fee_schemas import FeePaymentIn, FeePaymentOut
from marketplace.beds.fees import FeePayment
from marketplace.beds.services import Beds
from marketplace.licensing.payment_api import IdempotencyKeyHeader
from marketplace.tenancy import CurrentPrincipal
from marketplace.web import client_ip

REPLAYED = {
    HTTP_200_OK: ResponseSpec(
        FeePaymentOut,
        description="The same Idempotency-Key and body again: the payment recorded the first time.",
        generate_examples=False,
    )
}


def fee_payment_out(payment: FeePayment) -> Response[FeePaymentOut]:
    income = payment.income
    out = FeePaymentOut(
        kind=payment.kind,
        record_id=payment.record_id,
        income_id=income.id,
        amount_fen=income.amount,
        received_on=income.received_on,
        fee_fen=payment.fee_fen,
        received_fen=payment.received_fen,
        created_at=income.created_at,
    )
    return Response(out, status_code=HTTP_201_CREATED if payment.new else HTTP_200_OK)


class BedFeesApi(Controller):
    tags = ["beds"]
    guards = [requires_bearer]

    @post(
        "/api/v1/bed-allocations/{allocation_id:uuid}/payments",
        status_code=HTTP_201_CREATED,
        responses=REPLAYED,
        opt=needs(Scope.payments_write),
    )
    async def allocation_payment(
        self,
        request: Request,
        principal: CurrentPrincipal,
        beds: Beds,
        allocation_id: FromPath[uuid.UUID],
        data: JSONBody[FeePaymentIn],
        idempotency_key: IdempotencyKeyHeader = "",
    ) -> Response[FeePaymentOut]:
        """The institution's TTO records money received for a bed allocation's agreed fee, with an
        `Idempotency-Key` header; it becomes clinical-trial service income in the ledger at once. The
        same key and body again answers the first payment (200); the same key with another body is a 409."""
        payment = await beds.record_fee_payment(
            principal, "allocation", allocation_id, data.amount_fen, data.received_on, idempotency_key, ip=client_ip(request)
        )
        return fee_payment_out(payment)

    @post(
        "/api/v1/trial-engagements/{engagement_id:uuid}/payments",
        status_code=HTTP_201_CREATED,
        responses=REPLAYED,
        opt=needs(Scope.payments_write),
    )
    async def engagement_payment(
        self,
        request: Request,
        principal: CurrentPrincipal,
        beds: Beds,
        engagement_id: FromPath[uuid.UUID],
        data: JSONBody[FeePaymentIn],
        idempotency_key: IdempotencyKeyHeader = "",
    ) -> Response[FeePaymentOut]:
        """The institution's TTO records money received for a trial engagement's agreed fee (as for
        a bed allocation's)."""
        payment = await beds.record_fee_payment(
            principal, "engagement", engagement_id, data.amount_fen, data.received_on, idempotency_key, ip=client_ip(request)
        )
        return fee_payment_out(payment)
