"""What the database benchmarks (bench/ledger.py, bench/beds.py, bench/analytics.py) share:
nearest-rank percentiles, the machine's CPU, timing a phase, and running a benchmark on DATABASE_URL
or on its own embedded PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import shutil
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@contextmanager
def phase(phases: list[tuple[str, float]], name: str) -> Iterator[None]:
    """Appends (name, seconds) to `phases` once the block has run (not when it fails)."""
    began = time.perf_counter()
    yield
    phases.append((name, time.perf_counter() - began))


def print_phases(phases: list[tuple[str, float]], name_width: int, time_width: int = 10, digits: int = 2) -> None:
    """The report's phase table, headed by the load average (other work on the machine skews it)."""
    print(f"{'Phase':<{name_width}}{'time':>{time_width}}   load average now {' / '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for name, seconds in phases:
        print(f"  {name:<{name_width - 2}}{seconds:>{time_width - 2}.{digits}f} s")


def add_data_dir(parser: argparse.ArgumentParser, folder: str) -> None:
    """--data-dir: the embedded PostgreSQL's folder under .data/ (unused with DATABASE_URL)."""
    from marketplace.config import PROJECT_ROOT

    parser.add_argument(
        "--data-dir",
        type=Path,
        default=PROJECT_ROOT / ".data" / folder,
        help=f"bench data folder, wiped first (default .data/{folder}); unused with DATABASE_URL",
    )


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
