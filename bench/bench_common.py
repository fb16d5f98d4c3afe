"""What the database benchmarks (bench/ledger.py, bench/beds.py) share: nearest-rank percentiles,
the machine's CPU, and running a benchmark on DATABASE_URL or on its own embedded PostgreSQL."""

from __future__ import annotations

import asyncio
import math
import os
import platform
import shutil
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def run_on_database(data_dir: Path, database: str, run: Callable[[str], Awaitable[None]]) -> bool:
    """Migrate and run on the empty database DATABASE_URL names, or on a fresh embedded PostgreSQL
    under `data_dir` (wiped first). Answers whether it was the embedded one."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    from marketplace.accounts.passwords import use_password_profile
    from marketplace.db import ensure_database, run_migrations
    from marketplace.embedded import EmbeddedPostgres

    use_password_profile("CHEAPEST")  # a benchmark's few logins are not what it measures
    if url := os.environ.get("DATABASE_URL"):
        run_migrations(url)
        asyncio.run(run(url))
        return False
    data_dir = data_dir.resolve()
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    with EmbeddedPostgres(data_dir) as postgres:
        url = asyncio.run(ensure_database(postgres.url(), database))
        run_migrations(url)
        asyncio.run(run(url))
    return True
