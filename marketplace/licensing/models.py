"""Tables of licensing: agreements (from an agreed match, an open licence or a deal made
elsewhere), the results they cover, their generated documents, the obligations they create
(upfront fee, milestones, instalments, royalties), royalty reports, payments, open-licence
declarations and the reminders already sent.

Money is integer fen with a currency; rates are basis points. PostgreSQL guards the states (the
triggers of migration 0014, written from lifecycle.py), keeps a pay-later licence free of
obligations until it converts, never lets a payment exceed what is owed, and refuses any change
to a generated document.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, Timestamps, UUIDPrimaryKey, in_values

CNY = "CNY"
TOTAL_BP = 10_000
DEFAULT_GRACE_DAYS = 30
DEFAULT_REPORT_DUE_DAYS = 30


class Kind(enum.StrEnum):
    assignment = "assignment"  # 转让
    exclusive = "exclusive"  # 独占许可
    non_exclusive = "non_exclusive"  # 普通许可
    pay_later = "pay_later"  # 先使用后付费
    open_licence = "open_licence"  # 开放许可: an ordinary licence on declared terms
    equity = "equity"  # 作价投资
    co_development = "co_development"


# Kinds that exclude anyone else from the same result and field, in an overlapping territory and time.
EXCLUSIVE_KINDS = frozenset({Kind.assignment, Kind.exclusive, Kind.equity})


class State(enum.StrEnum):
    draft = "draft"
    approved = "approved"  # by the TTO manager; the document is generated
    signed = "signed"  # by both sides; waits for the effective date
    active = "active"  # a licence (not pay-later) in force
    in_use = "in_use"  # pay-later: the use period runs, nothing is due
    converted = "converted"  # pay-later: now a paid licence with its schedule
    exited = "exited"  # pay-later: the rights returned, nothing due
    terminated = "terminated"  # breach or end by the institution, with a reason
    cancelled = "cancelled"  # never signed


# States in which the licence holds rights (for exclusivity and the performance record).
LIVE_STATES = frozenset({State.approved, State.signed, State.active, State.in_use, State.converted})
# States in which money can be owed and paid.
PAYING_STATES = frozenset({State.active, State.converted})


class PaymentMode(enum.StrEnum):
    lump_sum = "lump_sum"  # 一次性支付
    instalments = "instalments"  # 分期支付
    deferred = "deferred"  # 延期支付: one payment, later
    revenue_share = "revenue_share"  # 收入提成


class ConversionTrigger(enum.StrEnum):
    use_period_end = "use_period_end"
    first_revenue = "first_revenue"
    milestone = "milestone"
    early = "early"  # the licensee chose to convert before any trigger


class Guarantor(enum.StrEnum):
    tto = "tto"  # a three-party agreement: the transfer office provides performance service
    platform = "platform"


class Agreement(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "licensing_agreements"
    __table_args__ = (
        ForeignKeyConstraint(
            ["institution_id", "institution_kind"],
            ["organizations.id", "organizations.kind"],
            name="fk_licensing_agreements_institution",
        ),
        ForeignKeyConstraint(
            ["company_id", "company_kind"], ["organizations.id", "organizations.kind"], name="fk_licensing_agreements_company"
        ),
        CheckConstraint("institution_kind = 'institution'", name="institution_kind"),
        CheckConstraint("company_kind = 'company'", name="company_kind"),
        CheckConstraint(in_values("kind", Kind), name="kind"),
        CheckConstraint(in_values("state", State), name="state"),
        CheckConstraint("currency = 'CNY'", name="currency"),
        CheckConstraint(
            "upfront_fen >= 0 AND licence_fee_fen >= 0 AND coalesce(annual_minimum_fen, 0) >= 0", name="money_not_negative"
        ),
        CheckConstraint("royalty_bp IS NULL OR royalty_bp BETWEEN 0 AND 10000", name="royalty_bp_range"),
        CheckConstraint("equity_bp IS NULL OR equity_bp BETWEEN 1 AND 10000", name="equity_bp_range"),
        CheckConstraint("annual_minimum_fen IS NULL OR royalty_bp IS NOT NULL", name="minimum_needs_royalty"),
        CheckConstraint("term_months BETWEEN 1 AND 600", name="term_months_range"),
        CheckConstraint("grace_days BETWEEN 0 AND 365", name="grace_days_range"),
        CheckConstraint("report_due_days BETWEEN 1 AND 365", name="report_due_days_range"),
        # 零门槛: a pay-later licence has no entry fee, and a use period of 1 to 60 months.
        CheckConstraint(
            "(kind = 'pay_later') = (use_period_months IS NOT NULL)"
            " AND (kind <> 'pay_later' OR (upfront_fen = 0 AND use_period_months BETWEEN 1 AND 60))",
            name="pay_later_terms",
        ),
        CheckConstraint("(kind = 'equity') = (equity_bp IS NOT NULL)", name="equity_terms"),
        CheckConstraint("(kind = 'open_licence') = (open_licence_id IS NOT NULL)", name="open_licence_terms"),
        CheckConstraint("payment_mode IS NULL OR payment_mode = ANY (payment_modes)", name="payment_mode_allowed"),
        CheckConstraint(
            "payment_modes <@ ARRAY['lump_sum', 'instalments', 'deferred', 'revenue_share']::varchar[]",
            name="payment_modes_known",
        ),
        CheckConstraint("max_instalments BETWEEN 1 AND 60", name="max_instalments_range"),
        CheckConstraint("deferral_months BETWEEN 0 AND 60", name="deferral_months_range"),
        CheckConstraint("guarantor IS NULL OR guarantor IN ('tto', 'platform')", name="guarantor"),
        CheckConstraint("language IN ('zh', 'en')", name="language"),
        CheckConstraint(
            "conversion_trigger IS NULL OR conversion_trigger IN ('use_period_end', 'first_revenue', 'milestone', 'early')",
            name="conversion_trigger",
        ),
        CheckConstraint("(state = 'converted') <= (converted_at IS NOT NULL)", name="converted_when"),
        CheckConstraint(
            "state NOT IN ('signed', 'active', 'in_use', 'converted', 'exited')"
            " OR (institution_signed_at IS NOT NULL AND company_signed_at IS NOT NULL AND document_sha256 IS NOT NULL)",
            name="signed_by_both",
        ),
        Index(
            "uq_licensing_agreements_match_request",
            "match_request_id",
            unique=True,
            postgresql_where=text("match_request_id IS NOT NULL AND state <> 'cancelled'"),
        ),
        Index("ix_licensing_agreements_institution_state", "institution_id", "state"),
        Index("ix_licensing_agreements_company_state", "company_id", "state"),
    )

    institution_id: Mapped[uuid.UUID] = mapped_column()
    institution_kind: Mapped[str] = mapped_column(String(16), default="institution", server_default="institution")
    company_id: Mapped[uuid.UUID] = mapped_column()
    company_kind: Mapped[str] = mapped_column(String(16), default="company", server_default="company")
    match_request_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("match_requests.id", ondelete="RESTRICT"))
    open_licence_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("licensing_open_licences.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default=State.draft, server_default="draft")
    title: Mapped[str] = mapped_column(String(200))
    territory: Mapped[str] = mapped_column(String(200))
    field_of_use: Mapped[str] = mapped_column(String(500))
    starts_on: Mapped[date] = mapped_column(Date)  # the effective date
    term_months: Mapped[int] = mapped_column(Integer)
    ends_on: Mapped[date] = mapped_column(Date)  # starts_on + term_months
    currency: Mapped[str] = mapped_column(String(3), default=CNY, server_default=CNY)
    upfront_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Pay-later: the fee owed on conversion (paid by the chosen mode); others: 0 (see obligations).
    licence_fee_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    royalty_bp: Mapped[int | None] = mapped_column(Integer)
    annual_minimum_fen: Mapped[int | None] = mapped_column(BigInteger)
    equity_bp: Mapped[int | None] = mapped_column(Integer)
    # Pay-later: the use period and what may end it early.
    use_period_months: Mapped[int | None] = mapped_column(Integer)
    use_ends_on: Mapped[date | None] = mapped_column(Date)
    conversion_milestone: Mapped[str | None] = mapped_column(String(200))
    payment_modes: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list, server_default="{}")
    payment_mode: Mapped[str | None] = mapped_column(String(20))
    max_instalments: Mapped[int] = mapped_column(Integer, default=4, server_default="4")
    deferral_months: Mapped[int] = mapped_column(Integer, default=12, server_default="12")
    grace_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_GRACE_DAYS, server_default=str(DEFAULT_GRACE_DAYS))
    report_due_days: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_REPORT_DUE_DAYS, server_default=str(DEFAULT_REPORT_DUE_DAYS)
    )
    default_liability: Mapped[str] = mapped_column(Text, default="", server_default="")
    insurance_ref: Mapped[str | None] = mapped_column(String(200))
    guarantor: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(2), default="zh", server_default="zh")
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")

    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    institution_signed_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    institution_signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    company_signed_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    company_signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    effective_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    converted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    conversion_trigger: Mapped[str | None] = mapped_column(String(20))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # exited, terminated or cancelled
    end_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    state_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AgreementResult(Base):
    """A result (a published listing of the licensor) the agreement covers."""

    __tablename__ = "licensing_agreement_results"

    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("licensing_agreements.id", ondelete="CASCADE"), primary_key=True)
    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="RESTRICT"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Document(UUIDPrimaryKey, Base):
    """An agreement's generated text (PDF). Never changed once written: a new version is a new row."""

    __tablename__ = "licensing_documents"
    __table_args__ = (
        UniqueConstraint("agreement_id", "version", name="uq_licensing_documents_version"),
        CheckConstraint("language IN ('zh', 'en')", name="language"),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
    )

    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("licensing_agreements.id", ondelete="RESTRICT"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(2))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ObligationKind(enum.StrEnum):
    upfront = "upfront"
    milestone = "milestone"
    instalment = "instalment"
    lump_sum = "lump_sum"  # pay-later converted: the whole fee at once (also the deferred mode's one payment)
    royalty = "royalty"
    annual_minimum = "annual_minimum"  # the top-up when a year's royalties fall short of the minimum


