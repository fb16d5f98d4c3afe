"""Meeting requests' and placing's test data: an event with registered teams, a listing presented,
a need brought, and principals of the world's people."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.events.models import BroughtNeed, Event, EventState, Meeting, Presentation, Registration, Seat
from marketplace.tenancy import Principal
from tests.catalog.factories import published
from tests.events.factories import seed_event, seed_registration
from tests.support.world import World


@dataclass
class Teams:
    event: Event
    institution: Registration  # institution/own, its TTO manager comes
    company: Registration  # company/own, its admin comes
    other_company: Registration  # company/other
    other_institution: Registration  # institution/other


async def teams(db, world: World, state: EventState = EventState.registration_open, **overrides) -> Teams:
    event = await seed_event(db, world, state, **overrides)
    return Teams(
        event,
        await seed_registration(db, event, world.orgs["institution/own"]),
        await seed_registration(db, event, world.orgs["company/own"]),
        await seed_registration(db, event, world.orgs["company/other"]),
        await seed_registration(db, event, world.orgs["institution/other"]),
    )


async def present(db, world: World, event: Event, registration: Registration) -> uuid.UUID:
    """A published listing of institution/own presented by `registration` at the event."""
    listing_id = await published(db, world)
    db.add(Presentation(event_id=event.id, registration_id=registration.id, listing_id=listing_id, position=0, minutes=8))
    await db.commit()
    return listing_id


async def bring(db, registration: Registration, need_id: uuid.UUID) -> None:
    db.add(BroughtNeed(registration_id=registration.id, need_id=need_id))
    await db.commit()


async def principal(db, world: World, role: Role) -> Principal:
    return await world.principal(db, world.emails[role])


async def other_admin(db, world: World, kind: str) -> Principal:
    return await world.principal(db, f"admin@{kind}.other.test")


async def meetings_of_event(db, event_id: uuid.UUID) -> list[Meeting]:
    query = select(Meeting).where(Meeting.event_id == event_id).order_by(Meeting.created_at, Meeting.id)
    return list(await db.scalars(query.execution_options(populate_existing=True)))


async def seats_of_event(db, event_id: uuid.UUID) -> list[Seat]:
    return list(await db.scalars(select(Seat).where(Seat.event_id == event_id)))
