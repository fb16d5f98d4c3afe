"""What a search index is (`SearchIndex`, and the registry of them the outbox feeds) and the
listings index's settings: its attributes by language, ranking and synonyms. Settings live in code
and are applied at start-up; a reindex builds the new index with them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.search.embeddings import DIMENSIONS, EMBEDDER
from marketplace.search.models import EntityType

LISTINGS = "listings"

# ----- index settings (applied at start-up; a reindex builds the new index with them) -----------

# Meilisearch segments Chinese with jieba's precise mode, which keeps a dictionary compound whole:
# 干细胞, 肝细胞癌 and 单细胞 are one word each, so a query for 细胞 misses them. This field holds the
# words inside such compounds (jieba's search mode, less what precise mode already gives); it is
# searched with the least weight and never displayed or highlighted.
INNER_WORDS = "inner_words_zh"
# Attributes in Chinese: segmented as Mandarin, and no typo tolerance, which on short Chinese words
# matches unrelated ones (one character off is another word).
CHINESE_ATTRIBUTES = [
    "title_zh",
    "summary_zh",
    "advantages",
    "area_names_zh",
    "type_zh",
    "institution_name_zh",
    INNER_WORDS,
]
ENGLISH_ATTRIBUTES = ["title_en", "summary_en", "area_names_en", "type_en", "institution_name_en"]

# Terms of the field that people search for in either language; each group is mutual.
SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("细胞治疗", "细胞疗法", "cell therapy", "CAR-T"),
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
)


def synonyms(groups: Iterable[tuple[str, ...]] = SYNONYM_GROUPS) -> dict[str, list[str]]:
    """Meilisearch's synonyms are one-way; a group lists every term as a synonym of the others."""
    result: dict[str, list[str]] = {}
    for group in groups:
        for term in group:
            result.setdefault(term, [])
            result[term] += [other for other in group if other != term and other not in result[term]]
    return result


# Vectors for hybrid search are ours (search.embeddings, computed by the worker and stored in
# PostgreSQL): Meilisearch only indexes them. Its semantic score is (1 + cosine) / 2; with our
# centred vectors a close passage in the query's language scores 0.65–0.8, a close passage in the
# other language 0.55–0.65, and unrelated text about 0.5 (only one in a hundred passes 0.55).
# `distribution` maps the mean to 0.5 and a sigma below it to about 0.1, where the search's
# ranking-score threshold (query.SEMANTIC_THRESHOLD) drops it; keyword hits score 0.2 and up, so
# the threshold leaves them be. Measured on the demo catalogue (bench/search_eval.py).
SEMANTIC_DISTRIBUTION = {"mean": 0.58, "sigma": 0.03}
EMBEDDERS: dict[str, Any] = {
    EMBEDDER: {"source": "userProvided", "dimensions": DIMENSIONS, "distribution": SEMANTIC_DISTRIBUTION}
}
# The fields a listing's embedding is made from, in order of weight (a passage is cut at its end).
LISTING_PASSAGE = (
    "title_zh",
    "title_en",
    "type_zh",
    "type_en",
    "area_names_zh",
    "area_names_en",
    "keywords",
    "summary_zh",
    "summary_en",
    "advantages",
)

# In Meilisearch's own JSON shape, so it reads like its documentation.
INDEX_SETTINGS: dict[str, Any] = {
    # In order of weight: what a listing is called, then what it is about, then who offers it.
    "searchableAttributes": [
        "title_zh",
        "title_en",
        "keywords",
        "area_names_zh",
        "area_names_en",
        "type_zh",
        "type_en",
        "summary_zh",
        "summary_en",
        "advantages",
        "institution_name_zh",
        "institution_name_en",
        "institution_city",
        INNER_WORDS,
    ],
    "filterableAttributes": [
        "kind",
        "type",
        "areas",
        "stage",
        "trl",
        "ownership_model",
        "licence_options",
        "engagement_modes",
        "pricing_model",
        "availability",
        "open_licence",
        "free_bed_days_90",
        "free_run_1",
        "free_run_2",
        "free_run_4",
        "free_run_8",
        "free_run_16",
        "institution_id",
        "institution_city",
        "gcp_certified",
        "ethics_alliance_member",
        "is_stale",
        "published_at",
        "confirmed_at",
        "changed_at_ms",  # saved-search alerts
    ],
    "sortableAttributes": ["published_at", "confirmed_at", "trl"],
    # A stale listing (unconfirmed for 180 days) ranks below fresh ones that match as many words.
    "rankingRules": ["words", "sort", "is_stale:asc", "typo", "proximity", "attribute", "exactness"],
    "localizedAttributes": [
        {"attributePatterns": [*CHINESE_ATTRIBUTES, "institution_city"], "locales": ["cmn"]},
        {"attributePatterns": ENGLISH_ATTRIBUTES, "locales": ["eng"]},
    ],
    "typoTolerance": {"enabled": True, "disableOnAttributes": CHINESE_ATTRIBUTES, "disableOnNumbers": True},
    "synonyms": synonyms(),
    # Totals, pages and facet counts stay exact well past Meilisearch's default of 1,000 hits.
    "pagination": {"maxTotalHits": 20_000},
    "faceting": {"maxValuesPerFacet": 500},
    "embedders": EMBEDDERS,
}


# ----- the registry of indexes -------------------------------------------------------------------
#
# Every index that the outbox feeds: the listings index (search.documents) and those of other
# domains (matching's needs), registered by marketplace.wiring, so that search never imports them.
# The relay, reindex and check handle every registered index the same way: documents are built at send time by the index's own function,
# which answers only for the ids that the index should hold (any other id is deleted from it).

DocumentsById = Callable[[AsyncSession, Iterable[uuid.UUID]], Awaitable[dict[uuid.UUID, dict[str, Any]]]]
AllDocuments = Callable[..., AsyncIterator[list[dict[str, Any]]]]


@dataclass(frozen=True)
class SearchIndex:
    entity_type: str  # outbox rows' entity_type (search.models.EntityType)
    name: str  # the index's name before the engine's prefix
    settings: dict[str, Any]  # in Meilisearch's JSON shape
    documents: DocumentsById  # documents for those ids that belong in the index
    all_documents: AllDocuments  # every document, a page at a time: all_documents(session, page_size)
    passage_fields: tuple[str, ...] = ()  # what its embeddings are made from (none: no vectors)


INDEXES: dict[str, SearchIndex] = {}


def register_index(index: SearchIndex) -> SearchIndex:
    """Called by marketplace.wiring for each index; idempotent."""
    INDEXES[str(EntityType(index.entity_type))] = index
    return index
