"""What the events pages and API read of registrations: the teams with what they present or bring
(people, contact, slots and note only for their own organization and the organizer), the roadshow
in order with its times, and what the registration form offers. Mixed into Registrations."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import states
from marketplace.accounts.models import COMPANY_ROLES, TTO_ROLES, Membership, Organization, User
from marketplace.catalog.models import Listing, Status
from marketplace.db import CHINA_TIME, utcnow
from marketplace.errors import Conflict, NotFound
from marketplace.events import scoping
from marketplace.events.lifecycle import REGISTRATION, is_organizer
from marketplace.events.models import Attendee, BroughtNeed, Event, EventState, Presentation, Registration, RegistrationState
from marketplace.events.schemas import AttendeeOut, BroughtNeedOut, PresentationOut, RegistrationOut
from marketplace.events.slots import slots_of
from marketplace.i18n import N_
from marketplace.matching.needs.models import Need, NeedKind, NeedState
from marketplace.matching.profile_pages import public_page
from marketplace.tenancy import Principal

# Registrations change until the event runs (slots, people and what they bring feed the scheduling).
CHANGEABLE_EVENT_STATES = frozenset({EventState.registration_open, EventState.scheduling})


def roadshow_start(event: Event, minutes: int) -> datetime:
    """The roadshow runs before the first day's meeting hours, ending as they begin."""
    return datetime.combine(event.starts_on, event.day_starts_at, tzinfo=CHINA_TIME) - timedelta(minutes=minutes)