class ObligationState(enum.StrEnum):
    pending = "pending"  # a milestone not reached yet: nothing is due
    due = "due"
    paid = "paid"
    waived = "waived"  # by the TTO, with a reason
    cancelled = "cancelled"  # the agreement ended (exit, termination) before it fell due


OPEN_OBLIGATIONS = frozenset({ObligationState.pending, ObligationState.due})


class Obligation(UUIDPrimaryKey, Timestamps, Base):
    """Something the licensee owes, or will owe when its event comes."""

    __tablename__ = "licensing_obligations"
    __table_args__ = (
        CheckConstraint(in_values("kind", ObligationKind), name="kind"),
        CheckConstraint(in_values("state", ObligationState), name="state"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("paid_fen >= 0 AND paid_fen <= amount_fen", name="paid_within_amount"),
        CheckConstraint("(state = 'paid') = (paid_fen = amount_fen)", name="paid_in_full"),
        CheckConstraint("state <> 'due' OR due_on IS NOT NULL", name="due_has_day"),
        CheckConstraint("(kind = 'milestone') = (milestone_event IS NOT NULL)", name="milestone_event"),
        CheckConstraint("due_days_after_event IS NULL OR due_days_after_event BETWEEN 0 AND 3650", name="due_days_range"),
        UniqueConstraint("agreement_id", "sequence", name="uq_licensing_obligations_sequence"),
        Index("ix_licensing_obligations_open_due", "due_on", postgresql_where=text("state = 'due'")),
    )

    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("licensing_agreements.id", ondelete="RESTRICT"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)  # the order in the schedule
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default=ObligationState.due, server_default="due")
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    due_on: Mapped[date | None] = mapped_column(Date)
    # Milestones: the event (technology validated, product registered, launched, a sales threshold)
    # and how many days after it is reported the amount falls due.
    milestone_event: Mapped[str | None] = mapped_column(String(200))
    due_days_after_event: Mapped[int | None] = mapped_column(Integer)
    reached_on: Mapped[date | None] = mapped_column(Date)
    royalty_report_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("licensing_royalty_reports.id"))
    paid_on: Mapped[date | None] = mapped_column(Date)  # the day the last fen arrived
    defaulted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # past due + grace, unpaid
    state_reason: Mapped[str] = mapped_column(Text, default="", server_default="")


