"""The search page: GET /search, server-rendered; its results-and-facets region is also served
alone to htmx requests, so the page updates as people type and tick, and the URL holds the query."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from marketplace import i18n, places
from marketplace.accounts.services import AccountService
from marketplace.catalog.models import Availability, LicenceOption, ListingKind, ResourceType, ResultType, Stage
from marketplace.catalog.services import Catalog, CatalogService
from marketplace.db import china_day
from marketplace.errors import DomainError
from marketplace.i18n import N_, current_locale
from marketplace.page_cache import cache_page
from marketplace.search.engine import SearchUnavailable
from marketplace.search.models import SavedSearch
from marketplace.search.no_results import no_results_help
from marketplace.search.query import (
    DEFAULT_PAGE_SIZE,
    FACETS,
    MAX_QUERY_LENGTH,
    SORTS,
    TRL_RANGE,
    SearchQuery,
    parse_search,
    query_is_filtered,
    run_search,
)
from marketplace.search.saved_searches import SavedSearchService, canonical_query, search_url
from marketplace.search.schemas import RETRY_AFTER_SECONDS
from marketplace.search.similar import similar_listings
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import area_names, client_ip, field_errors, flash, render

SUGGESTIONS = 6  # titles under the landing page's search box

# The order and the values each facet offers even when they count zero.
FACET_VALUES = {
    "kind": list(ListingKind),
    "type": [*ResultType, *ResourceType],
    "stage": list(Stage),
    "licence": list(LicenceOption),
    "availability": list(Availability),
}


def _date(epoch: int | None) -> str:
    """A document's epoch seconds as the day in China, like every date the pages show."""
    return china_day(datetime.fromtimestamp(epoch, UTC)).isoformat() if epoch else ""


class SearchPages(Controller):
    include_in_schema = False

    @get("/search")
    async def search(self, request: Request, principal: CurrentPrincipal, catalog: Catalog) -> Template:
        started = time.perf_counter()
        areas = await catalog.areas()
        names = area_names(areas)
        query, _ = parse_search(request.query_params.multi_items(), names, strict=False)
        outcome, unavailable, hints = None, False, None
        try:
            outcome = await run_search(request.app.state.search, query, stale_ok=True)
            if outcome.total == 0 and query.page == 1:
                hints = await no_results_help(request.app.state.search, query)
        except SearchUnavailable:
            unavailable = True
        # Names of the institutions that appear in the facet or are ticked.
        institution_ids = set(query.filters.get("institution", []))
        if outcome:
            institution_ids |= set(outcome.facets.get("institution", {}))
        orgs = await AccountService(catalog.session).public_organizations({uuid.UUID(i) for i in institution_ids if _is_uuid(i)})
        english = current_locale.get() == "en"
        institution_names = {
            str(org_id): (org.name_en if english and org.name_en else org.name_zh) for org_id, org in orgs.items()
        }

        def url(**changes) -> str:
            pairs = query.params(**changes)
            return "/search" + (f"?{urlencode(pairs)}" if pairs else "")

        def facet_options(param: str) -> list[tuple[str, str, int, bool]]:
            """(value, label, count, ticked) for a facet's checkboxes."""
            counts = outcome.facets.get(param, {}) if outcome else {}
            ticked = query.filters.get(param, [])
            if param in FACET_VALUES:
                values = [str(v) for v in FACET_VALUES[param]]
            elif param == "area":
                values = [a.code for a in areas]
            else:
                values = sorted(counts, key=lambda v: (-counts[v], v))
            values = [v for v in values if counts.get(v) or v in ticked] + [v for v in ticked if v not in values]
            labels = {"area": names, "institution": institution_names}.get(param, {})
            if param == "city":
                labels = {v: places.city(v) for v in values}
            return [(v, labels.get(v, v), counts.get(v, 0), v in ticked) for v in values]

        fragment = request.headers.get("hx-request") == "true" and not request.headers.get("hx-history-restore-request")
        response = render(
            request,
            "search/_results.html" if fragment else "search/page.html",
            principal,
            status_code=503 if unavailable else 200,
            query=query,
            outcome=outcome,
            hints=hints,
            filtered=query_is_filtered(query),
            unavailable=unavailable,
            facets=FACETS,
            facet_options=facet_options,
            sorts=list(SORTS),
            url=url,
            area_names=names,
            date=_date,
            total_ms=round((time.perf_counter() - started) * 1000),
            # "Save this search" (company members): the query without its page.
            can_save=SavedSearchService.may_save(principal),
            saved_query=urlencode(query.params(page=1, page_size=DEFAULT_PAGE_SIZE)),
        )
        response.headers["Vary"] = "HX-Request"
        if outcome is not None and outcome.current:  # never keep a page from an out-of-date answer
            cache_page(request.scope)
        if fragment:  # the address bar shows the canonical URL of the whole query
            response.headers["HX-Push-Url"] = url()
        if unavailable:
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @get("/search/suggest")
    async def suggest(self, request: Request, principal: CurrentPrincipal, q: FromQuery[str] = "") -> Template:
        """Titles that match what a visitor is typing (the landing page's search box, through htmx):
        a few keyword hits, each a link to its listing; nothing for an empty box."""
        words = " ".join(q.split())[:MAX_QUERY_LENGTH]
        hits, unavailable = [], False
        if words:
            try:
                outcome = await run_search(
                    request.app.state.search, SearchQuery(q=words, page_size=SUGGESTIONS), hybrid=False, facets=False
                )
                hits = outcome.hits
            except SearchUnavailable:
                unavailable = True
        return render(request, "search/_suggest.html", principal, q=words, hits=hits, unavailable=unavailable)

    @get("/listings/{listing_id:uuid}/similar")
    async def similar(
        self, request: Request, principal: CurrentPrincipal, catalog: Catalog, listing_id: FromPath[uuid.UUID]
    ) -> Template:
        """The listings nearest in meaning to one the viewer may see (loaded into its page)."""
        listing = await catalog.get(principal, listing_id)
        similar, unavailable = [], False
        try:
            similar = await similar_listings(request.app.state.search, listing.id)
        except SearchUnavailable:
            unavailable = True
        fragment = request.headers.get("hx-request") == "true"
        template = "search/_similar.html" if fragment else "search/similar.html"
        return render(request, template, principal, listing=listing, similar=similar, unavailable=unavailable)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# ----- saved searches ----------------------------------------------------------------------------

