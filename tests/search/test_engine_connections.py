"""The engine asks Meilisearch on a new connection each time (search/engine.py): on a kept-alive
one, each answer waited about 40 ms for a delayed ACK (bench/search_connections.py)."""

from __future__ import annotations

from urllib.parse import urlsplit

import psutil

from marketplace.search.engine import search_engine_for
from marketplace.search.query import SearchQuery, run_search


def open_connections_to(port: int) -> int:
    return sum(
        1
        for connection in psutil.Process().net_connections(kind="tcp")
        if connection.raddr and connection.raddr.port == port and connection.status == psutil.CONN_ESTABLISHED
    )


async def test_a_search_leaves_no_connection_to_meilisearch_open(settings, indexed) -> None:
    port = urlsplit(settings.meili_url).port
    assert port is not None
    search = search_engine_for(settings)
    try:
        for q in ("肝癌", "device"):
            outcome = await run_search(search, SearchQuery(q=q), hybrid=False)
            assert outcome.hits  # answered
        assert open_connections_to(port) == 0
    finally:
        await search.aclose()