class RoyaltyReport(UUIDPrimaryKey, Base):
    """Net sales for a period, as the licensee (or the TTO) reported them, and the royalty due."""

    __tablename__ = "licensing_royalty_reports"
    __table_args__ = (
        UniqueConstraint("agreement_id", "period_start", name="uq_licensing_royalty_reports_period"),
        CheckConstraint("period_start <= period_end", name="period_order"),
        CheckConstraint("net_sales_fen >= 0 AND royalty_fen >= 0", name="amounts_not_negative"),
    )

    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("licensing_agreements.id", ondelete="RESTRICT"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    net_sales_fen: Mapped[int] = mapped_column(BigInteger)
    royalty_fen: Mapped[int] = mapped_column(BigInteger)
    first_revenue: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    reported_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Payment(UUIDPrimaryKey, Base):
    """Money received for one obligation, recorded once per idempotency key of its agreement; it
    becomes ledger income (one per result the agreement covers) in the same transaction."""

    __tablename__ = "licensing_payments"
    __table_args__ = (
        UniqueConstraint("agreement_id", "idempotency_key", name="uq_licensing_payments_idempotency_key"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
    )

    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("licensing_agreements.id", ondelete="RESTRICT"), index=True)
    obligation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("licensing_obligations.id", ondelete="RESTRICT"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    received_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(200), default="", server_default="")
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    income_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), default=list, server_default="{}")
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OpenLicenceState(enum.StrEnum):
    active = "active"
    withdrawn = "withdrawn"  # for new takers only: agreements already taken stand


