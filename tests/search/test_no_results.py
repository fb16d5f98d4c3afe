"""Help when nothing is found (issue 15, point 4): the page names the search, offers the
vocabulary's spelling and other words with their counts, the same words without the filters, and
the nearest listings by meaning; "no listing matches these filters" only when filters are set."""

from __future__ import annotations

from marketplace.search.no_results import other_words, spelled
from tests.search.factories import HEPATITIS_KIT, KNEE_IMPLANT, index_with_vectors, publish


def test_a_misspelt_vocabulary_word_is_spelt_as_the_vocabulary_spells_it():
    assert spelled("biobnak samples") == "biobank samples"
    assert spelled("biobank samples") is None  # nothing to correct
    assert spelled("肝癌 样本") is None  # Chinese is never "corrected"


def test_the_vocabulary_gives_other_words_for_the_query():
    words = other_words("biobank")
    assert "生物样本库" in words and "biobank" not in words


async def test_the_page_names_the_search_and_offers_the_nearest_listings(client, hybrid, engine, db, world):
    await publish(db, world, HEPATITIS_KIT, KNEE_IMPLANT)
    await index_with_vectors(engine, hybrid)
    page = await client.get("/search", params={"q": "solar panel installation"})
    assert page.status_code == 200
    assert "没有与“solar panel installation”相符的条目。" in page.text
    assert "没有符合筛选条件的条目" not in page.text  # no filter is set
    # Nothing is close, yet the nearest are offered, for what they are.
    nearest = page.text[page.text.index("语义最接近的条目") :]
    assert "个性化3D打印人工膝关节假体" in nearest and "乙型肝炎病毒核酸定量检测试剂盒" in nearest


async def test_filters_that_hide_everything_are_named_and_can_be_dropped(client, hybrid, engine, db, world):
    await publish(db, world, HEPATITIS_KIT, KNEE_IMPLANT)
    await index_with_vectors(engine, hybrid)
    page = await client.get("/search", params={"q": "病毒载量", "kind": "resource"})
    assert "没有与“病毒载量”相符的条目。" in page.text and "在当前筛选条件下" in page.text
    assert '去掉筛选条件，仍搜索这些词</a> <span class="facet-count">1</span>' in page.text
    page = await client.get("/search", params={"kind": "resource"})
    assert "没有符合筛选条件的条目。" in page.text


async def test_the_api_says_what_else_to_try(client, hybrid, engine, db, world):
    await publish(db, world, HEPATITIS_KIT, KNEE_IMPLANT)
    await index_with_vectors(engine, hybrid)
    answer = (await client.get("/api/v1/search", params={"q": "病毒载量", "kind": "resource"})).json()
    assert answer["total"] == 0
    assert answer["no_results"]["without_filters"] == 1
    assert {near["title_zh"] for near in answer["no_results"]["nearest"]} == set()  # no resource at all
    found = (await client.get("/api/v1/search", params={"q": "病毒载量"})).json()
    assert found["total"] == 1 and found["no_results"] is None
