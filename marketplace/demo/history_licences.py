"""The history's licences: drafted from its agreed match requests by the institution's TTO manager,
approved and signed on their days, then run as licences run — quarterly royalty reports on
exclusive and non-exclusive ones, pay-later licences converted (paying by instalments), exited or
in default, and every item due paid a little before or after its due day, through the licensing
payment service, so ledger income accrues month by month."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

import msgspec

from marketplace.demo.history import DATA, PlannedAgreement, PlannedRequest
from marketplace.demo.licensing import DEFAULTS, HistoryDays
from marketplace.tenancy import Principal

if TYPE_CHECKING:
    from marketplace.licensing.services import LicensingService

QUARTER_DAYS = 91
WAN = 1_000_000  # fen in 万元


async def load_history_licences(demo: HistoryDays, planned: list[PlannedRequest], made: dict[int, uuid.UUID]) -> int:
    """Every planned agreement, on the match request `made` for it. Returns the payments recorded."""
    from marketplace.licensing.services import LicensingService

    service = LicensingService(demo.session)
    paid = 0
    for item in planned:
        if item.agreement is None:
            continue
        institution_id = demo.institutions[item.institution]
        manager = await demo.person(DATA["institutions"][item.institution]["tto"], institution_id)
        company = await demo.person(item.company)
        agreement_id = await _draft(service, demo, manager, item.agreement, made[item.number])
        paid += await _run(service, demo, agreement_id, item.agreement, manager=manager, company=company)
    return paid


async def _draft(
    service: LicensingService, demo: HistoryDays, manager: Principal, plan: PlannedAgreement, match_id: uuid.UUID
) -> uuid.UUID:
    from marketplace.licensing.schemas import AgreementCreate

    starts_on = demo.day(plan.signed) if plan.signed is not None else demo.today + timedelta(days=14)
    terms = dict(plan.terms)
    terms["instalments"] = [
        {"due_on": (starts_on + timedelta(days=row["days_from_start"])).isoformat(), "amount_fen": row["amount_fen"]}
        for row in terms.get("instalments", ())
    ]
    body = {**DEFAULTS, **terms, "starts_on": starts_on.isoformat(), "match_request_id": str(match_id)}
    agreement = await service.create(manager, msgspec.convert(body, AgreementCreate), now=demo.at(plan.drafted))
    return agreement.id


async def _run(
    service: LicensingService,
    demo: HistoryDays,
    agreement_id: uuid.UUID,
    plan: PlannedAgreement,
    *,
    manager: Principal,
    company: Principal,
) -> int:
    """Approve, sign (both sides; a licence whose day has come takes effect), then its life."""
    from marketplace.licensing.schemas import TransitionIn

    if plan.approved is None:
        return 0
    await service.transition(manager, agreement_id, TransitionIn(action="approve"), now=demo.at(plan.approved))
    if plan.signed is None:
        return 0
    for signer in (manager, company):
        agreement = await service.get(signer, agreement_id)
        sign = TransitionIn(action="sign", document_sha256=agreement.document_sha256)
        await service.transition(signer, agreement_id, sign, now=demo.at(plan.signed))
    rng = random.Random(plan.seed)
    if plan.kind in ("exclusive", "non_exclusive"):
        await _royalty_reports(service, demo, rng, agreement_id, company)
    elif plan.kind == "pay_later":
        if plan.fate == "exited":
            assert plan.exit_at is not None
            exit_ = TransitionIn(action="exit", reason=DATA["reasons"]["withdraw"])
            await service.transition(company, agreement_id, exit_, now=demo.at(plan.exit_at))
            return 0
        if plan.fate in ("converted", "default"):
            await _convert(service, demo, rng, agreement_id, plan, manager=manager, company=company)
        if plan.fate == "default":
            await _mark_default(service, demo, agreement_id, manager)
            return 0
    return await _pay_what_is_due(service, demo, rng, agreement_id, manager)


async def _royalty_reports(
    service: LicensingService, demo: HistoryDays, rng: random.Random, agreement_id: uuid.UUID, company: Principal
) -> None:
    """A report for each quarter since the licence took effect, 5–20 days after the quarter ends."""
    from marketplace.licensing.schemas import RoyaltyReportIn

    agreement = await service.get(company, agreement_id)
    start = agreement.starts_on
    while True:
        end = start + timedelta(days=QUARTER_DAYS - 1)
        reported = end + timedelta(days=rng.randint(5, 20))
        if reported >= demo.today or end > agreement.ends_on:
            return
        report = RoyaltyReportIn(period_start=start, period_end=end, net_sales_fen=rng.randint(50, 500) * WAN)
        await service.report_royalties(company, agreement_id, report, now=demo.on(reported))
        start = end + timedelta(days=1)


async def _convert(
    service: LicensingService,
    demo: HistoryDays,
    rng: random.Random,
    agreement_id: uuid.UUID,
    plan: PlannedAgreement,
    *,
    manager: Principal,
    company: Principal,
) -> None:
    """Converted on the use period's last day, as the daily job does; the licensee chooses a few
    days later: instalments, or for one in default a lump sum it never pays."""
    from marketplace.licensing.models import PaymentMode
    from marketplace.licensing.schemas import TransitionIn

    agreement = await service.get(manager, agreement_id, for_update=True)
    assert agreement.use_ends_on is not None
    await service.convert(agreement, "use_period_end", demo.on(agreement.use_ends_on, 2))
    chosen = agreement.use_ends_on + timedelta(days=rng.randint(3, 7))
    if plan.fate == "default":
        choice = TransitionIn(action="choose_payment_mode", payment_mode=PaymentMode.lump_sum)
    else:
        choice = TransitionIn(
            action="choose_payment_mode", payment_mode=PaymentMode.instalments, instalments=plan.terms["max_instalments"]
        )
    await service.transition(company, agreement_id, choice, now=demo.on(chosen))


async def _mark_default(service: LicensingService, demo: HistoryDays, agreement_id: uuid.UUID, manager: Principal) -> None:
    """The daily licensing job's run for this licence on the day after the grace period (in this
    session, as the job's own would): the unpaid lump sum is marked in default."""
    from marketplace.licensing.reminders import Run, _one

    due = [o.due_on for o in (await service.obligations_of({agreement_id}))[agreement_id] if o.due_on is not None]
    agreement = await service.get(manager, agreement_id)
    day = max(due) + timedelta(days=agreement.grace_days + 1)
    await _one(demo.session, None, agreement_id, day, demo.on(day, 3), Run())


async def _pay_what_is_due(
    service: LicensingService, demo: HistoryDays, rng: random.Random, agreement_id: uuid.UUID, manager: Principal
) -> int:
    """Every item due, paid in full between 5 days before and 20 days after its due day (never
    before the licence took effect, never after the load); items due later stay open."""
    from marketplace.licensing.models import ObligationState
    from marketplace.licensing.schemas import PaymentIn

    agreement = await service.get(manager, agreement_id)
    paid = 0
    for obligation in (await service.obligations_of({agreement_id}))[agreement_id]:
        if obligation.state != ObligationState.due or obligation.due_on is None:
            continue
        day = max(obligation.due_on + timedelta(days=rng.randint(-5, 20)), agreement.starts_on + timedelta(days=3))
        if day >= demo.today:
            continue
        payment = PaymentIn(
            obligation_id=obligation.id,
            amount_fen=obligation.amount_fen - obligation.paid_fen,
            received_on=day,
            reference=f"{DATA['agreements']['references']} {day:%Y%m%d}-{obligation.sequence}",
        )
        await service.record_payment(manager, agreement_id, payment, f"history-{obligation.id}", now=demo.on(day, 16))
        paid += 1
    return paid