Form = URLEncodedBody[dict[str, str]]
SavedSearches = NamedDependency[SavedSearchService]

FACET_LABELS = {
    "kind": N_("Kind"),
    "type": N_("Type"),
    "area": N_("Therapeutic area"),
    "stage": N_("Stage"),
    "licence": N_("Licence options"),
    "availability": N_("Availability"),
    "city": N_("City"),
    "institution": N_("Institution"),
    "gcp": N_("GCP-certified"),
    "ethics": N_("Ethics alliance member"),
    "open_licence": N_("Open licence"),
}
SORT_LABELS = {"relevance": N_("Most relevant"), "newest": N_("Newest"), "confirmed": N_("Recently confirmed")}


def describe(query: SearchQuery, area_names: dict[str, str], institution_names: dict[str, str]) -> list[tuple[str, str]]:
    """A saved query as (label, value) pairs people can read, in the request's language."""
    _ = i18n.gettext
    parts: list[tuple[str, str]] = []
    if query.q:
        parts.append((_("Keywords"), query.q))
    for facet in FACETS:
        values = query.filters.get(facet.param, [])
        if not values:
            continue
        if facet.boolean:
            shown = [_("Yes") if values[0] == "true" else _("No")]
        elif facet.param == "area":
            shown = [area_names.get(v, v) for v in values]
        elif facet.param == "institution":
            shown = [institution_names.get(v, v) for v in values]
        elif facet.values is not None:
            shown = [_(v) for v in values]
        else:
            shown = values
        parts.append((_(FACET_LABELS[facet.param]), "、".join(shown)))
    if query.trl_min is not None or query.trl_max is not None:
        parts.append((_("Technology readiness (TRL)"), f"{query.trl_min or TRL_RANGE[0]}–{query.trl_max or TRL_RANGE[1]}"))
    if query.free_beds is not None or query.free_days is not None:
        parts.append(
            (
                _("Free research beds"),
                _("%(beds)s beds for %(days)s days") % {"beds": query.free_beds or 1, "days": query.free_days or 1},
            )
        )
    if query.sort != "relevance":
        parts.append((_("Sort"), _(SORT_LABELS[query.sort])))
    return parts


