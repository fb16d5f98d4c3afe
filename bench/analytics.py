"""Analytics benchmark (issue 14, point 7): the platform dashboard for a year of 100,000 listings,
20,000 match requests, 5,000 agreements and 50,000 payments.

    .venv/bin/python bench/analytics.py                  # the full size, 30 runs (README.md gives a run's figures)
    .venv/bin/python bench/analytics.py --scale 0.05 --runs 5

In one run, on its own embedded PostgreSQL under a bench data folder (wiped first), or on the
empty database DATABASE_URL names:

1. migrates; through the services, for each of 4 institutions (two cities): a published result,
   a match request taken to agreed and one left waiting, an exclusive licence signed from the
   agreed one and its upfront fee received (so the ledger posts the income and its split);
2. clones those rows in bulk (bench/analytics_fill.py: INSERT … SELECT over generate_series, one statement per table and
   institution) to the sizes asked, each clone's days moved to a day of this year, with the
   request's audit trail (so stage times exist), the agreement's results and schedule, and each
   payment's ledger income, entry and postings. The clones copy rows the services made, so they
   hold every CHECK; the state-machine and balance triggers are off for the bulk copy only
   (session_replication_role = replica), as they would refuse a row born in its final state;
3. refreshes the reporting views (AnalyticsService.refresh) and VACUUM ANALYZEs (as autovacuum would);
4. times, --runs times after a warm-up, over the whole app (create_app, in process, bearer token
   of a platform admin, ?year=): each JSON figure of /api/v1/analytics and the dashboard's full
   set (the 8 calls in turn); every figure in one session, as the dashboard page computes them;
   GET /analytics when the page exists; and, in the same run, a bare Litestar endpoint and the
   app's GET /api/v1/me (a token check and a transaction) as baselines; p50/p95 (goal: the
   dashboard — the page, or until it exists its figures in one session — p95 < 300 ms);
5. prints the conditions and figures, and exits 0 (a missed goal is reported, not failed).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from analytics_fill import INSTITUTIONS, PASSWORD, Sizes, fill, make_templates
from bench_common import add_data_dir, cpu_model, percentile, phase, print_phases, run_on_database

GOAL_P95_MS = 300.0
ONE_SESSION = "dashboard: every figure in one session"
FIGURES = ("summary", "funnel", "match-rates", "times", "pay-later", "income", "beds", "deals")


@dataclass
class Report:
    sizes: Sizes
    runs: int
    started: datetime
    year: int = 0
    embedded: bool = True
    postgres: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, list[float]] = field(default_factory=dict)
    phases: list[tuple[str, float]] = field(default_factory=list)


# ----- 3. refresh, 4. measure -----------------------------------------------------------------------


async def refresh_and_analyze(sessionmaker) -> None:
    from sqlalchemy import text

    from marketplace.analytics.services import AnalyticsService

    async with sessionmaker() as session, session.begin():
        await AnalyticsService(session).refresh()
    async with sessionmaker() as session:
        connection = await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        # As autovacuum leaves a table that has settled: statistics, and the visibility map (index-only scans).
        await connection.execute(text("VACUUM ANALYZE"))


def bare_app():
    from litestar import Litestar, get

    @get("/ping", sync_to_thread=False)
    def ping() -> dict[str, str]:
        return {"status": "ok"}

    return Litestar(route_handlers=[ping])


async def timed(client, path: str, runs: int, *, params: dict | None = None, headers: dict | None = None) -> list[float]:
    answer = await client.get(path, params=params, headers=headers)  # warm-up
    assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    values = []
    for _ in range(runs):
        began = time.perf_counter()
        answer = await client.get(path, params=params, headers=headers)
        values.append((time.perf_counter() - began) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
    return values


async def measure(database_url: str, sessionmaker, token: str, runs: int, report: Report) -> None:
    """Over the whole app in process (its middleware, DI, token check and JSON), without its
    lifespan: the state it would set up is set here, and no search engine is needed."""
    import tempfile

    import httpx

    from marketplace.app import create_app
    from marketplace.config import Settings
    from marketplace.db import china_today, make_engine, make_sessionmaker

    settings = Settings(
        data_dir=Path(tempfile.gettempdir()),
        database_url=database_url,
        meili_url="http://127.0.0.1:1",
        meili_master_key="bench",
        secret_key="bench-secret",
        demo_data=False,
    )
    app = create_app(settings)
    engine = make_engine(database_url)
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    report.year = china_today().year
    params = {"year": str(report.year)}
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bare_app()), base_url="http://bare") as bare:
                report.timings["bare Litestar GET /ping"] = await timed(bare, "/ping", runs)
            for name in FIGURES:
                report.timings[f"/api/v1/analytics/{name}"] = await timed(
                    client, f"/api/v1/analytics/{name}", runs, params=params, headers=headers
                )
            whole = []
            for _ in range(runs):
                began = time.perf_counter()
                for name in FIGURES:
                    answer = await client.get(f"/api/v1/analytics/{name}", params=params, headers=headers)
                    assert answer.status_code == 200
                whole.append((time.perf_counter() - began) * 1000)
            report.timings["8 API calls in turn (all figures)"] = whole
            report.timings["authenticated baseline GET /api/v1/me"] = await timed(client, "/api/v1/me", runs, headers=headers)
            report.timings[ONE_SESSION] = await one_session(app.state.sessionmaker, runs, report.year)
            if any(getattr(route, "path", "") == "/analytics" for route in app.routes):
                await sign_in(client)
                report.timings["GET /analytics (the page)"] = await timed(client, "/analytics", runs, params=params)
    finally:
        await engine.dispose()


async def one_session(sessionmaker, runs: int, year: int) -> list[float]:
    """Every figure of the platform dashboard in one session, as the dashboard page computes them
    (the page adds its template; the 8 API calls above add 8 token checks and transactions)."""
    from marketplace.accounts.services import AccountService
    from marketplace.analytics.schemas import DashboardQuery
    from marketplace.analytics.services import AnalyticsService

    async def all_figures() -> None:
        async with sessionmaker() as session:
            accounts = AccountService(session)
            admin = await accounts.principal_for_user((await accounts.user_by_email("admin@bench.example")).id)
            analytics = AnalyticsService(session)
            figures = analytics.figures(analytics.scope(admin, DashboardQuery(year=year)))
            await analytics.summary(figures)
            await figures.funnel()
            await figures.match_rates()
            await figures.times()
            await figures.pay_later()
            await analytics.income(figures)
            await analytics.beds(figures)
            await analytics.deals(figures)

    await all_figures()  # warm-up
    values = []
    for _ in range(runs):
        began = time.perf_counter()
        await all_figures()
        values.append((time.perf_counter() - began) * 1000)
    return values


async def sign_in(client) -> None:
    """The platform admin's page session: the login form with its CSRF token."""
    form = await client.get("/login")
    csrf = client.cookies.get("csrftoken") or ""
    answer = await client.post(
        "/login", data={"email": "admin@bench.example", "password": PASSWORD, "_csrf_token": csrf}, headers={"x-csrftoken": csrf}
    )
    assert answer.status_code in (302, 303), (form.status_code, answer.status_code, answer.text[:200])


