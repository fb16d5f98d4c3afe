"""Querying the listings index, for the search API and page and for saved-search alerts: URL
parameters to a validated `SearchQuery` (`parse_search`), its filters in Meilisearch's syntax,
and one multi-search round trip (`run_search`)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from markupsafe import escape

from marketplace.i18n import N_
from marketplace.search.documents import DOCUMENT_FIELDS, FREE_RUN_BEDS
from marketplace.search.embeddings import EMBEDDER
from marketplace.search.engine import EngineError, SearchEngine, SearchUnavailable, describe
from marketplace.search.index_settings import INNER_WORDS
from marketplace.search.query_text import embedded_text, matching_strategy, query_text
from marketplace.web import MAX_PAGE, MAX_PAGE_SIZE

log = logging.getLogger(__name__)

# ----- querying: the search API and page -----------------------------------------------------------

# Highlight markers Meilisearch puts around matches: characters from Unicode's private use area,
# which no listing text carries. The snippet is escaped as a whole, then they become <mark>.
MARK_PRE = "\ue000"
MARK_POST = "\ue001"
HIGHLIGHTED = ["title_zh", "title_en", "summary_zh", "summary_en", "advantages", "keywords"]
CROPPED = ["summary_zh", "summary_en", "advantages"]
CROP_WORDS = 40
SORTS: dict[str, list[str] | None] = {
    "relevance": None,
    "newest": ["published_at:desc"],
    "confirmed": ["confirmed_at:desc"],
}
# The document without the field that only serves recall.
RETRIEVED = sorted(DOCUMENT_FIELDS - {INNER_WORDS})
DEFAULT_PAGE_SIZE = 20
# The least ranking score a hybrid hit needs: below it, semantic hits are unrelated text (see
# index_settings.SEMANTIC_DISTRIBUTION); the weakest keyword hits score about 0.2.
SEMANTIC_THRESHOLD = 0.1
MAX_QUERY_LENGTH = 200
MAX_VALUE_LENGTH = 100
MAX_VALUES = 50
TRL_RANGE = (1, 9)
# Research wards' free beds (marketplace/beds/availability.py puts them on the listing): at least
# `free_beds` beds free (one of these) for a run of at least `free_days` consecutive days of the next 90.
FREE_BEDS = FREE_RUN_BEDS
FREE_DAYS_RANGE = (1, 90)


@dataclass(frozen=True)
class Facet:
    """A filter that people tick: its query parameter, the document field, its allowed values
    (None: any short text, quoted), and whether a value is a yes/no."""

    param: str
    field: str
    values: frozenset[str] | None = None
    boolean: bool = False


def _facets() -> tuple[Facet, ...]:
    from marketplace.catalog.models import Availability, LicenceOption, ListingKind, ResourceType, ResultType, Stage

    return (
        Facet("kind", "kind", frozenset(ListingKind)),
        Facet("type", "type", frozenset(ResultType) | frozenset(ResourceType)),
        Facet("area", "areas"),  # checked against the area vocabulary by the caller
        Facet("stage", "stage", frozenset(Stage)),
        Facet("licence", "licence_options", frozenset(LicenceOption)),
        Facet("availability", "availability", frozenset(Availability)),
        Facet("city", "institution_city"),
        Facet("institution", "institution_id"),
        Facet("gcp", "gcp_certified", boolean=True),
        Facet("ethics", "ethics_alliance_member", boolean=True),
        Facet("open_licence", "open_licence", boolean=True),  # 开放许可 declared
    )


FACETS: tuple[Facet, ...] = _facets()
FACET_BY_PARAM = {f.param: f for f in FACETS}
QUERY_PARAMS = frozenset({"q", "sort", "page", "page_size", "trl_min", "trl_max", "free_beds", "free_days", *FACET_BY_PARAM})
TRUE_WORDS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}


@dataclass
class SearchQuery:
    """A validated search: every value is one the filter builder may quote as is."""

    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)  # facet param → values (OR within)
    trl_min: int | None = None
    trl_max: int | None = None
    free_beds: int | None = None
    free_days: int | None = None
    sort: str = "relevance"
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    # Saved-search alerts only, never a URL parameter: listings changed after this epoch millisecond.
    changed_after: int | None = None
    # Never a URL parameter: False for a query built from a need's title (recommendations), which
    # relies on the matching strategy to drop the words no listing holds, and a phrase never drops.
    phrases: bool = True

    def params(self, **changes) -> list[tuple[str, str]]:
        """The query as URL parameters (defaults left out), so that a URL holds the whole search."""
        state = {
            "q": self.q,
            "filters": self.filters,
            "trl_min": self.trl_min,
            "trl_max": self.trl_max,
            "free_beds": self.free_beds,
            "free_days": self.free_days,
            "sort": self.sort,
            "page": self.page,
            "page_size": self.page_size,
        } | changes
        pairs: list[tuple[str, str]] = []
        if state["q"]:
            pairs.append(("q", state["q"]))
        for facet in FACETS:
            pairs += [(facet.param, value) for value in state["filters"].get(facet.param, [])]
        for name in ("trl_min", "trl_max", "free_beds", "free_days"):
            if state[name] is not None:
                pairs.append((name, str(state[name])))
        if state["sort"] != "relevance":
            pairs.append(("sort", state["sort"]))
        if state["page_size"] != DEFAULT_PAGE_SIZE:
            pairs.append(("page_size", str(state["page_size"])))
        if state["page"] != 1:
            pairs.append(("page", str(state["page"])))
        return pairs


def query_is_filtered(query: SearchQuery) -> bool:
    """Any filter set (a ticked facet, a TRL range or free beds), the words aside."""
    bounds = (query.trl_min, query.trl_max, query.free_beds, query.free_days)
    return bool(query.filters) or any(value is not None for value in bounds)


def _int(value: str, low: int, high: int) -> int | None:
    try:
        number = int(value.strip())
    except ValueError:
        return None
    return number if low <= number <= high else None


def parse_search(
    params: Iterable[tuple[str, str]], areas: Iterable[str], *, strict: bool = True
) -> tuple[SearchQuery, list[tuple[str, str, dict]]]:
    """Turn URL parameters into a SearchQuery. Returns the problems as (field, message id, params);
    with strict=False a bad value is dropped instead (the page forgives old or hand-edited URLs)."""
    area_codes = set(areas)
    errors: list[tuple[str, str, dict]] = []
    query = SearchQuery()
    seen: dict[str, list[str]] = {}
    for name, value in params:
        seen.setdefault(name, []).append(value)
    for name in seen:
        if name not in QUERY_PARAMS:
            errors.append((name, N_("Not a search parameter."), {}))
    for name in ("q", "sort", "page", "page_size", "trl_min", "trl_max", "free_beds", "free_days"):
        if len(seen.get(name, [])) > 1:
            errors.append((name, N_("Give this parameter once."), {}))
    first = {name: values[0] for name, values in seen.items()}
    q = first.get("q", "").strip()
    if len(q) > MAX_QUERY_LENGTH:
        errors.append(("q", N_("At most %(n)s characters."), {"n": MAX_QUERY_LENGTH}))
        q = q[:MAX_QUERY_LENGTH]
    query.q = q
    sort = first.get("sort", "") or "relevance"
    if sort in SORTS:
        query.sort = sort
    else:
        errors.append(("sort", N_("Not one of the allowed values."), {}))
    for name, low, high, default in (("page", 1, MAX_PAGE, 1), ("page_size", 1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE)):
        raw = first.get(name, "")
        number = _int(raw, low, high) if raw else default
        if number is None:
            errors.append((name, N_("A whole number from %(low)s to %(high)s."), {"low": low, "high": high}))
            number = default
        setattr(query, name, number)
    for name in ("trl_min", "trl_max"):
        raw = first.get(name, "")
        if raw:
            number = _int(raw, *TRL_RANGE)
            if number is None:
                errors.append((name, N_("A whole number from %(low)s to %(high)s."), {"low": TRL_RANGE[0], "high": TRL_RANGE[1]}))
            setattr(query, name, number)
    if query.trl_min is not None and query.trl_max is not None and query.trl_min > query.trl_max:
        errors.append(("trl_max", N_("Must not be below the minimum."), {}))
        query.trl_max = None
    raw = first.get("free_beds", "").strip()
    if raw:
        query.free_beds = _int(raw, FREE_BEDS[0], FREE_BEDS[-1])
        if query.free_beds not in FREE_BEDS:
            errors.append(("free_beds", N_("Not one of the allowed values."), {}))
            query.free_beds = None
    raw = first.get("free_days", "").strip()
    if raw:
        query.free_days = _int(raw, *FREE_DAYS_RANGE)
        if query.free_days is None:
            errors.append(
                (
                    "free_days",
                    N_("A whole number from %(low)s to %(high)s."),
                    {"low": FREE_DAYS_RANGE[0], "high": FREE_DAYS_RANGE[1]},
                )
            )
    for facet in FACETS:
        values: list[str] = []
        for value in seen.get(facet.param, []):
            value = value.strip()
            if not value:
                continue  # an empty field of a plain form
            ok = True
            if facet.boolean:
                ok = value.lower() in TRUE_WORDS
                value = "true" if ok and TRUE_WORDS[value.lower()] else "false"
            elif facet.param == "area":
                ok = value in area_codes
            elif facet.param == "institution":
                try:
                    value = str(uuid.UUID(value))
                except ValueError:
                    ok = False
            elif facet.values is not None:
                ok = value in facet.values
            else:
                ok = len(value) <= MAX_VALUE_LENGTH and value.isprintable()
            if not ok:
                errors.append((facet.param, N_("Not one of the allowed values."), {}))
            elif value not in values:
                values.append(value)
        if len(values) > MAX_VALUES:
            errors.append((facet.param, N_("At most %(n)s values."), {"n": MAX_VALUES}))
            values = values[:MAX_VALUES]
        if facet.boolean and len(values) > 1:
            values = []  # yes or no: both is no filter
        if values:
            query.filters[facet.param] = values
    return query, errors if strict else []


def quote(value: str) -> str:
    """A string value in Meilisearch's filter syntax: double-quoted, with \\ and " escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def filter_expression(query: SearchQuery, leave_out: str | None = None) -> list[str | list[str]]:
    """The query's filters as Meilisearch's array form: the outer list is AND, an inner list OR.
    Every value comes from parse_search and is quoted; no raw text is pasted into the syntax."""
    expression: list[str | list[str]] = []
    for facet in FACETS:
        if facet.param == leave_out or facet.param not in query.filters:
            continue
        values = query.filters[facet.param]
        if facet.boolean:
            expression.append(f"{facet.field} = {values[0]}")
        else:
            expression.append([f"{facet.field} = {quote(v)}" for v in values])
    if query.trl_min is not None:
        expression.append(f"trl >= {int(query.trl_min)}")
    if query.trl_max is not None:
        expression.append(f"trl <= {int(query.trl_max)}")
    if query.free_beds is not None or query.free_days is not None:
        # The run attribute of that many beds (documents.py): only research wards carry it.
        beds = query.free_beds or FREE_BEDS[0]
        expression.append(f"free_run_{int(beds)} >= {int(query.free_days or 1)}")
    if query.changed_after is not None:
        expression.append(f"changed_at_ms > {int(query.changed_after)}")
    return expression


