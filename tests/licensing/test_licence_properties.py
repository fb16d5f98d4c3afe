"""Random histories of pay-later licences (先使用后付费) against the real PostgreSQL: transitions
(convert early, choose a payment mode, exit, terminate), royalty reports (the first revenue
converts), the conversion milestone, payments (some too large, some for nothing due, some
replayed) in any order, on a simulated calendar. After every step: no payment is accepted before
conversion, nothing is due after exit or termination, no amount is negative, and every payment is
in the ledger exactly once (its incomes sum to it).

Hypothesis drives a RuleBasedStateMachine, which is synchronous: it runs in a worker thread and
hands each step's coroutine to the test's event loop, where the session lives."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, time, timedelta

import msgspec
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.db import CHINA_TIME, china_today
from marketplace.errors import DomainError
from marketplace.ledger.models import Income
from marketplace.licensing.models import Agreement, Obligation, Payment, RoyaltyReport
from marketplace.licensing.schemas import MilestoneReachedIn, PaymentIn, RoyaltyReportIn, TransitionIn
from marketplace.licensing.services import LicensingService
from tests.licensing.factories import in_force, licence_body, money_result, obligations, party, pay_later_body

REVENUE_SHARE_BP = 300


async def test_random_histories_of_pay_later_licences_keep_the_money_sound(db, world) -> None:
    first, second = await money_result(db, world), await money_result(db, world)
    results = [str(first.id), str(second.id)]
    start = china_today() - timedelta(days=300)
    tto, manager_email = await party(db, world, "institution"), world.emails[Role.tto_manager]
    admin = await party(db, world, "company")
    assert tto.email == manager_email
    # An item due on another agreement: what a payment "for" a licence that owes nothing names.
    other = await in_force(db, world, licence_body("non_exclusive", result_ids=results[:1], instalments=[], milestones=[]))
    foreign_id = (await obligations(db, other.id))[0].id
    service = LicensingService(db)
    loop = asyncio.get_running_loop()

    def run(coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    async def attempt(coroutine) -> object | None:
        """The step's answer, committed; None (and nothing written) if the service refused."""
        try:
            answer = await coroutine
        except DomainError:
            await db.rollback()
            return None
        await db.commit()
        return answer

    class PayLaterLicence(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            body = pay_later_body(result_ids=results, starts_on=start.isoformat(), royalty_bp=REVENUE_SHARE_BP)
            self.id = run(in_force(db, world, body)).id
            self.state, self.mode = "in_use", None
            self.day = start  # the simulated calendar
            self.reported_until = start - timedelta(days=1)
            self.converted_on = None
            self.last_payment: tuple[str, PaymentIn, uuid.UUID] | None = None

        def now(self) -> datetime:
            return datetime.combine(self.day, time(12), tzinfo=CHINA_TIME)

        def converted(self, today) -> None:
            self.state, self.converted_on = "converted", today
            self.reported_until = max(self.reported_until, today - timedelta(days=1))

        @initialize(
            mode=st.sampled_from([None, "lump_sum", "instalments", "deferred", "revenue_share"]),
            days=st.integers(1, 90),
            sales=st.sampled_from([None, 0, 5_000_000]),
        )
        def begin(self, mode: str | None, days: int, sales: int | None) -> None:
            """Some histories start in the use period (some with a report), the others a while
            later, converted in a mode (and a payment tried at once)."""
            self.time_passes(days)
            if mode is None and sales is not None:
                self.report(sales)
            if mode is not None:
                self.convert_early()
                self.choose_payment_mode(mode, 2)
                self.pay(0, 50, over=False)  # nothing due yet for a revenue share: refused then

        @rule(days=st.integers(1, 20))
        def time_passes(self, days: int) -> None:
            self.day = min(self.day + timedelta(days=days), china_today())

        def transition(self, principal, action: str, **fields) -> bool:
            data = msgspec.convert({"action": action, **fields}, TransitionIn)
            return run(attempt(service.transition(principal, self.id, data, now=self.now()))) is not None

        @rule()
        def convert_early(self) -> None:
            assert self.transition(admin, "convert") == (self.state == "in_use")
            if self.state == "in_use":
                self.converted(self.day)

        @rule(mode=st.sampled_from(["lump_sum", "instalments", "deferred", "revenue_share"]), count=st.integers(1, 4))
        def choose_payment_mode(self, mode: str, count: int) -> None:
            fields = {"payment_mode": mode, "instalments": count if mode == "instalments" else None}
            chosen = self.transition(admin, "choose_payment_mode", **fields)
            assert chosen == (self.state == "converted" and self.mode is None)
            if chosen:
                self.mode = mode

        @rule()
        def exit(self) -> None:
            assert self.transition(admin, "exit", reason="技术路线调整") == (self.state == "in_use")
            if self.state == "in_use":
                self.state = "exited"

        @rule()
        def terminate(self) -> None:
            ends = self.state in ("in_use", "converted")
            assert self.transition(tto, "terminate", reason="违约") == ends
            if ends:
                self.state = "terminated"

        @rule(net_sales=st.one_of(st.just(0), st.integers(1, 20_000_000)))
        def report(self, net_sales: int) -> None:
            if self.reported_until >= self.day:
                return  # nothing new to report yet
            period = {"period_start": self.reported_until + timedelta(days=1), "period_end": self.day}
            data = msgspec.convert({**period, "net_sales_fen": net_sales}, RoyaltyReportIn)
            found = run(attempt(service.report_royalties(admin, self.id, data, now=self.now())))
            takes = self.state == "in_use" or (self.state == "converted" and self.mode == "revenue_share")
            assert (found is not None) == takes
            if found is None:
                return
            self.reported_until = self.day
            assert found.royalty_fen == (net_sales * REVENUE_SHARE_BP // 10_000 if self.state == "converted" else 0)
            if self.state == "in_use" and net_sales > 0:
                self.converted(self.day)  # the first revenue

        @rule()
        def conversion_milestone(self) -> None:
            data = MilestoneReachedIn(reached_on=self.day)
            done = run(attempt(service.reach_milestone(admin, self.id, data, now=self.now())))
            assert (done is not None) == (self.state == "in_use")
            if done is not None:
                self.converted(self.day)

        @rule(pick=st.integers(0, 10), share=st.integers(1, 100), over=st.booleans())
        def pay(self, pick: int, share: int, over: bool) -> None:
            items = run(obligations(db, self.id))
            item = items[pick % len(items)] if items else None
            outstanding = item.amount_fen - item.paid_fen if item else 0
            amount = outstanding + 1 if over else max(1, outstanding * share // 100)
            body = {"obligation_id": item.id if item else foreign_id, "amount_fen": amount, "received_on": self.day}
            data, key = msgspec.convert(body, PaymentIn), uuid.uuid4().hex
            owed = item is not None and item.state == "due" and self.state == "converted" and not over
            found = run(attempt(service.record_payment(tto, self.id, data, key, now=self.now())))
            assert (found is not None) == owed
            if found is not None:
                payment, new = found
                assert new
                self.last_payment = (key, data, payment.id)

        @rule()
        def replay(self) -> None:
            if self.last_payment is None:
                return
            key, data, payment_id = self.last_payment
            found = run(attempt(service.record_payment(tto, self.id, data, key, now=self.now())))
            assert found is not None and found[0].id == payment_id and found[1] is False

        @invariant()
        def the_money_is_sound(self) -> None:
            run(self.check())

        async def check(self) -> None:
            agreement = await db.scalar(
                select(Agreement).where(Agreement.id == self.id).execution_options(populate_existing=True)
            )
            assert agreement is not None and agreement.state == self.state
            items = await obligations(db, self.id)
            payments = list((await db.scalars(select(Payment).where(Payment.agreement_id == self.id))).all())
            if self.converted_on is None:
                assert items == [] and payments == []  # nothing owed nor paid before conversion
            if self.state in ("exited", "terminated"):
                assert not [item for item in items if item.state in ("pending", "due")]
            for item in items:
                assert 0 <= item.paid_fen <= item.amount_fen and item.amount_fen > 0
                assert item.paid_fen == sum(p.amount_fen for p in payments if p.obligation_id == item.id)
            reports = await db.scalars(select(RoyaltyReport).where(RoyaltyReport.agreement_id == self.id))
            assert all(report.royalty_fen >= 0 and report.net_sales_fen >= 0 for report in reports)
            for payment in payments:
                incomes = (
                    await db.execute(
                        select(func.count(), func.sum(Income.amount), func.array_agg(Income.id)).where(
                            Income.source_kind == "licensing_payment", Income.source_ref == str(payment.id)
                        )
                    )
                ).one()
                count, total, ids = incomes
                assert total == payment.amount_fen and count == len(payment.income_ids) == len(set(ids))
                assert set(ids) == set(payment.income_ids)
            await db.rollback()

    machine_settings = settings(
        max_examples=25,
        stateful_step_count=20,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    await asyncio.to_thread(run_state_machine_as_test, PayLaterLicence, settings=machine_settings)
    # Every payment of every history is in the ledger once: no income of a payment that is not there.
    stray = await db.scalar(
        select(func.count())
        .select_from(Income)
        .where(
            Income.source_kind == "licensing_payment",
            ~Income.source_ref.in_(select(func.cast(Payment.id, Income.source_ref.type))),
        )
    )
    assert stray == 0
    assert await db.scalar(select(func.count()).select_from(Payment)) > 0  # the histories did reach payments
    print(
        "DEBUG",
        await db.scalar(select(func.count()).select_from(Agreement)),
        await db.scalar(select(func.count()).select_from(Payment)),
        await db.scalar(select(func.count()).select_from(RoyaltyReport)),
    )
    assert await db.scalar(select(func.count()).select_from(Obligation).where(Obligation.paid_fen < 0)) == 0
