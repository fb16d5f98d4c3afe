"""Tables of the revenue-sharing ledger (收益分配): distribution policies and the floors of the law,
income records, the double-entry journal (accounts, entries, postings, balances) and payouts.

Money is integer fen (asset "CNY"); shares of a company from an equity contribution (作价投资) are
integer units of the asset "SHARES:<company>". The journal is append-only and balanced per asset:
PostgreSQL refuses otherwise (triggers of migration 0013).
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, UUIDPrimaryKey, in_values

CNY = "CNY"
SHARES_PREFIX = "SHARES:"
TOTAL_BP = 10_000


class IncomeKind(enum.StrEnum):
    licence = "licence"  # transfer or licence of a result
    equity = "equity"  # 作价投资: shares of a company
    own_implementation = "own_implementation"  # the institution implements the result itself
    clinical_service = "clinical_service"  # clinical-trial service and bed-use income


class Share(enum.StrEnum):
    """The parts a policy splits net income into, in the fixed order leftover fen are handed out
    after the policy's remainder share (allocation.SHARE_ORDER)."""

    inventors = "inventors"
    tto = "tto"
    iit_fund = "iit_fund"  # 研究者发起的临床研究 fund
    institution = "institution"


class CostKind(enum.StrEnum):
    """Costs a policy may deduct before the split (fiscal research funds never are: Zhejiang)."""

    taxes_fees = "taxes_fees"
    ip_maintenance = "ip_maintenance"  # patent filing and annuities: recovered per the policy's mode
    valuation = "valuation"
    appraisal = "appraisal"
    negotiation = "negotiation"


class PatentCostRecovery(enum.StrEnum):
    all_first = "all_first"  # all patent costs come off a payment before its split
    percentage = "percentage"  # at most `patent_cost_recovery_bp` of each payment


class Jurisdiction(enum.StrEnum):
    national = "national"
    shanghai = "shanghai"
    beijing = "beijing"
    zhejiang = "zhejiang"
    hangzhou = "hangzhou"


class AccountKind(enum.StrEnum):
    income_received = "income_received"  # the source: its balance is minus all income
    deductible_costs = "deductible_costs"
    institution_retained = "institution_retained"
    tto = "tto"
    iit_fund = "iit_fund"
    inventor_payable = "inventor_payable"  # one per inventor (user, or name when not a user)
    cash_paid_out = "cash_paid_out"


# The account each share of a split is posted to.
SHARE_ACCOUNT = {
    Share.tto: AccountKind.tto,
    Share.iit_fund: AccountKind.iit_fund,
    Share.institution: AccountKind.institution_retained,
}
# Accounts that pay out, and so must never go below zero.
PAYABLE = (AccountKind.inventor_payable, AccountKind.tto)


class EntryKind(enum.StrEnum):
    income = "income"
    payout = "payout"
    reversal = "reversal"


class DistributionFloor(Base):
    """A minimum share set by law or local rule, seeded as data by the migration."""

    __tablename__ = "distribution_floors"
    __table_args__ = (
        CheckConstraint(in_values("jurisdiction", Jurisdiction), name="jurisdiction"),
        CheckConstraint(in_values("income_kind", IncomeKind), name="income_kind"),
        CheckConstraint(in_values("share", Share), name="share"),
        CheckConstraint("min_bp BETWEEN 0 AND 10000", name="min_bp_range"),
    )

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(String(20))
    income_kind: Mapped[str] = mapped_column(String(30))
    share: Mapped[str] = mapped_column(String(20))
    min_bp: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(300))


class FloorException(UUIDPrimaryKey, Base):
    """A platform admin's recorded permission for one institution to set a share below one floor."""

    __tablename__ = "distribution_floor_exceptions"
    __table_args__ = (UniqueConstraint("institution_id", "floor_code", name="uq_distribution_floor_exceptions_floor"),)

    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    floor_code: Mapped[str] = mapped_column(ForeignKey("distribution_floors.code"))
    reason: Mapped[str] = mapped_column(Text)
    recorded_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DistributionPolicy(UUIDPrimaryKey, Base):
    """One version of an institution's policy, in force from `effective_from` until the next
    version's date. Versions are never edited: a change is a new version."""

    __tablename__ = "distribution_policies"
    __table_args__ = (
        UniqueConstraint("institution_id", "version", name="uq_distribution_policies_version"),
        CheckConstraint(in_values("remainder_share", Share), name="remainder_share"),
        CheckConstraint(in_values("patent_cost_recovery", PatentCostRecovery), name="patent_cost_recovery"),
        CheckConstraint(
            "(patent_cost_recovery = 'percentage') = (patent_cost_recovery_bp IS NOT NULL)"
            " AND (patent_cost_recovery_bp IS NULL OR patent_cost_recovery_bp BETWEEN 1 AND 10000)",
            name="recovery_bp",
        ),
        Index("ix_distribution_policies_in_force", "institution_id", "effective_from"),
    )

    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[date] = mapped_column(Date)
    deductible_costs: Mapped[list[str]] = mapped_column(ARRAY(String(30)))
    remainder_share: Mapped[str] = mapped_column(String(20))
    patent_cost_recovery: Mapped[str] = mapped_column(String(20))
    patent_cost_recovery_bp: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PolicyShares(Base):
    """A policy's split of one kind of income, in basis points summing to 10,000."""

    __tablename__ = "distribution_policy_shares"
    __table_args__ = (
        CheckConstraint(in_values("income_kind", IncomeKind), name="income_kind"),
        CheckConstraint("inventors_bp >= 0 AND tto_bp >= 0 AND iit_fund_bp >= 0 AND institution_bp >= 0", name="not_negative"),
        CheckConstraint("inventors_bp + tto_bp + iit_fund_bp + institution_bp = 10000", name="sum_10000"),
    )

    policy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("distribution_policies.id"), primary_key=True)
    income_kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    inventors_bp: Mapped[int] = mapped_column(Integer)
    tto_bp: Mapped[int] = mapped_column(Integer)
    iit_fund_bp: Mapped[int] = mapped_column(Integer)
    institution_bp: Mapped[int] = mapped_column(Integer)

    def bp(self, share: Share) -> int:
        return int(getattr(self, f"{share}_bp"))


