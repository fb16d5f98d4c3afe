"""Response shapes of the search API."""

from __future__ import annotations

import uuid
from datetime import datetime

from msgspec import Struct


class InstitutionHit(Struct):
    id: uuid.UUID
    name_zh: str
    name_en: str | None
    city: str | None


class Hit(Struct):
    """A published listing's public face; `highlights` are HTML snippets, escaped, with the
    query's matches in <mark>; `matched` names the fields that matched; `by_meaning` is true for a
    hit found by meaning (hybrid search) rather than by the query's words."""

    id: uuid.UUID
    kind: str
    type: str
    title_zh: str
    title_en: str | None
    areas: list[str]
    stage: str | None
    trl: int | None
    licence_options: list[str]
    availability: str | None
    institution: InstitutionHit
    gcp_certified: bool
    ethics_alliance_member: bool
    open_licence: bool  # an open licence (开放许可) is declared: anyone may take it on its terms
    free_bed_days_90: int | None  # a research ward's free bed-days in the next 90 days (None: not a ward)
    published_at: int | None
    confirmed_at: int | None
    is_stale: bool
    url: str
    highlights: dict[str, str]
    matched: list[str]
    by_meaning: bool = False


class Timing(Struct):
    engine_ms: int  # Meilisearch's processingTimeMs (all queries of the request)
    total_ms: float  # the API's own time, Meilisearch included


class OtherWord(Struct):
    word: str
    total: int  # what a search for it (with the same filters) finds


class NearListing(Struct):
    id: uuid.UUID
    title_zh: str
    title_en: str | None
    url: str


class NoResults(Struct):
    """What else to try when a search finds nothing."""

    spelled: str | None  # the query spelt as the vocabulary spells it
    spelled_total: int
    other_words: list[OtherWord]  # the vocabulary's other words for it
    without_filters: int | None  # the same words without the filters (None: no filter set)
    nearest: list[NearListing]  # the listings nearest in meaning, however far


class SearchPage(Struct):
    hits: list[Hit]
    total: int
    page: int
    page_size: int
    pages: int
    facets: dict[str, dict[str, int]]  # parameter → value → count
    timing: Timing
    query: dict[str, str | int | list[str] | None]
    no_results: NoResults | None = None  # only when nothing is found


# ----- saved searches ----------------------------------------------------------------------------


class SavedSearchInput(Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of saved-search bodies: a field the API does not know is an error, not ignored."""


class SavedSearchCreate(SavedSearchInput):
    name: str
    # The /search URL query (e.g. "q=肝癌&kind=result&sort=newest"); a whole /search?… address works too.
    query: str = ""
    email_enabled: bool = True


class SavedSearchUpdate(SavedSearchInput):
    name: str | None = None
    query: str | None = None
    email_enabled: bool | None = None


class SavedMatch(Struct):
    listing_id: uuid.UUID
    title_zh: str
    title_en: str | None
    url: str
    is_new: bool  # first time this search found it (otherwise: it changed since)
    found_at: datetime


class SavedSearchOut(Struct):
    id: uuid.UUID
    name: str
    query: str  # canonical URL query
    search_url: str  # the page with this search
    api_url: str  # the same search through the API (run it)
    email_enabled: bool
    created_at: datetime
    updated_at: datetime
    recent_matches: list[SavedMatch]


# How long a client waits before asking again while search is down (the API's and the pages' answer).
RETRY_AFTER_SECONDS = 30
