"""Request and response shapes of licensing. Money is integer fen (`*_fen`), rates basis points
(`*_bp`): no float anywhere (tests/licensing/test_money_types.py scans these, the models and the
OpenAPI document)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

from marketplace.accounts.schemas import Input
from marketplace.licensing.models import Guarantor, Kind, ObligationKind, ObligationState, PaymentMode, State
from marketplace.matching.requests.schemas import MAX_FEN

Fen = Annotated[int, Meta(ge=0, le=MAX_FEN)]
Amount = Annotated[int, Meta(ge=1, le=MAX_FEN)]
Bp = Annotated[int, Meta(ge=0, le=10_000)]
Line = Annotated[str, Meta(min_length=1, max_length=200)]
Text = Annotated[str, Meta(max_length=4000)]
Reason = Annotated[str, Meta(max_length=2000)]


class MilestoneIn(Input):
    """A payment due some days after an event (technology validated, product registered or
    launched, a sales threshold) is reported."""

    event: Line
    amount_fen: Amount
    due_days_after_event: Annotated[int, Meta(ge=0, le=3650)] = 30


class InstalmentIn(Input):
    due_on: date
    amount_fen: Amount


class AgreementTerms(Input, kw_only=True):
    """What a draft says: editable until the TTO manager approves."""

    title: Annotated[str, Meta(max_length=200)] = ""  # blank: the first result's title
    territory: Line = "中国大陆"
    field_of_use: Line
    starts_on: date
    term_months: Annotated[int, Meta(ge=1, le=600)] = 60
    upfront_fen: Fen = 0
    # Pay-later: the licence fee owed once converted, paid in the chosen mode.
    licence_fee_fen: Fen = 0
    royalty_bp: Bp | None = None
    annual_minimum_fen: Amount | None = None
    equity_bp: Annotated[int, Meta(ge=1, le=10_000)] | None = None
    milestones: Annotated[list[MilestoneIn], Meta(max_length=20)] = msgspec.field(default_factory=list)
    instalments: Annotated[list[InstalmentIn], Meta(max_length=60)] = msgspec.field(default_factory=list)
    use_period_months: Annotated[int, Meta(ge=1, le=60)] | None = None
    conversion_milestone: Annotated[str, Meta(max_length=200)] | None = None
    payment_modes: Annotated[list[PaymentMode], Meta(max_length=4)] = msgspec.field(default_factory=list)
    max_instalments: Annotated[int, Meta(ge=1, le=60)] = 4
    deferral_months: Annotated[int, Meta(ge=0, le=60)] = 12
    grace_days: Annotated[int, Meta(ge=0, le=365)] = 30
    report_due_days: Annotated[int, Meta(ge=1, le=365)] = 30
    default_liability: Text = ""
    insurance_ref: Annotated[str, Meta(max_length=200)] | None = None
    guarantor: Guarantor | None = None
    language: Literal["zh", "en"] = "zh"
    notes: Text = ""


class AgreementCreate(AgreementTerms, kw_only=True):
    """From an agreed match request (the company and result come from it), or a deal made
    elsewhere (the TTO names the company and its results)."""

    kind: Kind
    match_request_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    result_ids: Annotated[list[uuid.UUID], Meta(max_length=20)] = msgspec.field(default_factory=list)


class TransitionIn(Input, kw_only=True):
    action: Annotated[str, Meta(min_length=1, max_length=40)]
    reason: Reason = ""
    # sign: the SHA-256 of the document the signer read (it must be the current one).
    document_sha256: Annotated[str, Meta(pattern="^[0-9a-f]{64}$")] | None = None
    # choose_payment_mode: the mode, and for instalments how many.
    payment_mode: PaymentMode | None = None
    instalments: Annotated[int, Meta(ge=1, le=60)] | None = None


class ResultRef(Struct):
    id: uuid.UUID
    title: str


class ObligationOut(Struct):
    id: uuid.UUID
    sequence: int
    kind: ObligationKind
    state: ObligationState
    state_label: str
    label: str  # what it is for, in the reader's language
    amount_fen: int
    paid_fen: int
    outstanding_fen: int
    due_on: date | None
    milestone_event: str | None
    due_days_after_event: int | None
    reached_on: date | None
    paid_on: date | None
    late: bool
    in_default: bool


class NextDue(Struct):
    """What comes next on an agreement: an obligation's day, or the end of the use period."""

    kind: Literal["obligation", "use_period_end", "royalty_report"]
    due_on: date
    label: str
    amount_fen: int | None = None


