"""The search request's own CPU (issue 19, point 7): what run_search works out once per query text,
and how it reads Meilisearch's answer."""

from __future__ import annotations

import logging
import uuid

import pytest

from marketplace.search.engine import SearchEngine, SearchUnavailable, engine_error, search_engine_for
from marketplace.search.index_settings import INDEX_SETTINGS
from marketplace.search.query import (
    MARK_POST,
    MARK_PRE,
    SearchQuery,
    embedded_text,
    filter_expression,
    holds_mark,
    marked_html,
    query_text,
    run_search,
    search_requests,
)
from marketplace.search.query_text import precise_query
from marketplace.search.synonyms import gloss


def test_a_query_is_rewritten_once_per_text() -> None:
    q = "biobnak 肝癌 5G"
    assert query_text(q) == precise_query("biobank 肝癌 5G")  # spelt right, then phrases
    assert query_text(q, phrases=False) == "biobank 肝癌 5G"
    hits = query_text.cache_info().hits
    assert query_text(q) == precise_query("biobank 肝癌 5G")
    assert query_text.cache_info().hits == hits + 1


def test_a_query_is_glossed_once_per_text() -> None:
    assert gloss("肝癌")  # the vocabulary has an English name for it
    assert embedded_text("肝癌") == f"肝癌 {' '.join(gloss('肝癌'))}"
    assert embedded_text("xyzzy") == "xyzzy"
    hits = embedded_text.cache_info().hits
    embedded_text("肝癌")
    assert embedded_text.cache_info().hits == hits + 1


def test_a_field_is_matched_when_its_formatted_text_holds_a_marker() -> None:
    assert holds_mark(f"肝{MARK_PRE}癌{MARK_POST}筛查")
    assert holds_mark(["甲", f"{MARK_PRE}乙{MARK_POST}"])  # a list field: keywords
    assert not holds_mark("肝癌筛查") and not holds_mark(["甲", "乙"]) and not holds_mark([])
    assert not holds_mark(None) and not holds_mark(7) and not holds_mark(True)


# ----- the multi-search, sent as JSON and read with msgspec (search/engine.py) --------------------


def engine_of_its_own(settings, **kwargs) -> SearchEngine:
    """An engine on the tests' Meilisearch whose index names no other test uses."""
    prefix = f"{settings.meili_index_prefix}{uuid.uuid4().hex[:8]}_"
    return SearchEngine(settings.meili_url, settings.meili_master_key, prefix, **kwargs)


async def test_an_index_without_the_embedder_is_searched_by_words_with_a_warning(settings, caplog) -> None:
    hybrid = search_engine_for(settings)
    assert hybrid.embedder is not None and hybrid.embedder.available
    search = engine_of_its_own(settings, embedder=hybrid.embedder)
    try:
        await search.create_index(search.listings_index, {k: v for k, v in INDEX_SETTINGS.items() if k != "embedders"})
        await search.upsert([{"id": "a1", "kind": "result", "type": "ivd_reagent", "title_zh": "肝癌早筛试剂盒"}])
        with caplog.at_level(logging.WARNING):
            outcome = await run_search(search, SearchQuery(q="肝癌"))
        assert [hit.document["id"] for hit in outcome.hits] == ["a1"] and outcome.total == 1
        assert outcome.facets["kind"] == {"result": 1} and "title_zh" in outcome.hits[0].matched
        assert "hybrid search refused, keyword search instead" in caplog.text and "invalid_search_embedder" in caplog.text
    finally:
        await search.delete_index(search.listings_index)
        await search.aclose()
        await hybrid.aclose()


async def test_no_index_yet_is_no_hits(settings) -> None:
    async with engine_of_its_own(settings) as search:
        outcome = await run_search(search, SearchQuery(q="肝癌", filters={"kind": ["result"]}), hybrid=False)
    assert (outcome.hits, outcome.total, outcome.pages, outcome.facets) == ([], 0, 1, {})


async def test_a_refusal_from_meilisearch_is_search_unavailable_with_its_code(settings) -> None:
    async with SearchEngine(settings.meili_url, "not-the-key", settings.meili_index_prefix) as search:
        with pytest.raises(SearchUnavailable, match="403 invalid_api_key"):
            await run_search(search, SearchQuery(q="肝癌"), hybrid=False)


def test_an_error_answer_that_is_not_meilisearchs_keeps_its_text() -> None:
    error = engine_error(502, b"<html>Bad Gateway</html>")
    assert (error.status, error.code, error.message) == (502, "", "<html>Bad Gateway</html>")
    error = engine_error(400, b'{"message": "m", "code": "invalid_search_filter", "type": "invalid_request", "link": "l"}')
    assert (error.status, error.code, error.message, error.error_type) == (400, "invalid_search_filter", "m", "invalid_request")


async def test_the_answer_comes_uncompressed(settings, indexed) -> None:
    """Meilisearch brotli-compresses an answer when asked; between two processes of one deployment
    that costs both CPU and saves nothing worth it."""
    encodings: list[str | None] = []

    async def record(response) -> None:
        encodings.append(response.headers.get("content-encoding"))

    search = search_engine_for(settings)
    search.client.http_client.event_hooks["response"].append(record)
    try:
        outcome = await run_search(search, SearchQuery(q="肝癌"), hybrid=False)
    finally:
        await search.aclose()
    assert outcome.hits and encodings == [None]


async def test_a_caller_that_shows_no_facets_asks_for_no_counts(settings, indexed) -> None:
    query = SearchQuery(q="肝癌", filters={"kind": ["result", "resource"], "gcp": ["true"]})
    assert len(search_requests("listings", query)) == 3  # the hits and the two ticked facets' counts
    [alone] = search_requests("listings", query, facets=False)
    assert "facets" not in alone and alone["filter"] == filter_expression(query)
    search = search_engine_for(settings)
    try:
        counted = await run_search(search, query, hybrid=False)
        uncounted = await run_search(search, query, hybrid=False, facets=False)
    finally:
        await search.aclose()
    assert counted.facets["kind"] and uncounted.facets == {}
    assert uncounted.total == counted.total > 0
    assert [hit.document for hit in uncounted.hits] == [hit.document for hit in counted.hits]


def test_a_highlight_is_escaped_html_with_its_matches_marked() -> None:
    assert marked_html(f"<b>{MARK_PRE}肝癌{MARK_POST}</b> & 筛查") == "&lt;b&gt;<mark>肝癌</mark>&lt;/b&gt; &amp; 筛查"
    assert marked_html(f"…早期{MARK_PRE}肝") == "…早期<mark>肝</mark>"  # cut off by the crop: closed
    assert marked_html(["甲", f"{MARK_PRE}乙{MARK_POST}"]) == "<mark>乙</mark>"  # a list: its matched items
    assert marked_html(["甲", "乙"]) == "甲；乙" and marked_html(None) == "" and marked_html("a<b") == "a&lt;b"
