"""The bilingual medical vocabulary (issue 15, point 1): the file's rules, the synonyms map it gives
Meilisearch, and what it finds on the real engine — small listings through the search API, and every
term of the file on an index of its own."""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from urllib.parse import urlencode

import pytest
import yaml

from marketplace.search.engine import SearchEngine
from marketplace.search.index_settings import INDEX_SETTINGS
from marketplace.search.query_text import spell_synonyms
from marketplace.search.synonyms import (
    VOCABULARY_FILE,
    VocabularyError,
    carrier_spelling,
    gloss,
    key,
    most_words,
    parse,
    vocabulary,
)
from tests.search.factories import index_named

HAN = re.compile(r"[\u4e00-\u9fff]")
RAW = yaml.safe_load(VOCABULARY_FILE.read_text(encoding="utf-8"))
GROUPS = [(category, group) for category, groups in RAW["groups"].items() for group in groups]


# ----- the file ----------------------------------------------------------------------------------


def test_the_file_has_at_least_500_groups_in_every_category() -> None:
    assert len(GROUPS) >= 500
    assert len(vocabulary().groups) == len(GROUPS)
    by_category = Counter(category for category, _ in GROUPS)
    assert set(by_category) == {"specialties", "modalities", "diseases", "drugs", "devices", "research"}
    assert min(by_category.values()) >= 30, by_category


def test_every_group_names_a_declared_source_with_a_reference_in_its_format() -> None:
    for category, group in GROUPS:
        name, reference = group["source"].split(" ", 1)
        assert name in RAW["sources"], (category, group)
        assert re.fullmatch(RAW["sources"][name]["pattern"], reference), (category, group)
    for source in RAW["sources"].values():
        assert source["name"] and source["reference"]


def test_no_term_is_in_two_mutual_groups_and_none_is_a_single_han_character() -> None:
    seen = Counter(key(term) for _, group in GROUPS for term in group.get("terms", []))
    assert not [term for term, n in seen.items() if n > 1]
    every = [t for _, g in GROUPS for t in [*g.get("terms", []), g.get("expand", ""), *g.get("to", [])] if t]
    assert not [t for t in every if len(t) == 1 and HAN.match(t)]


def test_an_expansion_never_shares_a_mutual_group_with_its_narrow_terms() -> None:
    group_of = {key(t): i for i, (_, g) in enumerate(GROUPS) for t in g.get("terms", [])}
    for _, group in GROUPS:
        if "expand" in group:
            broad = group_of.get(key(group["expand"]), "alone")
            assert all(group_of.get(key(t)) != broad for t in group["to"]), group


@pytest.mark.parametrize("abbreviation", ["AD", "MS", "PD", "CD", "PE", "ASD", "ALL", "DR", "ICD", "PPI", "CAD", "CHD"])
def test_an_abbreviation_with_two_medical_meanings_is_in_no_mutual_group(abbreviation) -> None:
    assert key(abbreviation) not in vocabulary().mutual_of


def test_the_synonyms_map_is_mutual_for_groups_and_one_way_for_expansions() -> None:
    synonyms = vocabulary().synonyms()
    assert {"乙型肝炎", "HBV", "hepatitis B"} <= set(synonyms["乙肝"])
    assert "乙肝" in synonyms["hepatitis B"] and "乙肝" in synonyms["HBV"]
    # 肝癌 and its own group find 肝细胞癌 and that group (HCC); never the reverse.
    assert {"肝细胞癌", "原发性肝癌", "HCC", "hepatocellular carcinoma"} <= set(synonyms["liver cancer"])
    assert "肝癌" not in synonyms["肝细胞癌"] and "liver cancer" not in synonyms["HCC"]
    assert all(term not in others for term, others in synonyms.items())


