"""Needs and challenges (企业需求, 揭榜挂帅): a company, or the platform, states a problem;
institutions respond with proposals; selecting one opens a match request."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
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
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.catalog.models import ListingKind, ResourceType, ResultType
from marketplace.db import Base, Timestamps, UUIDPrimaryKey, in_values


class NeedKind(enum.StrEnum):
    need = "need"  # posted by a company
    challenge = "challenge"  # 揭榜挂帅: posted by the platform, possibly on behalf of a company


class NeedState(enum.StrEnum):
    draft = "draft"
    open = "open"
    closed = "closed"
    awarded = "awarded"


class Visibility(enum.StrEnum):
    public = "public"
    invited = "invited"  # only the invited institutions (and the poster, and the platform)


class ResponseState(enum.StrEnum):
    submitted = "submitted"
    shortlisted = "shortlisted"
    selected = "selected"
    not_selected = "not_selected"
    withdrawn = "withdrawn"


# What a need may ask for: a whole kind of listing, or particular types.
WANTED_VALUES = (*ListingKind, *ResultType, *ResourceType)
# A response that still counts: one per institution and need.
ACTIVE_RESPONSE_STATES = frozenset({ResponseState.submitted, ResponseState.shortlisted, ResponseState.selected})
# Keyed and valued by plain strings (the enum members are those strings), as needs store them.
TYPES_OF_KIND: dict[str, tuple[str, ...]] = {ListingKind.result: tuple(ResultType), ListingKind.resource: tuple(ResourceType)}


def wanted_types(wanted: Iterable[str]) -> list[str]:
    """The listing types a need's `wanted` covers: a whole kind stands for all its types."""
    types: list[str] = []
    for value in wanted:
        expanded = TYPES_OF_KIND.get(value, (value,))
        types += [str(t) for t in expanded if str(t) not in types]
    return types


def _array_within(column: str, values) -> str:
    return f"{column} <@ ARRAY[{', '.join(repr(str(v)) for v in values)}]::varchar[]"


class Need(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "needs"
    __table_args__ = (
        ForeignKeyConstraint(
            ["organization_id", "organization_kind"], ["organizations.id", "organizations.kind"], name="fk_needs_poster"
        ),
        ForeignKeyConstraint(
            ["on_behalf_of_id", "on_behalf_of_kind"],
            ["organizations.id", "organizations.kind"],
            name="fk_needs_on_behalf_of",
        ),
        CheckConstraint(in_values("kind", NeedKind), name="kind"),
        CheckConstraint(in_values("state", NeedState), name="state"),
        CheckConstraint(in_values("visibility", Visibility), name="visibility"),
        # A company posts needs; the platform posts challenges, for itself or on behalf of a company.
        CheckConstraint(
            "(kind = 'need' AND organization_kind = 'company' AND on_behalf_of_id IS NULL)"
            " OR (kind = 'challenge' AND organization_kind = 'platform')",
            name="poster_fits_kind",
        ),
        CheckConstraint("on_behalf_of_kind = 'company'", name="on_behalf_of_company"),
        CheckConstraint("length(btrim(title)) > 0 AND length(btrim(problem)) > 0", name="text_given"),
        CheckConstraint("cardinality(areas) >= 1", name="areas_given"),
        CheckConstraint("cardinality(wanted) >= 1 AND " + _array_within("wanted", WANTED_VALUES), name="wanted_values"),
        CheckConstraint("budget_currency = 'CNY'", name="budget_currency"),
        CheckConstraint("budget_min_fen >= 0 AND budget_max_fen >= 0", name="budget_not_negative"),
        CheckConstraint("budget_min_fen <= budget_max_fen", name="budget_min_le_max"),
        CheckConstraint("state = 'draft' OR opened_at IS NOT NULL", name="opened_when_not_draft"),
        Index("ix_needs_organization_state", "organization_id", "state"),
        Index("ix_needs_open_deadline", "deadline", postgresql_where=text("state = 'open'")),
    )

    kind: Mapped[str] = mapped_column(String(16))
    # The posting organization: a company for a need, the platform for a challenge.
    organization_id: Mapped[uuid.UUID] = mapped_column()
    organization_kind: Mapped[str] = mapped_column(String(16))
    # A challenge the platform posts for a company: that company is the party of the match it opens.
    on_behalf_of_id: Mapped[uuid.UUID | None] = mapped_column()
    on_behalf_of_kind: Mapped[str] = mapped_column(String(16), default="company", server_default="company")
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16), default=NeedState.draft, server_default="draft")
    title: Mapped[str] = mapped_column(String(200))
    problem: Mapped[str] = mapped_column(Text)
    areas: Mapped[list[str]] = mapped_column(ARRAY(String(40)))  # therapeutic area codes
    wanted: Mapped[list[str]] = mapped_column(ARRAY(String(40)))  # listing kinds and types
    budget_min_fen: Mapped[int | None] = mapped_column(BigInteger)
    budget_max_fen: Mapped[int | None] = mapped_column(BigInteger)
    budget_currency: Mapped[str] = mapped_column(String(3), default="CNY", server_default="CNY")
    deadline: Mapped[date] = mapped_column(Date)  # last day for responses (China time)
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.public, server_default="public")
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    state_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    # A clinical-trial need for several centres: more than one response may be selected.
    multi_centre: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class NeedInvitation(Base):
    """An institution invited to see and answer an invited-only need."""

    __tablename__ = "need_invitations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["institution_id", "institution_kind"],
            ["organizations.id", "organizations.kind"],
            name="fk_need_invitations_institution",
            ondelete="CASCADE",
        ),
        CheckConstraint("institution_kind = 'institution'", name="institution_kind"),
        Index("ix_need_invitations_institution", "institution_id"),
    )

    need_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), primary_key=True)
    institution_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    institution_kind: Mapped[str] = mapped_column(String(16), default="institution", server_default="institution")