def marked_html(text: Any) -> str:
    """Meilisearch's formatted text as safe HTML: everything escaped, matches in <mark> (a match
    the crop cut off before its end is closed). Called for six fields of every hit: kept lean."""
    if isinstance(text, list):
        text = "；".join(str(t) for t in text if MARK_PRE in str(t)) or "；".join(str(t) for t in text)
    if text is None:
        return ""
    html = str(escape(str(text)))
    if MARK_PRE not in html:
        return html
    unclosed = html.count(MARK_PRE) - html.count(MARK_POST)
    return html.replace(MARK_PRE, "<mark>").replace(MARK_POST, "</mark>") + "</mark>" * max(0, unclosed)


def holds_mark(value: Any) -> bool:
    """Whether a formatted value (text, or a list of texts: the highlighted fields) holds a match's
    marker; without writing it as JSON to look, which took about 0.4 ms a search."""
    if isinstance(value, str):
        return MARK_PRE in value
    return isinstance(value, list) and any(map(holds_mark, value))


@dataclass
class SearchHit:
    document: dict[str, Any]
    highlights: dict[str, str]  # field → safe HTML with <mark>
    matched: list[str]  # fields where the query matched
    by_meaning: bool = False  # found by the vectors, not by the words


@dataclass
class SearchOutcome:
    query: SearchQuery
    hits: list[SearchHit]
    total: int
    pages: int
    facets: dict[str, dict[str, int]]  # facet param → value → count
    engine_ms: int
    current: bool = True  # False: Meilisearch's answer from before the index last changed (stale_ok)


