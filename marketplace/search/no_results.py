"""Help when a search finds nothing (`no_results_help`): what else to try, each with what it would
find — the query spelt as the vocabulary spells it, the vocabulary's other words for it, the same
words without the filters, and the listings nearest in meaning whatever their score."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from marketplace.search.embeddings import EMBEDDER
from marketplace.search.engine import SearchEngine, SearchUnavailable, describe
from marketplace.search.index_settings import INDEX_SETTINGS
from marketplace.search.query import (
    RETRIEVED,
    SearchQuery,
    filter_expression,
    query_is_filtered,
    query_vector,
    run_search,
)
from marketplace.search.query_text import LATIN

NEAREST = 5
MAX_SUGGESTIONS = 5


@dataclass
class NoResultsHelp:
    q: str
    spelled: str | None = None  # the query with its words spelt as the vocabulary spells them
    spelled_total: int = 0
    other_words: list[tuple[str, int]] = field(default_factory=list)  # (the vocabulary's other word, its hits)
    without_filters: int | None = None  # hits of the same words with no filter (None: no filter set)
    nearest: list[dict[str, Any]] = field(default_factory=list)  # nearest listings by meaning


def _vocabulary() -> dict[str, list[str]]:
    return INDEX_SETTINGS.get("synonyms") or {}


def spelled(q: str) -> str | None:
    """The query with each Latin word that is not a vocabulary term but is one or two typos from
    one spelt as that term; None when nothing changes."""
    terms = {term.lower(): term for term in _vocabulary() if LATIN.search(term) and " " not in term}
    words, changed = q.split(), False
    for i, word in enumerate(words):
        lowered = word.lower()
        if not LATIN.search(word) or lowered in terms or len(word) < 4:
            continue
        budget = 1 if len(word) < 8 else 2
        found = process.extractOne(lowered, terms.keys(), scorer=DamerauLevenshtein.distance, score_cutoff=budget)
        if found:
            words[i], changed = terms[found[0]], True
    return " ".join(words) if changed else None


def other_words(q: str) -> list[str]:
    """The vocabulary's other words for the query or the words in it: its equivalents and the
    broader terms that expand to it (a search for 肝细胞癌 may be answered by listings of 肝癌)."""
    vocabulary = _vocabulary()
    lowered = {term.lower(): others for term, others in vocabulary.items()}
    keys = {q.strip().lower(), *q.lower().split()}
    found: list[str] = []
    for key in keys:
        found += lowered.get(key, [])
    found += [term for term, others in vocabulary.items() if keys & {other.lower() for other in others}]
    return [word for word in dict.fromkeys(found) if word.lower() not in keys][:MAX_SUGGESTIONS]


async def nearest_by_meaning(search: SearchEngine, query: SearchQuery, limit: int = NEAREST) -> list[dict[str, Any]]:
    """The listings nearest the query in meaning, however far (no threshold), with its filters."""
    from meilisearch_python_sdk.models.search import Hybrid

    vector = await query_vector(search, query.q)
    if vector is None:
        return []
    try:
        result = await search.client.index(search.listings_index).search(
            query.q,
            vector=vector,
            hybrid=Hybrid(semantic_ratio=1.0, embedder=EMBEDDER),
            filter=filter_expression(query) or None,
            limit=limit,
            attributes_to_retrieve=RETRIEVED,
        )
    except Exception as error:
        raise SearchUnavailable(describe(error)) from error
    return list(result.hits)


async def no_results_help(search: SearchEngine, query: SearchQuery) -> NoResultsHelp:
    """What the page and API offer when `query` found nothing (totals only: no facet counts asked)."""
    hints = NoResultsHelp(query.q)
    count = SearchQuery(page_size=1)
    if query.q:
        if (spelling := spelled(query.q)) is not None:
            hints.spelled = spelling
            hints.spelled_total = (await run_search(search, replace(query, q=spelling, page=1, page_size=1), facets=False)).total
        for word in other_words(query.q):
            total = (await run_search(search, replace(query, q=word, page=1, page_size=1), facets=False)).total
            hints.other_words.append((word, total))
    if query_is_filtered(query):
        hints.without_filters = (await run_search(search, replace(count, q=query.q), facets=False)).total
    if query.q:
        hints.nearest = await nearest_by_meaning(search, query)
    return hints
