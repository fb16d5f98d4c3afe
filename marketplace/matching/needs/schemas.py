"""Request and response shapes of needs, challenges and responses."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

from marketplace.accounts.schemas import Input
from marketplace.matching.needs.models import NeedKind, NeedState, ResponseState, Visibility
from marketplace.matching.requests.schemas import Fen, HistoryEntry, ListingRef, OrganizationRef

# 1,000 亿元 in fen: far above any real deal, low enough to stay exact everywhere.


NeedAction = Literal["publish", "close"]
ResponseAction = Literal["shortlist", "select", "decline", "withdraw"]
Title = Annotated[str, Meta(min_length=1, max_length=200)]
Problem = Annotated[str, Meta(min_length=1, max_length=10000)]
Codes = Annotated[list[Annotated[str, Meta(max_length=40)]], Meta(min_length=1, max_length=30)]


class NeedCreate(Input, kw_only=True):
    # "challenge" (揭榜挂帅) only for the platform admin; a company's is always a "need".
    kind: Literal["need", "challenge"] = "need"
    title: Title
    problem: Problem
    therapeutic_areas: Codes
    # Listing kinds ("result", "resource") or types ("ivd_reagent", "biobank", ...).
    wanted: Codes
    budget_min_fen: Fen | None = None
    budget_max_fen: Fen | None = None
    deadline: date
    visibility: Literal["public", "invited"] = "public"
    invited_institution_ids: Annotated[list[uuid.UUID], Meta(max_length=200)] = msgspec.field(default_factory=list)
    # A challenge posted for a company (the party of the match its selection opens).
    on_behalf_of_id: uuid.UUID | None = None
    # A clinical-trial need for several centres: several responses may be selected.
    multi_centre: bool = False


class NeedUpdate(Input, kw_only=True):
    """Only while draft; fields left out stay as they are."""

    title: Title | msgspec.UnsetType = msgspec.UNSET
    problem: Problem | msgspec.UnsetType = msgspec.UNSET
    therapeutic_areas: Codes | msgspec.UnsetType = msgspec.UNSET
    wanted: Codes | msgspec.UnsetType = msgspec.UNSET
    budget_min_fen: Fen | msgspec.UnsetType | None = msgspec.UNSET
    budget_max_fen: Fen | msgspec.UnsetType | None = msgspec.UNSET
    deadline: date | msgspec.UnsetType = msgspec.UNSET
    visibility: Literal["public", "invited"] | msgspec.UnsetType = msgspec.UNSET
    invited_institution_ids: Annotated[list[uuid.UUID], Meta(max_length=200)] | msgspec.UnsetType = msgspec.UNSET
    on_behalf_of_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    multi_centre: bool | msgspec.UnsetType = msgspec.UNSET


class NeedTransition(Input):
    action: NeedAction
    reason: Annotated[str, Meta(max_length=2000)] = ""


class ResponseCreate(Input, kw_only=True):
    proposal: Annotated[str, Meta(min_length=1, max_length=10000)]
    # Published listings of the responding institution; the first is the one a selection opens
    # the match request on.
    listing_ids: Annotated[list[uuid.UUID], Meta(min_length=1, max_length=10)]
    budget_min_fen: Fen | None = None
    budget_max_fen: Fen | None = None
    timeline: Annotated[str, Meta(max_length=500)] = ""


class ResponseTransition(Input):
    action: ResponseAction
    reason: Annotated[str, Meta(max_length=2000)] = ""
    # select only, when it opens a match request: the NDA version the selecting side read and accepts.
    nda_version: Annotated[int, Meta(ge=1)] | None = None


class NeedOut(Struct, omit_defaults=True):
    id: uuid.UUID
    kind: NeedKind
    state: NeedState
    title: str
    problem: str
    therapeutic_areas: list[str]
    wanted: list[str]
    budget_min_fen: int | None
    budget_max_fen: int | None
    budget_currency: str
    deadline: date
    visibility: Visibility
    poster: OrganizationRef
    on_behalf_of: OrganizationRef | None
    opened_at: datetime | None
    updated_at: datetime
    # Only to the poster and the platform.
    invited_institution_ids: list[uuid.UUID] | None = None
    multi_centre: bool = False
    response_count: int | None = None
    actions: list[str] = msgspec.field(default_factory=list)
    history: list[HistoryEntry] = msgspec.field(default_factory=list)


class NeedPage(Struct):
    items: list[NeedOut]
    total: int
    page: int
    page_size: int
    # "database" (every need the caller may see) or "search" (Meilisearch: open public needs matching q).
    source: Literal["database", "search"] = "database"


class ResponseOut(Struct, omit_defaults=True):
    id: uuid.UUID
    need_id: uuid.UUID
    state: ResponseState
    institution: OrganizationRef
    proposal: str
    listings: list[ListingRef]
    budget_min_fen: int | None
    budget_max_fen: int | None
    budget_currency: str
    timeline: str
    submitted_at: datetime
    match_request_id: uuid.UUID | None
    actions: list[str] = msgspec.field(default_factory=list)


class RecommendedListing(Struct):
    id: uuid.UUID
    kind: str
    type: str
    title_zh: str
    title_en: str | None
    institution_id: uuid.UUID
    institution_name_zh: str
    areas: list[str]


class RecommendedNeed(Struct):
    id: uuid.UUID
    kind: str
    title: str
    deadline: date
    poster_name_zh: str
    areas: list[str]
    wanted: list[str]


class Recommendations(Struct, omit_defaults=True):
    need_id: uuid.UUID | None = None
    listing_id: uuid.UUID | None = None
    listings: list[RecommendedListing] = msgspec.field(default_factory=list)
    needs: list[RecommendedNeed] = msgspec.field(default_factory=list)
