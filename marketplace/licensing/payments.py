"""Payments: the institution's TTO records money received for one item of an agreement's schedule,
with an Idempotency-Key (the same key and body answer the first payment, another body is a 409),
and in the same transaction the money becomes ledger income — one income per result the
agreement covers, the amount split exactly — so it reaches the inventors' statements.

PostgreSQL keeps the rules too: a payment is only for an item due on an agreement in force
(trigger licensing_payments_for_due, so never on a pay-later licence before it converts), never
more than is owed (the obligation's paid_within_amount check), and never changes once recorded.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import uuid
from datetime import datetime
from typing import Final

import msgspec
from sqlalchemy import select

from marketplace import states
from marketplace.accounts.models import TTO_ROLES
from marketplace.audit import services as audit
from marketplace.db import add_unless_taken, china_day, utcnow
from marketplace.errors import Conflict, DomainError, FieldError, NotFound, invalid
from marketplace.i18n import N_
from marketplace.ledger import schemas as ledger_schemas
from marketplace.ledger.models import IncomeKind
from marketplace.ledger.services import LedgerService
from marketplace.licensing.agreements import Agreements
from marketplace.licensing.lifecycle import OBLIGATION
from marketplace.licensing.models import (
    PAYING_STATES,
    Agreement,
    AgreementResult,
    Kind,
    Obligation,
    ObligationState,
    Payment,
)
from marketplace.licensing.schedule import split_evenly
from marketplace.licensing.schemas import PaymentIn
from marketplace.tenancy import Principal

KEY_CONSTRAINT = "uq_licensing_payments_idempotency_key"
SOURCE_KIND: Final = "licensing_payment"


def request_hash(data: PaymentIn) -> str:
    """The body as canonical JSON (sorted keys, defaults filled in), hashed."""
    canonical = json.dumps(msgspec.to_builtins(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def income_key(payment_id: uuid.UUID, result_id: uuid.UUID) -> str:
    """The ledger income's own idempotency key: one per payment and result, never reused."""
    return f"licensing:{payment_id}:{result_id}"


class _KeyTaken(Exception):
    """The idempotency key was taken by a request at the same moment: undo this one's incomes."""


