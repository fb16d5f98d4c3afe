"""Keeping the indexes in step with PostgreSQL through an outbox.

Meilisearch is a derived index, never the truth. Every change that affects what search shows
writes an outbox row in the same transaction (`install_outbox_listeners`, which observes the
catalogue's writes, so the catalogue does not import search; other domains call `enqueue`).
`OutboxRelay` sends the rows in batches, builds each document from PostgreSQL at send time (a late
send sends the current truth), waits for every Meilisearch task and checks its outcome, retries
failures with back-off and only then marks rows processed. Document ids are record ids, so a send
repeated after a crash is applied once in effect.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Delete, String, Update, event, func, insert, inspect, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session

from marketplace.accounts.models import Organization, OrgKind
from marketplace.catalog.models import Listing, ListingArea, Status
from marketplace.db import rowcount, table_of
from marketplace.logs import current_request_id
from marketplace.page_cache_events import install_page_cache_listeners
from marketplace.search.documents import LISTINGS_INDEX
from marketplace.search.engine import SearchEngine, SearchTaskFailed, describe, search_engine_for
from marketplace.search.index_settings import INDEXES, SearchIndex
from marketplace.search.models import EntityType, OutboxEntry, OutboxOp
from marketplace.search.vectors import attach_vectors

log = logging.getLogger(__name__)

_outbox = table_of(OutboxEntry)


async def enqueue(session: AsyncSession, entity_type: str, ids: Iterable[uuid.UUID], op: str = OutboxOp.upsert) -> None:
    """Outbox rows for these records, in the caller's transaction: the relay sends what PostgreSQL
    holds when it sends, so one row per change is enough whatever the change was."""
    request_id = current_request_id()
    rows = [
        {"entity_type": str(EntityType(entity_type)), "entity_id": key, "op": str(op), "request_id": request_id}
        for key in dict.fromkeys(ids)
    ]
    if rows:
        await session.execute(insert(_outbox), rows)


# ----- the outbox: written in the same transaction as the change ---------------------------------

_ORGANIZATION_FIELDS = ("name_zh", "name_en", "city", "gcp_certified", "ethics_alliance_member")
_listings = table_of(Listing)


def install_outbox_listeners() -> None:
    """Observe every ORM session: a flush or bulk statement that changes what search shows adds
    outbox rows on the same connection, hence in the same transaction. Idempotent; called where
    listings are written (the app, the worker, the demo loader)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _before_bulk_statement)
    # The same writers (a separate worker's relay among them) also drop the visitors' kept pages.
    install_page_cache_listeners()


def _outbox_rows(changes: dict[uuid.UUID, str]) -> list[dict[str, Any]]:
    request_id = current_request_id()
    return [
        {"entity_type": EntityType.listing, "entity_id": key, "op": op, "request_id": request_id} for key, op in changes.items()
    ]


def _published_listings_of(institutions) -> Any:
    """INSERT … SELECT: an outbox row for each published listing of these institutions."""
    return insert(_outbox).from_select(
        ["entity_type", "entity_id", "op", "request_id"],
        select(
            literal(EntityType.listing.value),
            _listings.c.id,
            literal(OutboxOp.upsert.value),
            literal(current_request_id(), String),
        ).where(_listings.c.institution_id.in_(institutions), _listings.c.status == Status.published),
    )


def _listing_affects_search(session: Session, listing: Listing) -> bool:
    state = inspect(listing)
    history = state.attrs.status.history
    if history.has_changes():
        # In or out of the published state; an unknown previous state counts as a change.
        return not history.deleted or Status.published in (*history.added, *history.deleted)
    return state.dict.get("status", Status.published) == Status.published and session.is_modified(listing)


def _area_affects_search(session: Session, area: ListingArea, listings: dict[uuid.UUID, Listing]) -> bool:
    """An area added or removed matters if its listing is published, or if we cannot tell."""
    listing = listings.get(area.listing_id)
    if listing is None:
        listing = session.identity_map.get(inspect(Listing).identity_key_from_primary_key((area.listing_id,)))
    return listing is None or inspect(listing).dict.get("status", Status.published) == Status.published


