"""Response shapes of the search API."""

from __future__ import annotations

import uuid

from msgspec import Struct


class InstitutionHit(Struct):
    id: uuid.UUID
    name_zh: str
    name_en: str | None
    city: str | None


class Hit(Struct):
    """A published listing's public face; `highlights` are HTML snippets, escaped, with the
    query's matches in <mark>; `matched` names the fields that matched."""

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
    published_at: int | None
    confirmed_at: int | None
    is_stale: bool
    url: str
    highlights: dict[str, str]
    matched: list[str]


class Timing(Struct):
    engine_ms: int  # Meilisearch's processingTimeMs (all queries of the request)
    total_ms: float  # the API's own time, Meilisearch included


class SearchPage(Struct):
    hits: list[Hit]
    total: int
    page: int
    page_size: int
    pages: int
    facets: dict[str, dict[str, int]]  # parameter → value → count
    timing: Timing
    query: dict[str, str | int | list[str] | None]
