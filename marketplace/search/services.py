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
import secrets
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlencode

import rjieba
from meilisearch_python_sdk import AsyncClient
from meilisearch_python_sdk.models.settings import MeilisearchSettings
from meilisearch_python_sdk.models.task import TaskInfo, TaskResult
from rapidfuzz.distance import DamerauLevenshtein
from sqlalchemy import DateTime, event, exists, func, insert, inspect, literal, select, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session, selectinload

from marketplace import i18n
from marketplace.i18n import N_
from marketplace.accounts.models import COMPANY_ROLES, Organization, OrgKind
from marketplace.accounts.services import AccountService
from marketplace.audit import services as audit
from marketplace.catalog.models import Listing, ListingArea, Status, TherapeuticArea
from marketplace.catalog.services import CatalogService
from marketplace.errors import Conflict, FieldError, InvalidInput, NotFound
from marketplace.notifications.services import NotificationService, register_email_kind, send_email, unsubscribe_headers
from marketplace.search.models import (
    EntityType,
    OutboxEntry,
    OutboxOp,
    SavedSearch,
    SavedSearchDigest,
    SavedSearchMatch,
)
from marketplace.tenancy import ANONYMOUS, Principal

log = logging.getLogger(__name__)

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
    "title_zh", "summary_zh", "advantages", "area_names_zh", "type_zh", "institution_name_zh", INNER_WORDS,
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