def search_requests(
    uid: str, query: SearchQuery, vector: list[float] | None = None, semantic_ratio: float = 0.5, *, facets: bool = True
) -> list[dict[str, Any]]:
    """The multi-search sent for a query (Meilisearch's JSON, camelCase): the hits with every
    filter, and for each facet the user has ticked, its counts with the other filters only, so its
    unticked values still show what they would add (disjunctive facets). With the query's vector,
    the hits are ranked by words and meaning together (hybrid). Its own function so the benchmark
    sends Meilisearch exactly what the API sends. A parameter left out is Meilisearch's default.
    With facets=False, no counts at all: the hits alone, for a caller that shows no facets."""
    common: dict[str, Any] = {"indexUid": uid, "matchingStrategy": matching_strategy(query.q)}
    if q := query_text(query.q, query.phrases):
        common["q"] = q
    # The counts of the side queries come from the same hits as the main one's: by words and meaning.
    common |= hybrid_json(vector, semantic_ratio)
    main = common | {
        "page": query.page,
        "hitsPerPage": query.page_size,
        "attributesToRetrieve": RETRIEVED,
        "attributesToHighlight": HIGHLIGHTED,
        "attributesToCrop": CROPPED,
        "cropLength": CROP_WORDS,
        "highlightPreTag": MARK_PRE,
        "highlightPostTag": MARK_POST,
        "cropMarker": "…",
    }
    if expression := filter_expression(query):
        main["filter"] = expression
    if sort := SORTS[query.sort]:
        main["sort"] = sort
    if not facets:
        return [main]
    main["facets"] = [f.field for f in FACETS]
    side = []
    for f in FACETS:
        if f.param not in query.filters:
            continue
        request = common | {
            "facets": [f.field],
            "page": 1,
            # Vector hits are found only as many as asked for: ask as many as the main request.
            "hitsPerPage": query.page_size if vector is not None else 0,
            "attributesToRetrieve": ["id"],
        }
        if expression := filter_expression(query, leave_out=f.param):
            request["filter"] = expression
        side.append(request)
    return [main, *side]