def _after_flush(session: Session, flush_context) -> None:
    changes: dict[uuid.UUID, str] = {}
    institutions: set[uuid.UUID] = set()
    # Listings of this flush (new ones are not in the identity map until after this hook).
    listings = {obj.id: obj for obj in (*session.new, *session.dirty, *session.deleted) if isinstance(obj, Listing)}
    for obj in session.new:
        if isinstance(obj, Listing) and inspect(obj).dict.get("status") == Status.published:
            changes[obj.id] = OutboxOp.upsert
        elif isinstance(obj, ListingArea) and _area_affects_search(session, obj, listings):
            changes.setdefault(obj.listing_id, OutboxOp.upsert)
    for obj in session.dirty:
        if isinstance(obj, Listing) and _listing_affects_search(session, obj):
            changes.setdefault(obj.id, OutboxOp.upsert)
        elif isinstance(obj, Organization) and obj.kind == OrgKind.institution:
            state = inspect(obj)
            if any(state.attrs[name].history.has_changes() for name in _ORGANIZATION_FIELDS):
                institutions.add(obj.id)
    for obj in session.deleted:
        if isinstance(obj, Listing):
            changes[obj.id] = OutboxOp.delete
        elif isinstance(obj, ListingArea) and _area_affects_search(session, obj, listings):
            changes.setdefault(obj.listing_id, OutboxOp.upsert)
    if not changes and not institutions:
        return
    connection = session.connection()
    if changes:
        connection.execute(insert(_outbox), _outbox_rows(changes))
    if institutions:
        connection.execute(_published_listings_of(institutions))


def _before_bulk_statement(state: ORMExecuteState) -> None:
    """ORM bulk UPDATE/DELETE (mark_stale's, for one) bypass the flush: record the rows they match
    before they run. Matching too many is harmless: the relay sends what PostgreSQL holds."""
    if not (state.is_update or state.is_delete) or state.bind_mapper is None:
        return
    entity = state.bind_mapper.class_
    if entity is not Listing and entity is not Organization:
        return
    connection = state.session.connection()
    params = state.parameters
    if isinstance(params, list) and params and all("id" in p for p in params):  # bulk by primary key
        matched = select(entity.id).where(entity.id.in_([p["id"] for p in params]))
        params = {}
    else:
        statement = state.statement
        assert isinstance(statement, (Update, Delete))  # is_update or is_delete, checked above
        where = statement.whereclause
        matched = select(entity.id) if where is None else select(entity.id).where(where)
    params = params if isinstance(params, dict) else {}  # the statement's own bound values, if any
    if entity is Organization:
        if state.is_update:
            connection.execute(_published_listings_of(matched.scalar_subquery()), params)
        return
    op = OutboxOp.delete if state.is_delete else OutboxOp.upsert
    connection.execute(
        insert(_outbox).from_select(
            ["entity_type", "entity_id", "op"],
            select(literal(EntityType.listing.value), matched.subquery().c.id, literal(op.value)),
        ),
        params,
    )


# ----- the relay ---------------------------------------------------------------------------------

RELAY_BATCH = 500
BACKOFF_CAP_SECONDS = 300  # 1 s, 2 s, 4 s … then every 5 minutes
PROCESSED_RETENTION = timedelta(days=7)


@dataclass
class RelayRound:
    """What one round did: rows claimed, documents sent, rows left for a retry."""

    rows: int = 0
    upserted: int = 0
    deleted: int = 0
    failed: int = 0
    deferred: int = 0  # listings left to the relay that holds their older rows
    errors: list[str] = field(default_factory=list)
    more: bool = False  # a full batch was due: there may be more

    def __iadd__(self, other: RelayRound) -> RelayRound:
        self.rows += other.rows
        self.upserted += other.upserted
        self.deleted += other.deleted
        self.failed += other.failed
        self.deferred += other.deferred
        self.errors += other.errors
        self.more = other.more
        return self


@dataclass
class Batch:
    """Claimed outbox rows, by listing. Every pending row of a listing in the batch is locked by
    us, so no other relay sends that listing until we commit (sends stay in order)."""

    rows: dict[uuid.UUID, list[int]]
    deferred: int = 0
    full: bool = False


@dataclass
class Outcome:
    task_uid: int | None = None
    error: str | None = None
    deleted: bool = False


