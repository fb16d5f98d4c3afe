"""What the benchmarks share. The database ones (bench/ledger.py, bench/beds.py, bench/analytics.py):
nearest-rank percentiles, the machine's CPU, timing a phase, and running a benchmark on DATABASE_URL
or on its own embedded PostgreSQL. The HTTP ones (bench/pages.py, bench/load.py): running a
`marketplace` command, waiting for a server to answer, stopping it, and a headless Locust run read
from its CSV."""

from __future__ import annotations

import argparse
import asyncio
import csv
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


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


def marketplace(*args: str, env: dict[str, str]) -> None:
    """Runs a `marketplace` command to its end, quietly; a failure raises."""
    subprocess.run([str(BIN / "marketplace"), *args], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 180) -> None:
    """Until `url` answers 200; raises when the server exits first or takes longer than `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


def stop(*processes: subprocess.Popen) -> None:
    """SIGTERM to each (they finish their requests and stop their services), then wait, killing a
    process that takes over a minute."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()


def run_locust(
    locustfile: str, classes: list[str], host: str, users: int, seconds: int, env: dict[str, str]
) -> tuple[list[dict[str, str]], str, str]:
    """A headless Locust run of bench/<locustfile>: `users` started at once, for `seconds`. Answers
    the rows of its statistics CSV (one per request type and name, then "Aggregated"), and the text
    of its failures CSV and of its exceptions CSV (tasks that raised: not failed requests, but a
    broken test)."""
    from marketplace.config import PROJECT_ROOT

    with tempfile.TemporaryDirectory() as folder:
        prefix = Path(folder) / "stats"
        subprocess.run(
            [
                str(BIN / "locust"), "-f", str(PROJECT_ROOT / "bench" / locustfile), *classes, "--headless",
                "--host", host, "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--csv", str(prefix),
                "--only-summary", "--loglevel", "ERROR",
            ],
            env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        with Path(f"{prefix}_stats.csv").open() as handle:
            rows = list(csv.DictReader(handle))
        failures, exceptions = Path(f"{prefix}_failures.csv"), Path(f"{prefix}_exceptions.csv")
        return rows, *(file.read_text() if file.exists() else "" for file in (failures, exceptions))
