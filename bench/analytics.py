"""Analytics benchmark (issue 14, point 7): the platform dashboard for a year of 100,000 listings,
20,000 match requests, 5,000 agreements and 50,000 payments.

    .venv/bin/python bench/analytics.py                  # the full size, 30 runs (README.md gives a run's figures)
    .venv/bin/python bench/analytics.py --scale 0.05 --runs 5

In one run, on its own embedded PostgreSQL under a bench data folder (wiped first), or on the
empty database DATABASE_URL names:

1. migrates; through the services, for each of 4 institutions (two cities): a published result,
   a match request taken to agreed and one left waiting, an exclusive licence signed from the
   agreed one and its upfront fee received (so the ledger posts the income and its split);
2. clones those rows in bulk (INSERT … SELECT over generate_series, one statement per table and
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
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench_common import cpu_model, percentile, run_on_database

from marketplace.config import PROJECT_ROOT

GOAL_P95_MS = 300.0
ONE_SESSION = "dashboard: every figure in one session"
INSTITUTIONS = (("申城第一医院", "上海"), ("浦江医院", "上海"), ("京华医院", "北京"), ("燕山医院", "北京"))
FIGURES = ("summary", "funnel", "match-rates", "times", "pay-later", "income", "beds", "deals")
PASSWORD = "bench-pass-2026"
# Each city's floor for licence income (Beijing: 20% to the IIT fund).
SHARES = {
    "上海": {"income_kind": "licence", "inventors_bp": 7000, "tto_bp": 1000, "iit_fund_bp": 500, "institution_bp": 1500},
    "北京": {"income_kind": "licence", "inventors_bp": 7000, "tto_bp": 500, "iit_fund_bp": 2000, "institution_bp": 500},
}


@dataclass
class Sizes:
    listings: int = 100_000
    requests: int = 20_000
    agreements: int = 5_000
    payments: int = 50_000

    def scaled(self, factor: float) -> Sizes:
        sizes = Sizes(
            *(max(len(INSTITUTIONS), round(n * factor)) for n in (self.listings, self.requests, self.agreements, self.payments))
        )
        sizes.agreements = min(sizes.agreements, sizes.requests)
        return sizes


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


@dataclass
class Template:
    """One institution's rows made by the services, that the bulk copy clones."""

    institution_id: uuid.UUID
    listing_id: uuid.UUID
    agreed_request_id: uuid.UUID
    waiting_request_id: uuid.UUID
    agreement_id: uuid.UUID
    payment_id: uuid.UUID
    income_id: uuid.UUID


# ----- 1. the services make one of each ------------------------------------------------------------


def result_body(title: str) -> dict:
    return {
        "kind": "result",
        "type": "patent",
        "title_zh": title,
        "summary_zh": "一种利用血液外泌体miRNA组合检测早期肝癌的方法。",
        "therapeutic_areas": ["oncology", "digestive"],
        "keywords": ["外泌体", "肝癌"],
        "contact_email": "tto@bench.example",
        "stage": "preclinical",
        "trl": 4,
        "ownership_model": "institution",
        "advantages": "较现有AFP检测灵敏度提高30%。",
        "licence_options": [{"option": "exclusive", "terms": "入门费50万元，销售提成3%"}],
        "inventors": [{"name": "张晓华", "share_bp": 6000}, {"name": "李明", "share_bp": 4000}],
    }


async def member(session, org, email: str, role: str):
    """A user with a password in `org` (setup, as the test factories make them)."""
    from marketplace.accounts.models import Membership, User
    from marketplace.accounts.passwords import hash_password
    from marketplace.accounts.services import AccountService

    user = User(email=email, name=role, password_hash=hash_password(PASSWORD))
    session.add(user)
    await session.flush()
    session.add(Membership(user_id=user.id, organization_id=org.id, org_kind=org.kind, role=role))
    await session.flush()
    return await AccountService(session).principal_for_user(user.id)


