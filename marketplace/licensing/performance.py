"""A company's performance record (企业履约信用档案): per agreement, how many items of its schedules
it paid on time, paid late, has late now and has in default. The company's administrator sees its
own; every institution's TTO sees any company's, as an institution considering a new deal with it
would; the platform sees all. Only those who see an agreement itself see its title.

And the institution's side: its agreements with items in default (standing.py says which).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date

from msgspec import Struct
from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import i18n
from marketplace.accounts.models import TTO_ROLES, Role
from marketplace.accounts.services import AccountService
from marketplace.db import china_today
from marketplace.errors import NotFound
from marketplace.licensing import standing
from marketplace.licensing.lifecycle import STATE_LABELS
from marketplace.licensing.models import Agreement, Kind, Obligation, ObligationState, State
from marketplace.tenancy import Principal

# Agreements that never bound the company (unsigned, cancelled) are not part of its record.
RECORDED_STATES = frozenset({State.signed, State.active, State.in_use, State.converted, State.exited, State.terminated})


class Counts(Struct):
    paid_on_time: int = 0
    paid_late: int = 0
    late: int = 0  # unpaid after the due day, still within the grace days
    in_default: int = 0  # unpaid past the grace days
    overdue_fen: int = 0  # what is unpaid on the late and defaulted items

    def add(self, obligation: Obligation, agreement: Agreement, today: date) -> None:
        if obligation.state == ObligationState.paid and obligation.due_on is not None and obligation.paid_on is not None:
            if obligation.paid_on <= obligation.due_on:
                self.paid_on_time += 1
            else:
                self.paid_late += 1
        elif standing.in_default(obligation, agreement, today):
            self.in_default += 1
            self.overdue_fen += standing.outstanding(obligation)
        elif standing.is_late(obligation, today):
            self.late += 1
            self.overdue_fen += standing.outstanding(obligation)

    def plus(self, other: Counts) -> None:
        for name in self.__struct_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class AgreementRecord(Struct, kw_only=True):
    agreement_id: uuid.UUID
    title: str | None  # only for those who see the agreement
    kind: Kind
    state: State
    state_label: str
    institution_id: uuid.UUID
    institution_name: str
    starts_on: date
    counts: Counts


class PerformanceRecord(Struct, kw_only=True):
    company_id: uuid.UUID
    company_name: str
    as_of: date
    totals: Counts
    agreements: list[AgreementRecord]


class DefaultedItem(Struct, kw_only=True):
    obligation_id: uuid.UUID
    kind: str
    due_on: date
    outstanding_fen: int
    marked: bool  # the daily job has marked it (and told both sides)


class AgreementInDefault(Struct, kw_only=True):
    agreement_id: uuid.UUID
    title: str
    company_id: uuid.UUID
    company_name: str
    items: list[DefaultedItem]


class Performance:
    """Mixed into LicensingService (services.py)."""

    session: AsyncSession
    accounts: AccountService

    @staticmethod
    def _may_read_record(principal: Principal, company_id: uuid.UUID) -> None:
        principal.require(Role.company_admin, *TTO_ROLES, Role.platform_admin, Role.platform_analyst)
        if principal.role == Role.company_admin and principal.organization_id != company_id:
            raise NotFound()

    @staticmethod
    def _sees_agreement(principal: Principal, agreement: Agreement) -> bool:
        return principal.is_platform or principal.organization_id in (agreement.institution_id, agreement.company_id)

    async def performance_record(
        self, principal: Principal, company_id: uuid.UUID, today: date | None = None
    ) -> PerformanceRecord:
        self._may_read_record(principal, company_id)
        today = today or china_today()
        company = await self.accounts.public_organization(company_id, "company")
        agreements = list(
            await self.session.scalars(
                select(Agreement)
                .where(Agreement.company_id == company_id, Agreement.state.in_(RECORDED_STATES))
                .order_by(Agreement.starts_on.desc(), Agreement.id)
            )
        )
        items: dict[uuid.UUID, list[Obligation]] = defaultdict(list)
        if agreements:
            rows = await self.session.scalars(
                select(Obligation).where(Obligation.agreement_id.in_([agreement.id for agreement in agreements]))
            )
            for obligation in rows:
                items[obligation.agreement_id].append(obligation)
        institutions = await self.accounts.public_organizations({agreement.institution_id for agreement in agreements})
        locale = i18n.current_locale.get()
        totals, records = Counts(), []
        for agreement in agreements:
            counts = Counts()
            for obligation in items[agreement.id]:
                counts.add(obligation, agreement, today)
            totals.plus(counts)
            institution = institutions.get(agreement.institution_id)
            records.append(
                AgreementRecord(
                    agreement_id=agreement.id,
                    title=agreement.title if self._sees_agreement(principal, agreement) else None,
                    kind=Kind(agreement.kind),
                    state=State(agreement.state),
                    state_label=i18n.gettext(STATE_LABELS[agreement.state]),
                    institution_id=agreement.institution_id,
                    institution_name=institution.display_name(locale) if institution else "",
                    starts_on=agreement.starts_on,
                    counts=counts,
                )
            )
        return PerformanceRecord(
            company_id=company.id, company_name=company.display_name(locale), as_of=today, totals=totals, agreements=records
        )

    async def agreements_in_default(self, principal: Principal, today: date | None = None) -> list[AgreementInDefault]:
        """The institution's agreements with items in default (the platform: every institution's)."""
        principal.require(*TTO_ROLES, Role.platform_admin, Role.platform_analyst)
        today = today or china_today()
        condition = and_(Obligation.state == ObligationState.due, Obligation.due_on < today)
        if not principal.is_platform:
            condition = and_(condition, Agreement.institution_id == principal.organization_id)
        rows = await self.session.execute(
            select(Agreement, Obligation)
            .join(Obligation, Obligation.agreement_id == Agreement.id)
            .where(condition)
            .order_by(Obligation.due_on, Agreement.id, Obligation.sequence)
        )
        found: dict[uuid.UUID, AgreementInDefault] = {}
        agreements: dict[uuid.UUID, Agreement] = {}
        for agreement, obligation in rows:
            if not standing.in_default(obligation, agreement, today):
                continue
            assert obligation.due_on is not None
            agreements[agreement.id] = agreement
            entry = found.setdefault(
                agreement.id,
                AgreementInDefault(
                    agreement_id=agreement.id, title=agreement.title, company_id=agreement.company_id, company_name="", items=[]
                ),
            )
            entry.items.append(
                DefaultedItem(
                    obligation_id=obligation.id,
                    kind=obligation.kind,
                    due_on=obligation.due_on,
                    outstanding_fen=standing.outstanding(obligation),
                    marked=obligation.defaulted_at is not None,
                )
            )
        companies = await self.accounts.public_organizations({agreement.company_id for agreement in agreements.values()})
        locale = i18n.current_locale.get()
        for entry in found.values():
            company = companies.get(entry.company_id)
            entry.company_name = company.display_name(locale) if company else ""
        return list(found.values())
