"""Stored vectors and how documents carry them (`attach_vectors`); the worker's job that embeds
what changed is search.embedding_job.

Every document sent to an index with an embedder holds `_vectors.e5`: the stored vector of its
passage, else the vector of its previous text while the new one is computed, else null (Meilisearch
then leaves it out of semantic search; it refuses a document without the field). A document whose
passage has no vector yet is recorded as pending; the job embeds it off the event loop, stores the
vector and queues the document again through the outbox, so vectors reach Meilisearch the way every
other change does."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Text, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.db import utcnow
from marketplace.search.embeddings import EMBEDDER, MODEL, passage_text, text_hash
from marketplace.search.engine import RenderedVectors
from marketplace.search.index_settings import SearchIndex
from marketplace.search.models import StoredEmbedding


async def attach_vectors(
    session: AsyncSession, index: SearchIndex, documents: Sequence[dict[str, Any]], *, rendered: bool = False
) -> None:
    """Give each document its `_vectors` and record the passages that need a vector (in the
    caller's transaction). Never embeds: a request or a reindex must not wait for the model.
    `rendered`: each vector as PostgreSQL writes it in JSON (`RenderedVectors`), for a reindex,
    which sends 100,000 of them: reading 384 floats into Python and writing them out again costs
    more than the rest of the document."""
    if not index.passage_fields or not documents:
        return
    ids = [uuid.UUID(doc["id"]) for doc in documents]
    vector_column = func.array_to_json(StoredEmbedding.vector).cast(Text) if rendered else StoredEmbedding.vector
    stored = {
        row.entity_id: row
        for row in await session.execute(
            select(
                StoredEmbedding.entity_id, StoredEmbedding.text_hash, StoredEmbedding.model, vector_column.label("vector")
            ).where(StoredEmbedding.entity_type == index.entity_type, StoredEmbedding.entity_id.in_(ids))
        )
    }
    changed: list[dict[str, Any]] = []
    for entity_id, doc in zip(ids, documents, strict=True):
        passage = passage_text(doc, index.passage_fields)
        wanted = text_hash(passage)
        row = stored.get(entity_id)
        if row is None or row.text_hash != wanted:
            changed.append(
                {
                    "entity_type": index.entity_type,
                    "entity_id": entity_id,
                    "passage": passage,
                    "text_hash": wanted,
                    "model": MODEL,
                    "updated_at": utcnow(),
                }
            )
        vector = row.vector if row is not None and row.model == MODEL else None
        doc["_vectors"] = RenderedVectors({EMBEDDER: vector or "null"}) if rendered else {EMBEDDER: vector}
    if changed:
        stmt = insert(StoredEmbedding).values(changed)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[StoredEmbedding.entity_type, StoredEmbedding.entity_id],
                set_={name: stmt.excluded[name] for name in ("passage", "text_hash", "model", "updated_at")},
            )
        )
