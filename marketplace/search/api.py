"""JSON API of search: GET /api/v1/search over the Meilisearch index of published listings."""

from __future__ import annotations

import time
import uuid
from typing import Annotated

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from marketplace import api_docs, i18n
from marketplace.accounts.api import requires_bearer
from marketplace.accounts.scopes import Scope, needs
from marketplace.api_errors import OPTIONAL_TOKEN
from marketplace.catalog.services import Catalog, CatalogService
from marketplace.db import DbSession
from marketplace.errors import DomainError, FieldError
from marketplace.i18n import N_
from marketplace.search import schemas
from marketplace.search.models import SavedSearch, SavedSearchMatch
from marketplace.search.no_results import NoResultsHelp, no_results_help
from marketplace.search.query import (
    FACET_BY_PARAM,
    FACETS,
    FREE_BEDS,
    SORTS,
    SearchOutcome,
    SearchQuery,
    parse_search,
    run_search,
)
from marketplace.search.saved_searches import SavedSearchService, search_url
from marketplace.search.schemas import RETRY_AFTER_SECONDS
from marketplace.tenancy import CurrentPrincipal


def unavailable_response() -> Response:
    detail = i18n.gettext("Search is unavailable at the moment. Please try again shortly.")
    return Response(
        {"status_code": 503, "detail": detail, "errors": []},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def query_of(query: SearchQuery) -> dict:
    out: dict = {
        "q": query.q,
        "sort": query.sort,
        "page": query.page,
        "page_size": query.page_size,
        "trl_min": query.trl_min,
        "trl_max": query.trl_max,
        "free_beds": query.free_beds,
        "free_days": query.free_days,
    }
    for facet in FACETS:
        out[facet.param] = query.filters.get(facet.param, [])
    return out


def no_results_out(hints: NoResultsHelp) -> schemas.NoResults:
    return schemas.NoResults(
        spelled=hints.spelled,
        spelled_total=hints.spelled_total,
        other_words=[schemas.OtherWord(word, total) for word, total in hints.other_words],
        without_filters=hints.without_filters,
        nearest=[
            schemas.NearListing(uuid.UUID(doc["id"]), doc["title_zh"], doc.get("title_en"), f"/listings/{doc['id']}")
            for doc in hints.nearest
        ],
    )


def search_page(outcome: SearchOutcome, started: float, hints: NoResultsHelp | None = None) -> schemas.SearchPage:
    hits = []
    for hit in outcome.hits:
        doc = hit.document
        hits.append(
            schemas.Hit(
                id=uuid.UUID(doc["id"]),
                kind=doc["kind"],
                type=doc["type"],
                title_zh=doc["title_zh"],
                title_en=doc.get("title_en"),
                areas=doc.get("areas") or [],
                stage=doc.get("stage"),
                trl=doc.get("trl"),
                licence_options=doc.get("licence_options") or [],
                availability=doc.get("availability"),
                institution=schemas.InstitutionHit(
                    id=uuid.UUID(doc["institution_id"]),
                    name_zh=doc["institution_name_zh"],
                    name_en=doc.get("institution_name_en"),
                    city=doc.get("institution_city"),
                ),
                gcp_certified=bool(doc.get("gcp_certified")),
                ethics_alliance_member=bool(doc.get("ethics_alliance_member")),
                open_licence=bool(doc.get("open_licence")),
                free_bed_days_90=doc.get("free_bed_days_90"),
                published_at=doc.get("published_at"),
                confirmed_at=doc.get("confirmed_at"),
                is_stale=bool(doc.get("is_stale")),
                url=f"/listings/{doc['id']}",
                highlights=hit.highlights,
                matched=hit.matched,
                by_meaning=hit.by_meaning,
            )
        )
    query = outcome.query
    return schemas.SearchPage(
        hits=hits,
        total=outcome.total,
        page=query.page,
        page_size=query.page_size,
        pages=outcome.pages,
        facets=outcome.facets,
        timing=schemas.Timing(engine_ms=outcome.engine_ms, total_ms=round((time.perf_counter() - started) * 1000, 1)),
        query=query_of(query),
        no_results=no_results_out(hints) if hints else None,
    )


async def area_codes(request: Request, catalog: CatalogService) -> frozenset[str]:
    """The therapeutic-area codes a search may filter on. The vocabulary is seeded by migration (a
    new area comes with a deploy and a restart), so it is read once per app, not per search: its
    query, session and transaction took a quarter of the API's CPU time (bench/search.py)."""
    codes = getattr(request.app.state, "search_area_codes", None)
    if codes is None:
        codes = request.app.state.search_area_codes = frozenset(area.code for area in await catalog.areas())
    return codes


def _values_of(param: str) -> QueryParameter:
    """A filter parameter of fixed values, documented as their enum (parse_search checks them)."""
    return api_docs.enum_query(FACET_BY_PARAM[param].values or (), many=True)


KindFilter = Annotated[list[str] | None, _values_of("kind")]
TypeFilter = Annotated[list[str] | None, _values_of("type")]
StageFilter = Annotated[list[str] | None, _values_of("stage")]
LicenceFilter = Annotated[list[str] | None, _values_of("licence")]
AvailabilityFilter = Annotated[list[str] | None, _values_of("availability")]
FreeBeds = Annotated[str | None, api_docs.enum_query([str(k) for k in FREE_BEDS])]
SortOrder = Annotated[str | None, api_docs.enum_query(SORTS)]


class SearchApi(Controller):
    path = "/api/v1/search"
    tags = ["search"]

    @get("/", security=OPTIONAL_TOKEN, opt=needs(Scope.listings_read))
    async def search(
        self,
        request: Request,
        catalog: Catalog,
        q: FromQuery[str | None] = None,
        kind: KindFilter = None,
        type: TypeFilter = None,
        area: FromQuery[list[str] | None] = None,
        stage: StageFilter = None,
        trl_min: FromQuery[str | None] = None,
        trl_max: FromQuery[str | None] = None,
        licence: LicenceFilter = None,
        city: FromQuery[list[str] | None] = None,
        institution: FromQuery[list[str] | None] = None,
        gcp: FromQuery[str | None] = None,
        ethics: FromQuery[str | None] = None,
        open_licence: FromQuery[str | None] = None,
        availability: AvailabilityFilter = None,
        free_beds: FreeBeds = None,
        free_days: FromQuery[str | None] = None,
        sort: SortOrder = None,
        page: FromQuery[str | None] = None,
        page_size: FromQuery[str | None] = None,
    ) -> schemas.SearchPage:
        """Published listings from Meilisearch. Repeat a filter parameter to accept any of its
        values (OR); different filters combine with AND. `licence=pay_later` finds "use first,
        pay later" offers, `open_licence=true` results with an open licence (开放许可) declared;
        `free_beds=4&free_days=30` research wards with at least 4 beds free for 30 consecutive days of the next 90; `sort` is relevance, newest or confirmed; 503 with Retry-After when
        the search engine does not answer."""
        started = time.perf_counter()
        query, problems = parse_search(request.query_params.multi_items(), await area_codes(request, catalog))
        if problems:
            raise DomainError(
                N_("The request has invalid fields."),
                *(FieldError(name, message, params) for name, message, params in problems),
                status_code=400,
            )
        # SearchUnavailable becomes the 503 with Retry-After (app.search_unavailable_handler).
        outcome = await run_search(request.app.state.search, query, stale_ok=True)
        hints = await no_results_help(request.app.state.search, query) if outcome.total == 0 and query.page == 1 else None
        return search_page(outcome, started, hints)


# ----- saved searches ----------------------------------------------------------------------------

SavedSearches = NamedDependency[SavedSearchService]


async def provide_saved_searches(db_session: DbSession) -> SavedSearchService:
    """The saved-search service on the request's session."""
    return SavedSearchService(db_session)


def saved_search_out(saved: SavedSearch, matches: list[SavedSearchMatch]) -> schemas.SavedSearchOut:
    return schemas.SavedSearchOut(
        id=saved.id,
        name=saved.name,
        query=saved.query,
        search_url=search_url(saved.query),
        api_url="/api/v1" + search_url(saved.query),
        email_enabled=saved.email_enabled,
        created_at=saved.created_at,
        updated_at=saved.updated_at,
        recent_matches=[
            schemas.SavedMatch(
                listing_id=m.listing_id,
                title_zh=m.title_zh,
                title_en=m.title_en,
                url=f"/listings/{m.listing_id}",
                is_new=m.is_new,
                found_at=m.found_at,
            )
            for m in matches
        ],
    )


class SavedSearchApi(Controller):
    """A company member's saved searches; personal (anyone else's answer 404). New and changed
    listings that match one are notified in-app and, unless its e-mail is off, in a daily digest."""

    path = "/api/v1/saved-searches"
    tags = ["search"]
    guards = [requires_bearer]

    @get("/")
    async def list_saved(self, principal: CurrentPrincipal, saved_searches: SavedSearches) -> list[schemas.SavedSearchOut]:
        owned = await saved_searches.owned(principal)
        recent = await saved_searches.recent_matches(s.id for s in owned)
        return [saved_search_out(s, recent[s.id]) for s in owned]

    @post("/", status_code=HTTP_201_CREATED)
    async def create_saved(
        self, principal: CurrentPrincipal, saved_searches: SavedSearches, data: JSONBody[schemas.SavedSearchCreate]
    ) -> schemas.SavedSearchOut:
        saved = await saved_searches.create(principal, data.name, data.query, email_enabled=data.email_enabled)
        return saved_search_out(saved, [])

    @get("/{saved_id:uuid}")
    async def get_saved(
        self, principal: CurrentPrincipal, saved_searches: SavedSearches, saved_id: FromPath[uuid.UUID]
    ) -> schemas.SavedSearchOut:
        saved = await saved_searches.get(principal, saved_id)
        return saved_search_out(saved, (await saved_searches.recent_matches([saved.id], per_search=20))[saved.id])

    @patch("/{saved_id:uuid}")
    async def update_saved(
        self,
        principal: CurrentPrincipal,
        saved_searches: SavedSearches,
        saved_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.SavedSearchUpdate],
    ) -> schemas.SavedSearchOut:
        saved = await saved_searches.update(
            principal, saved_id, name=data.name, query=data.query, email_enabled=data.email_enabled
        )
        return saved_search_out(saved, (await saved_searches.recent_matches([saved.id]))[saved.id])

    @delete("/{saved_id:uuid}", status_code=HTTP_204_NO_CONTENT)
    async def delete_saved(
        self, principal: CurrentPrincipal, saved_searches: SavedSearches, saved_id: FromPath[uuid.UUID]
    ) -> None:
        await saved_searches.delete(principal, saved_id)
