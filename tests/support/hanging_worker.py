"""A `marketplace worker` whose only job takes its time (tests/app/test_job_queue.py stops it mid-job).

    python -m tests.support.hanging_worker MARKER [SECONDS]

The job writes "started" to MARKER, then waits for ever, or SECONDS and writes "done". Settings come
from the environment.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from marketplace.config import Settings
from marketplace.wiring import wire
from marketplace.worker import JOBS, Job, register_job, run_worker_until_signalled

HANGING_JOB = "hang_for_test"


def main(marker: Path, seconds: float | None) -> None:
    async def hang(_settings, _sessionmaker) -> None:
        await asyncio.to_thread(marker.write_text, "started")
        if seconds is None:
            await asyncio.Event().wait()
        await asyncio.sleep(seconds)
        await asyncio.to_thread(marker.write_text, "done")

    wire()
    JOBS.clear()
    register_job(Job(HANGING_JOB, 86400, hang))
    asyncio.run(run_worker_until_signalled(Settings()))


if __name__ == "__main__":
    main(Path(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else None)
