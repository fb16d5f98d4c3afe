"""Request and response shapes of distribution policies, income, the journal and payouts."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

from marketplace.accounts.schemas import Input
from marketplace.ledger.models import CostKind, IncomeKind, PatentCostRecovery, Share
from marketplace.matching.requests.schemas import MAX_FEN

Bp = Annotated[int, Meta(ge=0, le=10_000)]
# An amount of the asset (fen, or share units): positive, far below 2^63.
Amount = Annotated[int, Meta(ge=1, le=MAX_FEN)]
Reference = Annotated[str, Meta(min_length=1, max_length=200)]
Reason = Annotated[str, Meta(min_length=1, max_length=2000)]
IdempotencyKey = Annotated[str, Meta(min_length=1, max_length=200)]


class SharesIn(Input):
    """One kind of income's split, in basis points summing to 10,000."""

    income_kind: IncomeKind
    inventors_bp: Bp
    tto_bp: Bp
    iit_fund_bp: Bp
    institution_bp: Bp


class PolicyCreate(Input, kw_only=True):
    effective_from: date
    shares: Annotated[list[SharesIn], Meta(min_length=1, max_length=4)]
    deductible_costs: Annotated[list[CostKind], Meta(max_length=5)] = msgspec.field(default_factory=list)
    remainder_share: Share = Share.institution
    patent_cost_recovery: PatentCostRecovery = PatentCostRecovery.all_first
    # With `percentage` only: at most this part of each payment recovers patent costs.
    patent_cost_recovery_bp: Annotated[int, Meta(ge=1, le=10_000)] | None = None
    note: Annotated[str, Meta(max_length=2000)] = ""
    # The platform admin names the institution it records for; a TTO manager's is its own.
    institution_id: uuid.UUID | None = None


class SharesOut(Struct):
    income_kind: IncomeKind
    inventors_bp: int
    tto_bp: int
    iit_fund_bp: int
    institution_bp: int


class FloorCheck(Struct):
    """A floor of the law that applies to the policy's institution, and whether the policy meets it."""

    code: str
    jurisdiction: str
    income_kind: IncomeKind
    share: Share
    min_bp: int
    source: str
    policy_bp: int | None
    met: bool
    exception_reason: str | None = None


class PolicyOut(Struct):
    id: uuid.UUID
    institution_id: uuid.UUID
    version: int
    effective_from: date
    shares: list[SharesOut]
    deductible_costs: list[CostKind]
    remainder_share: Share
    patent_cost_recovery: PatentCostRecovery
    patent_cost_recovery_bp: int | None
    note: str
    created_at: datetime
    floors: list[FloorCheck]


class FloorExceptionCreate(Input):
    institution_id: uuid.UUID
    floor_code: Annotated[str, Meta(min_length=1, max_length=60)]
    reason: Reason


class FloorExceptionOut(Struct):
    id: uuid.UUID
    institution_id: uuid.UUID
    floor_code: str
    reason: str
    recorded_at: datetime


class OverrideCreate(Input):
    """赋权: the researchers' own part of a result's net income, by its ownership agreement."""

    result_id: uuid.UUID
    researchers_bp: Bp
    agreement_ref: Reference


class OverrideOut(Struct):
    id: uuid.UUID
    institution_id: uuid.UUID
    result_id: uuid.UUID
    researchers_bp: int
    agreement_ref: str
    created_at: datetime


class CostIn(Input):
    kind: CostKind
    amount_fen: Amount
    # The invoice or receipt that proves the cost.
    document: Reference


class IncomeCreate(Input, kw_only=True):
    result_id: uuid.UUID
    kind: IncomeKind
    source_kind: Literal["licensing_payment", "manual_contract", "bed_allocation", "trial_engagement"] = "manual_contract"
    # A licensing payment's, bed allocation's or trial engagement's id, or the contract's reference.
    source_ref: Reference
    amount: Amount
    received_on: date
    # Equity income only: the company whose shares were received (the asset is its share units).
    company: Annotated[str, Meta(min_length=1, max_length=100)] | None = None
    costs: Annotated[list[CostIn], Meta(max_length=50)] = msgspec.field(default_factory=list)


