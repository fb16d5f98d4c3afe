"""The demo's revenue-sharing ledger (data/ledger.yaml), kept through the ledger's service by each
institution's TTO manager: a policy, income recorded by hand, one correction by reversal, payouts.
Every other demo institution has no TTO manager: the platform admin records its city's policy and
one income for it, so every institution's statement has something to show.

Dates count back from the load's day, as the demo's match requests do; everything else is fixed,
so the same catalogue gives the same journal every time. The ledger is imported inside the
function, as matching is in matching.py."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.services import AccountService
from marketplace.catalog.models import OwnershipModel, Status
from marketplace.catalog.services import CatalogService
from marketplace.db import china_day
from marketplace.demo import people
from marketplace.demo.tables import table
from marketplace.tenancy import Principal

if TYPE_CHECKING:
    from marketplace.ledger.services import LedgerService

_DATA = table("ledger")
INSTITUTIONS: list[dict] = _DATA["institutions"]
OTHERS: dict = _DATA["others"]
ADMIN = "admin@demo.example"
INVENTOR = "inventor@pujiang.example"


async def demo_results(
    catalog: CatalogService, manager: Principal, institution_id: uuid.UUID, inventor_id: uuid.UUID | None = None
) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """The institution's published, institution-owned results with inventors, by title: all of
    them, and those naming the demo inventor."""
    found, _total = await catalog.search(
        manager, kind="result", institution_id=institution_id, status=Status.published, page_size=1000
    )
    results = sorted(
        (r for r in found if r.inventors and r.ownership_model == OwnershipModel.institution),
        key=lambda r: r.title_zh,
    )
    naming = [r.id for r in results if any(i.user_id == inventor_id for i in r.inventors)]
    return [r.id for r in results], naming


def other_policy(city: str, place: int) -> dict:
    """OTHERS' policy for the city, the inventors' licence and equity shares a few points above the
    floor by the institution's place (deterministic), taken from the institution's share."""
    policy = dict(OTHERS["by_city"].get(city, OTHERS["by_city"]["其他"]))
    extra = OTHERS["step_bp"] * (place % 4)
    policy["shares"] = [
        {**row, "inventors_bp": row["inventors_bp"] + extra, "institution_bp": row["institution_bp"] - extra}
        if row["income_kind"] in ("licence", "equity")
        else dict(row)
        for row in policy["shares"]
    ]
    return policy


async def load_demo_ledger(session: AsyncSession, institutions: dict[str, uuid.UUID], now: datetime) -> int:
    """Keep every demo institution's ledger: INSTITUTIONS' by their TTO managers, the others' by the
    platform admin (OTHERS); `institutions` maps Chinese names to ids. Returns the entries posted."""
    from marketplace.ledger.schemas import IncomeCreate, PolicyCreate
    from marketplace.ledger.services import LedgerService

    ledger = LedgerService(session)
    accounts = AccountService(session)
    inventor_id = await people.user_id(accounts, INVENTOR)
    today = china_day(now)
    posted = 0
    for item in INSTITUTIONS:
        institution_id = institutions[item["name"]]
        manager = await people.principal(accounts, await people.user_id(accounts, item["manager"]), institution_id)
        policy = dict(item["policy"])
        policy["effective_from"] = today - timedelta(days=policy.pop("days_ago"))
        await ledger.policies.create(manager, msgspec.convert(policy, PolicyCreate, strict=False))
        results, naming = await demo_results(ledger.catalog, manager, institution_id, inventor_id)
        # In the order of their days, so that a payout pays from what was owed on its day.
        events = sorted([*item["incomes"], *item["payouts"]], key=lambda row: -row["days_ago"])
        for row in events:
            if "payee" in row:
                await _payout(ledger, manager, row, today - timedelta(days=row["days_ago"]))
                posted += 1
                continue
            pick = row["result"]
            result_id = (naming if pick.get("names_inventor") else results)[pick["nth"]]
            body = {k: v for k, v in row.items() if k not in ("key", "result", "days_ago", "reverse")}
            data = msgspec.convert(
                {**body, "result_id": result_id, "received_on": today - timedelta(days=row["days_ago"])},
                IncomeCreate,
                strict=False,
            )
            income = await ledger.record_income(manager, data, row["key"])
            posted += 1
            if row.get("reverse"):
                await ledger.reverse(manager, (await ledger.income_entry(income.id)).id, row["reverse"])
                posted += 1
    return posted + await _others(ledger, institutions, today)


async def _others(ledger: LedgerService, institutions: dict[str, uuid.UUID], today: date) -> int:
    """OTHERS: a policy and one licence income for every institution INSTITUTIONS leave out."""
    from marketplace.demo.organizations import ALL_INSTITUTIONS
    from marketplace.ledger.schemas import IncomeCreate, PolicyCreate

    admin = await people.principal(ledger.accounts, await people.user_id(ledger.accounts, ADMIN))
    detailed = {item["name"] for item in INSTITUTIONS}
    income = OTHERS["income"]
    posted = 0
    for place, org in enumerate(ALL_INSTITUTIONS):
        if org.name_zh in detailed or org.name_zh not in institutions:
            continue
        institution_id = institutions[org.name_zh]
        policy = other_policy(org.city, place)
        policy["effective_from"] = today - timedelta(days=policy.pop("days_ago"))
        policy["note"] = f"{org.name_zh}{policy['note']}"
        policy["institution_id"] = institution_id
        await ledger.policies.create(admin, msgspec.convert(policy, PolicyCreate, strict=False))
        results, _naming = await demo_results(ledger.catalog, admin, institution_id)
        if not results:
            raise LookupError(f"demo ledger: {org.name_zh} has no published result with inventors")
        body = {
            "result_id": results[0],
            "kind": income["kind"],
            "source_ref": f"{org.name_zh}{income['source_ref']}",
            "amount": income["amount"] + income["amount_step"] * place,
            "received_on": today - timedelta(days=income["days_ago"]),
            "costs": [{**cost, "document": f"{cost['document']} No.{place:04d}"} for cost in income["costs"]],
        }
        await ledger.record_income(admin, msgspec.convert(body, IncomeCreate, strict=False), f"demo-other-{place:02d}")
        posted += 1
    await ledger.session.flush()
    return posted


async def _payout(ledger: LedgerService, manager: Principal, row: dict, day: date) -> None:
    """`balance_bp` of what the payee is owed, to the TTO, a demo user, or the institution's first
    inventor (by name) who is owed something and has no account here."""
    from marketplace.ledger.models import AccountKind
    from marketplace.ledger.schemas import PayoutCreate

    institution_id = manager.acting_organization_id
    asset = row.get("asset", "CNY")
    user_id, name = None, None
    if row["payee"] == "tto":
        account = await ledger.find_account(institution_id, AccountKind.tto)
    elif row.get("by_name"):
        statement = await ledger.institution_statement(manager, institution_id)
        owed = sorted(
            p.holder_name
            for p in statement.payables
            if p.kind == AccountKind.inventor_payable and p.user_id is None and p.asset == asset and p.outstanding > 0
        )
        name = owed[0]
        account = await ledger.find_account(institution_id, AccountKind.inventor_payable, name=name)
    else:
        user_id = await people.user_id(ledger.accounts, row["user"])
        account = await ledger.find_account(institution_id, AccountKind.inventor_payable, user_id=user_id)
    if account is None:
        raise LookupError(f"demo ledger: nothing was owed for {row}")
    data = PayoutCreate(
        payee=row["payee"],
        user_id=user_id,
        inventor_name=name,
        asset=asset,
        amount=await ledger.balance(account.id, asset) * row["balance_bp"] // 10_000,
        paid_on=day,
        reference=row["reference"],
    )
    await ledger.pay(manager, data)
