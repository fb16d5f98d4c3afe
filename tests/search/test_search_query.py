"""The search request's own CPU (issue 19, point 7): what run_search works out once per query text,
and how it reads Meilisearch's answer."""

from __future__ import annotations

from marketplace.search.query import MARK_POST, MARK_PRE, embedded_text, holds_mark, query_text
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
