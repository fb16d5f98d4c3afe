"""Request and response shapes of multi-centre projects and their centres."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

from marketplace.accounts.schemas import Input
from marketplace.beds.schemas import Phase
from marketplace.matching.requests.schemas import Fen

CentreRoleIn = Literal["lead", "participating"]
ProjectAction = Literal["start", "complete", "cancel"]
Title = Annotated[str, Meta(min_length=1, max_length=200)]
PiName = Annotated[str, Meta(max_length=100)]


class ProjectIn(Input, kw_only=True):
    """Directly, from a multi-centre need (its selected responses' institutions become centres),
    or from the company's accepted match requests (their institutions become centres). The lead
    site is `lead_institution_id`, else the first centre."""

    title: Title
    phase: Phase
    sponsor: Title
    protocol_summary: Annotated[str, Meta(max_length=10000)] = ""
    need_id: uuid.UUID | None = None
    match_request_ids: Annotated[list[uuid.UUID], Meta(max_length=50)] = msgspec.field(default_factory=list)
    lead_institution_id: uuid.UUID | None = None


class CentreIn(Input, kw_only=True):
    institution_id: uuid.UUID
    centre_role: CentreRoleIn = "participating"
    pi_name: PiName = ""
    fee_fen: Fen = 0
    match_request_id: uuid.UUID | None = None
    listing_id: uuid.UUID | None = None


class ProjectTransition(Input):
    action: ProjectAction
    reason: Annotated[str, Meta(max_length=2000)] = ""


class TrackOut(Struct):
    track: str
    state: str
    days_so_far: int | None  # working days since the first submission (to the approval, if approved)
    target_working_days: int
    overrun: bool
    approved_on: date | None


class CentreOut(Struct):
    engagement_id: uuid.UUID
    institution_id: uuid.UUID
    institution_name: str
    centre_role: str
    state: str
    pi_name: str
    tracks: list[TrackOut]
    open_tracks: int
    reviews_approved_on: date | None
    first_consent_on: date | None
    startup_days: int | None  # calendar days from the last approval to the first consent (or today)
    startup_flagged: bool  # past 12 weeks without a first consent


class ProjectOut(Struct):
    id: uuid.UUID
    company_id: uuid.UUID
    title: str
    phase: str
    sponsor: str
    protocol_summary: str
    state: str
    need_id: uuid.UUID | None
    centres: list[CentreOut]
    # The centre whose start-up is furthest from done (None when none is starting up).
    holding_back: uuid.UUID | None


class ProjectPage(Struct):
    items: list[ProjectOut]
    total: int