def hybrid_json(vector: list[float] | None, semantic_ratio: float) -> dict[str, Any]:
    """The search parameters (Meilisearch's JSON) that rank by meaning too: the query's vector, the
    embedder and its weight, and the scores' details (which tell a hit found by meaning). A semantic
    hit below the threshold is dropped: without it every document with a vector would be a hit.
    (The needs' search gives the SDK the same, matching.needs.search.hybrid_params.)"""
    if vector is None:
        return {}
    return {
        "vector": vector,
        "hybrid": {"semanticRatio": semantic_ratio, "embedder": EMBEDDER},
        "showRankingScoreDetails": True,
        "rankingScoreThreshold": SEMANTIC_THRESHOLD,
    }


def found_by_meaning(hit: dict[str, Any]) -> bool:
    """A hit that only the vector search found: its score comes from the vectors, not from words."""
    details = hit.get("_rankingScoreDetails") or {}
    return "vectorSort" in details and "words" not in details


async def query_vector(search: SearchEngine, q: str) -> list[float] | None:
    """The query's vector when search is hybrid (None: keyword search only), embedded with its gloss
    as passages are (see synonyms.Vocabulary.gloss)."""
    if not (search.embedder and q):
        return None
    return await search.embedder.query(embedded_text(q))


async def run_search(
    search: SearchEngine, query: SearchQuery, *, hybrid: bool = True, facets: bool = True, stale_ok: bool = False
) -> SearchOutcome:
    """One round trip (multi-search, see search_requests); hybrid when the engine has an embedder
    and the query has words, keyword-only if Meilisearch refuses the vector (an index built before
    its embedder was configured). No index yet: no hits; anything else: SearchUnavailable. Facet
    counts only with facets=True (the page and the API show them); otherwise `facets` is empty.
    With stale_ok (the page and the API), an answer kept from before the index last changed may
    do (SearchEngine.multi_search); `current` says so."""
    ticked = [f for f in FACETS if f.param in query.filters] if facets else []
    vector = await query_vector(search, query.q) if hybrid else None
    try:
        try:
            results, current = await search.multi_search(
                search_requests(search.listings_index, query, vector, search.semantic_ratio, facets=facets), stale_ok=stale_ok
            )
        except EngineError as error:
            if vector is None or "embedder" not in f"{error.code} {error.message}":
                raise
            log.warning("hybrid search refused, keyword search instead: %s", describe(error))
            results, current = await search.multi_search(
                search_requests(search.listings_index, query, facets=facets), stale_ok=stale_ok
            )
    except Exception as error:
        if isinstance(error, EngineError) and error.code == "index_not_found":
            return SearchOutcome(query, [], 0, 1, {}, 0)
        raise SearchUnavailable(describe(error)) from error
    first = results[0]
    counts = first.facet_distribution or {}
    distribution = {f.param: dict(counts.get(f.field, {})) for f in FACETS} if facets else {}
    for facet, result in zip(ticked, results[1:], strict=True):
        distribution[facet.param] = dict((result.facet_distribution or {}).get(facet.field, {}))
    hits = []
    for raw in first.hits:
        formatted = raw.get("_formatted") or {}
        document = {k: v for k, v in raw.items() if k in DOCUMENT_FIELDS}
        highlights = {name: marked_html(formatted.get(name, raw.get(name))) for name in HIGHLIGHTED}
        matched = [name for name in HIGHLIGHTED if holds_mark(formatted.get(name))]
        hits.append(SearchHit(document, highlights, matched, by_meaning=found_by_meaning(raw)))
    total = first.total_hits or 0
    pages = max(1, first.total_pages or 1)
    engine_ms = sum(r.processing_time_ms for r in results)
    return SearchOutcome(query, hits, total, pages, distribution, engine_ms, current)