class SavedSearchPages(Controller):
    include_in_schema = False

    async def _page(
        self, request: Request, principal: Principal, saved_searches: SavedSearchService, status: int = 200, **context
    ) -> Template:
        owned = await saved_searches.owned(principal)
        session = saved_searches.session
        names = area_names(await CatalogService(session).areas())
        queries: dict[uuid.UUID | None, SearchQuery] = {
            s.id: parse_search(parse_qsl(s.query), names, strict=False)[0] for s in owned
        }
        draft = context.get("draft")
        if draft is not None:
            queries[None] = draft
        institution_ids = {i for q in queries.values() for i in q.filters.get("institution", []) if _is_uuid(i)}
        orgs = await AccountService(session).public_organizations({uuid.UUID(i) for i in institution_ids})
        english = current_locale.get() == "en"
        institutions = {str(k): (o.name_en if english and o.name_en else o.name_zh) for k, o in orgs.items()}
        context.setdefault("errors", {})
        context.setdefault("form", {})
        context.setdefault("rename_errors", {})
        return render(
            request,
            "search/saved.html",
            principal,
            status_code=status,
            saved=owned,
            recent=await saved_searches.recent_matches(s.id for s in owned),
            described={key: describe(q, names, institutions) for key, q in queries.items()},
            search_url=search_url,
            **context,
        )

    @get("/saved-searches")
    async def saved(self, request: Request, principal: CurrentPrincipal, saved_searches: SavedSearches) -> Template:
        saved_searches.require_saver(principal)
        return await self._page(request, principal, saved_searches)

    @post("/saved-searches")
    async def save(self, request: Request, principal: CurrentPrincipal, saved_searches: SavedSearches, data: Form) -> Response:
        """From the search page: its whole query under a name. Problems are shown on this page,
        with the search to save, and nothing is saved."""
        saved_searches.require_saver(principal)
        try:
            saved = await saved_searches.create(principal, data.get("name", ""), data.get("query", ""))
        except DomainError as error:
            names = area_names(await CatalogService(saved_searches.session).areas())
            _canonical, draft, _problems = canonical_query(data.get("query", ""), names)
            return await self._page(
                request, principal, saved_searches, _form_status(error), errors=field_errors(error), form=data, draft=draft
            )
        flash(request, N_("The search is saved. New matches will appear in your notifications."))
        return Redirect(f"/saved-searches#saved-{saved.id}")

    @post("/saved-searches/{saved_id:uuid}")
    async def change(
        self,
        request: Request,
        principal: CurrentPrincipal,
        saved_searches: SavedSearches,
        saved_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response:
        """Rename (`name`) or turn e-mail on or off (`email_enabled` = true/false)."""
        saved_searches.require_saver(principal)
        email = data.get("email_enabled")
        try:
            await saved_searches.update(
                principal, saved_id, name=data.get("name"), email_enabled=None if email is None else email == "true"
            )
        except DomainError as error:
            if error.status_code == 404:
                raise
            messages = field_errors(error)
            return await self._page(
                request,
                principal,
                saved_searches,
                _form_status(error),
                rename_errors={saved_id: messages.get("name") or next(iter(messages.values()))},
                rename_value=data.get("name", ""),
            )
        if email is not None:
            flash(request, N_("E-mail is on for this search.") if email == "true" else N_("E-mail is off for this search."))
        else:
            flash(request, N_("The search is renamed."))
        return Redirect(f"/saved-searches#saved-{saved_id}")

    @post("/saved-searches/{saved_id:uuid}/delete")
    async def remove(
        self, request: Request, principal: CurrentPrincipal, saved_searches: SavedSearches, saved_id: FromPath[uuid.UUID]
    ) -> Redirect:
        saved_searches.require_saver(principal)
        await saved_searches.delete(principal, saved_id)
        flash(request, N_("The saved search is deleted."))
        return Redirect("/saved-searches")

    # The link in each digest: no sign-in needed, the random token is the credential (404 otherwise).

    @get("/saved-searches/unsubscribe/{token:str}")
    async def unsubscribe_form(
        self, request: Request, principal: CurrentPrincipal, saved_searches: SavedSearches, token: FromPath[str]
    ) -> Template:
        saved = await saved_searches.by_unsubscribe_token(token)
        return _unsubscribe_page(request, principal, saved, token, done=not saved.email_enabled)

    @post("/saved-searches/unsubscribe/{token:str}")
    async def unsubscribe(
        self, request: Request, principal: CurrentPrincipal, saved_searches: SavedSearches, token: FromPath[str]
    ) -> Template:
        saved = await saved_searches.unsubscribe(token, ip=client_ip(request))
        return _unsubscribe_page(request, principal, saved, token, done=True)


def _form_status(error: DomainError) -> int:
    return error.status_code if error.status_code in (409, 422) else 400


def _unsubscribe_page(request: Request, principal: Principal, saved: SavedSearch, token: str, *, done: bool) -> Template:
    return render(
        request,
        "notifications/unsubscribe.html",
        principal,
        subject=i18n.gettext("E-mails for the saved search “%(name)s”", name=saved.name),
        detail=i18n.gettext("At most one e-mail a day with the new matches of your saved searches."),
        action=f"/saved-searches/unsubscribe/{token}",
        done=done,
        manage_url="/saved-searches",
    )
