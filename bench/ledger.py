"""Ledger benchmark (issue 11, point 8): how fast income is posted and statements are built over a
large journal, through the ledger's own service.

    .venv/bin/python bench/ledger.py              # 100,000 incomes (README.md gives the figures of a run)
    .venv/bin/python bench/ledger.py --n 5000     # a quick run

In one run, on its own embedded PostgreSQL under a bench data folder (wiped first), or on the
empty database DATABASE_URL names:

1. migrates; creates the platform, three institutions (上海, 北京, 杭州) with a TTO manager and a
   policy each, a "hot" inventor with an account, and results with two to four inventors each,
   all through the accounts, catalogue and ledger services;
2. records N incomes through LedgerService.record_income as each institution's TTO manager, in
   transactions of --batch incomes (as a worker importing receipts would), one at a time; --hot of
   them on results naming the hot inventor (10,000 by default), plus a payout to them every 1,000;
   prints incomes and posting rows per second;
3. ANALYZE (as autovacuum would have done), then builds the hot inventor's statement --statements
   times as that inventor, over all time and over one quarter, after one unmeasured pass of each;
   p50/p95/p99 (goal: p95 < 100 ms over all time);
4. times `marketplace ledger reconcile`'s work (every balance recomputed from the postings, every
   entry checked to balance);
5. prints the conditions and figures, and exits 0 (a missed goal is reported, not failed).
"""

from __future__ import annotations

import argparse
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

GOAL_STATEMENT_P95_MS = 100.0
RESULTS_PER_INSTITUTION = 60
HOT_RESULTS = 12
PAYOUT_EVERY = 1_000  # hot incomes between two payouts to the hot inventor
CITIES = (("上海", "申城"), ("北京", "京华"), ("杭州", "钱塘"))
START = date(2024, 1, 1)  # incomes are received over the two years from here
POLICY = {
    "effective_from": "2023-12-01",
    "deductible_costs": ["taxes_fees", "ip_maintenance", "valuation", "appraisal", "negotiation"],
    "remainder_share": "institution",
    "patent_cost_recovery": "all_first",
    "shares": [
        {"income_kind": "licence", "inventors_bp": 7000, "tto_bp": 500, "iit_fund_bp": 2000, "institution_bp": 500},
        {"income_kind": "clinical_service", "inventors_bp": 0, "tto_bp": 1000, "iit_fund_bp": 2000, "institution_bp": 7000},
    ],
}


@dataclass
class Report:
    n: int
    hot: int
    batch: int
    seed: int
    started: datetime
    embedded: bool = True
    postgres: str = ""
    incomes: int = 0
    payouts: int = 0
    entries: int = 0
    postings: int = 0
    hot_entries: int = 0
    post_seconds: float = 0.0
    all_time_ms: list[float] = field(default_factory=list)
    quarter_ms: list[float] = field(default_factory=list)
    reconcile_seconds: float = 0.0
    balances_checked: int = 0
    differences: int = 0
    unbalanced: int = 0
    phases: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class World:
    managers: list  # each institution's TTO manager (Principal)
    hot: object  # the hot inventor (Principal)
    results: list[list[uuid.UUID]]  # each institution's results; the first HOT_RESULTS of the first name the hot inventor


def result_body(rng: random.Random, i: int, inventors: list[dict]) -> dict:
    return {
        "kind": "result",
        "type": "patent",
        "title_zh": f"基准成果 {i:05d}：一种检测方法",
        "summary_zh": "用于账本基准测试的合成成果。",
        "therapeutic_areas": ["oncology"],
        "keywords": ["基准"],
        "contact_name": "转化办",
        "contact_email": "tto@bench.example",
        "stage": "preclinical",
        "trl": rng.randint(3, 6),
        "advantages": "灵敏度高，仅需常规采血。",
        "ownership_model": "institution",
        "licence_options": [{"option": "exclusive", "terms": "入门费与销售提成"}],
        "inventors": inventors,
    }