class OutboxRelay:
    """Sends outbox rows to Meilisearch. One round runs in one transaction: claim (FOR UPDATE
    SKIP LOCKED, so several workers compete safely), send, mark. A crash before the commit
    leaves the rows pending and they are sent again; ids make that idempotent."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], search: SearchEngine, *, batch_size: int = RELAY_BATCH
    ) -> None:
        self.sessionmaker = sessionmaker
        self.search = search
        self.batch_size = batch_size

    async def run_once(self, now: datetime | None = None) -> RelayRound:
        """One batch of each registered index. `now` stands for the clock when deciding what is
        due and when to retry."""
        report = RelayRound()
        async with self.sessionmaker() as session, session.begin():
            for index in INDEXES.values():
                batch = await self.claim(session, now, index.entity_type)
                done = RelayRound(deferred=batch.deferred)
                if batch.rows:
                    done = await self.mark(session, batch, await self.send(session, batch, index), now)
                more = report.more or batch.full
                report += done
                report.more = more
        return report

    async def drain(self, now: datetime | None = None, max_rounds: int = 100) -> RelayRound:
        """Rounds until nothing due is left (or a round fails, to back off)."""
        total = RelayRound()
        for _ in range(max_rounds):
            done = await self.run_once(now)
            total += done
            if done.failed or not done.more or not done.rows:
                break
        return total

    async def claim(self, session: AsyncSession, now: datetime | None = None, entity_type: str = EntityType.listing) -> Batch:
        pending = (OutboxEntry.processed_at.is_(None), OutboxEntry.entity_type == entity_type)
        due = await session.scalars(
            select(OutboxEntry.entity_id)
            .where(*pending, OutboxEntry.next_attempt_at <= (now or func.now()))
            .order_by(OutboxEntry.id)
            .limit(self.batch_size)
            .with_for_update(skip_locked=True)
        )
        due_entities = due.all()
        entities = set(due_entities)
        if not entities:
            return Batch({})
        # All pending rows of these listings, due or backing off: one send satisfies them all.
        mine = (
            await session.execute(
                select(OutboxEntry.id, OutboxEntry.entity_id)
                .where(*pending, OutboxEntry.entity_id.in_(entities))
                .with_for_update(skip_locked=True)
            )
        ).all()
        totals = dict(
            (
                await session.execute(
                    select(OutboxEntry.entity_id, func.count())
                    .where(*pending, OutboxEntry.entity_id.in_(entities))
                    .group_by(OutboxEntry.entity_id)
                )
            ).all()
        )
        held = Counter(entity for _, entity in mine)
        # A listing with a pending row locked by another relay is theirs to send first.
        ours = {entity for entity in entities if held[entity] == totals.get(entity, 0)}
        rows: dict[uuid.UUID, list[int]] = {}
        for row_id, entity in mine:
            if entity in ours:
                rows.setdefault(entity, []).append(row_id)
        return Batch(rows, deferred=len(entities) - len(ours), full=len(due_entities) == self.batch_size)

    async def send(self, session: AsyncSession, batch: Batch, index: SearchIndex | None = None) -> dict[uuid.UUID, Outcome]:
        """Build the documents now, from PostgreSQL, and send them: records the index should hold
        (published listings, open public needs) are added or replaced, every other one is deleted."""
        index = index or LISTINGS_INDEX
        uid = self.search.index_name(index.name)
        documents = await index.documents(session, batch.rows)
        await attach_vectors(session, index, list(documents.values()))
        gone = [entity for entity in batch.rows if entity not in documents]
        outcomes: dict[uuid.UUID, Outcome] = {}
        if documents:
            outcomes |= await self._send_upserts(list(documents.values()), uid)
        if gone:
            try:
                task_uid = await self.search.delete([str(entity) for entity in gone], uid)
                outcomes |= {entity: Outcome(task_uid, deleted=True) for entity in gone}
            except Exception as error:  # unreachable, refused, timed out, failed: retried later
                outcomes |= {entity: Outcome(getattr(error, "task_uid", None), describe(error)) for entity in gone}
        return outcomes

    async def _send_upserts(self, documents: list[dict[str, Any]], uid: str) -> dict[uuid.UUID, Outcome]:
        try:
            task_uid = await self.search.upsert(documents, uid)
            return {uuid.UUID(doc["id"]): Outcome(task_uid) for doc in documents}
        except SearchTaskFailed as failed:
            if len(documents) == 1:
                return {uuid.UUID(documents[0]["id"]): Outcome(failed.task_uid, describe(failed))}
        except Exception as error:  # Meilisearch unreachable or slow: every document waits
            return {uuid.UUID(doc["id"]): Outcome(None, describe(error)) for doc in documents}
        # One bad document must not hold the others back: send them one at a time.
        outcomes: dict[uuid.UUID, Outcome] = {}
        for doc in documents:
            outcomes |= await self._send_upserts([doc], uid)
        return outcomes

    async def mark(
        self, session: AsyncSession, batch: Batch, outcomes: dict[uuid.UUID, Outcome], now: datetime | None = None
    ) -> RelayRound:
        """Processed rows are done; failed ones wait 2^attempts seconds (capped) for the next try."""
        report = RelayRound(deferred=batch.deferred)
        by_outcome: dict[tuple[int | None, str | None], list[int]] = {}
        for entity, row_ids in batch.rows.items():
            outcome = outcomes.get(entity) or Outcome(error="not sent")
            by_outcome.setdefault((outcome.task_uid, outcome.error), []).extend(row_ids)
            report.rows += len(row_ids)
            if outcome.error:
                report.failed += len(row_ids)
            elif outcome.deleted:
                report.deleted += 1
            else:
                report.upserted += 1
        for (task_uid, error), row_ids in by_outcome.items():
            values: dict[str, Any] = {"attempts": OutboxEntry.attempts + 1, "sent_task_uid": task_uid}
            if error is None:
                values |= {"processed_at": func.now(), "last_error": None}
            else:
                seconds = func.least(BACKOFF_CAP_SECONDS, func.power(2, func.least(OutboxEntry.attempts, 16)))
                start = literal(now, DateTime(timezone=True)) if now else func.now()
                values |= {
                    "last_error": error,
                    "next_attempt_at": start + func.make_interval(0, 0, 0, 0, 0, 0, seconds),
                }
                report.errors.append(error)
            await session.execute(update(OutboxEntry).where(OutboxEntry.id.in_(row_ids)).values(**values))
        return report


async def pending_outbox(session: AsyncSession) -> tuple[int, int]:
    """Rows not yet processed, and how many of them have failed at least once."""
    row = (
        await session.execute(
            select(func.count(), func.count().filter(OutboxEntry.attempts > 0)).where(OutboxEntry.processed_at.is_(None))
        )
    ).one()
    return row[0], row[1]


async def outbox_backlog(session: AsyncSession) -> tuple[int, datetime | None]:
    """Rows not yet sent, and when the oldest of them was written (for the metrics)."""
    row = (
        await session.execute(select(func.count(), func.min(OutboxEntry.created_at)).where(OutboxEntry.processed_at.is_(None)))
    ).one()
    return row[0], row[1]


async def prune_outbox(session: AsyncSession, retention: timedelta = PROCESSED_RETENTION, limit: int = 5000) -> int:
    """Forget processed rows older than `retention` (the reindex's catch-up needs minutes)."""
    old = (
        select(OutboxEntry.id)
        .where(OutboxEntry.processed_at.is_not(None), OutboxEntry.created_at < func.now() - retention)
        .limit(limit)
        .scalar_subquery()
    )
    result = await session.execute(_outbox.delete().where(OutboxEntry.id.in_(old)))
    return rowcount(result) or 0


async def relay_job(settings, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The worker's job, queued by each transaction that adds outbox rows (migration 0026's trigger)
    and every 5 seconds (marketplace.wiring), for the rows whose back-off has passed: send whatever
    is due. Talks to Meilisearch only when there is something to send."""
    async with sessionmaker() as session:
        due = await session.scalar(
            select(OutboxEntry.id).where(OutboxEntry.processed_at.is_(None), OutboxEntry.next_attempt_at <= func.now()).limit(1)
        )
    if due is None:
        return
    async with search_engine_for(settings) as search:
        try:
            await search.ensure_indexes()
        except Exception as error:  # unreachable: the relay records it on the rows and backs off
            log.debug("search index not checked: %s", describe(error))
        done = await OutboxRelay(sessionmaker, search).drain()
    if done.errors:
        log.warning("search relay: %d row(s) to retry: %s", done.failed, done.errors[0])
    elif done.rows:
        log.debug("search relay: %d row(s) sent", done.rows)


async def prune_job(settings, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session, session.begin():
        pruned = await prune_outbox(session)
    if pruned:
        log.info("pruned %d processed search outbox row(s)", pruned)
