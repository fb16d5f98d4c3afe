"""The load test (issue 19, point 7): visitors, companies and TTOs together (bench/locust_mixed.py)
against the two ways of running the app on this machine, stepping the number of users up to the
highest load that meets the goal.

    .venv/bin/python bench/load.py                                  # README.md gives a run's figures
    .venv/bin/python bench/load.py --steps 5,10 --seconds 15 --warmup 5 --only run   # a quick look

1. PostgreSQL and Meilisearch, embedded, under .data/bench-load (wiped first); the demo data loaded
   and search rebuilt. Both commands run on these same services, one after the other.
2. (a) `marketplace run` — what `make run` starts: one uvicorn process with the jobs inside it;
   (b) `marketplace serve --workers W` (Granian) and `marketplace worker` as its own process — the
   production shape.
3. For each, Locust (headless, on the same machine) with U users, U stepping up: each step signs its
   users in, leaves the first `--warmup` seconds out, then counts `--seconds`; before each step the
   jobs catch up (search outbox, vectors). Past the goal the steps go on while they add throughput
   without errors (the capacity), and stop at the first with errors or no gain.
4. Each step's rate, error rate and percentiles, the share of searches given a kept answer and the
   notifications that dropped kept pages (the app's /metrics); per route (requests a second, p50/p95/p99, failures)
   the highest step that met the goal and the one with the most requests a second without errors;
   then the two commands side by side.

Goal (issue 19): no errors; p95 under 100 ms for pages (every request but searches and the sign-in,
a slow password hash on purpose) and under 50 ms for search (`/search`, the search API). The writes
(saved searches, match requests, messages, listing edits, payments) stay in the data, so (b) runs on
the data (a) left: a few hundred more rows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench_common import BIN, cpu_model, marketplace, percentile, run_locust, stop, wait_ready

from marketplace.config import PROJECT_ROOT
from marketplace.embedded.postgres import free_port

PAGE_GOAL_MS, SEARCH_GOAL_MS = 100, 50


def ms(value: str) -> float:
    """A figure of Locust's CSV ("N/A" for a route with no request counted)."""
    try:
        return float(value)
    except ValueError:
        return float("nan")


@dataclass
class Step:
    users: int
    rows: list[dict[str, str]]
    failures: str
    exceptions: str  # Locust's exceptions CSV: a task that raised is a broken load test
    times: dict[str, list[float]]  # bench/locust_mixed.py's groups: "search", "pages"
    load: tuple[float, float, float]
    counted: dict[str, float]  # what the app's /metrics counted during the step, warm-up included

    @property
    def kept_answers(self) -> float:
        """The share of multi-searches given a kept answer, current or stale (SEARCH_STALE_SECONDS)."""
        kept = self.counted.get("kept", 0.0) + self.counted.get("stale", 0.0)
        asked = self.counted.get("meilisearch", 0.0)
        return kept / (kept + asked) if kept + asked else float("nan")

    @property
    def total(self) -> dict[str, str]:
        return next(row for row in self.rows if row["Name"] == "Aggregated")

    @property
    def routes(self) -> list[dict[str, str]]:
        return [row for row in self.rows if row["Name"] != "Aggregated" and int(row["Request Count"])]

    @property
    def rate(self) -> float:
        return ms(self.total["Requests/s"])

    @property
    def error_rate(self) -> float:
        requests = int(self.total["Request Count"])
        return int(self.total["Failure Count"]) / requests if requests else 1.0

    @property
    def broken(self) -> bool:
        """Failed requests, or tasks that raised."""
        return bool(self.error_rate) or self.exceptions.count("\n") > 1

    def p(self, group: str, rank: float) -> float:
        times = self.times.get(group) or []
        return percentile(times, rank) if times else float("nan")

    def misses(self) -> list[str]:
        """What keeps this step from the goal, each said in a few words (none: met)."""
        out = [f"{self.total['Failure Count']} errors"] if self.error_rate else []
        if self.exceptions.count("\n") > 1:
            out.append(f"tasks raised: {self.exceptions.strip().splitlines()[1][:300]}")
        for group, goal in (("pages", PAGE_GOAL_MS), ("search", SEARCH_GOAL_MS)):
            if not self.p(group, 95) <= goal:
                out.append(f"{group} p95 {self.p(group, 95):.0f} ms > {goal}")
        return out


def counters(host: str) -> dict[str, float]:
    """The app's counters behind the kept answers: multi-searches by source, drops by reach."""
    from urllib.request import urlopen

    from prometheus_client.parser import text_string_to_metric_families

    with urlopen(f"{host}/metrics", timeout=10) as response:
        text = response.read().decode()
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "marketplace_search_answers_total":
                out[sample.labels["source"]] = out.get(sample.labels["source"], 0.0) + sample.value
            elif sample.name == "marketplace_page_cache_drops_total":
                key = f"drops: {sample.labels['reach']}"
                out[key] = out.get(key, 0.0) + sample.value
    return out