class NeedResponse(UUIDPrimaryKey, Timestamps, Base):
    """An institution's proposal on a need."""

    __tablename__ = "need_responses"
    __table_args__ = (
        ForeignKeyConstraint(
            ["institution_id", "institution_kind"],
            ["organizations.id", "organizations.kind"],
            name="fk_need_responses_institution",
        ),
        CheckConstraint("institution_kind = 'institution'", name="institution_kind"),
        CheckConstraint(in_values("state", ResponseState), name="state"),
        CheckConstraint("length(btrim(proposal)) > 0", name="proposal_given"),
        CheckConstraint("budget_currency = 'CNY'", name="budget_currency"),
        CheckConstraint("budget_min_fen >= 0 AND budget_max_fen >= 0", name="budget_not_negative"),
        CheckConstraint("budget_min_fen <= budget_max_fen", name="budget_min_le_max"),
        CheckConstraint("cardinality(listing_ids) >= 1", name="listings_given"),
        # One live response per institution and need; one selected response per need.
        Index(
            "uq_need_responses_active",
            "need_id",
            "institution_id",
            unique=True,
            postgresql_where=text(in_values("state", sorted(ACTIVE_RESPONSE_STATES))),
        ),
        # A multi-centre need selects several (each a centre of the company's project).
        Index(
            "uq_need_responses_selected",
            "need_id",
            unique=True,
            postgresql_where=text("state = 'selected' AND NOT multi_centre"),
        ),
        Index("ix_need_responses_institution", "institution_id", "state"),
    )

    need_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    institution_id: Mapped[uuid.UUID] = mapped_column()
    institution_kind: Mapped[str] = mapped_column(String(16), default="institution", server_default="institution")
    submitted_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16), default=ResponseState.submitted, server_default="submitted")
    proposal: Mapped[str] = mapped_column(Text)
    # The institution's published listings it proposes, in its order: the first is the one a
    # selection opens the match request on (the service checks ownership and status).
    listing_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid))
    budget_min_fen: Mapped[int | None] = mapped_column(BigInteger)
    budget_max_fen: Mapped[int | None] = mapped_column(BigInteger)
    budget_currency: Mapped[str] = mapped_column(String(3), default="CNY", server_default="CNY")
    timeline: Mapped[str] = mapped_column(String(500), default="", server_default="")
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The match request a selection opened (or found open) between the poster's company and the institution.
    match_request_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("match_requests.id", ondelete="SET NULL"))
    # The need's flag, copied when the response is submitted, for the one-selected index above.
    multi_centre: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
