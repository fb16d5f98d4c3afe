"""Why search talks to Meilisearch on a new connection each time (issue 19, point 7): the same
multi-search — the body the search API sends, `search_requests` — on the SDK's HTTP client, which
keeps connections alive, and through the app's engine (marketplace/search/engine.py), which opens
one per request, against Meilisearch's own processingTimeMs in the same run.

    .venv/bin/python bench/search_connections.py                 # README.md gives a run's figures
    .venv/bin/python bench/search_connections.py --searches 100

An embedded Meilisearch in a temporary folder, the listings index with the app's settings (without
the embedder: the documents carry no vectors, and keyword search is what is timed), DOCUMENTS
listings of generated text, then the searches one at a time on each client.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec
from bench_common import cpu_model, percentile
from meilisearch_python_sdk import AsyncClient

from marketplace.embedded.meilisearch import EmbeddedMeilisearch
from marketplace.search.engine import SearchEngine, SearchResult, multi_search_body
from marketplace.search.index_settings import INDEX_SETTINGS
from marketplace.search.query import SearchQuery, search_requests

DOCUMENTS = 2000
WORDS_ZH = ["肿瘤", "心血管", "糖尿病", "抗体", "试剂盒", "影像", "样本库", "研究型病房", "基因", "免疫"]
WORDS_EN = ["tumour", "cardiac", "diabetes", "antibody", "assay kit", "imaging", "biobank", "ward", "gene", "immune"]
QUERIES = ["肿瘤", "心血管 影像", "lung cancer", "antibody", "生物样本库", "糖尿病 试剂盒", "gene", "研究型病房"]


def document(rng: random.Random) -> dict:
    zh, en = rng.sample(WORDS_ZH, 3), rng.sample(WORDS_EN, 3)
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128))),
        "kind": rng.choice(["result", "resource"]),
        "title_zh": "".join(zh) + "研究",
        "title_en": " ".join(en).capitalize() + " study",
        "summary_zh": "，".join(rng.choices(WORDS_ZH, k=30)),
        "summary_en": ", ".join(rng.choices(WORDS_EN, k=30)),
    }


Search = Callable[[list[dict[str, Any]]], Awaitable[list[SearchResult]]]


def kept_alive_search(client: AsyncClient) -> Search:
    """The engine's request (its body and headers) on the SDK's own HTTP client."""

    async def search(requests: list[dict[str, Any]]) -> list[SearchResult]:
        response = await client.http_client.post(
            "multi-search",
            content=multi_search_body(requests),
            headers={"Content-Type": "application/json", "Accept-Encoding": "identity"},
        )
        response.raise_for_status()
        return msgspec.json.decode(response.content, type=dict[str, list[SearchResult]])["results"]

    return search


async def timed(search: Search, uid: str, searches: int) -> tuple[list[float], list[float]]:
    """Round trips and Meilisearch's own processing times, in ms."""
    trips, own = [], []
    for n in range(searches):
        requests = search_requests(uid, SearchQuery(q=QUERIES[n % len(QUERIES)], page_size=20))
        started = time.perf_counter()
        results = await search(requests)
        trips.append((time.perf_counter() - started) * 1000)
        own.append(float(sum(result.processing_time_ms for result in results)))
    return trips, own


async def measure(url: str, key: str, searches: int) -> dict[str, tuple[list[float], list[float]]]:
    engine = SearchEngine(url, key)
    kept_alive = AsyncClient(url, key, timeout=10)
    try:
        uid = engine.listings_index
        settings = {k: v for k, v in INDEX_SETTINGS.items() if k != "embedders"}
        await engine.create_index(uid, settings)
        rng = random.Random(7)
        await engine.upsert([document(rng) for _ in range(DOCUMENTS)], uid)

        async def engine_search(requests: list[dict[str, Any]]) -> list[SearchResult]:
            return (await engine.multi_search(requests))[0]

        for search in (kept_alive_search(kept_alive), engine_search):  # warm both
            await timed(search, uid, 10)
        return {
            "SDK's HTTP client, kept-alive connections": await timed(kept_alive_search(kept_alive), uid, searches),
            "the app's engine, a connection per request": await timed(engine_search, uid, searches),
        }
    finally:
        await kept_alive.aclose()
        await engine.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--searches", type=int, default=200, help="per client (default 200)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, EmbeddedMeilisearch(Path(folder)) as meilisearch:
        url, key = meilisearch.url, meilisearch.master_key()
        figures = asyncio.run(measure(url, key, args.searches))
    print(f"Machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}, load average now "
          f"{' / '.join(f'{v:.2f}' for v in os.getloadavg())}")  # fmt: skip
    print(f"Conditions: {DOCUMENTS} listings, {args.searches} multi-searches one at a time per client, keyword only, loopback")
    print(f"{'client':<46}{'p50 ms':>9}{'p95 ms':>9}{'mean':>9}{'Meilisearch own p50':>21}{'p50 / own':>11}")
    for name, (trips, own) in figures.items():
        p50, p95, own_p50 = percentile(trips, 50), percentile(trips, 95), percentile(own, 50)
        ratio = f"{p50 / own_p50:.1f}×" if own_p50 else "—"
        print(f"{name:<46}{p50:>9.1f}{p95:>9.1f}{statistics.mean(trips):>9.1f}{own_p50:>21.0f}{ratio:>11}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
