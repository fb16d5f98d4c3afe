"""The demo's licences (data/licensing.yaml), drafted, approved, signed and run through the
licensing service by the people of each side, on the days the file gives: every kind and every
state, pay-later licences in use, converted, exited and in default, payments that reach the
ledger (loaded before, so each institution's policy is in force), and an open licence taken twice.
Licensing is imported inside the functions, as matching and the ledger are."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.services import AccountService
from marketplace.db import CHINA_TIME, china_day
from marketplace.demo import people
from marketplace.demo.ledger import demo_results
from marketplace.demo.tables import table
from marketplace.tenancy import Principal

if TYPE_CHECKING:
    from marketplace.licensing.services import LicensingService

_DATA = table("licensing")
DEFAULTS: dict = _DATA["defaults"]
AGREEMENTS: list[dict] = _DATA["agreements"]
OPEN_LICENCES: list[dict] = _DATA["open_licences"]
INVENTOR = "inventor@pujiang.example"
# The steps a person takes through the lifecycle (the others are the system's or other services').
TRANSITIONS = frozenset({"approve", "sign", "exit", "terminate", "cancel"})
STEP_FIELDS = ("days_ago", "action", "by", "trigger", "item", "amount", "reference", "period_days_ago", "net_sales_fen")


class DemoDays:
    """The people, results and moments a demo loader needs, looked up once (licensing's and beds')."""

    def __init__(self, session: AsyncSession, institutions: dict[str, uuid.UUID], now: datetime) -> None:
        self.session = session
        self.accounts = AccountService(session)
        self.institutions = institutions
        self.now = now
        self.today = china_day(now)
        self.known: dict[tuple[str, uuid.UUID | None], Principal] = {}
        self.used: set[uuid.UUID] = set()

    async def person(self, email: str, organization_id: uuid.UUID | None = None) -> Principal:
        key = (email, organization_id)
        if key not in self.known:
            self.known[key] = await people.principal(self.accounts, await people.user_id(self.accounts, email), organization_id)
        return self.known[key]

    def at(self, days_ago: int) -> datetime:
        return self.now - timedelta(days=days_ago)

    def day(self, days_ago: int) -> date:
        return self.today - timedelta(days=days_ago)

    async def result(self, service: LicensingService, manager: Principal, institution_id: uuid.UUID, pick: dict) -> uuid.UUID:
        """The `nth` result not used yet, counted from the end of the institution's list (ledger.py's)."""
        inventor = await people.user_id(self.accounts, INVENTOR)
        results, naming = await demo_results(service.catalog, manager, institution_id, inventor)
        choices = [r for r in reversed(naming if pick.get("names_inventor") else results) if r not in self.used]
        chosen = choices[pick["nth"]]
        self.used.add(chosen)
        return chosen


class HistoryDays(DemoDays):
    """DemoDays with fractional days ago (a step's hour matters for the response clock)."""

    def at(self, days_ago: float) -> datetime:
        return self.now - timedelta(days=days_ago)

    def day(self, days_ago: float) -> date:
        return china_day(self.at(days_ago))

    def on(self, day: date, hour: int = 10) -> datetime:
        """A moment of the day (China time), never after the load."""
        return min(datetime.combine(day, time(hour), CHINA_TIME), self.now - timedelta(minutes=1))


async def load_demo_licensing(session: AsyncSession, institutions: dict[str, uuid.UUID], now: datetime) -> int:
    """Make AGREEMENTS and OPEN_LICENCES; `institutions` maps Chinese names to ids. Returns the
    agreements made."""
    from marketplace.licensing.services import LicensingService

    service = LicensingService(session)
    demo = DemoDays(session, institutions, now)
    made = 0
    for item in AGREEMENTS:
        await _agreement(service, demo, item)
        made += 1
    for item in OPEN_LICENCES:
        made += await _open_licence(service, demo, item)
    await session.flush()
    return made


async def load_agreement(
    session: AsyncSession, institutions: dict[str, uuid.UUID], now: datetime, item: dict, match_request_id: uuid.UUID
) -> None:
    """One licence drafted from a given agreed match request (the events' demo: the request a
    meeting opened), with AGREEMENTS' fields and steps."""
    from marketplace.licensing.services import LicensingService

    await _agreement(LicensingService(session), DemoDays(session, institutions, now), item, match_request_id)


async def _agreement(service: LicensingService, demo: DemoDays, item: dict, match_request_id: uuid.UUID | None = None) -> None:
    from marketplace.licensing.schemas import AgreementCreate

    institution_id = demo.institutions[item["institution"]]
    drafter = await demo.person(item["drafter"], institution_id)
    company = await demo.person(item["company"])
    starts_on = demo.day(item["starts_days_ago"])
    terms = {
        k: v
        for k, v in item.items()
        if k not in ("key", "institution", "drafter", "company", "from_match", "result", "starts_days_ago", "steps")
    }
    terms["instalments"] = [
        {"due_on": (starts_on + timedelta(days=row["days_from_start"])).isoformat(), "amount_fen": row["amount_fen"]}
        for row in item.get("instalments", ())
    ]
    body = {**DEFAULTS, **terms, "starts_on": starts_on.isoformat()}
    if match_request_id is not None:
        body["match_request_id"] = str(match_request_id)
    elif item.get("from_match"):
        body["match_request_id"] = str(await _agreed_match(service, drafter, company))
    else:
        body["company_id"] = str(company.organization_id)
        body["result_ids"] = [str(await demo.result(service, drafter, institution_id, item["result"]))]
    first_day = max([row["days_ago"] for row in item["steps"]] + [item["starts_days_ago"]]) + 1
    agreement = await service.create(drafter, msgspec.convert(body, AgreementCreate), now=demo.at(first_day))
    manager = await demo.person(_manager(item), institution_id)
    for step in item["steps"]:
        await _step(service, demo, agreement.id, step, manager=manager, company=company)


def _manager(item: dict) -> str:
    """The institution's TTO manager (the drafter, or the manager of the drafter's institution)."""
    return item["drafter"].replace("tto.staff@", "tto.manager@")


async def _agreed_match(service: LicensingService, tto: Principal, company: Principal) -> uuid.UUID:
    from marketplace.matching.requests.models import State

    requests, _total = await service.matching.list(tto, state=State.agreed)
    for request in requests:
        if request.company_id == company.organization_id:
            return request.id
    raise LookupError("demo licensing: no agreed match request between these two")


async def _step(
    service: LicensingService, demo: DemoDays, agreement_id: uuid.UUID, step: dict, *, manager: Principal, company: Principal
) -> None:
    from marketplace.licensing.schemas import PaymentIn, RoyaltyReportIn, TransitionIn

    when = demo.at(step["days_ago"])
    action = step["action"]
    if action == "sign":  # the institution first, then the company, on the document approved
        for signer in (manager, company):
            agreement = await service.get(signer, agreement_id)
            data = TransitionIn(action="sign", document_sha256=agreement.document_sha256)
            await service.transition(signer, agreement_id, data, now=when)
    elif action in TRANSITIONS:
        actor = company if action == "exit" or step.get("by") == "company" else manager
        await service.transition(actor, agreement_id, TransitionIn(action=action, reason=step.get("reason", "")), now=when)
    elif action == "convert":
        agreement = await service.get(manager, agreement_id, for_update=True)
        await service.convert(agreement, step["trigger"], when)
    elif action == "choose":
        data = TransitionIn(action="choose_payment_mode", payment_mode=step["payment_mode"], instalments=step.get("instalments"))
        await service.transition(company, agreement_id, data, now=when)
    elif action == "pay":
        obligation = (await service.obligations_of({agreement_id}))[agreement_id][step["item"] - 1]
        payment = PaymentIn(
            obligation_id=obligation.id,
            amount_fen=step.get("amount", obligation.amount_fen - obligation.paid_fen),
            received_on=demo.day(step["days_ago"]),
            reference=step.get("reference", ""),
        )
        await service.record_payment(manager, agreement_id, payment, f"demo-{agreement_id}-{step['item']}", now=when)
    elif action == "report":
        start, end = step["period_days_ago"]
        report = RoyaltyReportIn(period_start=demo.day(start), period_end=demo.day(end), net_sales_fen=step["net_sales_fen"])
        await service.report_royalties(company, agreement_id, report, now=when)
    else:
        raise ValueError(f"demo licensing: unknown step {action!r}")


async def _open_licence(service: LicensingService, demo: DemoDays, item: dict) -> int:
    """Declared by the institution's TTO manager, taken by each company in `takers`: the
    agreements made."""
    from marketplace.licensing.open_licence_schemas import OpenLicenceIn

    institution_id = demo.institutions[item["institution"]]
    declarer = await demo.person(item["declarer"], institution_id)
    listing_id = await demo.result(service, declarer, institution_id, item["result"])
    fields = {k: v for k, v in item.items() if k not in ("institution", "declarer", "result", "takers")}
    declaration = await service.declare(declarer, msgspec.convert({**fields, "listing_id": str(listing_id)}, OpenLicenceIn))
    for email in item["takers"]:
        await service.take_open_licence(await demo.person(email), declaration.id, now=demo.now)
    return len(item["takers"])
