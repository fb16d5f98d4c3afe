"""Research wards of an institution's research-ward listings, and the 10% rule.

The institution's research beds, for the rule, are the beds of its wards still open today (not
Organization.research_beds: that declared figure is already kept within 10% by a CHECK, while the
wards are what companies can book). Over 10% of the approved beds is allowed, but the TTO manager
must acknowledge it with a reason; an acknowledgement holds while the figures it names stay.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import COMPANY_ROLES, TTO_ROLES, Organization, Role
from marketplace.audit import services as audit
from marketplace.beds.availability import Availability
from marketplace.beds.models import (
    HOLDING_STATES,
    RESEARCH_BED_SHARE_BP,
    BedAllocation,
    CapacityAcknowledgement,
    Ward,
    WardDayUsage,
)
from marketplace.beds.schemas import CapacityOut, WardIn, WardOut, WardUpdate
from marketplace.catalog.models import Listing, ResourceType, Status
from marketplace.db import add_unless_taken, china_today
from marketplace.errors import FieldError, InvalidInput, NotFound, invalid
from marketplace.i18n import N_
from marketplace.tenancy import Principal

NAME_TAKEN = N_("This listing has a ward of this name already.")


def ward_visible(principal: Principal):
    """Wards of published listings are seen by every signed-in caller; the owning TTO sees all of
    its own; platform roles everything."""
    principal.require()
    if principal.is_platform:
        return true()
    published = Ward.listing_id.in_(select(Listing.id).where(Listing.status == Status.published))
    if principal.role in TTO_ROLES:
        return or_(published, Ward.institution_id == principal.organization_id)
    return published


def _dates_errors(opens_on: date, closes_on: date | None) -> list[FieldError]:
    if closes_on is not None and closes_on < opens_on:
        return [FieldError("closes_on", N_("Must not be before the opening day."))]
    return []


class Wards(Availability):
    """Mixed into BedsService (services.py)."""

    session: AsyncSession

    @staticmethod
    def ward_out(ward: Ward) -> WardOut:
        return WardOut(
            id=ward.id,
            listing_id=ward.listing_id,
            institution_id=ward.institution_id,
            name=ward.name,
            specialty=ward.specialty,
            research_beds=ward.beds,
            opens_on=ward.opens_on,
            closes_on=ward.closes_on,
        )

    async def get_ward(self, principal: Principal, ward_id: uuid.UUID, *, for_update: bool = False) -> Ward:
        stmt = select(Ward).where(Ward.id == ward_id, ward_visible(principal))
        stmt = stmt.execution_options(populate_existing=True)
        if for_update:
            stmt = stmt.with_for_update()
        ward = await self.session.scalar(stmt)
        if ward is None:
            raise NotFound()
        return ward

    async def list_wards(
        self, principal: Principal, *, listing_id: uuid.UUID | None = None, institution_id: uuid.UUID | None = None
    ) -> list[Ward]:
        stmt = select(Ward).where(ward_visible(principal))
        if listing_id is not None:
            stmt = stmt.where(Ward.listing_id == listing_id)
        if institution_id is not None:
            stmt = stmt.where(Ward.institution_id == institution_id)
        return list(await self.session.scalars(stmt.order_by(Ward.name, Ward.id).limit(500)))

    async def ward_listings(self, principal: Principal) -> list[Listing]:
        """The TTO's research-ward listings, for the form that adds a ward."""
        principal.require(*TTO_ROLES)
        return list(
            await self.session.scalars(
                select(Listing)
                .where(Listing.institution_id == principal.organization_id, Listing.type == ResourceType.research_ward)
                .order_by(Listing.title_zh)
            )
        )

    @staticmethod
    def may_request_beds(principal: Principal) -> bool:
        return principal.role in COMPANY_ROLES

    async def wards_overview(self, principal: Principal) -> dict:
        """The wards page: the wards; for the TTO its 10% rule and its research-ward listings."""
        principal.require()
        own = principal.role in TTO_ROLES and principal.organization_id is not None
        return {
            "wards": await self.list_wards(principal),
            "capacity": await self.capacity_status(principal.organization_id) if own and principal.organization_id else None,
            "listings": await self.ward_listings(principal) if own else [],
            "is_manager": principal.role == Role.tto_manager,
        }

    async def ward_to_request(self, principal: Principal, ward_id: uuid.UUID) -> Ward:
        """The ward a company asks beds of (403 for anyone else, 404 for a ward it cannot see)."""
        principal.require(*COMPANY_ROLES)
        return await self.get_ward(principal, ward_id)

    async def _own_ward_listing(self, principal: Principal, listing_id: uuid.UUID) -> Listing:
        listing = await self.session.scalar(
            select(Listing).where(Listing.id == listing_id, Listing.institution_id == principal.organization_id)
        )
        if listing is None:
            raise invalid("listing_id", N_("No listing of your institution has this id."))
        if listing.type != ResourceType.research_ward:
            raise invalid("listing_id", N_("Only a research-ward listing has wards."))
        return listing

    async def create_ward(self, principal: Principal, data: WardIn, *, ip: str | None = None) -> Ward:
        principal.require(*TTO_ROLES)
        listing = await self._own_ward_listing(principal, data.listing_id)
        errors = _dates_errors(data.opens_on, data.closes_on)
        if await self.session.scalar(select(Ward.id).where(Ward.listing_id == listing.id, Ward.name == data.name.strip())):
            errors.append(FieldError("name", NAME_TAKEN))
        if errors:
            raise InvalidInput(*errors)
        ward = Ward(
            id=uuid.uuid4(),
            listing_id=listing.id,
            institution_id=listing.institution_id,
            name=data.name.strip(),
            specialty=data.specialty.strip(),
            beds=data.research_beds,
            opens_on=data.opens_on,
            closes_on=data.closes_on,
        )
        # The same form sent twice at once: the check above let both through, the constraint one.
        if not await add_unless_taken(self.session, ward, "uq_wards_listing_name"):
            raise InvalidInput(FieldError("name", NAME_TAKEN))
        await audit.record(
            self.session,
            "ward_created",
            actor_user_id=principal.user_id,
            organization_id=principal.organization_id,
            subject=ward,
            ip=ip,
            beds=ward.beds,
        )
        await self.refresh_availability(ward.listing_id)
        return ward

    async def update_ward(self, principal: Principal, ward_id: uuid.UUID, data: WardUpdate, *, ip: str | None = None) -> Ward:
        principal.require(*TTO_ROLES)
        ward = await self.get_ward(principal, ward_id, for_update=True)
        if ward.institution_id != principal.organization_id:
            raise NotFound()
        errors = _dates_errors(data.opens_on, data.closes_on)
        if data.name.strip() != ward.name and await self.session.scalar(
            select(Ward.id).where(Ward.listing_id == ward.listing_id, Ward.name == data.name.strip())
        ):
            errors.append(FieldError("name", NAME_TAKEN))
        # Fewer beds, or shorter opening, must still fit what is held (the trigger checks the
        # beds; the days are checked here, as the trigger checks them only when beds are taken).
        outside = [BedAllocation.starts_on < data.opens_on]
        if data.closes_on is not None:
            outside.append(BedAllocation.ends_on > data.closes_on)
        if await self.session.scalar(
            select(BedAllocation.id)
            .where(BedAllocation.ward_id == ward.id, BedAllocation.state.in_(HOLDING_STATES), or_(*outside))
            .limit(1)
        ):
            errors.append(FieldError("opens_on", N_("Approved beds fall outside these dates.")))
        if data.research_beds < ward.beds:
            fullest = await self.session.scalar(
                select(func.coalesce(func.max(WardDayUsage.held), 0)).where(WardDayUsage.ward_id == ward.id)
            )
            if data.research_beds < (fullest or 0):
                errors.append(FieldError("research_beds", N_("Fewer than the beds already approved on a day.")))
        if errors:
            raise InvalidInput(*errors)
        before = {"beds": ward.beds, "opens_on": str(ward.opens_on), "closes_on": str(ward.closes_on)}
        ward.name, ward.specialty, ward.beds = data.name.strip(), data.specialty.strip(), data.research_beds
        ward.opens_on, ward.closes_on = data.opens_on, data.closes_on
        await self.session.flush()
        await audit.record(
            self.session,
            "ward_updated",
            actor_user_id=principal.user_id,
            organization_id=principal.organization_id,
            subject=ward,
            ip=ip,
            before=before,
            beds=ward.beds,
        )
        await self.refresh_availability(ward.listing_id)
        return ward

    # ----- the 10% rule --------------------------------------------------------------------------

    async def capacity_status(self, institution_id: uuid.UUID, *, today: date | None = None) -> CapacityOut:
        """Is the institution's research beds over 10% of its approved beds, and acknowledged?"""
        today = today or china_today()
        research = await self.session.scalar(
            select(func.coalesce(func.sum(Ward.beds), 0)).where(
                Ward.institution_id == institution_id, or_(Ward.closes_on.is_(None), Ward.closes_on >= today)
            )
        )
        approved = await self.session.scalar(select(Organization.approved_beds).where(Organization.id == institution_id))
        approved = approved or 0
        limit = approved * RESEARCH_BED_SHARE_BP // 10_000
        over = int(research or 0) > limit
        ack = await self.session.scalar(
            select(CapacityAcknowledgement)
            .where(
                CapacityAcknowledgement.institution_id == institution_id,
                and_(
                    CapacityAcknowledgement.research_beds >= int(research or 0),
                    CapacityAcknowledgement.approved_beds == approved,
                ),
            )
            .order_by(CapacityAcknowledgement.created_at.desc())
            .limit(1)
        )
        return CapacityOut(
            institution_id=institution_id,
            research_beds=int(research or 0),
            approved_beds=approved,
            limit=limit,
            over=over,
            acknowledged=over and ack is not None,
            reason=ack.reason if over and ack is not None else "",
        )

    async def acknowledge_capacity(self, principal: Principal, reason: str, *, ip: str | None = None) -> CapacityOut:
        """The TTO manager acknowledges, with a reason, that the research beds exceed 10%."""
        principal.require(Role.tto_manager)
        assert principal.organization_id is not None
        status = await self.capacity_status(principal.organization_id)
        if not reason.strip():
            raise invalid("reason", N_("Say why (or what): this step needs a text."))
        if not status.over:
            raise invalid("reason", N_("The research beds are within 10% of the approved beds: nothing to acknowledge."))
        ack = CapacityAcknowledgement(
            id=uuid.uuid4(),
            institution_id=principal.organization_id,
            research_beds=status.research_beds,
            approved_beds=status.approved_beds,
            reason=reason.strip(),
            acknowledged_by_user_id=principal.user_id,
        )
        self.session.add(ack)
        await self.session.flush()
        await audit.record(
            self.session,
            "research_beds_acknowledged",
            actor_user_id=principal.user_id,
            organization_id=principal.organization_id,
            subject=ack,
            ip=ip,
            research_beds=status.research_beds,
            approved_beds=status.approved_beds,
            reason=ack.reason,
        )
        return await self.capacity_status(principal.organization_id)
