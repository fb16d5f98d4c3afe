"""The Meilisearch engine as the app sees it. Indexes, the outbox relay and queries come with the
search issue; the foundation needs its health and a warm Chinese segmenter."""

from __future__ import annotations

import asyncio
import time

from meilisearch_python_sdk import AsyncClient


class SearchEngine:
    def __init__(self, url: str, master_key: str, index_prefix: str = "") -> None:
        self.client = AsyncClient(url, master_key, timeout=10)
        self.index_prefix = index_prefix

    def index_name(self, name: str) -> str:
        return f"{self.index_prefix}{name}"

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