class Payments(Agreements):
    """Mixed into LicensingService (services.py)."""

    async def _payment_by_key(self, agreement_id: uuid.UUID, key: str) -> Payment | None:
        return await self.session.scalar(
            select(Payment).where(Payment.agreement_id == agreement_id, Payment.idempotency_key == key)
        )

    @staticmethod
    def _replay(existing: Payment, digest: str) -> tuple[Payment, bool]:
        if existing.request_hash != digest:
            raise Conflict(
                N_("This idempotency key was already used with a different request."),
                FieldError("Idempotency-Key", N_("Use a new key for a new request.")),
            )
        return existing, False

    async def record_payment(
        self,
        principal: Principal,
        agreement_id: uuid.UUID,
        data: PaymentIn,
        idempotency_key: str | None,
        *,
        ip: str | None = None,
        now: datetime | None = None,
    ) -> tuple[Payment, bool]:
        """The institution's TTO records money received for one due item; answers the payment and
        whether it is new (False: the same key and body again, the first payment)."""
        principal.require(*TTO_ROLES)
        if not idempotency_key:
            raise DomainError(
                N_("The request has invalid fields."),
                FieldError("Idempotency-Key", N_("Required: a key of your choosing, the same for every retry.")),
                status_code=400,
            )
        now = now or utcnow()
        # The agreement, then the item, locked in the order every step of the lifecycle takes them:
        # a second identical request waits here and then finds the first payment by its key.
        agreement = await self.get(principal, agreement_id, for_update=True)
        if agreement.institution_id != principal.organization_id:
            raise NotFound()
        obligation = await self.session.scalar(
            select(Obligation)
            .where(Obligation.id == data.obligation_id, Obligation.agreement_id == agreement.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if obligation is None:
            raise invalid("obligation_id", N_("No item of this agreement's schedule has this id."))
        digest = request_hash(data)
        existing = await self._payment_by_key(agreement.id, idempotency_key)
        if existing is not None:
            return self._replay(existing, digest)
        if agreement.state not in PAYING_STATES:
            raise Conflict(
                N_("Money is received only on an agreement in force (a pay-later licence once it converts)."),
                FieldError("obligation_id", N_("Not allowed from the agreement's current state.")),
            )
        if obligation.state != ObligationState.due:
            raise Conflict(
                N_("Only an item that is due can be paid."),
                FieldError("obligation_id", N_("Not allowed from the item's current state.")),
            )
        outstanding = obligation.amount_fen - obligation.paid_fen
        if data.amount_fen > outstanding:
            raise invalid("amount_fen", N_("At most what is still owed on this item: %(fen)s fen."), fen=outstanding)
        if data.received_on > china_day(now):
            raise invalid("received_on", N_("Cannot be in the future."))

        payment = Payment(
            id=uuid.uuid4(),
            agreement_id=agreement.id,
            obligation_id=obligation.id,
            amount_fen=data.amount_fen,
            received_on=data.received_on,
            reference=data.reference.strip(),
            idempotency_key=idempotency_key,
            request_hash=digest,
            created_by_user_id=principal.user_id,
        )
        # The incomes first (a recorded payment never changes, so it is written with their ids);
        # all in a savepoint, dropped if the key turns out taken by a request at the same moment.
        try:
            async with self.session.begin_nested():
                payment.income_ids = await self._to_ledger(principal, agreement, payment, ip=ip)
                if not await add_unless_taken(self.session, payment, KEY_CONSTRAINT):
                    raise _KeyTaken()
        except _KeyTaken:
            taken = await self._payment_by_key(agreement.id, idempotency_key)
            assert taken is not None, "the unique key was taken by a committed payment"
            return self._replay(taken, digest)

        obligation.paid_fen += data.amount_fen
        if obligation.paid_fen == obligation.amount_fen:
            obligation.paid_on = data.received_on
            await states.apply(
                self.session, OBLIGATION, principal, obligation, "settle", as_system=True, now=now, context=agreement
            )
        await self.session.flush()
        await audit.record(
            self.session,
            "licensing_payment_recorded",
            actor_user_id=principal.user_id,
            organization_id=agreement.institution_id,
            subject=agreement,
            ip=ip,
            payment_id=payment.id,
            obligation_id=obligation.id,
            amount_fen=payment.amount_fen,
            received_on=payment.received_on.isoformat(),
            income_ids=[str(income_id) for income_id in payment.income_ids],
            settled=obligation.state == ObligationState.paid,
        )
        return payment, True

    async def _to_ledger(
        self, principal: Principal, agreement: Agreement, payment: Payment, *, ip: str | None
    ) -> builtins.list[uuid.UUID]:
        """One ledger income per result, the amount split exactly (the leftover fen to the first)."""
        results = list(
            await self.session.scalars(
                select(AgreementResult.listing_id)
                .where(AgreementResult.agreement_id == agreement.id)
                .order_by(AgreementResult.position)
            )
        )
        kind = IncomeKind.equity if agreement.kind == Kind.equity else IncomeKind.licence
        company = None
        if kind == IncomeKind.equity:
            company = (await self.accounts.public_organization(agreement.company_id, "company")).name_zh[:100]
        ledger = LedgerService(self.session)
        income_ids = []
        for result_id, amount in zip(results, split_evenly(payment.amount_fen, len(results)), strict=True):
            if amount == 0:
                continue  # fewer fen than results
            body = ledger_schemas.IncomeCreate(
                result_id=result_id,
                kind=kind,
                source_kind=SOURCE_KIND,
                source_ref=str(payment.id),
                amount=amount,
                received_on=payment.received_on,
                company=company,
            )
            income = await ledger.record_income(principal, body, income_key(payment.id, result_id), ip=ip)
            income_ids.append(income.id)
        return income_ids

    async def payments(self, principal: Principal, agreement_id: uuid.UUID) -> builtins.list[Payment]:
        """An agreement's payments, oldest first, for whoever may read the agreement."""
        agreement = await self.get(principal, agreement_id)
        stmt = select(Payment).where(Payment.agreement_id == agreement.id).order_by(Payment.created_at, Payment.id)
        return list((await self.session.scalars(stmt)).all())
