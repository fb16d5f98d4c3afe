"""A `marketplace worker` whose only job hangs (tests/app/test_job_queue.py kills it mid-job).

    python -m tests.support.hanging_worker MARKER

The job writes MARKER when it starts, then waits for ever. Settings come from the environment.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from marketplace.config import Settings
from marketplace.wiring import wire
from marketplace.worker import JOBS, Job, register_job, run_worker_until_signalled

HANGING_JOB = "hang_for_test"


def main(marker: Path) -> None:
    async def hang(_settings, _sessionmaker) -> None:
        await asyncio.to_thread(marker.write_text, "started")
        await asyncio.Event().wait()

    wire()
    JOBS.clear()
    register_job(Job(HANGING_JOB, 86400, hang))
    asyncio.run(run_worker_until_signalled(Settings()))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