# In Meilisearch's own JSON shape, so it reads like its documentation.
INDEX_SETTINGS: dict[str, Any] = {
    # In order of weight: what a listing is called, then what it is about, then who offers it.
    "searchableAttributes": [
        "title_zh", "title_en", "keywords", "area_names_zh", "area_names_en", "type_zh", "type_en",
        "summary_zh", "summary_en", "advantages", "institution_name_zh", "institution_name_en", "institution_city",
        INNER_WORDS,
    ],
    "filterableAttributes": [
        "kind", "type", "areas", "stage", "trl", "ownership_model", "licence_options", "engagement_modes",
        "pricing_model", "availability", "institution_id", "institution_city", "gcp_certified",
        "ethics_alliance_member", "is_stale", "published_at", "confirmed_at",
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
}

# ----- documents: only published listings, only public fields ------------------------------------

# Every field a document may carry. Built field by field from this list's meaning, never by
# copying the row, so confidential details, contacts and inventors' shares cannot slip in.
DOCUMENT_FIELDS = frozenset({
    "id", "kind", "type", "type_zh", "type_en", "title_zh", "title_en", "summary_zh", "summary_en", "advantages",
    "keywords", "areas", "area_names_zh", "area_names_en", "stage", "trl", "ownership_model", "licence_options",
    "engagement_modes", "pricing_model", "availability", "institution_id", "institution_name_zh",
    "institution_name_en", "institution_city", "gcp_certified", "ethics_alliance_member", "published_at",
    "confirmed_at", "updated_at", "is_stale", "changed_at_ms", INNER_WORDS,
})


def inner_words(texts: Iterable[str | None]) -> str:
    """The words jieba's search mode finds inside the texts' compounds (细胞 in 干细胞) that its
    precise mode, as Meilisearch segments, does not give; once each, space-separated. Without the
    HMM guesser, as Meilisearch's segmenter runs jieba."""
    texts = [text for text in texts if text]
    precise = {word for text in texts for word in rjieba.cut(text, False)}
    inner = [word for text in texts for word in rjieba.cut_for_search(text, False) if word not in precise]
    return " ".join(dict.fromkeys(inner))


def _epoch(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment else None


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def epoch_ms(moment: datetime) -> int:
    """Whole milliseconds since 1970, exactly (no float rounding: alerts compare them)."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def listing_document(listing: Listing, owner: Organization, areas: dict[str, TherapeuticArea]) -> dict[str, Any]:
    """The public face of a published listing, as search shows and filters it."""
    codes = [a.area_code for a in listing.areas]
    type_zh = i18n.translations("zh_CN").gettext(listing.type)
    area_names_zh = [areas[c].name_zh for c in codes if c in areas]
    return {
        "id": str(listing.id),
        "kind": listing.kind,
        "type": listing.type,
        "type_zh": type_zh,
        "type_en": i18n.translations("en").gettext(listing.type),
        "title_zh": listing.title_zh,
        "title_en": listing.title_en,
        "summary_zh": listing.summary_zh,
        "summary_en": listing.summary_en,
        "advantages": listing.advantages,
        INNER_WORDS: inner_words([
            listing.title_zh, listing.summary_zh, listing.advantages, type_zh, owner.name_zh, *listing.keywords,
            *area_names_zh,
        ]),
        "keywords": list(listing.keywords),
        "areas": codes,
        "area_names_zh": area_names_zh,
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
        "changed_at_ms": epoch_ms(listing.changed_at),  # saved-search alerts look for changes by it
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


# ----- the registry of indexes -------------------------------------------------------------------
#
# Every index that the outbox feeds: the listings index (below) and those later domains register at
# import (matching's needs), so that search never imports them. The relay, reindex and check handle
# every registered index the same way: documents are built at send time by the index's own function,
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


INDEXES: dict[str, SearchIndex] = {}


def register_index(
    entity_type: str, name: str, settings: dict[str, Any], documents: DocumentsById, all_documents: AllDocuments
) -> SearchIndex:
    """Called at import by the domain whose records an index holds; idempotent."""
    index = SearchIndex(str(EntityType(entity_type)), name, settings, documents, all_documents)
    INDEXES[index.entity_type] = index
    return index


async def enqueue(session: AsyncSession, entity_type: str, ids: Iterable[uuid.UUID], op: str = OutboxOp.upsert) -> None:
    """Outbox rows for these records, in the caller's transaction: the relay sends what PostgreSQL
    holds when it sends, so one row per change is enough whatever the change was."""
    rows = [{"entity_type": str(EntityType(entity_type)), "entity_id": key, "op": str(op)} for key in dict.fromkeys(ids)]
    if rows:
        await session.execute(insert(_outbox), rows)


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

    async def create_index(self, uid: str, settings: dict[str, Any] | None = None) -> None:
        """A new index with the primary key `id` and its settings (the listings' unless given;
        settings first: cheaper than re-indexing documents afterwards)."""
        await self.client.create_index(uid, primary_key="id", timeout_in_ms=int(self.task_timeout * 1000))
        if not await self.index_exists(uid):
            raise RuntimeError(f"Meilisearch did not create index {uid}")
        await self.apply_settings(uid, settings=settings)

    async def apply_settings(
        self, uid: str | None = None, timeout: float | None = None, settings: dict[str, Any] | None = None
    ) -> None:
        """Apply the settings (INDEX_SETTINGS unless given), creating the index when missing; on an
        index with documents Meilisearch re-indexes, so allow it time."""
        uid = uid or self.listings_index
        if not await self.index_exists(uid):
            await self.client.create_index(uid, primary_key="id", timeout_in_ms=int(self.task_timeout * 1000))
        model = MeilisearchSettings.model_validate(settings or INDEX_SETTINGS)
        await self.wait(await self.client.index(uid).update_settings(model), timeout)

    async def apply_all_settings(self) -> None:
        """Every registered index's settings (at start-up)."""
        for index in INDEXES.values():
            await self.apply_settings(self.index_name(index.name), settings=index.settings)

    async def ensure_index(self, uid: str | None = None, settings: dict[str, Any] | None = None) -> None:
        """Create the index with its settings unless it exists (the worker may write first)."""
        uid = uid or self.listings_index
        if not await self.index_exists(uid):
            await self.create_index(uid, settings)

    async def ensure_indexes(self) -> None:
        for index in INDEXES.values():
            await self.ensure_index(self.index_name(index.name), index.settings)

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
LISTINGS_INDEX = register_index(EntityType.listing, LISTINGS, INDEX_SETTINGS, listing_documents, published_documents)


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

    async def claim(
        self, session: AsyncSession, now: datetime | None = None, entity_type: str = EntityType.listing
    ) -> Batch:
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
        gone = [entity for entity in batch.rows if entity not in documents]
        outcomes: dict[uuid.UUID, Outcome] = {}
        if documents:
            outcomes |= await self._send_upserts(list(documents.values()), uid)
        if gone:
            try:
                task_uid = await self.search.delete([str(entity) for entity in gone], uid)
                outcomes |= {entity: Outcome(task_uid, deleted=True) for entity in gone}
            except Exception as error:  # unreachable, refused, timed out, failed: retried later
                outcomes |= {entity: Outcome(getattr(error, "task_uid", None), _describe(error)) for entity in gone}
        return outcomes

    async def _send_upserts(self, documents: list[dict[str, Any]], uid: str) -> dict[uuid.UUID, Outcome]:
        try:
            task_uid = await self.search.upsert(documents, uid)
            return {uuid.UUID(doc["id"]): Outcome(task_uid) for doc in documents}
        except SearchTaskFailed as failed:
            if len(documents) == 1:
                return {uuid.UUID(documents[0]["id"]): Outcome(failed.task_uid, _describe(failed))}
        except Exception as error:  # Meilisearch unreachable or slow: every document waits
            return {uuid.UUID(doc["id"]): Outcome(None, _describe(error)) for doc in documents}
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
            await search.ensure_indexes()
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
        started = await guard.scalar(select(func.clock_timestamp()))
        fresh = f"{live}_{datetime.now(timezone.utc):%Y%m%d%H%M%S%f}"
        leftover = re.compile(re.escape(live) + r"_\d{20}")
        for name in await search.index_names():  # a crashed reindex's half-built index
            if leftover.fullmatch(name):
                await search.delete_index(name)
        await search.create_index(fresh, index.settings)
        count = 0
        async with sessionmaker() as session:
            async for page in index.all_documents(session, page_size):
                await search.upsert(page, fresh)
                count += len(page)
        await search.ensure_index(live, index.settings)
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
# How many of a query's words a hit must hold, by the query's language (measured on the demo data,
# bench/chinese_recall.py). A Chinese query is cut into words by the segmenter, and often one of
# them is in no listing (肝癌 where listings say 肝细胞癌): `all` then finds nothing, and the
# default `last`, which drops words from the end, finds nothing when the first word is the missing
# one. `frequency` drops the commonest words first, keeping the telling ones. English and mixed
# queries keep `last`: people type the subject first ("knee osteoarthritis implant").
CHINESE_STRATEGY = "frequency"
OTHER_STRATEGY = "last"
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN = re.compile(r"[A-Za-z]")
# Meilisearch expands a synonym only when the query spells it as listed: "cell therpy" finds the
# listings that say "cell therapy" in English, never those that say only 细胞治疗. So an English
# synonym misspelt within Meilisearch's own typo budget is spelt right before the query is sent.
ENGLISH_SYNONYMS = [term.lower().split() for group in SYNONYM_GROUPS for term in group if LATIN.search(term)]
# The document without the field that only serves recall.
RETRIEVED = sorted(DOCUMENT_FIELDS - {INNER_WORDS})
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
    # Saved-search alerts only, never a URL parameter: listings changed after this epoch millisecond.
    changed_after: int | None = None

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


def matching_strategy(q: str) -> str:
    """Chinese (Han characters, no Latin letters; digits allowed, as in 2型糖尿病) or anything else."""
    return CHINESE_STRATEGY if HAN.search(q) and not LATIN.search(q) else OTHER_STRATEGY


def _within_typo_budget(word: str, term: str) -> bool:
    """As Meilisearch's default typo tolerance: one typo from 5 letters, two from 9."""
    budget = 2 if len(word) >= 9 else 1 if len(word) >= 5 else 0
    return DamerauLevenshtein.distance(word, term, score_cutoff=budget) <= budget


def spell_synonyms(q: str) -> str:
    """The query with misspelt English synonyms spelt as listed ("biobnak" → "biobank"); only a
    whole term, word by word, so that "laser" never becomes the "later" of "pay later"."""
    words = q.split()
    lowered = [word.lower() for word in words]
    changed = False
    for term in ENGLISH_SYNONYMS:
        for start in range(len(words) - len(term) + 1):
            window = lowered[start : start + len(term)]
            if window != term and all(map(_within_typo_budget, window, term)):
                words[start : start + len(term)] = lowered[start : start + len(term)] = term
                changed = True
    return " ".join(words) if changed else q


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
    if query.changed_after is not None:
        expression.append(f"changed_at_ms > {int(query.changed_after)}")
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

    strategy = matching_strategy(query.q)
    q = (query.q if strategy == CHINESE_STRATEGY else spell_synonyms(query.q)) or None
    main = SearchParams(
        index_uid=uid,
        query=q,
        matching_strategy=strategy,
        filter=filter_expression(query) or None,
        facets=[f.field for f in FACETS],
        sort=SORTS[query.sort],
        page=query.page,
        hits_per_page=query.page_size,
        attributes_to_retrieve=RETRIEVED,
        attributes_to_highlight=HIGHLIGHTED,
        attributes_to_crop=CROPPED,
        crop_length=CROP_WORDS,
        highlight_pre_tag=MARK_PRE,
        highlight_post_tag=MARK_POST,
        crop_marker="…",
    )
    side = [
        SearchParams(
            index_uid=uid, query=q, matching_strategy=strategy,
            filter=filter_expression(query, leave_out=f.param) or None, facets=[f.field], page=1, hits_per_page=0,
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


# ----- saved searches, their alerts and the daily digest -------------------------------------------
#
# A company member saves the query of /search under a name. The alert job takes the listing
# changes that the relay has put into the index since its last round (processed outbox rows it has
# not marked yet: a change still on its way is not looked at, a transaction that commits late is
# looked at when its row is sent), runs every saved query through the same query code as the page
# (parse_search → run_search) for listings changed since the oldest of them, records each find
# once per search, listing and change (a rerun finds the row and notifies nobody again) and
# notifies the owner in-app. The digest job e-mails each user, at most once in 24 hours, what
# their searches with e-mail on found since the last digest.

MAX_NAME_LENGTH = 80
MAX_SAVED_QUERY_LENGTH = 2000
MAX_SAVED_SEARCHES = 50
ALERT_KIND = "saved_search_matches"
ALERT_CHANGES = 5000  # outbox rows looked at in one round; the rest wait for the next
ALERT_BATCH = 100  # saved searches per transaction
ALERT_MAX_MATCHES = 200  # per saved search and round; the notification links to the search for all
DIGEST_QUIET = timedelta(hours=24)
DIGEST_MAX_PER_SEARCH = 20

DIGEST_EMAIL = register_email_kind(
    "saved_search_digest",
    N_("Saved-search digest"),
    N_("At most one e-mail a day with the new matches of your saved searches."),
)


def search_url(saved_query: str) -> str:
    return "/search" + (f"?{saved_query}" if saved_query else "")


def canonical_query(raw: str, areas: Iterable[str]) -> tuple[str, SearchQuery, list[FieldError]]:
    """A /search URL query (or the whole address) in its canonical form, without page and page
    size; with its problems as field errors named `query.<parameter>`."""
    raw = raw.strip()
    if "?" in raw:
        raw = raw.split("?", 1)[1]
    pairs = [(k, v) for k, v in parse_qsl(raw, keep_blank_values=True) if k not in ("page", "page_size")]
    query, problems = parse_search(pairs, areas)
    errors = [FieldError(f"query.{name}", message, params) for name, message, params in problems]
    canonical = urlencode(query.params(page=1, page_size=DEFAULT_PAGE_SIZE))
    if len(canonical) > MAX_SAVED_QUERY_LENGTH:
        errors.append(FieldError("query", N_("At most %(n)s characters."), {"n": MAX_SAVED_QUERY_LENGTH}))
    return canonical, query, errors


class SavedSearchService:
    """Saved searches are personal: only their owner, acting as a company member or admin, sees
    them; anyone else's answer 404."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _area_codes(self) -> set[str]:
        return {area.code for area in await CatalogService(self.session).areas()}

    async def owned(self, principal: Principal) -> list[SavedSearch]:
        principal.require(*COMPANY_ROLES)
        stmt = select(SavedSearch).where(SavedSearch.user_id == principal.user_id).order_by(
            func.lower(SavedSearch.name), SavedSearch.id
        )
        return list((await self.session.scalars(stmt)).all())

    async def get(self, principal: Principal, saved_id: uuid.UUID) -> SavedSearch:
        principal.require(*COMPANY_ROLES)
        saved = await self.session.scalar(
            select(SavedSearch)
            .where(SavedSearch.id == saved_id, SavedSearch.user_id == principal.user_id)
            .with_for_update()
        )
        if saved is None:
            raise NotFound()
        return saved

    async def _name(self, principal: Principal, name: str, errors: list[FieldError], exclude: uuid.UUID | None = None) -> str:
        name = " ".join(name.split())
        if not name:
            errors.append(FieldError("name", N_("Required.")))
        elif len(name) > MAX_NAME_LENGTH:
            errors.append(FieldError("name", N_("At most %(n)s characters."), {"n": MAX_NAME_LENGTH}))
        else:
            taken = select(SavedSearch.id).where(
                SavedSearch.user_id == principal.user_id, func.lower(SavedSearch.name) == name.lower()
            )
            if exclude:
                taken = taken.where(SavedSearch.id != exclude)
            if await self.session.scalar(taken):
                errors.append(FieldError("name", N_("You already have a saved search with this name.")))
        return name

    async def create(self, principal: Principal, name: str, query: str, *, email_enabled: bool = True) -> SavedSearch:
        principal.require(*COMPANY_ROLES)
        errors: list[FieldError] = []
        name = await self._name(principal, name, errors)
        canonical, _query, query_errors = canonical_query(query, await self._area_codes())
        if errors or query_errors:
            raise InvalidInput(*errors, *query_errors)
        count = await self.session.scalar(select(func.count()).where(SavedSearch.user_id == principal.user_id))
        if count >= MAX_SAVED_SEARCHES:
            raise Conflict(N_("You can keep at most %(n)s saved searches; delete one first."), n=MAX_SAVED_SEARCHES)
        saved = SavedSearch(
            user_id=principal.user_id, organization_id=principal.organization_id, name=name, query=canonical,
            email_enabled=email_enabled, unsubscribe_token=secrets.token_urlsafe(32),
        )
        self.session.add(saved)
        await self.session.flush()
        await self.session.refresh(saved)
        await audit.record(
            self.session, "saved_search_created", actor_user_id=principal.user_id,
            organization_id=principal.organization_id, subject=saved, name=name, query=canonical,
        )
        return saved

    async def update(
        self, principal: Principal, saved_id: uuid.UUID, *, name: str | None = None, query: str | None = None,
        email_enabled: bool | None = None,
    ) -> SavedSearch:
        saved = await self.get(principal, saved_id)
        errors: list[FieldError] = []
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = await self._name(principal, name, errors, exclude=saved.id)
        if query is not None:
            changes["query"], _query, query_errors = canonical_query(query, await self._area_codes())
            errors += query_errors
        if errors:
            raise InvalidInput(*errors)
        if email_enabled is not None:
            changes["email_enabled"] = email_enabled
        changed = {key: value for key, value in changes.items() if getattr(saved, key) != value}
        if not changed:
            return saved
        for key, value in changed.items():
            setattr(saved, key, value)
        if changed.get("email_enabled"):  # back on: e-mail what is found from now, not the backlog
            saved.email_since = func.now()
        saved.updated_at = func.now()
        await self.session.flush()
        await self.session.refresh(saved)
        await audit.record(
            self.session, "saved_search_updated", actor_user_id=principal.user_id,
            organization_id=saved.organization_id, subject=saved, **changed,
        )
        return saved

    async def delete(self, principal: Principal, saved_id: uuid.UUID) -> None:
        saved = await self.get(principal, saved_id)
        await audit.record(
            self.session, "saved_search_deleted", actor_user_id=principal.user_id,
            organization_id=saved.organization_id, subject=saved, name=saved.name,
        )
        await self.session.delete(saved)
        await self.session.flush()

    async def recent_matches(self, ids: Iterable[uuid.UUID], per_search: int = 5) -> dict[uuid.UUID, list[SavedSearchMatch]]:
        """The newest finds of each of these searches (callers pass only the caller's own)."""
        ids = list(ids)
        if not ids:
            return {}
        rank = func.row_number().over(
            partition_by=SavedSearchMatch.saved_search_id, order_by=(SavedSearchMatch.found_at.desc(), SavedSearchMatch.id.desc())
        ).label("rank")
        ranked = select(SavedSearchMatch.id, rank).where(SavedSearchMatch.saved_search_id.in_(ids)).subquery()
        stmt = (
            select(SavedSearchMatch)
            .join(ranked, ranked.c.id == SavedSearchMatch.id)
            .where(ranked.c.rank <= per_search)
            .order_by(SavedSearchMatch.found_at.desc(), SavedSearchMatch.id.desc())
        )
        found: dict[uuid.UUID, list[SavedSearchMatch]] = {saved_id: [] for saved_id in ids}
        for match in await self.session.scalars(stmt):
            found[match.saved_search_id].append(match)
        return found

    async def by_unsubscribe_token(self, token: str) -> SavedSearch:
        """The token of a digest's "stop e-mails for this search" link; anything else is not found."""
        saved = await self.session.scalar(select(SavedSearch).where(SavedSearch.unsubscribe_token == token))
        if saved is None:
            raise NotFound()
        return saved

    async def unsubscribe(self, token: str, *, ip: str | None = None) -> SavedSearch:
        saved = await self.by_unsubscribe_token(token)
        if saved.email_enabled:
            saved.email_enabled = False
            saved.updated_at = func.now()
            await self.session.flush()
            await self.session.refresh(saved)
            await audit.record(
                self.session, "saved_search_unsubscribed", organization_id=saved.organization_id, subject=saved, ip=ip,
                user_id=saved.user_id,
            )
        return saved


# -- alerts ---------------------------------------------------------------------------------------


@dataclass
class AlertRound:
    """What one alert round did."""

    changes: int = 0  # indexed changes (outbox rows) looked at
    searches: int = 0  # saved searches run against the index
    matches: int = 0  # new finds recorded
    notified: int = 0  # notifications created


async def _changed_matches(search: SearchEngine, saved: SavedSearch, areas: set[str], after_ms: int) -> list[dict[str, Any]]:
    """Documents of listings that match the saved query and changed after `after_ms` (and after
    the search was saved), newest first."""
    query, _ = parse_search(parse_qsl(saved.query), areas, strict=False)
    query.changed_after = max(after_ms, epoch_ms(saved.created_at))
    query.sort, query.page_size = "newest", MAX_PAGE_SIZE
    documents: list[dict[str, Any]] = []
    while len(documents) < ALERT_MAX_MATCHES:
        outcome = await run_search(search, query)
        documents += [hit.document for hit in outcome.hits]
        if query.page >= outcome.pages:
            break
        query.page += 1
    return documents[:ALERT_MAX_MATCHES]


async def _record_matches(session: AsyncSession, saved: SavedSearch, documents: list[dict[str, Any]]) -> list[SavedSearchMatch]:
    """Record the finds not recorded before (by search, listing and change); returns the new ones."""
    ids = {uuid.UUID(doc["id"]) for doc in documents}
    # A listing deleted since it was indexed (its removal still on its way) is left out.
    existing = set((await session.scalars(select(Listing.id).where(Listing.id.in_(ids)))).all())
    seen = set(
        (
            await session.scalars(
                select(SavedSearchMatch.listing_id).where(
                    SavedSearchMatch.saved_search_id == saved.id, SavedSearchMatch.listing_id.in_(ids)
                )
            )
        ).all()
    )
    rows = [
        {
            "saved_search_id": saved.id, "listing_id": uuid.UUID(doc["id"]), "changed_at_ms": int(doc["changed_at_ms"]),
            "is_new": uuid.UUID(doc["id"]) not in seen, "title_zh": doc["title_zh"], "title_en": doc.get("title_en"),
        }
        for doc in documents
        if uuid.UUID(doc["id"]) in existing
    ]
    if not rows:
        return []
    stmt = (
        pg_insert(SavedSearchMatch)
        .values(rows)
        .on_conflict_do_nothing(constraint="uq_saved_search_matches_change")
        .returning(SavedSearchMatch)
    )
    return list((await session.scalars(stmt, execution_options={"populate_existing": True})).all())


async def _notify_matches(session: AsyncSession, saved: SavedSearch, matches: list[SavedSearchMatch]) -> None:
    await NotificationService(session).notify(
        [saved.user_id],
        ALERT_KIND,
        N_("New matches for your saved search “%(name)s”: %(count)s"),
        params={"name": saved.name, "count": len(matches)},
        items=[
            {"label": m.title_zh, "label_en": m.title_en, "link": f"/listings/{m.listing_id}", "tag": N_("New") if m.is_new else N_("Updated")}
            for m in matches
        ],
        link=search_url(saved.query),
    )


async def _run_saved_searches(
    sessionmaker: async_sessionmaker[AsyncSession], search: SearchEngine, after_ms: int, report: AlertRound
) -> None:
    """Every saved search, a batch per transaction: its finds among listings changed after `after_ms`."""
    last: uuid.UUID | None = None
    while True:
        async with sessionmaker() as session, session.begin():
            stmt = select(SavedSearch).order_by(SavedSearch.id).limit(ALERT_BATCH)
            batch = list((await session.scalars(stmt.where(SavedSearch.id > last) if last else stmt)).all())
            if not batch:
                return
            areas = {area.code for area in await CatalogService(session).areas()}
            for saved in batch:
                documents = await _changed_matches(search, saved, areas, after_ms)
                report.searches += 1
                matches = await _record_matches(session, saved, documents) if documents else []
                if matches:
                    await _notify_matches(session, saved, matches)
                    report.matches += len(matches)
                    report.notified += 1
            last = batch[-1].id


async def run_alerts(sessionmaker: async_sessionmaker[AsyncSession], search: SearchEngine) -> AlertRound:
    """One round: the changes the relay has indexed since the last round, looked at by every
    saved search (a batch of searches per transaction), then marked as looked at. One round at a
    time (an advisory lock); a round cut short is redone, and the match table keeps it from
    notifying twice."""
    report = AlertRound()
    async with sessionmaker() as guard:
        if not await guard.scalar(select(func.pg_try_advisory_xact_lock(func.hashtextextended("saved-search-alerts", 0)))):
            return report  # another worker's round is running
        rows = (
            await guard.execute(
                select(OutboxEntry.id, OutboxEntry.created_at)
                .where(
                    OutboxEntry.processed_at.is_not(None),
                    OutboxEntry.alerted_at.is_(None),
                    OutboxEntry.entity_type == EntityType.listing,  # saved searches look at listings only
                )
                .order_by(OutboxEntry.id)
                .limit(ALERT_CHANGES)
            )
        ).all()
        if not rows:
            return report
        report.changes = len(rows)
        # A change's listing carries the same time as its outbox row (their transaction's now()).
        after_ms = epoch_ms(min(created for _, created in rows)) - 1
        # Renames, stale marks and reindexing write rows without changing a listing: often nothing to do.
        if (await run_search(search, SearchQuery(changed_after=after_ms, page_size=1))).total:
            await _run_saved_searches(sessionmaker, search, after_ms, report)
        await guard.execute(
            update(OutboxEntry).where(OutboxEntry.id.in_([row_id for row_id, _ in rows])).values(alerted_at=func.now())
        )
        await guard.commit()
    return report


async def alerts_job(settings, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The worker's job (every minute); Meilisearch being down only delays it."""
    async with search_engine_for(settings) as search:
        try:
            done = await run_alerts(sessionmaker, search)
        except SearchUnavailable as error:
            log.warning("saved-search alerts wait for search: %s", error)
            return
    if done.notified:
        log.info("saved-search alerts: %d match(es), %d notification(s)", done.matches, done.notified)


# -- the digest -----------------------------------------------------------------------------------


async def send_digests(sessionmaker: async_sessionmaker[AsyncSession], settings) -> int:
    """A digest to every user who has undigested matches on searches with e-mail on and had none
    in the last 24 hours; returns how many were sent. One transaction per user: a failed send
    leaves that user's matches for the next round."""
    quiet = exists().where(SavedSearchDigest.user_id == SavedSearch.user_id, SavedSearchDigest.quiet_until > func.now())
    async with sessionmaker() as session:
        users = (
            await session.scalars(
                select(SavedSearch.user_id)
                .distinct()
                .join(SavedSearchMatch, SavedSearchMatch.saved_search_id == SavedSearch.id)
                .where(*_digestible(), ~quiet)
            )
        ).all()
    sent = 0
    for user_id in users:
        async with sessionmaker() as session, session.begin():
            sent += await send_digest(session, settings, user_id)
    return sent


def _digestible() -> list:
    return [SavedSearch.email_enabled, SavedSearchMatch.digest_id.is_(None), SavedSearchMatch.found_at >= SavedSearch.email_since]


async def send_digest(session: AsyncSession, settings, user_id: uuid.UUID) -> bool:
    """The user's digest, if one is due and there is something in it. The digest row, the marks on
    its matches and the e-mail go together: if sending fails, the transaction rolls back."""
    key = func.hashtextextended(f"saved-search-digest:{user_id}", 0)
    if not await session.scalar(select(func.pg_try_advisory_xact_lock(key))):
        return False  # another worker is on it
    if await session.scalar(
        select(exists().where(SavedSearchDigest.user_id == user_id, SavedSearchDigest.quiet_until > func.now()))
    ):
        return False
    notifications = NotificationService(session)
    wanted, since = await notifications.wants_email_since(user_id, DIGEST_EMAIL.key)
    user = (await AccountService(session).active_users({user_id})).get(user_id)
    if not wanted or user is None:
        return False
    conditions = [SavedSearch.user_id == user_id, *_digestible()]
    if since is not None:
        conditions.append(SavedSearchMatch.found_at >= since)
    rows = (
        await session.execute(
            select(SavedSearch, SavedSearchMatch)
            .join(SavedSearchMatch, SavedSearchMatch.saved_search_id == SavedSearch.id)
            .where(*conditions)
            .order_by(func.lower(SavedSearch.name), SavedSearch.id, SavedSearchMatch.found_at.desc(), SavedSearchMatch.id.desc())
            .with_for_update(of=SavedSearchMatch)
        )
    ).all()
    if not rows:
        return False
    groups: dict[uuid.UUID, tuple[SavedSearch, dict[uuid.UUID, SavedSearchMatch]]] = {}
    for saved, match in rows:
        listed = groups.setdefault(saved.id, (saved, {}))[1]
        listed.setdefault(match.listing_id, match)  # a listing changed twice is listed once, as it is now
    digest = SavedSearchDigest(user_id=user_id, matches=len(rows), quiet_until=func.now() + DIGEST_QUIET)
    session.add(digest)
    await session.flush()
    await session.execute(
        update(SavedSearchMatch).where(SavedSearchMatch.id.in_([m.id for _, m in rows])).values(digest_id=digest.id)
    )
    stop_all = f"{settings.base_url.rstrip('/')}/unsubscribe/{await notifications.unsubscribe_token(user_id, DIGEST_EMAIL.key)}"
    subject, text = digest_email(settings, user, list(groups.values()), stop_all)
    await send_email(settings, user.email, subject, text, headers=unsubscribe_headers(stop_all))
    return True


def digest_email(settings, user, groups: list[tuple[SavedSearch, dict[uuid.UUID, SavedSearchMatch]]], stop_all: str) -> tuple[str, str]:
    """Subject and text of a digest, in the user's language."""
    base = settings.base_url.rstrip("/")
    locale = user.locale if user.locale in i18n.LOCALES else settings.default_locale
    token = i18n.current_locale.set(locale)
    try:
        _ = i18n.gettext
        english = locale == "en"
        total = sum(len(matches) for _saved, matches in groups)
        lines = [_("Hello %(name)s,", name=user.name), "", _("New matches for your saved searches since the last digest:"), ""]
        for saved, matches in groups:
            lines.append(f"■ {saved.name} — " + _("%(count)s new or changed listings", count=len(matches)))
            for match in list(matches.values())[:DIGEST_MAX_PER_SEARCH]:
                title = match.title_en if english and match.title_en else match.title_zh
                tag = _("New") if match.is_new else _("Updated")
                lines += [f"  · {title} [{tag}]", f"    {base}/listings/{match.listing_id}"]
            if len(matches) > DIGEST_MAX_PER_SEARCH:
                lines.append("  " + _("… and %(n)s more in the search.", n=len(matches) - DIGEST_MAX_PER_SEARCH))
            lines += [
                "  " + _("Open this search: %(url)s", url=base + search_url(saved.query)),
                "  " + _("Stop e-mails for this search: %(url)s", url=f"{base}/saved-searches/unsubscribe/{saved.unsubscribe_token}"),
                "",
            ]
        lines += [
            _("Manage your saved searches: %(url)s", url=f"{base}/saved-searches"),
            _("Stop all saved-search digests: %(url)s", url=stop_all),
        ]
        return _("New matches for your saved searches: %(count)s", count=total), "\n".join(lines) + "\n"
    finally:
        i18n.current_locale.reset(token)


async def digest_job(settings, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    sent = await send_digests(sessionmaker, settings)
    if sent:
        log.info("sent %d saved-search digest(s)", sent)
