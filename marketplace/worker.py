"""The worker: runs the background jobs in a loop until stopped.

Jobs register themselves in JOBS as their issues bring them (the search outbox relay, response
deadline reminders, saved-search digests). On the embedded default the app runs the same loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from marketplace.config import Settings
from marketplace.db import make_engine, make_sessionmaker
from marketplace.matching.needs import expire_job
from marketplace.matching.services import reminder_job
from marketplace.search.services import alerts_job, digest_job, prune_job, relay_job

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[Settings, object], Awaitable[None]]


async def mark_stale_listings(settings: Settings, sessionmaker) -> None:
    from marketplace.catalog.services import mark_stale

    async with sessionmaker() as session, session.begin():
        changed = await mark_stale(session)
    if changed:
        log.info("marked %d listing(s) stale", changed)


JOBS: list[Job] = [
    Job("mark_stale_listings", 3600, mark_stale_listings),
    # Every second: what is published reaches search within about a second.
    Job("relay_search_outbox", 1, relay_job),
    Job("prune_search_outbox", 3600, prune_job),
    # Saved searches: in-app alerts within about a minute; the digest goes out once a user's
    # 24 hours have passed (the job only decides whether it is due).
    Job("saved_search_alerts", 60, alerts_job),
    Job("saved_search_digests", 300, digest_job),
    # Reminders two working days before a match request's response deadline, once each.
    Job("remind_match_request_deadlines", 600, reminder_job),
    # Needs whose deadline has passed close (and leave the needs index) within ten minutes.
    Job("close_expired_needs", 600, expire_job),
]


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run every job on its interval until `stop` is set (or the task is cancelled)."""
    from marketplace.search.services import install_outbox_listeners

    install_outbox_listeners()  # the jobs change listings too (stale ones)
    stop = stop or asyncio.Event()
    engine = make_engine(settings.database_url)
    sessionmaker = make_sessionmaker(engine)
    log.info("worker started with %d job(s)", len(JOBS))
    try:
        async with asyncio.TaskGroup() as group:
            for job in JOBS:
                group.create_task(_loop(job, settings, sessionmaker, stop))
    finally:
        await engine.dispose()


async def _loop(job: Job, settings: Settings, sessionmaker, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await job.run(settings, sessionmaker)
        except Exception:  # one failing run must not stop the worker; it is retried next round
            log.exception("job %s failed", job.name)
        try:
            await asyncio.wait_for(stop.wait(), timeout=job.every_seconds)
        except TimeoutError:
            pass
