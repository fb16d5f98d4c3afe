"""Meilisearch as the app sees it (`SearchEngine`): health, indexes named with the settings'
prefix, and writes that wait for their task and refuse anything but success."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import structlog
from meilisearch_python_sdk import AsyncClient
from meilisearch_python_sdk.models.settings import MeilisearchSettings
from meilisearch_python_sdk.models.task import TaskInfo, TaskResult

from marketplace import metrics, page_cache
from marketplace.search.embeddings import EMBEDDER, Embedder, settings_embedder
from marketplace.search.index_settings import INDEX_SETTINGS, INDEXES, LISTINGS

log = logging.getLogger(__name__)

ERROR_LENGTH = 2000  # of an error as stored on an outbox row or shown


class SearchUnavailable(Exception):
    """Meilisearch did not answer (down, refused, timed out)."""


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:ERROR_LENGTH]


class EngineError(Exception):
    """Meilisearch refused a request: its HTTP status and its error's code, message and type."""

    def __init__(self, status: int, code: str, message: str, error_type: str = "") -> None:
        self.status = status
        self.code = code
        self.message = message
        self.error_type = error_type
        super().__init__(f"{status} {code}: {message}" if code else f"{status}: {message}")


# ----- the multi-search answer, decoded ----------------------------------------------------------
# Only what search reads of Meilisearch's answer, decoded by msgspec: the SDK's pydantic models of a
# multi-search answer (20 hits with their formatted copies, eleven facets) took ~6.7 ms of CPU per
# search in the profile of a loaded app. Fields not named here are skipped.


class SearchResult(msgspec.Struct, rename="camel"):
    """One query's answer in a multi-search (paginated: `page` and `hitsPerPage` asked)."""

    hits: list[dict[str, Any]] = []
    facet_distribution: dict[str, dict[str, int]] | None = None
    total_hits: int | None = None
    total_pages: int | None = None
    processing_time_ms: int = 0


class _MultiSearchAnswer(msgspec.Struct):
    results: list[SearchResult]


class _ErrorAnswer(msgspec.Struct):
    message: str = ""
    code: str = ""
    type: str = ""


_ENCODER = msgspec.json.Encoder()
_ANSWER = msgspec.json.Decoder(_MultiSearchAnswer)
_ERROR = msgspec.json.Decoder(_ErrorAnswer)


# The answer uncompressed: Meilisearch would brotli-compress its 60-80 kB answer for us to decompress
# again, about 2 ms of its CPU and 0.3 ms of ours per search, to spare the bytes on a link between
# two processes of one deployment (loopback or a container network).
_PLAIN_JSON = {"Content-Type": "application/json", "Accept-Encoding": "identity"}


def multi_search_body(queries: list[dict[str, Any]]) -> bytes:
    """A multi-search request's body: the queries as Meilisearch's JSON (camelCase keys)."""
    return _ENCODER.encode({"queries": queries})


def engine_error(status: int, body: bytes) -> EngineError:
    """Meilisearch's error answer ({message, code, type, link}) as an exception; a body that is not
    one (a proxy's page) is kept as the message."""
    try:
        error = _ERROR.decode(body)
    except msgspec.DecodeError:
        return EngineError(status, "", body[:ERROR_LENGTH].decode(errors="replace"))
    return EngineError(status, error.code, error.message, error.type)


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


def _client(url: str, master_key: str) -> AsyncClient:
    """The SDK's client, on an HTTP client that opens a connection per request. Meilisearch's HTTP
    server writes an answer's head and body apart with Nagle's algorithm on, so on a kept-alive
    connection the body waits for our delayed ACK: about 40 ms more per search. A new connection's
    first segments are ACKed at once: 10–13 ms instead of 52–56 ms for the same multi-search on
    loopback (bench/search_connections.py measures both). The SDK has no option for it, hence the swap."""
    from httpx2 import AsyncClient as HttpClient
    from httpx2 import Limits
    from meilisearch_python_sdk._http_requests import AsyncHttpRequests

    client = AsyncClient(url, master_key, timeout=10, verify=_tls_context())
    client.http_client = HttpClient(
        base_url=url, timeout=10, headers=client._headers, verify=_tls_context(), limits=Limits(max_keepalive_connections=0)
    )
    client._http_requests = AsyncHttpRequests(client.http_client, json_handler=client.json_handler)
    return client