class PostingOut(Struct):
    account_id: uuid.UUID
    account_kind: str
    holder_user_id: uuid.UUID | None
    holder_name: str
    asset: str
    amount: int


class EntryOut(Struct):
    id: uuid.UUID
    sequence: int
    institution_id: uuid.UUID
    kind: Literal["income", "payout", "reversal"]
    income_id: uuid.UUID | None
    payout_id: uuid.UUID | None
    reverses_entry_id: uuid.UUID | None
    reversed_by_entry_id: uuid.UUID | None
    policy_id: uuid.UUID | None
    result_id: uuid.UUID | None
    reason: str
    created_by_user_id: uuid.UUID | None
    created_at: datetime
    postings: list[PostingOut]


class EntryPage(Struct):
    items: list[EntryOut]
    total: int
    page: int
    page_size: int


class IncomeOut(Struct):
    id: uuid.UUID
    institution_id: uuid.UUID
    result_id: uuid.UUID
    kind: IncomeKind
    source_kind: str
    source_ref: str
    asset: str
    amount: int
    received_on: date
    costs_deducted: int
    net: int
    idempotency_key: str
    entry: EntryOut


class ReversalCreate(Input):
    reason: Reason


class PayoutCreate(Input, kw_only=True):
    # The inventor's payable (by user, or by name for an inventor without an account) or the TTO's.
    payee: Literal["inventor", "tto"]
    user_id: uuid.UUID | None = None
    inventor_name: Annotated[str, Meta(min_length=1, max_length=100)] | None = None
    asset: Annotated[str, Meta(min_length=1, max_length=120)] = "CNY"
    amount: Amount
    paid_on: date
    reference: Reference


class PayoutOut(Struct):
    id: uuid.UUID
    institution_id: uuid.UUID
    account_id: uuid.UUID
    payee: str
    user_id: uuid.UUID | None
    holder_name: str
    asset: str
    amount: int
    paid_on: date
    reference: str
    created_at: datetime
    entry_id: uuid.UUID


class InventorStatementLine(Struct, kw_only=True):
    """What an inventor accrued from one result of one institution, in one asset, over the period."""

    institution_id: uuid.UUID
    result_id: uuid.UUID | None
    result_title: str = ""
    asset: str
    accrued: int


class StatementTotal(Struct):
    asset: str
    accrued: int  # over the period, net of reversals
    paid: int  # over the period, net of reversed payouts
    outstanding: int  # the balance at the end of the period


class InventorStatement(Struct):
    user_id: uuid.UUID
    name: str
    period_from: date | None
    period_to: date | None
    lines: list[InventorStatementLine]
    totals: list[StatementTotal]


class CategoryTotal(Struct):
    """Income received, deductible costs, or a part of the distribution, over the period."""

    category: str
    asset: str
    amount: int


class ResultIncome(Struct):
    """What one result brought in (gross), in one asset, over the period."""

    result_id: uuid.UUID | None
    result_title: str
    asset: str
    income: int


class PayableOut(Struct):
    kind: str  # inventor_payable or tto
    user_id: uuid.UUID | None
    holder_name: str
    asset: str
    outstanding: int


class PolicyCompliance(Struct):
    policy_id: uuid.UUID
    version: int
    effective_from: date
    met: bool  # every floor the version's shares meet, or an exception recorded
    floors: list[FloorCheck]


class InstitutionStatement(Struct):
    institution_id: uuid.UUID
    name: str
    period_from: date | None
    period_to: date | None
    categories: list[CategoryTotal]
    payables: list[PayableOut]
    policies: list[PolicyCompliance]
    results: list[ResultIncome]  # each result's income received over the period


class ResultInventorLine(Struct):
    """An inventor's part of one result: accrued from it over the period; paid over the period and
    outstanding at its end on the inventor's payable at the institution (payouts are not by result)."""

    user_id: uuid.UUID | None
    holder_name: str
    asset: str
    accrued: int
    paid: int
    outstanding: int


class ResultStatement(Struct):
    result_id: uuid.UUID
    title: str
    institution_id: uuid.UUID
    institution_name: str
    period_from: date | None
    period_to: date | None
    categories: list[CategoryTotal]
    inventors: list[ResultInventorLine]
