"""The worker's job that embeds passages whose text changed (`embed_job`): the model runs off the
event loop and outside any transaction; each stored vector queues its document again through the
outbox, so vectors reach Meilisearch the way every other change does."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.db import rowcount, utcnow
from marketplace.search.embeddings import MODEL, Embedder, settings_embedder
from marketplace.search.engine import describe
from marketplace.search.models import StoredEmbedding
from marketplace.search.outbox import enqueue

log = logging.getLogger(__name__)

EMBED_BATCH = 32  # passages per round: about two seconds of one core


def _embed_each(embedder: Embedder, passages: list[str]) -> list[list[float] | str]:
    """Vectors for the passages, or for one that fails alone, why (one bad text must not hold back
    the others)."""
    try:
        return list(embedder.passages(passages))
    except Exception:
        if len(passages) == 1:
            raise
    results: list[list[float] | str] = []
    for passage in passages:
        try:
            results += embedder.passages([passage])
        except Exception as error:
            results.append(describe(error))
    return results


async def embed_pending(sessionmaker: async_sessionmaker[AsyncSession], embedder: Embedder, batch: int = EMBED_BATCH) -> int:
    """Embed one batch of pending passages; returns how many were stored. The model runs outside
    any transaction; a vector is stored only if its passage is still the document's."""
    if not embedder.available:
        return 0
    async with sessionmaker() as session:
        pending = (
            await session.execute(
                select(StoredEmbedding.entity_type, StoredEmbedding.entity_id, StoredEmbedding.passage, StoredEmbedding.text_hash)
                .where(StoredEmbedding.vector_hash.is_distinct_from(StoredEmbedding.text_hash))
                .order_by(StoredEmbedding.updated_at)
                .limit(batch)
            )
        ).all()
        if not pending:
            return 0
        # A vector already made from the same text (another listing, an earlier version) is reused.
        hashes = {row.text_hash for row in pending}
        known = dict(
            (
                await session.execute(
                    select(StoredEmbedding.vector_hash, StoredEmbedding.vector)
                    .where(StoredEmbedding.vector_hash.in_(hashes), StoredEmbedding.vector.is_not(None))
                    .ext(distinct_on(StoredEmbedding.vector_hash))
                )
            ).all()
        )
    fresh = list({row.text_hash: row.passage for row in pending if row.text_hash not in known}.items())
    if fresh:
        try:
            results = await asyncio.to_thread(_embed_each, embedder, [passage for _, passage in fresh])
        except Exception as error:  # the model itself failed: try again next round
            log.warning("embedding failed: %s", describe(error))
            return 0
        known |= {key: result for (key, _), result in zip(fresh, results, strict=True)}
    stored = 0
    async with sessionmaker() as session, session.begin():
        for row in pending:
            result = known[row.text_hash]
            vector, failure = (None, result) if isinstance(result, str) else (result, None)
            done = await session.execute(
                update(StoredEmbedding)
                .where(
                    StoredEmbedding.entity_type == row.entity_type,
                    StoredEmbedding.entity_id == row.entity_id,
                    StoredEmbedding.text_hash == row.text_hash,
                )
                .values(vector=vector, vector_hash=row.text_hash, model=MODEL, error=failure, updated_at=utcnow())
            )
            if rowcount(done) and vector is not None:
                await enqueue(session, row.entity_type, [row.entity_id])
                stored += 1
    return stored


async def embed_job(settings, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The worker's round: embed pending passages until none is left (a batch at a time)."""
    embedder = settings_embedder(settings)
    while await embed_pending(sessionmaker, embedder):
        pass
