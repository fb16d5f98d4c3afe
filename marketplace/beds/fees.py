"""Fees: what the hospital receives for a bed allocation or a trial engagement (their agreed
fee_fen) becomes ledger income of the clinical-trial service kind, so the investigator-initiated
trial fund's share of the institution's policy applies. Recorded by the institution's TTO with an
Idempotency-Key, as every income is: the same key and body answer the first payment, another body
is a 409. The income is received for the record's listing (the research ward or the trial site);
its source is the record, and what is received never exceeds the agreed fee.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import TTO_ROLES
from marketplace.beds.models import AllocationState, BedAllocation, EngagementState, TrialEngagement, Ward
from marketplace.errors import DomainError, FieldError, NotFound, invalid
from marketplace.i18n import N_
from marketplace.ledger import schemas as ledger_schemas
from marketplace.ledger.models import Income, IncomeKind
from marketplace.ledger.services import LedgerService
from marketplace.tenancy import Principal

FeeKind = Literal["allocation", "engagement"]
SOURCE_KINDS: dict[str, Literal["bed_allocation", "trial_engagement"]] = {
    "allocation": "bed_allocation",
    "engagement": "trial_engagement",
}
# Fees are received once the beds or the trial are agreed, and after they end.
PAYABLE: dict[str, frozenset[str]] = {
    "allocation": frozenset({AllocationState.approved, AllocationState.active, AllocationState.completed}),
    "engagement": frozenset({EngagementState.starting, EngagementState.active, EngagementState.completed}),
}


@dataclass(frozen=True)
class FeePayment:
    kind: FeeKind
    record_id: uuid.UUID
    income: Income
    fee_fen: int
    received_fen: int
    new: bool  # False: the same key and body again, the first payment


def ledger_key(kind: str, record_id: uuid.UUID, key: str) -> str:
    """The client's key, per record (the ledger's keys are per institution)."""
    return f"beds:{kind}:{record_id}:{key}"[:200]


class Fees:
    """Mixed into BedsService (services.py)."""

    session: AsyncSession

    async def _payable_record(
        self, principal: Principal, kind: FeeKind, record_id: uuid.UUID
    ) -> tuple[int, uuid.UUID | None, str]:
        """The record locked (payments of one record wait for each other, so the fee cannot be
        exceeded by two at once): its fee, its listing and its state; NotFound outside the TTO's
        institution."""
        if kind == "allocation":
            allocation = await self.session.scalar(
                select(BedAllocation)
                .where(BedAllocation.id == record_id, BedAllocation.institution_id == principal.organization_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            if allocation is None:
                raise NotFound()
            listing_id = await self.session.scalar(select(Ward.listing_id).where(Ward.id == allocation.ward_id))
            return allocation.fee_fen, listing_id, allocation.state
        engagement = await self.session.scalar(
            select(TrialEngagement)
            .where(TrialEngagement.id == record_id, TrialEngagement.institution_id == principal.organization_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if engagement is None:
            raise NotFound()
        return engagement.fee_fen, engagement.listing_id, engagement.state

    async def received_fen(self, kind: FeeKind, record_id: uuid.UUID) -> int:
        stmt = select(func.coalesce(func.sum(Income.amount), 0)).where(
            Income.source_kind == SOURCE_KINDS[kind], Income.source_ref == str(record_id)
        )
        return int(await self.session.scalar(stmt) or 0)

    async def record_fee_payment(
        self,
        principal: Principal,
        kind: FeeKind,
        record_id: uuid.UUID,
        amount_fen: int,
        received_on: date,
        idempotency_key: str | None,
        *,
        ip: str | None = None,
    ) -> FeePayment:
        """The institution's TTO records money received for an allocation's or engagement's fee."""
        principal.require(*TTO_ROLES)
        if not idempotency_key:
            raise DomainError(
                N_("The request has invalid fields."),
                FieldError("Idempotency-Key", N_("Required: a key of your choosing, the same for every retry.")),
                status_code=400,
            )
        fee_fen, listing_id, state = await self._payable_record(principal, kind, record_id)
        if listing_id is None:
            raise invalid(f"{kind}_id", N_("The trial engagement names no trial-site listing to receive its fees for."))
        key = ledger_key(kind, record_id, idempotency_key)
        replay = await self.session.scalar(
            select(Income.id).where(Income.institution_id == principal.organization_id, Income.idempotency_key == key)
        )
        if replay is None:
            # A retry answers the first payment whatever happened since; only a new one is checked.
            if state not in PAYABLE[kind]:
                raise invalid(f"{kind}_id", N_("Fees are received only once the beds or the trial are agreed."))
            received = await self.received_fen(kind, record_id)
            if received + amount_fen > fee_fen:
                raise invalid(
                    "amount_fen",
                    N_("More than the agreed fee: %(left)s fen of it are still to be received."),
                    left=max(0, fee_fen - received),
                )
        body = ledger_schemas.IncomeCreate(
            result_id=listing_id,
            kind=IncomeKind.clinical_service,
            source_kind=SOURCE_KINDS[kind],
            source_ref=str(record_id),
            amount=amount_fen,
            received_on=received_on,
        )
        income = await LedgerService(self.session).record_income(principal, body, key, ip=ip)
        return FeePayment(kind, record_id, income, fee_fen, await self.received_fen(kind, record_id), new=replay is None)