def test_the_groups_that_were_in_code_keep_their_meaning() -> None:
    synonyms = vocabulary().synonyms()
    before = [
        ("体外诊断", "体外诊断试剂", "IVD", "in vitro diagnostics"),
        ("研究型病房", "研究病房", "research ward"),
        ("生物样本库", "样本库", "biobank"),
        ("基因治疗", "gene therapy"),
        ("伴随诊断", "companion diagnostics"),
        ("液体活检", "liquid biopsy"),
        ("外泌体", "exosome"),
        ("单克隆抗体", "单抗", "monoclonal antibody"),
        ("抗体偶联药物", "ADC", "antibody-drug conjugate"),
        ("人工智能", "artificial intelligence", "AI"),
        ("医疗器械", "medical device"),
        ("真实世界研究", "真实世界数据", "real-world evidence", "RWE"),
        ("临床试验", "clinical trial"),
        ("专病数据库", "疾病队列", "disease cohort"),
        ("先使用后付费", "pay later"),
        ("细胞治疗", "细胞疗法", "cell therapy"),
    ]
    for group in before:
        for term in group:
            assert set(group) - {term} <= set(synonyms[term]), term
    # CAR-T is narrower than cell therapy: found by it, one way (the file's note says so).
    assert "CAR-T" in synonyms["cell therapy"] and "细胞治疗" not in synonyms["CAR-T"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{terms: [乙肝]}", "at least two terms"),
        ("{terms: [乙肝, 乙型肝炎], source: mesh 123}", "not a mesh reference"),
        ("{terms: [乙肝, 乙型肝炎], source: nobody D006509}", "not declared"),
        ("{terms: [乙肝, 肝], source: mesh D006509}", "single Han character"),
        ("{expand: 肝炎, source: mesh D006505}", "`to` must be"),
        ("{terms: [乙肝, 乙型肝炎], expand: 肝炎, to: [乙肝], source: mesh D006505}", "either `terms`"),
        ("{terms: [乙肝, HBV], source: mesh D006509, colour: red}", "unknown keys"),
    ],
)
def test_a_malformed_group_is_refused_with_its_name(text, problem) -> None:
    sources = "sources: {mesh: {name: MeSH, reference: D and digits, pattern: 'D\\d{6}'}}\n"
    with pytest.raises(VocabularyError) as refused:
        parse(sources + "groups:\n  diseases:\n    - {terms: [丙肝, HCV], source: mesh D006526}\n    - " + text + "\n")
    assert "diseases group 2" in str(refused.value) and problem in str(refused.value)


def test_a_term_in_two_groups_and_a_two_way_expansion_are_refused() -> None:
    sources = "sources: {mesh: {name: MeSH, reference: D and digits, pattern: 'D\\d{6}'}}\ngroups:\n  diseases:\n"
    twice = "    - {terms: [乙肝, HBV], source: mesh D006509}\n    - {terms: [hbv, 乙型肝炎], source: mesh D006509}\n"
    with pytest.raises(VocabularyError, match=r"diseases group 2 .*'hbv' is also in diseases group 1"):
        parse(sources + twice)
    both = "    - {terms: [肝癌, 肝细胞癌], source: mesh D006528}\n    - {expand: 肝癌, to: [肝细胞癌], source: mesh D006528}\n"
    with pytest.raises(VocabularyError, match=r"diseases group 2 .*broad term's own mutual group"):
        parse(sources + both)


def test_terms_too_long_for_the_engine_are_spelt_as_their_carrier() -> None:
    assert carrier_spelling("慢性阻塞性肺疾病队列") == "慢阻肺队列"
    assert carrier_spelling("阿尔茨海默病 早期筛查") == "老年痴呆 早期筛查"
    assert carrier_spelling("Non-Small Cell Lung Cancer KRAS") == "NSCLC KRAS"  # English stays English
    assert carrier_spelling("重症医学科") == "重症医学科"  # never inside a longer term (重症医学)
    assert carrier_spelling("乙肝 心电图 MRI") == "乙肝 心电图 MRI"
    assert spell_synonyms("chronic obstructve pulmonary disease") == "COPD"  # re-spelt, then carried
    assert spell_synonyms("hepatitis B") == "hepatitis B"  # never "keratitis": a word spelt as in a term stays


def test_a_text_is_glossed_with_the_other_languages_names_of_its_terms() -> None:
    # Chinese terms get their most spelt-out English name, English terms their group's Chinese name.
    assert gloss("乙型肝炎病毒核酸定量检测试剂盒，基于磁共振") == ["magnetic resonance imaging", "hepatitis B", "detection kit"]
    assert gloss("ECG patch for hepatitis B clinics") == ["心电图", "乙肝"]
    # A term inside a longer one is not glossed (cancer in liver cancer, 糖尿病 in 2型糖尿病) …
    assert gloss("liver cancer screening") == ["肝癌"]
    assert gloss("2型糖尿病患者") == ["type 2 diabetes"]
    # … nor a term the text already says in both languages, nor text outside the vocabulary.
    assert gloss("磁共振 MRI") == [] and gloss("football 足球") == []


# ----- behaviour on the engine, through the search API ----------------------------------------

# Each says one form only, and nothing the others' queries would match.
LISTINGS = {
    "hbv": ("乙型肝炎病毒耐药突变检测试剂盒", "覆盖常见耐药位点。"),
    "mri": ("膝关节软骨磁共振定量评估软件", "自动分割软骨并计算厚度。"),
    "ecg": ("可穿戴单导联心电图贴片", "连续记录十四天。"),
    "cardio": ("心血管介入耗材表面涂层工艺", "降低血栓附着。"),
    "hcc": ("肝细胞癌术后复发风险评分模型", "基于常规化验指标。"),
    "liver": ("肝癌组织微阵列制备方法", "一次切片覆盖多例样本。"),
    "copd": ("慢阻肺患者居家肺康复训练系统", "按训练完成度调整方案。"),
    "dementia": ("老年痴呆照护机器人", "识别走失风险并提醒家属。"),
}


