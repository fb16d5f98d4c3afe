"""What an event's own steps do to its meetings (the event service calls this after each step, in
the same transaction): publishing the schedule (`start`) confirms every placed meeting; closing
marks the confirmed meetings nobody checked in at as missed; cancelling the event cancels the
meetings of its accepted requests and frees their seats. All as the system's steps, with the
organizer who took the event's step recorded as the actor."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.events.models import Event, Meeting, MeetingState
from marketplace.events.placing import system_step
from marketplace.tenancy import Principal

M = MeetingState
# event action → (the meetings it concerns, the meeting's step)
FOLLOWS = {
    "start": ((M.placed,), "confirm"),
    "close": ((M.confirmed,), "miss"),
    "cancel": ((M.unplaced, M.placed, M.confirmed), "cancel"),
}


async def after_event_step(session: AsyncSession, event: Event, action: str, principal: Principal | None, now: datetime) -> None:
    if action not in FOLLOWS:
        return
    sources, step = FOLLOWS[action]
    meetings = await session.scalars(
        select(Meeting)
        .where(Meeting.event_id == event.id, Meeting.state.in_(sources))
        .order_by(Meeting.slot, Meeting.table_no, Meeting.id)
        .with_for_update()
    )
    for meeting in list(meetings):
        # Missed and cancelled are not seated states: the seats go with them (a cancelled one's cell too).
        reason = (event.state_reason or "The event is cancelled.") if step == "cancel" else ""
        await system_step(session, principal, event, meeting, step, reason)
