"""Ledger test data: a policy version for an institution, a result with inventors, income bodies,
and income and payouts recorded through the service as the institution's TTO manager."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import date

import msgspec
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import Role
from marketplace.catalog.schemas import ListingCreate
from marketplace.ledger import schemas
from marketplace.ledger.services import LedgerService
from marketplace.tenancy import Principal
from tests.catalog.factories import result_body, seed_listing

MANAGER_OTHER = "admin@institution.other.test"

# Shanghai's floor: the inventors at least 70% of licence and equity income.
SHANGHAI_SHARES = [
    {"income_kind": "licence", "inventors_bp": 7000, "tto_bp": 1000, "iit_fund_bp": 500, "institution_bp": 1500},
    {"income_kind": "equity", "inventors_bp": 7000, "tto_bp": 1000, "iit_fund_bp": 0, "institution_bp": 2000},
    {"income_kind": "own_implementation", "inventors_bp": 1000, "tto_bp": 500, "iit_fund_bp": 0, "institution_bp": 8500},
    {"income_kind": "clinical_service", "inventors_bp": 0, "tto_bp": 1000, "iit_fund_bp": 1000, "institution_bp": 8000},
]

# Beijing's: inventors 70%, and 20% of licence and clinical-service income for the IIT fund.
BEIJING_SHARES = [
    {"income_kind": "licence", "inventors_bp": 7000, "tto_bp": 500, "iit_fund_bp": 2000, "institution_bp": 500},
    {"income_kind": "equity", "inventors_bp": 7000, "tto_bp": 1000, "iit_fund_bp": 0, "institution_bp": 2000},
    {"income_kind": "clinical_service", "inventors_bp": 0, "tto_bp": 1000, "iit_fund_bp": 2000, "institution_bp": 7000},
]


def policy_body(**overrides) -> dict:
    body = {
        "effective_from": "2026-01-01",
        "shares": SHANGHAI_SHARES,
        "deductible_costs": ["taxes_fees", "ip_maintenance", "valuation", "appraisal"],
        "remainder_share": "institution",
        "patent_cost_recovery": "all_first",
    }
    body.update(overrides)
    return body


async def seed_policy(db: AsyncSession, manager: Principal, **overrides):
    policy = await LedgerService(db).policies.create(manager, msgspec.convert(policy_body(**overrides), schemas.PolicyCreate))
    await db.commit()
    return policy


INVENTORS = [{"name": "张晓华", "share_bp": 6000}, {"name": "李明", "share_bp": 4000}]


async def seed_result(db: AsyncSession, institution_id: uuid.UUID, inventors: list[dict] | None = None, **overrides):
    body = result_body(inventors=inventors or INVENTORS, **overrides)
    listing = await seed_listing(db, institution_id, msgspec.convert(body, ListingCreate), status="published")
    await db.commit()
    return listing


def income_body(result_id: uuid.UUID, amount: int = 1_000_000, **overrides) -> dict:
    body = {
        "result_id": str(result_id),
        "kind": "licence",
        "source_ref": "HT-2026-001",
        "amount": amount,
        "received_on": "2026-03-01",
        "costs": [],
    }
    body.update(overrides)
    return body


async def record(db: AsyncSession, manager: Principal, body: dict, key: str | None = None):
    income = await LedgerService(db).record_income(manager, msgspec.convert(body, schemas.IncomeCreate), key or uuid.uuid4().hex)
    await db.commit()
    return income


async def pay(db: AsyncSession, manager: Principal, **fields):
    body = {"payee": "inventor", "paid_on": date(2026, 4, 1).isoformat(), "reference": "转账-001", **fields}
    found = await LedgerService(db).pay(manager, msgspec.convert(body, schemas.PayoutCreate))
    await db.commit()
    return found


# ----- for the tenancy matrix (tests/app/test_tenancy.py) -----------------------------------------


async def ready_institutions(db: AsyncSession, world) -> None:
    """Both institutions of the world with a policy in force (once per test)."""
    from marketplace.ledger.models import DistributionPolicy

    if await db.scalar(select(func.count()).select_from(DistributionPolicy)):
        return
    await seed_policy(db, await world.principal(db, world.emails[Role.tto_manager]))
    await seed_policy(db, await world.principal(db, MANAGER_OTHER), shares=BEIJING_SHARES)


def inventor_of(world, relation: str) -> str:
    """The e-mail of an inventor user of the own or the other institution."""
    return world.emails[Role.inventor] if relation == "own" else "target@institution.other.test"


async def result_with_inventor(db: AsyncSession, world, relation: str):
    await ready_institutions(db, world)
    email = inventor_of(world, relation)
    user = await world.principal(db, email)
    inventors = [{"name": "本院发明人", "share_bp": 10000, "user_id": str(user.user_id)}]
    result = await seed_result(db, world.orgs[f"institution/{relation}"].id, inventors)
    world.scratch["result"] = result.id
    world.scratch["inventor"] = user.user_id
    return result


async def matrix_result(db: AsyncSession, world, role, relation: str) -> dict:
    """A result of the own (other) institution, its inventor a user there, both institutions with a policy."""
    result = await result_with_inventor(db, world, relation)
    return {"result": result.id}


async def matrix_income(db: AsyncSession, world, role, relation: str) -> dict:
    """Income recorded at the own (other) institution for a result naming an inventor user there."""
    result = await result_with_inventor(db, world, relation)
    manager = world.emails[Role.tto_manager] if relation == "own" else MANAGER_OTHER
    income = await record(db, await world.principal(db, manager), income_body(result.id))
    entry = await LedgerService(db).income_entry(income.id)
    await db.commit()
    return {"entry": entry.id}


async def matrix_result_income(db: AsyncSession, world, role, relation: str) -> dict:
    """A result of the own (other) institution with an income, naming an inventor user there."""
    await matrix_income(db, world, role, relation)
    return {"result": world.scratch["result"]}


def matrix_payout(world, role, relation: str) -> dict:
    return {
        "payee": "inventor",
        "user_id": str(world.scratch["inventor"]),
        "amount": 100,
        "paid_on": "2026-04-01",
        "reference": "转账-矩阵",
    }


def matrix_exception(world, role, relation: str) -> dict:
    code = "shanghai-licence-inventors" if relation == "own" else "beijing-licence-inventors"
    return {"institution_id": str(world.orgs[f"institution/{relation}"].id), "floor_code": code, "reason": "试点批复"}


def idempotency_key() -> dict:
    return {"Idempotency-Key": uuid.uuid4().hex}


async def matrix_inventor(db: AsyncSession, world, role, relation: str) -> dict:
    """The own (other) institution's inventor user, owed a share of an income there."""
    await matrix_income(db, world, role, relation)
    return {"inventor": world.scratch["inventor"]}


