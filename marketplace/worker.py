"""The worker: the background jobs on Procrastinate, a job queue kept in PostgreSQL.

The jobs (the search outbox relay, response deadline reminders, saved-search digests …) are
registered in JOBS by marketplace.wiring. Each becomes a Procrastinate task that is deferred on its
period (a cron derived from `every_seconds`) and, for the outbox relay and the e-mail queue, also
from the transaction that gives it work (triggers of migration 0026). Any number of workers, on any
number of machines, share the queue:

- a periodic job is deferred once per period, whichever workers are running (PostgreSQL keeps one
  defer per task and timestamp);
- a periodic run is not queued while another run of the job waits (its queueing lock); the runs
  queued from transactions and by `catch_up` (marketplace_defer_job) skip only when one already
  waits, without a lock, so two may wait at once; the job's lock keeps any two runs from
  overlapping;
- a failed run is retried with exponential back-off;
- a run left half-done by a worker that died (no heartbeat) is retried by the others.

On the embedded default the app runs one worker in-process (RUN_WORKER_IN_APP).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import zlib
from collections.abc import Awaitable, Callable
from contextlib import suppress
from contextvars import ContextVar
from dataclasses import dataclass

import procrastinate
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace import metrics
from marketplace.config import Settings
from marketplace.db import check_schema_revision, libpq_dsn, make_engine, make_sessionmaker

log = logging.getLogger(__name__)

# Retries of a failed run: 2, 4, 8, 16, 32 seconds after the failures, then the next period.
RETRY = procrastinate.RetryStrategy(max_attempts=5, exponential_wait=2)
RECOVER_STALLED = "retry_stalled_jobs"
PRUNE_QUEUE = "prune_job_queue"
# Failed runs stay in procrastinate_jobs for the on-call engineer to read, this long.
KEEP_FAILED_HOURS = 30 * 24


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: int
    run: Callable[[Settings, async_sessionmaker[AsyncSession]], Awaitable[None]]


@dataclass(frozen=True)
class JobRun:
    """What a running job may want to know about its run (logs, tests)."""

    name: str
    job_id: int
    period: int | None  # the period's timestamp for a periodic run, None for a deferred one
    attempts: int  # earlier attempts of this run
    worker: str | None


CURRENT_RUN: ContextVar[JobRun | None] = ContextVar("current_job_run", default=None)

JOBS: list[Job] = []


def register_job(job: Job) -> Job:
    """Called by marketplace.wiring for each job; a job of the same name is replaced (idempotent)."""
    cron_for(job)  # refuse a period that no cron expresses, at start rather than in the worker
    JOBS[:] = [other for other in JOBS if other.name != job.name]
    JOBS.append(job)
    return job


def cron_for(job: Job) -> str:
    """The cron of a job's period. Hourly and longer jobs start at a minute of their own (from the
    name), so they do not all start at once."""
    seconds = job.every_seconds
    if 0 < seconds < 60 and 60 % seconds == 0:
        return f"* * * * * */{seconds}"  # croniter's sixth field: seconds
    if seconds % 60 == 0 and 60 % (seconds // 60) == 0 and seconds < 3600:
        return f"*/{seconds // 60} * * * *"
    if seconds % 3600 == 0 and 24 % (seconds // 3600) == 0:
        return f"{zlib.crc32(job.name.encode()) % 60} */{seconds // 3600} * * *"
    raise ValueError(f"job {job.name}: no cron runs it every {seconds} s (use a divisor of a minute, hour or day)")


def build_queue(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> procrastinate.App:
    """A Procrastinate app with every registered job as a periodic task that runs it."""
    queue = procrastinate.App(
        connector=procrastinate.PsycopgConnector(
            conninfo=libpq_dsn(settings.database_url), min_size=1, max_size=settings.worker_concurrency + 2
        )
    )
    for job in JOBS:
        task = queue.task(name=job.name, pass_context=True, lock=job.name, queueing_lock=job.name, retry=RETRY)(
            _runner(job, settings, sessionmaker)
        )
        queue.periodic(cron=cron_for(job))(task)

    async def recover_stalled(context: procrastinate.JobContext, timestamp: int | None = None) -> None:
        await retry_stalled_jobs(context.app, settings)

    stalled = queue.task(name=RECOVER_STALLED, pass_context=True, queueing_lock=RECOVER_STALLED)(recover_stalled)
    queue.periodic(cron="* * * * *")(stalled)

    async def prune(context: procrastinate.JobContext, timestamp: int | None = None) -> None:
        await prune_job_queue(context.app)

    pruning = queue.task(name=PRUNE_QUEUE, pass_context=True, queueing_lock=PRUNE_QUEUE)(prune)
    queue.periodic(cron="17 4 * * *")(pruning)  # daily, at a quiet hour
    return queue


def _runner(job: Job, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]):
    async def run(context: procrastinate.JobContext, timestamp: int | None = None) -> None:
        this = JobRun(job.name, context.job.id or 0, timestamp, context.job.attempts, context.worker_name)
        token = CURRENT_RUN.set(this)
        try:
            with structlog.contextvars.bound_contextvars(job=job.name, job_id=context.job.id, attempt=this.attempts):
                await job.run(settings, sessionmaker)
            metrics.JOB_RUNS.labels(job=job.name, outcome="ok").inc()
        except Exception:
            metrics.JOB_RUNS.labels(job=job.name, outcome="failed").inc()
            log.exception("job %s failed (attempt %d)", job.name, this.attempts + 1)
            raise  # Procrastinate retries it with back-off
        finally:
            CURRENT_RUN.reset(token)

    return run


async def retry_stalled_jobs(queue: procrastinate.App, settings: Settings) -> int:
    """Retry the runs of workers whose heartbeat stopped (killed, or their machine lost). A run
    already waiting for the same job takes the place of the retry (migration 0026's trigger)."""
    stalled = list(await queue.job_manager.get_stalled_jobs(seconds_since_heartbeat=settings.worker_stalled_seconds))
    for job in stalled:
        log.warning("job %s (id %s) was left running by a stopped worker: retrying it", job.task_name, job.id)
        try:
            await queue.job_manager.retry_job(job)
        except Exception:  # another worker retried it first, or it finished: the others still go
            log.exception("job %s (id %s) could not be retried", job.task_name, job.id)
    return len(stalled)


async def prune_job_queue(queue: procrastinate.App) -> None:
    """Failed, cancelled and aborted runs older than KEEP_FAILED_HOURS leave the queue's table."""
    await queue.job_manager.delete_old_jobs(
        nb_hours=KEEP_FAILED_HOURS, include_failed=True, include_cancelled=True, include_aborted=True
    )


async def catch_up(queue: procrastinate.App) -> None:
    """Each job runs once as a worker starts, whatever its period: a daily job whose time passed
    while no worker ran is not put off to the next day (Procrastinate defers only the periods of
    the last ten minutes). A run already waiting takes its place; the jobs are idempotent sweeps."""
    await queue.connector.execute_query_async(
        "select marketplace_defer_job(job) from unnest(%(jobs)s::text[]) as job", jobs=[job.name for job in JOBS]
    )


async def run_worker(settings: Settings, stop: asyncio.Event | None = None, *, name: str | None = None) -> None:
    """Run one Procrastinate worker until `stop` is set or the task is cancelled; either way the
    running jobs get SHUTDOWN_GRACE_SECONDS to finish (aborted ones are retried by the next worker)."""
    from marketplace.search.outbox import install_outbox_listeners

    # The jobs are registered by marketplace.wiring.wire(), which the app and the command call first.
    install_outbox_listeners()  # the jobs change listings too (stale ones)
    stop = stop or asyncio.Event()
    engine = make_engine(settings.database_url)
    try:
        await check_schema_revision(engine)
        queue = build_queue(settings, make_sessionmaker(engine))
        async with queue.open_async():
            await retry_stalled_jobs(queue, settings)  # a restarted worker picks up what its predecessor left
            await catch_up(queue)
            log.info("worker started with %d job(s)", len(JOBS))
            running = asyncio.create_task(
                queue.run_worker_async(
                    name=name or "worker",
                    concurrency=settings.worker_concurrency,
                    install_signal_handlers=False,
                    delete_jobs="successful",
                    shutdown_graceful_timeout=settings.shutdown_grace_seconds,
                    update_heartbeat_interval=settings.worker_heartbeat_seconds,
                    stalled_worker_timeout=settings.worker_stalled_seconds,
                )
            )
            stopping = asyncio.create_task(stop.wait())
            try:
                await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopping.cancel()
                if not running.done():
                    running.cancel()  # Procrastinate's graceful stop: running jobs finish first
                    with suppress(asyncio.CancelledError):
                        await running
                elif not running.cancelled():
                    running.result()  # a worker that ended on its own ended on an error: raise it
    finally:
        await engine.dispose()


async def run_worker_until_signalled(settings: Settings) -> None:
    """`marketplace worker`: SIGTERM or SIGINT stop the worker gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await run_worker(settings, stop)