class AgreementOut(Struct, kw_only=True):
    id: uuid.UUID
    kind: Kind
    state: State
    state_label: str
    institution_id: uuid.UUID
    institution_name: str
    company_id: uuid.UUID
    company_name: str
    match_request_id: uuid.UUID | None
    open_licence_id: uuid.UUID | None
    results: list[ResultRef]
    title: str
    territory: str
    field_of_use: str
    starts_on: date
    term_months: int
    ends_on: date
    currency: str
    upfront_fen: int
    licence_fee_fen: int
    royalty_bp: int | None
    annual_minimum_fen: int | None
    equity_bp: int | None
    use_period_months: int | None
    use_ends_on: date | None
    conversion_milestone: str | None
    payment_modes: list[PaymentMode]
    payment_mode: PaymentMode | None
    max_instalments: int
    deferral_months: int
    grace_days: int
    report_due_days: int
    default_liability: str
    insurance_ref: str | None
    guarantor: Guarantor | None
    language: str
    notes: str
    approved_at: datetime | None
    document_sha256: str | None
    institution_signed_at: datetime | None
    company_signed_at: datetime | None
    effective_at: datetime | None
    converted_at: datetime | None
    conversion_trigger: str | None
    ended_at: datetime | None
    end_reason: str
    created_at: datetime
    updated_at: datetime
    obligations: list[ObligationOut]
    next_due: NextDue | None
    in_default: bool
    actions: list[str]


class AgreementSummary(Struct, kw_only=True):
    id: uuid.UUID
    kind: Kind
    state: State
    state_label: str
    title: str
    institution_id: uuid.UUID
    institution_name: str
    company_id: uuid.UUID
    company_name: str
    starts_on: date
    next_due: NextDue | None
    late: bool  # an item is past its due day, unpaid
    in_default: bool


class AgreementPage(Struct):
    items: list[AgreementSummary]
    total: int


# ----- payments, royalty reports, milestones (payments.py, royalties.py) ----------------------------


class PaymentIn(Input, kw_only=True):
    """Money received for one item of the schedule (the TTO records it, with an Idempotency-Key)."""

    obligation_id: uuid.UUID
    amount_fen: Amount
    received_on: date
    reference: Annotated[str, Meta(max_length=200)] = ""


class PaymentOut(Struct, kw_only=True):
    id: uuid.UUID
    agreement_id: uuid.UUID
    obligation_id: uuid.UUID
    amount_fen: int
    received_on: date
    reference: str
    income_ids: list[uuid.UUID]
    created_at: datetime


class RoyaltyReportIn(Input, kw_only=True):
    """Net sales for a period, from the licensee (or the TTO); the first with sales converts a
    pay-later licence in its use period (trigger: first revenue)."""

    period_start: date
    period_end: date
    net_sales_fen: Fen


class RoyaltyReportOut(Struct, kw_only=True):
    id: uuid.UUID
    agreement_id: uuid.UUID
    period_start: date
    period_end: date
    net_sales_fen: int
    royalty_fen: int
    first_revenue: bool
    obligation_id: uuid.UUID | None
    created_at: datetime


class MilestoneReachedIn(Input, kw_only=True):
    """A milestone reached: a paid milestone of the schedule (its obligation), or a pay-later
    licence's conversion milestone (no obligation: it converts the licence)."""

    obligation_id: uuid.UUID | None = None
    reached_on: date


class MilestoneReachedOut(Struct, kw_only=True):
    """After a milestone: the agreement's state (converted, for a conversion milestone) and the
    milestone item that fell due, if one was named."""

    agreement_id: uuid.UUID
    state: State
    conversion_trigger: str | None
    obligation_id: uuid.UUID | None
    obligation_state: ObligationState | None
    reached_on: date
    due_on: date | None
