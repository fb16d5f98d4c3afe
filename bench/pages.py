"""Page speed as ratios (issue 19, point 6): how many pages a second the app gives — the anonymous
listing page, the search page, a signed-in listing page (each request a listing picked at random
among 100: first views, then pages kept for the session) and a signed-in member going back to the
five listings they compare (the pages kept for their session) — against a bare Litestar JSON endpoint served the same way on the
same machine in the same run.

    .venv/bin/python bench/pages.py                      # README.md gives a run's figures
    .venv/bin/python bench/pages.py --seconds 10 --users 16 --workers 2

1. The demo data on its own embedded services under .data/bench-pages (loaded once, kept between
   runs), search rebuilt from PostgreSQL.
2. `marketplace serve --workers W` (Granian) and the bare app (bench/bare_app.py) under Granian with the
   same number of processes.
3. Locust (bench/locust_pages.py), headless, U users that do not wait between requests, for S seconds
   per kind of page, one kind at a time; then the requests a second, p50/p95 and failures of each, and
   each page's rate as a share of the bare endpoint's.

Goal (issue 19): anonymous pages at ≥ 30% of the bare endpoint, signed-in pages at ≥ 10%. Locust runs
on the same two cores as the servers, so the absolute rates are lower than on a separate client; the
ratios are what compare.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import httpx
from bench_common import BIN, cpu_model, marketplace, run_locust, stop, wait_ready

from marketplace.config import PROJECT_ROOT
from marketplace.embedded.postgres import free_port

KINDS = [
    ("Bare", "bare Litestar JSON endpoint", None),
    ("ListingPage", "listing page, anonymous", 0.30),
    ("SearchPage", "search page, anonymous", 0.30),
    ("SignedInListingPage", "listing page, signed in", 0.10),
    ("SignedInRepeatedPage", "signed in, seen again", None),
]


def published_listings(base: str, count: int = 100) -> list[str]:
    """Ids of published listings (the API's largest page: 100), from its search (anonymous)."""
    answer = httpx.get(f"{base}/api/v1/search", params={"q": "", "page_size": 100}, timeout=30).json()
    ids = [hit["id"] for hit in answer.get("hits", [])]
    if not ids:
        raise RuntimeError(f"no published listing found: {answer}")
    return ids[:count]


SIGN_IN = (os.environ.get("BENCH_EMAIL", "bd@xinghe.example"), os.environ.get("BENCH_PASSWORD", "demo-pass-2026"))


def signed_in_sessions(base: str, count: int) -> list[str]:
    """The cookies a browser holds once the demo company member has signed in (the session's, and its
    CSRF token's, which the pages' forms carry), opened before the run; one `name=value; …` each."""
    tokens = []
    for _ in range(count):
        with httpx.Client(base_url=base, timeout=60) as client:
            page = client.get("/login").text
            token = re.search(r'name="_csrf_token" value="([^"]+)"', page)
            form = {"email": SIGN_IN[0], "password": SIGN_IN[1], "_csrf_token": token.group(1) if token else ""}
            client.post("/login", data=form)
            if "session" not in client.cookies:
                raise RuntimeError(f"could not sign in as {SIGN_IN[0]}")
            tokens.append(f"session={client.cookies['session']}; csrftoken={client.cookies['csrftoken']}")
    return tokens


def measure(kind: str, host: str, users: int, seconds: int, env: dict[str, str]) -> dict[str, float]:
    rows, failures, _exceptions = run_locust("locust_pages.py", [kind], host, users, seconds, env)
    rows = [row for row in rows if row["Name"] not in ("Aggregated", "/login")]
    if not rows:
        raise RuntimeError(f"{kind}: no page was measured; Locust's failures:\n{failures}")
    row = rows[0]
    return {
        "rps": float(row["Requests/s"]),
        "p50": float(row["50%"]),
        "p95": float(row["95%"]),
        "requests": float(row["Request Count"]),
        "failures": float(row["Failure Count"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=20, help="per kind of page (default 20)")
    parser.add_argument("--users", type=int, default=16, help="concurrent Locust users (default 16)")
    parser.add_argument("--workers", type=int, default=2, help="server processes, app and bare alike (default 2)")
    parser.add_argument("--data-dir", type=Path, default=PROJECT_ROOT / ".data" / "bench-pages")
    parser.add_argument(
        "--only", choices=[kind for kind, _label, _goal in KINDS[1:]], help="measure one kind of page (and the bare endpoint)"
    )
    args = parser.parse_args()

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MEILI_URL", "MEILI_MASTER_KEY")}
    env.update(DATA_DIR=str(args.data_dir), SECRET_KEY="bench-pages", LOG_FORMAT="json")
    print("Loading the demo data (first run only) and rebuilding search …", flush=True)
    marketplace("demo-data", env=env)
    marketplace("search", "reindex", env=env)

    app_port, bare_port = free_port(), free_port()
    app = subprocess.Popen(
        [str(BIN / "marketplace"), "serve", "--port", str(app_port), "--workers", str(args.workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    bare = subprocess.Popen(
        [
            str(BIN / "granian"), "--interface", "asgi", "--workers", str(args.workers), "--port", str(bare_port),
            "--no-log", "--working-dir", str(PROJECT_ROOT / "bench"), "bare_app:app",
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        app_url, bare_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{bare_port}"
        wait_ready(f"{app_url}/ready", app)
        wait_ready(f"{bare_url}/bare", bare)
        env["BENCH_LISTINGS"] = ",".join(published_listings(app_url))
        if args.only in (None, "SignedInListingPage", "SignedInRepeatedPage"):
            env["BENCH_SESSIONS"] = ",".join(signed_in_sessions(app_url, args.users))
        figures = {}
        kinds = [entry for entry in KINDS if args.only in (None, entry[0]) or entry[0] == "Bare"]
        for kind, _label, _goal in kinds:
            print(f"Measuring {kind} for {args.seconds} s …", flush=True)
            figures[kind] = measure(kind, bare_url if kind == "Bare" else app_url, args.users, args.seconds, env)
    finally:
        stop(app, bare)

    baseline = figures["Bare"]["rps"]
    print()
    print(f"Machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}, load average now "
          f"{' / '.join(f'{v:.2f}' for v in os.getloadavg())}")  # fmt: skip
    print(f"Conditions: {args.workers} Granian processes each, {args.users} Locust users without waits, {args.seconds} s per page, "
          "Locust on the same machine")  # fmt: skip
    print(f"{'page':<30}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'failed':>9}{'of bare':>9}{'goal':>7}")
    for kind, label, goal in kinds:
        f = figures[kind]
        share = f["rps"] / baseline if baseline else 0
        verdict = "" if goal is None else ("met" if share >= goal else f"≥{goal:.0%}")
        print(f"{label:<30}{f['rps']:>9.1f}{f['p50']:>9.0f}{f['p95']:>9.0f}{f['failures']:>9.0f}{share:>9.1%}{verdict:>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