class SearchEngine:
    """Meilisearch as the app sees it: health, the listings index (named with the settings' prefix,
    so several databases can share one engine), and writes that wait for their task's outcome."""

    def __init__(
        self,
        url: str,
        master_key: str,
        index_prefix: str = "",
        *,
        task_timeout: float = 60,
        embedder: Embedder | None = None,
        semantic_ratio: float = 0.5,
        stale_seconds: float = 0,
    ) -> None:
        self.client = _client(url, master_key)
        self.url = url  # part of a kept answer's key: two engines of one process may differ by it alone
        self.index_prefix = index_prefix
        self.task_timeout = task_timeout
        # Queries are hybrid (words and meaning) when there is an embedder; keyword-only otherwise.
        self.embedder = embedder
        self.semantic_ratio = semantic_ratio
        self.stale_seconds = stale_seconds  # how long an answer may be given after the index changed
        self._asking: dict[bytes, tuple[int, asyncio.Task[list[SearchResult]]]] = {}  # by key: since generation

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
        for _generation, task in list(self._asking.values()):
            task.cancel()
        await self.client.aclose()

    async def multi_search(self, queries: list[dict[str, Any]], *, stale_ok: bool = False) -> tuple[list[SearchResult], bool]:
        """One /multi-search round trip (no federation: one result per query, in order), sent as
        JSON and read with msgspec rather than through the SDK's models; and whether the results
        are current. Answers are kept per process (page_cache.py); with `stale_ok`, one kept from
        before the index last changed, at most `stale_seconds` ago, is given at once while
        Meilisearch is asked again in the background. Raises EngineError when Meilisearch refuses
        it, httpx's errors when it does not answer."""
        body = multi_search_body(queries)
        key = hashlib.blake2b(self.url.encode() + b"\n" + body, digest_size=16).digest()
        kept = page_cache.STORE.answer(key, self.stale_seconds if stale_ok else 0)
        if kept is not None:  # as Meilisearch gave it (processingTimeMs too)
            results, current = kept
            source = "kept" if current else "stale"
            metrics.SEARCH_ANSWERS.labels(source=source).inc()
            structlog.contextvars.bind_contextvars(search_answer=source)
            if not current:
                self._ask(key, body)
            return results, current
        metrics.SEARCH_ANSWERS.labels(source="meilisearch").inc()
        started = time.perf_counter()
        # Shielded: a request given up on still leaves the answer kept for the next one.
        results = await asyncio.shield(self._ask(key, body))
        # The request's log line says how long Meilisearch's round trip took (see logs.py).
        structlog.contextvars.bind_contextvars(
            search_answer="meilisearch", search_ms=round((time.perf_counter() - started) * 1000, 1)
        )
        return results, True

    def _ask(self, key: bytes, body: bytes) -> asyncio.Task[list[SearchResult]]:
        """Meilisearch's answer to `body`, then kept: asked once for all the requests in this
        process that want it at the same time, since the index last changed."""
        generation = page_cache.STORE.answer_generation
        asking = self._asking.get(key)
        if asking is not None and asking[0] == generation and asking[1].get_loop() is asyncio.get_running_loop():
            return asking[1]
        task = asyncio.create_task(self._post(key, body, generation))
        self._asking[key] = (generation, task)
        task.add_done_callback(functools.partial(self._asked, key))
        return task

    async def _post(self, key: bytes, body: bytes, generation: int) -> list[SearchResult]:
        response = await self.client.http_client.post("multi-search", content=body, headers=_PLAIN_JSON)
        if response.status_code >= 400:
            raise engine_error(response.status_code, response.content)
        try:
            results = _ANSWER.decode(response.content).results
        except msgspec.DecodeError as error:  # a 2xx that is not Meilisearch's answer
            raise EngineError(response.status_code, "", f"unreadable answer: {error}") from error
        page_cache.STORE.keep_answer(key, results, len(response.content), generation)
        return results

    def _asked(self, key: bytes, task: asyncio.Task) -> None:
        if (asking := self._asking.get(key)) is not None and asking[1] is task:
            del self._asking[key]
        if not task.cancelled() and (error := task.exception()) is not None:
            # Whoever waited for it was told; an answer asked again in the background is not.
            log.info("search: asking Meilisearch failed: %s", describe(error))

    # -- tasks and indexes ------------------------------------------------------------------------

    async def wait(self, task: TaskInfo, timeout: float | None = None) -> TaskResult:
        """Every write is an asynchronous task: wait for it and refuse anything but success. The
        answers kept in this process are forgotten (the other processes hear of it from the outbox)."""
        try:
            result = await self.client.wait_for_task(
                task.task_uid, timeout_in_ms=int((timeout or self.task_timeout) * 1000), interval_in_ms=20
            )
        finally:
            page_cache.forget_answers()
        if result.status != "succeeded":
            metrics.SEARCH_TASK_FAILURES.labels(type=str(result.task_type or "unknown")).inc()
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
        return (await self.wait(await self.enqueue_upsert(documents, uid))).uid

    async def enqueue_upsert(self, documents: list[dict[str, Any]], uid: str | None = None) -> TaskInfo:
        """Add or replace documents by id without waiting: the enqueued task, for `wait` later. A
        document that brings no vector opts out of semantic search (Meilisearch refuses one without
        the field)."""
        for document in documents:
            document.setdefault("_vectors", {EMBEDDER: None})
        if not any(isinstance(document["_vectors"], RenderedVectors) for document in documents):
            return await self.client.index(uid or self.listings_index).add_documents(documents, primary_key="id")
        body = b"[" + b",".join(document_json(document) for document in documents) + b"]"
        response = await self.client.http_client.post(
            f"indexes/{uid or self.listings_index}/documents?primaryKey=id",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        response.raise_for_status()
        return TaskInfo(**response.json())

    async def abandon(self, uid: str) -> None:
        """Cancel what is still queued for an index and delete it (a failed rebuild's leftovers)."""
        await self.wait(await self.client.cancel_tasks(index_uids=[uid], statuses=["enqueued", "processing"]))
        await self.delete_index(uid)

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


class RenderedVectors(dict[str, str]):
    """A document's `_vectors` whose values are JSON already (as PostgreSQL renders an array)."""


def document_json(document: dict[str, Any]) -> bytes:
    """A document as JSON, its `RenderedVectors` spliced in as they are (UTF-8, not escaped: half
    the bytes of Chinese text)."""
    vectors = document.get("_vectors")
    if not isinstance(vectors, RenderedVectors):
        return json.dumps(document, ensure_ascii=False).encode()
    rest = json.dumps({k: v for k, v in document.items() if k != "_vectors"}, ensure_ascii=False)
    rendered = ",".join(f"{json.dumps(name)}:{value}" for name, value in vectors.items())
    return f'{rest[:-1]},"_vectors":{{{rendered}}}}}'.encode()


def search_engine_for(settings) -> SearchEngine:
    """The engine the settings name (URL, key and index prefix, hybrid or not); close it after use."""
    return SearchEngine(
        settings.meili_url,
        settings.meili_master_key,
        settings.meili_index_prefix,
        embedder=settings_embedder(settings) if settings.embeddings else None,
        semantic_ratio=settings.search_semantic_ratio,
        stale_seconds=settings.search_stale_seconds,
    )
