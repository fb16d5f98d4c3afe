"""Royalty reports and milestones: what the licensee reports that makes money due, or converts a
pay-later licence.

A report gives net sales for a period; the royalty is net_sales × royalty_bp // 10000, in whole
fen rounded down (the licensee never owes a fraction of a fen). It falls due report_due_days
after the period ends. The use period of a pay-later licence (先使用后付费) is free: a report
made in it owes nothing, and one with sales is the first revenue, which converts the licence;
royalties are owed from then on only if the licensee chooses the revenue share (reports before
the mode is chosen are refused, so none is lost: they wait for the choice).

Annual minimum: the contract years run from the day royalties start (the effective date, or the
conversion for a pay-later licence). A year is complete once a report ends on or after its last
day; its royalties are those of the reports starting within it, and a shortfall below the
minimum becomes an `annual_minimum` item, once per year.
"""

from __future__ import annotations

import builtins
import uuid
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select

from marketplace import states
from marketplace.accounts.models import TTO_ROLES
from marketplace.audit import services as audit
from marketplace.db import china_day, utcnow
from marketplace.errors import Conflict, FieldError, InvalidInput, NotFound, invalid
from marketplace.i18n import N_
from marketplace.licensing.agreements import LICENSEE_ROLES, Agreements
from marketplace.licensing.lifecycle import OBLIGATION
from marketplace.licensing.models import (
    TOTAL_BP,
    Agreement,
    Kind,
    Obligation,
    ObligationKind,
    ObligationState,
    PaymentMode,
    RoyaltyReport,
    State,
)
from marketplace.licensing.schemas import MilestoneReachedIn, RoyaltyReportIn
from marketplace.tenancy import Principal

NO_ROYALTY = N_("This agreement takes no royalty reports now.")


def royalty_of(net_sales_fen: int, royalty_bp: int) -> int:
    """Floor: whole fen, never more than the rate gives."""
    return net_sales_fen * royalty_bp // TOTAL_BP


def contract_years(start: date, until: date) -> builtins.list[tuple[date, date]]:
    """The contract years from `start` whose last day is on or before `until`."""
    years: builtins.list[tuple[date, date]] = []
    number = 0
    while True:
        first = start + relativedelta(years=number)
        last = start + relativedelta(years=number + 1) - timedelta(days=1)
        if last > until:
            return years
        years.append((first, last))
        number += 1


