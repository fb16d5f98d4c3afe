"""The load test's mix (bench/locust_mixed.py) stays in step with the app: on the demo data, one
visitor, one company member and one TTO go through each of their tasks against the live server, and
every request succeeds. A page that moves, a form that changes or a write that starts failing breaks
this test, not the next load test's figures. (No timings: `make bench-load` measures.)"""

from __future__ import annotations

import asyncio
import subprocess
import sys

from marketplace.config import PROJECT_ROOT
from marketplace.db import make_sessionmaker
from marketplace.demo import load_demo_data
from marketplace.search.engine import search_engine_for
from marketplace.search.outbox import OutboxRelay

# The writes the mix makes, each of which must have happened (and succeeded) at least once.
WRITES = [
    "POST /login",
    "POST /saved-searches",
    "POST /saved-searches/{id}/delete",
    "POST /listings/{id}/match-request",
    "POST /match-requests/{id}/messages",
    "POST /listings/{id} (edit)",
    "POST /agreements/{id}/payments",
]


async def test_every_request_of_the_load_mix_succeeds(client, live_server, settings, engine) -> None:
    sessionmaker = make_sessionmaker(engine)
    search = search_engine_for(settings)
    index = search.client.index(search.listings_index)
    await search.ensure_index()
    try:
        async with sessionmaker() as session, session.begin():
            assert await load_demo_data(session)
        done = await OutboxRelay(sessionmaker, search).drain()  # the published listings, searchable
        assert done.upserted and not done.failed, done
        run = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, str(PROJECT_ROOT / "bench" / "locust_mixed.py"), live_server],
            capture_output=True,
            text=True,
            timeout=180,
        )
        lines = run.stdout.splitlines()
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
        assert lines[-1] == "0 failed"
        assert [write for write in WRITES if write not in lines] == [], run.stdout[-4000:]
    finally:
        await search.wait(await index.delete_all_documents())
        await search.aclose()
