"""Chinese recall (issue 4, point 7): what Meilisearch's own Chinese handling misses, and the fixes —
the words inside compounds indexed in a hidden field, and the matching strategy chosen by the
query's language. Measured on the demo data by bench/chinese_recall.py."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from marketplace.search.documents import inner_words
from marketplace.search.engine import SearchEngine
from marketplace.search.index_settings import INNER_WORDS
from marketplace.search.query_text import matching_strategy, spell_synonyms
from tests.search.factories import index_named

# Texts chosen so that each query word occurs only where the case says.
LISTINGS = {
    # 干细胞 is one word to jieba's precise mode: 细胞 is inside it, nowhere on its own.
    "stem_cells": {
        "title_zh": "间充质干细胞外泌体冻干粉制备工艺",
        "title_en": None,
        "summary_zh": "用于膝骨关节炎软骨修复的冻干粉。",
        "keywords": ["外泌体", "冻干粉"],
        "advantages": "常温运输，批间差异小。",
    },
    "diabetes": {
        "title_zh": "治疗2型糖尿病的长效胰岛素类似物",
        "title_en": None,
        "summary_zh": "每周给药一次的基础胰岛素。",
        "keywords": ["胰岛素类似物"],
        "advantages": "低血糖发生率低。",
    },
    "sequencing": {
        "title_zh": "第2代测序肿瘤基因检测试剂盒",
        "title_en": None,
        "summary_zh": "覆盖常见驱动基因的靶向测序。",
        "keywords": ["靶向测序"],
        "advantages": "周转时间短。",
    },
    "ultrasound": {
        "title_zh": "基于5G远程超声的基层筛查平台",
        "title_en": None,
        "summary_zh": "专家远程操控基层超声探头。",
        "keywords": ["远程超声"],
        "advantages": "覆盖偏远地区。",
    },
    # Says 肝细胞癌, never 肝癌.
    "liver_kit": {
        "title_zh": "用于肝细胞癌早期诊断的血清标志物检测试剂盒",
        "title_en": None,
        "summary_zh": "三项血清标志物联合检测。",
        "keywords": ["血清标志物"],
        "advantages": "仅需常规采血。",
    },
}


@pytest.fixture
async def indexed(settings, engine, db, world):
    async for ids in index_named(settings, engine, db, world, LISTINGS):
        yield ids


async def search_api(client, q: str) -> dict:
    response = await client.get("/api/v1/search?" + urlencode({"q": q}))
    assert response.status_code == 200, response.text
    return response.json()


async def found(client, q: str) -> list[str]:
    return [hit["id"] for hit in (await search_api(client, q))["hits"]]


async def test_a_word_inside_a_compound_finds_the_listing(client, indexed) -> None:
    body = await search_api(client, "细胞")  # inside 干细胞 and 肝细胞癌, never a word of its own
    assert {hit["id"] for hit in body["hits"]} == {indexed["stem_cells"], indexed["liver_kit"]}
    # The field that found them stays out of the answer, and no snippet marks a piece of a word.
    assert INNER_WORDS not in str(body)
    hit = next(hit for hit in body["hits"] if hit["id"] == indexed["stem_cells"])
    assert hit["highlights"]["title_zh"] == "间充质干细胞外泌体冻干粉制备工艺"


def test_inner_words_are_the_words_inside_compounds_only() -> None:
    assert inner_words(["间充质干细胞", None, "肝细胞癌"]).split() == ["细胞"]
    assert "农业" in inner_words(["农业发展银行"]).split()  # the issue's own example
    assert inner_words(["细胞治疗"]) == ""  # precise mode already gives 细胞


async def test_a_query_with_a_digit_does_not_match_every_listing_with_that_digit(client, indexed) -> None:
    # Segmented 2 / 型 / 糖尿病: dropping words from the end would leave "2" alone, which the
    # sequencing kit's 第2代 holds.
    assert await found(client, "2型糖尿病") == [indexed["diabetes"]]
    assert await found(client, "第2代") == [indexed["sequencing"]]
    assert await found(client, "5G") == [indexed["ultrasound"]]


async def test_a_chinese_query_with_a_word_no_listing_holds_still_finds(client, indexed, settings) -> None:
    # The listing says 肝细胞癌, never 肝脏 (肝癌 would now find it by the vocabulary's synonyms).
    q = "肝脏肿瘤早期诊断试剂盒"
    async with SearchEngine(settings.meili_url, settings.meili_master_key, settings.meili_index_prefix) as search:
        index = search.client.index(search.listings_index)
        for strategy in ("all", "last"):  # every word, or words dropped from the end: 肝脏 stays, nothing
            assert (await index.search(q, matching_strategy=strategy)).hits == []
    assert (await found(client, q))[0] == indexed["liver_kit"]


def test_the_matching_strategy_follows_the_query_language() -> None:
    assert matching_strategy("肝癌 早期诊断") == matching_strategy("2型糖尿病") == "frequency"
    assert matching_strategy("knee osteoarthritis implant") == matching_strategy("CAR-T 淋巴瘤") == "last"
    assert matching_strategy("") == "last"


def test_misspelt_english_synonyms_are_spelt_as_listed_before_the_query_is_sent() -> None:
    # Meilisearch expands a synonym only as spelt; the relevance table checks what this finds.
    assert spell_synonyms("gene theraphy 血友病") == "gene therapy 血友病"
    assert spell_synonyms("Biobnak") == "biobank"
    assert spell_synonyms("laser therapy") == "laser therapy"  # not the "later" of "pay later": whole terms only
    assert spell_synonyms("cel therapy") == "cel therapy"  # a short word has no typo budget, as in Meilisearch