# ----- for the statement pages (tests/ledger/test_statement_pages.py) -----------------------------

INSTITUTION = "institution/own"


async def ledger_with_two_inventors(db, world):
    """Two incomes (¥10,000.00 and ¥2,000.01) for one result, split 75/25 between our inventor and
    a colleague from elsewhere, and a payout of ¥1,000.00 to our inventor (the result's id in
    world.scratch["result"])."""
    boss = await world.principal(db, world.emails[Role.tto_manager])
    await seed_policy(db, boss)
    inventor = await world.principal(db, world.emails[Role.inventor])
    people = [{"name": "发明人", "share_bp": 7500, "user_id": str(inventor.user_id)}, {"name": "外院合作者", "share_bp": 2500}]
    result = await seed_result(db, world.orgs[INSTITUTION].id, people)
    world.scratch["result"] = result.id
    await record(db, boss, income_body(result.id, 1_000_000, received_on="2026-03-01", source_ref="HT-2026-001"))
    await record(db, boss, income_body(result.id, 200_001, received_on="2026-05-01", source_ref="HT-2026-002"))
    await pay(db, boss, user_id=str(inventor.user_id), amount=100_000, paid_on="2026-05-02", reference="转账-001")
    return inventor


def amounts(html: str) -> list[str]:
    """The yuan amounts a page shows, in order."""
    return re.findall(r"¥[\d,]+\.\d\d", html)


def file_text(content: bytes, fmt: str) -> str:
    """The text of a downloaded statement, whatever its format."""
    if fmt == "csv":
        return "\n".join(",".join(row) for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(content)).active
        assert sheet is not None
        cells = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
        # Amounts are numbers there, in yuan: shown to the fen.
        return "\n".join(f"{c:.2f}" if isinstance(c, int | float) else str(c) for c in cells)
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


# ----- the pages' forms (tests/ledger/test_ledger_pages.py and the page matrix) -------------------


def policy_form(**changes) -> dict:
    """Shanghai's floors met: the licence split in % as the policy form takes it."""
    form = {
        "effective_from": "2026-01-01",
        "licence_inventors": "70",
        "licence_tto": "10",
        "licence_iit_fund": "5",
        "licence_institution": "15",
        "deductible_costs": "taxes_fees",
        "remainder_share": "institution",
        "patent_cost_recovery": "all_first",
    }
    form.update(changes)
    return form


def matrix_income_form(world, role, relation: str) -> dict:
    return {
        "idempotency_key": uuid.uuid4().hex,
        "source_ref": "HT-矩阵",
        "result_id": str(world.scratch["result"]),
        "kind": "licence",
        "amount": "100.00",
        "received_on": "2026-03-01",
    }


def matrix_payout_form(world, role, relation: str) -> dict:
    return {"payee": f"user:{world.scratch['inventor']}|CNY", "amount": "1.00", "paid_on": "2026-04-01", "reference": "转账-矩阵"}
