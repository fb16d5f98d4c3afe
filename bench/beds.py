"""Beds benchmark (issue 13, point 11): how fast a busy ward's year of days is read, and whether 50
concurrent approvals hold up at the database.

    .venv/bin/python bench/beds.py                 # 2,000 allocations, 100 runs (README.md gives a run's figures)
    .venv/bin/python bench/beds.py --n 200 --runs 10

In one run, on its own embedded PostgreSQL under a bench data folder (wiped first), or on the
empty database DATABASE_URL names:

1. migrates; creates a platform, an institution and a company (accounts service) and a research
   ward listing (catalogue service) with one ward;
2. inserts N allocations over the next year (1–30 days, 1–4 beds each) as rows, then approves them
   one by one through the capacity trigger (an UPDATE each, in a savepoint): those that would take a
   day past the ward's beds stay requested, as they would on the real calendar;
3. ANALYZE, then times, --runs times after a warm-up, (a) the ward's calendar — for each of the
   next 12 months' days the beds, the beds approved and the beds requested, through the calendar
   page's own query (BedsService.ward_days, marketplace/beds/calendar.py) — and (b) the listing's
   free-bed availability for search (marketplace/beds/availability.py); p50/p95 (goal: p95 <
   100 ms for the calendar);
4. 50 companies' requests for the same 1 bed and dates on a fresh ward of --concurrent-beds beds,
   inserted concurrently, then approved concurrently, each in its own session and transaction: the
   approvals that fit succeed, the rest fail the trigger's CHECK (held_within_capacity, a 409 to the
   API); anything else is an error (goal: 0), and no day may be over capacity;
5. prints the conditions and figures, and exits 0 (a missed goal is reported, not failed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version

from bench_common import add_data_dir, cpu_model, percentile, phase, print_phases, run_on_database

GOAL_CALENDAR_P95_MS = 100.0
WARD_BEDS = 60
CONCURRENT = 50
RESOURCE = {
    "kind": "resource",
    "type": "research_ward",
    "title_zh": "基准肿瘤研究型病房",
    "summary_zh": "研究型床位，承接Ⅰ期及生物等效性试验。",
    "therapeutic_areas": ["oncology"],
    "contact_email": "ward@bench.example",
    "details": {"beds": WARD_BEDS, "specialties": ["肿瘤"]},
    "engagement_modes": ["clinical_trial"],
    "pricing_model": "per_patient",
    "availability": "available",
}


@dataclass
class Report:
    n: int
    runs: int
    seed: int
    concurrent_beds: int
    started: datetime
    embedded: bool = True
    postgres: str = ""
    approved: int = 0
    requested: int = 0
    calendar_ms: list[float] = field(default_factory=list)
    availability_ms: list[float] = field(default_factory=list)
    phases: list[tuple[str, float]] = field(default_factory=list)
    request_seconds: float = 0.0
    requests_made: int = 0
    approve_seconds: float = 0.0
    successes: int = 0
    conflicts: int = 0
    errors: list[str] = field(default_factory=list)
    over_capacity_days: int = 0


@dataclass
class World:
    institution_id: uuid.UUID
    company_id: uuid.UUID
    listing_id: uuid.UUID
    ward_id: uuid.UUID


async def build_world(sessionmaker, beds: int, name: str = "一病区") -> World:
    import msgspec

    from marketplace.accounts.organizations import OrganizationInput, credit_code_check_character
    from marketplace.accounts.services import AccountService
    from marketplace.beds.models import Ward
    from marketplace.catalog.schemas import ListingCreate
    from marketplace.catalog.services import CatalogService
    from marketplace.db import china_today

    async with sessionmaker() as session, session.begin():
        accounts = AccountService(session)
        membership = await accounts.bootstrap_platform(
            OrganizationInput(kind="platform", name_zh="病床基准平台", city="上海"),
            email="admin@bench.example",
            name="平台管理员",
            password="bench-pass-2026",
        )
        admin = await accounts.principal_for_user(membership.user_id)
        institution = await accounts.create_organization(
            admin,
            OrganizationInput(
                kind="institution",
                name_zh="申城基准医院",
                city="上海",
                grade="3A",
                approved_beds=2000,
                research_beds=200,
                pi_concurrent_trial_threshold=5,
            ),
        )
        first17 = "91310000MA1FL0001"
        code = first17 + credit_code_check_character(first17)
        company = await accounts.create_organization(
            admin, OrganizationInput(kind="company", name_zh="基准药业", city="上海", credit_code=code, segment="pharma")
        )
        listing = await CatalogService(session).add_existing(
            institution.id, msgspec.convert(RESOURCE, ListingCreate), status="published", published_at=datetime.now(UTC)
        )
        ward = Ward(
            listing_id=listing.id,
            institution_id=institution.id,
            name=name,
            specialty="肿瘤",
            beds=beds,
            opens_on=china_today() - timedelta(days=30),
        )
        session.add(ward)
        await session.flush()
        return World(institution.id, company.id, listing.id, ward.id)


def allocation_rows(world: World, ward_id: uuid.UUID, n: int, start: date, seed_value: int, *, same=None) -> list[dict]:
    """N requested allocations over the year from `start` (or all `same` = (beds, first, last))."""
    rng = random.Random(seed_value)
    rows = []
    for i in range(n):
        if same:
            beds, first, last = same
        else:
            first = start + timedelta(days=rng.randrange(365))
            last = min(first + timedelta(days=rng.randint(0, 29)), start + timedelta(days=364))
            beds = rng.randint(1, 4)
        rows.append(
            {
                "id": uuid.uuid4(),
                "ward_id": ward_id,
                "institution_id": world.institution_id,
                "company_id": world.company_id,
                "state": "requested",
                "beds": beds,
                "starts_on": first,
                "ends_on": last,
                "trial_title": f"基准试验 {i}",
                "phase": "I",
                "sponsor": "基准药业",
                "pi_name": "张晓华",
                "fee_fen": 100_000,
            }
        )
    return rows


async def fill_year(sessionmaker, world: World, n: int, seed_value: int, report: Report) -> date:
    from sqlalchemy import insert, text
    from sqlalchemy.exc import IntegrityError

    from marketplace.beds.models import BedAllocation
    from marketplace.db import china_today

    start = china_today()
    rows = allocation_rows(world, world.ward_id, n, start, seed_value)
    async with sessionmaker() as session, session.begin():
        await session.execute(insert(BedAllocation), rows)
    approve = text("UPDATE bed_allocations SET state = 'approved' WHERE id = :id")
    async with sessionmaker() as session, session.begin():
        for row in rows:
            try:
                async with session.begin_nested():
                    await session.execute(approve, {"id": row["id"]})
                report.approved += 1
            except IntegrityError as error:
                if "held_within_capacity" not in str(error):
                    raise
                report.requested += 1
    return start


async def analyze(sessionmaker) -> None:
    from sqlalchemy import text

    async with sessionmaker() as session:
        connection = await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        await connection.execute(text("analyze"))


async def measure_reads(sessionmaker, world: World, start: date, runs: int, report: Report) -> None:
    from marketplace.beds.availability import listing_availability
    from marketplace.beds.models import Ward
    from marketplace.beds.services import BedsService

    async with sessionmaker() as session:
        beds = BedsService(session)
        ward = await session.get(Ward, world.ward_id)
        assert ward is not None
        days = await beds.ward_days(ward, first=start)  # the calendar page's own query (calendar.py)
        assert len(days) >= 365, len(days)
        await listing_availability(session, world.listing_id, start)  # warm-up
        for _ in range(runs):
            began = time.perf_counter()
            await beds.ward_days(ward, first=start)
            report.calendar_ms.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            await listing_availability(session, world.listing_id, start)
            report.availability_ms.append((time.perf_counter() - began) * 1000)


async def concurrent_approvals(sessionmaker, world: World, beds: int, report: Report) -> None:
    """50 requests, then 50 approvals, each in its own session, all at once."""
    from sqlalchemy import func, insert, select, text
    from sqlalchemy.exc import DBAPIError, IntegrityError

    from marketplace.beds.models import BedAllocation, Ward, WardDayUsage
    from marketplace.db import china_today

    first = china_today() + timedelta(days=400)  # past the year the other ward's allocations fill
    async with sessionmaker() as session, session.begin():
        ward = Ward(
            listing_id=world.listing_id,
            institution_id=world.institution_id,
            name="并发病区",
            specialty="肿瘤",
            beds=beds,
            opens_on=first,
        )
        session.add(ward)
        await session.flush()
        ward_id = ward.id
    rows = allocation_rows(world, ward_id, CONCURRENT, first, 0, same=(1, first, first + timedelta(days=13)))

    async def request(row: dict) -> None:
        async with sessionmaker() as session, session.begin():
            await session.execute(insert(BedAllocation), [row])

    began = time.perf_counter()
    outcomes = await asyncio.gather(*(request(row) for row in rows), return_exceptions=True)
    report.request_seconds = time.perf_counter() - began
    report.requests_made = sum(1 for outcome in outcomes if outcome is None)
    report.errors += [f"request: {outcome!r}"[:200] for outcome in outcomes if outcome is not None]

    approve = text("UPDATE bed_allocations SET state = 'approved' WHERE id = :id AND state = 'requested'")

    async def approval(row: dict) -> str:
        try:
            async with sessionmaker() as session, session.begin():
                await session.execute(approve, {"id": row["id"]})
            return "ok"
        except IntegrityError as error:
            return "conflict" if "held_within_capacity" in str(error) else f"error: {error!r}"[:200]
        except DBAPIError as error:
            return f"error: {error!r}"[:200]

    began = time.perf_counter()
    results = await asyncio.gather(*(approval(row) for row in rows))
    report.approve_seconds = time.perf_counter() - began
    report.successes = results.count("ok")
    report.conflicts = results.count("conflict")
    report.errors += [r for r in results if r not in ("ok", "conflict")]
    async with sessionmaker() as session:
        report.over_capacity_days = int(
            await session.scalar(
                select(func.count()).where(WardDayUsage.ward_id == ward_id, WardDayUsage.held > WardDayUsage.capacity)
            )
            or 0
        )
        held = await session.scalar(select(func.max(WardDayUsage.held)).where(WardDayUsage.ward_id == ward_id))
        assert held == report.successes, (held, report.successes)


async def run(database_url: str, *, n: int, runs: int, seed_value: int, concurrent_beds: int, report: Report) -> Report:
    """Everything but starting PostgreSQL and migrating: the smoke test runs this on its own database."""
    from sqlalchemy import func, select

    from marketplace.db import make_engine, make_sessionmaker

    engine = make_engine(database_url, pool_size=CONCURRENT + 5, max_overflow=0)
    sessionmaker = make_sessionmaker(engine)
    try:
        with phase(report.phases, "seed (services)"):
            world = await build_world(sessionmaker, WARD_BEDS)
        with phase(report.phases, "insert + approve one by one"):
            start = await fill_year(sessionmaker, world, n, seed_value, report)
        with phase(report.phases, "ANALYZE"):
            await analyze(sessionmaker)
        with phase(report.phases, "calendar + availability reads"):
            await measure_reads(sessionmaker, world, start, runs, report)
        with phase(report.phases, "50 concurrent requests + approvals"):
            await concurrent_approvals(sessionmaker, world, concurrent_beds, report)
        async with sessionmaker() as session:
            report.postgres = str(await session.scalar(select(func.current_setting("server_version"))))
    finally:
        await engine.dispose()
    return report


def print_report(report: Report) -> None:
    line = "-" * 78
    print(line)
    print(f"Beds benchmark, {report.started:%Y-%m-%d %H:%M} UTC   ({' '.join(sys.argv)})")
    print(line)
    print("Conditions")
    print(
        f"  ward             {WARD_BEDS} beds; {report.n:,} allocations over the next 365 days (1–30 days, 1–4 beds, "
        f"seed {report.seed}): {report.approved:,} approved through the trigger, {report.requested:,} left requested (no room)"
    )
    print(f"  machine          {os.cpu_count()} cores ({cpu_model()}), shared with other work")
    print(
        f"  software         Python {platform.python_version()}, PostgreSQL {report.postgres} "
        f"({'embedded, default settings' if report.embedded else 'DATABASE_URL'}), SQLAlchemy {version('sqlalchemy')}, "
        f"asyncpg {version('asyncpg')}"
    )
    print(
        f"  method           one session, {report.runs} runs after ANALYZE and a warm-up, nearest-rank percentiles; "
        "the calendar is BedsService.ward_days (marketplace/beds/calendar.py), the page's own query"
    )
    print()
    print_phases(report.phases, 40)
    print()
    print(f"  {'':<40}{'p50':>9}{'p95':>9}{'mean':>9}{'max':>9}")
    for name, values in (
        ("calendar, 365 days (approved/requested)", report.calendar_ms),
        ("availability for search, 90 days", report.availability_ms),
    ):
        if values:
            cells = [percentile(values, 50), percentile(values, 95), statistics.fmean(values), max(values)]
            print(f"  {name:<40}" + "".join(f"{c:>6.1f} ms" for c in cells))
    print(
        f"Concurrency: {CONCURRENT} requests for 1 bed on the same 14 days of a {report.concurrent_beds}-bed ward, "
        f"each in its own session: {report.requests_made} inserted in {report.request_seconds * 1000:.0f} ms; "
        f"then {CONCURRENT} approvals at once in {report.approve_seconds * 1000:.0f} ms: {report.successes} approved, "
        f"{report.conflicts} refused by the capacity CHECK (409), {len(report.errors)} errors; "
        f"{report.over_capacity_days} days over capacity"
    )
    for error in report.errors[:5]:
        print(f"  {error}")
    print()
    print("Goals")
    if report.calendar_ms:
        p95 = percentile(report.calendar_ms, 95)
        print(
            f"  calendar p95 < {GOAL_CALENDAR_P95_MS:g} ms   {'met' if p95 < GOAL_CALENDAR_P95_MS else 'MISSED'} ({p95:.1f} ms)"
        )
    fits = report.successes == min(CONCURRENT, report.concurrent_beds)
    ok = not report.errors and not report.over_capacity_days and fits
    print(f"  {CONCURRENT} concurrent approvals: no error, exactly the ones that fit   {'met' if ok else 'MISSED'}")
    print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2_000, help="allocations over the year (default 2,000)")
    parser.add_argument("--runs", type=int, default=100, help="measured reads of each query (default 100)")
    parser.add_argument("--concurrent-beds", type=int, default=20, help="beds of the ward the 50 approvals share (default 20)")
    parser.add_argument("--seed", type=int, default=2026)
    add_data_dir(parser, "bench-beds")
    args = parser.parse_args()
    report = Report(n=args.n, runs=args.runs, seed=args.seed, concurrent_beds=args.concurrent_beds, started=datetime.now(UTC))
    options = {"n": args.n, "runs": args.runs, "seed_value": args.seed, "concurrent_beds": args.concurrent_beds}
    print(f"bench: {args.n:,} allocations", file=sys.stderr, flush=True)
    report.embedded = run_on_database(args.data_dir, "bench_beds", lambda url: run(url, report=report, **options))
    print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