class ResultOverride(UUIDPrimaryKey, Base):
    """赋权: researchers own `researchers_bp` of a result by agreement; that part of its net income
    goes to the inventors by their shares, the rest is the institution's, split by its policy
    without an inventors' reward share (Zhejiang art. 37). The latest override of a result counts."""

    __tablename__ = "distribution_result_overrides"
    __table_args__ = (CheckConstraint("researchers_bp BETWEEN 0 AND 10000", name="researchers_bp_range"),)

    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    result_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id"), index=True)
    researchers_bp: Mapped[int] = mapped_column(Integer)
    agreement_ref: Mapped[str] = mapped_column(String(200))
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LedgerAccount(UUIDPrimaryKey, Base):
    """An institution's account of one kind; inventor payables are one per inventor, keyed by
    `holder` (the user's id, or "name:<name>" for an inventor without an account here)."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("institution_id", "kind", "holder", name="uq_ledger_accounts_holder"),
        CheckConstraint(in_values("kind", AccountKind), name="kind"),
        CheckConstraint("(kind = 'inventor_payable') = (holder <> '')", name="holder_of_payable"),
    )

    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    kind: Mapped[str] = mapped_column(String(30))
    holder: Mapped[str] = mapped_column(String(120), default="", server_default="")
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)
    holder_name: Mapped[str] = mapped_column(String(100), default="", server_default="")


class LedgerBalance(Base):
    """An account's running balance in one asset, kept with every posting (reconcile checks it
    against the postings); the row payouts lock. Paying accounts never go below zero."""

    __tablename__ = "ledger_balances"
    __table_args__ = (
        CheckConstraint("kind = 'income_received' OR balance >= 0", name="not_negative"),
        CheckConstraint(in_values("kind", AccountKind), name="kind"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_accounts.id"), primary_key=True)
    asset: Mapped[str] = mapped_column(String(120), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    balance: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class Income(UUIDPrimaryKey, Base):
    """Income received for a result, recorded once per idempotency key of its institution."""

    __tablename__ = "ledger_incomes"
    __table_args__ = (
        UniqueConstraint("institution_id", "idempotency_key", name="uq_ledger_incomes_idempotency_key"),
        CheckConstraint(in_values("kind", IncomeKind), name="kind"),
        CheckConstraint(
            "source_kind IN ('licensing_payment', 'manual_contract', 'bed_allocation', 'trial_engagement')", name="source_kind"
        ),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("costs_deducted >= 0 AND costs_deducted <= amount", name="costs_deducted_range"),
    )

    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    result_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    source_kind: Mapped[str] = mapped_column(String(30))
    source_ref: Mapped[str] = mapped_column(String(200))
    asset: Mapped[str] = mapped_column(String(120))
    amount: Mapped[int] = mapped_column(BigInteger)
    received_on: Mapped[date] = mapped_column(Date)
    costs: Mapped[list] = mapped_column(JSONB)
    costs_deducted: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Payout(UUIDPrimaryKey, Base):
    """Money (or shares) paid from a payable account to its holder."""

    __tablename__ = "ledger_payouts"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    asset: Mapped[str] = mapped_column(String(120))
    amount: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(200))
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Entry(UUIDPrimaryKey, Base):
    """One journal entry: its postings balance per asset. Never updated or deleted."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint(in_values("kind", EntryKind), name="kind"),
        CheckConstraint(
            "(kind = 'income' AND income_id IS NOT NULL) OR (kind = 'payout' AND payout_id IS NOT NULL)"
            " OR (kind = 'reversal' AND reverses_entry_id IS NOT NULL AND reason <> '')",
            name="source",
        ),
        Index("ix_ledger_entries_institution", "institution_id", "sequence"),
    )

    # The journal's order, for replaying it.
    sequence: Mapped[int] = mapped_column(BigInteger, Identity(always=True), unique=True)
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    kind: Mapped[str] = mapped_column(String(20))
    income_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("ledger_incomes.id"), unique=True)
    payout_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("ledger_payouts.id"), unique=True)
    # An entry is reversed at most once.
    reverses_entry_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    policy_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("distribution_policies.id"))
    result_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("listings.id"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Posting(Base):
    """A signed amount of one asset on one account. The amounts of an entry sum to zero per asset:
    income_received takes the minus side of income, so every other account's balance is what it holds."""

    __tablename__ = "ledger_postings"
    __table_args__ = (CheckConstraint("amount <> 0", name="not_zero"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    asset: Mapped[str] = mapped_column(String(120))
    amount: Mapped[int] = mapped_column(BigInteger)