async def run(database_url: str, *, sizes: Sizes, runs: int, report: Report) -> Report:
    """Everything but starting PostgreSQL and migrating: the smoke test runs this on its own database."""
    from sqlalchemy import func, select

    from marketplace.db import make_engine, make_sessionmaker

    engine = make_engine(database_url)
    sessionmaker = make_sessionmaker(engine)
    try:
        with phase(report.phases, "seed templates (services)"):
            templates, token = await make_templates(sessionmaker)
        with phase(report.phases, "bulk copy (INSERT … SELECT)"):
            await fill(sessionmaker, templates, sizes, report.counts)
        with phase(report.phases, "refresh views + VACUUM ANALYZE"):
            await refresh_and_analyze(sessionmaker)
        with phase(report.phases, "measured requests"):
            await measure(database_url, sessionmaker, token, runs, report)
        async with sessionmaker() as session:
            report.postgres = str(await session.scalar(select(func.current_setting("server_version"))))
    finally:
        await engine.dispose()
    return report


def print_report(report: Report) -> None:
    line = "-" * 92
    sizes = report.sizes
    print(line)
    print(f"Analytics benchmark, {report.started:%Y-%m-%d %H:%M} UTC   ({' '.join(sys.argv)})")
    print(line)
    print("Conditions")
    print(
        f"  data             {report.year}: {sizes.listings:,} listings, {sizes.requests:,} match requests "
        f"({sizes.agreements:,} agreed), {sizes.agreements:,} agreements, {sizes.payments:,} payments over {len(INSTITUTIONS)} institutions"
    )
    print("  rows made        " + ", ".join(f"{name} {count:,}" for name, count in report.counts.items()))
    print(f"  machine          {os.cpu_count()} cores ({cpu_model()}), shared with other work")
    print(
        f"  software         Python {platform.python_version()}, PostgreSQL {report.postgres} "
        f"({'embedded, default settings' if report.embedded else 'DATABASE_URL'}), Litestar {version('litestar')}, "
        f"SQLAlchemy {version('sqlalchemy')}, asyncpg {version('asyncpg')}"
    )
    print(
        f"  method           the whole app in process (httpx ASGI transport), platform admin's token, ?year={report.year}; "
        f"{report.runs} runs after a warm-up, nearest-rank percentiles"
    )
    print()
    print_phases(report.phases, 44)
    print()
    bare = statistics.median(report.timings.get("bare Litestar GET /ping", [1.0]))
    print(f"  {'':<42}{'p50':>10}{'p95':>10}{'mean':>10}{'max':>10}{'p50/bare':>10}")
    for name, values in report.timings.items():
        cells = [percentile(values, 50), percentile(values, 95), statistics.fmean(values), max(values)]
        print(f"  {name:<42}" + "".join(f"{c:>7.1f} ms" for c in cells) + f"{percentile(values, 50) / bare:>9.0f}x")
    print()
    print("Goals")
    for name in (ONE_SESSION, "GET /analytics (the page)"):
        if name in report.timings:
            p95 = percentile(report.timings[name], 95)
            print(f"  {name}: p95 < {GOAL_P95_MS:g} ms   {'met' if p95 < GOAL_P95_MS else 'MISSED'} ({p95:.1f} ms)")
    print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="of the issue's sizes (default 1: 100,000 listings …)")
    parser.add_argument("--runs", type=int, default=30, help="measured runs of each request (default 30)")
    add_data_dir(parser, "bench-analytics")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request otherwise
    sizes = Sizes().scaled(args.scale)
    report = Report(sizes=sizes, runs=args.runs, started=datetime.now(UTC))
    print(f"bench: {sizes}", file=sys.stderr, flush=True)
    report.embedded = run_on_database(
        args.data_dir, "bench_analytics", lambda url: run(url, sizes=sizes, runs=args.runs, report=report)
    )
    print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