def start_services(data_dir: Path, stack: ExitStack) -> dict[str, str]:
    """Embedded PostgreSQL and Meilisearch under `data_dir` (wiped), stopped when `stack` closes;
    the demo data loaded and search rebuilt. Answers the environment every command gets."""
    from marketplace.cli import DATABASE_NAME
    from marketplace.db import ensure_database
    from marketplace.embedded import EmbeddedMeilisearch, EmbeddedPostgres

    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    postgres = stack.enter_context(EmbeddedPostgres(data_dir))
    meili = stack.enter_context(EmbeddedMeilisearch(data_dir))
    env = {k: v for k, v in os.environ.items() if k not in ("WEB_WORKERS", "RUN_WORKER_IN_APP", "DEMO_DATA")}
    env.update(
        DATA_DIR=str(data_dir),
        DATABASE_URL=asyncio.run(ensure_database(postgres.url(), DATABASE_NAME)),
        MEILI_URL=meili.url,
        MEILI_MASTER_KEY=meili.master_key(),
        SECRET_KEY="bench-load",
        LOG_FORMAT="json",
    )
    print("Loading the demo data and building search …", flush=True)
    marketplace("demo-data", env=env)
    marketplace("search", "reindex", env=env)
    return env


def settle(database_url: str, timeout: float = 900) -> None:
    """Until the jobs have caught up: no listing waiting for Meilisearch or for its vector (the first
    start embeds the whole demo catalogue; a step's edits are embedded after it)."""
    from sqlalchemy import text

    from marketplace.db import make_engine

    async def backlog() -> int:
        engine = make_engine(database_url)
        try:
            async with engine.connect() as connection:
                return await connection.scalar(
                    text(
                        "SELECT (SELECT count(*) FROM outbox WHERE processed_at IS NULL)"
                        " + (SELECT count(*) FROM search_embeddings WHERE vector_hash IS DISTINCT FROM text_hash)"
                    )
                )
        finally:
            await engine.dispose()

    deadline = time.monotonic() + timeout
    while (left := asyncio.run(backlog())) and time.monotonic() < deadline:
        print(f"  waiting for the jobs: {left} listings to index or embed …", flush=True)
        time.sleep(10)


def measure_command(
    label: str, commands: list[list[str]], env: dict[str, str], args: argparse.Namespace
) -> tuple[list[Step], tuple[float, float, float]]:
    """Starts the command's processes (the first serves), steps the users up, stops them."""
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    # Each process's log (JSON lines, a line per request and per error) beside the data, to read
    # when a step has errors.
    logs = [(Path(env["DATA_DIR"]) / f"{'-'.join(command)}.log").open("ab") for command in commands]
    processes = [
        subprocess.Popen(
            [str(BIN / "marketplace"), *command, *(["--port", str(port)] if i == 0 else [])],
            env=env,
            stdout=log,
            stderr=log,
        )
        for i, (command, log) in enumerate(zip(commands, logs, strict=True))
    ]
    steps: list[Step] = []
    before = os.getloadavg()
    try:
        wait_ready(f"{host}/ready", processes[0])
        locust_env = {**env, "BENCH_WARMUP": str(args.warmup)}
        for users in args.steps:
            settle(env["DATABASE_URL"])
            print(f"{label}: {users} users for {args.warmup} + {args.seconds} s …", flush=True)
            counted_before = counters(host)
            with tempfile.TemporaryDirectory() as folder:
                times = Path(folder) / "times.json"
                locust_env["BENCH_TIMES"] = str(times)
                rows, failures, exceptions = run_locust(
                    "locust_mixed.py", [], host, users, args.warmup + args.seconds, locust_env
                )
                timings = json.loads(times.read_text()) if times.exists() else {}
                counted = {name: value - counted_before.get(name, 0.0) for name, value in counters(host).items()}
                step = Step(users, rows, failures, exceptions, timings, os.getloadavg(), counted)
            steps.append(step)
            if misses := step.misses():
                print(f"  misses the goal: {'; '.join(misses)}", flush=True)
            # Past the goal the steps go on while they add throughput without errors: the capacity.
            if step.broken or (len(steps) > 1 and step.rate < 1.1 * steps[-2].rate):
                break
    finally:
        stop(*processes)
        for log in logs:
            log.close()
    return steps, before


def best(steps: list[Step]) -> Step | None:
    """The highest step that met the goal, below any that missed it."""
    met = None
    for step in steps:
        if step.misses():
            return met
        met = step
    return met


def capacity(steps: list[Step]) -> Step | None:
    """The step with the highest throughput and no errors, goal met or not."""
    clean = [step for step in steps if not step.broken]
    return max(clean, key=lambda step: step.rate) if clean else None