class TeamViews:
    session: AsyncSession

    async def _registration_of(self, event: Event, registration_id: uuid.UUID, *, for_update: bool = False) -> Registration:
        query = select(Registration).where(Registration.id == registration_id, Registration.event_id == event.id)
        if for_update:
            query = query.with_for_update()
        registration = await self.session.scalar(query)
        if registration is None:
            raise NotFound()
        return registration

    async def roadshow(self, event: Event) -> list[Presentation]:
        """The live registrations' presentations, in order."""
        return list(
            await self.session.scalars(
                select(Presentation)
                .join(Registration, Registration.id == Presentation.registration_id)
                .where(Presentation.event_id == event.id, Registration.state == RegistrationState.registered)
                .order_by(Presentation.position, Presentation.id)
            )
        )

    async def roadshow_out(self, event: Event) -> list[PresentationOut]:
        presentations = await self.roadshow(event)
        titles = dict(
            (
                await self.session.execute(
                    select(Listing.id, Listing.title_zh).where(Listing.id.in_([p.listing_id for p in presentations]))
                )
            ).all()
        )
        names = dict(
            (
                await self.session.execute(
                    select(Registration.id, Organization.name_zh)
                    .join(Organization, Organization.id == Registration.organization_id)
                    .where(Registration.event_id == event.id)
                )
            ).all()
        )
        moment = roadshow_start(event, sum(p.minutes for p in presentations))
        result = []
        for p in presentations:
            ends = moment + timedelta(minutes=p.minutes)
            result.append(
                PresentationOut(
                    p.id,
                    p.registration_id,
                    p.listing_id,
                    titles.get(p.listing_id, ""),
                    names.get(p.registration_id, ""),
                    p.position,
                    p.minutes,
                    moment,
                    ends,
                )
            )
            moment = ends
        return result

    async def get_registration(
        self, principal: Principal, event_id: uuid.UUID, registration_id: uuid.UUID
    ) -> tuple[Event, Registration]:
        principal.require()
        event = await scoping.event_for(self.session, principal, event_id)
        return event, await self._registration_of(event, registration_id)

    async def list_registrations(self, principal: Principal, event_id: uuid.UUID) -> tuple[Event, list[Registration]]:
        """The live teams, institutions first, then by name."""
        principal.require()
        event = await scoping.event_for(self.session, principal, event_id)
        rows = await self.session.scalars(
            select(Registration)
            .join(Organization, Organization.id == Registration.organization_id)
            .where(Registration.event_id == event.id, Registration.state == RegistrationState.registered)
            .order_by(Registration.organization_kind.desc(), Organization.name_zh, Registration.id)
        )
        return event, list(rows)

    @staticmethod
    def sees_private(principal: Principal, event: Event, registration: Registration) -> bool:
        """People, contact, slots and note: the team's own organization and the organizer."""
        return principal.is_authenticated and (
            registration.organization_id == principal.organization_id or is_organizer(principal, event)
        )

    async def registrations_out(
        self, principal: Principal, event: Event, registrations: list[Registration]
    ) -> list[RegistrationOut]:
        ids = [r.id for r in registrations]
        orgs = {
            o.id: o
            for o in await self.session.scalars(
                select(Organization).where(Organization.id.in_([r.organization_id for r in registrations]))
            )
        }
        talks: dict[uuid.UUID, list[PresentationOut]] = {}
        for p in await self.roadshow_out(event):
            talks.setdefault(p.registration_id, []).append(p)
        needs: dict[uuid.UUID, list[BroughtNeedOut]] = {}
        for reg_id, need_id, title in (
            await self.session.execute(
                select(BroughtNeed.registration_id, Need.id, Need.title)
                .join(Need, Need.id == BroughtNeed.need_id)
                .where(BroughtNeed.registration_id.in_(ids))
            )
        ).all():
            needs.setdefault(reg_id, []).append(BroughtNeedOut(need_id, title))
        people: dict[uuid.UUID, list[AttendeeOut]] = {}
        for reg_id, user in (
            await self.session.execute(
                select(Attendee.registration_id, User)
                .join(User, User.id == Attendee.user_id)
                .where(Attendee.registration_id.in_(ids))
                .order_by(User.name)
            )
        ).all():
            people.setdefault(reg_id, []).append(AttendeeOut(user.id, user.name, user.email))
        result = []
        for r in registrations:
            org: Any = orgs.get(r.organization_id)
            private = self.sees_private(principal, event, r)
            result.append(
                RegistrationOut(
                    id=r.id,
                    event_id=event.id,
                    organization_id=r.organization_id,
                    organization_kind=r.organization_kind,
                    organization_name=org.name_zh if org else "",
                    city=org.city if org else "",
                    profile_url=public_page(org) if org else "",
                    state=r.state,
                    state_reason=r.state_reason,
                    presentations=talks.get(r.id, []),
                    needs=needs.get(r.id, []),
                    actions=states.actions(REGISTRATION, principal, r, event) if principal.is_authenticated else [],
                    attendees=people.get(r.id, []) if private else None,
                    contact_user_id=r.contact_user_id if private else None,
                    available_slots=list(r.available_slots) if private else None,
                    note=r.note if private else None,
                )
            )
        return result

    def may_register(self, principal: Principal, event: Event) -> bool:
        return (
            principal.role in TTO_ROLES | COMPANY_ROLES
            and event.state == EventState.registration_open
            and utcnow() < event.registration_deadline
        )

    @staticmethod
    def slots(event: Event) -> list:
        return slots_of(event)

    async def registration_to_edit(self, principal: Principal, event_id: uuid.UUID) -> tuple[Event, RegistrationOut | None]:
        """The registration form's event and the caller's live registration (None: a new one)."""
        principal.require(*TTO_ROLES, *COMPANY_ROLES)
        event = await scoping.event_for(self.session, principal, event_id)
        own = await scoping.own_registration(self.session, principal, event)
        if own is not None:
            if event.state not in CHANGEABLE_EVENT_STATES:
                raise Conflict(N_("This registration can no longer be changed."))
            return event, (await self.registrations_out(principal, event, [own]))[0]
        if not self.may_register(principal, event):
            raise Conflict(N_("Registration for this event is not open."))
        return event, None

    async def registration_choices(self, principal: Principal, event: Event) -> dict:
        """What the registration form offers: the organization's people, its published listings
        (an institution) or open needs (a company)."""
        principal.require(*TTO_ROLES, *COMPANY_ROLES)
        people = list(
            await self.session.scalars(
                select(User)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.organization_id == principal.organization_id)
                .order_by(User.name)
            )
        )
        listings = (
            list(
                await self.session.scalars(
                    select(Listing)
                    .where(Listing.institution_id == principal.organization_id, Listing.status == Status.published)
                    .order_by(Listing.title_zh)
                    .limit(200)
                )
            )
            if principal.role in TTO_ROLES
            else []
        )
        needs = (
            list(
                await self.session.scalars(
                    select(Need)
                    .where(
                        Need.organization_id == principal.organization_id,
                        Need.kind == NeedKind.need,
                        Need.state == NeedState.open,
                    )
                    .order_by(Need.title)
                    .limit(200)
                )
            )
            if principal.role in COMPANY_ROLES
            else []
        )
        return {"people": people, "listings": listings, "needs": needs}
