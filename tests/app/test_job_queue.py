"""The job queue (Procrastinate on the test session's PostgreSQL): several workers share the jobs,
each period's run happens once, work deferred from a transaction is done once, a failed run is
retried, and the run of a worker that died is retried by another."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from asyncio.subprocess import PIPE, STDOUT
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from marketplace.config import PROJECT_ROOT, Settings
from marketplace.db import make_sessionmaker
from marketplace.notifications.services import NotificationService
from marketplace.worker import CURRENT_RUN, JOBS, Job, JobRun, build_queue, cron_for, prune_job_queue, run_worker
from tests.support.hanging_worker import HANGING_JOB

EMAIL_JOB = "send_queued_emails"


async def eventually(check: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not done in time"
        await asyncio.sleep(0.1)


async def workers(settings: Settings, count: int) -> tuple[asyncio.Event, list[asyncio.Task]]:
    stop = asyncio.Event()
    return stop, [asyncio.create_task(run_worker(settings, stop, name=f"worker-{n}")) for n in range(count)]


async def stopped(stop: asyncio.Event, tasks: list[asyncio.Task]) -> None:
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 60)


async def waiting_runs(db, job: str) -> int:
    return await db.scalar(
        text("select count(*) from procrastinate_jobs where task_name = :job and status = 'todo'"), {"job": job}
    )


def test_periods_become_crons() -> None:
    def cron(seconds: int) -> str:
        return cron_for(Job("some_job", seconds, None))  # type: ignore[arg-type]

    assert (cron(1), cron(5), cron(60), cron(600)) == ("* * * * * */1", "* * * * * */5", "*/1 * * * *", "*/10 * * * *")
    minute, hours, *_ = cron(3600).split()
    assert hours == "*/1" and 0 <= int(minute) < 60
    with pytest.raises(ValueError, match="every 7 s"):
        cron(7)


def test_a_stalled_timeout_shorter_than_three_heartbeats_is_refused() -> None:
    with pytest.raises(
        ValidationError, match=r"WORKER_STALLED_SECONDS \(29\) must be at least 3 × WORKER_HEARTBEAT_SECONDS \(10\)"
    ):
        Settings(worker_heartbeat_seconds=10, worker_stalled_seconds=29)
    assert Settings(worker_heartbeat_seconds=10, worker_stalled_seconds=30).worker_stalled_seconds == 30


async def test_two_workers_run_each_period_once(settings: Settings, monkeypatch) -> None:
    runs: list[JobRun] = []

    async def tick(_settings, _sessionmaker) -> None:
        run = CURRENT_RUN.get()
        assert run is not None
        runs.append(run)
        await asyncio.sleep(0.3)  # long enough for the other worker to try the same period

    monkeypatch.setattr("marketplace.worker.JOBS", [Job("tick_for_test", 1, tick), Job("hourly_for_test", 3600, tick)])
    stop, tasks = await workers(settings, 2)
    try:
        await eventually(lambda: len([run for run in runs if run.period]) >= 6)
    finally:
        await stopped(stop, tasks)
    periods = Counter(run.period for run in runs if run.period is not None)  # None: the runs at start
    assert len(periods) >= 4 and max(periods.values()) == 1, periods
    # Each job also ran as the workers started, the hourly one although its hour had not come.
    assert {run.name for run in runs if run.period is None} == {"tick_for_test", "hourly_for_test"}
    assert {run.worker for run in runs} <= {"worker-0", "worker-1"}


async def test_work_deferred_from_a_transaction_is_done_once(settings: Settings, db, mailbox, monkeypatch) -> None:
    emails = NotificationService(db)
    await emails.queue_email("rolled-back@example.com", "test", "Never sent", "Body")
    await db.rollback()
    assert await waiting_runs(db, EMAIL_JOB) == 0  # nothing committed, nothing deferred
    for n in range(40):
        await emails.queue_email(f"person{n}@example.com", "test", f"Message {n}", "Body")
        if n % 4 == 3:
            await db.commit()  # ten transactions, one waiting run between them
    assert await waiting_runs(db, EMAIL_JOB) == 1
    # The period is an hour: only the runs the commits deferred send these.
    monkeypatch.setattr("marketplace.worker.JOBS", [Job(EMAIL_JOB, 3600, next(job for job in JOBS if job.name == EMAIL_JOB).run)])
    stop, tasks = await workers(settings, 2)
    try:
        await eventually(lambda: len(mailbox.messages) >= 40)
        await asyncio.sleep(1)  # time for a doubled send to show
    finally:
        await stopped(stop, tasks)
    subjects = Counter(message["Subject"] for message in mailbox.messages)
    assert subjects == Counter({f"Message {n}": 1 for n in range(40)})
    assert await db.scalar(text("select count(*) from outgoing_emails where sent_at is null")) == 0


async def test_a_failed_run_is_retried_with_back_off(settings: Settings, db, monkeypatch) -> None:
    attempts: dict[int, list[tuple[int, float]]] = {}

    async def flaky(_settings, _sessionmaker) -> None:
        run = CURRENT_RUN.get()
        assert run is not None
        attempts.setdefault(run.job_id, []).append((run.attempts, time.monotonic()))
        if run.attempts == 0:
            raise RuntimeError("the first attempt fails")

    await db.execute(text("select marketplace_defer_job('flaky_for_test')"))
    await db.commit()
    monkeypatch.setattr("marketplace.worker.JOBS", [Job("flaky_for_test", 86400, flaky)])
    stop, tasks = await workers(settings, 1)
    try:
        await eventually(lambda: any(len(runs) == 2 for runs in attempts.values()))
    finally:
        await stopped(stop, tasks)
    (first, failed_at), (second, retried_at) = next(runs for runs in attempts.values() if len(runs) == 2)
    assert (first, second) == (0, 1)
    assert retried_at - failed_at >= 1  # the back-off, not at once


def worker_env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "DATABASE_URL": settings.database_url,
        "MEILI_URL": settings.meili_url,
        "MEILI_MASTER_KEY": settings.meili_master_key,
        "DATA_DIR": str(tmp_path / "data"),
        "SECRET_KEY": "job-queue-test",
        "WORKER_HEARTBEAT_SECONDS": "0.5",
        "WORKER_STALLED_SECONDS": "2",
    }


async def started_worker(settings: Settings, tmp_path: Path, *args: str) -> tuple[asyncio.subprocess.Process, Path]:
    """A worker process whose only job (HANGING_JOB, deferred here) has started."""
    marker = tmp_path / "marker"
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.hanging_worker",
        str(marker),
        *args,
        env=worker_env(settings, tmp_path),
        stdout=PIPE,
        stderr=STDOUT,
    )
    try:
        await eventually(lambda: marker.exists() or worker.returncode is not None, seconds=120)
    finally:
        if not marker.exists():
            worker.kill()
            output, _ = await worker.communicate()
            pytest.fail(f"the worker ended before its job started: {output.decode()[-3000:]}")
    return worker, marker


async def test_sigterm_lets_the_running_job_finish(settings: Settings, db, tmp_path: Path) -> None:
    await db.execute(text("select marketplace_defer_job(:job)"), {"job": HANGING_JOB})
    await db.commit()
    worker, marker = await started_worker(settings, tmp_path, "2")
    worker.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(worker.communicate(), 60)
    assert worker.returncode == 0, output.decode()[-3000:]
    assert marker.read_text() == "done"
    left = "select count(*) from procrastinate_jobs where task_name = :job and status <> 'todo'"
    assert await db.scalar(text(left), {"job": HANGING_JOB}) == 0  # succeeded, and so deleted


async def test_a_killed_workers_job_is_retried_by_another(settings: Settings, db, tmp_path: Path, monkeypatch) -> None:
    await db.execute(text("select marketplace_defer_job(:job)"), {"job": HANGING_JOB})
    await db.commit()
    worker, _marker = await started_worker(settings, tmp_path)
    worker.kill()  # SIGKILL mid-job: no graceful stop, no word to the database
    await worker.communicate()
    doing = "select count(*) from procrastinate_jobs where task_name = :job and status = 'doing'"
    assert await db.scalar(text(doing), {"job": HANGING_JOB}) == 1
    await db.commit()

    retried: list[JobRun] = []

    async def finish(_settings, _sessionmaker) -> None:
        run = CURRENT_RUN.get()
        assert run is not None
        retried.append(run)

    monkeypatch.setattr("marketplace.worker.JOBS", [Job(HANGING_JOB, 86400, finish)])
    await asyncio.sleep(2.5)  # the dead worker's heartbeat is now older than WORKER_STALLED_SECONDS
    quick = settings.model_copy(update={"worker_heartbeat_seconds": 0.5, "worker_stalled_seconds": 2})
    stop, tasks = await workers(quick, 1)
    try:
        await eventually(lambda: any(run.attempts == 1 for run in retried))
    finally:
        await stopped(stop, tasks)
    assert await db.scalar(text(doing), {"job": HANGING_JOB}) == 0


async def test_a_retry_gives_way_to_a_run_already_waiting(db) -> None:
    """A failed run of a periodic job put back while the next period's run waits under the same
    queueing lock is recorded as failed (migration 0026), instead of breaking the lock's uniqueness."""
    insert = (
        "insert into procrastinate_jobs (queue_name, task_name, lock, queueing_lock, status)"
        " values ('default', 'some_job', 'some_job', 'some_job', :status) returning id"
    )
    running = await db.scalar(text(insert), {"status": "doing"})
    await db.scalar(text(insert), {"status": "todo"})
    await db.execute(text("select procrastinate_retry_job_v2(:id, now(), null, null, null)"), {"id": running})
    statuses = (await db.execute(text("select id, status::text from procrastinate_jobs order by id"))).all()
    assert [status for _, status in statuses] == ["failed", "todo"]
    # Alone, a retry waits as usual.
    await db.execute(text("delete from procrastinate_jobs where status = 'todo'"))
    await db.execute(text("update procrastinate_jobs set status = 'doing'"))
    await db.execute(text("select procrastinate_retry_job_v2(:id, now(), null, null, null)"), {"id": running})
    assert await db.scalar(text("select status::text from procrastinate_jobs")) == "todo"


async def test_failed_runs_are_kept_thirty_days(settings: Settings, db, engine) -> None:
    for days in (31, 29):
        job = await db.scalar(
            text(
                "insert into procrastinate_jobs (queue_name, task_name, status) values ('default', :name, 'failed') returning id"
            ),
            {"name": f"failed_{days}_days_ago"},
        )
        await db.execute(
            text(
                "insert into procrastinate_events (job_id, type, at) values (:job, 'failed', now() - make_interval(days => :days))"
            ),
            {"job": job, "days": days},
        )
    await db.commit()
    queue = build_queue(settings, make_sessionmaker(engine))
    async with queue.open_async():
        await prune_job_queue(queue)
    assert (await db.scalars(text("select task_name from procrastinate_jobs"))).all() == ["failed_29_days_ago"]
