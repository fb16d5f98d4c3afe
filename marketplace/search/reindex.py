"""Rebuilding an index from PostgreSQL without a gap in search (`reindex`), and reporting how an
index differs from what PostgreSQL says it should hold (`check`)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from meilisearch_python_sdk.models.task import TaskInfo
from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.db import rowcount, table_of, utcnow
from marketplace.page_cache_events import announce_change
from marketplace.search.documents import LISTINGS_INDEX
from marketplace.search.engine import SearchEngine
from marketplace.search.index_settings import SearchIndex
from marketplace.search.models import OutboxEntry
from marketplace.search.outbox import pending_outbox
from marketplace.search.vectors import attach_vectors

# ----- reindex and check -------------------------------------------------------------------------

# Changes made while a reindex reads PostgreSQL may reach only the old index; the outbox rows of
# this window before the start are sent again after the swap (a transaction open longer than this
# when the reindex starts could slip through; `check` would show it).
REINDEX_CATCH_UP = timedelta(minutes=10)
# Documents per Meilisearch task, and how many tasks may be unfinished at once (None: every page is
# enqueued before any is waited for); chosen by measurement with bench/search.py (README).
REINDEX_PAGE_SIZE = 1000
REINDEX_IN_FLIGHT: int | None = None
# A task waits behind those enqueued before it, so a rebuild's waits get more than a relay write's.
REINDEX_TASK_TIMEOUT = 900.0


class ReindexBusy(RuntimeError):
    """Another reindex of the same index is running."""


@dataclass
class ReindexReport:
    index: str
    documents: int
    requeued: int


async def reindex(
    sessionmaker: async_sessionmaker[AsyncSession],
    search: SearchEngine,
    *,
    page_size: int = REINDEX_PAGE_SIZE,
    in_flight: int | None = REINDEX_IN_FLIGHT,
    before_swap: Callable[[str], Awaitable[None]] | None = None,
    index: SearchIndex | None = None,
) -> ReindexReport:
    """Rebuild an index (the listings' unless given) from PostgreSQL into `<live>_<timestamp>` and
    swap it with the live one in a single Meilisearch task, so search answers from a complete index
    throughout; then delete the old one and queue recent changes again so none is lost in the switch."""
    index = index or LISTINGS_INDEX
    live = search.index_name(index.name)
    async with sessionmaker() as guard:
        # One reindex of an index at a time: a transaction-level advisory lock, held by this
        # otherwise idle transaction and released when it ends, however the reindex ends.
        key = func.hashtextextended(f"search-reindex:{live}", 0)
        if not await guard.scalar(select(func.pg_try_advisory_xact_lock(key))):
            raise ReindexBusy(f"another reindex of {live} is running")
        started = (await guard.execute(select(func.clock_timestamp()))).scalar_one()
        fresh = f"{live}_{utcnow():%Y%m%d%H%M%S%f}"
        leftover = re.compile(re.escape(live) + r"_\d{20}")
        for name in await search.index_names():  # a crashed reindex's half-built index
            if leftover.fullmatch(name):
                await search.delete_index(name)
        await search.create_index(fresh, index.settings)
        count = await fill(sessionmaker, search, index, fresh, page_size, in_flight)
        await search.ensure_index(live, index.settings)
        if before_swap:
            await before_swap(fresh)
        await search.wait(await search.client.swap_indexes([(live, fresh)]))
        await search.delete_index(fresh)  # now the old documents
        async with sessionmaker() as session, session.begin():
            requeued = await requeue_since(session, started - REINDEX_CATCH_UP)
            await announce_change(session)  # the search pages kept for visitors show the old index
    return ReindexReport(live, count, requeued)


async def fill(
    sessionmaker: async_sessionmaker[AsyncSession],
    search: SearchEngine,
    index: SearchIndex,
    uid: str,
    page_size: int,
    in_flight: int | None,
) -> int:
    """Every document of `index` into the new index `uid`; returns how many. Pages are built from
    PostgreSQL while Meilisearch indexes earlier ones: each is sent as a task of its own and not
    waited for (Meilisearch indexes the additions queued for one index together), up to `in_flight`
    unfinished at a time; then all are waited for in order. A failed task fails the rebuild: what is
    still queued is canceled and the new index deleted, and the live one was never touched."""
    sends: list[asyncio.Task[TaskInfo]] = []
    waited = count = 0
    try:
        async with sessionmaker() as session:
            async for page in index.all_documents(session, page_size):
                await attach_vectors(session, index, page, rendered=True)  # stored vectors: a reindex never embeds
                sends.append(asyncio.create_task(search.enqueue_upsert(page, uid)))
                count += len(page)
                if in_flight and len(sends) - waited >= in_flight:
                    await search.wait(await sends[waited], REINDEX_TASK_TIMEOUT)
                    waited += 1
        for send in sends[waited:]:
            await search.wait(await send, REINDEX_TASK_TIMEOUT)
    except Exception:
        for send in sends:
            send.cancel()
        await asyncio.gather(*sends, return_exceptions=True)  # settled, their errors retrieved
        with suppress(Exception):  # the failure to report is the first one
            await search.abandon(uid)
        raise
    return count


async def requeue_since(session: AsyncSession, since: datetime) -> int:
    """A fresh outbox row for every listing with a row written since `since`."""
    latest = (
        select(OutboxEntry.entity_type, OutboxEntry.entity_id, OutboxEntry.op)
        .where(OutboxEntry.created_at >= since)
        .ext(distinct_on(OutboxEntry.entity_type, OutboxEntry.entity_id))
        .order_by(OutboxEntry.entity_type, OutboxEntry.entity_id, OutboxEntry.id.desc())
    )
    result = await session.execute(insert(table_of(OutboxEntry)).from_select(["entity_type", "entity_id", "op"], latest))
    return rowcount(result) or 0


@dataclass
class DriftReport:
    """How the index differs from PostgreSQL, by listing id."""

    index: str
    listings: int
    documents: int
    missing: list[str] = field(default_factory=list)  # published, not in the index
    extra: list[str] = field(default_factory=list)  # in the index, not published
    outdated: list[str] = field(default_factory=list)  # in both, with different content
    pending: int = 0  # outbox rows not yet sent (drift they explain is on its way out)
    failing: int = 0  # of those, rows that have failed at least once

    @property
    def drift(self) -> bool:
        return bool(self.missing or self.extra or self.outdated)


async def check(
    sessionmaker: async_sessionmaker[AsyncSession], search: SearchEngine, index: SearchIndex | None = None
) -> DriftReport:
    """Compare every document an index (the listings' unless given) should hold, as the relay would
    build it now, with what the live index holds: missing, extra and outdated documents (an
    organization renamed without its listings re-sent shows up as outdated too)."""
    index = index or LISTINGS_INDEX
    uid = search.index_name(index.name)
    expected: dict[str, dict[str, Any]] = {}
    async with sessionmaker() as session:
        async for page in index.all_documents(session):
            # Through JSON, as Meilisearch gives documents back.
            expected |= {doc["id"]: json.loads(json.dumps(doc)) for doc in page}
        pending, failing = await pending_outbox(session)
    actual: dict[str, dict[str, Any]] = {}
    if await search.index_exists(uid):
        async for doc in search.documents(uid):
            actual[str(doc.get("id"))] = doc
    return DriftReport(
        index=uid,
        listings=len(expected),
        documents=len(actual),
        missing=sorted(expected.keys() - actual.keys()),
        extra=sorted(actual.keys() - expected.keys()),
        outdated=sorted(key for key in expected.keys() & actual.keys() if expected[key] != actual[key]),
        pending=pending,
        failing=failing,
    )
