"""Match requests (对接申请): a company asks an institution about one of its published listings."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, Timestamps, UUIDPrimaryKey, in_values


class EngagementType(enum.StrEnum):
    licence = "licence"
    co_development = "co_development"
    clinical_trial = "clinical_trial"
    resource_use = "resource_use"
    service = "service"


class State(enum.StrEnum):
    submitted = "submitted"
    under_review = "under_review"
    info_requested = "info_requested"
    accepted = "accepted"
    declined = "declined"
    negotiating = "negotiating"
    agreed = "agreed"
    closed_no_deal = "closed_no_deal"
    withdrawn = "withdrawn"


# A request in one of these states can still move; a company has at most one per listing.
# The two parties of a request.
class Side(enum.StrEnum):
    institution = "institution"
    company = "company"


OPEN_STATES = frozenset({State.submitted, State.under_review, State.info_requested, State.accepted, State.negotiating})
# The company sees the listing's confidential details in these states (under the current NDA).
GRANTING_STATES = frozenset({State.accepted, State.negotiating, State.agreed})


class MatchRequest(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "match_requests"
    __table_args__ = (
        ForeignKeyConstraint(
            ["institution_id", "institution_kind"],
            ["organizations.id", "organizations.kind"],
            name="fk_match_requests_institution",
        ),
        ForeignKeyConstraint(
            ["company_id", "company_kind"], ["organizations.id", "organizations.kind"], name="fk_match_requests_company"
        ),
        CheckConstraint("institution_kind = 'institution'", name="institution_kind"),
        CheckConstraint("company_kind = 'company'", name="company_kind"),
        CheckConstraint(in_values("state", State), name="state"),
        CheckConstraint(in_values("engagement_type", EngagementType), name="engagement_type"),
        CheckConstraint("length(btrim(purpose)) > 0", name="purpose_given"),
        CheckConstraint("budget_currency = 'CNY'", name="budget_currency"),
        CheckConstraint("budget_min_fen >= 0 AND budget_max_fen >= 0", name="budget_not_negative"),
        CheckConstraint("budget_min_fen <= budget_max_fen", name="budget_min_le_max"),
        # The response clock runs only while the institution owes an answer.
        CheckConstraint(
            "(state = 'submitted') = (response_due_on IS NOT NULL AND remind_on IS NOT NULL)", name="due_while_submitted"
        ),
        CheckConstraint(
            "state <> 'agreed' OR (company_agreed_at IS NOT NULL AND institution_agreed_at IS NOT NULL)",
            name="agreed_by_both",
        ),
        # One open request per company and listing.
        Index(
            "uq_match_requests_open",
            "listing_id",
            "company_id",
            unique=True,
            postgresql_where=text(in_values("state", sorted(OPEN_STATES))),
        ),
        Index("ix_match_requests_institution_state", "institution_id", "state"),
        Index("ix_match_requests_company_state", "company_id", "state"),
        Index("ix_match_requests_due", "response_due_on", postgresql_where=text("state = 'submitted'")),
    )

    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="RESTRICT"), index=True)
    # The listing's institution, kept on the request so scoping needs no join into the catalogue.
    institution_id: Mapped[uuid.UUID] = mapped_column()
    institution_kind: Mapped[str] = mapped_column(String(16), default="institution", server_default="institution")
    company_id: Mapped[uuid.UUID] = mapped_column()
    company_kind: Mapped[str] = mapped_column(String(16), default="company", server_default="company")
    requested_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(20), default=State.submitted, server_default="submitted")
    engagement_type: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(Text)
    timeline: Mapped[str] = mapped_column(String(500))
    budget_min_fen: Mapped[int | None] = mapped_column(BigInteger)
    budget_max_fen: Mapped[int | None] = mapped_column(BigInteger)
    budget_currency: Mapped[str] = mapped_column(String(3), default="CNY", server_default="CNY")
    message: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The NDA version the company accepted (the latest it accepted, if it accepted again).
    nda_version: Mapped[int] = mapped_column(ForeignKey("nda_versions.version"))
    nda_accepted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # While submitted: the last working day to answer, and the day the reminder is due.
    response_due_on: Mapped[date | None] = mapped_column(Date)
    remind_on: Mapped[date | None] = mapped_column(Date)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The institution's first answer (first move out of submitted), for time-to-response figures.
    first_answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The due day the first answer met or missed (response_due_on is cleared when answered).
    first_answer_due_on: Mapped[date | None] = mapped_column(Date)
    # Each side's consent to the deal; both make it agreed.
    company_agreed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    institution_agreed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