class OpenLicence(UUIDPrimaryKey, Timestamps, Base):
    """开放许可 (Patent Law arts. 50–52): a declaration on a published result of the fee standard,
    payment method and term on which anyone may take an ordinary licence by notice."""

    __tablename__ = "licensing_open_licences"
    __table_args__ = (
        CheckConstraint(in_values("state", OpenLicenceState), name="state"),
        CheckConstraint("upfront_fen >= 0", name="upfront_not_negative"),
        CheckConstraint("royalty_bp IS NULL OR royalty_bp BETWEEN 0 AND 10000", name="royalty_bp_range"),
        CheckConstraint("term_months BETWEEN 1 AND 600", name="term_months_range"),
        CheckConstraint(in_values("payment_mode", PaymentMode), name="payment_mode"),
        Index(
            "uq_licensing_open_licences_active_listing",
            "listing_id",
            unique=True,
            postgresql_where=text("state = 'active'"),
        ),
    )

    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="RESTRICT"), index=True)
    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=OpenLicenceState.active, server_default="active")
    fee_standard: Mapped[str] = mapped_column(Text)  # as declared, in words
    upfront_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    royalty_bp: Mapped[int | None] = mapped_column(Integer)
    payment_mode: Mapped[str] = mapped_column(String(20))
    term_months: Mapped[int] = mapped_column(Integer)
    territory: Mapped[str] = mapped_column(String(200))
    declared_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Reminder(UUIDPrimaryKey, Base):
    """A reminder already sent: its key is unique, so two workers at once send it once."""

    __tablename__ = "licensing_reminders"
    __table_args__ = (UniqueConstraint("key", name="uq_licensing_reminders_key"),)

    key: Mapped[str] = mapped_column(String(200))  # e.g. use_ends:90:<agreement>, late:<obligation>
    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("licensing_agreements.id", ondelete="RESTRICT"), index=True)
    obligation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("licensing_obligations.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(30))
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
