"""What an event's own steps do to its meetings (the event service calls this after each step, in
the same transaction): filled in by the scheduling (publishing confirms the placed meetings, closing
marks the unattended ones missed, cancelling calls the meetings off)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.events.models import Event
from marketplace.tenancy import Principal


async def after_event_step(session: AsyncSession, event: Event, action: str, principal: Principal | None, now: datetime) -> None:
    return None
