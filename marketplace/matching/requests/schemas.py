"""Request and response shapes of match requests and their transitions; the organization,
listing and history references that needs share."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from litestar.params import QueryParameter
from msgspec import Meta, Struct

from marketplace.accounts.schemas import Input
from marketplace.audit.models import AuditEvent
from marketplace.matching.requests.models import EngagementType, State

# 1,000 亿元 in fen: far above any real deal, low enough to stay exact everywhere.
MAX_FEN = 10_000_000_000_000
Fen = Annotated[int, Meta(ge=0, le=MAX_FEN)]
Action = Literal[
    "review",
    "request_info",
    "provide_info",
    "accept",
    "decline",
    "start_negotiation",
    "agree",
    "close_no_deal",
    "withdraw",
    "accept_nda",
]


class MatchRequestCreate(Input, kw_only=True):
    listing_id: uuid.UUID
    engagement_type: EngagementType
    purpose: Annotated[str, Meta(min_length=1, max_length=2000)]
    timeline: Annotated[str, Meta(min_length=1, max_length=500)]
    budget_min_fen: Fen | None = None
    budget_max_fen: Fen | None = None
    message: Annotated[str, Meta(max_length=5000)] = ""
    # The NDA version the company read and accepts (GET /api/v1/nda-versions/current).
    nda_version: Annotated[int, Meta(ge=1)]
    accept_nda: bool


class MatchTransition(Input):
    action: Action
    reason: Annotated[str, Meta(max_length=2000)] = ""
    # accept_nda only: the version the company read and accepts.
    nda_version: Annotated[int, Meta(ge=1)] | None = None


class OrganizationRef(Struct):
    id: uuid.UUID
    name_zh: str
    name_en: str | None
    city: str


class ListingRef(Struct):
    id: uuid.UUID
    kind: str
    type: str
    status: str
    title_zh: str
    title_en: str | None


class HistoryEntry(Struct):
    action: str
    at: datetime
    actor: str | None
    before: str | None
    after: str | None
    reason: str | None


def history_out(events: Iterable[AuditEvent], names: Mapping[uuid.UUID, str]) -> list[HistoryEntry]:
    """A subject's audit trail as the API shows it (match requests' and needs'), actors by name."""
    return [
        HistoryEntry(
            action=e.action,
            at=e.occurred_at,
            actor=names.get(e.actor_user_id) if e.actor_user_id else None,
            before=e.data.get("before"),
            after=e.data.get("after"),
            reason=e.data.get("reason") or None,
        )
        for e in events
    ]


class MatchRequestOut(Struct, omit_defaults=True):
    id: uuid.UUID
    state: State
    listing: ListingRef
    institution: OrganizationRef
    company: OrganizationRef
    engagement_type: EngagementType
    purpose: str
    timeline: str
    budget_min_fen: int | None
    budget_max_fen: int | None
    budget_currency: str
    message: str
    nda_version: int
    nda_accepted_at: datetime
    # False once the platform publishes a newer NDA: the company must accept it again.
    nda_current: bool
    submitted_at: datetime
    # While submitted: the last working day (China time) for the institution's answer.
    response_due_on: date | None
    overdue: bool
    first_answered_at: datetime | None
    company_agreed_at: datetime | None
    institution_agreed_at: datetime | None
    updated_at: datetime
    # What the caller may do now (POST …/transitions).
    actions: list[str]
    history: list[HistoryEntry] = msgspec.field(default_factory=list)


class MatchRequestPage(Struct):
    items: list[MatchRequestOut]
    total: int
    page: int
    page_size: int


# `state` is a name Litestar keeps for the app state, so the query parameter gets another one.
StateQuery = Annotated[str | None, QueryParameter(name="state")]