async def make_templates(sessionmaker) -> tuple[list[Template], str]:
    """The platform, 4 institutions and a company with their people, and each institution's rows;
    answers the templates and a platform admin's API token."""
    import msgspec
    from sqlalchemy import select

    from marketplace.accounts.organizations import OrganizationInput, credit_code_check_character
    from marketplace.accounts.services import AccountService
    from marketplace.catalog.schemas import ListingCreate
    from marketplace.catalog.services import CatalogService
    from marketplace.db import china_today
    from marketplace.ledger import schemas as ledger_schemas
    from marketplace.ledger.models import Income
    from marketplace.ledger.services import LedgerService
    from marketplace.licensing.models import Obligation, Payment
    from marketplace.licensing.schemas import AgreementCreate, PaymentIn, TransitionIn
    from marketplace.licensing.services import LicensingService
    from marketplace.matching.requests.schemas import MatchRequestCreate
    from marketplace.matching.requests.services import MatchingService

    today = china_today()
    templates = []
    async with sessionmaker() as session, session.begin():
        accounts = AccountService(session)
        membership = await accounts.bootstrap_platform(
            OrganizationInput(kind="platform", name_zh="分析基准平台", city="上海"),
            email="admin@bench.example",
            name="平台管理员",
            password=PASSWORD,
        )
        admin = await accounts.principal_for_user(membership.user_id)
        _token, raw_token = await accounts.create_token(admin, "bench")
        first17 = "91310000MA1FL0001"
        company = await accounts.create_organization(
            admin,
            OrganizationInput(
                kind="company",
                name_zh="基准药业",
                city="上海",
                credit_code=first17 + credit_code_check_character(first17),
                segment="pharma",
            ),
        )
        buyer = await member(session, company, "buyer@bench.example", "company_admin")
    for number, (name, city) in enumerate(INSTITUTIONS):
        async with sessionmaker() as session, session.begin():
            accounts = AccountService(session)
            admin = await accounts.principal_for_user(membership.user_id)
            institution = await accounts.create_organization(
                admin,
                OrganizationInput(
                    kind="institution",
                    name_zh=name,
                    city=city,
                    grade="3A",
                    approved_beds=2000,
                    research_beds=100,
                    pi_concurrent_trial_threshold=5,
                    health_technicians=3000 + 500 * number,
                ),
            )
            tto = await member(session, institution, f"tto{number}@bench.example", "tto_manager")
            policy = {
                "effective_from": date(today.year - 1, 1, 1).isoformat(),
                "shares": [SHARES[city]],
                "deductible_costs": ["taxes_fees"],
                "remainder_share": "institution",
                "patent_cost_recovery": "all_first",
            }
            await LedgerService(session).policies.create(tto, msgspec.convert(policy, ledger_schemas.PolicyCreate))
            listing = await CatalogService(session).add_existing(
                institution.id,
                msgspec.convert(result_body(f"{name}基准成果"), ListingCreate),
                status="published",
                published_at=datetime.now(UTC),
            )
            matching = MatchingService(session)
            ask = {
                "listing_id": str(listing.id),
                "engagement_type": "licence",
                "purpose": "基准对接：评估许可。",
                "timeline": "一季度签约",
                "nda_version": 1,
                "accept_nda": True,
            }
            agreed = await matching.create(buyer, msgspec.convert(ask, MatchRequestCreate))
            for who, action in ((tto, "accept"), (buyer, "start_negotiation"), (tto, "agree"), (buyer, "agree")):
                await matching.transition(who, agreed.id, action, "")
            # One open request per company and listing: the waiting one is on a second result.
            second = await CatalogService(session).add_existing(
                institution.id,
                msgspec.convert(result_body(f"{name}基准成果二"), ListingCreate),
                status="published",
                published_at=datetime.now(UTC),
            )
            waiting = await matching.create(buyer, msgspec.convert({**ask, "listing_id": str(second.id)}, MatchRequestCreate))
            licensing = LicensingService(session)
            terms = {
                "match_request_id": str(agreed.id),
                "kind": "exclusive",
                "field_of_use": "体外诊断试剂",
                "starts_on": today.isoformat(),
                "term_months": 60,
                "upfront_fen": 50_000_000,
                "royalty_bp": 300,
                "milestones": [{"event": "产品获得医疗器械注册证", "amount_fen": 30_000_000, "due_days_after_event": 30}],
            }
            agreement = await licensing.create(tto, msgspec.convert(terms, AgreementCreate))
            for who, action in ((tto, "approve"), (tto, "sign"), (buyer, "sign")):
                fields = {"document_sha256": agreement.document_sha256} if action == "sign" else {}
                agreement = await licensing.transition(
                    who, agreement.id, msgspec.convert({"action": action, **fields}, TransitionIn)
                )
            upfront = await session.scalar(
                select(Obligation.id).where(Obligation.agreement_id == agreement.id, Obligation.kind == "upfront")
            )
            payment = {"obligation_id": str(upfront), "amount_fen": 50_000_000, "received_on": today.isoformat()}
            await licensing.record_payment(tto, agreement.id, msgspec.convert(payment, PaymentIn), uuid.uuid4().hex)
            payment_id = await session.scalar(select(Payment.id).where(Payment.agreement_id == agreement.id))
            income_id = await session.scalar(select(Income.id).where(Income.source_ref == str(payment_id)))
            assert payment_id and income_id, "the payment's ledger income"
            templates.append(Template(institution.id, listing.id, agreed.id, waiting.id, agreement.id, payment_id, income_id))
    return templates, raw_token