def team(rng: random.Random, hot_user: uuid.UUID | None) -> list[dict]:
    """Two to four inventors whose basis points sum to 10,000 (the hot inventor first when named)."""
    size = rng.randint(2, 4)
    cuts = sorted(rng.sample(range(500, 9500, 250), size - 1))
    shares = [b - a for a, b in zip([0, *cuts], [*cuts, 10_000], strict=True)]
    people: list[dict] = [{"name": f"发明人{rng.randint(1, 400):03d}号", "share_bp": bp} for bp in shares]
    if hot_user is not None:
        people[0] = {"name": "热点发明人", "user_id": str(hot_user), "share_bp": shares[0]}
    # Names within one result are distinct.
    seen: set[str] = set()
    for k, person in enumerate(people):
        while person["name"] in seen:
            person["name"] = f"{person['name']}{k}"
        seen.add(person["name"])
    return people


async def build_world(sessionmaker, seed_value: int) -> World:
    import msgspec

    from marketplace.accounts.organizations import OrganizationInput
    from marketplace.accounts.services import AccountService
    from marketplace.catalog.schemas import ListingCreate
    from marketplace.catalog.services import CatalogService
    from marketplace.ledger.schemas import PolicyCreate
    from marketplace.ledger.services import LedgerService

    rng = random.Random(seed_value)
    async with sessionmaker() as session, session.begin():
        accounts = AccountService(session)
        membership = await accounts.bootstrap_platform(
            OrganizationInput(kind="platform", name_zh="账本基准平台", city="上海"),
            email="admin@bench.example",
            name="平台管理员",
            password="bench-pass-2026",
        )
        admin = await accounts.principal_for_user(membership.user_id)
        managers, hot_user, results = [], None, []
        for k, (city, name) in enumerate(CITIES):
            org = await accounts.create_organization(
                admin,
                OrganizationInput(
                    kind="institution",
                    name_zh=f"{name}基准医院",
                    city=city,
                    grade="3A",
                    approved_beds=2000,
                    research_beds=100,
                    pi_concurrent_trial_threshold=5,
                ),
            )
            people = [("tto_manager", f"tto.manager{k}@bench.example")]
            if k == 0:
                people.append(("inventor", "hot.inventor@bench.example"))
            for role, email in people:
                _inv, user, token = await accounts.invite(admin, org.id, email=email, name=role, role=role, ttl=timedelta(days=1))
                await accounts.accept_invitation(token, password="bench-pass-2026")
                if role == "inventor":
                    hot_user = user.id
            manager = await accounts.principal_for_user(
                (await accounts.user_by_email(f"tto.manager{k}@bench.example")).id, org.id
            )
            managers.append(manager)
            await LedgerService(session).policies.create(manager, msgspec.convert(POLICY, PolicyCreate))
            catalog, ids = CatalogService(session), []
            for i in range(RESULTS_PER_INSTITUTION):
                hot = hot_user if k == 0 and i < HOT_RESULTS else None
                body = result_body(rng, k * 1000 + i, team(rng, hot))
                listing = await catalog.add_existing(
                    org.id, msgspec.convert(body, ListingCreate), status="published", published_at=datetime.now(UTC)
                )
                ids.append(listing.id)
            results.append(ids)
    async with sessionmaker() as session:
        assert hot_user is not None
        hot_principal = await AccountService(session).principal_for_user(hot_user)
    return World(managers, hot_principal, results)


