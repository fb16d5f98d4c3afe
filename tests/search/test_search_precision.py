"""Chinese precision (issue 15, point 2): a word the segmenter cuts into single characters is
matched as a phrase, never by one common character; Latin identifiers with digits match only
themselves. Measured on the demo data by bench/chinese_recall.py, section (f)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from marketplace.search.documents import recall_words
from marketplace.search.query_text import compound_pieces, identifier_forms, precise_query
from tests.search.factories import index_named

# Titles chosen so that each query's pieces occur only where the case says; summaries say nothing.
LISTINGS = {
    "stroke": "脑卒中后偏瘫康复训练系统",  # 脑卒中 is one word to the segmenter
    "stroke_bare": "卒中后吞咽障碍评估量表",  # 卒 / 中 / 后 …
    "tcm": "中药颗粒治疗慢性肾病",  # 中 only, as 中药: the kidney granule
    "pawn": "马前卒式的急救响应，覆盖基层医疗中心",  # 卒 and 中 (中心), apart
    "cervix": "宫颈癌筛查质控平台",  # 宫颈癌 is one word: 癌 only inside it
    "pd1": "靶向PD-1的人源化单克隆抗体",
    "pd4277": "JAK1选择性抑制剂乳膏PD-4277治疗特应性皮炎",
    "pdl1": "PD-L1表达免疫组化检测试剂盒",
    "glp1": "长效GLP-1受体激动剂周制剂",
    "glp2": "GLP-2类似物治疗短肠综合征",
    "cldn182": "靶向CLDN18.2的抗体偶联药物",
    "cldn181": "CLDN18.1亚型表达检测",
    "b7h3": "靶向B7-H3的嵌合抗原受体T细胞",
    "b7h4": "B7-H4单抗注射液",
    "g12d": "KRAS G12D选择性抑制剂",
    "g12c": "KRAS G12C共价抑制剂",
    "ultrasound": "基于5G远程超声的基层筛查平台",
    "mri": "7T全身磁共振成像系统",
    "network": "5GHz无线监护网络",
}


@pytest.fixture
async def indexed(settings, engine, db, world):
    fields = {"title_en": None, "summary_zh": "详见附件。", "keywords": [], "advantages": "无。"}
    async for ids in index_named(settings, engine, db, world, {n: {**fields, "title_zh": t} for n, t in LISTINGS.items()}):
        yield ids


async def ranked(client, q: str, ids: dict[str, str]) -> list[str]:
    """The names of the listings that GET /api/v1/search answers for q, best first."""
    response = await client.get("/api/v1/search?" + urlencode({"q": q, "page_size": 100}))
    assert response.status_code == 200, response.text
    names = {listing_id: name for name, listing_id in ids.items()}
    return [names[hit["id"]] for hit in response.json()["hits"]]


async def found(client, q: str, ids: dict[str, str]) -> set[str]:
    return set(await ranked(client, q, ids))


async def test_a_word_cut_into_single_characters_is_matched_as_a_phrase(client, indexed) -> None:
    # Not the granule (中药), nor the listing with 卒 and 中心 apart; both stroke listings.
    assert await found(client, "卒中", indexed) == {"stroke", "stroke_bare"}
    # 康复 may be dropped (the matching strategy), the phrase never.
    assert await ranked(client, "卒中康复", indexed) == ["stroke", "stroke_bare"]
    assert await found(client, "脑卒中", indexed) == {"stroke", "stroke_bare"}  # 卒中 is its synonym


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("PD-1", {"pd1"}),  # not PD-4277, not PD-L1
        ("PD-L1", {"pdl1"}),
        ("GLP-1", {"glp1"}),
        ("CLDN18.2", {"cldn182"}),
        ("B7-H3", {"b7h3"}),
        ("KRAS G12D", {"g12d"}),
        ("PD-1 单克隆抗体", {"pd1"}),
    ],
)
async def test_a_latin_identifier_with_digits_matches_only_itself(client, indexed, q, expected) -> None:
    assert await found(client, q, indexed) == expected


async def test_a_one_character_query_is_searched_as_typed(client, indexed) -> None:
    # 癌 is what the user typed: neither quoted nor dropped (a guard on the rule, which leaves out
    # lone common characters only inside longer words); it finds the listing that says 宫颈癌.
    assert precise_query("癌") == "癌"
    assert await found(client, "癌", indexed) == {"cervix"}


def test_the_query_rewriting_rule() -> None:
    assert precise_query("卒中") == '"卒中"'
    assert precise_query("卒中 队列") == '"卒中" 队列'
    assert precise_query("慢阻肺 队列") == "慢阻肺 队列"  # a synonym term with no common character: for the synonyms
    assert precise_query("3期临床") == '"3期" 临床'  # a bare number counts as a single piece
    assert precise_query("肝结节") == '"肝结节"'  # a lone character at the start: glued to the next word
    assert precise_query("法布雷病") == '"法布雷病"'  # elsewhere: to the word before it
    assert precise_query("脑卒中后偏瘫") == "脑卒中 偏瘫"  # a lone common character is left out
    assert precise_query("PD-1 单克隆抗体") == "PD1 单克隆抗体"  # a synonym term, spelt as one the engine keeps whole
    assert precise_query("KRAS G12D") == 'KRAS "G12D"'
    assert precise_query("5G远程超声") == '"5 G" 远程 超声'  # leading digits apart, as after Chinese text
    # Unchanged: whole dictionary words, Latin words without digits, synonym terms (Meilisearch
    # expands none inside a phrase: 外泌体 is 外 / 泌 / 体), a query with the user's own quotes.
    for q in ("肝癌早期诊断试剂盒", "CAR-T细胞", "IgA肾病", "knee osteoarthritis", "外泌体", '"卒中" 康复', ""):
        assert precise_query(q) == q


def test_documents_carry_the_pieces_of_compounds_that_a_phrase_asks_for() -> None:
    assert compound_pieces(["缺血性脑卒中"]).split("。") == ["脑 卒", "卒 中"]
    assert compound_pieces(["肝癌", "CLDN18.2", None]) == ""  # two characters, or no Chinese: no pieces
    # After the inner words, apart from them: no phrase runs from one into the next.
    assert recall_words(["间充质干细胞"]) == "细胞。干 细"
    assert identifier_forms(["7T全身磁共振", "基于5G远程超声", "PD-1"]) == "7 T。5 G"  # 7T alone is one word


async def test_an_identifier_opening_with_digits_is_found_wherever_it_stands(client, indexed) -> None:
    # After Chinese text Meilisearch cuts 5G into 5 / g, at the start of a text it keeps 7t whole.
    assert await found(client, "5G", indexed) == {"ultrasound"}
    assert await found(client, "7T", indexed) == {"mri"}


def test_an_identifier_inside_a_synonym_term_is_left_for_the_synonyms(monkeypatch) -> None:
    from marketplace.search import query_text
    from marketplace.search.index_settings import INDEX_SETTINGS

    monkeypatch.setitem(INDEX_SETTINGS["synonyms"], "GLP-1 receptor agonist", ["GLP-1受体激动剂"])
    query_text._synonym_terms.cache_clear()
    try:
        assert precise_query("glp-1 receptor agonist") == "glp-1 receptor agonist"
        assert precise_query("GLP-1 agonist") == "GLP1 agonist"  # the vocabulary's whole spelling
        monkeypatch.setitem(INDEX_SETTINGS["synonyms"], "GLP-1受体激动剂", ["GLP-1 receptor agonist"])
        query_text._synonym_terms.cache_clear()
        assert precise_query("GLP-1受体激动剂") == "GLP-1受体激动剂"
    finally:
        monkeypatch.undo()
        query_text._synonym_terms.cache_clear()