def print_command(label: str, steps: list[Step], before: tuple[float, float, float]) -> None:
    print(f"\n== {label}  (load average before {' / '.join(f'{v:.2f}' for v in before)})")
    print(f"{'':>24}{'pages, ms':>15}{'search, ms':>15}")
    print(f"{'users':>6}{'req/s':>9}{'errors':>9}{'p50':>7}{'p95':>8}{'p50':>7}{'p95':>8}{'kept':>7}{'load 1m':>9}   goal")
    for step in steps:
        misses = step.misses()
        print(
            f"{step.users:>6}{step.rate:>9.1f}{step.error_rate:>9.2%}{step.p('pages', 50):>7.0f}{step.p('pages', 95):>8.0f}"
            f"{step.p('search', 50):>7.0f}{step.p('search', 95):>8.0f}{step.kept_answers:>7.0%}{step.load[0]:>9.2f}   "
            f"{'met' if not misses else 'missed: ' + '; '.join(misses)}"
        )
    for step in steps:
        drops = ", ".join(f"{name[7:]} {value:.0f}" for name, value in sorted(step.counted.items()) if name.startswith("drops: "))
        print(f"  {step.users} users: kept pages and answers dropped (per process that heard it): {drops or 'never'}")
    met, most = best(steps), capacity(steps)
    if met is not None:
        print_routes(f"at {met.users} users, the highest step that met the goal", met)
    elif steps and steps[0] is not most and not (steps[0] is steps[-1] and steps[-1].broken):
        print_routes(f"at {steps[0].users} users, the lightest step (none met the goal)", steps[0])
    if most is not None and most is not met:
        print_routes(f"at {most.users} users, the most requests a second without errors", most)
    if steps and steps[-1].broken:
        print_routes(f"at {steps[-1].users} users, with errors (the servers' logs: DATA_DIR/*.log)", steps[-1])


def print_routes(title: str, step: Step) -> None:
    print(f"\nPer route {title} (ms):")
    print(f"  {'route':<44}{'req/s':>8}{'p50':>7}{'p95':>7}{'p99':>7}{'count':>8}{'failed':>8}")
    for row in sorted(step.routes, key=lambda r: -ms(r["Requests/s"])):
        route = f"{row['Type']} {row['Name']}"
        print(
            f"  {route:<44}{ms(row['Requests/s']):>8.2f}{ms(row['50%']):>7.0f}{ms(row['95%']):>7.0f}"
            f"{ms(row['99%']):>7.0f}{int(row['Request Count']):>8}{int(row['Failure Count']):>8}"
        )
    if step.failures.count("\n") > 1:
        print("  Failures:\n    " + "\n    ".join(step.failures.strip().splitlines()[:10]))


def summary(label: str, steps: list[Step]) -> str:
    met, most = best(steps), capacity(steps)
    said = [f"goal met up to {met.users} users: {met.rate:.1f} req/s, p95 pages {met.p('pages', 95):.0f} ms, "
            f"search {met.p('search', 95):.0f} ms" if met else
            f"goal not met at {steps[0].users} users: {'; '.join(steps[0].misses())}" if steps else "not measured"]  # fmt: skip
    if most is not None:
        said.append(f"most without errors: {most.rate:.1f} req/s at {most.users} users (p95 pages "
                    f"{most.p('pages', 95):.0f} ms, search {most.p('search', 95):.0f} ms): "
                    f"{'goal met' if not most.misses() else 'goal missed'}")  # fmt: skip
    if steps and steps[-1].error_rate:
        said.append(f"errors {steps[-1].error_rate:.2%} at {steps[-1].users} users")
    return f"  {label}:\n    " + "\n    ".join(said)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", default="5,10,20,40,80,160,320", help="users at each step (default 5,10,20,40,80,160,320)")
    parser.add_argument("--seconds", type=int, default=60, help="counted per step (default 60)")
    parser.add_argument("--warmup", type=int, default=15, help="left out at the start of each step (default 15)")
    parser.add_argument("--workers", type=int, default=2, help="Granian processes of `marketplace serve` (default 2)")
    parser.add_argument("--only", choices=["run", "serve"], help="measure one command")
    parser.add_argument("--data-dir", type=Path, default=PROJECT_ROOT / ".data" / "bench-load")
    args = parser.parse_args()
    args.steps = [int(users) for users in args.steps.split(",")]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # unwinds: the servers and services stop

    commands = {
        "run": ("`marketplace run` (make run: one process, jobs inside)", [["run"]]),
        "serve": (
            f"`marketplace serve --workers {args.workers}` + `marketplace worker`",
            [["serve", "--workers", str(args.workers)], ["worker"]],
        ),
    }
    results = {}
    with ExitStack() as stack:
        env = start_services(args.data_dir.resolve(), stack)
        for key, (label, command) in commands.items():
            if args.only in (None, key):
                results[key] = (label, *measure_command(label, command, env, args))

    print(f"\nMachine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}; Locust on the same machine")
    print(f"Conditions: steps of {args.steps} users, {args.warmup} s warm-up + {args.seconds} s counted each, "
          f"think times 1–6 s, serve with {args.workers} Granian processes; goal: no errors, p95 ≤ {PAGE_GOAL_MS} ms pages, ≤ {SEARCH_GOAL_MS} ms search")  # fmt: skip
    for label, steps, before in results.values():
        print_command(label, steps, before)
    print("\nSummary:")
    for label, steps, _before in results.values():
        print(summary(label, steps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
