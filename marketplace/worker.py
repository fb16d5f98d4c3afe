"""The worker: runs the background jobs in a loop until stopped.

The jobs (the search outbox relay, response deadline reminders, saved-search digests …) are
registered in JOBS by marketplace.wiring. On the embedded default the app runs the same loop.
A job may also wake on a PostgreSQL NOTIFY channel (`wake_on`); its interval stays the fallback
for a notification missed while the listening connection was down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace import metrics
from marketplace.config import Settings
from marketplace.db import check_schema_revision, make_engine, make_sessionmaker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[Settings, async_sessionmaker[AsyncSession]], Awaitable[None]]
    wake_on: str | None = None  # a NOTIFY channel that runs the job before its interval is up


JOBS: list[Job] = []


def register_job(job: Job) -> Job:
    """Called by marketplace.wiring for each job; a job of the same name is replaced (idempotent)."""
    JOBS[:] = [other for other in JOBS if other.name != job.name]
    JOBS.append(job)
    return job


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run every job on its interval until `stop` is set (or the task is cancelled)."""
    from marketplace.search.outbox import install_outbox_listeners

    # The jobs are registered by marketplace.wiring.wire(), which the app and the command call first.
    install_outbox_listeners()  # the jobs change listings too (stale ones)
    stop = stop or asyncio.Event()
    engine = make_engine(settings.database_url)
    sessionmaker = make_sessionmaker(engine)
    wakes = {job.name: asyncio.Event() for job in JOBS}
    channels = {job.wake_on: wakes[job.name] for job in JOBS if job.wake_on}
    try:
        await check_schema_revision(engine)
        log.info("worker started with %d job(s)", len(JOBS))
        async with asyncio.TaskGroup() as group:
            if channels:
                group.create_task(_listen(engine, channels, stop))
            for job in JOBS:
                group.create_task(_loop(job, settings, sessionmaker, stop, wakes[job.name]))
    finally:
        await engine.dispose()


async def _loop(
    job: Job, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], stop: asyncio.Event, wake: asyncio.Event
) -> None:
    while not stop.is_set():
        wake.clear()  # a notification arriving during the run runs the job again
        try:
            await job.run(settings, sessionmaker)
            metrics.JOB_RUNS.labels(job=job.name, outcome="ok").inc()
        except Exception:  # one failing run must not stop the worker; it is retried next round
            metrics.JOB_RUNS.labels(job=job.name, outcome="failed").inc()
            log.exception("job %s failed", job.name)
        await _first(stop.wait(), wake.wait(), timeout=job.every_seconds)


async def _first(*waits: Awaitable, timeout: float) -> None:
    """Return when any of the waits is done or the time is up."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


LISTEN_CHECK_SECONDS = 30
LISTEN_RETRY_SECONDS = 5


async def _listen(engine, channels: dict[str, asyncio.Event], stop: asyncio.Event) -> None:
    """Hold one connection that LISTENs on the jobs' channels and wakes them; check it now and
    then, and reconnect when it is lost (meanwhile the jobs run on their intervals)."""
    while not stop.is_set():
        try:
            async with engine.connect() as conn:
                raw = (await conn.get_raw_connection()).driver_connection
                try:
                    for channel, wake in channels.items():
                        await raw.add_listener(channel, lambda *_args, wake=wake: wake.set())
                    for wake in channels.values():
                        wake.set()  # rows committed while nobody listened
                    while not stop.is_set():
                        await _first(stop.wait(), timeout=LISTEN_CHECK_SECONDS)
                        await raw.execute("select 1")
                finally:
                    # Never hand a listening connection back to the pool.
                    await conn.invalidate()
        except Exception as error:  # PostgreSQL restarting or unreachable: retry, jobs keep their intervals
            log.warning("worker: not listening for notifications (%s); retrying", error)
            await _first(stop.wait(), timeout=LISTEN_RETRY_SECONDS)
