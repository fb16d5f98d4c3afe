"""Search: the Meilisearch engine, the listings index's settings, and keeping the index in step
with PostgreSQL.

Meilisearch is a derived index, never the truth. Every change that affects what search shows
writes an outbox row in the same transaction (`install_outbox_listeners`, which observes the
catalogue's writes, so the catalogue does not import search). `OutboxRelay` sends the rows in
batches, builds each document from PostgreSQL at send time (a late send sends the current truth),
waits for every Meilisearch task and checks its outcome, retries failures with back-off and only
then marks rows processed. Document ids are listing ids, so a send repeated after a crash is
applied once in effect. `reindex` rebuilds into a new index and swaps it in; `check` reports drift.

Only published listings, and of them only public fields, reach the index (`listing_document`).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from meilisearch_python_sdk import AsyncClient
from meilisearch_python_sdk.models.settings import MeilisearchSettings
from meilisearch_python_sdk.models.task import TaskInfo, TaskResult
from sqlalchemy import DateTime, event, func, insert, inspect, literal, select, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session, selectinload

from marketplace import i18n
from marketplace.i18n import N_
from marketplace.accounts.models import Organization, OrgKind
from marketplace.accounts.services import AccountService
from marketplace.catalog.models import Listing, ListingArea, Status, TherapeuticArea
from marketplace.catalog.services import CatalogService
from marketplace.search.models import EntityType, OutboxEntry, OutboxOp
from marketplace.tenancy import ANONYMOUS

log = logging.getLogger(__name__)

LISTINGS = "listings"

# ----- index settings (applied at start-up; a reindex builds the new index with them) -----------

# Attributes in Chinese: segmented as Mandarin, and no typo tolerance, which on short Chinese words
# matches unrelated ones (one character off is another word).
CHINESE_ATTRIBUTES = ["title_zh", "summary_zh", "advantages", "area_names_zh", "type_zh", "institution_name_zh"]
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


# In Meilisearch's own JSON shape, so it reads like its documentation.
INDEX_SETTINGS: dict[str, Any] = {
    # In order of weight: what a listing is called, then what it is about, then who offers it.
    "searchableAttributes": [
        "title_zh", "title_en", "keywords", "area_names_zh", "area_names_en", "type_zh", "type_en",
        "summary_zh", "summary_en", "advantages", "institution_name_zh", "institution_name_en", "institution_city",
    ],
    "filterableAttributes": [
        "kind", "type", "areas", "stage", "trl", "ownership_model", "licence_options", "engagement_modes",
        "pricing_model", "availability", "institution_id", "institution_city", "gcp_certified",
        "ethics_alliance_member", "is_stale", "published_at", "confirmed_at",
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
}

# ----- documents: only published listings, only public fields ------------------------------------

# Every field a document may carry. Built field by field from this list's meaning, never by
# copying the row, so confidential details, contacts and inventors' shares cannot slip in.
DOCUMENT_FIELDS = frozenset({
    "id", "kind", "type", "type_zh", "type_en", "title_zh", "title_en", "summary_zh", "summary_en", "advantages",
    "keywords", "areas", "area_names_zh", "area_names_en", "stage", "trl", "ownership_model", "licence_options",
    "engagement_modes", "pricing_model", "availability", "institution_id", "institution_name_zh",
    "institution_name_en", "institution_city", "gcp_certified", "ethics_alliance_member", "published_at",
    "confirmed_at", "updated_at", "is_stale",
})


def _epoch(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment else None


def listing_document(listing: Listing, owner: Organization, areas: dict[str, TherapeuticArea]) -> dict[str, Any]:
    """The public face of a published listing, as search shows and filters it."""
    codes = [a.area_code for a in listing.areas]
    return {
        "id": str(listing.id),
        "kind": listing.kind,
        "type": listing.type,
        "type_zh": i18n.translations("zh_CN").gettext(listing.type),
        "type_en": i18n.translations("en").gettext(listing.type),
        "title_zh": listing.title_zh,
        "title_en": listing.title_en,
        "summary_zh": listing.summary_zh,
        "summary_en": listing.summary_en,
        "advantages": listing.advantages,
        "keywords": list(listing.keywords),
        "areas": codes,
        "area_names_zh": [areas[c].name_zh for c in codes if c in areas],
        "area_names_en": [areas[c].name_en for c in codes if c in areas],
        "stage": listing.stage,
        "trl": listing.trl,
        "ownership_model": listing.ownership_model,
        "licence_options": list(listing.licence_options),
        "engagement_modes": list(listing.engagement_modes),
        "pricing_model": listing.pricing_model,
        "availability": listing.availability,
        "institution_id": str(owner.id),
        "institution_name_zh": owner.name_zh,
        "institution_name_en": owner.name_en,
        "institution_city": owner.city,
        "gcp_certified": owner.gcp_certified,
        "ethics_alliance_member": owner.ethics_alliance_member,
        "published_at": _epoch(listing.published_at),
        "confirmed_at": _epoch(listing.confirmed_at),
        "updated_at": listing.updated_at.isoformat() if listing.updated_at else None,
        "is_stale": 1 if listing.is_stale else 0,  # a number, for the ranking rule
    }


async def _documents(session: AsyncSession, *conditions, limit: int | None = None) -> list[dict[str, Any]]:
    """Documents of the listings the public may see (the catalogue's own rule) that match."""
    catalog = CatalogService(session)
    stmt = (
        select(Listing)
        .where(catalog.visible(ANONYMOUS), *conditions)
        .options(selectinload(Listing.areas))
        .order_by(Listing.id)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    listings = list((await session.scalars(stmt)).all())
    if not listings:
        return []
    owners = await AccountService(session).public_organizations({item.institution_id for item in listings})
    areas = {area.code: area for area in await catalog.areas()}
    return [listing_document(item, owners[item.institution_id], areas) for item in listings]


async def listing_documents(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """Documents for those of `ids` that search should show; an id missing from the answer is one
    the index must not hold (a draft, withdrawn, archived or deleted listing)."""
    ids = list(ids)
    if not ids:
        return {}
    return {uuid.UUID(doc["id"]): doc for doc in await _documents(session, Listing.id.in_(ids))}


async def published_documents(session: AsyncSession, page_size: int = 1000) -> AsyncIterator[list[dict[str, Any]]]:
    """Every published listing's document, a page at a time (keyset by id, for big catalogues)."""
    after: uuid.UUID | None = None
    while True:
        page = await _documents(session, *([Listing.id > after] if after else []), limit=page_size)
        if not page:
            return
        yield page
        after = uuid.UUID(page[-1]["id"])


# ----- the engine --------------------------------------------------------------------------------


class SearchTaskFailed(Exception):
    """A Meilisearch task ended failed or canceled; the index did not change."""

    def __init__(self, task: TaskResult) -> None:
        self.task_uid = task.uid
        error = task.error or {}
        super().__init__(f"task {task.uid} {task.status}: {error.get('code', '')} {error.get('message', '')}".strip())


@functools.cache
def _tls_context():
    """The TLS settings the SDK's HTTP client builds by default, built once and shared: loading the
    CA bundle takes 0.2 s and more on a busy machine, and the relay opens an engine every round."""
    from httpx2 import create_ssl_context

    return create_ssl_context()


class SearchEngine:
    """Meilisearch as the app sees it: health, the listings index (named with the settings' prefix,
    so several databases can share one engine), and writes that wait for their task's outcome."""

    def __init__(self, url: str, master_key: str, index_prefix: str = "", *, task_timeout: float = 60) -> None:
        self.client = AsyncClient(url, master_key, timeout=10, verify=_tls_context())
        self.index_prefix = index_prefix
        self.task_timeout = task_timeout

    def index_name(self, name: str) -> str:
        return f"{self.index_prefix}{name}"

    @property
    def listings_index(self) -> str:
        """The live listings index: what search reads and the relay writes."""
        return self.index_name(LISTINGS)

    async def __aenter__(self) -> SearchEngine:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.aclose()

    async def healthy(self) -> bool:
        try:
            return (await self.client.health()).status == "available"
        except Exception:  # unreachable, refused, timed out: all mean "not healthy"
            return False

    async def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not await self.healthy():
            if time.monotonic() > deadline:
                raise RuntimeError(f"Meilisearch at {self.client.http_client.base_url} is not healthy")
            await asyncio.sleep(0.2)

    async def warm_up(self) -> None:
        """One Chinese query at start-up: the segmenter's dictionary loads on the first one (~0.4 s),
        which should not be a user's first search."""
        uid = self.index_name("warmup")
        index = await self.client.get_or_create_index(uid)
        await index.search("临床研究型病房")

    async def aclose(self) -> None:
        await self.client.aclose()

    # -- tasks and indexes ------------------------------------------------------------------------

    async def wait(self, task: TaskInfo, timeout: float | None = None) -> TaskResult:
        """Every write is an asynchronous task: wait for it and refuse anything but success."""
        result = await self.client.wait_for_task(
            task.task_uid, timeout_in_ms=int((timeout or self.task_timeout) * 1000), interval_in_ms=20
        )
        if result.status != "succeeded":
            raise SearchTaskFailed(result)
        return result

    async def index_exists(self, uid: str) -> bool:
        return await self.client.get_raw_index(uid) is not None

    async def create_index(self, uid: str) -> None:
        """A new index with the listings' primary key and settings (settings first: cheaper than
        re-indexing documents afterwards)."""
        await self.client.create_index(uid, primary_key="id", timeout_in_ms=int(self.task_timeout * 1000))
        if not await self.index_exists(uid):
            raise RuntimeError(f"Meilisearch did not create index {uid}")
        await self.apply_settings(uid)

    async def apply_settings(self, uid: str | None = None, timeout: float | None = None) -> None:
        """Apply INDEX_SETTINGS (creating the index when missing); on an index with documents
        Meilisearch re-indexes, so allow it time."""
        uid = uid or self.listings_index
        if not await self.index_exists(uid):
            await self.client.create_index(uid, primary_key="id", timeout_in_ms=int(self.task_timeout * 1000))
        task = await self.client.index(uid).update_settings(MeilisearchSettings.model_validate(INDEX_SETTINGS))
        await self.wait(task, timeout)

    async def ensure_index(self, uid: str | None = None) -> None:
        """Create the index with its settings unless it exists (the worker may write first)."""
        uid = uid or self.listings_index
        if not await self.index_exists(uid):
            await self.create_index(uid)

    async def delete_index(self, uid: str) -> None:
        if await self.index_exists(uid):
            await self.wait(await self.client.index(uid).delete())

    async def index_names(self) -> list[str]:
        names: list[str] = []
        while True:
            page = await self.client.get_raw_indexes(offset=len(names), limit=200) or []
            names += [info.uid for info in page]
            if len(page) < 200:
                return names

    # -- documents --------------------------------------------------------------------------------

    async def upsert(self, documents: list[dict[str, Any]], uid: str | None = None) -> int:
        """Add or replace documents by id; returns the succeeded task's uid."""
        task = await self.client.index(uid or self.listings_index).add_documents(documents, primary_key="id")
        return (await self.wait(task)).uid

    async def delete(self, ids: list[str], uid: str | None = None) -> int:
        task = await self.client.index(uid or self.listings_index).delete_documents(ids)
        return (await self.wait(task)).uid

    async def documents(self, uid: str | None = None, page_size: int = 1000) -> AsyncIterator[dict[str, Any]]:
        index = self.client.index(uid or self.listings_index)
        offset = 0
        while True:
            page = await index.get_documents(offset=offset, limit=page_size)
            for doc in page.results:
                yield doc
            offset += len(page.results)
            if not page.results or offset >= page.total:
                return


# ----- the outbox: written in the same transaction as the change ---------------------------------

_ORGANIZATION_FIELDS = ("name_zh", "name_en", "city", "gcp_certified", "ethics_alliance_member")
_outbox = OutboxEntry.__table__
_listings = Listing.__table__


def install_outbox_listeners() -> None:
    """Observe every ORM session: a flush or bulk statement that changes what search shows adds
    outbox rows on the same connection, hence in the same transaction. Idempotent; called where
    listings are written (the app, the worker, the demo loader)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _before_bulk_statement)


def _outbox_rows(changes: dict[uuid.UUID, str]) -> list[dict[str, Any]]:
    return [{"entity_type": EntityType.listing, "entity_id": key, "op": op} for key, op in changes.items()]


def _published_listings_of(institutions) -> Any:
    """INSERT … SELECT: an outbox row for each published listing of these institutions."""
    return insert(_outbox).from_select(
        ["entity_type", "entity_id", "op"],
        select(literal(EntityType.listing.value), _listings.c.id, literal(OutboxOp.upsert.value)).where(
            _listings.c.institution_id.in_(institutions), _listings.c.status == Status.published
        ),
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
        where = state.statement.whereclause
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
ERROR_LENGTH = 2000


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


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:ERROR_LENGTH]


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
        """One batch. `now` stands for the clock when deciding what is due and when to retry."""
        async with self.sessionmaker() as session, session.begin():
            batch = await self.claim(session, now)
            if not batch.rows:
                return RelayRound(deferred=batch.deferred, more=batch.full)
            outcomes = await self.send(session, batch)
            report = await self.mark(session, batch, outcomes, now)
            report.more = batch.full
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

    async def claim(self, session: AsyncSession, now: datetime | None = None) -> Batch:
        pending = (OutboxEntry.processed_at.is_(None), OutboxEntry.entity_type == EntityType.listing)
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

    async def send(self, session: AsyncSession, batch: Batch) -> dict[uuid.UUID, Outcome]:
        """Build the documents now, from PostgreSQL, and send them: published listings are added
        or replaced, every other one is deleted from the index."""
        documents = await listing_documents(session, batch.rows)
        gone = [entity for entity in batch.rows if entity not in documents]
        outcomes: dict[uuid.UUID, Outcome] = {}
        if documents:
            outcomes |= await self._send_upserts(list(documents.values()))
        if gone:
            try:
                task_uid = await self.search.delete([str(entity) for entity in gone])
                outcomes |= {entity: Outcome(task_uid, deleted=True) for entity in gone}
            except Exception as error:  # unreachable, refused, timed out, failed: retried later
                outcomes |= {entity: Outcome(getattr(error, "task_uid", None), _describe(error)) for entity in gone}
        return outcomes

    async def _send_upserts(self, documents: list[dict[str, Any]]) -> dict[uuid.UUID, Outcome]:
        try:
            task_uid = await self.search.upsert(documents)
            return {uuid.UUID(doc["id"]): Outcome(task_uid) for doc in documents}
        except SearchTaskFailed as failed:
            if len(documents) == 1:
                return {uuid.UUID(documents[0]["id"]): Outcome(failed.task_uid, _describe(failed))}
        except Exception as error:  # Meilisearch unreachable or slow: every document waits
            return {uuid.UUID(doc["id"]): Outcome(None, _describe(error)) for doc in documents}
        # One bad document must not hold the others back: send them one at a time.
        outcomes: dict[uuid.UUID, Outcome] = {}
        for doc in documents:
            outcomes |= await self._send_upserts([doc])
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


async def prune_outbox(session: AsyncSession, retention: timedelta = PROCESSED_RETENTION, limit: int = 5000) -> int:
    """Forget processed rows older than `retention` (the reindex's catch-up needs minutes)."""
    old = (
        select(OutboxEntry.id)
        .where(OutboxEntry.processed_at.is_not(None), OutboxEntry.created_at < func.now() - retention)
        .limit(limit)
        .scalar_subquery()
    )
    result = await session.execute(OutboxEntry.__table__.delete().where(OutboxEntry.id.in_(old)))
    return result.rowcount or 0


def search_engine_for(settings) -> SearchEngine:
    """The engine the settings name (URL, key and index prefix); close it after use."""
    return SearchEngine(settings.meili_url, settings.meili_master_key, settings.meili_index_prefix)


async def relay_job(settings, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The worker's job (every second): send whatever is due. Talks to Meilisearch only when
    there is something to send."""
    async with sessionmaker() as session:
        due = await session.scalar(
            select(OutboxEntry.id)
            .where(OutboxEntry.processed_at.is_(None), OutboxEntry.next_attempt_at <= func.now())
            .limit(1)
        )
    if due is None:
        return
    async with search_engine_for(settings) as search:
        try:
            await search.ensure_index()
        except Exception as error:  # unreachable: the relay records it on the rows and backs off
            log.debug("search index not checked: %s", _describe(error))
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


# ----- reindex and check -------------------------------------------------------------------------

# Changes made while a reindex reads PostgreSQL may reach only the old index; the outbox rows of
# this window before the start are sent again after the swap (a transaction open longer than this
# when the reindex starts could slip through; `check` would show it).
REINDEX_CATCH_UP = timedelta(minutes=10)


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
    page_size: int = 1000,
    before_swap: Callable[[str], Awaitable[None]] | None = None,
) -> ReindexReport:
    """Rebuild the listings index from PostgreSQL into `<live>_<timestamp>` and swap it with the
    live one in a single Meilisearch task, so search answers from a complete index throughout;
    then delete the old one and queue recent changes again so none is lost in the switch."""
    live = search.listings_index
    async with sessionmaker() as guard:
        # One reindex of an index at a time: a transaction-level advisory lock, held by this
        # otherwise idle transaction and released when it ends, however the reindex ends.
        key = func.hashtextextended(f"search-reindex:{live}", 0)
        if not await guard.scalar(select(func.pg_try_advisory_xact_lock(key))):
            raise ReindexBusy(f"another reindex of {live} is running")
        started = await guard.scalar(select(func.clock_timestamp()))
        fresh = f"{live}_{datetime.now(timezone.utc):%Y%m%d%H%M%S%f}"
        leftover = re.compile(re.escape(live) + r"_\d{20}")
        for name in await search.index_names():  # a crashed reindex's half-built index
            if leftover.fullmatch(name):
                await search.delete_index(name)
        await search.create_index(fresh)
        count = 0
        async with sessionmaker() as session:
            async for page in published_documents(session, page_size):
                await search.upsert(page, fresh)
                count += len(page)
        await search.ensure_index(live)
        if before_swap:
            await before_swap(fresh)
        await search.wait(await search.client.swap_indexes([(live, fresh)]))
        await search.delete_index(fresh)  # now the old documents
        async with sessionmaker() as session, session.begin():
            requeued = await requeue_since(session, started - REINDEX_CATCH_UP)
    return ReindexReport(live, count, requeued)


async def requeue_since(session: AsyncSession, since: datetime) -> int:
    """A fresh outbox row for every listing with a row written since `since`."""
    latest = (
        select(OutboxEntry.entity_type, OutboxEntry.entity_id, OutboxEntry.op)
        .where(OutboxEntry.created_at >= since)
        .ext(distinct_on(OutboxEntry.entity_type, OutboxEntry.entity_id))
        .order_by(OutboxEntry.entity_type, OutboxEntry.entity_id, OutboxEntry.id.desc())
    )
    result = await session.execute(insert(_outbox).from_select(["entity_type", "entity_id", "op"], latest))
    return result.rowcount or 0


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


async def check(sessionmaker: async_sessionmaker[AsyncSession], search: SearchEngine) -> DriftReport:
    """Compare every published listing's document, as the relay would build it now, with what
    the live index holds: missing, extra and outdated documents (an organization renamed without
    its listings re-sent shows up as outdated too)."""
    expected: dict[str, dict[str, Any]] = {}
    async with sessionmaker() as session:
        async for page in published_documents(session):
            # Through JSON, as Meilisearch gives documents back.
            expected |= {doc["id"]: json.loads(json.dumps(doc)) for doc in page}
        pending, failing = await pending_outbox(session)
    actual: dict[str, dict[str, Any]] = {}
    if await search.index_exists(search.listings_index):
        async for doc in search.documents():
            actual[str(doc.get("id"))] = doc
    return DriftReport(
        index=search.listings_index,
        listings=len(expected),
        documents=len(actual),
        missing=sorted(expected.keys() - actual.keys()),
        extra=sorted(actual.keys() - expected.keys()),
        outdated=sorted(key for key in expected.keys() & actual.keys() if expected[key] != actual[key]),
        pending=pending,
        failing=failing,
    )


# ----- querying: the search API and page -----------------------------------------------------------

# Highlight markers Meilisearch puts around matches: characters from Unicode's private use area,
# which no listing text carries. The snippet is escaped as a whole, then they become <mark>.
MARK_PRE = "\ue000"
MARK_POST = "\ue001"
HIGHLIGHTED = ["title_zh", "title_en", "summary_zh", "summary_en", "advantages", "keywords"]
CROPPED = ["summary_zh", "summary_en", "advantages"]
CROP_WORDS = 40
SORTS: dict[str, list[str] | None] = {
    "relevance": None,
    "newest": ["published_at:desc"],
    "confirmed": ["confirmed_at:desc"],
}
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
MAX_QUERY_LENGTH = 200
MAX_VALUE_LENGTH = 100
MAX_VALUES = 50
TRL_RANGE = (1, 9)


@dataclass(frozen=True)
class Facet:
    """A filter that people tick: its query parameter, the document field, its allowed values
    (None: any short text, quoted), and whether a value is a yes/no."""

    param: str
    field: str
    values: frozenset[str] | None = None
    boolean: bool = False


def _facets() -> tuple[Facet, ...]:
    from marketplace.catalog.models import Availability, LicenceOption, ListingKind, ResourceType, ResultType, Stage

    return (
        Facet("kind", "kind", frozenset(ListingKind)),
        Facet("type", "type", frozenset(ResultType) | frozenset(ResourceType)),
        Facet("area", "areas"),  # checked against the area vocabulary by the caller
        Facet("stage", "stage", frozenset(Stage)),
        Facet("licence", "licence_options", frozenset(LicenceOption)),
        Facet("availability", "availability", frozenset(Availability)),
        Facet("city", "institution_city"),
        Facet("institution", "institution_id"),
        Facet("gcp", "gcp_certified", boolean=True),
        Facet("ethics", "ethics_alliance_member", boolean=True),
    )


FACETS: tuple[Facet, ...] = _facets()
FACET_BY_PARAM = {f.param: f for f in FACETS}
QUERY_PARAMS = frozenset({"q", "sort", "page", "page_size", "trl_min", "trl_max", *FACET_BY_PARAM})
TRUE_WORDS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}


class SearchUnavailable(Exception):
    """Meilisearch did not answer (down, refused, timed out)."""


@dataclass
class SearchQuery:
    """A validated search: every value is one the filter builder may quote as is."""

    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)  # facet param → values (OR within)
    trl_min: int | None = None
    trl_max: int | None = None
    sort: str = "relevance"
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    def params(self, **changes) -> list[tuple[str, str]]:
        """The query as URL parameters (defaults left out), so that a URL holds the whole search."""
        state = {
            "q": self.q, "filters": self.filters, "trl_min": self.trl_min, "trl_max": self.trl_max,
            "sort": self.sort, "page": self.page, "page_size": self.page_size,
        } | changes
        pairs: list[tuple[str, str]] = []
        if state["q"]:
            pairs.append(("q", state["q"]))
        for facet in FACETS:
            pairs += [(facet.param, value) for value in state["filters"].get(facet.param, [])]
        for name in ("trl_min", "trl_max"):
            if state[name] is not None:
                pairs.append((name, str(state[name])))
        if state["sort"] != "relevance":
            pairs.append(("sort", state["sort"]))
        if state["page_size"] != DEFAULT_PAGE_SIZE:
            pairs.append(("page_size", str(state["page_size"])))
        if state["page"] != 1:
            pairs.append(("page", str(state["page"])))
        return pairs


def _int(value: str, low: int, high: int) -> int | None:
    try:
        number = int(value.strip())
    except ValueError:
        return None
    return number if low <= number <= high else None


def parse_search(
    params: Iterable[tuple[str, str]], areas: Iterable[str], *, strict: bool = True
) -> tuple[SearchQuery, list[tuple[str, str, dict]]]:
    """Turn URL parameters into a SearchQuery. Returns the problems as (field, message id, params);
    with strict=False a bad value is dropped instead (the page forgives old or hand-edited URLs)."""
    area_codes = set(areas)
    errors: list[tuple[str, str, dict]] = []
    query = SearchQuery()
    seen: dict[str, list[str]] = {}
    for name, value in params:
        seen.setdefault(name, []).append(value)
    for name in seen:
        if name not in QUERY_PARAMS:
            errors.append((name, N_("Not a search parameter."), {}))
    for name in ("q", "sort", "page", "page_size", "trl_min", "trl_max"):
        if len(seen.get(name, [])) > 1:
            errors.append((name, N_("Give this parameter once."), {}))
    first = {name: values[0] for name, values in seen.items()}
    q = first.get("q", "").strip()
    if len(q) > MAX_QUERY_LENGTH:
        errors.append(("q", N_("At most %(n)s characters."), {"n": MAX_QUERY_LENGTH}))
        q = q[:MAX_QUERY_LENGTH]
    query.q = q
    sort = first.get("sort", "") or "relevance"
    if sort in SORTS:
        query.sort = sort
    else:
        errors.append(("sort", N_("Not one of the allowed values."), {}))
    for name, low, high, default in (("page", 1, 10_000, 1), ("page_size", 1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE)):
        raw = first.get(name, "")
        number = _int(raw, low, high) if raw else default
        if number is None:
            errors.append((name, N_("A whole number from %(low)s to %(high)s."), {"low": low, "high": high}))
            number = default
        setattr(query, name, number)
    for name in ("trl_min", "trl_max"):
        raw = first.get(name, "")
        if raw:
            number = _int(raw, *TRL_RANGE)
            if number is None:
                errors.append((name, N_("A whole number from %(low)s to %(high)s."), {"low": TRL_RANGE[0], "high": TRL_RANGE[1]}))
            setattr(query, name, number)
    if query.trl_min is not None and query.trl_max is not None and query.trl_min > query.trl_max:
        errors.append(("trl_max", N_("Must not be below the minimum."), {}))
        query.trl_max = None
    for facet in FACETS:
        values: list[str] = []
        for value in seen.get(facet.param, []):
            value = value.strip()
            if not value:
                continue  # an empty field of a plain form
            ok = True
            if facet.boolean:
                ok = value.lower() in TRUE_WORDS
                value = "true" if ok and TRUE_WORDS[value.lower()] else "false"
            elif facet.param == "area":
                ok = value in area_codes
            elif facet.param == "institution":
                try:
                    value = str(uuid.UUID(value))
                except ValueError:
                    ok = False
            elif facet.values is not None:
                ok = value in facet.values
            else:
                ok = len(value) <= MAX_VALUE_LENGTH and value.isprintable()
            if not ok:
                errors.append((facet.param, N_("Not one of the allowed values."), {}))
            elif value not in values:
                values.append(value)
        if len(values) > MAX_VALUES:
            errors.append((facet.param, N_("At most %(n)s values."), {"n": MAX_VALUES}))
            values = values[:MAX_VALUES]
        if facet.boolean and len(values) > 1:
            values = []  # yes or no: both is no filter
        if values:
            query.filters[facet.param] = values
    return query, errors if strict else []


def quote(value: str) -> str:
    """A string value in Meilisearch's filter syntax: double-quoted, with \\ and " escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def filter_expression(query: SearchQuery, leave_out: str | None = None) -> list[str | list[str]]:
    """The query's filters as Meilisearch's array form: the outer list is AND, an inner list OR.
    Every value comes from parse_search and is quoted; no raw text is pasted into the syntax."""
    expression: list[str | list[str]] = []
    for facet in FACETS:
        if facet.param == leave_out or facet.param not in query.filters:
            continue
        values = query.filters[facet.param]
        if facet.boolean:
            expression.append(f"{facet.field} = {values[0]}")
        else:
            expression.append([f"{facet.field} = {quote(v)}" for v in values])
    if query.trl_min is not None:
        expression.append(f"trl >= {int(query.trl_min)}")
    if query.trl_max is not None:
        expression.append(f"trl <= {int(query.trl_max)}")
    return expression


def marked_html(text: Any) -> str:
    """Meilisearch's formatted text as safe HTML: everything escaped, matches in <mark>."""
    from markupsafe import escape

    if isinstance(text, list):
        text = "；".join(str(t) for t in text if MARK_PRE in str(t)) or "；".join(str(t) for t in text)
    if text is None:
        return ""
    html = str(escape(str(text)))
    opened = html.count(MARK_PRE)
    html = html.replace(MARK_PRE, "<mark>").replace(MARK_POST, "</mark>")
    return html + "</mark>" * max(0, opened - html.count("</mark>"))


@dataclass
class SearchHit:
    document: dict[str, Any]
    highlights: dict[str, str]  # field → safe HTML with <mark>
    matched: list[str]  # fields where the query matched


@dataclass
class SearchOutcome:
    query: SearchQuery
    hits: list[SearchHit]
    total: int
    pages: int
    facets: dict[str, dict[str, int]]  # facet param → value → count
    engine_ms: int


def search_requests(uid: str, query: SearchQuery) -> list:
    """The multi-search sent for a query (a list of the SDK's SearchParams): the hits with every
    filter, and for each facet the user has ticked, its counts with the other filters only, so its
    unticked values still show what they would add (disjunctive facets). Its own function so the
    benchmark sends Meilisearch exactly what the API sends."""
    from meilisearch_python_sdk.models.search import SearchParams

    main = SearchParams(
        index_uid=uid,
        query=query.q or None,
        filter=filter_expression(query) or None,
        facets=[f.field for f in FACETS],
        sort=SORTS[query.sort],
        page=query.page,
        hits_per_page=query.page_size,
        attributes_to_highlight=HIGHLIGHTED,
        attributes_to_crop=CROPPED,
        crop_length=CROP_WORDS,
        highlight_pre_tag=MARK_PRE,
        highlight_post_tag=MARK_POST,
        crop_marker="…",
    )
    side = [
        SearchParams(
            index_uid=uid, query=query.q or None, filter=filter_expression(query, leave_out=f.param) or None,
            facets=[f.field], page=1, hits_per_page=0,
        )
        for f in FACETS
        if f.param in query.filters
    ]
    return [main, *side]


async def run_search(search: SearchEngine, query: SearchQuery) -> SearchOutcome:
    """One round trip (multi-search, see search_requests)."""
    ticked = [f for f in FACETS if f.param in query.filters]
    try:
        results = await search.client.multi_search(search_requests(search.listings_index, query))
    except Exception as error:
        from meilisearch_python_sdk.errors import MeilisearchApiError

        if isinstance(error, MeilisearchApiError) and getattr(error, "code", "") == "index_not_found":
            return SearchOutcome(query, [], 0, 1, {}, 0)
        raise SearchUnavailable(_describe(error)) from error
    first = results[0]
    distribution = {f.param: dict((first.facet_distribution or {}).get(f.field, {})) for f in FACETS}
    for facet, result in zip(ticked, results[1:], strict=True):
        distribution[facet.param] = dict((result.facet_distribution or {}).get(facet.field, {}))
    hits = []
    for raw in first.hits:
        formatted = raw.get("_formatted") or {}
        document = {k: v for k, v in raw.items() if k in DOCUMENT_FIELDS}
        highlights = {name: marked_html(formatted.get(name, raw.get(name))) for name in HIGHLIGHTED}
        matched = [name for name in HIGHLIGHTED if MARK_PRE in json.dumps(formatted.get(name, ""), ensure_ascii=False)]
        hits.append(SearchHit(document, highlights, matched))
    total = first.total_hits or 0
    pages = max(1, first.total_pages or 1)
    engine_ms = sum(r.processing_time_ms or 0 for r in results)
    return SearchOutcome(query, hits, total, pages, distribution, engine_ms)