@pytest.fixture
async def listings(settings, engine, db, world):
    common = {"title_en": None, "keywords": ["示例"], "advantages": "成本低。", "therapeutic_areas": ["dermatology"]}
    bodies = {name: {**common, "title_zh": title, "summary_zh": summary} for name, (title, summary) in LISTINGS.items()}
    async for ids in index_named(settings, engine, db, world, bodies):
        yield ids


async def found(client, q: str) -> set[str]:
    response = await client.get("/api/v1/search?" + urlencode({"q": q}))
    assert response.status_code == 200, response.text
    return {hit["id"] for hit in response.json()["hits"]}


@pytest.mark.parametrize(
    ("q", "name"),
    [
        ("乙肝", "hbv"),
        ("hepatitis B", "hbv"),
        ("HBV", "hbv"),
        ("MRI", "mri"),
        ("核磁", "mri"),
        ("ECG", "ecg"),
        ("cardiology", "cardio"),
        ("COPD", "copd"),
        ("chronic obstructive pulmonary disease", "copd"),  # four words: spelt as its carrier first
        ("慢性阻塞性肺疾病", "copd"),
        ("Alzheimer", "dementia"),
        ("阿尔茨海默病", "dementia"),  # four words to the engine's jieba
        ("cardiolgy", "cardio"),  # a misspelt English synonym still expands
    ],
)
async def test_a_synonym_finds_a_listing_that_says_only_the_other_form(client, listings, q, name) -> None:
    assert listings[name] in await found(client, q)


async def test_a_broad_term_finds_the_narrow_one_but_not_the_reverse(client, listings) -> None:
    assert {listings["hcc"], listings["liver"]} <= await found(client, "肝癌")
    assert listings["liver"] not in await found(client, "肝细胞癌")
    assert listings["hcc"] in await found(client, "HCC")


# ----- every term of the file, on an index of its own ------------------------------------------


async def test_every_term_of_the_file_expands_on_the_engine_and_the_settings_apply_quickly(settings) -> None:
    """One tiny document per term; each synonym key, spelt as the search API sends it, must find
    the document of every term it maps to. Terms Meilisearch cuts into more than three words only
    pass through their carrier. Setting thousands of synonyms on a filled index stays well under a
    second here (about 0.05–0.2 s); the bound leaves room for a loaded machine."""
    from meilisearch_python_sdk.models.search import SearchParams

    search = SearchEngine(settings.meili_url, settings.meili_master_key, settings.meili_index_prefix)
    uid = search.index_name(f"vocabulary_{uuid.uuid4().hex[:8]}")
    try:
        await search.create_index(uid, {**INDEX_SETTINGS, "synonyms": {}})
        ids: dict[str, int] = {}
        documents = []
        for group in vocabulary().groups:
            for term in (*group.terms, *([group.expand] if group.expand else []), *group.to):
                if key(term) not in ids:
                    ids[key(term)] = len(documents)
                    documents.append({"id": len(documents), "title_zh" if HAN.search(term) else "title_en": term})
        await search.wait(
            await search.client.index(uid).add_documents([{**doc, "_vectors": {"e5": None}} for doc in documents]), timeout=300
        )
        started = time.monotonic()
        applied = await search.wait(await search.client.index(uid).update_synonyms(INDEX_SETTINGS["synonyms"]), timeout=120)
        assert applied.status == "succeeded" and time.monotonic() - started < 10
        synonyms = INDEX_SETTINGS["synonyms"]
        # A one-word key is looked up as it is; every other is asked.
        keys = [term for term in synonyms if most_words(term) > 1]
        missing: dict[str, list[str]] = {}

        async def check(batch: list[str]) -> None:
            queries = [SearchParams(index_uid=uid, q=spell_synonyms(k), matching_strategy="all", limit=1000) for k in batch]
            results = await search.client.multi_search(queries)
            for term, result in zip(batch, results, strict=True):
                hits = {hit["id"] for hit in result.hits}
                if lost := [t for t in synonyms[term] if ids[key(t)] not in hits]:
                    missing[term] = lost

        for start in range(0, len(keys), 20):  # one request at a time: a loaded machine times out a burst
            await check(keys[start : start + 20])
        assert not missing, f"{len(missing)} terms do not expand: {dict(list(missing.items())[:20])}"
    finally:
        await search.delete_index(uid)
        await search.aclose()
