"""Bed allocations: a company asks for beds on a ward (alone, or for an accepted clinical-trial
match request), the institution's TTO approves, waitlists or declines; approved beds go into use
and complete, or are cancelled.

Capacity is PostgreSQL's: approving fires the trigger that holds the beds day by day, and the
CHECK on ward_day_usage refuses a day over the ward's beds. The approval runs in a savepoint so
that refusal becomes a 409 naming the first full day. Approvals on one ward also take the ward's
row lock (FOR NO KEY UPDATE: requests still insert) so that concurrent approvals queue instead of
deadlocking on the day rows; the lock orders them, the CHECK decides them. When beds are freed,
the ward's waitlisted requests that now fit are approved by the system, oldest first.
"""

from __future__ import annotations

import builtins
import uuid
from datetime import date, datetime

from sqlalchemy import false, func, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import states
from marketplace.accounts.models import COMPANY_ROLES, PLATFORM_ROLES, TTO_ROLES
from marketplace.audit import services as audit
from marketplace.beds.lifecycle import ALLOCATION
from marketplace.beds.models import HOLDING_STATES, AllocationState, BedAllocation, Ward, WardDayUsage
from marketplace.beds.schemas import AllocationIn, AllocationOut, AllocationPage, TransitionIn
from marketplace.beds.wards import Wards
from marketplace.db import china_today, utcnow
from marketplace.errors import Conflict, FieldError, InvalidInput, NotFound, invalid
from marketplace.i18n import N_
from marketplace.matching.requests.models import EngagementType, MatchRequest
from marketplace.matching.requests.models import State as MatchState
from marketplace.tenancy import Principal

# A clinical-trial match request in these states may ask for beds.
MATCH_STATES = frozenset({MatchState.accepted, MatchState.negotiating, MatchState.agreed})
MAX_DAYS = 731  # the table's CHECK: a request spans at most two years


def allocation_visible(principal: Principal):
    """Platform roles see every allocation; the TTO its institution's; a company its own."""
    principal.require()
    if principal.is_platform:
        return true()
    if principal.role in TTO_ROLES:
        return BedAllocation.institution_id == principal.organization_id
    if principal.role in COMPANY_ROLES:
        return BedAllocation.company_id == principal.organization_id
    return false()