# ----- 2. the bulk copy ------------------------------------------------------------------------------


def uid(prefix: str, *parts: str) -> str:
    """A clone's id, from its kind, institution and number: SQL, so related clones find each other."""
    joined = " || '-' || ".join(parts)
    return f"md5('{prefix}' || {joined})::uuid"


async def columns(session, table: str) -> list[tuple[str, str]]:
    """The table's columns that take a value (not identity or generated), with their types."""
    from sqlalchemy import text

    rows = await session.execute(
        text(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = :t AND table_schema = current_schema() "
            "AND is_identity = 'NO' AND is_generated = 'NEVER' ORDER BY ordinal_position"
        ),
        {"t": table},
    )
    return [(name, kind) for name, kind in rows]


async def clone(
    session, table: str, where: str, n: int, overrides: dict[str, str], params: dict[str, Any], *, first: int = 1
) -> int:
    """n copies (g = first … first + n - 1) of the rows `where` picks, each column as the template's
    unless overridden; days and moments moved by `shift` days (an SQL expression of g)."""
    from sqlalchemy import text

    cols = await columns(session, table)
    exprs = []
    for name, kind in cols:
        if name in overrides:
            exprs.append(overrides[name])
        elif kind == "date":
            exprs.append(f"t.{name} + (:shift_expr_days)")
        elif kind.startswith("timestamp"):
            exprs.append(f"t.{name} + make_interval(days => (:shift_expr_days))")
        else:
            exprs.append(f"t.{name}")
    shift = "((g * 37) % CAST(:days_in_year AS integer) - CAST(:today_offset AS integer))"
    select_list = ", ".join(exprs).replace(":shift_expr_days", shift)
    sql = (
        f"INSERT INTO {table} ({', '.join(name for name, _ in cols)}) SELECT {select_list} "
        f"FROM {table} t CROSS JOIN generate_series(CAST(:first AS integer), CAST(:last AS integer)) g WHERE {where}"
    )
    result = await session.execute(text(sql), {**params, "first": first, "last": first + n - 1})
    return result.rowcount


async def fill(sessionmaker, templates: list[Template], sizes: Sizes, report: Report) -> None:
    from sqlalchemy import text

    from marketplace.db import china_today

    today = china_today()
    year_start = date(today.year, 1, 1)
    # Clones spread over the year up to today, so nothing lies in the future.
    span = (today - year_start).days + 1
    base = {"days_in_year": span, "today_offset": (today - year_start).days}
    k_count = len(templates)

    def share(total: int, k: int) -> int:
        return total // k_count + (1 if k < total % k_count else 0)

    async with sessionmaker() as session, session.begin():
        await session.execute(text("SET LOCAL session_replication_role = replica"))
        for k, t in enumerate(templates):
            inst = f"'{k}'"
            n_listings, n_requests = share(sizes.listings, k), share(sizes.requests, k)
            n_agreements, n_payments = share(sizes.agreements, k), share(sizes.payments, k)
            p = {**base, "listing": t.listing_id, "agreed": t.agreed_request_id, "waiting": t.waiting_request_id}
            p |= {"agreement": t.agreement_id, "payment": t.payment_id, "income": t.income_id}
            listing_id = uid("L", inst, "g::text")
            count = report.counts
            count["listings"] = count.get("listings", 0) + await clone(
                session, "listings", "t.id = :listing", n_listings, {"id": listing_id, "title_zh": "t.title_zh || ' ' || g"}, p
            )
            await clone(session, "listing_areas", "t.listing_id = :listing", n_listings, {"listing_id": listing_id}, p)
            await session.execute(
                text(
                    f"INSERT INTO listing_view_days (listing_id, day, views) SELECT {listing_id}, CAST(:start AS date) + (g * 37) % CAST(:days_in_year AS integer), 1 + g % 5 "
                    "FROM generate_series(1, CAST(:n AS integer)) g"
                ),
                {**p, "start": year_start, "n": n_listings},
            )
            # Requests: the first n_agreements agreed (each signs an agreement), the rest waiting.
            request_id = uid("R", inst, "g::text")
            request_columns = {"id": request_id, "listing_id": listing_id}
            count["requests"] = count.get("requests", 0) + await clone(
                session, "match_requests", "t.id = :agreed", n_agreements, request_columns, p
            )
            count["requests"] += await clone(
                session,
                "match_requests",
                "t.id = :waiting",
                n_requests - n_agreements,
                request_columns,
                p,
                first=n_agreements + 1,
            )
            audit = {"subject_id": f"({request_id})::text"}
            count["audit events"] = count.get("audit events", 0) + await clone(
                session,
                "audit_events",
                "t.subject_type = 'match_requests' AND t.subject_id = CAST(CAST(:agreed AS uuid) AS text)",
                n_agreements,
                audit,
                p,
            )
            count["audit events"] += await clone(
                session,
                "audit_events",
                "t.subject_type = 'match_requests' AND t.subject_id = CAST(CAST(:waiting AS uuid) AS text)",
                n_requests - n_agreements,
                audit,
                p,
                first=n_agreements + 1,
            )
            agreement_id = uid("A", inst, "g::text")
            count["agreements"] = count.get("agreements", 0) + await clone(
                session,
                "licensing_agreements",
                "t.id = :agreement",
                n_agreements,
                {"id": agreement_id, "match_request_id": request_id, "title": "t.title || ' ' || g"},
                p,
            )
            await clone(
                session,
                "licensing_agreement_results",
                "t.agreement_id = :agreement",
                n_agreements,
                {"agreement_id": agreement_id, "listing_id": listing_id},
                p,
            )
            obligation_id = uid("O", inst, "g::text", "t.id::text")
            await clone(
                session,
                "licensing_obligations",
                "t.agreement_id = :agreement",
                n_agreements,
                {"id": obligation_id, "agreement_id": agreement_id},
                p,
            )
            # Payments: payment g pays agreement ((g - 1) % n_agreements) + 1's upfront item.
            a = f"(((g - 1) % {n_agreements}) + 1)::text"
            payment_id = uid("P", inst, "g::text")
            count["payments"] = count.get("payments", 0) + await clone(
                session,
                "licensing_payments",
                "t.id = :payment",
                n_payments,
                {
                    "id": payment_id,
                    "agreement_id": uid("A", inst, a),
                    "obligation_id": uid("O", inst, a, "t.obligation_id::text"),
                    "idempotency_key": f"md5('payment' || {inst} || g)",
                },
                p,
            )
            income_id = uid("I", inst, "g::text")
            count["ledger incomes"] = count.get("ledger incomes", 0) + await clone(
                session,
                "ledger_incomes",
                "t.id = :income",
                n_payments,
                {
                    "id": income_id,
                    "source_ref": f"({payment_id})::text",
                    "result_id": uid("L", inst, a),
                    "idempotency_key": f"md5('income' || {inst} || g)",
                },
                p,
            )
            entry_id = uid("E", inst, "g::text", "t.id::text")
            await clone(
                session, "ledger_entries", "t.income_id = :income", n_payments, {"id": entry_id, "income_id": income_id}, p
            )
            await clone(
                session,
                "ledger_postings",
                "t.entry_id IN (SELECT id FROM ledger_entries WHERE income_id = :income)",
                n_payments,
                {"entry_id": uid("E", inst, "g::text", "t.entry_id::text")},
                p,
            )


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
        began = time.perf_counter()
        templates, token = await make_templates(sessionmaker)
        report.phases.append(("seed templates (services)", time.perf_counter() - began))
        began = time.perf_counter()
        await fill(sessionmaker, templates, sizes, report)
        report.phases.append(("bulk copy (INSERT … SELECT)", time.perf_counter() - began))
        began = time.perf_counter()
        await refresh_and_analyze(sessionmaker)
        report.phases.append(("refresh views + VACUUM ANALYZE", time.perf_counter() - began))
        began = time.perf_counter()
        await measure(database_url, sessionmaker, token, runs, report)
        report.phases.append(("measured requests", time.perf_counter() - began))
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
    print(f"{'Phase':<44}{'time':>10}   load average now {' / '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for name, seconds in report.phases:
        print(f"  {name:<42}{seconds:>8.2f} s")
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
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=PROJECT_ROOT / ".data" / "bench-analytics",
        help="bench data folder, wiped first (default .data/bench-analytics); unused with DATABASE_URL",
    )
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
