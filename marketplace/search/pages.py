"""The search page: GET /search, server-rendered; its results-and-facets region is also served
alone to htmx requests, so the page updates as people type and tick, and the URL holds the query."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone
from urllib.parse import urlencode

from litestar import Controller, Request, get
from litestar.response import Template

from marketplace.accounts.services import AccountService
from marketplace.catalog.api import Catalog
from marketplace.catalog.models import Availability, LicenceOption, ListingKind, ResourceType, ResultType, Stage
from marketplace.catalog.pages import area_names
from marketplace.i18n import current_locale
from marketplace.search.api import RETRY_AFTER_SECONDS
from marketplace.search.services import FACETS, SORTS, SearchUnavailable, parse_search, run_search
from marketplace.tenancy import CurrentPrincipal
from marketplace.web import render

# The order and the values each facet offers even when they count zero.
FACET_VALUES = {
    "kind": list(ListingKind),
    "type": [*ResultType, *ResourceType],
    "stage": list(Stage),
    "licence": list(LicenceOption),
    "availability": list(Availability),
}


def _date(epoch: int | None) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).date().isoformat() if epoch else ""


class SearchPages(Controller):
    include_in_schema = False

    @get("/search")
    async def search(self, request: Request, principal: CurrentPrincipal, catalog: Catalog) -> Template:
        started = time.perf_counter()
        areas = await catalog.areas()
        names = area_names(areas)
        query, _ = parse_search(request.query_params.multi_items(), names, strict=False)
        outcome, unavailable = None, False
        try:
            outcome = await run_search(request.app.state.search, query)
        except SearchUnavailable:
            unavailable = True
        # Names of the institutions that appear in the facet or are ticked.
        institution_ids = set(query.filters.get("institution", []))
        if outcome:
            institution_ids |= set(outcome.facets.get("institution", {}))
        orgs = await AccountService(catalog.session).public_organizations(
            {uuid.UUID(i) for i in institution_ids if _is_uuid(i)}
        )
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
            return [(v, labels.get(v, v), counts.get(v, 0), v in ticked) for v in values]

        fragment = request.headers.get("hx-request") == "true" and not request.headers.get("hx-history-restore-request")
        response = render(
            request,
            "search/_results.html" if fragment else "search/page.html",
            principal,
            status_code=503 if unavailable else 200,
            query=query,
            outcome=outcome,
            unavailable=unavailable,
            facets=FACETS,
            facet_options=facet_options,
            sorts=list(SORTS),
            url=url,
            area_names=names,
            date=_date,
            total_ms=round((time.perf_counter() - started) * 1000),
        )
        response.headers["Vary"] = "HX-Request"
        if fragment:  # the address bar shows the canonical URL of the whole query
            response.headers["HX-Push-Url"] = url()
        if unavailable:
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