class Royalties(Agreements):
    """Mixed into LicensingService (services.py)."""

    async def _as_party(self, principal: Principal, agreement_id: uuid.UUID) -> Agreement:
        """The licensee's administrator or the institution's TTO, on their own agreement (locked)."""
        principal.require(*TTO_ROLES, *LICENSEE_ROLES)
        agreement = await self.get(principal, agreement_id, for_update=True)
        if principal.organization_id not in (agreement.institution_id, agreement.company_id):
            raise NotFound()
        return agreement

    @staticmethod
    def _owes_royalty(agreement: Agreement) -> bool:
        if agreement.royalty_bp is None:
            return False
        if agreement.state == State.active:
            return True
        return agreement.state == State.converted and agreement.payment_mode == PaymentMode.revenue_share

    @staticmethod
    def royalty_start(agreement: Agreement) -> date:
        if agreement.kind == Kind.pay_later and agreement.converted_at is not None:
            return china_day(agreement.converted_at)
        return agreement.starts_on

    async def _next_sequence(self, agreement: Agreement) -> int:
        last = await self.session.scalar(select(func.max(Obligation.sequence)).where(Obligation.agreement_id == agreement.id))
        return (last or 0) + 1

    async def report_royalties(
        self,
        principal: Principal,
        agreement_id: uuid.UUID,
        data: RoyaltyReportIn,
        *,
        ip: str | None = None,
        now: datetime | None = None,
    ) -> RoyaltyReport:
        """Net sales for a period: the royalty due, the annual minimum's top-up once a year is
        complete, or — in a pay-later licence's use period — the first revenue, which converts it."""
        agreement = await self._as_party(principal, agreement_id)
        now = now or utcnow()
        in_use = agreement.state == State.in_use
        owes = self._owes_royalty(agreement)
        if not (in_use or owes):
            field = N_("Not allowed from the agreement's current state.")
            if agreement.state == State.converted and agreement.payment_mode is None:
                field = N_("Choose the payment mode first.")
            raise Conflict(NO_ROYALTY, FieldError("period_start", field))
        errors = []
        today = china_day(now)
        if data.period_end < data.period_start:
            errors.append(FieldError("period_end", N_("Must not be before the period's start.")))
        if data.period_end > today:
            errors.append(FieldError("period_end", N_("Report a period that has ended.")))
        if data.period_start < agreement.starts_on:
            errors.append(FieldError("period_start", N_("Must fall within the agreement's term.")))
        if data.period_end > agreement.ends_on:
            errors.append(FieldError("period_end", N_("Must fall within the agreement's term.")))
        if owes and agreement.kind == Kind.pay_later and data.period_start < self.royalty_start(agreement):
            errors.append(FieldError("period_start", N_("Sales before the conversion fall in the free use period.")))
        overlapping = await self.session.scalar(
            select(func.count())
            .select_from(RoyaltyReport)
            .where(
                RoyaltyReport.agreement_id == agreement.id,
                RoyaltyReport.period_start <= data.period_end,
                RoyaltyReport.period_end >= data.period_start,
            )
        )
        if overlapping:
            message = N_("Overlaps a period already reported.")
            errors += [FieldError("period_start", message), FieldError("period_end", message)]
        if errors:
            raise InvalidInput(*errors)

        assert not owes or agreement.royalty_bp is not None
        royalty = royalty_of(data.net_sales_fen, agreement.royalty_bp) if owes and agreement.royalty_bp else 0
        report = RoyaltyReport(
            id=uuid.uuid4(),
            agreement_id=agreement.id,
            period_start=data.period_start,
            period_end=data.period_end,
            net_sales_fen=data.net_sales_fen,
            royalty_fen=royalty,
            first_revenue=in_use and data.net_sales_fen > 0,
            reported_by_user_id=principal.user_id,
        )
        self.session.add(report)
        await self.session.flush()
        obligation = None
        if royalty > 0:
            obligation = await self._due(
                agreement,
                ObligationKind.royalty,
                royalty,
                data.period_end + timedelta(days=agreement.report_due_days),
                royalty_report_id=report.id,
            )
        minimums = await self._annual_minimums(agreement, data.period_end) if owes else []
        await audit.record(
            self.session,
            "royalty_reported",
            actor_user_id=principal.user_id,
            organization_id=principal.organization_id,
            subject=agreement,
            ip=ip,
            report_id=report.id,
            period_start=data.period_start.isoformat(),
            period_end=data.period_end.isoformat(),
            net_sales_fen=data.net_sales_fen,
            royalty_fen=royalty,
            obligation_id=obligation.id if obligation else None,
            annual_minimum_ids=[str(item.id) for item in minimums],
            first_revenue=report.first_revenue,
        )
        if report.first_revenue:
            await self.convert(agreement, "first_revenue", now, principal)
        return report

    async def _due(self, agreement: Agreement, kind: ObligationKind, amount: int, due_on: date, **fields) -> Obligation:
        obligation = Obligation(
            id=uuid.uuid4(),
            agreement_id=agreement.id,
            sequence=await self._next_sequence(agreement),
            kind=kind,
            state=ObligationState.due,
            amount_fen=amount,
            due_on=due_on,
            **fields,
        )
        self.session.add(obligation)
        await self.session.flush()
        return obligation

    async def _annual_minimums(self, agreement: Agreement, reported_until: date) -> builtins.list[Obligation]:
        """The top-ups of the contract years this report completes, each year once."""
        if not agreement.annual_minimum_fen:
            return []
        created = []
        # The years already assessed, read once rather than once per contract year.
        assessed = set(
            await self.session.scalars(
                select(Obligation.due_on).where(
                    Obligation.agreement_id == agreement.id, Obligation.kind == ObligationKind.annual_minimum
                )
            )
        )
        for first, last in contract_years(self.royalty_start(agreement), min(reported_until, agreement.ends_on)):
            due_on = last + timedelta(days=agreement.report_due_days)
            if due_on in assessed:
                continue
            royalties = await self.session.scalar(
                select(func.coalesce(func.sum(RoyaltyReport.royalty_fen), 0)).where(
                    RoyaltyReport.agreement_id == agreement.id,
                    RoyaltyReport.period_start.between(first, last),
                )
            )
            shortfall = agreement.annual_minimum_fen - int(royalties or 0)
            if shortfall > 0:
                created.append(await self._due(agreement, ObligationKind.annual_minimum, shortfall, due_on))
        return created

    async def royalty_reports(self, principal: Principal, agreement_id: uuid.UUID) -> builtins.list[RoyaltyReport]:
        """An agreement's reports, by period, for whoever may read the agreement."""
        agreement = await self.get(principal, agreement_id)
        stmt = select(RoyaltyReport).where(RoyaltyReport.agreement_id == agreement.id).order_by(RoyaltyReport.period_start)
        return list((await self.session.scalars(stmt)).all())

    async def report_obligations(self, report_ids: set[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        """The royalty item each report created, if any."""
        if not report_ids:
            return {}
        rows = await self.session.execute(
            select(Obligation.royalty_report_id, Obligation.id).where(Obligation.royalty_report_id.in_(report_ids))
        )
        return {report_id: obligation_id for report_id, obligation_id in rows if report_id is not None}

    # ----- milestones ---------------------------------------------------------------------------

    async def reach_milestone(
        self,
        principal: Principal,
        agreement_id: uuid.UUID,
        data: MilestoneReachedIn,
        *,
        ip: str | None = None,
        now: datetime | None = None,
    ) -> Agreement:
        """A milestone reached: the schedule's milestone item falls due some days later, or —
        without an item — a pay-later licence in use converts at its conversion milestone."""
        agreement = await self._as_party(principal, agreement_id)
        now = now or utcnow()
        if data.reached_on > china_day(now):
            raise invalid("reached_on", N_("Cannot be in the future."))
        if data.reached_on < agreement.starts_on:
            raise invalid("reached_on", N_("Must fall within the agreement's term."))
        if data.obligation_id is None:
            if agreement.state != State.in_use or not agreement.conversion_milestone:
                raise Conflict(
                    N_("Only a pay-later licence in its use period converts at a milestone."),
                    FieldError("obligation_id", N_("Name the milestone item of the schedule.")),
                )
            await audit.record(
                self.session,
                "conversion_milestone_reached",
                actor_user_id=principal.user_id,
                organization_id=principal.organization_id,
                subject=agreement,
                ip=ip,
                milestone=agreement.conversion_milestone,
                reached_on=data.reached_on.isoformat(),
            )
            await self.convert(agreement, "milestone", now, principal)
            return agreement
        obligation = await self.session.scalar(
            select(Obligation)
            .where(Obligation.id == data.obligation_id, Obligation.agreement_id == agreement.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if obligation is None or obligation.kind != ObligationKind.milestone:
            raise invalid("obligation_id", N_("No milestone of this agreement's schedule has this id."))
        if agreement.state not in (State.active, State.converted):
            raise Conflict(
                N_("A milestone falls due only on an agreement in force."),
                FieldError("obligation_id", N_("Not allowed from the agreement's current state.")),
            )
        if obligation.state != ObligationState.pending:
            raise Conflict(
                N_("This milestone was reached already, or its item has ended."),
                FieldError("obligation_id", N_("Not allowed from the item's current state.")),
            )
        assert obligation.due_days_after_event is not None, "a milestone has its due rule"
        obligation.reached_on = data.reached_on
        obligation.due_on = data.reached_on + timedelta(days=obligation.due_days_after_event)
        await states.apply(
            self.session,
            OBLIGATION,
            principal,
            obligation,
            "fall_due",
            as_system=True,
            now=now,
            ip=ip,
            context=agreement,
            details={"reached_on": data.reached_on.isoformat(), "due_on": obligation.due_on.isoformat()},
        )
        return agreement
