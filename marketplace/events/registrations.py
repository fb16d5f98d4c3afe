"""Registrations: an institution's TTO or a company's people register their organization while
registration is open — the people who come, the contact, the slots they are free, the listings an
institution presents (appended to the roadshow) or the needs a company brings. Editing until the
event runs, cancelling with a reason (the team or the organizer), the organizer's roadshow order.

The capacity is checked here first and kept by PostgreSQL (`registered_within_capacity`): of two
teams taking the last place at once, the second gets the same 409 as if the check had caught it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import forms, states
from marketplace.accounts.models import COMPANY_ROLES, TTO_ROLES, Membership, Organization, OrgKind
from marketplace.audit import services as audit
from marketplace.catalog.models import Listing, Status
from marketplace.db import utcnow
from marketplace.errors import Conflict, FieldError, Forbidden, InvalidInput, invalid
from marketplace.events import scoping
from marketplace.events.lifecycle import REGISTRATION, is_organizer, party_side
from marketplace.events.models import (
    Attendee,
    BroughtNeed,
    Event,
    EventState,
    Presentation,
    Registration,
    RegistrationState,
)
from marketplace.events.schemas import (
    PresentationIn,
    RegistrationIn,
    RegistrationUpdate,
)
from marketplace.events.slots import slot_count
from marketplace.events.team_views import CHANGEABLE_EVENT_STATES, TeamViews
from marketplace.i18n import N_
from marketplace.matching.needs.models import Need, NeedKind, NeedState
from marketplace.tenancy import Principal

FULL = N_("The event is full: every place is taken.")


class Registrations(TeamViews):
    """Mixed into EventService (admin.py)."""

    session: AsyncSession

    # ----- checks ------------------------------------------------------------------------------

    async def _people(
        self, principal: Principal, ids: list[uuid.UUID], contact: uuid.UUID | None
    ) -> tuple[list[uuid.UUID], uuid.UUID]:
        assert principal.user_id is not None
        people = list(dict.fromkeys(ids)) or [principal.user_id]
        members = set(
            await self.session.scalars(
                select(Membership.user_id).where(
                    Membership.organization_id == principal.organization_id, Membership.user_id.in_(people)
                )
            )
        )
        errors = [
            FieldError(f"attendee_ids[{i}]", N_("Not a member of your organization."))
            for i, person in enumerate(people)
            if person not in members
        ]
        if contact is not None and contact not in people:
            errors.append(FieldError("contact_user_id", N_("The contact must be one of the people who come.")))
        if errors:
            raise InvalidInput(*errors)
        return people, contact or people[0]

    @staticmethod
    def _slots(event: Event, slots: list[int]) -> list[int]:
        count = slot_count(event)
        errors = [
            FieldError(f"slots[{i}]", N_("No such slot: the event has slots 0 to %(last)s."), {"last": count - 1})
            for i, n in enumerate(slots)
            if n >= count
        ]
        if errors:
            raise InvalidInput(*errors)
        return sorted(set(slots))

    async def _listings(
        self, principal: Principal, event: Event, kind: str, wanted: list[PresentationIn]
    ) -> list[PresentationIn]:
        if kind != OrgKind.institution:
            if wanted:
                raise invalid("listings", N_("Only an institution presents listings."))
            return []
        if not wanted:
            raise invalid("listings", N_("Pick at least one published listing to present."))
        ids = [item.listing_id for item in wanted]
        own = set(
            await self.session.scalars(
                select(Listing.id).where(
                    Listing.id.in_(ids), Listing.institution_id == principal.organization_id, Listing.status == Status.published
                )
            )
        )
        errors = [
            FieldError(f"listings[{i}].listing_id", N_("Not a published listing of your institution."))
            for i, item in enumerate(wanted)
            if item.listing_id not in own
        ]
        errors += [
            FieldError(f"listings[{i}].listing_id", N_("This listing is picked twice."))
            for i, item in enumerate(wanted)
            if item.listing_id in ids[:i]
        ]
        if errors:
            raise InvalidInput(*errors)
        return [PresentationIn(item.listing_id, item.minutes or event.talk_minutes) for item in wanted]

    async def _needs(self, principal: Principal, kind: str, wanted: list[uuid.UUID]) -> list[uuid.UUID]:
        if not wanted:
            return []
        if kind != OrgKind.company:
            raise invalid("need_ids", N_("Only a company brings needs."))
        wanted = list(dict.fromkeys(wanted))
        own = set(
            await self.session.scalars(
                select(Need.id).where(
                    Need.id.in_(wanted),
                    Need.organization_id == principal.organization_id,
                    Need.kind == NeedKind.need,
                    Need.state == NeedState.open,
                )
            )
        )
        errors = [
            FieldError(f"need_ids[{i}]", N_("Not an open need of your company.")) for i, n in enumerate(wanted) if n not in own
        ]
        if errors:
            raise InvalidInput(*errors)
        return wanted

    async def _check_capacity(self, event: Event) -> None:
        """The friendly answer; of two teams past it at once, the database refuses the second."""
        if event.registered >= event.capacity:
            raise Conflict(FULL, FieldError("capacity", FULL))

    @staticmethod
    def _open_for_registration(event: Event, now: datetime) -> None:
        if event.state != EventState.registration_open or now >= event.registration_deadline:
            raise Conflict(N_("Registration for this event is not open."))

    # ----- writes ------------------------------------------------------------------------------

    async def register(
        self, principal: Principal, event_id: uuid.UUID, data: RegistrationIn, *, ip: str | None = None
    ) -> Registration:
        principal.require(*TTO_ROLES, *COMPANY_ROLES)
        event = await scoping.event_for(self.session, principal, event_id)
        self._open_for_registration(event, utcnow())
        if errors := forms.control_character_errors({"note": data.note}):
            raise InvalidInput(*errors)
        existing = await self.session.scalar(
            select(Registration).where(
                Registration.event_id == event.id, Registration.organization_id == principal.organization_id
            )
        )
        if existing is not None:
            if existing.state == RegistrationState.registered:
                raise Conflict(N_("Your organization is registered already: edit its registration instead."))
            raise Conflict(N_("Your organization cancelled its registration; ask the organizer to take it back."))
        await self._check_capacity(event)
        organization = await self.session.get(Organization, principal.organization_id)
        assert organization is not None
        kind = organization.kind
        people, contact = await self._people(principal, data.attendee_ids, data.contact_user_id)
        slots = self._slots(event, data.slots)
        talks = await self._listings(principal, event, kind, data.listings)
        needs = await self._needs(principal, kind, data.need_ids)
        registration = Registration(
            id=uuid.uuid4(),
            event_id=event.id,
            organization_id=organization.id,
            organization_kind=kind,
            contact_user_id=contact,
            available_slots=slots,
            note=data.note.strip(),
            registered_by_user_id=principal.user_id,
        )
        try:
            async with self.session.begin_nested():
                self.session.add(registration)
                await self.session.flush()
        except IntegrityError as error:
            if "registered_within_capacity" in str(error.orig):
                raise Conflict(FULL, FieldError("capacity", FULL)) from error
            if "uq_event_registrations_event_org" in str(error.orig):
                raise Conflict(N_("Your organization is registered already: edit its registration instead.")) from error
            raise
        self.session.add_all([Attendee(registration_id=registration.id, user_id=p) for p in people])
        await self._set_presentations(event, registration, talks)
        self.session.add_all([BroughtNeed(registration_id=registration.id, need_id=n) for n in needs])
        await self.session.flush()
        await audit.record(
            self.session,
            "event_registered",
            actor_user_id=principal.user_id,
            organization_id=organization.id,
            subject=registration,
            ip=ip,
            event_id=str(event.id),
            people=len(people),
            listings=len(talks),
        )
        await self.session.refresh(event, ["registered"])
        return registration

    async def _set_presentations(self, event: Event, registration: Registration, talks: list[PresentationIn]) -> None:
        """Keep the place of the listings still presented, drop the others, append the new ones."""
        current = {
            p.listing_id: p
            for p in await self.session.scalars(select(Presentation).where(Presentation.registration_id == registration.id))
        }
        wanted = {t.listing_id: t for t in talks}
        for listing_id, presentation in current.items():
            if listing_id not in wanted:
                await self.session.delete(presentation)
            else:
                presentation.minutes = wanted[listing_id].minutes or event.talk_minutes
        last = await self.session.scalar(select(func.max(Presentation.position)).where(Presentation.event_id == event.id))
        position = -1 if last is None else last
        for talk in talks:
            if talk.listing_id not in current:
                position += 1
                self.session.add(
                    Presentation(
                        id=uuid.uuid4(),
                        event_id=event.id,
                        registration_id=registration.id,
                        listing_id=talk.listing_id,
                        position=position,
                        minutes=talk.minutes or event.talk_minutes,
                    )
                )
        await self.session.flush()

    async def _own_live_registration(
        self, principal: Principal, event_id: uuid.UUID, registration_id: uuid.UUID
    ) -> tuple[Event, Registration]:
        event = await scoping.event_for(self.session, principal, event_id)
        registration = await self._registration_of(event, registration_id, for_update=True)
        if party_side(principal, registration) is None:
            raise Forbidden()
        return event, registration

    async def update_registration(
        self,
        principal: Principal,
        event_id: uuid.UUID,
        registration_id: uuid.UUID,
        data: RegistrationUpdate,
        *,
        ip: str | None = None,
    ) -> Registration:
        principal.require(*TTO_ROLES, *COMPANY_ROLES)
        event, registration = await self._own_live_registration(principal, event_id, registration_id)
        if event.state not in CHANGEABLE_EVENT_STATES or registration.state != RegistrationState.registered:
            raise Conflict(N_("This registration can no longer be changed."))
        given = {f: v for f in RegistrationUpdate.__struct_fields__ if (v := getattr(data, f)) is not msgspec.UNSET}
        if errors := forms.control_character_errors({"note": given.get("note", "")}):
            raise InvalidInput(*errors)
        kind = registration.organization_kind
        if "attendee_ids" in given or "contact_user_id" in given:
            current_people = list(
                await self.session.scalars(select(Attendee.user_id).where(Attendee.registration_id == registration.id))
            )
            people, contact = await self._people(
                principal, given.get("attendee_ids", current_people), given.get("contact_user_id", registration.contact_user_id)
            )
            await self.session.execute(delete(Attendee).where(Attendee.registration_id == registration.id))
            self.session.add_all([Attendee(registration_id=registration.id, user_id=p) for p in people])
            registration.contact_user_id = contact
        if "slots" in given:
            registration.available_slots = self._slots(event, given["slots"])
        if "note" in given:
            registration.note = given["note"].strip()
        if "listings" in given:
            await self._set_presentations(event, registration, await self._listings(principal, event, kind, given["listings"]))
        if "need_ids" in given:
            needs = await self._needs(principal, kind, given["need_ids"])
            await self.session.execute(delete(BroughtNeed).where(BroughtNeed.registration_id == registration.id))
            self.session.add_all([BroughtNeed(registration_id=registration.id, need_id=n) for n in needs])
        await self.session.flush()
        await audit.record(
            self.session,
            "event_registration_updated",
            actor_user_id=principal.user_id,
            organization_id=registration.organization_id,
            subject=registration,
            ip=ip,
            fields=sorted(given),
        )
        return registration

    async def transition_registration(
        self,
        principal: Principal,
        event_id: uuid.UUID,
        registration_id: uuid.UUID,
        action: str,
        reason: str = "",
        *,
        ip: str | None = None,
    ) -> Registration:
        """Cancelling, by the team or the organizer, until the event runs; it frees the place."""
        principal.require()
        event = await scoping.event_for(self.session, principal, event_id)
        registration = await self._registration_of(event, registration_id, for_update=True)
        if action not in REGISTRATION.actions:
            raise invalid("action", N_("Unknown step."))
        if errors := forms.control_character_errors({"reason": reason}):
            raise InvalidInput(*errors)
        if REGISTRATION.sides_of(principal, registration, event) and event.state not in (
            EventState.draft,
            *CHANGEABLE_EVENT_STATES,
        ):
            raise Conflict(N_("The event is under way or over: its registrations stay as they are."))
        await states.apply(self.session, REGISTRATION, principal, registration, action, reason, context=event, ip=ip)
        await self.session.refresh(event, ["registered"])
        return registration

    async def move_talk(
        self, principal: Principal, event_id: uuid.UUID, presentation_id: uuid.UUID, direction: str, *, ip: str | None = None
    ) -> list[Presentation]:
        """The organizer moves one talk a place earlier (`up`) or later (`down`): the pages' arrows."""
        principal.require()
        event = await scoping.event_for(self.session, principal, event_id)
        if not is_organizer(principal, event):
            raise Forbidden()
        if direction not in ("up", "down"):
            raise invalid("direction", N_("Not one of the allowed values."))
        order = [p.id for p in await self.roadshow(event)]
        if presentation_id not in order:
            raise invalid("presentation_id", N_("Not a talk of this roadshow."))
        index = order.index(presentation_id)
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(order):
            order[index], order[other] = order[other], order[index]
        return await self.reorder_roadshow(principal, event_id, order, ip=ip)

    async def reorder_roadshow(
        self, principal: Principal, event_id: uuid.UUID, order: list[uuid.UUID], *, ip: str | None = None
    ) -> list[Presentation]:
        """The organizer's new roadshow order: every live presentation of the event, each once."""
        principal.require()
        event = await scoping.event_for(self.session, principal, event_id, for_update=True)
        if not is_organizer(principal, event):
            raise Forbidden()
        presentations = await self.roadshow(event)
        if len(set(order)) != len(order) or set(order) != {p.id for p in presentations}:
            raise invalid("order", N_("List every presentation of the roadshow once."))
        by_id = {p.id: p for p in presentations}
        for position, presentation_id in enumerate(order):
            by_id[presentation_id].position = position
        await self.session.flush()
        await audit.record(
            self.session,
            "event_roadshow_reordered",
            actor_user_id=principal.user_id,
            organization_id=event.organizer_id,
            subject=event,
            ip=ip,
            order=[str(i) for i in order],
        )
        return sorted(presentations, key=lambda p: p.position)
