"""Request and response shapes of trial engagements, their three review tracks and documents."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from msgspec import Meta, Struct

from marketplace.accounts.schemas import Input
from marketplace.beds.schemas import Phase
from marketplace.matching.requests.schemas import MAX_FEN

Line = Annotated[str, Meta(min_length=1, max_length=200)]
Reason = Annotated[str, Meta(max_length=2000)]


class EngagementCreate(Input, kw_only=True):
    """From a clinical-trial match request (`match_request_id`: its institution and company), or
    directly by the TTO for a known company (`company_id`)."""

    match_request_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    title: Line
    phase: Phase
    sponsor: Line
    pi_name: Annotated[str, Meta(min_length=1, max_length=100)]
    fee_fen: Annotated[int, Meta(ge=0, le=MAX_FEN)] = 0
    # Naming a PI over the institution's concurrent-trial threshold needs a reason.
    pi_acknowledged_reason: Reason = ""


class EngagementTransitionIn(Input, kw_only=True):
    action: Annotated[str, Meta(min_length=1, max_length=40)]
    reason: Reason = ""
    first_consent_on: date | None = None  # record_first_consent: the day (default today)


class ReviewTransitionIn(Input, kw_only=True):
    action: Annotated[str, Meta(min_length=1, max_length=40)]
    reason: Reason = ""
    reference: Annotated[str, Meta(max_length=200)] = ""  # approve, recognise: the approval number
    recognised_engagement_id: uuid.UUID | None = None  # recognise: the lead site's engagement


class ReviewOut(Struct, kw_only=True):
    track: str
    state: str
    target_working_days: int
    first_submitted_on: date | None
    approved_on: date | None
    days_so_far: int
    overrun_days: int
    critical: bool
    reference: str
    recognised_engagement_id: uuid.UUID | None
    state_reason: str
    actions: list[str]


class StartupOut(Struct, kw_only=True):
    days: int | None  # None: the reviews are not all approved yet
    flagged: bool


class EngagementOut(Struct, kw_only=True):
    id: uuid.UUID
    institution_id: uuid.UUID
    company_id: uuid.UUID
    project_id: uuid.UUID | None
    centre_role: str | None
    match_request_id: uuid.UUID | None
    title: str
    phase: str
    sponsor: str
    pi_name: str
    pi_warning_reason: str
    fee_fen: int
    state: str
    reviews_approved_on: date | None
    first_consent_on: date | None
    startup: StartupOut
    created_at: datetime
    actions: list[str]


class DocumentOut(Struct, kw_only=True):
    id: uuid.UUID
    engagement_id: uuid.UUID
    file_name: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime
