"""The analytics benchmark's data (bench/analytics.py): one institution's rows made by the
services, then cloned in bulk to the sizes asked (INSERT … SELECT over generate_series), each
clone's days moved to a day of this year. Kept apart from the measuring so each stays short."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

INSTITUTIONS = (("申城第一医院", "上海"), ("浦江医院", "上海"), ("京华医院", "北京"), ("燕山医院", "北京"))
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


async def fill(sessionmaker, templates: list[Template], sizes: Sizes, count: dict[str, int]) -> None:
    """Clones each institution's template rows to its share of `sizes`; `count` gets the rows made."""
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