class Allocations(Wards):
    """Mixed into BedsService (services.py)."""

    session: AsyncSession

    async def get_allocation(self, principal: Principal, allocation_id: uuid.UUID, *, for_update: bool = False) -> BedAllocation:
        stmt = select(BedAllocation).where(BedAllocation.id == allocation_id, allocation_visible(principal))
        stmt = stmt.execution_options(populate_existing=True)
        if for_update:
            stmt = stmt.with_for_update()
        allocation = await self.session.scalar(stmt)
        if allocation is None:
            raise NotFound()
        return allocation

    @staticmethod
    def allocation_out(principal: Principal, allocation: BedAllocation) -> AllocationOut:
        return AllocationOut(
            id=allocation.id,
            ward_id=allocation.ward_id,
            institution_id=allocation.institution_id,
            company_id=allocation.company_id,
            match_request_id=allocation.match_request_id,
            state=allocation.state,
            bed_count=allocation.beds,
            starts_on=allocation.starts_on,
            ends_on=allocation.ends_on,
            trial_title=allocation.trial_title,
            phase=allocation.phase,
            sponsor=allocation.sponsor,
            pi_name=allocation.pi_name,
            protocol_summary=allocation.protocol_summary,
            fee_fen=allocation.fee_fen,
            state_reason=allocation.state_reason,
            state_changed_at=allocation.state_changed_at,
            actions=states.actions(ALLOCATION, principal, allocation),
        )

    async def allocation_page(
        self,
        principal: Principal,
        *,
        ward_id: uuid.UUID | None = None,
        state: str | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> AllocationPage:
        principal.require(*TTO_ROLES, *COMPANY_ROLES, *PLATFORM_ROLES)
        items, total = await self.list_allocations(
            principal, ward_id=ward_id, state=state, limit=page_size, offset=(page - 1) * page_size
        )
        return AllocationPage(
            items=[self.allocation_out(principal, item) for item in items], total=total, page=page, page_size=page_size
        )

    async def allocation_history(self, allocation: BedAllocation) -> builtins.list:
        """The allocation's audit trail, oldest first (only for callers who may see it)."""
        return list(reversed(await audit.events(self.session, subject_id=allocation.id, limit=200)))

    async def allocation_state_counts(self, principal: Principal) -> dict[str, int]:
        """How many of the caller's allocations are in each state (what /bed-allocations?state= lists)."""
        rows = await self.session.execute(
            select(BedAllocation.state, func.count()).where(allocation_visible(principal)).group_by(BedAllocation.state)
        )
        return {state: int(n) for state, n in rows}

    async def list_allocations(
        self,
        principal: Principal,
        *,
        ward_id: uuid.UUID | None = None,
        state: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[builtins.list[BedAllocation], int]:
        stmt = select(BedAllocation).where(allocation_visible(principal))
        if ward_id is not None:
            stmt = stmt.where(BedAllocation.ward_id == ward_id)
        if state is not None:
            stmt = stmt.where(BedAllocation.state == state)
        total = await self.session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = await self.session.scalars(
            stmt.order_by(BedAllocation.starts_on, BedAllocation.created_at, BedAllocation.id).limit(limit).offset(offset)
        )
        return list(rows), int(total or 0)

    async def request_allocation(
        self, principal: Principal, data: AllocationIn, *, today: date | None = None, ip: str | None = None
    ) -> BedAllocation:
        principal.require(*COMPANY_ROLES)
        today = today or china_today()
        try:
            ward = await self.get_ward(principal, data.ward_id)
        except NotFound:
            raise invalid("ward_id", N_("No ward you can see has this id.")) from None
        errors: list[FieldError] = []
        if data.starts_on < today:
            errors.append(FieldError("starts_on", N_("Must not be in the past.")))
        if data.ends_on < data.starts_on:
            errors.append(FieldError("ends_on", N_("Must not be before the first day.")))
        elif (data.ends_on - data.starts_on).days >= MAX_DAYS:
            errors.append(FieldError("ends_on", N_("At most two years of beds in one request.")))
        if data.starts_on < ward.opens_on or (ward.closes_on is not None and data.ends_on > ward.closes_on):
            errors.append(FieldError("starts_on", N_("The ward is not open on every day asked for.")))
        if data.bed_count > ward.beds:
            errors.append(FieldError("bed_count", N_("More beds than the ward has.")))
        match_id = None
        if data.match_request_id is not None:
            match = await self.session.scalar(
                select(MatchRequest).where(
                    MatchRequest.id == data.match_request_id, MatchRequest.company_id == principal.organization_id
                )
            )
            if match is None:
                errors.append(FieldError("match_request_id", N_("No match request of your company has this id.")))
            elif (
                match.engagement_type != EngagementType.clinical_trial
                or match.state not in MATCH_STATES
                or match.listing_id != ward.listing_id
            ):
                errors.append(
                    FieldError(
                        "match_request_id",
                        N_("Only an accepted clinical-trial match request on this ward's listing can ask for its beds."),
                    )
                )
            else:
                match_id = match.id
        if errors:
            raise InvalidInput(*errors)
        assert principal.organization_id is not None
        allocation = BedAllocation(
            id=uuid.uuid4(),
            ward_id=ward.id,
            institution_id=ward.institution_id,
            company_id=principal.organization_id,
            match_request_id=match_id,
            state=AllocationState.requested,
            beds=data.bed_count,
            starts_on=data.starts_on,
            ends_on=data.ends_on,
            trial_title=data.trial_title.strip(),
            phase=data.phase,
            sponsor=data.sponsor.strip(),
            pi_name=data.pi_name.strip(),
            protocol_summary=data.protocol_summary.strip(),
            fee_fen=data.fee_fen or 0,
            requested_by_user_id=principal.user_id,
        )
        self.session.add(allocation)
        await self.session.flush()
        await audit.record(
            self.session,
            "bed_allocation_requested",
            actor_user_id=principal.user_id,
            organization_id=principal.organization_id,
            subject=allocation,
            ip=ip,
            after=allocation.state,
            ward_id=str(ward.id),
            beds=allocation.beds,
            starts_on=str(allocation.starts_on),
            ends_on=str(allocation.ends_on),
            match_request_id=str(match_id) if match_id else None,
        )
        return allocation

    async def transition_allocation(
        self,
        principal: Principal,
        allocation_id: uuid.UUID,
        data: TransitionIn,
        *,
        now: datetime | None = None,
        ip: str | None = None,
    ) -> BedAllocation:
        now = now or utcnow()
        allocation = await self.get_allocation(principal, allocation_id)
        action = ALLOCATION.action(data.action)
        # The ward first, then the allocation, for every step: a step that frees beds promotes the
        # waiting list under the ward's lock, so one order for all avoids a deadlock.
        await self._lock_ward(allocation.ward_id)
        allocation = await self.get_allocation(principal, allocation_id, for_update=True)
        was_holding = allocation.state in HOLDING_STATES
        await self._hold(allocation, principal, action.name, data.reason, now=now, ip=ip, as_system=False)
        if was_holding and allocation.state not in HOLDING_STATES:
            await self.promote_waitlisted(allocation.ward_id, now=now)
        if was_holding or allocation.state in HOLDING_STATES:  # the free beds search shows changed
            await self.refresh_availability(await self._listing_of(allocation.ward_id))
        return allocation

    async def _listing_of(self, ward_id: uuid.UUID) -> uuid.UUID:
        listing_id = await self.session.scalar(select(Ward.listing_id).where(Ward.id == ward_id))
        assert listing_id is not None, "an allocation's ward exists (a foreign key)"
        return listing_id

    async def _lock_ward(self, ward_id: uuid.UUID) -> None:
        await self.session.execute(select(Ward.id).where(Ward.id == ward_id).with_for_update(key_share=True))

    async def _hold(
        self,
        allocation: BedAllocation,
        principal: Principal | None,
        action: str,
        reason: str,
        *,
        now: datetime,
        ip: str | None,
        as_system: bool,
    ) -> None:
        """Apply the step in a savepoint; PostgreSQL's refusal of the beds becomes a 409."""
        ward_id, beds, starts_on, ends_on = allocation.ward_id, allocation.beds, allocation.starts_on, allocation.ends_on
        try:
            async with self.session.begin_nested():
                await states.apply(
                    self.session, ALLOCATION, principal, allocation, action, reason, now=now, ip=ip, as_system=as_system
                )
        except IntegrityError as exc:
            if "held_within_capacity" not in str(exc):
                raise Conflict(
                    N_("The ward is not open on every day asked for."),
                    FieldError("starts_on", N_("The ward is not open on every day asked for.")),
                ) from None
            day = await self.first_full_day(ward_id, beds, starts_on, ends_on)
            raise Conflict(
                N_("Not enough free beds on the ward on %(day)s: approving would take it past its beds."),
                FieldError("bed_count", N_("More beds than are free on %(day)s."), {"day": str(day or starts_on)}),
                day=str(day or starts_on),
            ) from None

    async def first_full_day(self, ward_id: uuid.UUID, beds: int, starts_on: date, ends_on: date) -> date | None:
        """The first day of the range on which `beds` more would go past the ward's beds."""
        return await self.session.scalar(
            select(func.min(WardDayUsage.day)).where(
                WardDayUsage.ward_id == ward_id,
                WardDayUsage.day.between(starts_on, ends_on),
                WardDayUsage.held + beds > WardDayUsage.capacity,
            )
        )

    async def promote_waitlisted(self, ward_id: uuid.UUID, *, now: datetime | None = None) -> int:
        """The system approves the ward's waitlisted requests that fit now, oldest first; one that
        does not fit stays waitlisted (its savepoint rolls back)."""
        now = now or utcnow()
        await self._lock_ward(ward_id)
        waiting = await self.session.scalars(
            select(BedAllocation)
            .where(BedAllocation.ward_id == ward_id, BedAllocation.state == AllocationState.waitlisted)
            .order_by(BedAllocation.created_at, BedAllocation.id)
            .with_for_update(skip_locked=True)
        )
        promoted = 0
        for allocation in list(waiting):
            try:
                await self._hold(allocation, None, "promote", "", now=now, ip=None, as_system=True)
            except Conflict:
                await self.session.refresh(allocation)
                continue
            promoted += 1
        return promoted