def plan(n: int, hot: int, seed_value: int) -> list[tuple[int, int, dict]]:
    """N incomes as (institution, result index, body fields), `hot` of them on the hot inventor's
    results, spread evenly through the run; deterministic for the seed."""
    rng = random.Random(seed_value + 1)
    hot = min(hot, n)
    items = []
    for i in range(n):
        is_hot = hot and (i * hot) // n != ((i + 1) * hot) // n
        if is_hot:
            institution, result = 0, rng.randrange(HOT_RESULTS)
        else:
            institution = rng.randrange(len(CITIES))
            result = rng.randrange(HOT_RESULTS if institution == 0 else 0, RESULTS_PER_INSTITUTION)
        # Clinical-service income gives inventors nothing: the hot inventor's incomes are licences.
        kind = "clinical_service" if not is_hot and rng.random() < 0.1 else "licence"
        costs = []
        if kind == "licence" and rng.random() < 0.5:
            costs.append({"kind": "taxes_fees", "amount_fen": rng.randint(100, 5_000_00), "document": f"发票 {i}"})
        body = {
            "kind": kind,
            "source_ref": f"合同 BENCH-{i:06d}",
            "amount": rng.randint(10_000_00, 2_000_000_00),
            "received_on": (START + timedelta(days=(i * 730) // n)).isoformat(),
            "costs": costs,
        }
        items.append((institution, result, body))
    return items


async def post_incomes(sessionmaker, world: World, n: int, hot: int, batch: int, seed_value: int, report: Report) -> None:
    import msgspec

    from marketplace.ledger.schemas import IncomeCreate, PayoutCreate
    from marketplace.ledger.services import LedgerService

    items = plan(n, hot, seed_value)
    hot_done = 0
    started = time.perf_counter()
    for first in range(0, len(items), batch):
        async with sessionmaker() as session, session.begin():
            ledger = LedgerService(session)
            for i, (institution, result, fields) in enumerate(items[first : first + batch], start=first):
                data = msgspec.convert({**fields, "result_id": str(world.results[institution][result])}, IncomeCreate)
                await ledger.record_income(world.managers[institution], data, f"bench-{i}")
                report.incomes += 1
                if institution == 0 and result < HOT_RESULTS:
                    hot_done += 1
                    if hot_done % PAYOUT_EVERY == 0:
                        payout = PayoutCreate(
                            payee="inventor",
                            user_id=world.hot.user_id,
                            amount=1_000_00,
                            paid_on=date.fromisoformat(fields["received_on"]),
                            reference=f"奖酬 BENCH-{hot_done}",
                        )
                        await ledger.pay(world.managers[0], payout)
                        report.payouts += 1
        if first // batch % 50 == 0:
            rate = report.incomes / (time.perf_counter() - started)
            print(f"  posted {report.incomes:,} of {n:,} ({rate:,.0f} per second)", file=sys.stderr, flush=True)
    report.post_seconds = time.perf_counter() - started


async def measure_statements(sessionmaker, world: World, repeats: int, report: Report) -> None:
    from marketplace.ledger.services import LedgerService

    quarter = (date(2025, 4, 1), date(2025, 6, 30))
    for measured, runs in ((False, 1), (True, repeats)):
        for _ in range(runs):
            for period, into in (((None, None), report.all_time_ms), (quarter, report.quarter_ms)):
                async with sessionmaker() as session:
                    began = time.perf_counter()
                    statement = await LedgerService(session).inventor_statement(world.hot, world.hot.user_id, *period)
                    took = (time.perf_counter() - began) * 1000
                assert statement.lines
                if measured:
                    into.append(took)


async def reconcile(sessionmaker, report: Report) -> None:
    from marketplace.ledger.services import LedgerService

    async with sessionmaker() as session:
        began = time.perf_counter()
        ledger = LedgerService(session)
        report.balances_checked, differences = await ledger.reconcile()
        report.unbalanced = len(await ledger.unbalanced_entries())
        report.reconcile_seconds = time.perf_counter() - began
        report.differences = len(differences)


async def facts(sessionmaker, world: World, report: Report) -> None:
    from sqlalchemy import func, select, text

    from marketplace.ledger.models import AccountKind, Entry, LedgerAccount, Posting

    async with sessionmaker() as session:
        report.postgres = str(await session.scalar(select(func.current_setting("server_version"))))
        report.entries = int(await session.scalar(select(func.count()).select_from(Entry)) or 0)
        report.postings = int(await session.scalar(select(func.count()).select_from(Posting)) or 0)
        report.hot_entries = int(
            await session.scalar(
                select(func.count(func.distinct(Posting.entry_id)))
                .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
                .where(LedgerAccount.kind == AccountKind.inventor_payable, LedgerAccount.user_id == world.hot.user_id)
            )
            or 0
        )
    async with sessionmaker() as session:
        connection = await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        await connection.execute(text("analyze"))


async def run(database_url: str, *, n: int, hot: int, batch: int, statements: int, seed_value: int, report: Report) -> Report:
    """Everything but starting PostgreSQL and migrating: the smoke test runs this on its own database."""
    from marketplace.db import make_engine, make_sessionmaker

    engine = make_engine(database_url)
    sessionmaker = make_sessionmaker(engine)
    try:
        with phase(report.phases, "seed (services)"):
            world = await build_world(sessionmaker, seed_value)
        print("  seeded", file=sys.stderr, flush=True)
        await post_incomes(sessionmaker, world, n, hot, batch, seed_value, report)
        report.phases.append(("post incomes", report.post_seconds))
        with phase(report.phases, "count + ANALYZE"):
            await facts(sessionmaker, world, report)
        with phase(report.phases, "statements"):
            await measure_statements(sessionmaker, world, statements, report)
        await reconcile(sessionmaker, report)
        report.phases.append(("reconcile", report.reconcile_seconds))
    finally:
        await engine.dispose()
    return report


def print_report(report: Report) -> None:
    line = "-" * 78
    print(line)
    print(f"Ledger benchmark, {report.started:%Y-%m-%d %H:%M} UTC   ({' '.join(sys.argv)})")
    print(line)
    print("Conditions")
    print(
        f"  journal          {report.incomes:,} incomes + {report.payouts:,} payouts = {report.entries:,} entries, "
        f"{report.postings:,} postings; 3 institutions, {3 * RESULTS_PER_INSTITUTION} results; seed {report.seed}"
    )
    print(f"  hot inventor     named on {HOT_RESULTS} results, {report.hot_entries:,} entries post to their payable")
    print(f"  machine          {os.cpu_count()} cores ({cpu_model()}), shared with other work")
    print(
        f"  software         Python {platform.python_version()}, PostgreSQL {report.postgres} "
        f"({'embedded, default settings' if report.embedded else 'DATABASE_URL'}), SQLAlchemy {version('sqlalchemy')}, "
        f"asyncpg {version('asyncpg')}"
    )
    print(
        f"  method           one client, LedgerService.record_income as the TTO manager, {report.batch} incomes per "
        "transaction; statements one at a time after ANALYZE and one warm-up pass; nearest-rank percentiles"
    )
    print()
    print_phases(report.phases, 34, 12, 1)
    print()
    rate = report.incomes / report.post_seconds if report.post_seconds else 0.0
    rows = report.postings * report.incomes / max(report.entries, 1) / report.post_seconds if report.post_seconds else 0.0
    print(f"Posting: {rate:,.0f} incomes per second ({rows:,.0f} posting rows per second)")
    print(f"Inventor statement of the hot inventor: {len(report.all_time_ms)} builds each")
    print(f"  {'':<34}{'p50':>9}{'p95':>9}{'p99':>9}{'mean':>9}{'max':>9}")
    for name, values in (("all time", report.all_time_ms), ("one quarter (2025 Q2)", report.quarter_ms)):
        if values:
            cells = [percentile(values, p) for p in (50, 95, 99)] + [statistics.fmean(values), max(values)]
            print(f"  {name:<34}" + "".join(f"{c:>6.1f} ms" for c in cells))
    print(
        f"Reconcile: {report.reconcile_seconds:.2f} s for {report.balances_checked:,} balances; "
        f"{report.differences} differences, {report.unbalanced} unbalanced entries"
    )
    print()
    print("Goals")
    if report.all_time_ms:
        p95 = percentile(report.all_time_ms, 95)
        met = p95 < GOAL_STATEMENT_P95_MS and report.hot_entries >= 10_000
        note = "" if report.hot_entries >= 10_000 else f", over {report.hot_entries:,} entries, not 10,000"
        print(
            f"  statement p95 < {GOAL_STATEMENT_P95_MS:g} ms (10,000 entries)   {'met' if met else 'MISSED'} ({p95:.1f} ms{note})"
        )
    print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="incomes to post (default 100,000)")
    parser.add_argument("--hot", type=int, default=10_000, help="of them on the hot inventor's results (default 10,000)")
    parser.add_argument("--batch", type=int, default=100, help="incomes per transaction (default 100)")
    parser.add_argument("--statements", type=int, default=100, help="measured builds of each statement (default 100)")
    parser.add_argument("--seed", type=int, default=2026)
    add_data_dir(parser, "bench-ledger")
    args = parser.parse_args()
    report = Report(n=args.n, hot=args.hot, batch=args.batch, seed=args.seed, started=datetime.now(UTC))
    options = {"n": args.n, "hot": args.hot, "batch": args.batch, "statements": args.statements, "seed_value": args.seed}
    print(f"bench: {args.n:,} incomes", file=sys.stderr, flush=True)
    report.embedded = run_on_database(args.data_dir, "bench_ledger", lambda url: run(url, report=report, **options))
    print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
