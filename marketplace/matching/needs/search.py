"""The needs index (open public needs in Meilisearch, fed by the search outbox and relay through
search's registry, where marketplace.wiring puts it), searching it, and recommendations: listings
for a need, needs for a listing."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import forms, i18n
from marketplace.accounts.models import Organization
from marketplace.accounts.services import AccountService
from marketplace.catalog.models import Listing
from marketplace.catalog.services import CatalogService
from marketplace.errors import FieldError
from marketplace.i18n import N_
from marketplace.matching.needs.models import (
    WANTED_VALUES,
    Need,
    NeedState,
    Visibility,
    wanted_types,
)
from marketplace.search.documents import inner_words
from marketplace.search.embeddings import EMBEDDER
from marketplace.search.engine import SearchEngine, SearchUnavailable
from marketplace.search.index_settings import EMBEDDERS, INNER_WORDS, SearchIndex, synonyms
from marketplace.search.models import EntityType
from marketplace.search.query import (
    SEMANTIC_THRESHOLD,
    SearchQuery,
    query_vector,
    quote,
    run_search,
)
from marketplace.search.query_text import matching_strategy, spell_synonyms
from marketplace.web import MAX_PAGE, MAX_PAGE_SIZE

# ----- the needs index ----------------------------------------------------------------------------

NEEDS = "needs"
NEED_CHINESE = ["title", "problem", "area_names_zh", "wanted_names_zh", "poster_name_zh", INNER_WORDS]
NEED_ENGLISH = ["area_names_en", "wanted_names_en", "poster_name_en"]
NEED_INDEX_SETTINGS: dict[str, Any] = {
    "searchableAttributes": [
        "title",
        "area_names_zh",
        "area_names_en",
        "wanted_names_zh",
        "wanted_names_en",
        "problem",
        "poster_name_zh",
        "poster_name_en",
        INNER_WORDS,
    ],
    "filterableAttributes": ["kind", "areas", "wanted", "wanted_types", "deadline_day", "organization_id"],
    "sortableAttributes": ["deadline_day", "opened_at"],
    "localizedAttributes": [
        {"attributePatterns": NEED_CHINESE, "locales": ["cmn"]},
        {"attributePatterns": NEED_ENGLISH, "locales": ["eng"]},
    ],
    "typoTolerance": {"enabled": True, "disableOnAttributes": NEED_CHINESE, "disableOnNumbers": True},
    "synonyms": synonyms(),
    "pagination": {"maxTotalHits": 5000},
    "embedders": EMBEDDERS,
}
# What a need's embedding is made from: what it is about, then what it wants.
NEED_PASSAGE = ("title", "area_names_zh", "area_names_en", "wanted_names_zh", "wanted_names_en", "problem")
NEED_DOCUMENT_FIELDS = frozenset(
    {
        "id",
        "kind",
        "title",
        "problem",
        "areas",
        "area_names_zh",
        "area_names_en",
        "wanted",
        "wanted_types",
        "wanted_names_zh",
        "wanted_names_en",
        "budget_min_fen",
        "budget_max_fen",
        "deadline",
        "deadline_day",
        "organization_id",
        "poster_name_zh",
        "poster_name_en",
        "opened_at",
        INNER_WORDS,
    }
)
_EPOCH_DAY = date(1970, 1, 1)


def day_number(day: date) -> int:
    return (day - _EPOCH_DAY).days


def need_document(need: Need, poster: Organization, behalf: Organization | None, areas: dict) -> dict[str, Any]:
    """The public face of an open public need. Never the invited list, the author or responses."""
    zh, en = i18n.translations("zh_CN"), i18n.translations("en")
    area_names_zh = [areas[c].name_zh for c in need.areas if c in areas]
    wanted_zh = [zh.gettext(w) for w in need.wanted]
    shown = behalf or poster  # a challenge for a company is that company's need to the public
    return {
        "id": str(need.id),
        "kind": need.kind,
        "title": need.title,
        "problem": need.problem,
        INNER_WORDS: inner_words([need.title, need.problem, *area_names_zh, *wanted_zh]),
        "areas": list(need.areas),
        "area_names_zh": area_names_zh,
        "area_names_en": [areas[c].name_en for c in need.areas if c in areas],
        "wanted": list(need.wanted),
        "wanted_types": wanted_types(need.wanted),
        "wanted_names_zh": wanted_zh,
        "wanted_names_en": [en.gettext(w) for w in need.wanted],
        "budget_min_fen": need.budget_min_fen,
        "budget_max_fen": need.budget_max_fen,
        "deadline": need.deadline.isoformat(),
        "deadline_day": day_number(need.deadline),
        "organization_id": str(need.organization_id),
        "poster_name_zh": shown.name_zh,
        "poster_name_en": shown.name_en,
        "opened_at": int(need.opened_at.timestamp()) if need.opened_at else None,
    }


INDEXED = (Need.state == NeedState.open, Need.visibility == Visibility.public)


async def _need_documents(session: AsyncSession, *conditions, limit: int | None = None) -> list[dict[str, Any]]:
    stmt = select(Need).where(*INDEXED, *conditions).order_by(Need.id).limit(limit).execution_options(populate_existing=True)
    needs = list((await session.scalars(stmt)).all())
    if not needs:
        return []
    orgs = await AccountService(session).public_organizations(
        {n.organization_id for n in needs} | {n.on_behalf_of_id for n in needs if n.on_behalf_of_id}
    )
    areas = {a.code: a for a in await CatalogService(session).areas()}
    return [
        need_document(n, orgs[n.organization_id], orgs.get(n.on_behalf_of_id) if n.on_behalf_of_id else None, areas)
        for n in needs
    ]


async def need_documents(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    ids = list(ids)
    if not ids:
        return {}
    return {uuid.UUID(d["id"]): d for d in await _need_documents(session, Need.id.in_(ids))}


async def open_need_documents(session: AsyncSession, page_size: int = 1000) -> AsyncIterator[list[dict[str, Any]]]:
    after: uuid.UUID | None = None
    while True:
        page = await _need_documents(session, *([Need.id > after] if after else []), limit=page_size)
        if not page:
            return
        yield page
        after = uuid.UUID(page[-1]["id"])


NEEDS_INDEX = SearchIndex(EntityType.need, NEEDS, NEED_INDEX_SETTINGS, need_documents, open_need_documents, NEED_PASSAGE)


@dataclass
class NeedSearch:
    """A validated needs search (the page's and GET /api/v1/needs?q=…)."""

    q: str = ""
    areas: list[str] | None = None
    wanted: list[str] | None = None  # kinds or types; a need matches when it wants any of their types
    deadline_from: date | None = None
    deadline_to: date | None = None
    page: int = 1
    page_size: int = 20


def need_filter(query: NeedSearch) -> list[str | list[str]]:
    expression: list[str | list[str]] = []
    if query.areas:
        expression.append([f"areas = {quote(a)}" for a in query.areas])
    if query.wanted:
        expression.append([f"wanted_types = {quote(t)}" for t in wanted_types(query.wanted)])
    if query.deadline_from:
        expression.append(f"deadline_day >= {day_number(query.deadline_from)}")
    if query.deadline_to:
        expression.append(f"deadline_day <= {day_number(query.deadline_to)}")
    return expression


def hybrid_params(vector: list[float] | None, semantic_ratio: float) -> dict[str, Any]:
    """search.query.hybrid_json as the SDK's index.search() takes it: ranked by meaning too."""
    if vector is None:
        return {}
    from meilisearch_python_sdk.models.search import Hybrid

    return {
        "vector": vector,
        "hybrid": Hybrid(semantic_ratio=semantic_ratio, embedder=EMBEDDER),
        "show_ranking_score_details": True,
        "ranking_score_threshold": SEMANTIC_THRESHOLD,
    }


async def search_needs(engine: SearchEngine, query: NeedSearch, sort: list[str] | None = None) -> tuple[list[dict], int]:
    """Open public needs from the needs index, with the listings' query rules: the matching
    strategy by the query's language, misspelt English synonyms spelt right, ranked by words and
    meaning together unless a sort is asked for."""
    strategy = matching_strategy(query.q)
    q = spell_synonyms(query.q) or None  # a Chinese query has no English word to re-spell
    vector = None if sort else await query_vector(engine, query.q)
    try:
        result = await engine.client.index(engine.index_name(NEEDS)).search(
            q,
            **hybrid_params(vector, engine.semantic_ratio),
            matching_strategy=strategy,
            filter=need_filter(query) or None,
            page=query.page,
            hits_per_page=query.page_size,
            sort=sort if sort else (None if q else ["deadline_day:asc"]),
            attributes_to_retrieve=sorted(NEED_DOCUMENT_FIELDS - {INNER_WORDS}),
        )
    except Exception as error:
        from meilisearch_python_sdk.errors import MeilisearchApiError

        if isinstance(error, MeilisearchApiError) and getattr(error, "code", "") == "index_not_found":
            return [], 0
        raise SearchUnavailable(str(error)) from error
    return list(result.hits), result.total_hits or 0


# ----- recommendations ---------------------------------------------------------------------------

RECOMMENDATIONS = 5
# Words of how needs are phrased rather than what they are about: a listing never holds them, and
# Meilisearch counts only a query's first ten words, so they would crowd out the telling ones.
NEED_PHRASING = re.compile(
    r"寻求|征集|诚征|需求|合作|揭榜挂帅|揭榜|挂帅|项目|方案|伙伴|寻找|希望|引进|开发|用于|面向|相关|"
    r"\b(?:seeking|wanted|looking|for|partner|partners|need|needs|project)\b",
    re.IGNORECASE,
)


def need_terms(need: Need) -> str:
    """The query a need asks the listings index: its title, less the phrasing of a request. The
    problem statement is long, and Meilisearch counts only the first ten words of a query; the
    areas and kinds wanted are filters, not words."""
    return re.sub(r"\s+", " ", NEED_PHRASING.sub(" ", need.title)).strip()


def listing_terms(listing: Listing) -> str:
    return listing.title_zh


async def recommend_listings(engine: SearchEngine, need: Need, limit: int = RECOMMENDATIONS) -> list[dict]:
    """The published listings that fit a need best: its title's terms, among listings of the
    areas and types it wants; when those are fewer than `limit`, listings of the wanted types in
    any area fill the list."""
    q = need_terms(need)
    filters: dict[str, list[str]] = {"type": wanted_types(need.wanted)}
    # A title, not a person's query: its words may all be dropped, no phrase is made (search.query_text).
    strict = SearchQuery(q=q, filters={**filters, "area": list(need.areas)}, page_size=limit, phrases=False)
    hits = [hit.document for hit in (await run_search(engine, strict, facets=False)).hits]
    if len(hits) < limit:
        loose = SearchQuery(q=q, filters=filters, page_size=limit, phrases=False)
        seen = {doc["id"] for doc in hits}
        hits += [hit.document for hit in (await run_search(engine, loose, facets=False)).hits if hit.document["id"] not in seen]
    return hits[:limit]


async def recommend_needs(engine: SearchEngine, listing: Listing, limit: int = RECOMMENDATIONS) -> list[dict]:
    """The open public needs a listing may answer: those wanting its type in one of its areas,
    those whose words its title shares first; then needs wanting its type in its areas whatever
    their words, the nearest deadline first."""
    areas = [a.area_code for a in listing.areas]
    base = NeedSearch(areas=areas or None, wanted=[listing.type], page_size=limit)
    hits, _ = await search_needs(engine, NeedSearch(**{**base.__dict__, "q": listing_terms(listing)}))
    if len(hits) < limit:
        seen = {doc["id"] for doc in hits}
        more, _ = await search_needs(engine, base)
        hits += [doc for doc in more if doc["id"] not in seen]
    return hits[:limit]


# ----- the needs search as URL parameters (the API refuses bad ones, the page forgives them) ---

NEED_PARAMS = frozenset({"q", "area", "wanted", "deadline_from", "deadline_to", "state", "mine", "page", "page_size"})


def parse_need_query(
    params: Iterable[tuple[str, str]], area_codes: set[str], *, strict: bool = True
) -> tuple[NeedSearch, str | None, bool, list[FieldError]]:
    """URL parameters as a needs search, the state filter and `mine`; with strict=False a bad value
    is dropped (the page forgives hand-edited URLs)."""
    errors: list[FieldError] = []
    seen: dict[str, list[str]] = {}
    for name, value in params:
        seen.setdefault(name, []).append(value.strip())
    errors += [FieldError(name, N_("Not a search parameter.")) for name in seen if name not in NEED_PARAMS]
    first = {name: values[0] for name, values in seen.items()}
    query = NeedSearch(q=first.get("q", "")[:200])
    areas = [a for a in seen.get("area", []) if a]
    if any(a not in area_codes for a in areas):
        errors.append(FieldError("area", N_("Not one of the allowed values.")))
    query.areas = [a for a in areas if a in area_codes] or None
    wanted = [w for w in seen.get("wanted", []) if w]
    if any(w not in WANTED_VALUES for w in wanted):
        errors.append(FieldError("wanted", N_("Not one of the allowed values.")))
    query.wanted = [w for w in wanted if w in WANTED_VALUES] or None
    for name in ("deadline_from", "deadline_to"):
        if first.get(name):
            try:
                setattr(query, name, date.fromisoformat(first[name]))
            except ValueError:
                errors.append(FieldError(name, N_("A date as YYYY-MM-DD.")))
    for name, high, default in (("page", MAX_PAGE, 1), ("page_size", MAX_PAGE_SIZE, 20)):
        raw = first.get(name, "")
        number = forms.whole_number(raw, 9)
        number = number if number is not None and 1 <= number <= high else None
        if raw and number is None:
            errors.append(FieldError(name, N_("A whole number from %(low)s to %(high)s."), {"low": 1, "high": high}))
        setattr(query, name, number or default)
    state = first.get("state") or None
    if state is not None and state not in set(NeedState):
        errors.append(FieldError("state", N_("Not one of the allowed values.")))
        state = None
    mine = first.get("mine", "").lower() in ("1", "true", "yes", "on")
    return query, state, mine, errors if strict else []
