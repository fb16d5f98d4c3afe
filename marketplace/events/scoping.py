"""Who sees which event and which registration is the caller's: the one place the events
services ask, so every route answers 404 the same way for what lies outside a caller's scope.

An event in draft is its organizer's alone; once registration opens anyone (visitors too) may read
it, its roadshow and the teams registered. A meeting request or a meeting is read by its two
organizations and the event's organizer, and by the platform's analysts.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import PLATFORM_ROLES
from marketplace.errors import NotFound
from marketplace.events.lifecycle import is_organizer, party_side
from marketplace.events.models import Event, EventState, Registration, RegistrationState
from marketplace.tenancy import Principal

PRIVATE_STATES = frozenset({EventState.draft})


def sees_event(principal: Principal, event: Event) -> bool:
    return event.state not in PRIVATE_STATES or (principal.is_authenticated and is_organizer(principal, event))


def sees_party_record(principal: Principal, event: Event, record: Any) -> bool:
    """A meeting request or meeting: its two sides, the organizer, the platform's people."""
    if not principal.is_authenticated:
        return False
    return principal.role in PLATFORM_ROLES or is_organizer(principal, event) or party_side(principal, record) is not None


async def event_for(session: AsyncSession, principal: Principal, event_id: uuid.UUID, *, for_update: bool = False) -> Event:
    """The event, or 404 when it does not exist or the caller may not see it."""
    query = select(Event).where(Event.id == event_id)
    if for_update:
        query = query.with_for_update()
    event = await session.scalar(query)
    if event is None or not sees_event(principal, event):
        raise NotFound()
    return event


async def own_registration(
    session: AsyncSession, principal: Principal, event: Event, *, for_update: bool = False
) -> Registration | None:
    """The live registration of the caller's organization at the event, if any."""
    if principal.organization_id is None:
        return None
    query = select(Registration).where(
        Registration.event_id == event.id,
        Registration.organization_id == principal.organization_id,
        Registration.state == RegistrationState.registered,
    )
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)
