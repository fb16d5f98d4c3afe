"""Similar listings from the vectors: what a listing page shows beside the listing."""

from __future__ import annotations

import uuid
from typing import Any

from marketplace.search.embeddings import EMBEDDER
from marketplace.search.engine import SearchEngine, SearchUnavailable, describe
from marketplace.search.query import RETRIEVED, SEMANTIC_THRESHOLD

SIMILAR = 5


async def similar_listings(search: SearchEngine, listing_id: uuid.UUID, limit: int = SIMILAR) -> list[dict[str, Any]]:
    """The published listings nearest in meaning to a listing (none when it is not in the index,
    has no vector yet, or search is keyword-only)."""
    from meilisearch_python_sdk.errors import MeilisearchApiError

    if search.embedder is None:
        return []
    try:
        result = await search.client.index(search.listings_index).search_similar_documents(
            str(listing_id),
            limit=limit,
            embedder=EMBEDDER,
            attributes_to_retrieve=RETRIEVED,
            ranking_score_threshold=SEMANTIC_THRESHOLD,
        )
    except MeilisearchApiError as error:
        if error.code in ("not_found_similar_id", "index_not_found", "invalid_similar_id"):
            return []
        raise SearchUnavailable(describe(error)) from error
    except Exception as error:
        raise SearchUnavailable(describe(error)) from error
    return list(result.hits)
